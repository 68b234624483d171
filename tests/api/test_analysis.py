"""Analysis endpoints: site sharing and coverage at a point."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rio_tiler.io import Reader
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.hosting import HostIndex, PlannedSite
from gis_planner.jobs.hosting import host_index
from gis_planner.sharing import positions, sharing_ratios
from gis_planner.store import GeoPackageStore
from tests.api.conftest import PHU_LY, coverage_raster, key


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
    # The sample store has no positions product: positions computed at 30 m, and said so.
    assert body["positions"]["stored"] is False and body["stale"] is False
    assert body["tolerance_m"] == 30 and "gis-planner sharing" in body["positions"]["notice"]
    new_units = client.get("/analysis/sharing?admin_version=2025-07&scope=commune").json()
    assert len(new_units["rows"]) > 20


@pytest.mark.parametrize("path", ["sharing", "positions"])
def test_a_tolerance_other_than_the_product_s_names_the_command(
    client: TestClient, path: str
) -> None:
    response = client.get(f"/analysis/{path}?tolerance_m=100")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "positions were made at 30 m" in detail and "vị trí" in detail
    assert "gis-planner sharing --tolerance-m 100" in detail
    assert client.get(f"/analysis/{path}?tolerance_m=30").status_code == 200


def test_positions_geojson(client: TestClient) -> None:
    body = client.get("/analysis/positions?shared=true").json()
    assert body["type"] == "FeatureCollection"
    props = [f["properties"] for f in body["features"]]
    province = client.get("/analysis/sharing?scope=province").json()["rows"][0]
    assert len(props) == province["shared_positions"]
    assert all(p["tenants"] >= 2 and "," in p["operators"] for p in props)
    assert "capacity" not in props[0]  # from max_tenants, not shown to viewers
    assert body["stale"] is False and body["positions"]["tolerance_m"] == 30
    keyed = client.get("/analysis/positions?shared=true", headers=key("admin")).json()
    assert "capacity" in keyed["features"][0]["properties"]


def test_coverage_at_a_point(coverage_store: GeoPackageStore, coverage_client: TestClient) -> None:
    url = f"/analysis/coverage/point?lon={PHU_LY[0]}&lat={PHU_LY[1]}"
    aggregated = coverage_raster(coverage_store, None, "rsrp")
    viewer = coverage_client.get(url).json()
    assert {(s["raster"], s["band"]) for s in viewer["samples"]} == {(aggregated, "rsrp")}
    assert viewer["rsrp_by_operator"] == []
    viettel = coverage_client.get(url, headers=key("viettel")).json()
    rsrp = coverage_raster(coverage_store, "viettel", "rsrp")
    server = coverage_raster(coverage_store, "viettel", "best_server")
    values = {(s["raster"], s["band"]): s for s in viettel["samples"]}
    assert set(values) == {
        (aggregated, "rsrp"), (rsrp, "rsrp"), (rsrp, "second_rsrp"), (rsrp, "sinr"),
        (server, "best_server"), (server, "n_servers"),
    }  # fmt: skip
    # Every band's value is the COG's at the point.
    with Reader(str(coverage_store.assets_dir / str(coverage_store.product(rsrp).path))) as cog:
        expected = cog.point(*PHU_LY).array
    assert [values[(rsrp, b)]["value"] for b in ("rsrp", "second_rsrp", "sinr")] == (
        pytest.approx([float(v) for v in expected])
    )
    assert values[(rsrp, "sinr")]["unit"] == "dB" and values[(rsrp, "sinr")]["label"]
    assert values[(server, "best_server")]["value"] >= 1
    admin = coverage_client.get(url, headers=key("admin")).json()
    ranking = [o["rsrp_dbm"] for o in admin["rsrp_by_operator"]]
    assert len(ranking) == 4 and ranking == sorted(ranking, reverse=True)
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


def test_host_candidates_are_the_library_s(
    client: TestClient, sample_store: GeoPackageStore
) -> None:
    # A planned Viettel site a little way from a VNPT site in Phủ Lý.
    vnpt = sample_store.read("sites", filters={"operator": "vnpt"}, bbox=(105.9, 20.5, 106, 20.6))
    lon, lat = vnpt.geometry.iloc[0].x + 0.001, vnpt.geometry.iloc[0].y
    params = {"lon": lon, "lat": lat, "height_m": 30, "radius_m": 3000, "limit": 5}
    body = client.get("/analysis/host-candidates", params=params, headers=key("viettel")).json()
    # Viettel's index: other operators' recorded capacities hidden, its own fibre only.
    sites = sample_store.read("sites")
    sites.loc[sites["operator"] != "viettel", "max_tenants"] = None
    fibre = [
        sample_store.read(name, filters={"operator": ["viettel"]})
        for name in ("fibre_routes", "fibre_nodes")
    ]
    planned = PlannedSite(lon, lat, "viettel", 30.0, "4G")
    index = HostIndex.from_layers(positions(sites), sample_store.read("admin_units"), fibre)
    expected = index.candidates(planned, 3000)
    got = [f["properties"]["position_id"] for f in body["features"]]
    assert got == list(expected["position_id"].head(5)) and len(got) == 5
    assert all("viettel" not in f["properties"]["operators"].split(",") for f in body["features"])
    first = body["features"][0]["properties"]
    assert first["rank"] == 1 and 0 <= first["score"] <= 1
    admin = client.get(
        "/analysis/host-candidates", params={**params, "operator": "viettel"}, headers=key("admin")
    ).json()
    everything = host_index(sample_store).candidates(planned, 3000)
    assert [f["properties"]["position_id"] for f in admin["features"]] == list(
        everything["position_id"].head(5)
    )


@pytest.mark.parametrize(
    ("params", "who", "status", "words"),
    [
        ({}, None, 403, "operator or admin key"),
        ({"operator": "viettel"}, "vnpt", 403, "'vnpt' only"),
        ({}, "admin", 400, "which operator"),
        ({"operator": "fpt"}, "admin", 400, "one of"),
        ({"technology": "6G"}, "vnpt", 422, "technology"),
        ({"height_m": -3}, "vnpt", 422, "height_m"),
    ],
)
def test_host_candidates_refusals(
    client: TestClient, params: dict[str, object], who: str | None, status: int, words: str
) -> None:
    query = {"lon": PHU_LY[0], "lat": PHU_LY[1], **params}
    response = client.get(
        "/analysis/host-candidates",
        params=query,
        headers=key(who) if who else {},  # type: ignore[arg-type]
    )
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_indicators_need_the_analyses(client: TestClient) -> None:
    body = client.get("/analysis/indicators").json()
    assert "positions" in body["missing_layers"] and body["rows"] == []


def test_indicators_after_the_sharing_analysis(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    store = GeoPackageStore(tmp_path / "hanam.gpkg")
    ran = CliRunner().invoke(cli, ["sharing", "--store", str(store.path), "--out", str(tmp_path)])
    assert ran.exit_code == 0, ran.output
    client = TestClient(create_app(store, api_settings))
    body = client.get("/analysis/indicators?level=province&admin_version=pre2025").json()
    assert "positions" not in body["missing_layers"]
    sharing = next(r for r in body["rows"] if r["indicator"] == "bts_position_sharing")
    assert (sharing["code"], sharing["numerator"], sharing["denominator"]) == ("35", 177, 930)
    assert sharing["value"] == pytest.approx(100 * 177 / 930)
    assert (sharing["target"], sharing["target_high"], sharing["status"]) == (25, 30, "not met")
    assert {r["level"] for r in body["rows"]} == {"province"}
    bad = client.get("/analysis/indicators?level=village")
    assert bad.status_code == 422
