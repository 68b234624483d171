"""Extensions: the shortest set of new links that brings fibre to the villages without it.

With no corridor layer, links are straight: a greedy Steiner heuristic grows the extension from
the network, each step adding the village nearest to the network *or to any link already added*
(its interior included, which is where the saving over a minimum spanning tree comes from). With
a corridor layer (roads, existing ducts), links follow it: a Steiner tree approximation
(networkx, Mehlhorn) over the corridor graph, the network acting as one terminal; each village
drops straight to the nearest point of a corridor.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from gis_planner.admin import locate
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.graph import DEFAULT_SNAP_M, FloatArray, IntArray
from gis_planner.sharing import cluster_points

#: Name of the terminal standing for the whole existing network in the corridor graph.
NETWORK = "network"
#: A corridor joins the network where it passes this close to it (else a link would leave the
#: corridor to cut across country, which is what the corridor is there to prevent).
CORRIDOR_JOIN_M = 50.0


@dataclass(frozen=True)
class Terminals:
    """Gap villages as points with the nearest point of the network and its distance, in
    metres of the metric CRS ``crs``."""

    xy: FloatArray
    network_xy: FloatArray
    network_dist_m: FloatArray
    crs: str


def terminals(
    villages: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, *, metric_crs: str | None = None
) -> Terminals:
    """Each village's representative point and the nearest point of ``routes`` to it, in
    ``metric_crs`` (default: the villages' area's)."""
    if routes.empty:
        raise GisPlannerError("no fibre routes to extend from")
    crs = metric_crs or metric_crs_of(villages)
    points = villages.geometry.to_crs(crs).representative_point().to_numpy()
    lines = routes.geometry.to_crs(crs).to_numpy()
    idx = shapely.STRtree(lines).query_nearest(points, all_matches=False)
    links = np.empty(len(points), dtype=object)
    links[idx[0]] = shapely.shortest_line(points[idx[0]], lines[idx[1]])
    far_end = shapely.get_coordinates(shapely.get_point(links, -1))
    return Terminals(shapely.get_coordinates(points), far_end, shapely.length(links), crs)


def straight_mst_m(t: Terminals) -> float:
    """Length of the minimum spanning tree of straight links among the villages and the network
    (the network is one vertex, reached at each village's nearest point)."""
    k = len(t.xy)
    weights = np.zeros((k + 1, k + 1))
    weights[:k, :k] = cdist(t.xy, t.xy)
    weights[:k, k] = weights[k, :k] = t.network_dist_m
    # scipy reads a zero weight as "no edge", which is right: a village on the network needs
    # no link.
    return float(minimum_spanning_tree(weights).sum())


def _segment_distance(p: FloatArray, a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distance from each point of ``p`` to segment a–b and the nearest point on it."""
    ab = b - a
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    q = a + t[:, None] * ab
    return np.hypot(*(p - q).T), q


def straight_links(t: Terminals) -> tuple[IntArray, FloatArray, FloatArray]:
    """Greedy Steiner links: (order of villages, start xy, end xy); link i starts at village
    ``order[i]`` and ends on the network or on an earlier link."""
    k = len(t.xy)
    dist = t.network_dist_m.copy()
    attach = t.network_xy.copy()
    done = np.zeros(k, dtype=bool)
    order = np.empty(k, dtype=np.int64)
    ends = np.empty((k, 2))
    for step in range(k):
        i = int(np.argmin(np.where(done, np.inf, dist)))
        order[step], ends[step] = i, attach[i]
        done[i] = True
        d, q = _segment_distance(t.xy, t.xy[i], attach[i])
        better = (d < dist) & ~done
        dist[better], attach[better] = d[better], q[better]
    return order, t.xy[order], ends


def _corridor_graph(
    corridors: gpd.GeoDataFrame, stops: FloatArray, snap_m: float, crs: str
) -> tuple[nx.Graph, FloatArray, IntArray]:
    """Corridor lines as a graph weighted by length in metres of ``crs``, each ``stops`` point
    (in ``crs``) projected onto its nearest corridor segment and splitting it there.

    Returns the graph (vertices 0..n-1), vertex coordinates and the vertex of each stop's foot.
    """
    lines = corridors.geometry.to_crs(crs).to_numpy()
    coords, part = shapely.get_coordinates(lines, return_index=True)
    first = np.flatnonzero(part[1:] == part[:-1])
    segments = shapely.linestrings(np.stack([coords[first], coords[first + 1]], axis=1))
    stop_points = shapely.points(stops)
    idx = shapely.STRtree(segments).query_nearest(stop_points, all_matches=False)
    segment_of_stop = np.empty(len(stops), dtype=np.int64)
    segment_of_stop[idx[0]] = idx[1]
    t = shapely.line_locate_point(segments[segment_of_stop], stop_points, normalized=True)
    feet = shapely.get_coordinates(
        shapely.line_interpolate_point(segments[segment_of_stop], t, normalized=True)
    )
    n_seg = len(segments)
    seg = np.concatenate([np.arange(n_seg), np.arange(n_seg), segment_of_stop])
    pos = np.concatenate([np.zeros(n_seg), np.ones(n_seg), t])
    xy = np.concatenate([coords[first], coords[first + 1], feet])
    labels = cluster_points(xy, snap_m)
    counts = np.bincount(labels)
    vertex_xy = np.column_stack([np.bincount(labels, weights=xy[:, i]) / counts for i in (0, 1)])
    order = np.lexsort((pos, seg))
    step = order[:-1][seg[order][1:] == seg[order][:-1]]
    after = order[1:][seg[order][1:] == seg[order][:-1]]
    u, v = labels[step], labels[after]
    length = np.hypot(*(xy[after] - xy[step]).T)
    keep = u != v
    graph = nx.Graph()
    graph.add_nodes_from(range(len(vertex_xy)))
    graph.add_weighted_edges_from(
        zip(u[keep].tolist(), v[keep].tolist(), length[keep].tolist(), strict=True)
    )
    return graph, vertex_xy, labels[2 * n_seg :]


def corridor_links(
    t: Terminals,
    corridors: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    snap_m: float = DEFAULT_SNAP_M,
) -> list[shapely.LineString]:
    """Steiner tree links over the corridors: village → corridor, along it, corridor → network.

    A village whose nearest corridor never comes within ``CORRIDOR_JOIN_M`` of the network
    gets a straight link instead (there is no corridor to follow).
    """
    if corridors.empty:
        raise GisPlannerError("the corridor layer has no lines")
    graph, xy, foot = _corridor_graph(corridors, t.xy, snap_m, t.crs)
    network = shapely.union_all(routes.geometry.to_crs(t.crs).to_numpy())
    vertices = np.arange(len(xy))
    to_network = shapely.distance(shapely.points(xy), network)
    geometry: dict[tuple[object, object], shapely.LineString] = {}
    joins = to_network <= CORRIDOR_JOIN_M
    for v, d in zip(vertices[joins].tolist(), to_network[joins].tolist(), strict=True):
        graph.add_edge(v, NETWORK, weight=d)
        geometry[(v, NETWORK)] = shapely.shortest_line(shapely.Point(xy[v]), network)
    reachable = nx.node_connected_component(graph, NETWORK) if graph.has_node(NETWORK) else set()
    names = []
    for i, c in enumerate(foot.tolist()):
        name = f"village:{i}"
        names.append(name)
        graph.add_edge(name, c, weight=float(np.hypot(*(t.xy[i] - xy[c]))))
        geometry[(name, c)] = shapely.LineString([t.xy[i], xy[c]])
        if c not in reachable:
            graph.add_edge(name, NETWORK, weight=float(t.network_dist_m[i]))
            geometry[(name, NETWORK)] = shapely.LineString([t.xy[i], t.network_xy[i]])
    steiner = nx.algorithms.approximation.steiner_tree(
        graph, [*names, NETWORK], weight="weight", method="mehlhorn"
    )
    links = []
    for a, b in steiner.edges:
        line = geometry.get((a, b)) or geometry.get((b, a)) or shapely.LineString([xy[a], xy[b]])
        if line.length > 0:
            links.append(line)
    return links


def extension_links(
    gap_villages: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame | None = None,
    snap_m: float = DEFAULT_SNAP_M,
    *,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """The extension as a layer of links in ``metric_crs`` (default: the gap villages' area's):
    kind, village served (straight links), length and the commune the link's midpoint lies in.
    """
    if gap_villages.empty:
        # No villages, no area to take a metric CRS from: an empty layer needs none.
        return gpd.GeoDataFrame(
            columns=["link_id", "kind", "village_code", "length_m", "commune_code"],
            geometry=[],
            crs=metric_crs or WGS84,
        )
    t = terminals(gap_villages, routes, metric_crs=metric_crs)
    codes = gap_villages["code"].to_numpy(dtype=object)
    if corridors is None or corridors.empty:
        order, start, end = straight_links(t)
        lines = shapely.linestrings(np.stack([start, end], axis=1))
        kind, village = "straight", codes[order]
    else:
        lines = np.asarray(corridor_links(t, corridors, routes, snap_m), dtype=object)
        kind, village = "corridor", np.full(len(lines), None, dtype=object)
    length = shapely.length(lines)
    keep = length > 0
    frame = gpd.GeoDataFrame(
        {"kind": kind, "village_code": village[keep], "length_m": np.round(length[keep], 1)},
        geometry=lines[keep],
        crs=t.crs,
    )
    frame.insert(0, "link_id", [f"EXT-{i + 1:05d}" for i in range(len(frame))])
    middle = frame.geometry.interpolate(0.5, normalized=True)
    frame["commune_code"] = locate(middle, communes.to_crs(t.crs)).to_numpy()
    return frame
