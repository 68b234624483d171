"""``sharing`` and ``candidates`` on a copy of the sample store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.crs import VN2000_TM3_105, WGS84, transformer
from gis_planner.store import GeoPackageStore

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def test_sharing_writes_layers_and_report(sample_copy: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["sharing", "--store", str(sample_copy), "--out", str(tmp_path)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "Tỉnh Hà Nam" in result.output and "19.0%" in result.output
    store = GeoPackageStore(sample_copy)
    assert len(store.read("positions")) == 930
    ratios = store.read("sharing_ratios")
    assert set(ratios["scope"]) == {"province", "district", "commune", "operator"}
    moves = store.read("consolidation_moves")
    assert len(moves) > 0 and moves.geometry.geom_type.eq("LineString").all()
    sheets = pd.read_excel(tmp_path / "sharing.xlsx", sheet_name=None)
    assert set(sheets) == {"ratios", "plan", "moves"}
    assert "Tỷ lệ vị trí dùng chung" in sheets["ratios"].columns
    csv = (tmp_path / "sharing_ratios.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and "Thành phố Phủ Lý".encode() in csv


def test_candidates_by_lon_lat_and_by_vn2000(sample_copy: Path, tmp_path: Path) -> None:
    common = ["candidates", "--store", str(sample_copy), "--out", str(tmp_path)]
    result = runner.invoke(
        app,
        [*common, "--operator", "Vietnamobile", "--lon", "105.913", "--lat", "20.541"],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert "vietnamobile@105.91300,20.54100" in result.output
    stored = GeoPackageStore(sample_copy).read("host_candidates")
    assert len(stored) >= 1 and stored["rank"].tolist() == list(range(1, len(stored) + 1))

    # The same point given in VN-2000 TM-3 105° (X = northing, Y = easting).
    easting, northing = transformer(WGS84, VN2000_TM3_105).transform(105.913, 20.541)
    result = runner.invoke(
        app,
        [*common, "--operator", "vnm", "--x", f"{northing:.3f}", "--y", f"{easting:.3f}"],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert "vietnamobile@105.91300,20.54100" in result.output


def test_candidates_rejects_unknown_operator(sample_copy: Path) -> None:
    result = runner.invoke(
        app,
        [
            "candidates",
            "--store",
            str(sample_copy),
            "--operator",
            "Acme",
            "--lon",
            "106",
            "--lat",
            "20.5",
        ],
    )
    assert result.exit_code == 2
    assert "unknown operator" in result.output


def test_plan_sites_after_coverage(sample_copy: Path, tmp_path: Path) -> None:
    store = str(sample_copy)
    before = runner.invoke(app, ["plan-sites", "--store", store, "--operator", "vietnamobile"])
    assert before.exit_code != 0
    assert before.exit_code == 2 and "gis-planner coverage" in before.output

    coverage = [
        "coverage", "--store", store, "--operator", "vietnamobile", "--tech", "4G",
        "--resolution-m", "400", "--replace", "--out", str(tmp_path),
    ]  # fmt: skip
    assert runner.invoke(app, coverage, env=WIDE).exit_code == 0
    result = runner.invoke(
        app,
        ["plan-sites", "--store", store, "--operator", "Vietnamobile", "--budget", "3",
         "--out", str(tmp_path)],
        env=WIDE,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = GeoPackageStore(sample_copy)
    proposals, demand = written.read("site_proposals"), written.read("siting_demand")
    assert 0 < proposals["cost"].sum() <= 3.0 + 1e-9
    assert set(demand["status"]) <= {"covered", "not_reached", "uncoverable"}
    assert (demand["status"] == "covered").any()
    sheets = pd.read_excel(tmp_path / "site_plan_vietnamobile_4G.xlsx", sheet_name=None)
    summary = dict(zip(sheets["summary"]["figure"], sheets["summary"]["value"], strict=True))
    assert summary["method"] == "milp" and str(summary["proven optimal"]) == "True"
    assert summary["result"] == "optimal" and "not proven" not in result.output
    assert int(summary["population covered"]) == int(
        demand.loc[demand["status"] == "covered", "population"].sum()
    )
