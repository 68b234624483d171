"""The command line starts light: importing it, its help and light commands load none of the
numeric stack, the store or the server (what they cost is measured by
``benchmarks/bench_startup.py``, never timed here)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from gis_planner import defaults
from gis_planner.cli import app

#: Packages the command line may import only inside the commands that use them. (pydantic is
#: not one: typer itself imports it to convert the values of options.)
HEAVY = (
    "pandas",
    "geopandas",
    "numpy",
    "shapely",
    "pyproj",
    "rasterio",
    "pyogrio",
    "numba",
    "scipy",
    "fastapi",
    "uvicorn",
    "pydantic_settings",
    "openpyxl",
    "gis_planner.store",
    "gis_planner.jobs",
)

runner = CliRunner()


def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group under ``group`` (a click group), as the arguments naming it."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if hasattr(command, "commands"):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


COMMANDS = command_paths(get_command(app))


@dataclass
class FreshRun:
    """What a fresh interpreter loaded: after importing the command line, and after running
    the invocations (each with its exit code and output)."""

    imported: list[str]
    results: list[tuple[list[str], int, str]]
    modules: list[str]


def run_fresh(*invocations: list[str]) -> FreshRun:
    script = textwrap.dedent(
        """
        import json, sys
        from typer.testing import CliRunner
        from gis_planner.cli import app
        imported = sorted(sys.modules)
        runner, results = CliRunner(), []
        for args in json.loads(sys.argv[1]):
            result = runner.invoke(app, args, env={"COLUMNS": "200"})
            results.append([args, result.exit_code, result.output])
        modules = sorted(sys.modules)
        print(json.dumps({"imported": imported, "results": results, "modules": modules}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(invocations)],
        capture_output=True,
        text=True,
        check=True,
    )
    return FreshRun(**json.loads(proc.stdout))


def heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_import_loads_nothing_heavy() -> None:
    assert heavy_in(run_fresh().imported) == []


def test_help_and_light_commands_load_nothing_heavy() -> None:
    invocations = [
        ["--help"],
        ["--version"],
        *([*path, "--help"] for path in COMMANDS),
        ["hash-key", "--role=admin"],
    ]
    found = run_fresh(*invocations)
    for args, code, output in found.results:
        assert code == 0, (args, output)
    assert heavy_in(found.modules) == []


def test_every_command_is_checked() -> None:
    names = {path[0] for path in COMMANDS}
    assert {"coverage", "fibre", "import", "serve", "hash-key", "tiles", "columns"} <= names
    assert ("tiles", "export") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_command_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def help_of(*path: str) -> str:
    """A command's help with its lines joined (help text is wrapped to the terminal)."""
    return " ".join(runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).output.split())


def test_help_shows_the_defaults() -> None:
    fibre = help_of("fibre")
    for value in (defaults.DEFAULT_DROP_M, defaults.DEFAULT_SNAP_M, defaults.DEFAULT_NEAR_MISS_M):
        assert f"[default: {value}]" in fibre
    sharing = help_of("sharing")
    assert f"[default: {defaults.DEFAULT_POSITION_TOLERANCE_M}]" in sharing
    assert f"[default: {defaults.DEFAULT_MERGE_DISTANCE_M}]" in sharing
    assert f"[default: {defaults.DEFAULT_OUTLINE_TOLERANCE_M}]" in help_of("import")
    assert f"[default: {defaults.VN2000_TM3_105}]" in help_of("candidates")
    assert f"[default: {defaults.VILLAGE_ADMIN_VERSION}]" in help_of("coverage")
    assert ", ".join(defaults.TEMPLATE_LAYERS) in help_of("template")


def test_version() -> None:
    from gis_planner import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == __version__
