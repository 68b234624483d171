"""The positions product end to end: ``gis-planner sharing`` makes it, every consumer reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.positions_product import read_positions
from gis_planner.sharing import POSITION_METHOD
from gis_planner.store import GeoPackageStore
from tests.api.conftest import PHU_LY, api_settings, key

__all__ = ["api_settings"]

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def fresh_app(store: GeoPackageStore, settings: ApiSettings) -> TestClient:
    """A client of an API that sees each commit at once: the commands run in this process, in
    less than the layer cache's two seconds between looks at the store."""
    return TestClient(create_app(store, settings.model_copy(update={"cache_check_s": 0})))


def run(*args: str) -> str:
    result = runner.invoke(cli, list(args), env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def figures(client: TestClient) -> dict[str, Any]:
    """What the API's consumers of the positions say: sharing, indicators, host candidates."""
    sharing = client.get("/analysis/sharing?scope=province").json()
    province = sharing["rows"][0]
    indicators = client.get("/analysis/indicators?level=province&admin_version=pre2025").json()
    indicator = next(r for r in indicators["rows"] if r["indicator"] == "bts_position_sharing")
    params = {"lon": PHU_LY[0], "lat": PHU_LY[1], "operator": "vietnamobile", "radius_m": 5000}
    hosts = client.get("/analysis/host-candidates", params=params, headers=key("admin")).json()
    return {
        "sharing": sharing,
        "positions": province["positions"],
        "shared": province["shared_positions"],
        "ratio": province["position_ratio"],
        "indicator": (indicator["denominator"], indicator["numerator"], indicator["value"]),
        "indicators_stale": indicators["stale"],
        "hosts": [f["properties"] for f in hosts["features"]],
        "hosts_stale": hosts["stale"],
    }


def test_every_consumer_reads_the_positions_sharing_made(
    sample_copy: Path, tmp_path: Path, api_settings: ApiSettings
) -> None:
    store = str(sample_copy)
    coverage = [
        "coverage", "--store", store, "--operator", "vietnamobile", "--tech", "4G",
        "--resolution-m", "400", "--out", str(tmp_path), "--replace",
    ]  # fmt: skip
    run(*coverage)
    run("sharing", "--store", store, "--tolerance-m", "40", "--out", str(tmp_path))
    target = GeoPackageStore(sample_copy)
    record = target.metadata("positions")
    assert record["tolerance_m"] == 40 and record["method"] == POSITION_METHOD
    sites_info = next(i for i in target.list_layers() if i.name == "sites")
    assert record["sites_revision"] == sites_info.revision and record["made_at"]
    product = read_positions(target)
    table = product.table.set_index("position_id")
    assert product.stored and not product.stale

    client = fresh_app(target, api_settings)
    at_40 = figures(client)
    shared = int(table["shared"].sum())
    assert (at_40["positions"], at_40["shared"]) == (len(table), shared)
    assert at_40["ratio"] == pytest.approx(shared / len(table))
    assert at_40["indicator"][:2] == (len(table), shared)
    assert at_40["indicator"][2] == pytest.approx(100 * at_40["ratio"])
    assert at_40["sharing"]["tolerance_m"] == 40 and at_40["sharing"]["stale"] is False
    assert not at_40["indicators_stale"] and not at_40["hosts_stale"]
    # Host candidates are the 40 m positions, with the province ratio they count.
    assert len(at_40["hosts"]) > 5
    for host in at_40["hosts"]:
        row = table.loc[host["position_id"]]
        assert (host["operators"], host["site_ids"]) == (row["operators"], row["site_ids"])
        assert host["ratio_now"] == pytest.approx(at_40["ratio"])

    planned = run(
        "plan-sites", "--store", store, "--operator", "vietnamobile", "--budget", "3",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert "positions at 40 m" in planned and "warning" not in planned
    proposals = GeoPackageStore(sample_copy).read("site_proposals")
    shares = proposals[proposals["kind"] == "share"]
    assert len(shares) > 0
    for proposal in shares.itertuples():
        row = table.loc[int(proposal.candidate_id.removeprefix("P"))]
        assert proposal.host_operators == row["operators"]
        assert proposal.geometry.distance(row.geometry) < 1e-9

    # At 30 m there are more positions: every consumer follows the new product together.
    run("sharing", "--store", store, "--tolerance-m", "30", "--out", str(tmp_path))
    at_30 = figures(client)
    assert at_30["positions"] > at_40["positions"]
    assert at_30["indicator"][:2] == (at_30["positions"], at_30["shared"])
    assert at_30["sharing"]["tolerance_m"] == 30
    assert [h["ratio_now"] for h in at_30["hosts"]] == pytest.approx(
        [at_30["ratio"]] * len(at_30["hosts"])
    )
    refused = client.get("/analysis/sharing?tolerance_m=40")
    assert refused.status_code == 400
    assert "gis-planner sharing --tolerance-m 40" in refused.json()["detail"]


def test_positions_are_stale_once_the_sites_change(
    sample_copy: Path, tmp_path: Path, api_settings: ApiSettings
) -> None:
    store = str(sample_copy)
    run("sharing", "--store", store, "--tolerance-m", "40", "--out", str(tmp_path))
    target = GeoPackageStore(sample_copy)
    sites = target.read("sites")
    moved = sites.iloc[[0]].copy()
    moved["site_id"] = "NEW-0001"
    target.write("sites", moved, mode="append")

    client = fresh_app(target, api_settings)
    after = figures(client)
    assert after["sharing"]["stale"] is True and after["indicators_stale"] is True
    assert after["hosts_stale"] is True
    assert "gis-planner sharing --tolerance-m 40" in after["sharing"]["positions"]["notice"]
    positions = client.get("/analysis/positions").json()
    assert positions["stale"] is True and positions["positions"]["tolerance_m"] == 40
    found = run(
        "candidates", "--store", store, "--operator", "vietnamobile",
        "--lon", str(PHU_LY[0]), "--lat", str(PHU_LY[1]), "--out", str(tmp_path),
    )  # fmt: skip
    assert "warning" in found and "stale" in found

    run("sharing", "--store", store, "--tolerance-m", "40", "--out", str(tmp_path))
    assert client.get("/analysis/sharing").json()["stale"] is False


def test_commands_without_the_product_say_they_computed_it(sample_copy: Path) -> None:
    found = run(
        "candidates", "--store", str(sample_copy), "--operator", "viettel",
        "--lon", str(PHU_LY[0]), "--lat", str(PHU_LY[1]), "--out", str(sample_copy.parent),
    )  # fmt: skip
    assert "no positions product" in found and "run `gis-planner sharing`" in found
    assert not GeoPackageStore(sample_copy).has_layer("positions")


def test_the_products_are_registered_and_go_stale_with_the_admin_units(
    sample_copy: Path, tmp_path: Path
) -> None:
    run("sharing", "--store", str(sample_copy), "--tolerance-m", "40", "--out", str(tmp_path))
    target = GeoPackageStore(sample_copy)
    records = {r.id: r for r in target.products() if r.job == "sharing"}
    assert set(records) == {"sharing.positions", "sharing.sharing_ratios",
                            "sharing.consolidation_moves"}  # fmt: skip
    positions = records["sharing.positions"]
    assert positions.layer == "positions" and positions.parameters["tolerance_m"] == 40
    assert set(positions.inputs) == {"sites", "admin_units"}
    assert positions.area.admin_codes == ("35",)
    assert not read_positions(target).stale
    # the admin units place each position: new ones make the product stale, not only new sites
    target.write("admin_units", target.read("admin_units"))
    assert read_positions(target).stale
    assert all(target.stale(r) for r in target.products() if r.job == "sharing")
