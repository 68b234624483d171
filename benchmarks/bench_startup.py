"""Start-up of the command line, and what a one-transmitter coverage run spends outside its
computation.

Target (issue 22): ``gis-planner --help`` starts in ≤ 0.5 s on an idle machine. The floor is
``python -c "import typer"``, the least any typer command line costs. Each figure is the median
of the wall times of fresh processes, as a user meets them, with their CPU time (user + system)
beside: on a loaded machine a process also waits for a core, and its CPU time is nearer what it
takes on an idle one. The load average is printed with the figures.

The coverage run is ``gis-planner coverage`` at 100 m over a box around the one cell of a store
made from the bundled sample by keeping its first on-air 4G cell; its wall time is set against
the computation time its summary reports: the rest is start-up, reading and writing, of which
the time a fresh process takes to import the coverage job (and with it the numeric stack) is
shown apart.

Run: ``python -m benchmarks.bench_startup``.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import print_table, verdict

TARGET_S = 0.5
REPEATS = 5
COVERAGE_REPEATS = 3
RESOLUTION_M = 100.0
#: Half the side of the coverage run's box around the cell, in degrees (about 11 km).
HALF_BOX_DEG = 0.1
CLI = "from gis_planner.cli import main; main()"
#: The coverage summary's last line: "computed N pixel × cell evaluations in 26 ms; …".
COMPUTED = re.compile(r"evaluations in ([\d.,]+) (ms|s)\b")


@dataclass(frozen=True)
class Runs:
    """Fresh runs of one command: the wall time and the CPU time (user + system) of each, and
    the output of the last."""

    wall_s: list[float]
    cpu_s: list[float]
    output: str


def fresh_runs(args: Sequence[str], repeat: int) -> Runs:
    """``repeat`` runs of ``args``, each in a new process, after one unmeasured run that warms
    the file cache."""
    # Wide enough that no summary line is wrapped.
    env = {**os.environ, "COLUMNS": "400"}
    wall, cpu, output = [], [], ""
    for attempt in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if attempt:
            wall.append(elapsed)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        output = proc.stdout
    return Runs(wall, cpu, output)


def one_cell_store(folder: Path) -> tuple[Path, str]:
    """A store of the bundled sample holding only its first on-air 4G cell, and a box around
    the cell."""
    import geopandas as gpd

    from gis_planner.sample import load_sample
    from gis_planner.settings import get_settings
    from gis_planner.store import GeoPackageStore

    store = GeoPackageStore(folder / "one_cell.gpkg")
    load_sample(store, get_settings().sample_dir)
    cells = store.read("cells")
    assert isinstance(cells, gpd.GeoDataFrame)
    on_air_4g = cells[(cells["status"] == "on-air") & (cells["technology"] == "4G")]
    cell = on_air_4g.sort_values("cell_id").head(1)
    store.write("cells", cell)
    lon, lat = cell.geometry.iloc[0].x, cell.geometry.iloc[0].y
    d = HALF_BOX_DEG
    return store.path, f"{lon - d:.4f},{lat - d:.4f},{lon + d:.4f},{lat + d:.4f}"


def reported_s(output: str) -> float:
    """The computation time in the coverage summary, in seconds."""
    found = COMPUTED.search(output)
    assert found, output
    value = float(found[1].replace(",", ""))
    return value / 1000 if found[2] == "ms" else value


def main() -> None:
    load_before = os.getloadavg()
    python = sys.executable
    floor = fresh_runs([python, "-c", "import typer"], REPEATS)
    floor_s = statistics.median(floor.wall_s)
    rows: list[tuple[object, ...]] = [
        (
            'python -c "import typer" (floor)',
            f"{floor_s:.3f}",
            f"{min(floor.wall_s):.3f}",
            f"{statistics.median(floor.cpu_s):.3f}",
            "–",
        )
    ]
    for label, args in (
        ("gis-planner --help", ["--help"]),
        ("gis-planner --version", ["--version"]),
        ("gis-planner coverage --help", ["coverage", "--help"]),
    ):
        runs = fresh_runs([python, "-c", CLI, *args], REPEATS)
        median_s = statistics.median(runs.wall_s)
        rows.append(
            (
                label,
                f"{median_s:.3f}",
                f"{min(runs.wall_s):.3f}",
                f"{statistics.median(runs.cpu_s):.3f}",
                f"{median_s / floor_s:.1f}× floor; {verdict(median_s, TARGET_S)} ({TARGET_S} s)",
            )
        )
    print_table(
        f"Start-up of a fresh process (median of {REPEATS})",
        ("command", "wall s", "best wall s", "CPU s", "wall against"),
        rows,
    )

    with tempfile.TemporaryDirectory() as tmp:
        store, bbox = one_cell_store(Path(tmp))
        args = [python, "-c", CLI, "coverage", "--store", str(store),
                "--resolution-m", f"{RESOLUTION_M:g}", "--bbox", bbox,
                "--workers", "1", "--out", str(Path(tmp) / "tables")]  # fmt: skip
        runs = fresh_runs(args, COVERAGE_REPEATS)
    importing = fresh_runs([python, "-c", "import gis_planner.jobs.coverage"], COVERAGE_REPEATS)
    wall_s, computed_s = statistics.median(runs.wall_s), reported_s(runs.output)
    import_s = statistics.median(importing.wall_s)
    outside_s = wall_s - computed_s
    print_table(
        f"One-transmitter coverage run at {RESOLUTION_M:g} m (median of {COVERAGE_REPEATS})",
        ("figure", "seconds", "share of the wall time"),
        [
            ("wall time", f"{wall_s:.2f}", "100 %"),
            ("CPU time of the process", f"{statistics.median(runs.cpu_s):.2f}", ""),
            ("computed (reported)", f"{computed_s:.3f}", f"{computed_s / wall_s:.1%}"),
            ("start-up, reading and writing", f"{outside_s:.2f}", f"{outside_s / wall_s:.1%}"),
            ("  of which importing the job, alone", f"{import_s:.2f}", f"{import_s / wall_s:.1%}"),
        ],
    )
    load_after = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min) on {os.cpu_count()} cores: before "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after "
        + ", ".join(f"{x:.2f}" for x in load_after)
    )


if __name__ == "__main__":
    main()
