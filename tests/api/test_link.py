"""``/analysis/link``: a hop's profile over the server's configured terrain, 404 without one."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.store import GeoPackageStore
from tests.test_link import GROUND_M, HEIGHT_M, SITE_A, SITE_B, write_dem

URL = "/analysis/link"


@pytest.fixture(scope="module")
def ridge_dem(sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dem(tmp_path_factory.mktemp("link") / "ridge.tif", sample_store, ridge_m=40.0)


@pytest.fixture(scope="module")
def with_terrain(
    sample_store: GeoPackageStore, api_settings: ApiSettings, ridge_dem: Path
) -> TestClient:
    settings = api_settings.model_copy(update={"terrain": ridge_dem})
    return TestClient(create_app(sample_store, settings))


def test_profile(with_terrain: TestClient) -> None:
    answer = with_terrain.get(URL, params={"site_a": SITE_A, "site_b": SITE_B, "freq_ghz": 8})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] == "obstructed" and body["freq_ghz"] == 8
    assert body["site_a"]["antenna_m"] == HEIGHT_M
    n = len(body["distance_m"])
    for name in ("terrain_m", "bulge_m", "los_m", "f1_m", "clearance_m", "clearance_f1"):
        assert len(body[name]) == n
    assert body["clearance_f1"][0] is None and body["clearance_f1"][-1] is None
    assert body["terrain_m"][0] == pytest.approx(GROUND_M)
    (obstacle,) = body["obstacles"]
    assert obstacle["terrain_m"] == pytest.approx(40.0)
    assert body["knife_edge_loss_db"] > 6.0
    assert body["itm_loss_db"] > body["free_space_loss_db"] and body["itm_warning"] == 0
    assert answer.headers["Cache-Control"].startswith("public")


def test_higher_antennas_clear_the_ridge(with_terrain: TestClient) -> None:
    params = {"site_a": SITE_A, "site_b": SITE_B, "height_a_m": 60, "height_b_m": 60}
    body = with_terrain.get(URL, params=params).json()
    assert body["verdict"] == "clear" and body["obstacles"] == []


def test_bad_requests(with_terrain: TestClient) -> None:
    unknown = with_terrain.get(URL, params={"site_a": SITE_A, "site_b": "NOPE"})
    assert unknown.status_code == 404 and "NOPE" in unknown.json()["detail"]
    twice = with_terrain.get(URL, params={"site_a": SITE_A, "site_b": SITE_A})
    assert twice.status_code == 400
    assert with_terrain.get(URL, params={"site_a": SITE_A, "site_b": SITE_B,
                                         "freq_ghz": 1e9}).status_code == 422  # fmt: skip
    outside = with_terrain.get(URL, params={"site_a": SITE_A, "site_b": "MBF-HNM-0016"})
    assert outside.status_code == 400 and "does not cover" in outside.json()["detail"]


def test_without_terrain_404(client: TestClient) -> None:
    answer = client.get(URL, params={"site_a": SITE_A, "site_b": SITE_B})
    assert answer.status_code == 404
    assert "GIS_PLANNER_TERRAIN" in answer.json()["detail"]


def test_unreadable_terrain_names_no_path(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    broken = tmp_path / "secret-folder" / "dem.tif"
    broken.parent.mkdir()
    broken.write_bytes(b"not a tiff")
    settings = api_settings.model_copy(update={"terrain": broken})
    answer = TestClient(create_app(sample_store, settings)).get(
        URL, params={"site_a": SITE_A, "site_b": SITE_B}
    )
    assert answer.status_code == 404 and "secret-folder" not in answer.text


def test_the_viewer_offers_the_tool_only_with_terrain(
    with_terrain: TestClient, client: TestClient
) -> None:
    assert with_terrain.get("/viewer/config.json").json()["link_profile"] is True
    assert client.get("/viewer/config.json").json()["link_profile"] is False
