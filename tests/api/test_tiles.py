"""Vector tiles: content, clipping, filters, caching headers, TileJSON, bad parameters."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cachedlayer import CachedLayer
from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from gis_planner.vectortiles import EXTENT, tile_bounds
from tests.api.conftest import KEYS, PHU_LY_TILE_12, key, tile_of


def lonlat_box(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 2**z
    lon = [x / n * 360 - 180, (x + 1) / n * 360 - 180]
    lat = [math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n)))) for t in (y + 1, y)]
    return lon[0], lat[0], lon[1], lat[1]


def test_sites_tile_holds_the_sites_inside(
    client: TestClient, sample_store: GeoPackageStore
) -> None:
    z = 13
    x, y = tile_of(105.92, 20.54, z)
    response = client.get(f"/tiles/sites/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    features = mapbox_vector_tile.decode(response.content)["sites"]["features"]
    inside = sample_store.read("sites", bbox=lonlat_box(z, x, y))
    decoded = {f["properties"]["site_id"] for f in features}
    # Every site in the tile is there; the buffer may add a few from just outside.
    assert set(inside["site_id"]) <= decoded
    assert len(decoded) <= len(inside) + 10
    for feature in features:
        px, py = feature["geometry"]["coordinates"]
        assert -64 <= px <= EXTENT + 64 and -64 <= py <= EXTENT + 64
        assert "address" not in feature["properties"]  # viewer: no configuration


def test_tile_filters_and_polygons(client: TestClient) -> None:
    z = 12
    x, y = tile_of(105.92, 20.54, z)
    viettel = client.get(f"/tiles/sites/{z}/{x}/{y}.mvt?operator=viettel")
    features = mapbox_vector_tile.decode(viettel.content)["sites"]["features"]
    assert features and {f["properties"]["operator"] for f in features} == {"viettel"}
    communes = client.get(f"/tiles/admin_units/{z}/{x}/{y}.mvt?level=commune&admin_version=pre2025")
    polygons = mapbox_vector_tile.decode(communes.content)["admin_units"]["features"]
    assert polygons and all("Polygon" in f["geometry"]["type"] for f in polygons)
    assert all(f["properties"]["level"] == "commune" for f in polygons)


def test_simplification_grows_as_zoom_falls(client: TestClient) -> None:
    def vertices(z: int) -> int:
        x, y = tile_of(105.92, 20.54, z)
        data = client.get(f"/tiles/admin_units/{z}/{x}/{y}.mvt?admin_version=pre2025").content
        total = 0
        for feature in mapbox_vector_tile.decode(data)["admin_units"]["features"]:
            total += len(str(feature["geometry"]["coordinates"]).split("],"))
        return total

    assert 0 < vertices(7) < vertices(11)


def test_empty_tile_is_empty_not_an_error(client: TestClient) -> None:
    response = client.get("/tiles/sites/10/0/0.mvt")
    assert response.status_code == 200
    assert response.content == b""


def test_etag_and_cache_control(client: TestClient) -> None:
    url = "/tiles/sites/12/{}/{}.mvt".format(*PHU_LY_TILE_12)
    first = client.get(url)
    assert mapbox_vector_tile.decode(first.content)["sites"]["features"]
    assert first.headers["cache-control"].startswith("public")
    etag = first.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get(url + "?operator=vnpt")
    assert other.headers["etag"] != etag


def test_tiles_are_kept_unless_the_cache_is_off(
    sample_store: GeoPackageStore, api_settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "/tiles/sites/12/{}/{}.mvt".format(*PHU_LY_TILE_12)
    draw = CachedLayer.tile
    drawn = 0

    def counted(*args: Any) -> bytes:
        nonlocal drawn
        drawn += 1
        return draw(*args)

    monkeypatch.setattr(CachedLayer, "tile", counted)
    for cache_mib, draws in ((64, 1), (0, 2)):
        drawn = 0
        settings = api_settings.model_copy(update={"tile_cache_mib": cache_mib})
        client = TestClient(create_app(sample_store, settings))
        first, second = client.get(url), client.get(url)
        assert first.content and first.content == second.content
        assert drawn == draws


def test_tilejson(client: TestClient) -> None:
    body = client.get("/tiles/sites/tilejson.json?operator=viettel").json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"][0].endswith("/tiles/sites/{z}/{x}/{y}.mvt?operator=viettel")
    layer = body["vector_layers"][0]
    assert layer["id"] == "sites" and "address" not in layer["fields"]
    assert body["bounds"][0] < 105.95 < body["bounds"][2]


def test_tile_bounds_cover_the_world() -> None:
    assert tile_bounds(0, 0, 0) == pytest.approx(
        (-20037508.34, -20037508.34, 20037508.34, 20037508.34)
    )
    minx, miny, maxx, maxy = tile_bounds(1, 1, 0)
    assert minx == pytest.approx(0) and miny == pytest.approx(0) and maxx > 0 and maxy > 0


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/tiles/sites/25/0/0.mvt", 400, "zoom 25"),
        ("/tiles/sites/-1/0/0.mvt", 400, "zoom -1"),
        ("/tiles/sites/2/4/0.mvt", 400, "0–3"),
        ("/tiles/sites/2/a/0.mvt", 422, "x"),
        ("/tiles/nowhere/2/1/1.mvt", 404, "unknown layer"),
        ("/tiles/admin_crosswalk/2/1/1.mvt", 400, "without geometry"),
        ("/tiles/admin_crosswalk/tilejson.json", 400, "without geometry"),
        ("/tiles/sites/2/1/1.mvt?colour=red", 400, "unknown parameter"),
        ("/tiles/sites/2/1/1.mvt?height_m=high", 400, "not one"),
        ("/tiles/cells/2/1/1.mvt", 403, "API key"),
        ("/tiles/fibre_routes/tilejson.json", 403, "API key"),
    ],
)
def test_bad_tile_requests(client: TestClient, url: str, status: int, words: str) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_tilejson_checks_and_escapes_its_filters(client: TestClient) -> None:
    assert client.get("/tiles/sites/tilejson.json?colour=red").status_code == 400
    body = client.get("/tiles/admin_units/tilejson.json", params={"name": "Phủ Lý & co"}).json()
    assert body["tiles"][0].endswith("?name=Ph%E1%BB%A7+L%C3%BD+%26+co")


@pytest.mark.parametrize(
    ("url", "who"),
    [
        ("/tiles/sites/12/{}/{}.mvt", None),
        ("/tiles/sites/12/{}/{}.mvt?operator=vnpt", None),
        ("/tiles/cells/12/{}/{}.mvt", "viettel"),
        ("/tiles/cells/12/{}/{}.mvt", "admin"),
    ],
)
def test_a_cached_tile_is_the_routes_answer(client: TestClient, url: str, who: str | None) -> None:
    # The second request is answered from the tile cache before routing: the same answer.
    url = url.format(*PHU_LY_TILE_12)
    headers = key(who) if who else {}
    drawn, cached = client.get(url, headers=headers), client.get(url, headers=headers)
    assert drawn.status_code == cached.status_code == 200
    assert drawn.content == cached.content
    assert {k: v for k, v in drawn.headers.items() if k != "date"} == {
        k: v for k, v in cached.headers.items() if k != "date"
    }
    held = client.get(url, headers={**headers, "If-None-Match": drawn.headers["etag"]})
    assert held.status_code == 304
    assert held.headers["x-frame-options"] == "DENY"


def test_a_cached_tile_keeps_every_refusal(client: TestClient) -> None:
    cells = "/tiles/cells/12/{}/{}.mvt".format(*PHU_LY_TILE_12)
    admins = client.get(cells, headers=key("admin"))
    assert admins.status_code == 200
    # The tile is in the cache now (the admin's view): refused to viewers all the same, even
    # with the admin's ETag, and to wrong keys or keys in the URL.
    assert client.get(cells).status_code == 403
    assert client.get(cells, headers={"If-None-Match": admins.headers["etag"]}).status_code == 403
    wrong = {"X-API-Key": KEYS["admin"][:-4] + "xxxx"}
    assert client.get(cells, headers=wrong).status_code == 401
    assert client.get(f"{cells}?api_key={KEYS['admin']}").status_code == 400
    # An operator gets its own view, not the admin's cached tile.
    operators = client.get(cells, headers=key("viettel"))
    assert operators.status_code == 200 and operators.headers["etag"] != admins.headers["etag"]
