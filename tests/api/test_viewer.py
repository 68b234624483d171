"""The viewer's page, static files, configuration by role, and the search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.rasters import Raster
from api.settings import ApiSettings
from gis_planner.maps import remote_references
from gis_planner.store import GeoPackageStore
from tests.api.conftest import PHU_LY, coverage_raster, key, tile_of


def test_page_and_its_files_are_local(client: TestClient) -> None:
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert remote_references(page) == []
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        response = client.get(path)
        assert response.status_code == 200, path
        assert remote_references(response.text if path.endswith(".css") else "") == []
    assert "L.vectorGrid" in client.get("/static/viewer/viewer.js").text


def test_config_groups_for_a_viewer(client: TestClient, sample_store: GeoPackageStore) -> None:
    config = client.get("/viewer/config.json").json()
    assert config["role"] == "viewer" and config["basemap_url"] is None
    assert list(config["groups"]) == ["admin", "sites", "planning", "passive"]
    ids = [layer["id"] for layer in config["layers"]]
    assert "admin_units.commune.pre2025" in ids and "villages" in ids
    # the plan's zones and civil exclusions are public, military areas and structures are not
    assert {"planning_zones", "exclusion_areas", "exclusion_points"} <= set(ids)
    assert not {"military_areas", "host_structures", "ducts"} & set(ids)
    operators = set(sample_store.read("sites", columns=["operator"])["operator"])
    assert {i for i in ids if i.startswith("sites.")} == {f"sites.{op}" for op in operators}
    sites = next(layer for layer in config["layers"] if layer["id"] == "sites.viettel")
    assert sites["tiles"].endswith("/tiles/sites/{z}/{x}/{y}.mvt?operator=viettel")
    assert sites["popup_fields"]["height_m"] == "Độ cao cột"
    assert sites["units"]["height_m"] == "m" and sites["label_field"] == "site_id"
    assert "address" not in sites["popup_fields"]
    assert config["value_labels"]["lattice"] == "Cột tự đứng"
    assert config["coverage"] is False
    # Names beside codes: every district and commune code of the popups has its name.
    units = sample_store.read("admin_units", columns=["code", "name", "level", "admin_version"])
    commune = units[(units["level"] == "commune") & (units["admin_version"] == "pre2025")].iloc[0]
    assert config["place_names"][commune["code"]] == commune["name"]


def test_the_units_of_july_2025_are_shown_first_where_held(
    client: TestClient, sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    """Districts were abolished in July 2025: a store holding the communes since then opens on
    them; one holding only the units before opens on its districts and communes."""

    def shown(config: dict[str, Any]) -> set[str]:
        return {
            layer["id"] for layer in config["layers"]
            if layer["id"].startswith("admin_units.") and layer["visible"]
        }  # fmt: skip

    assert shown(client.get("/viewer/config.json").json()) == {"admin_units.commune.2025-07"}
    older = GeoPackageStore(tmp_path / "older.gpkg")
    with older.transaction() as tx:
        tx.write(
            "admin_units", sample_store.read("admin_units", filters={"admin_version": "pre2025"})
        )
    config = TestClient(create_app(older, api_settings)).get("/viewer/config.json").json()
    assert shown(config) == {"admin_units.district.pre2025", "admin_units.commune.pre2025"}


def test_config_for_an_operator_and_with_coverage(
    coverage_store: GeoPackageStore, coverage_client: TestClient
) -> None:
    config = coverage_client.get("/viewer/config.json", headers=key("viettel")).json()
    assert list(config["groups"]) == [
        "admin", "sites", "cells", "fibre", "coverage", "planning", "passive",
    ]  # fmt: skip
    rasters = [layer for layer in config["layers"] if layer["kind"] == "raster"]
    aggregated = coverage_raster(coverage_store, None, "rsrp")
    rsrp = coverage_raster(coverage_store, "viettel", "rsrp")
    server = coverage_raster(coverage_store, "viettel", "best_server")
    assert {r["id"] for r in rasters} == {
        f"raster.{aggregated}.rsrp", f"raster.{rsrp}.rsrp", f"raster.{rsrp}.sinr",
        f"raster.{server}.best_server",
    }  # fmt: skip
    assert all(r["legend"] and r["bounds"] and r["minzoom"] >= 0 for r in rasters)
    # Titles for people, not product ids: the technology, the quantity, the operator.
    titles = {r["id"]: r["title"] for r in rasters}
    assert titles[f"raster.{rsrp}.rsrp"] == "Vùng phủ 4G — RSRP · Viettel"
    assert titles[f"raster.{aggregated}.rsrp"] == "Vùng phủ 4G — RSRP · mọi nhà mạng"
    assert titles[f"raster.{server}.best_server"] == "Vùng phủ 4G — Cell phục vụ · Viettel"
    english = coverage_client.get("/viewer/config.json?lang=en", headers=key("viettel")).json()
    assert "Coverage 4G — RSRP · Viettel" in {r["title"] for r in english["layers"]}
    # each coverage layer says what it was computed over (this run: no terrain model)
    assert {r["description"] for r in rasters} == {
        "Tính trên: mặt đất phẳng (không có mô hình địa hình)"
    }
    described = {r["description"] for r in english["layers"] if r["kind"] == "raster"}
    assert described == {"Computed over: level ground (no terrain model)"}
    assert config["coverage"] is True
    # every raster layer of the viewer really renders, at its own minimum zoom and above
    for layer in rasters:
        z = max(layer["minzoom"], 12)
        x, y = tile_of(*PHU_LY, z)
        url = layer["tiles"].replace("{z}/{x}/{y}", f"{z}/{x}/{y}")
        response = coverage_client.get(url, headers=key("viettel"))
        assert response.status_code == 200, (layer["id"], response.text)
        assert response.headers["content-type"] == "image/png"


def test_basemap_is_configurable(sample_store: GeoPackageStore) -> None:
    settings = ApiSettings(basemap_url="http://tiles.intranet/{z}/{x}/{y}.png")
    config = TestClient(create_app(sample_store, settings)).get("/viewer/config.json").json()
    assert config["basemap_url"] == "http://tiles.intranet/{z}/{x}/{y}.png"


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("phu ly", "Thành phố Phủ Lý (Trước 01/7/2025)"),
        ("PHỦ LÝ", "Thành phố Phủ Lý (Trước 01/7/2025)"),
        ("duy tien", "Thị xã Duy Tiên (Trước 01/7/2025)"),
        ("vtl-hnm-0001", "VTL-HNM-0001 (Viettel)"),
    ],
)
def test_search_is_accent_insensitive(client: TestClient, query: str, label: str) -> None:
    hits = client.get("/search", params={"q": query}).json()["hits"]
    assert label in [hit["label"] for hit in hits]
    hit = next(h for h in hits if h["label"] == label)
    assert 105.7 < hit["bbox"][0] <= hit["bbox"][2] < 106.3


def test_village_hits_name_their_commune(client: TestClient, sample_store: GeoPackageStore) -> None:
    village = sample_store.read("villages").iloc[0]
    units = sample_store.read("admin_units", filters={"admin_version": "pre2025"})
    commune = units.loc[units["code"] == village["commune_code"], "name"].iloc[0]
    hits = client.get("/search", params={"q": village["name"], "limit": 50}).json()["hits"]
    expected = f"{village['name']} ({commune} · {village['commune_code']})"
    assert expected in [h["label"] for h in hits if h["kind"] == "village"]


def test_raster_titles_say_what_each_technology_measures() -> None:
    from types import SimpleNamespace

    from api.routers.viewer import raster_title

    def raster(techs: tuple[str, ...], operator: str | None) -> Raster:
        record = SimpleNamespace(technologies=techs)
        return cast(Raster, SimpleNamespace(record=record, operator=operator))

    two_g = raster_title(raster(("2G",), None), "rsrp", "vi")
    assert two_g == "Vùng phủ 2G — RxLev · mọi nhà mạng"
    three_g = raster_title(raster(("3G",), "vnpt"), "rsrp", "en")
    assert three_g == "Coverage 3G — RSCP · VNPT-VinaPhone"


def test_search_limits_and_bad_queries(client: TestClient) -> None:
    assert len(client.get("/search?q=thon&limit=5").json()["hits"]) == 5
    assert client.get("/search?q=x").status_code == 422
    assert client.get("/search?q=thon&limit=500").status_code == 422
    assert client.get("/search?q=zzzzzz").json()["hits"] == []


def test_identify_finds_what_is_at_a_point(
    client: TestClient, sample_store: GeoPackageStore
) -> None:
    site = sample_store.read("sites", filters={"site_id": "VTL-HNM-0001"})
    lon, lat = site.geometry.iloc[0].x, site.geometry.iloc[0].y
    params = {"lon": lon, "lat": lat, "radius_m": 20, "layer": ["sites", "admin_units"]}
    body = client.get("/viewer/identify", params=params).json()
    sites = [f for f in body["features"] if f["layer"] == "sites"]
    assert sites[0]["id"] == "VTL-HNM-0001:viettel"  # site ids are each operator's own
    assert "address" not in sites[0]["properties"]
    units = {f["properties"]["level"] for f in body["features"] if f["layer"] == "admin_units"}
    assert units == {"province", "district", "commune"}
    with_key = client.get("/viewer/identify", params=params, headers=key("viettel")).json()
    assert with_key["features"][0]["properties"]["address"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"lon": 105.9, "lat": 20.5, "layer": "cells"}, 403),
        ({"lon": 105.9, "lat": 20.5, "layer": "nowhere"}, 404),
        ({"lon": 105.9, "lat": 20.5}, 422),
        ({"lon": 105.9, "lat": 20.5, "layer": "sites", "radius_m": 0}, 422),
        ({"lon": 105.9, "lat": 89, "layer": "sites"}, 422),
    ],
)
def test_identify_bad_requests(client: TestClient, params: dict[str, object], status: int) -> None:
    response = client.get("/viewer/identify", params=params)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.json()["detail"]
