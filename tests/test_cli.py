"""The gis-planner command line on the bundled sample."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gis_planner.cli import app

runner = CliRunner()


def test_init_layers_map(tmp_path: Path) -> None:
    store = tmp_path / "hanam.gpkg"
    result = runner.invoke(app, ["init", "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert store.exists()

    result = runner.invoke(app, ["layers", "--store", str(store)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "6 cấp huyện, 98 cấp xã" in out
    assert "1,091" in out
    for layer in (
        "admin_units",
        "villages",
        "sites",
        "cells",
        "fibre_routes",
        "fibre_nodes",
        "priority_areas",
    ):
        assert layer in out

    english = runner.invoke(
        app, ["layers", "--store", str(store), "--lang", "en"], env={"COLUMNS": "250"}
    )
    assert "6 district level, 98 commune level" in english.output

    html = tmp_path / "map.html"
    result = runner.invoke(app, ["map", "--store", str(store), "--out", str(html)])
    assert result.exit_code == 0, result.output
    assert html.stat().st_size > 100_000


def test_library_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gis_planner.cli import main; main()",
            "layers",
            "--store",
            str(tmp_path / "x.txt"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr and ".gpkg" in proc.stderr
    assert "Traceback" not in proc.stderr
