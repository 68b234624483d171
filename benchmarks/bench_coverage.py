"""Coverage speed: the whole province at 25 m, every operator and technology of the sample.

Target (issue 4): ≤ 10 s and ≤ 2 GiB on this 2-core machine. Printed: wall time, peak memory
(peak RSS of this process: the workers are threads), pixel × cell evaluations per second, and
the ratio against a naive whole-grid numpy baseline run in the same process: every cell evaluated on
every pixel of the grid with the library's public radio functions (no range culling, no
tables), timed on a subset of cells and scaled to all of them.
Run: ``python -m benchmarks.bench_coverage``.
"""

from __future__ import annotations

import os
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from benchmarks.harness import measure, peak_rss_mib, print_table, verdict
from gis_planner.admin import units
from gis_planner.coverage.analysis import analyse, study_grid
from gis_planner.coverage.engine import compute_scenes
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.scene import CoverageParams, Scene, build_scenes
from gis_planner.radio.antenna import sector_pattern
from gis_planner.radio.linkbudget import UE_HEIGHT_M
from gis_planner.radio.propagation import model_for
from gis_planner.sample import read_sample_layer, sample_files
from gis_planner.settings import get_settings

TARGET_S = 10.0
TARGET_MIB = 2048.0
RESOLUTION_M = 25.0
WORKERS = 2
BASELINE_CELLS = 6


def naive_seconds_per_cell(
    scene: Scene, cells: gpd.GeoDataFrame, environments: np.ndarray, grid: Grid
) -> float:
    """Seconds to evaluate one cell on every pixel of ``grid`` the plain numpy way."""
    xs, ys = grid.pixel_centres()
    px, py = np.meshgrid(xs, ys)
    best = np.full(grid.shape, -np.inf)
    second = np.full(grid.shape, -np.inf)
    power = np.zeros(grid.shape)
    start = time.perf_counter()
    for i in range(BASELINE_CELLS):
        cell = cells.iloc[i]
        dx, dy = px - scene.x_m[i], py - scene.y_m[i]
        dist = np.hypot(dx, dy)
        model = model_for(cell["band_mhz"], environments[i])
        loss = model.path_loss(dist, cell["band_mhz"], cell["height_m"], UE_HEIGHT_M).loss_db
        pattern = sector_pattern(0.0, cell["h_beamwidth_deg"], cell["v_beamwidth_deg"])
        gain = pattern.gain_towards_dbi(
            np.degrees(np.arctan2(dx, dy)),
            np.degrees(np.arctan2(cell["height_m"] - UE_HEIGHT_M, dist)),
            cell["azimuth_deg"], cell["mech_tilt_deg"], cell["elec_tilt_deg"],
        )  # fmt: skip
        rsrp = scene.ref_eirp_dbm[i] + gain - loss
        power += 10.0 ** (rsrp / 10.0)
        second = np.maximum(second, np.minimum(best, rsrp))
        best = np.maximum(best, rsrp)
    return (time.perf_counter() - start) / BASELINE_CELLS


def main() -> None:
    layers = {
        name: read_sample_layer(path)
        for name, path in sample_files(get_settings().sample_dir).items()
        if name in ("cells", "admin_units", "villages", "priority_areas")
    }
    cells, admin = layers["cells"], layers["admin_units"]
    assert isinstance(cells, gpd.GeoDataFrame) and isinstance(admin, gpd.GeoDataFrame)
    params = CoverageParams(resolution_m=RESOLUTION_M, workers=WORKERS)
    communes = units(admin, "commune")
    grid, mask = study_grid(admin, RESOLUTION_M)

    load_before = os.getloadavg()[0]
    # compile (or load the cached kernel) on a coarse grid first
    coarse = CoverageParams(resolution_m=1000.0, workers=1)
    compute_scenes(build_scenes(cells, communes, coarse)[:1], *study_grid(admin, 1000.0), coarse)

    scene_time, scenes = measure(lambda: build_scenes(cells, communes, params), repeat=1)
    # one run alone first: the peak of computing and holding every raster (threads share
    # memory), and the CPU time it took over all threads
    cpu_start = time.process_time()
    results = compute_scenes(scenes, grid, mask, params)
    cpu_s = time.process_time() - cpu_start
    engine_mib = peak_rss_mib()
    evaluations = sum(r.evaluations for r in results)
    del results
    villages, priority = layers["villages"], layers["priority_areas"]
    assert isinstance(villages, gpd.GeoDataFrame) and isinstance(priority, gpd.GeoDataFrame)
    total_start = time.perf_counter()
    run = analyse(cells, admin, villages, priority, params)
    total_s = time.perf_counter() - total_start
    analysis_mib = peak_rss_mib()
    population_4g = _share(run.areas, "4G")
    del run
    # timed repeats last: measure() holds one result while computing the next, which would
    # inflate the peaks above
    engine_time, _ = measure(lambda: compute_scenes(scenes, grid, mask, params), repeat=3, warmup=0)

    n_cells = sum(s.n_cells for s in scenes)
    pixels = int(mask.sum())
    viettel_4g = next(s for s in scenes if (s.operator, s.technology) == ("viettel", "4G"))
    ordered = cells[cells["status"] == "on-air"].sort_values("cell_id", ignore_index=True)
    ordered = ordered[(ordered["operator"] == "viettel") & (ordered["technology"] == "4G")]
    environments = np.full(len(ordered), "rural", dtype=object)
    per_cell_s = naive_seconds_per_cell(viettel_4g, ordered, environments, grid)
    naive_s = per_cell_s * n_cells
    naive_rate = grid.width * grid.height / per_cell_s

    print_table(
        f"Coverage, province at {RESOLUTION_M:g} m: {grid.width}×{grid.height} px "
        f"({pixels:,} in the province), {n_cells:,} on-air cells in {len(scenes)} "
        f"operator×technology layers, {WORKERS} worker threads; load average before the run "
        f"{load_before:.1f}",
        ("figure", "value", "note"),
        [
            ("scene preparation (tables, ranges)", f"{scene_time.median_s:.2f} s", ""),
            (
                "engine wall time (all rasters)",
                f"{engine_time.median_s:.2f} s",
                verdict(engine_time.median_s, TARGET_S)
                + f" (≤ {TARGET_S:g} s; median of 3, best {engine_time.best_s:.2f} s)",
            ),
            (
                "engine CPU time, all threads",
                f"{cpu_s:.2f} s",
                "summed over the worker threads",
            ),
            ("whole analysis (engine + statistics)", f"{total_s:.2f} s", ""),
            ("pixel × cell evaluations", f"{evaluations:,}", ""),
            (
                "evaluations per second (wall)",
                f"{evaluations / engine_time.median_s / 1e6:.1f} M/s",
                f"naive numpy: {naive_rate / 1e6:.1f} M/s",
            ),
            (
                "peak memory, engine (all rasters held)",
                f"{engine_mib:.0f} MiB",
                verdict(engine_mib, TARGET_MIB) + f" (≤ {TARGET_MIB:g} MiB, peak RSS)",
            ),
            ("peak memory, engine + statistics", f"{analysis_mib:.0f} MiB", "peak RSS"),
            (
                f"baseline: naive whole-grid numpy ({BASELINE_CELLS} cells timed, scaled)",
                f"{naive_s:.0f} s",
                f"engine is {naive_s / engine_time.median_s:.0f}× faster",
            ),
            ("4G any-operator population share", f"{population_4g:.1%}", ""),
        ],
    )


def _share(areas: pd.DataFrame, technology: str) -> float:
    row = areas[
        (areas["level"] == "province")
        & (areas["operator"] == "any")
        & (areas["technology"] == technology)
    ]
    return float(row["population_share"].iloc[0])


if __name__ == "__main__":
    main()
