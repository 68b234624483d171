"""``/analysis/passive`` over what the real ``passive`` command writes, and who sees the plan's
layers."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.store import GeoPackageStore

from .conftest import key

URL = "/analysis/passive"


@pytest.fixture(scope="module")
def studied(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    target = tmp_path_factory.mktemp("passive") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    command = ["passive", "--store", str(target), "--out", str(target.parent)]
    result = CliRunner().invoke(cli, command, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return GeoPackageStore(target)


@pytest.fixture(scope="module")
def client_of(studied: GeoPackageStore, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(studied, api_settings))


def test_viewers_get_the_counts_and_cable_shares_only(
    client_of: TestClient, studied: GeoPackageStore
) -> None:
    body = client_of.get(URL).json()
    checks, hosts = studied.read("site_compliance"), studied.read("passive_hosts")
    counted = {(c["subject"], c["status"]): c["count"] for c in body["counts"]}
    assert sum(counted.values()) == len(checks) + len(hosts)
    forbidden = checks[(checks["subject"] == "site") & (checks["status"] == "forbidden")]
    assert counted[("site", "forbidden")] == len(forbidden)
    assert body["sites"] is None and body["hosts"] is None
    province = next(row for row in body["cables"] if row["level"] == "province")
    assert province["total_m"] == pytest.approx(province["aerial_m"] + province["underground_m"])
    assert body["assumptions"]["underground_target"] is None
    assert body["assumptions"]["new_build_tower_type"] == "monopole"


def test_an_operator_sees_its_own_sites_an_admin_everything(
    client_of: TestClient, studied: GeoPackageStore
) -> None:
    checks = studied.read("site_compliance")
    own = client_of.get(URL, headers=key("viettel")).json()
    operators = {f["properties"]["operator"] for f in own["sites"]["features"]}
    assert operators == {"viettel"}
    assert len(own["sites"]["features"]) == int((checks["operator"] == "viettel").sum())
    assert own["hosts"] is None
    every = client_of.get(URL, headers=key("admin")).json()
    assert len(every["sites"]["features"]) == len(checks)
    assert len(every["hosts"]["features"]) == len(studied.read("passive_hosts"))
    first = every["sites"]["features"][0]["properties"]
    assert first["rule_vi"] and first["rule_en"] and first["status"]


def test_military_areas_are_not_public(client: TestClient) -> None:
    assert client.get("/collections/planning_zones/items?limit=1").status_code == 200
    assert client.get("/collections/exclusion_areas/items?limit=1").status_code == 200
    assert client.get("/collections/military_areas/items?limit=1").status_code == 403
    assert client.get("/collections/host_structures/items?limit=1").status_code == 403
    admin = client.get("/collections/military_areas/items?limit=1", headers=key("admin"))
    assert admin.status_code == 200


def test_before_the_study_it_is_404(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 404 and "gis-planner passive" in response.text
