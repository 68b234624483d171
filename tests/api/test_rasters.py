"""Raster tiles of the registered raster products: any band, colour maps, access, legends.

The rasters are those of the real coverage job (``coverage_store``): a tile's decoded pixels
are checked against the COG's band values through the band's colour map.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer

from gis_planner.colormaps import BEST_SERVER, RSRP, SINR, ColourMap
from gis_planner.rastertiles import TILE_PX
from gis_planner.store import GeoPackageStore
from gis_planner.vectortiles import tile_bounds
from tests.api.conftest import PHU_LY, coverage_raster, key, tile_of


def rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_list_rasters_by_role(coverage_store: GeoPackageStore, coverage_client: TestClient) -> None:
    aggregated = coverage_raster(coverage_store, None, "rsrp")
    viettel = {
        coverage_raster(coverage_store, "viettel", "rsrp"),
        coverage_raster(coverage_store, "viettel", "best_server"),
    }
    anonymous = {r["id"] for r in coverage_client.get("/rasters").json()}
    assert anonymous == {aggregated}
    mine = {r["id"] for r in coverage_client.get("/rasters", headers=key("viettel")).json()}
    assert mine == anonymous | viettel
    admin = coverage_client.get("/rasters", headers=key("admin")).json()
    assert len(admin) == 4 * 2 + 1  # each operator's two COGs and the composite
    best = next(r for r in admin if r["id"] == aggregated)
    assert best["colormap"] == "rsrp" and best["unit"] == "dBm" and best["operator"] is None
    assert best["operators"] == ["mobifone", "vietnamobile", "viettel", "vnpt"]
    assert best["technologies"] == ["4G"] and best["scope"] and best["area_bbox"]
    assert best["bounds"][0] < PHU_LY[0] < best["bounds"][2]
    assert best["stale"] is False and best["minzoom"] >= 0
    # which operator is best where is for admins only
    assert [b["name"] for b in best["bands"]] == ["rsrp", "best_operator"]
    public = next(r for r in coverage_client.get("/rasters").json() if r["id"] == aggregated)
    assert [b["name"] for b in public["bands"]] == ["rsrp"]
    rsrp = next(r for r in admin if r["id"] == coverage_raster(coverage_store, "vnpt", "rsrp"))
    assert [(b["name"], b["unit"], b["colormap"]) for b in rsrp["bands"]] == [
        ("rsrp", "dBm", "rsrp"), ("second_rsrp", "dBm", "rsrp"), ("sinr", "dB", "sinr")
    ]  # fmt: skip


def _expected(path: str, band: int, cmap: ColourMap, z: int, x: int, y: int) -> dict:
    """Tile pixel (row, col) → the colour of the COG's value there, for pixels well inside a
    raster pixel (nearest resampling is then unambiguous)."""
    west, _, east, north = tile_bounds(z, x, y)
    size_m = (east - west) / TILE_PX
    with rasterio.open(path) as dataset:
        values = dataset.read(band, masked=True)
        to_raster = Transformer.from_crs("EPSG:3857", dataset.crs, always_xy=True)
        origin = dataset.transform
        res = dataset.res[0]
        expected = {}
        for row in range(4, TILE_PX, 9):
            for col in range(4, TILE_PX, 9):
                mx, my = west + (col + 0.5) * size_m, north - (row + 0.5) * size_m
                rx, ry = to_raster.transform(mx, my)
                fx, fy = (rx - origin.c) / origin.a, (ry - origin.f) / origin.e
                if min(fx % 1, 1 - fx % 1, fy % 1, 1 - fy % 1) * res < 2 * size_m:
                    continue
                r, c = int(fy), int(fx)
                if not (0 <= r < values.shape[0] and 0 <= c < values.shape[1]):
                    continue
                value = values[r, c]
                found = None if value is np.ma.masked else cmap.class_of(float(value))
                expected[(row, col)] = found.rgba if found else (0, 0, 0, 0)
    return expected


@pytest.mark.parametrize(
    ("band", "cmap"), [("sinr", SINR), ("rsrp", RSRP), ("best_server", BEST_SERVER)]
)
def test_tile_pixels_are_the_band_through_its_colour_map(
    coverage_store: GeoPackageStore, coverage_client: TestClient, band: str, cmap: ColourMap
) -> None:
    raster_id = coverage_raster(coverage_store, "viettel", band)
    record = coverage_store.product(raster_id)
    index = record.band(band).index
    z = 14
    x, y = tile_of(*PHU_LY, z)
    url = f"/rasters/{raster_id}/tiles/{z}/{x}/{y}.png?band={band}"
    response = coverage_client.get(url, headers=key("viettel"))
    assert response.status_code == 200, response.text
    pixels = rgba(response.content)
    expected = _expected(str(coverage_store.assets_dir / record.path), index, cmap, z, x, y)
    assert len(expected) > 300
    # a transparent pixel is transparent whatever its RGB
    got = {p: tuple(int(v) for v in pixels[p]) for p in expected}
    wrong = {p: (got[p], c) for p, c in expected.items() if got[p] != c and got[p][3] + c[3]}
    assert not wrong, list(wrong.items())[:5]
    # several colours: the band, not a constant, is drawn
    assert len({c for c in expected.values() if c[3]}) >= 3


def test_band_by_index_and_colormap_override(
    coverage_store: GeoPackageStore, coverage_client: TestClient
) -> None:
    raster_id = coverage_raster(coverage_store, "viettel", "sinr")
    x, y = tile_of(*PHU_LY, 13)
    base = f"/rasters/{raster_id}/tiles/13/{x}/{y}.png"
    by_name = coverage_client.get(base + "?band=sinr", headers=key("viettel")).content
    by_index = coverage_client.get(base + "?band=3", headers=key("viettel")).content
    assert by_name == by_index
    rsrp = coverage_client.get(base, headers=key("viettel")).content
    as_sinr = coverage_client.get(base + "?colormap=sinr", headers=key("viettel")).content
    assert rsrp != by_name and as_sinr != rsrp and as_sinr != by_name


def test_other_operators_raster_is_forbidden(
    coverage_store: GeoPackageStore, coverage_client: TestClient
) -> None:
    raster_id = coverage_raster(coverage_store, "viettel", "rsrp")
    url = "/rasters/{}/tiles/12/{}/{}.png".format(raster_id, *tile_of(*PHU_LY, 12))
    assert coverage_client.get(url).status_code == 403
    assert coverage_client.get(url, headers=key("vnpt")).status_code == 403
    assert coverage_client.get(url, headers=key("viettel")).status_code == 200
    aggregated = coverage_raster(coverage_store, None, "rsrp")
    operator_band = "/rasters/{}/tiles/12/{}/{}.png?band=best_operator".format(
        aggregated, *tile_of(*PHU_LY, 12)
    )
    assert coverage_client.get(operator_band, headers=key("viettel")).status_code == 403
    assert coverage_client.get(operator_band, headers=key("admin")).status_code == 200


def test_raster_tilejson_and_legend(
    coverage_store: GeoPackageStore, coverage_client: TestClient
) -> None:
    raster_id = coverage_raster(coverage_store, "viettel", "sinr")
    body = coverage_client.get(
        f"/rasters/{raster_id}/tilejson.json?band=sinr", headers=key("viettel")
    ).json()
    assert body["tiles"][0].endswith(
        f"/rasters/{raster_id}/tiles/{{z}}/{{x}}/{{y}}.png?band=sinr&colormap=sinr"
    )
    legend = coverage_client.get("/legends/rsrp").json()
    assert legend["unit"] == "dBm"
    assert legend["entries"][0]["label"] == "Rất tốt (≥ −80 dBm)"
    assert legend["entries"][0]["high"] is None and legend["entries"][-1]["low"] is None
    english = coverage_client.get("/legends/sinr?lang=en").json()
    assert english["title"].startswith("Signal to interference")
    servers = coverage_client.get("/legends/best_server?lang=en").json()
    assert servers["entries"][1]["label"].startswith("Cell no. 1,")


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/rasters/nothing/tiles/12/3253/1808.png", 404, "no raster"),
        ("/tiles/12/0/0.png", 404, "outside"),
        ("/tiles/30/0/0.png", 400, "zoom 30"),
        ("/tiles/12/3253/1808.png?colormap=rainbow", 400, "rainbow"),
        ("/tiles/12/3253/1808.png?band=ssb", 400, "no band 'ssb'"),
        ("/tiles/12/3253/1808.png?band=9", 400, "no band '9'"),
        ("/rasters/nothing/tilejson.json", 404, "no raster"),
        ("/legends/rainbow", 404, "rainbow"),
        ("/legends/rsrp?lang=fr", 422, "lang"),
    ],
)
def test_bad_raster_requests(
    coverage_store: GeoPackageStore, coverage_client: TestClient, path: str, status: int,
    words: str,
) -> None:  # fmt: skip
    url = path if path.startswith(("/rasters", "/legends")) else (
        f"/rasters/{coverage_raster(coverage_store, None, 'rsrp')}{path}"
    )  # fmt: skip
    response = coverage_client.get(url)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
