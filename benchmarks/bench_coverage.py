"""Coverage speed and memory: the streamed engine against the whole grid held in memory.

Targets (issue 13): at 25 m over the sample the engine is no slower than holding the whole grid
and takes ≤ 10 s on this 2-core machine (≤ 20 s over the whole new Ninh Bình province, issue
16); the whole coverage run (engine, COGs, statistics) peaks at ≤ 800 MiB; a 4× larger area
peaks at ≤ 1.2× the memory of the 1× area.

Each figure comes from a process of its own (spawned), whose peak resident memory (ru_maxrss,
the worker threads included) is its own, so that runs do not inflate one another:

- engine, streamed: every window of the province computed and dropped (the kernel's work);
- engine, whole grid: the baseline, the same kernel over the same scenes with one tile covering
  the whole grid, every raster held in memory, as the engine did before it streamed;
- coverage run, 1× and 4×: ``analyse`` end to end, tiles streamed into the COGs and the sums.
  The 4× area is the sample laid out twice across and twice down (cells, communes, villages and
  priority areas translated by the province's extent, rounded to 1 km), a grid twice as wide
  and tall with four times the cells.

Run: ``python -m benchmarks.bench_coverage``; on the whole new Ninh Bình province (issue 16:
engine ≤ 20 s, run ≤ 800 MiB): ``GIS_PLANNER_SAMPLE=ninhbinh python -m benchmarks.bench_coverage``.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from benchmarks.harness import print_table, verdict
from gis_planner.admin import units
from gis_planner.coverage.analysis import analyse, default_area, study_grid
from gis_planner.coverage.engine import compute_coverage, stream_coverage
from gis_planner.coverage.scene import CoverageParams, build_scenes
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.sample import read_sample_layer, sample_files
from gis_planner.settings import get_settings

RESOLUTION_M = 25.0
WORKERS = 2
#: The engine's target by bundled sample: the former Hà Nam, the whole new province.
TARGET_ENGINE_S = {"hanam": 10.0, "ninhbinh": 20.0}
TARGET_MIB = 800.0
TARGET_AREA_RATIO = 1.2
LAYERS = ("cells", "admin_units", "villages", "priority_areas")
#: The code-like columns made unique in each copy of the 4× area.
CODES = ("cell_id", "code", "parent_code", "commune_code", "area_id")


@dataclass(frozen=True)
class Figures:
    seconds: float
    peak_mib: float
    pixels: int
    evaluations: int
    share_4g: float = float("nan")


def sample_layers(copies: int) -> dict[str, gpd.GeoDataFrame]:
    """The sample's layers, laid out ``copies`` × ``copies`` times side by side (1: as is)."""
    layers = {
        name: read_sample_layer(path)
        for name, path in sample_files(get_settings().sample_dir).items()
        if name in LAYERS
    }
    assert all(isinstance(frame, gpd.GeoDataFrame) for frame in layers.values())
    if copies == 1:
        return layers
    metric = metric_crs_of(layers["admin_units"])
    province = units(layers["admin_units"], "province").to_crs(metric)
    x0, y0, x1, y1 = province.total_bounds
    step_x, step_y = np.ceil((x1 - x0) / 1000) * 1000, np.ceil((y1 - y0) / 1000) * 1000
    out = {}
    for name, frame in layers.items():
        parts = []
        for i in range(copies):
            for j in range(copies):
                part = frame.to_crs(metric)
                part = part.set_geometry(part.geometry.translate(i * step_x, -j * step_y))
                part = part.to_crs(WGS84)
                for column in CODES:
                    if column in part and (i, j) != (0, 0):
                        part[column] = part[column].astype("string") + f"~{i}{j}"
                parts.append(part)
        out[name] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=WGS84)
    return out


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm_up(layers: dict[str, gpd.GeoDataFrame]) -> None:
    # load (or compile) the cached kernel on a coarse grid, so that no run times the compiler
    coarse = CoverageParams(resolution_m=2000.0)
    study = study_grid(default_area(layers["admin_units"]), coarse.resolution_m)
    scenes = build_scenes(layers["cells"], units(layers["admin_units"], "commune"), coarse)[:1]
    for _ in stream_coverage(scenes, study.grid, study.window_masks(), coarse):
        pass


def measure_case(case: str, copies: int) -> Figures:
    """One run, in the calling process (a fresh one): ``engine``, ``whole`` or ``run``."""
    layers = sample_layers(copies)
    cells, admin = layers["cells"], layers["admin_units"]
    params = CoverageParams(resolution_m=RESOLUTION_M, workers=WORKERS)
    _warm_up(layers)
    if case == "run":
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            run = analyse(
                cells, admin, layers["villages"], layers["priority_areas"], params,
                rasters_dir=Path(directory),
            )  # fmt: skip
            seconds = time.perf_counter() - start
        # the store's whole population: a store may hold several provinces (Ninh Bình's three
        # former ones)
        areas = run.areas
        provinces = areas[
            (areas["level"] == "province") & (areas["operator"] == "any")
            & (areas["technology"] == "4G")
        ]  # fmt: skip
        covered = (provinces["population_share"] * provinces["population"]).sum()
        share = float(covered / provinces["population"].sum())
        pixels = run.grid.width * run.grid.height
        return Figures(seconds, _peak_mib(), pixels, run.evaluations, share)
    study = study_grid(default_area(admin), RESOLUTION_M, tile_px=params.tile_px)
    scenes = build_scenes(cells, units(admin, "commune"), params)
    evaluations = 0
    start = time.perf_counter()
    if case == "engine":
        for tile in stream_coverage(scenes, study.grid, study.window_masks(), params):
            evaluations += sum(part.evaluations for part in tile.rasters)
    else:
        # the baseline: one tile over the whole grid, every scene's rasters held at once
        mask = study.grid.mask(study.area)
        whole = CoverageParams(resolution_m=RESOLUTION_M, tile_px=max(study.grid.shape))
        held = [compute_coverage(scene, study.grid, mask, whole) for scene in scenes]
        evaluations = sum(r.evaluations for r in held)
    seconds = time.perf_counter() - start
    return Figures(seconds, _peak_mib(), study.grid.width * study.grid.height, evaluations)


def in_child(case: str, copies: int) -> Figures:
    """``measure_case`` in a spawned process of its own: its peak memory is this run's alone."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(measure_case, (case, copies))


def main() -> None:
    load_before = os.getloadavg()
    engine = in_child("engine", 1)
    whole = in_child("whole", 1)
    run_1 = in_child("run", 1)
    run_4 = in_child("run", 2)
    load_after = os.getloadavg()
    area_ratio = run_4.peak_mib / run_1.peak_mib
    target_engine_s = TARGET_ENGINE_S.get(get_settings().sample_dir.name, 10.0)
    print_table(
        f"Coverage at {RESOLUTION_M:g} m, every operator and technology of the sample "
        f"{get_settings().sample_dir.name}, "
        f"{WORKERS} worker threads; load average (1, 5, 15 min) before "
        f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.1f}' for x in load_after)}",
        ("figure", "value", "note"),
        [
            (
                "engine, streamed (wall)",
                f"{engine.seconds:.2f} s",
                verdict(engine.seconds, target_engine_s) + f" (≤ {target_engine_s:g} s)",
            ),
            (
                "engine, whole grid in memory (wall)",
                f"{whole.seconds:.2f} s",
                f"streamed / whole = {engine.seconds / whole.seconds:.2f}",
            ),
            (
                "pixel × cell evaluations",
                f"{engine.evaluations:,}",
                "same in both" if engine.evaluations == whole.evaluations else "DIFFER",
            ),
            (
                "peak memory, engine streamed",
                f"{engine.peak_mib:.0f} MiB",
                verdict(engine.peak_mib, TARGET_MIB) + f" (≤ {TARGET_MIB:g} MiB; ru_maxrss)",
            ),
            (
                "peak memory, engine whole grid",
                f"{whole.peak_mib:.0f} MiB",
                f"streamed / whole = {engine.peak_mib / whole.peak_mib:.2f}",
            ),
            (
                f"coverage run 1× ({run_1.pixels:,} px): time",
                f"{run_1.seconds:.1f} s",
                "engine + COGs + statistics",
            ),
            (
                "coverage run 1×: peak memory",
                f"{run_1.peak_mib:.0f} MiB",
                verdict(run_1.peak_mib, TARGET_MIB) + f" (≤ {TARGET_MIB:g} MiB)",
            ),
            (
                f"coverage run 4× ({run_4.pixels:,} px): time",
                f"{run_4.seconds:.1f} s",
                f"{run_4.seconds / run_1.seconds:.1f}× the 1× run",
            ),
            (
                "coverage run 4×: peak memory",
                f"{run_4.peak_mib:.0f} MiB",
                verdict(area_ratio, TARGET_AREA_RATIO)
                + f": {area_ratio:.2f}× the 1× run (≤ {TARGET_AREA_RATIO:g}×)",
            ),
            ("4G any-operator population share, 1×", f"{run_1.share_4g:.1%}", ""),
        ],
    )


if __name__ == "__main__":
    main()
