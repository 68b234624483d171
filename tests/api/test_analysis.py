"""Analysis endpoints: site sharing and coverage at a point."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gis_planner.sharing import sharing_ratios
from gis_planner.store import GeoPackageStore
from tests.api.conftest import PHU_LY, key


def test_sharing_ratio_matches_the_library(
    client: TestClient, sample_store: GeoPackageStore
) -> None:
    body = client.get("/analysis/sharing").json()
    expected = sharing_ratios(sample_store.read("sites"), sample_store.read("admin_units"))
    assert len(body["rows"]) == len(expected)
    province = next(r for r in body["rows"] if r["scope"] == "province")
    row = expected[expected["scope"] == "province"].iloc[0]
    assert province["positions"] == row["positions"] == 930
    assert province["shared_positions"] == row["shared_positions"]
    assert province["position_ratio"] == pytest.approx(row["position_ratio"])
    assert province["name"] == "Tỉnh Hà Nam"
    assert (body["target_low"], body["target_high"]) == (0.25, 0.30)
    operators = client.get("/analysis/sharing?scope=operator").json()["rows"]
    assert {r["code"] for r in operators} <= {
        "viettel",
        "vnpt",
        "mobifone",
        "vietnamobile",
        "gmobile",
    }
    wider = client.get("/analysis/sharing?tolerance_m=100&scope=province").json()["rows"][0]
    assert wider["positions"] < province["positions"]
    new_units = client.get("/analysis/sharing?admin_version=2025-07&scope=commune").json()
    assert len(new_units["rows"]) > 20


def test_positions_geojson(client: TestClient) -> None:
    body = client.get("/analysis/positions?shared=true").json()
    assert body["type"] == "FeatureCollection"
    props = [f["properties"] for f in body["features"]]
    province = client.get("/analysis/sharing?scope=province").json()["rows"][0]
    assert len(props) == province["shared_positions"]
    assert all(p["tenants"] >= 2 and "," in p["operators"] for p in props)
    assert "capacity" not in props[0]  # from max_tenants, not shown to viewers
    keyed = client.get("/analysis/positions?shared=true", headers=key("admin")).json()
    assert "capacity" in keyed["features"][0]["properties"]


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
        "/analysis/sharing?admin_version=2030",
        "/analysis/sharing?scope=planet",
        "/analysis/coverage/point?lon=200&lat=20",
        "/analysis/coverage/point?lat=20",
    ],
)
def test_bad_analysis_parameters(coverage_client: TestClient, url: str) -> None:
    response = coverage_client.get(url)
    assert response.status_code == 422
    assert "invalid parameter" in response.json()["detail"]
