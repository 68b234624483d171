"""``gis-planner import`` and ``validate``: summaries, reports and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.store import GeoPackageStore

from .io_files import INSIDE

runner = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.fixture
def hanam(tmp_path: Path, sample_store: GeoPackageStore) -> Path:
    path = tmp_path / "hanam.gpkg"
    shutil.copyfile(sample_store.path, path)
    return path


def _list(tmp_path: Path, extra: list[str] = ()) -> Path:  # type: ignore[assignment]
    rows = ["Mã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao cột;Loại cột"]
    rows += [f"C{i};Vina;{lon};{lat};36m;monopole" for i, (lon, lat) in enumerate(INSIDE)]
    path = tmp_path / "vnpt.csv"
    path.write_text("\n".join([*rows, *extra]), encoding="utf-8-sig")
    return path


def test_import_clean_file_exits_0_and_is_idempotent(tmp_path: Path, hanam: Path) -> None:
    args = ["import", "sites", str(_list(tmp_path)), "--store", str(hanam), "--append"]
    result = runner.invoke(app, args, env=ENV)
    assert result.exit_code == 0, result.output
    assert "read" in result.output and "written to sites" in result.output
    assert "reject report:" in result.output
    assert len(GeoPackageStore(hanam).read("sites", filters={"operator": "vnpt"})) > 6
    again = runner.invoke(app, args, env=ENV)
    assert again.exit_code == 0
    assert "unchanged (already in the store)" in again.output
    line = next(x for x in again.output.splitlines() if "unchanged" in x)
    assert line.rstrip(" │").endswith("6")


def test_import_with_rejects_exits_1_and_names_the_report(tmp_path: Path, hanam: Path) -> None:
    path = _list(tmp_path, ["BAD;Orange;105.91;20.54;36;monopole", "FAR;Vina;106.6;20.5;36;x"])
    report_dir = tmp_path / "reports"
    result = runner.invoke(
        app,
        ["import", "sites", str(path), "--store", str(hanam), "--append",
         "--report-dir", str(report_dir)],
        env=ENV,
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "unknown_operator" in result.output and "outside_province" in result.output
    report = report_dir / "vnpt.sites.rejects.csv"
    assert str(report) in result.output.replace("\n", "")
    frame = pd.read_csv(report, encoding="utf-8-sig")
    assert sorted(frame["row"].unique()) == [8, 9]


def test_validate_writes_nothing_to_the_store(tmp_path: Path, hanam: Path) -> None:
    before = hanam.read_bytes()
    path = _list(tmp_path, ["BAD;Vina;105.91;20.54;999;monopole"])
    result = runner.invoke(
        app,
        ["validate", str(path), "--layer", "sites", "--store", str(hanam),
         "--report-dir", str(tmp_path)],
        env=ENV,
    )  # fmt: skip
    assert result.exit_code == 1 and "above_max" in result.output
    assert hanam.read_bytes() == before
    clean = runner.invoke(
        app,
        ["validate", str(_list(tmp_path)), "--store", str(hanam), "--report-dir", str(tmp_path)],
        env=ENV,
    )
    assert clean.exit_code == 0, clean.output


def test_mapping_set_and_crs_options(tmp_path: Path, hanam: Path) -> None:
    path = tmp_path / "survey.csv"
    path.write_text(
        "Cột 1,Cột 2,Bắc (X),Đông (Y)\nS1,VNPT,2272293.967,594697.150\n", encoding="utf-8"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text('"Cột 1": site_id\n"Cột 2": operator\n"Bắc (X)": x\n"Đông (Y)": y\n')
    result = runner.invoke(
        app,
        ["import", "sites", str(path), "--store", str(hanam), "--append", "--mapping",
         str(mapping), "--crs", "EPSG:5897", "--set", "tower_type=monopole",
         "--set", "height_m=25"],
        env=ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    site = GeoPackageStore(hanam).read("sites", filters={"site_id": "S1"}).iloc[0]
    assert site["tower_type"] == "monopole" and site["height_m"] == 25.0
    assert site.geometry.x == pytest.approx(105.91, abs=1e-6)


def test_bad_arguments_and_library_errors(tmp_path: Path, hanam: Path) -> None:
    unknown = runner.invoke(app, ["import", "towers", str(_list(tmp_path)), "--store", str(hanam)])
    assert unknown.exit_code == 2 and "unknown layer" in unknown.output
    bad_set = runner.invoke(
        app, ["import", "sites", str(_list(tmp_path)), "--store", str(hanam), "--set", "x"]
    )
    assert bad_set.exit_code == 2
    proc = subprocess.run(
        [sys.executable, "-c", "from gis_planner.cli import main; main()", "import", "sites",
         str(tmp_path / "missing.csv"), "--store", str(hanam)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "file not found" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


def test_an_import_updates_by_key_and_replace_is_guarded(tmp_path: Path, hanam: Path) -> None:
    store = GeoPackageStore(hanam)
    before = store.read("sites")
    known = before.iloc[0]
    path = tmp_path / "sua.csv"
    path.write_text(
        "Mã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao cột;Loại cột\n"
        f"{known['site_id']};{known['operator']};105.91;20.54;33;Cột đơn thân\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", "sites", str(path), "--store", str(hanam)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "updating a row of the same key" in result.output
    after = store.read("sites")
    assert len(after) == len(before)
    row = after.set_index(["site_id", "operator"]).loc[(known["site_id"], known["operator"])]
    assert (row["height_m"], row["tower_type"]) == (33.0, "monopole")
    # Replacing the layer with this one row would leave the other sites' cells dangling.
    proc = subprocess.run(
        [sys.executable, "-c", "from gis_planner.cli import main; main()", "import", "sites",
         str(path), "--store", str(hanam), "--replace"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "not replaced, nothing written" in " ".join(proc.stderr.split())
    assert len(store.read("sites")) == len(before)
    # And a file with a rejected row never replaces the layer.
    whole = tmp_path / "whole.geojson"
    sites = store.read("sites")
    sites.loc[sites.index[0], "height_m"] = -5.0
    sites.to_file(whole, driver="GeoJSON")
    refused = subprocess.run(
        [sys.executable, "-c", "from gis_planner.cli import main; main()", "import", "sites",
         str(whole), "--store", str(hanam), "--replace"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 2 and "1 row(s) rejected" in " ".join(refused.stderr.split())
    pd.testing.assert_frame_equal(store.read("sites"), after)
