"""Positions and sharing ratios of a national network (issue 20, item 2).

Target: the positions, their province and commune, and the sharing ratios of 100,000 positions
(``gis_planner.sharing``: ``positions``, ``place_positions``, ``position_ratios``) ≤ 10 s.
Baseline in the same process: a GeoPandas spatial join within the tolerance, networkx
components, a spatial join into the communes and pandas groupbys. The network is the synthetic
national one (``benchmarks.national``), built here and never stored.
Run: ``python -m benchmarks.bench_national``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from benchmarks.harness import measure, peak_rss_mib, print_table, verdict
from benchmarks.national import (
    ADMIN_VERSION,
    commune_seeds,
    national_admin_units,
    national_network,
    provinces,
)
from gis_planner.coverage.analysis import StudyArea, study_grid
from gis_planner.coverage.engine import stream_coverage
from gis_planner.coverage.scene import CoverageParams, Scene, build_scenes
from gis_planner.crs import grown_bounds, metric_crs_of
from gis_planner.defaults import DEFAULT_POSITION_TOLERANCE_M
from gis_planner.distributed import Scheduler, tile_runner
from gis_planner.sharing import place_positions, position_ratios, positions

N_POSITIONS = 100_000
TARGET_S = 10.0
#: Hà Nội: the densest network of the country.
COVERAGE_PROVINCE = "01"
COVERAGE_RESOLUTION_M = 200.0


def ours(sites: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> pd.DataFrame:
    placed = place_positions(positions(sites), admin, ADMIN_VERSION)
    return position_ratios(placed, admin, admin_version=ADMIN_VERSION)


def baseline(sites: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> pd.Series:
    """Shared positions / positions by province, the plain way."""
    metric = sites.to_crs(metric_crs_of(sites))[["operator", "geometry"]]
    pairs = gpd.sjoin(metric, metric, predicate="dwithin", distance=DEFAULT_POSITION_TOLERANCE_M)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(metric)))
    graph.add_edges_from(zip(pairs.index, pairs["index_right"], strict=True))
    label = np.empty(len(metric), dtype=np.int64)
    for i, component in enumerate(nx.connected_components(graph)):
        label[list(component)] = i
    frame = pd.DataFrame({"position": label, "operator": metric["operator"].to_numpy()})
    grouped = frame.groupby("position")
    table = gpd.GeoDataFrame(
        {"shared": grouped["operator"].nunique() >= 2},
        geometry=gpd.GeoSeries(metric.geometry.to_numpy()).groupby(label).first().to_numpy(),
        crs=metric.crs,
    ).to_crs(admin.crs)
    communes = admin[admin["level"] == "commune"][["parent_code", "geometry"]]
    placed = gpd.sjoin(table, communes, predicate="within", how="left")
    placed = placed[~placed.index.duplicated()]
    return placed.groupby("parent_code")["shared"].mean()


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU time of this process (all its threads) running ``fn`` once."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def coverage_on(
    scheduler: str,
    scenes: list[Scene],
    study: StudyArea,
    params: CoverageParams,
) -> tuple[float, int, list[float]]:
    """Wall time, evaluations and a checksum per scene of the province's tiles on ``scheduler``."""
    start = time.perf_counter()
    evaluations, sums = 0, [0.0] * len(scenes)
    with tile_runner(Scheduler.parse(scheduler)) as runner:
        for tile in stream_coverage(scenes, study.grid, study.window_masks(), params, runner):
            for s, part in enumerate(tile.rasters):
                evaluations += part.evaluations
                sums[s] += float(part.best_rsrp_dbm.astype(np.float64).sum())
    return time.perf_counter() - start, evaluations, sums


def province_coverage(
    cells: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, code: str
) -> list[tuple[str, ...]]:
    """4G of every operator over one province at ``COVERAGE_RESOLUTION_M``, in-process on two
    threads and on a local cluster of two workers: the same tiles, the same sums."""
    area = admin[(admin["level"] == "province") & (admin["code"] == code)]
    params = CoverageParams(resolution_m=COVERAGE_RESOLUTION_M, workers=2)
    study = study_grid(area, params.resolution_m, tile_px=params.tile_px)
    # every cell within reach of the area, as the coverage job reads them
    west, south, east, north = (float(v) for v in area.total_bounds)
    west, south, east, north = grown_bounds((west, south, east, north), params.max_range_m)
    near = cells.cx[west:east, south:north]
    communes = admin[admin["level"] == "commune"]
    scenes = build_scenes(near, communes, params, technologies=["4G"], crs=study.grid.crs)
    rows: list[tuple[str, ...]] = []
    reference: list[float] | None = None
    for scheduler in ("in-process", "local:2"):
        load = os.getloadavg()[0]
        seconds, evaluations, sums = coverage_on(scheduler, scenes, study, params)
        reference = reference or sums
        rows.append(
            (
                f"4G of {len(scenes)} operators, province {area['name'].iloc[0]} "
                f"({study.pixels:,} px at {COVERAGE_RESOLUTION_M:g} m, {len(near):,} cells, "
                f"{evaluations / 1e6:.0f} M evaluations), {scheduler}",
                f"{seconds:.1f} s",
                f"load {load:.2f}",
                "same rasters" if sums == reference else "RASTERS DIFFER",
            )
        )
    return rows


def main() -> None:
    start = time.perf_counter()
    outlines, seeds = provinces(), commune_seeds()
    sites, cells = national_network(N_POSITIONS, outlines=outlines, seeds=seeds)
    admin = national_admin_units(outlines, seeds)
    built_s = time.perf_counter() - start
    load_before = os.getloadavg()
    timing, ratios = measure(lambda: ours(sites, admin), repeat=3)
    ours_cpu_s = cpu_seconds(lambda: ours(sites, admin))
    base, by_province = measure(lambda: baseline(sites, admin), repeat=1, warmup=0)
    base_cpu_s = cpu_seconds(lambda: baseline(sites, admin))
    load_after = os.getloadavg()

    province = ratios[ratios["scope"] == "province"].set_index("code")
    assert np.allclose(province["position_ratio"], by_province.reindex(province.index)), (
        "the baseline's ratios differ from ours"
    )
    n_positions = int(province["positions"].sum())
    shared = int(province["shared_positions"].sum())
    rows = [
        (
            f"positions + place + ratios of {len(sites):,} sites ({n_positions:,} positions, "
            f"{shared / n_positions:.1%} shared, {int(province['sites'].sum()):,} BTS, "
            f"{(province['sites_on_shared'].sum() / province['sites'].sum()):.1%} on shared)",
            f"{timing.median_s:.2f} s ({ours_cpu_s:.2f} s CPU)",
            verdict(timing.median_s, TARGET_S) + f" (≤ {TARGET_S:g} s)",
            f"{base.median_s / timing.median_s:.1f}× the sjoin + networkx baseline "
            f"({base.median_s:.1f} s; {base_cpu_s / ours_cpu_s:.1f}× in CPU, {base_cpu_s:.1f} s)",
        )
    ]
    # On a shared machine the wall time depends on the load; the CPU time of the process less.
    print_table("National sharing", ("operation", "wall time", "target", "baseline"), rows)
    spread = province["position_ratio"]
    print(
        f"network built in {built_s:.1f} s: {len(sites):,} sites, {len(cells):,} cells, "
        f"{len(province)} provinces (shared ratio {spread.min():.1%}–{spread.max():.1%}), "
        f"{int((admin['level'] == 'commune').sum()):,} communes"
    )
    print(
        "load average (1, 5, 15 min) before "
        + ", ".join(f"{v:.2f}" for v in load_before)
        + "; after "
        + ", ".join(f"{v:.2f}" for v in load_after)
        + f"; {os.cpu_count()} CPUs"
    )
    print_table(
        "Province coverage in-process and on a local Dask cluster (numba compiles in each "
        "worker on its first tiles)",
        ("run", "wall time", "load", "check"),
        province_coverage(cells, admin, COVERAGE_PROVINCE),
    )
    print(f"peak memory {peak_rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
