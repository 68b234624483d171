"""Coverage with terrain against the flat run, in the same process.

Targets (issue 19): the sample's whole network at 25 m with a 30 m DEM over the former Hà Nam
in ≤ 60 s of engine time and ≤ 1 GiB; one transmitter over a 10 km radius at 30 m with
terrain in ≤ 0.5 s. Each figure is printed beside the flat run of the same cells and grid.

The DEM is synthetic (``gis_planner.coverage.synthetic``: no elevation data ships with the
sample), in the area's UTM zone at 30 m over the province and the cells' 10 km reach around it.

Run: ``python -m benchmarks.bench_terrain``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import peak_rss_mib, print_table, verdict
from gis_planner.admin import units
from gis_planner.coverage.analysis import default_area, study_grid
from gis_planner.coverage.engine import compute_coverage, stream_coverage
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.scene import CoverageParams, Scene, build_scene, build_scenes
from gis_planner.coverage.synthetic import synthetic_karst_dem
from gis_planner.coverage.terrain import TerrainInputs, open_terrain
from gis_planner.crs import metric_crs_of
from gis_planner.sample import read_sample_layer, sample_files
from gis_planner.settings import get_settings
from tests.test_coverage_engine import cell_rows

DEM_RESOLUTION_M = 30.0
NETWORK_RESOLUTION_M = 25.0
SINGLE_RESOLUTION_M = 30.0
SINGLE_RADIUS_M = 10_000.0
WORKERS = 2
TARGET_NETWORK_S = 60.0
TARGET_NETWORK_MIB = 1024.0
TARGET_SINGLE_S = 0.5
MARGIN_M = 12_000.0


def network_seconds(scenes: list[Scene], params: CoverageParams) -> tuple[float, int]:
    admin = read_sample_layer(sample_files(get_settings().sample_dir)["admin_units"])
    study = study_grid(default_area(admin), params.resolution_m, tile_px=params.tile_px)
    start = time.perf_counter()
    evaluations = 0
    for tile in stream_coverage(scenes, study.grid, study.window_masks(), params):
        evaluations += sum(part.evaluations for part in tile.rasters)
    return time.perf_counter() - start, evaluations


def single_transmitter(params: CoverageParams, centre: tuple[float, float], crs: str) -> float:
    """Seconds of one omni 900 MHz cell heard to 10 km, on a 20 km square at 30 m (best of 3)."""
    cells = cell_rows(
        {"technology": "2G", "band_mhz": 900.0, "bandwidth_mhz": 0.2, "h_beamwidth_deg": 360.0,
         "elec_tilt_deg": 0.0, "tx_power_dbm": 46.0, "height_m": 35.0},
    )  # fmt: skip
    x, y = centre
    env = np.full(1, "rural", dtype=object)
    scene = build_scene(cells, np.array([x]), np.array([y]), env, params, "viettel", "2G")
    assert scene.range_m[0] >= SINGLE_RADIUS_M - SINGLE_RESOLUTION_M, scene.range_m
    side = int(2 * SINGLE_RADIUS_M / SINGLE_RESOLUTION_M)
    grid = Grid(x - SINGLE_RADIUS_M, y + SINGLE_RADIUS_M, SINGLE_RESOLUTION_M, side, side, crs)
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        compute_coverage(scene, grid, params=params)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    load_before = os.getloadavg()
    files = sample_files(get_settings().sample_dir)
    admin = read_sample_layer(files["admin_units"])
    cells = read_sample_layer(files["cells"])
    area = default_area(admin)
    crs = metric_crs_of(area)
    x0, y0, x1, y1 = area.to_crs(crs).total_bounds
    bounds = (x0 - MARGIN_M, y0 - MARGIN_M, x1 + MARGIN_M, y1 + MARGIN_M)
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        dem = synthetic_karst_dem(
            Path(directory) / "hanam_dem_30m.tif", bounds, crs, resolution_m=DEM_RESOLUTION_M
        )
        dem_seconds = time.perf_counter() - start
        terrain: TerrainInputs = open_terrain(dem)
        flat = CoverageParams(resolution_m=NETWORK_RESOLUTION_M, workers=WORKERS)
        hilly = CoverageParams(resolution_m=NETWORK_RESOLUTION_M, workers=WORKERS, terrain=terrain)
        communes = units(admin, "commune")
        scenes = build_scenes(cells, communes, flat, crs=crs)
        # compile (or load) the kernels on one transmitter before anything is timed
        one = CoverageParams(resolution_m=SINGLE_RESOLUTION_M, margins_db=(("2G", 60.0),),
                             workers=WORKERS)  # fmt: skip
        one_terrain = CoverageParams(resolution_m=SINGLE_RESOLUTION_M, margins_db=(("2G", 60.0),),
                                     workers=WORKERS, terrain=terrain)  # fmt: skip
        # in the hills of the west, where the terrain matters
        centre = (x0 + 0.25 * (x1 - x0), (y0 + y1) / 2)
        single_flat = single_transmitter(one, centre, crs)
        single_hilly = single_transmitter(one_terrain, centre, crs)
        flat_s, flat_evaluations = network_seconds(scenes, flat)
        flat_mib = peak_rss_mib()
        hilly_s, hilly_evaluations = network_seconds(scenes, hilly)
        hilly_mib = peak_rss_mib()
    load_after = os.getloadavg()
    n_cells = sum(s.n_cells for s in scenes)
    print_table(
        f"Coverage with terrain (synthetic 30 m DEM of the former Hà Nam, {crs}), "
        f"{WORKERS} worker threads; load average (1, 5, 15 min) before "
        f"{', '.join(f'{x:.1f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.1f}' for x in load_after)}",
        ("figure", "value", "note"),
        [
            ("synthetic DEM written", f"{dem_seconds:.1f} s", "not part of any run"),
            (
                f"one transmitter, 10 km radius at {SINGLE_RESOLUTION_M:g} m, terrain",
                f"{single_hilly:.3f} s",
                verdict(single_hilly, TARGET_SINGLE_S) + f" (≤ {TARGET_SINGLE_S:g} s); "
                f"flat {single_flat:.3f} s, ratio {single_hilly / single_flat:.1f}×",
            ),
            (
                f"network ({n_cells:,} cells) at {NETWORK_RESOLUTION_M:g} m, terrain (engine)",
                f"{hilly_s:.1f} s",
                verdict(hilly_s, TARGET_NETWORK_S) + f" (≤ {TARGET_NETWORK_S:g} s); "
                f"flat {flat_s:.1f} s, ratio {hilly_s / flat_s:.1f}×",
            ),
            (
                "pixel × cell evaluations",
                f"{hilly_evaluations:,}",
                "flat: " + f"{flat_evaluations:,}",
            ),
            (
                "peak memory after the terrain run",
                f"{hilly_mib:.0f} MiB",
                verdict(hilly_mib, TARGET_NETWORK_MIB)
                + f" (≤ {TARGET_NETWORK_MIB:g} MiB); after the flat run {flat_mib:.0f} MiB",
            ),
        ],
    )


if __name__ == "__main__":
    main()
