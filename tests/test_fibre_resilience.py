"""Single points of failure: bridges, articulation points, redundancy and trunk rings."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from gis_planner.fibre.graph import FibreGraph, build_graph, nearest_vertices
from gis_planner.fibre.resilience import analyse, trunk_rings, vertex_weights
from tests.fibre_networks import nodes, points, routes

# A POP on a triangle ring (POP–A–B), and a spur B–C–D hanging off the ring.
RING_AND_SPUR = [
    ("R1", "vnpt", [(0, 0), (1000, 0)]),
    ("R2", "vnpt", [(1000, 0), (500, 800)]),
    ("R3", "vnpt", [(500, 800), (0, 0)]),
    ("S1", "vnpt", [(500, 800), (500, 1800)]),
    ("S2", "vnpt", [(500, 1800), (500, 2800)]),
]
POP = [("POP", "vnpt", "pop", (0, 0))]
# Villages at A (on the ring), at C and at D (on the spur).
VILLAGE_XY = [(1000, 0), (500, 1800), (500, 2800)]


def _spur() -> tuple[FibreGraph, np.ndarray]:
    graph = build_graph(routes(RING_AND_SPUR), nodes(POP))
    village_vertex, _ = nearest_vertices(graph, points(VILLAGE_XY))
    return graph, village_vertex


def test_bridge_cuts_the_villages_behind_it() -> None:
    graph, village_vertex = _spur()
    res = analyse(graph)
    route_of = res.graph.routes["route_id"].to_numpy()[res.graph.edge_route]
    assert sorted(route_of[res.bridges]) == ["S1", "S2"]
    s1 = int(res.bridges[route_of[res.bridges] == "S1"][0])
    s2 = int(res.bridges[route_of[res.bridges] == "S2"][0])
    cut = res.cut_by_bridge(s1)
    assert cut[village_vertex].tolist() == [False, True, True]
    assert res.cut_by_bridge(s2)[village_vertex].tolist() == [False, False, True]
    weights = np.column_stack([vertex_weights(res.graph.n_vertices, village_vertex)])
    losses = dict(zip(route_of[res.bridges], res.bridge_losses(weights)[:, 0], strict=True))
    assert losses == {"S1": 2, "S2": 1}


def test_articulation_points_and_what_they_cut() -> None:
    graph, village_vertex = _spur()
    res = analyse(graph)
    b = nearest_vertices(res.graph, points([(500, 800)]))[0][0]
    c = village_vertex[1]
    assert sorted(res.articulation_points.tolist()) == sorted([int(b), int(c)])
    assert res.cut_by_vertex(int(b))[village_vertex].tolist() == [False, True, True]
    weights = np.column_stack([vertex_weights(res.graph.n_vertices, village_vertex)])
    where, losses = res.vertex_losses(weights)
    assert dict(zip(where.tolist(), losses[:, 0].tolist(), strict=True)) == {
        int(b): 2.0, int(c): 1.0,
    }  # fmt: skip


def test_a_ring_has_no_bridge_and_everything_on_it_is_redundant() -> None:
    square = [
        ("R1", "vnpt", [(0, 0), (1000, 0)]),
        ("R2", "vnpt", [(1000, 0), (1000, 1000)]),
        ("R3", "vnpt", [(1000, 1000), (0, 1000)]),
        ("R4", "vnpt", [(0, 1000), (0, 0)]),
    ]
    res = analyse(build_graph(routes(square), nodes(POP)))
    assert len(res.bridges) == 0 and len(res.articulation_points) == 0
    assert res.redundant().all()


def test_redundancy_is_lost_behind_a_bridge_only() -> None:
    graph, village_vertex = _spur()
    res = analyse(graph)
    assert res.redundant()[village_vertex].tolist() == [True, False, False]


def test_a_doubled_link_of_two_distinct_cables_is_not_a_bridge() -> None:
    two_ways = [
        ("A", "vnpt", [(0, 0), (1000, 0)]),
        ("B", "vnpt", [(0, 0), (500, 300), (1000, 0)]),  # same ends, another path
    ]
    res = analyse(build_graph(routes(two_ways), nodes(POP)))
    assert len(res.bridges) == 0
    laid_twice = [("A", "vnpt", [(0, 0), (1000, 0)]), ("B", "vnpt", [(0, 0), (1000, 0)])]
    res = analyse(build_graph(routes(laid_twice), nodes(POP)))
    assert len(res.bridges) == 1


def test_failure_counts_ignore_a_part_with_its_own_pop() -> None:
    # The spur ends at a second POP, so no link or node of it cuts anyone off.
    graph = build_graph(routes(RING_AND_SPUR), nodes([*POP, ("POP2", "vnpt", "pop", (500, 2800))]))
    res = analyse(graph)
    village_vertex, _ = nearest_vertices(graph, points(VILLAGE_XY))
    weights = np.column_stack([vertex_weights(graph.n_vertices, village_vertex)])
    assert len(res.bridges) == 2
    assert res.bridge_losses(weights).sum() == 0
    assert res.vertex_losses(weights)[1].sum() == 0
    assert res.redundant()[village_vertex].all()


def test_a_village_served_by_two_networks_is_not_cut_by_either() -> None:
    graph, village_vertex = _spur()
    res = analyse(graph)
    # Item 0 hangs at D only; item 1 at D and at A (on the ring): the ring keeps it.
    group = np.array([0, 1, 1])
    attach = np.array([village_vertex[2], village_vertex[2], village_vertex[0]])
    effective = res.effective_vertices(group, attach, 2)
    assert res.redundant()[effective].tolist() == [False, True]


@pytest.mark.parametrize("seed", range(5))
def test_bridges_and_articulation_points_match_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    xy = rng.uniform(0, 5000, (n, 2))
    pairs = {tuple(sorted(p)) for p in rng.integers(0, n, (75, 2)).tolist() if p[0] != p[1]}
    rows = [(f"R{i}", "vnpt", [tuple(xy[a]), tuple(xy[b])]) for i, (a, b) in enumerate(pairs)]
    graph = build_graph(routes(rows), nodes([("POP", "vnpt", "pop", tuple(xy[0]))]), snap_m=0.5)
    res = analyse(graph)
    reference = nx.Graph()
    reference.add_edges_from(zip(graph.edge_u.tolist(), graph.edge_v.tolist(), strict=True))
    ours = {tuple(sorted((int(graph.edge_u[e]), int(graph.edge_v[e])))) for e in res.bridges}
    assert ours == {tuple(sorted(e)) for e in nx.bridges(reference)}
    assert set(res.articulation_points.tolist()) == set(nx.articulation_points(reference))


def test_trunk_rings_per_operator() -> None:
    trunk = routes(
        [
            ("T1", "vnpt", [(0, 0), (1000, 0)]),
            ("T2", "vnpt", [(1000, 0), (500, 800)]),
            ("T3", "vnpt", [(500, 800), (0, 0)]),
            ("T4", "vnpt", [(1000, 0), (2000, 0)]),
            ("F1", "fpt", [(0, 0), (0, 1000)]),
            ("F2", "fpt", [(0, 1000), (0, 2000)]),
        ],
        route_class="trunk",
    )
    graph = build_graph(trunk, nodes(POP))
    rings = trunk_rings(graph, "vnpt")
    assert len(rings) == 1 and len(rings[0]) == 3
    assert trunk_rings(graph, "fpt") == []
