"""``/analysis/industry`` over what the real ``coverage`` and ``industry`` commands write."""

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

URL = "/analysis/industry"


@pytest.fixture(scope="module")
def studied(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    target = tmp_path_factory.mktemp("industry") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    out = target.parent
    for command in (
        ["coverage", "--tech", "4G", "--tech", "5G", "--resolution-m", "400", "--replace",
         "--workers", "1", "--out", str(out)],
        ["industry", "--out", str(out), "--time-limit-s", "30"],
    ):  # fmt: skip
        result = CliRunner().invoke(cli, [*command, "--store", str(target)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
    return GeoPackageStore(target)


@pytest.fixture(scope="module")
def client_of(studied: GeoPackageStore, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(studied, api_settings))


def test_viewers_see_the_zones_over_operators(
    client_of: TestClient, studied: GeoPackageStore
) -> None:
    body = client_of.get(URL).json()
    assert {row["operator"] for row in body["zones"]} == {"any"}
    ranks = [row["rank"] for row in body["zones"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    stored = studied.read("industry_zones")
    assert len(body["zones"]) == int((stored["operator"] == "any").sum())
    additions = studied.read("industry_additions")
    assert len(body["additions"]["features"]) == len(additions)


def test_an_operator_adds_its_own_rows(client_of: TestClient) -> None:
    rows = client_of.get(URL, headers=key("viettel")).json()["zones"]
    assert {row["operator"] for row in rows} == {"any", "viettel"}
    every = client_of.get(URL, headers=key("admin")).json()["zones"]
    assert {"vnpt", "mobifone"} <= {row["operator"] for row in every}


def test_before_the_study_it_is_404(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 404 and "gis-planner industry" in response.text
