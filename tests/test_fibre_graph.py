"""The fibre graph: snapping, T-junctions, crossings, duplicates, topology problems."""

from __future__ import annotations

import numpy as np
import pytest

from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.graph import build_graph
from gis_planner.fibre.topology import topology_problems
from tests.fibre_networks import X0, Y0, nodes, routes


def test_ends_within_tolerance_snap_onto_the_node() -> None:
    r = routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(1003, 0), (1003, 800)])])
    n = nodes([("POP", "vnpt", "pop", (0, 0)), ("ODF", "vnpt", "odf", (1001, 1))])
    graph = build_graph(r, n, snap_m=5)
    assert graph.n_vertices == 3 and graph.n_edges == 2
    joint = graph.node_vertex[1]
    assert set(graph.route_ends[:, 1]) | set(graph.route_ends[:, 0]) >= {joint}
    # The vertex stands on the node, not between the route ends.
    np.testing.assert_allclose(graph.vertex_xy[joint], [X0 + 1001, Y0 + 1])
    np.testing.assert_allclose(sorted(graph.edge_length_m), [800, 1000])
    loose = build_graph(r, n, snap_m=1)
    assert loose.n_vertices == 5


def test_graph_is_the_same_whatever_the_input_crs() -> None:
    r = routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(1002, 0), (1002, 500)])])
    n = nodes([("POP", "vnpt", "pop", (0, 0))])
    metric, geographic = build_graph(r, n), build_graph(r.to_crs(WGS84), n.to_crs(WGS84))
    assert geographic.n_vertices == metric.n_vertices == 3
    np.testing.assert_allclose(geographic.edge_length_m, metric.edge_length_m, atol=0.01)


def test_an_end_on_another_route_splits_it_but_a_crossing_does_not() -> None:
    tee = routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(400, 3), (400, 600)])])
    graph = build_graph(tee, nodes([]), snap_m=5)
    assert graph.n_edges == 3 and graph.n_vertices == 4
    pieces = np.sort(graph.edge_length_m[graph.edge_route == 0])
    np.testing.assert_allclose(pieces, [400, 600], atol=0.01)
    assert graph.degree().max() == 3

    cross = routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(400, -300), (400, 600)])])
    crossing = build_graph(cross, nodes([]), snap_m=5)
    assert crossing.n_edges == 2 and crossing.n_vertices == 4


def test_a_node_on_a_route_splits_it() -> None:
    r = routes([("A", "vnpt", [(0, 0), (1000, 0)])])
    n = nodes([("SPL", "vnpt", "splitter", (250, 2))])
    graph = build_graph(r, n)
    assert graph.n_edges == 2
    assert graph.degree()[graph.node_vertex[0]] == 2


def test_per_operator_graph_keeps_vertex_ids() -> None:
    r = routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "viettel", [(1000, 0), (1000, 500)])])
    graph = build_graph(r, nodes([]))
    vnpt = graph.for_operator("vnpt")
    assert vnpt.n_vertices == graph.n_vertices and vnpt.n_edges == 1
    assert list(vnpt.edge_operator) == ["vnpt"]
    nxg = graph.to_networkx()
    assert nxg.number_of_edges() == 2
    assert {d["operator"] for *_, d in nxg.edges(data=True)} == {"vnpt", "viettel"}


def test_topology_problems_of_each_kind() -> None:
    r = routes(
        [
            ("A", "vnpt", [(0, 0), (1000, 0)]),
            ("B", "vnpt", [(1003, 0), (1003, 800)]),  # 3 m from A's end: both meet halfway
            ("C", "vnpt", [(0, 0), (-500, 0)]),
            ("D", "vnpt", [(-515, 0), (-515, 700)]),  # stops 15 m short of C: near-miss
            ("E", "vnpt", [(1003, 800), (2000, 800)]),  # ends nowhere: dangling
            ("F", "vnpt", [(1003, 800), (2000, 800)]),  # E laid twice
        ]
    )
    n = nodes([("POP", "vnpt", "pop", (0, 0)), ("LONE", "vnpt", "splitter", (5000, 5000))])
    problems = topology_problems(build_graph(r, n), near_miss_m=25)
    kinds = problems.groupby("problem_type")["feature_id"].agg(sorted).to_dict()
    assert kinds["snapped_end"] == ["A", "B"]
    snapped = problems[problems["problem_type"] == "snapped_end"]
    assert snapped["dist_m"].tolist() == [1.5, 1.5]
    # The two loose ends of the gap point at each other.
    near = problems[problems["problem_type"] == "near_miss"].set_index("feature_id")
    assert near["other_id"].to_dict() == {"C": "D", "D": "C"}
    np.testing.assert_allclose(near["dist_m"], 15, atol=0.1)
    assert kinds["dangling_end"] == ["D", "E"]  # D's far end; E's (its copy F is not counted)
    assert kinds["isolated_node"] == ["LONE"]
    assert kinds["duplicate_route"] == ["F"]
    assert problems["problem_id"].is_unique


def test_duplicates_are_ignored_by_resilience_but_kept_in_the_graph() -> None:
    r = routes([("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(0, 0), (1000, 1)])])
    graph = build_graph(r, nodes([]))
    assert graph.n_edges == 2
    assert graph.edge_duplicate.tolist() == [False, True]
    assert graph.route_duplicate_of.tolist() == [-1, 0]


def test_bad_input_raises_clear_errors() -> None:
    with pytest.raises(GisPlannerError, match="snap tolerance"):
        build_graph(routes([]), nodes([]), snap_m=-1)
    with pytest.raises(GisPlannerError, match="no fibre routes or nodes"):
        build_graph(routes([]), nodes([]))
    r = routes([("A", "vnpt", [(0, 0), (10, 0)])]).set_crs(None, allow_override=True)
    with pytest.raises(GisPlannerError, match=r"fibre_routes.*no CRS"):
        build_graph(r, nodes([]))
