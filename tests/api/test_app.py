"""The application as a whole: no request makes it fail, OpenAPI is complete, caches follow
the store."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from tests.api.conftest import PHU_LY_TILE_12, key

JUNK_PATH = ("x", "-1", "99999999999999999999", "sites", "cells", "%C3%A9", "0")
JUNK_QUERY = (
    "",
    "?limit=-5&offset=abc",
    "?bbox=nan,nan,nan,nan",
    "?bbox=1e400,0,0,0",
    "?lon=abc&lat=",
    "?lon=105.9&lat=20.5&layer=sites&radius_m=inf",
    "?q=%00%00&tolerance_m=nan",
    "?operator=&height_m=1e999&level=",
    "?colormap=&lang=xx&f=",
)


def test_no_request_is_a_server_error(coverage_client: TestClient) -> None:
    routes = list(coverage_client.get("/openapi.json").json()["paths"])
    assert len(routes) >= 18
    sent = 0
    for route, query, headers in itertools.product(
        routes, JUNK_QUERY, ({}, key("vnpt"), {"X-API-Key": "wrong-key-wrong-key"})
    ):
        names = re.findall(r"{(\w+)}", route)
        for values in itertools.islice(itertools.product(JUNK_PATH, repeat=len(names)), 7):
            path = route
            for name, value in zip(names, values, strict=True):
                path = path.replace("{" + name + "}", value)
            response = coverage_client.get(path + query, headers=headers)
            sent += 1
            assert response.status_code < 500, (path + query, response.text)
            if response.status_code >= 400:
                assert response.json()["detail"], path + query
    assert sent > 1500


def test_openapi_is_described_in_both_languages(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert " / " in operation["summary"], path  # "Vietnamese / English"
    assert "Vai trò" in spec["info"]["description"] and "roles" in spec["info"]["description"]


def test_a_changed_layer_is_served_anew(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    store = GeoPackageStore(tmp_path / "hanam.gpkg")
    client = TestClient(create_app(store, ApiSettings(cache_check_s=0)))
    url = "/tiles/sites/12/{}/{}.mvt?operator=viettel".format(*PHU_LY_TILE_12)
    before = mapbox_vector_tile.decode(client.get(url).content)["sites"]["features"]
    count = client.get("/collections/sites/items?limit=1").json()["numberMatched"]
    sites = store.read("sites")
    store.write("sites", sites[sites["operator"] != "viettel"])
    assert client.get(url).content == b""
    assert client.get("/collections/sites/items?limit=1").json()["numberMatched"] == count - len(
        sites[sites["operator"] == "viettel"]
    )
    assert before


@pytest.mark.parametrize("who", ["viettel", "admin"])
def test_keyed_answers_are_private(client: TestClient, who: str) -> None:
    response = client.get("/collections/sites/items?limit=1", headers=key(who))
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["vary"] == "X-API-Key"
