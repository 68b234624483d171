"""Analysis endpoints: site sharing and coverage at a point."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gis_planner.sharing import cluster_positions
from gis_planner.store import GeoPackageStore
from tests.api.conftest import PHU_LY, key


def test_sharing_ratio_matches_the_positions(
    client: TestClient, sample_store: GeoPackageStore
) -> None:
    body = client.get("/analysis/sharing").json()
    sites = sample_store.read("sites")
    positions = cluster_positions(sites)
    shared = sites.groupby(positions)["operator"].nunique() >= 2
    assert body["positions"] == positions.nunique() == 930
    assert body["shared_positions"] == int(shared.sum())
    assert body["position_ratio"] == pytest.approx(shared.mean())
    assert body["sites"] == 1157
    assert body["sites_on_shared"] == int(positions.map(shared).sum())
    wider = client.get("/analysis/sharing?tolerance_m=100").json()
    assert wider["positions"] < body["positions"]


def test_positions_geojson(client: TestClient) -> None:
    body = client.get("/analysis/positions?shared=true").json()
    assert body["type"] == "FeatureCollection"
    props = [f["properties"] for f in body["features"]]
    assert len(props) == client.get("/analysis/sharing").json()["shared_positions"]
    assert all(p["n_operators"] >= 2 and "," in p["operators"] for p in props)


def test_coverage_at_a_point(coverage_client: TestClient) -> None:
    url = f"/analysis/coverage/point?lon={PHU_LY[0]}&lat={PHU_LY[1]}"
    viewer = coverage_client.get(url).json()
    assert {s["raster"] for s in viewer["samples"]} == {"coverage.rsrp_best", "coverage.sinr_best"}
    best = next(s for s in viewer["samples"] if s["raster"] == "coverage.rsrp_best")
    # The centre pixel is column 32 of values rising by 1 from −125.
    assert best["value"] == pytest.approx(-125 + 32)
    assert best["label"] == "Khá (−100 … −90 dBm)"
    assert viewer["rsrp_by_operator"] == []
    admin = coverage_client.get(url, headers=key("admin")).json()
    ranking = [(o["operator"], o["rsrp_dbm"]) for o in admin["rsrp_by_operator"]]
    assert ranking == [("viettel", pytest.approx(-68)), ("vnpt", pytest.approx(-88))]
    outside = coverage_client.get("/analysis/coverage/point?lon=106.5&lat=21.5").json()
    assert all(s["value"] is None for s in outside["samples"])


def test_coverage_not_computed_is_404(client: TestClient) -> None:
    response = client.get(f"/analysis/coverage/point?lon={PHU_LY[0]}&lat={PHU_LY[1]}")
    assert response.status_code == 404
    assert "has not been computed" in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/analysis/sharing?tolerance_m=0",
        "/analysis/sharing?tolerance_m=abc",
        "/analysis/positions?shared=perhaps",
        "/analysis/coverage/point?lon=200&lat=20",
        "/analysis/coverage/point?lat=20",
    ],
)
def test_bad_analysis_parameters(coverage_client: TestClient, url: str) -> None:
    response = coverage_client.get(url)
    assert response.status_code == 422
    assert "invalid parameter" in response.json()["detail"]
