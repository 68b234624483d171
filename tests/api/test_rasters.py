"""Raster tiles of COGs in the store's assets: colour maps, transparent nodata, legends."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from gis_planner.colormaps import RSRP
from tests.api.conftest import PHU_LY, key, tile_of


def rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def test_list_rasters_by_role(coverage_client: TestClient) -> None:
    ids = {r["id"] for r in coverage_client.get("/rasters").json()}
    assert ids == {"coverage.rsrp_best", "coverage.sinr_best"}
    viettel = {r["id"] for r in coverage_client.get("/rasters", headers=key("viettel")).json()}
    assert viettel == ids | {"coverage.viettel.rsrp"}
    admin = coverage_client.get("/rasters", headers=key("admin")).json()
    assert len(admin) == 4
    best = next(r for r in admin if r["id"] == "coverage.rsrp_best")
    assert best["colormap"] == "rsrp" and best["unit"] == "dBm" and best["operator"] is None
    assert best["bounds"][0] < PHU_LY[0] < best["bounds"][2]


def test_png_tile_colours_and_transparent_nodata(coverage_client: TestClient) -> None:
    z = 12
    x, y = tile_of(*PHU_LY, z)
    response = coverage_client.get(f"/rasters/coverage.rsrp_best/tiles/{z}/{x}/{y}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    pixels = rgba(response.content)
    assert pixels.shape == (256, 256, 4)
    alpha = pixels[..., 3]
    assert (alpha == 0).any() and (alpha == 200).any()
    # Only the colour map's colours appear where there is data.
    colours = {tuple(int(v) for v in p) for p in pixels[alpha > 0].reshape(-1, 4)}
    assert colours <= {c.rgba for c in RSRP.classes}
    assert len(colours) >= 3


def test_other_operators_raster_is_forbidden(coverage_client: TestClient) -> None:
    url = "/rasters/coverage.viettel.rsrp/tiles/12/{}/{}.png".format(*tile_of(*PHU_LY, 12))
    assert coverage_client.get(url).status_code == 403
    assert coverage_client.get(url, headers=key("vnpt")).status_code == 403
    assert coverage_client.get(url, headers=key("viettel")).status_code == 200


def test_raster_tilejson_and_legend(coverage_client: TestClient) -> None:
    body = coverage_client.get("/rasters/coverage.sinr_best/tilejson.json").json()
    assert body["tiles"][0].endswith(
        "/rasters/coverage.sinr_best/tiles/{z}/{x}/{y}.png?colormap=sinr"
    )
    legend = coverage_client.get("/legends/rsrp").json()
    assert legend["unit"] == "dBm"
    assert legend["entries"][0]["label"] == "Rất tốt (≥ −80 dBm)"
    assert legend["entries"][0]["high"] is None and legend["entries"][-1]["low"] is None
    english = coverage_client.get("/legends/sinr?lang=en").json()
    assert english["title"].startswith("Signal to interference")


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/rasters/nothing/tiles/12/3253/1808.png", 404, "no raster"),
        ("/rasters/coverage.rsrp_best/tiles/12/0/0.png", 404, "outside"),
        ("/rasters/coverage.rsrp_best/tiles/30/0/0.png", 400, "zoom 30"),
        ("/rasters/coverage.rsrp_best/tiles/12/3253/1808.png?colormap=rainbow", 400, "rainbow"),
        ("/rasters/nothing/tilejson.json", 404, "no raster"),
        ("/legends/rainbow", 404, "rainbow"),
        ("/legends/rsrp?lang=fr", 422, "lang"),
    ],
)
def test_bad_raster_requests(
    coverage_client: TestClient, url: str, status: int, words: str
) -> None:
    response = coverage_client.get(url)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
