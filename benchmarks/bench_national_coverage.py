"""National coverage on a local Dask cluster (issue 20): wall time, memory per worker, scaling.

Goals: every operator and technology of the synthetic national network
(``benchmarks.national``: about 100,000 positions and 700,000 cells over the 34 provinces) at
100 m on a local cluster of 2 workers, peak memory per worker ≤ 2 GiB, and the run on 2
workers ≥ 1.7× as fast as on 1. The same tiles run on 1 and on 2 workers of the same
process's clusters, in turn and ``--repeat`` times each (the scaling is that of the medians:
on a shared machine single runs were up to 16 % slower than the others, on 1 or 2
workers), their checksums compared (the rasters must not depend on the workers). The kernels
are compiled before the first run: a cold numba cache cost the first cluster 10 s, which would
have counted against the 1-worker run alone.
From the measured work per pixel the time at 25 m is estimated (16× the pixels) for clusters
of a few sizes: an estimate, said so.

Run: ``python -m benchmarks.bench_national_coverage [--provinces 01,79] [--resolution-m 100]
[--repeat 3]``
(a few provinces for a quick look; default the whole country).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.harness import peak_rss_mib, print_table, verdict
from benchmarks.national import commune_seeds, national_admin_units, national_network, provinces
from gis_planner.coverage.analysis import StudyArea, study_grid
from gis_planner.coverage.engine import TileTask, run_packed, stream_coverage
from gis_planner.coverage.scene import CoverageParams, Scene, build_scenes
from gis_planner.crs import grown_bounds
from gis_planner.distributed import Scheduler, tile_runner

MEMORY_GOAL_MIB = 2048.0
SCALING_GOAL = 1.7


@dataclass(frozen=True)
class Run:
    seconds: float
    evaluations: int
    checksums: tuple[float, ...]
    worker_peak_mib: tuple[float, ...]
    #: CPU seconds the workers spent (their start and numba's compilation included).
    worker_cpu_s: float
    #: CPU seconds this process spent meanwhile: the client, and the local cluster's scheduler.
    client_cpu_s: float


def _worker_peak_mib() -> float:
    """This worker's own peak resident memory. Not ``ru_maxrss``: on Linux a process started by
    fork and exec keeps its parent's high-water mark there, and every worker reported the
    benchmark process's peak (3,713 MiB each, the scenes of the whole country included)."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def on_cluster(workers: int, scenes: list[Scene], study: StudyArea, params: CoverageParams) -> Run:
    """The tiles of ``study`` on a local cluster of ``workers`` worker processes."""
    from distributed import default_client

    start, client_start = time.perf_counter(), time.process_time()
    evaluations, sums = 0, np.zeros(len(scenes))
    with tile_runner(Scheduler.parse(f"local:{workers}")) as runner:
        tiles = stream_coverage(scenes, study.grid, study.window_masks(), params, runner)
        for tile in tiles:
            if not tile.mask.any():
                continue  # sea or a neighbour's land: nodata, 82 % of the windows at 100 m
            for s, part in enumerate(tile.rasters):
                evaluations += part.evaluations
                sums[s] += float(np.sum(part.best_rsrp_dbm, dtype=np.float64))
        seconds = time.perf_counter() - start
        client = default_client()
        peaks = tuple(sorted(client.run(_worker_peak_mib).values()))
        cpu_s = sum(client.run(time.process_time).values())
    client_cpu_s = time.process_time() - client_start
    return Run(seconds, evaluations, tuple(sums), peaks, cpu_s, client_cpu_s)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provinces", default="", help="province codes, comma-separated")
    parser.add_argument("--resolution-m", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs on 1 and on 2 workers each")
    args = parser.parse_args()

    built = time.perf_counter()
    outlines, seeds = provinces(), commune_seeds()
    _, cells = national_network(outlines=outlines, seeds=seeds)
    admin = national_admin_units(outlines, seeds)
    wanted = [c for c in args.provinces.split(",") if c]
    area = admin[admin["level"] == "province"]
    if wanted:
        area = area[area["code"].isin(wanted)]
    params = CoverageParams(resolution_m=args.resolution_m)
    study = study_grid(area, params.resolution_m, tile_px=params.tile_px)
    # every cell within reach of the area, as the coverage job reads them
    west, south, east, north = (float(v) for v in area.total_bounds)
    west, south, east, north = grown_bounds((west, south, east, north), params.max_range_m)
    near = cells.cx[west:east, south:north]
    communes = admin[admin["level"] == "commune"]
    scenes = build_scenes(near, communes, params, crs=study.grid.crs)
    built_s = time.perf_counter() - built
    print(
        f"{len(area)} provinces, {study.pixels:,} px at {args.resolution_m:g} m "
        f"({study.grid.crs}), {len(near):,} cells in {len(scenes)} operator × technology "
        f"scenes; network and scenes built in {built_s:.0f} s; load "
        + ", ".join(f"{v:.2f}" for v in os.getloadavg())
        + f"; {os.cpu_count()} CPUs"
    )
    # numba's cache written here, loaded by every worker
    window, mask = next((w, m) for w, m in study.window_masks() if m.any())
    run_packed(TileTask(tuple(scenes), study.grid, window, mask))
    runs: dict[int, list[Run]] = {1: [], 2: []}
    for _ in range(max(args.repeat, 1)):
        for workers, done in runs.items():
            done.append(on_cluster(workers, scenes, study, params))
    one = statistics.median(run.seconds for run in runs[1])
    two = statistics.median(run.seconds for run in runs[2])
    scaling = one / two
    worst_mib = max(max(run.worker_peak_mib) for run in runs[2])
    rows = [
        (
            f"{n} worker{'s' if n > 1 else ''}",
            f"{run.seconds:.1f} s",
            f"{run.worker_cpu_s:.0f} s",
            f"{run.client_cpu_s:.0f} s",
            f"{run.evaluations / 1e9:.2f} G",
            ", ".join(f"{m:,.0f}" for m in run.worker_peak_mib),
        )
        for n, done in runs.items()
        for run in done
    ]
    print_table(
        "National coverage on a local Dask cluster (numba's cache warm)",
        (
            "run",
            "wall",
            "workers' CPU",
            "client's and scheduler's CPU",
            "pixel × cell evaluations",
            "peak memory per worker (MiB)",
        ),
        rows,
    )
    checksums = {run.checksums for done in runs.values() for run in done}
    same = len(checksums) == 1
    print(
        f"median {one:.1f} s on 1 worker, {two:.1f} s on 2: "
        f"scaling 1 → 2 workers {scaling:.2f}×: {verdict(SCALING_GOAL, scaling)} (≥ "
        f"{SCALING_GOAL:g}×); worker peak {worst_mib:,.0f} MiB: "
        f"{verdict(worst_mib, MEMORY_GOAL_MIB)} (≤ {MEMORY_GOAL_MIB:,.0f} MiB); rasters "
        + ("the same in every run" if same else "DIFFER between runs")
    )
    # 25 m holds 16× the pixels of 100 m, and each pixel sees the same cells: 16× the work.
    # The one worker's CPU time, not its wall time: on a shared machine it waits for a core.
    core_s = statistics.median(run.worker_cpu_s for run in runs[1])
    factor = (args.resolution_m / 25.0) ** 2
    estimates = ", ".join(
        f"{machines} × {cores} cores ≈ {_duration(core_s * factor / (machines * cores * 0.9))}"
        for machines, cores in ((1, 2), (4, 16), (16, 16))
    )
    print(
        f"estimate at 25 m ({factor:g}× the pixels), from {core_s:.0f} core-seconds here at "
        f"{args.resolution_m:g} m and 90 % parallel efficiency: {estimates}"
    )
    print(f"peak memory of this process {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
