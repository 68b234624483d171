"""``/analysis/switch-off`` over the products of the real coverage job, checked against what the
``switch-off`` command writes."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.store import GeoPackageStore

from .conftest import COVERAGE_BBOX, key

URL = "/analysis/switch-off"


@pytest.fixture(scope="module")
def switched(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    """A copy of the sample with 2G and 4G coverage around Phủ Lý and Viettel's 2G switch-off,
    both written by their commands."""
    target = tmp_path_factory.mktemp("switch_off") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    out = target.parent / "out"
    for command in (
        ["coverage", "--tech", "2G", "--tech", "4G", "--resolution-m", "400", "--bbox",
         COVERAGE_BBOX, "--replace", "--workers", "1", "--out", str(out)],
        ["switch-off", "--operator", "viettel", "--technology", "2G", "--out", str(out)],
    ):  # fmt: skip
        result = CliRunner().invoke(cli, [*command, "--store", str(target)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
    assert (out / "switch_off_viettel_2G.xlsx").exists()
    return GeoPackageStore(target)


@pytest.fixture(scope="module")
def client_of(switched: GeoPackageStore, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(switched, api_settings))


def test_who_may_ask(client_of: TestClient) -> None:
    assert client_of.get(URL).status_code == 403
    assert (
        client_of.get(URL, params={"operator": "viettel"}, headers=key("vnpt")).status_code == 403
    )
    assert client_of.get(URL, headers=key("admin")).status_code == 400
    assert (
        client_of.get(URL, params={"technology": "4G"}, headers=key("viettel")).status_code == 422
    )


def test_the_answer_is_what_the_command_wrote(
    client_of: TestClient, switched: GeoPackageStore
) -> None:
    response = client_of.get(URL, params={"technology": "2G"}, headers=key("viettel"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["operator"], body["technologies"]) == ("viettel", ["2G"])
    written = switched.read("switchoff_villages").set_index("village_code")
    answered = {v["village_code"]: v for v in body["villages"]}
    assert set(answered) == set(written.index) and answered
    for code, village in answered.items():
        assert village["status"] == written.loc[code, "status"]
        assert village["village_name"]
    assert body["summary"]["villages affected"] == len(written)
    proposals = switched.read("switchoff_restoration")
    ids = {f["properties"]["candidate_id"] for f in body["restoration"]["features"]}
    assert ids == set(proposals["candidate_id"])
    communes = {row["commune_code"] for row in body["communes"]}
    assert communes == set(switched.read("switchoff_communes")["commune_code"])


def test_without_coverage_it_is_404(client: TestClient) -> None:
    response = client.get(URL, params={"operator": "vnpt"}, headers=key("admin"))
    assert response.status_code == 404 and "coverage" in response.text


def test_an_operator_sees_only_its_own_written_study(
    client_of: TestClient, switched: GeoPackageStore
) -> None:
    url = "/collections/switchoff_villages/items?limit=10000"
    own = client_of.get(url, headers=key("viettel"))
    assert own.status_code == 200 and own.json()["features"]
    other = client_of.get(url, headers=key("vnpt"))
    assert other.status_code == 200 and other.json()["numberMatched"] == 0
    assert client_of.get(url).status_code == 403


def test_the_viewer_offers_the_study_to_its_operator(client_of: TestClient) -> None:
    config = client_of.get("/viewer/config.json?lang=en", headers=key("viettel")).json()
    entries = {layer["id"]: layer for layer in config["layers"]}
    assert entries["switchoff_villages"]["group"] == "studies"
    assert entries["switchoff_restoration"]["group"] == "studies"
    assert config["groups"]["studies"] == (
        "2G/3G switch-off, industrial zones, passive infrastructure"
    )
    public = client_of.get("/viewer/config.json").json()
    assert "switchoff_villages" not in {layer["id"] for layer in public["layers"]}
