"""Backhaul paths checked by hand, and against networkx on random networks."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from gis_planner.fibre.backhaul import backhaul, backhaul_frames, shortest_paths
from gis_planner.fibre.graph import build_graph, operator_graphs
from tests.fibre_networks import X0, Y0, nodes, points, routes

# POP1 —1000 m— J —500 m— K (VNPT); POP2 (Viettel) —2000 m— J.
NETWORK = routes(
    [
        ("V1", "vnpt", [(0, 0), (1000, 0)]),
        ("V2", "vnpt", [(1000, 0), (1000, 500)]),
        ("T1", "viettel", [(3000, 0), (1000, 0)]),
    ]
)
SOURCES = nodes([("POP1", "vnpt", "pop", (0, 0)), ("POP2", "viettel", "olt", (3000, 0))])


def test_backhaul_lengths_by_hand() -> None:
    graph = build_graph(NETWORK, SOURCES)
    # A site 20 m beyond K, one 30 m off POP2, one 100 m south of J.
    result = backhaul(graph, points([(1000, 520), (3030, 0), (1000, -100)]))
    np.testing.assert_allclose(result.gap_m, [20, 30, 100])
    np.testing.assert_allclose(result.path_m, [1500, 0, 1000])
    assert result.source.tolist() == [
        graph.node_vertex[0],
        graph.node_vertex[1],
        graph.node_vertex[0],
    ]


def test_backhaul_over_all_fibre_and_over_own_fibre() -> None:
    graph = build_graph(NETWORK, SOURCES)
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "operator": ["viettel", "vnpt", "mobifone"]},
        geometry=points([(1000, 520), (1000, 520), (1000, 520)]).to_numpy(),
        crs=NETWORK.crs,
    )
    frame, paths = backhaul_frames(graph, sites)
    assert frame["path_m"].tolist() == [1500, 1500, 1500]
    assert frame["fibre_operators"].tolist() == ["vnpt"] * 3
    assert frame["pop_node_id"].tolist() == ["POP1"] * 3
    line = paths.set_index("site_id").geometry["S1"]
    np.testing.assert_allclose(
        shapely.get_coordinates(line), [[X0 + 1000, Y0 + 520], [X0 + 1000, Y0 + 500],
                                        [X0 + 1000, Y0], [X0, Y0]]
    )  # fmt: skip
    # Viettel's own fibre reaches J only: 500 m gap from the site, then 2000 m to its OLT.
    own = operator_graphs(NETWORK, SOURCES)
    viettel, viettel_path = backhaul_frames(own["viettel"], sites.iloc[:1])
    assert viettel["gap_m"].iloc[0] == pytest.approx(520)
    assert viettel["path_m"].iloc[0] == pytest.approx(2000)
    assert viettel["pop_node_id"].iloc[0] == "POP2"
    np.testing.assert_allclose(
        shapely.get_coordinates(viettel_path.geometry.iloc[0]),
        [[X0 + 1000, Y0 + 520], [X0 + 1000, Y0], [X0 + 3000, Y0]],
    )
    vnpt, _ = backhaul_frames(own["vnpt"], sites.iloc[1:2])
    assert vnpt["path_m"].iloc[0] == pytest.approx(1500)
    # MobiFone has no fibre here: nothing reached.
    mobifone, none = backhaul_frames(None, sites.iloc[2:])
    assert np.isnan(mobifone["path_m"].iloc[0]) and mobifone["pop_node_id"].isna().all()
    assert none.empty


def test_a_path_over_two_operators_names_both() -> None:
    graph = build_graph(NETWORK, nodes([("POP2", "viettel", "olt", (3000, 0))]))
    result = backhaul(graph, points([(1000, 500)]))
    assert result.path_m[0] == pytest.approx(2500)
    frame, _ = backhaul_frames(
        graph,
        gpd.GeoDataFrame({"site_id": ["S"], "operator": ["vnpt"]}, geometry=points([(1000, 500)])),
    )
    assert frame["fibre_operators"].iloc[0] == "viettel,vnpt"


def test_unreachable_sites_have_no_path() -> None:
    graph = build_graph(
        routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(5000, 0), (6000, 0)])]),
        nodes([("POP", "vnpt", "pop", (0, 0))]),
    )
    result = backhaul(graph, points([(6000, 10)]))
    assert np.isnan(result.path_m[0]) and result.source[0] == -1
    assert result.gap_m[0] == pytest.approx(10)


@pytest.mark.parametrize("seed", range(3))
def test_multi_source_dijkstra_matches_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    xy = rng.uniform(0, 8000, (n, 2))
    pairs = {tuple(sorted(p)) for p in rng.integers(0, n, (160, 2)).tolist() if p[0] != p[1]}
    rows = [(f"R{i}", "vnpt", [tuple(xy[a]), tuple(xy[b])]) for i, (a, b) in enumerate(pairs)]
    pops = [(f"P{i}", "vnpt", "pop", tuple(xy[i])) for i in range(3)]
    graph = build_graph(routes(rows), nodes(pops), snap_m=0.5)
    sources = graph.sources()
    ours = shortest_paths(graph, sources).dist_m
    reference = nx.Graph()
    for u, v, w in zip(graph.edge_u, graph.edge_v, graph.edge_length_m, strict=True):
        if not reference.has_edge(u, v) or reference[u][v]["weight"] > w:
            reference.add_edge(int(u), int(v), weight=float(w))
    expected = nx.multi_source_dijkstra_path_length(reference, set(sources.tolist()))
    for v, d in expected.items():
        assert ours[v] == pytest.approx(d)
    unreached = set(range(graph.n_vertices)) - set(expected)
    assert np.isinf(ours[list(unreached)]).all()
