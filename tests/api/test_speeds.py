"""``/analysis/speeds``: the shares at the download targets, by role, from the real jobs."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.store import GeoPackageStore

from .conftest import PHU_LY, key, tile_of

BBOX = "105.89,20.52,105.95,20.57"


@pytest.fixture(scope="module")
def speeds_client(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[TestClient, str]:
    """The app over a copy of the sample after the real ``coverage`` (4G and 5G around Phủ Lý
    at 200 m, in the province's place) and ``speeds`` commands; with the coverage's scope."""
    target = tmp_path_factory.mktemp("speeds") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    runner = CliRunner()
    tables = str(target.parent / "tables")
    args = ["coverage", "--store", str(target), "--resolution-m", "200", "--bbox", BBOX,
            "--tech", "4G", "--tech", "5G", "--replace", "--workers", "1",
            "--out", tables]  # fmt: skip
    result = runner.invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    store = GeoPackageStore(target)
    scope = next(r.scope for r in store.products() if r.job == "coverage")
    args = ["speeds", "--store", str(target), "--out", tables]
    result = runner.invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return TestClient(create_app(store, api_settings)), scope


def test_not_computed_is_404(client: TestClient) -> None:
    response = client.get("/analysis/speeds")
    assert response.status_code == 404
    assert "gis-planner speeds" in response.json()["detail"]


def test_each_role_sees_its_rows(speeds_client: tuple[TestClient, str]) -> None:
    client, scope = speeds_client
    viewer = client.get("/analysis/speeds", params={"scope": scope})
    assert viewer.status_code == 200, viewer.text
    body = viewer.json()
    assert body["scope"] == scope and body["stale"] is False
    assert {row["operator"] for row in body["mobile"]} == {"any"}
    assert {row["technology"] for row in body["mobile"]} == {"4G", "5G"}
    assert body["assumptions"]["throughput"]["user_share"] == 0.5
    assert "coverage_products" not in body["assumptions"]
    measures = {row["measure"]: row for row in body["fixed"]}
    assert measures["fixed_target"]["target_mbps"] == 100.0
    assert measures["fixed_2030"]["target_mbps"] == 1000.0
    for row in body["mobile"]:
        assert 0 <= row["villages_at_target"] <= row["villages"]
        assert 0.0 <= row["population_share"] <= 1.0

    mine = client.get("/analysis/speeds", params={"scope": scope}, headers=key("viettel"))
    assert {row["operator"] for row in mine.json()["mobile"]} == {"any", "viettel"}
    admin = client.get(
        "/analysis/speeds", params={"scope": scope, "technology": "5G"}, headers=key("admin")
    )
    rows = admin.json()["mobile"]
    assert {row["technology"] for row in rows} == {"5G"}
    assert {"any", "viettel", "vnpt"} <= {row["operator"] for row in rows}


def test_a_scope_is_a_name(speeds_client: tuple[TestClient, str]) -> None:
    client, _ = speeds_client
    assert client.get("/analysis/speeds", params={"scope": "../x"}).status_code == 422
    assert client.get("/analysis/speeds", params={"scope": "other"}).status_code == 404


def test_the_stored_figures_are_features_with_the_coverage_rules(
    speeds_client: tuple[TestClient, str],
) -> None:
    client, _ = speeds_client
    url = "/collections/speeds_villages/items"
    viewer = client.get(url, params={"limit": 10000}).json()["features"]
    assert viewer and {f["properties"]["operator"] for f in viewer} == {"any"}
    mine = client.get(url, params={"limit": 10000}, headers=key("viettel")).json()["features"]
    assert {f["properties"]["operator"] for f in mine} == {"any", "viettel"}
    # the API's shares are the stored rows' (none recomputed from the rasters)
    body = client.get("/analysis/speeds").json()
    any_4g = next(r for r in body["mobile"] if r["technology"] == "4G")
    rows = [f["properties"] for f in viewer if f["properties"]["technology"] == "4G"]
    assert any_4g["villages"] == len(rows)
    assert any_4g["villages_at_target"] == sum(r["at_target"] for r in rows)
    fixed = client.get("/collections/ftth_speeds/items", params={"limit": 10000}).json()
    assert len(fixed["features"]) == len(rows)
    assert {"subscriber_mbps", "meets_2030"} <= set(fixed["features"][0]["properties"])


def test_the_viewer_shows_the_throughput_with_its_legend(
    speeds_client: tuple[TestClient, str],
) -> None:
    client, _ = speeds_client
    config = client.get("/viewer/config.json").json()
    speeds = [e for e in config["layers"] if e["group"] == "speeds"]
    # viewers: the best operator at each pixel, one layer a technology
    assert {e["id"] for e in speeds} == {
        "raster.speeds.province.any_4G_throughput.throughput",
        "raster.speeds.province.any_5G_throughput.throughput",
    }
    assert config["groups"]["speeds"] == "Tốc độ tải xuống"
    four_g = next(e for e in speeds if "4G" in e["id"])
    assert four_g["title"] == "Tốc độ tải xuống 4G · mọi nhà mạng"
    assert four_g["legend"].endswith("/legends/throughput?lang=vi")
    mine = client.get("/viewer/config.json?lang=en", headers=key("viettel")).json()
    titles = {e["title"] for e in mine["layers"] if e["group"] == "speeds"}
    assert "Download speed 5G · Viettel" in titles and "Download speed 5G · VNPT" not in titles

    legend = client.get("/legends/throughput").json()
    assert legend["unit"] == "Mb/s"
    lows = [entry["low"] for entry in legend["entries"]]
    assert 50 in lows and 100 in lows
    english = client.get("/legends/throughput?lang=en").json()
    assert english["entries"][2]["label"] == "At the 50 Mb/s target (50 … 100 Mb/s)"
    x, y = tile_of(*PHU_LY, 13)
    tile = client.get(four_g["tiles"].replace("{z}/{x}/{y}", f"13/{x}/{y}"))
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
