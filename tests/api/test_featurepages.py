"""Pages of features and vector tiles answered by PostGIS while the cached layer is stale:
the same answer as the cache's for every role, filter, page and tile, and an edit shown without
reloading the layer."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

from api import dbtiles
from api.app import create_app
from api.layercache import LayerCache
from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore
from tests.api.conftest import PHU_LY, key, tile_of

ROLES = ("viewer", "viettel", "admin")
PHU_LY_BOX = "105.88,20.50,105.96,20.58"
#: (layer, query, whether PostGIS answers it while the layer is stale).
QUERIES: list[tuple[str, dict[str, Any], bool]] = [
    ("sites", {}, True),
    ("sites", {"bbox": PHU_LY_BOX, "limit": 7, "offset": 3}, True),
    ("sites", {"operator": ["viettel", "vnpt"], "limit": 50, "offset": 40}, True),
    ("sites", {"tower_type": "monopole", "bbox": PHU_LY_BOX, "operator": "vnpt"}, True),
    ("sites", {"height_m": ["36", "45.0"], "limit": 1000}, True),
    # A box of no area on a site (MBF-HNM-0001): the site is in it.
    ("sites", {"bbox": "105.8530642,20.5783332,105.8530642,20.5783332"}, True),
    ("sites", {"offset": 10**30}, True),
    ("sites", {"limit": 10**9, "f": "kml"}, True),
    ("cells", {"bbox": PHU_LY_BOX, "operator": "viettel", "limit": 20, "offset": 5}, True),
    ("cells", {"technology": "4G", "limit": 30, "offset": 1830}, True),
    ("cells", {"operator": "mobi\x00fone"}, True),
    ("villages", {"limit": 5, "offset": 1000}, True),
    ("admin_crosswalk", {"limit": 3, "offset": 2}, True),
    ("fibre_routes", {"limit": 10}, True),
    # The cache intersects lines and polygons in Web Mercator: a bbox of them is the cache's.
    ("villages", {"bbox": PHU_LY_BOX, "limit": 5}, False),
    # pandas matches NaN to missing values, SQL does not: the cache answers.
    ("sites", {"height_m": "nan"}, False),
    # Refused alike, before either path reads anything.
    ("sites", {"bbox": "105.9,20.5,195,20.6"}, False),
    ("sites", {"colour": "red"}, False),
    ("sites", {"height_m": "tall"}, False),
    ("cells", {"limit": 0}, False),
]


#: (layer, zoom, filters, whether PostGIS answers the tile over Phủ Lý while the layer is stale).
TILES: list[tuple[str, int, dict[str, Any], bool]] = [
    ("sites", 12, {}, True),
    ("sites", 14, {"operator": "vnpt"}, True),
    ("sites", 15, {"tower_type": "monopole"}, True),
    ("cells", 13, {}, True),
    ("cells", 14, {"technology": "4G", "operator": "viettel"}, True),
    # Tiles over most of the layer: it is read once for all.
    ("sites", 8, {}, False),
    ("sites", 6, {"operator": "viettel"}, False),
    # Lines and polygons, selected in Web Mercator from the rows of a wider box.
    ("admin_units", 14, {}, True),
    ("admin_units", 10, {"level": "commune", "admin_version": "2025-07"}, True),
    ("villages", 14, {}, True),
    ("priority_areas", 12, {}, True),
    ("fibre_routes", 13, {}, True),
    ("fibre_routes", 15, {"operator": "viettel"}, True),
    ("sites", 12, {"height_m": "nan"}, False),
    ("sites", 12, {"colour": "red"}, False),
    ("admin_crosswalk", 12, {}, False),
]


@pytest.fixture
def pg_app_client(pg_sample_store: PostGISStore, api_settings: ApiSettings) -> Iterator[TestClient]:
    """A server on the sample in PostGIS."""
    with TestClient(create_app(pg_sample_store, api_settings)) as client:
        yield client


def _empty_cache(client: TestClient) -> LayerCache:
    """The server's layer cache, made new: no layer is cached."""
    app: Any = client.app
    app.state.layers = LayerCache(app.state.store)
    layers: LayerCache = app.state.layers
    return layers


def _answer(client: TestClient, layer: str, query: dict[str, Any], who: str) -> tuple[int, str]:
    headers = key(who) if who != "viewer" else {}
    answer = client.get(f"/collections/{layer}/items", params=query, headers=headers)
    body = answer.content.decode(errors="replace")
    return answer.status_code, re.sub(r'"timeStamp":"[^"]*"', "", body)


def _pushed_and_cached(
    client: TestClient, layer: str, query: dict[str, Any], who: str
) -> tuple[tuple[int, str], bool, tuple[int, str]]:
    """The answer with the layer not cached, whether the layer was loaded for it, and the
    answer from the cached layer."""
    layers = _empty_cache(client)
    first = _answer(client, layer, query, who)
    loaded = layers.is_current(layer)
    layers.layer(layer)
    return first, loaded, _answer(client, layer, query, who)


@pytest.mark.parametrize("who", ROLES)
def test_a_page_from_postgis_is_the_cached_page(pg_app_client: TestClient, who: str) -> None:
    for layer, query, pushed in QUERIES:
        first, loaded, cached = _pushed_and_cached(pg_app_client, layer, query, who)
        assert first == cached, (layer, query)
        if first[0] == 200:
            assert loaded is not pushed, (layer, query)


def _stale_cache(client: TestClient, layer: str) -> LayerCache:
    """The server's layer cache, made new, holding ``layer`` as read at an older revision (the
    shared store must not be written to)."""
    layers = _empty_cache(client)
    if layers.store.has_layer(layer):
        layers.layer(layer).version = "before an edit"
    return layers


def _tile(
    client: TestClient, layer: str, z: int, query: dict[str, Any], who: str
) -> tuple[int, bytes]:
    x, y = tile_of(*PHU_LY, z)
    headers = key(who) if who != "viewer" else {}
    answer = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", params=query, headers=headers)
    return answer.status_code, answer.content


@pytest.mark.parametrize("who", ROLES)
def test_a_tile_from_postgis_is_the_cached_tile(pg_app_client: TestClient, who: str) -> None:
    for layer, z, query, pushed in TILES:
        layers = _stale_cache(pg_app_client, layer)
        first = _tile(pg_app_client, layer, z, query, who)
        loaded = layers.is_current(layer)
        layers.layer(layer)
        cached = _tile(pg_app_client, layer, z, query, who)
        assert first == cached, (layer, z, query)
        if first[0] == 200:
            assert loaded is not pushed, (layer, z, query)
    if who != "viewer":
        features = mapbox_vector_tile.decode(_tile(pg_app_client, "cells", 13, {}, who)[1])
        assert len(features["cells"]["features"]) > 10


def test_a_tile_of_more_rows_than_a_tile_may_read_is_the_caches(
    pg_app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbtiles, "MAX_ROWS", 50)
    for layer, z, pushed in (("sites", 8, False), ("sites", 16, True)):
        layers = _stale_cache(pg_app_client, layer)
        first = _tile(pg_app_client, layer, z, {}, "admin")
        assert layers.is_current(layer) is not pushed
        assert first[0] == 200 and first == _tile(pg_app_client, layer, z, {}, "admin")


def test_a_long_edge_is_in_the_tile_it_crosses_in_web_mercator(
    pg_store: PostGISStore, sample_store: GeoPackageStore, api_settings: ApiSettings
) -> None:
    """A straight edge in Web Mercator (the cache's) is another line in lon/lat (PostgreSQL's),
    kilometres apart over hundreds of kilometres: the rows are read by bounding box."""
    routes = sample_store.read("fibre_routes").head(20).reset_index(drop=True)
    routes.loc[0, "geometry"] = shapely.LineString([(103.0, 22.5), (106.7, 10.8)])
    pg_store.write("fibre_routes", routes)
    with TestClient(create_app(pg_store, api_settings)) as client:
        layers = _stale_cache(client, "fibre_routes")
        url = "/tiles/fibre_routes/14/12915/7257.mvt"
        first = client.get(url, headers=key("admin"))
        assert layers.is_stale("fibre_routes")  # answered by PostGIS
        layers.layer("fibre_routes")
        cached = client.get(url, headers=key("admin"))
    assert first.status_code == 200 and first.content == cached.content
    assert len(mapbox_vector_tile.decode(first.content)["fibre_routes"]["features"]) == 1


def test_a_layer_stale_for_a_while_is_read_again_in_the_background(
    pg_app_client: TestClient,
) -> None:
    layers = _stale_cache(pg_app_client, "cells")
    layers.reload_after_s = 0.0
    assert _tile(pg_app_client, "cells", 14, {}, "admin")[0] == 200
    deadline = time.monotonic() + 30
    while not layers.is_current("cells") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert layers.is_current("cells")


def test_a_layer_never_read_is_read_on_its_first_tile(pg_app_client: TestClient) -> None:
    """The tiles after come from memory, quicker than any query."""
    layers = _empty_cache(pg_app_client)
    assert _tile(pg_app_client, "sites", 14, {}, "viewer")[0] == 200
    assert layers.is_current("sites")


@pytest.mark.parametrize("who", ROLES)
def test_every_visible_layer_pages_alike(pg_app_client: TestClient, who: str) -> None:
    headers = key(who) if who != "viewer" else {}
    listed = pg_app_client.get("/collections", headers=headers).json()["collections"]
    assert listed
    for layer in [c["id"] for c in listed]:
        for query in ({"limit": 1000}, {"limit": 3, "offset": 50}):
            first, loaded, cached = _pushed_and_cached(pg_app_client, layer, query, who)
            assert first[0] == 200 and not loaded, (layer, query)
            assert first == cached, (layer, query)


def test_rows_aggregated_over_operators_page_alike(
    pg_store: PostGISStore, api_settings: ApiSettings
) -> None:
    """An operator sees its own coverage and the rows over all operators ("any"), a viewer the
    latter only: row-level security gives the rows the cache's view keeps."""
    operators = ["viettel", "vnpt", "any", "mobifone", "any", "viettel"]
    pg_store.write(
        "coverage_villages",
        pd.DataFrame(
            {
                "village_code": [f"V{i}" for i in range(len(operators))],
                "commune_code": "C1",
                "technology": ["4G", "4G", "4G", "5G", "5G", "5G"],
                "operator": operators,
                "threshold_dbm": -110.0,
                "pixels": [10, 20, 30, 40, 50, 60],
                "population": 100.0,
                "area_share": 0.5,
                "covered_population": 50.0,
                "covered": [True, False, True, True, False, True],
                "max_rsrp_dbm": [-80.5, None, -90.25, None, -70.0, -80.5],
            }
        ),
    )
    queries: list[dict[str, Any]] = [
        {},
        {"covered": "true"},
        {"technology": "5G", "limit": 1, "offset": 1},
        {"max_rsrp_dbm": "-80.5"},
    ]
    with TestClient(create_app(pg_store, api_settings)) as client:
        for who in ROLES:
            for query in queries:
                first, loaded, cached = _pushed_and_cached(client, "coverage_villages", query, who)
                assert first == cached and first[0] == 200 and not loaded, (who, query)
        seen = client.get("/collections/coverage_villages/items", headers=key("viettel")).json()
        assert {f["properties"]["operator"] for f in seen["features"]} == {"viettel", "any"}


@pytest.fixture
def edited_store(pg_store: PostGISStore, sample_store: GeoPackageStore) -> LayerStore:
    """Two Viettel and two VNPT cells and their sites, in PostGIS."""
    cells = sample_store.read("cells", filters={"operator": ["viettel", "vnpt"]})
    cells = cells.groupby("operator").head(2).reset_index(drop=True)
    sites = sample_store.read("sites", filters={"operator": ["viettel", "vnpt"]})
    pg_store.write("sites", sites.merge(cells[["site_id", "operator"]].drop_duplicates()))
    pg_store.write("cells", cells)
    return pg_store


def test_an_edit_shows_in_the_next_page_without_reloading_the_layer(
    edited_store: PostGISStore, api_settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Four cells: any tile reads more than a quarter of them, and would read the layer again.
    monkeypatch.setattr(dbtiles, "MAX_SHARE", 1.0)
    app = create_app(edited_store, api_settings)
    layers: LayerCache = app.state.layers
    with TestClient(app) as client:
        cached = layers.layer("cells")
        page = client.get("/collections/cells/items", headers=key("viettel")).json()
        assert page["numberMatched"] == 2
        fid = page["features"][0]["id"]
        tilt = page["features"][0]["properties"]["mech_tilt_deg"]
        etag = client.get(f"/collections/cells/items/{fid}", headers=key("viettel")).headers["ETag"]
        edited = client.patch(
            f"/collections/cells/items/{fid}",
            json={"properties": {"mech_tilt_deg": (tilt + 1) % 10}},
            headers={**key("viettel"), "If-Match": etag},
        )
        assert edited.status_code == 200, edited.text

        page = client.get("/collections/cells/items", headers=key("viettel")).json()
        assert page["features"][0]["properties"]["mech_tilt_deg"] == (tilt + 1) % 10
        assert [f["properties"]["operator"] for f in page["features"]] == ["viettel"] * 2
        other = client.get("/collections/cells/items", headers=key("vnpt")).json()
        assert [f["properties"]["operator"] for f in other["features"]] == ["vnpt"] * 2
        # The edited cell's tile shows the edit too.
        lon, lat = (float(v) for v in page["features"][0]["geometry"]["coordinates"])
        x, y = tile_of(lon, lat, 16)
        tile = client.get(f"/tiles/cells/16/{x}/{y}.mvt", headers=key("viettel")).content
        shown = mapbox_vector_tile.decode(tile)["cells"]["features"]
        assert {f["properties"]["fid"]: f["properties"]["mech_tilt_deg"] for f in shown}[fid] == (
            tilt + 1
        ) % 10
        # Answered by the database: the cache still holds the layer as it was before the edit.
        assert not layers.is_current("cells")
        assert layers._layers["cells"] is cached
