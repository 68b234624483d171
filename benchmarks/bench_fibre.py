"""Fibre network speed on a national-scale synthetic network of 100,000 routes.

Targets (issue 6): graph built ≤ 5 s, backhaul for 150,000 sites ≤ 3 s, bridges ≤ 2 s.
Baselines in the same process, on the same data: a networkx graph built route by route (ends
keyed by coordinates rounded to the snap tolerance), ``networkx.bridges`` and
``networkx.multi_source_dijkstra_path_length``.
Run: ``python -m benchmarks.bench_fibre``.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import shapely

from benchmarks.harness import measure, peak_rss_mib, print_table, verdict
from benchmarks.synthetic import national_fibre, national_sites
from gis_planner.fibre.backhaul import backhaul
from gis_planner.fibre.graph import DEFAULT_SNAP_M, FibreGraph, build_graph
from gis_planner.fibre.resilience import analyse

N_EDGES = 100_000
N_SITES = 150_000
BUILD_TARGET_S, BACKHAUL_TARGET_S, BRIDGES_TARGET_S = 5.0, 3.0, 2.0


def _networkx_build(routes_utm: np.ndarray) -> nx.Graph:
    """The usual way: walk the routes, key each end by its coordinates on a snap-sized grid."""
    graph = nx.Graph()
    for line in routes_utm:
        coords = shapely.get_coordinates(line)
        a = tuple(np.round(coords[0] / DEFAULT_SNAP_M).astype(int).tolist())
        b = tuple(np.round(coords[-1] / DEFAULT_SNAP_M).astype(int).tolist())
        graph.add_edge(a, b, length_m=line.length)
    return graph


def _networkx_graph(graph: FibreGraph) -> nx.Graph:
    reference = nx.Graph()
    reference.add_weighted_edges_from(
        zip(graph.edge_u.tolist(), graph.edge_v.tolist(), graph.edge_length_m.tolist(),
            strict=True)
    )  # fmt: skip
    return reference


def main() -> None:
    routes, nodes = national_fibre(N_EDGES)
    sites = national_sites(N_SITES)
    build, graph = measure(lambda: build_graph(routes, nodes), repeat=3)
    haul, result = measure(lambda: backhaul(graph, sites.geometry), repeat=3)
    bridges, res = measure(lambda: analyse(graph), repeat=5)
    reached = np.isfinite(result.path_m).mean()

    lines = routes.geometry.to_crs(graph.crs).to_numpy()
    base_build, _ = measure(lambda: _networkx_build(lines), repeat=1, warmup=0)
    reference = _networkx_graph(res.graph)
    base_bridges, nx_bridges = measure(lambda: list(nx.bridges(reference)), repeat=1, warmup=0)
    sources = set(graph.sources().tolist())
    base_paths, _ = measure(
        lambda: nx.multi_source_dijkstra_path_length(reference, sources, weight="weight"),
        repeat=1,
        warmup=0,
    )
    assert len(nx_bridges) == len(res.bridges), "bridges differ from networkx"

    print_table(
        f"National-scale synthetic fibre: {graph.n_edges:,} edges, {graph.n_vertices:,} "
        f"vertices, {N_SITES:,} sites (median of repeats)",
        ("operation", "seconds", "target", "networkx s", "ratio"),
        [
            ("graph build (snap, T-junctions, duplicates)", f"{build.median_s:.3f}",
             f"{verdict(build.median_s, BUILD_TARGET_S)} (≤ {BUILD_TARGET_S:g} s)",
             f"{base_build.median_s:.3f}", f"{base_build.median_s / build.median_s:.1f}×"),
            ("backhaul of every site (nearest vertex, Dijkstra, operators)",
             f"{haul.median_s:.3f}",
             f"{verdict(haul.median_s, BACKHAUL_TARGET_S)} (≤ {BACKHAUL_TARGET_S:g} s)",
             f"{base_paths.median_s:.3f}", f"{base_paths.median_s / haul.median_s:.1f}×"),
            ("bridges + articulation points (Tarjan)", f"{bridges.median_s:.3f}",
             f"{verdict(bridges.median_s, BRIDGES_TARGET_S)} (≤ {BRIDGES_TARGET_S:g} s)",
             f"{base_bridges.median_s:.3f}",
             f"{base_bridges.median_s / bridges.median_s:.1f}×"),
        ],
    )  # fmt: skip
    print(
        f"\n{len(res.bridges):,} bridges, {len(res.articulation_points):,} articulation points; "
        f"{reached:.1%} of sites reach a POP/OLT; peak memory {peak_rss_mib():,.0f} MiB.\n"
        "networkx columns: route-by-route graph build; multi_source_dijkstra_path_length "
        "alone (no nearest vertex, no path operators); bridges alone (no articulation points)."
    )


if __name__ == "__main__":
    main()
