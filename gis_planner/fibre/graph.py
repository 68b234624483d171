"""The fibre graph: routes and nodes snapped into vertices and edges, held as numpy arrays.

Route ends and nodes closer than the snap tolerance become one vertex (connected components of
the "within tolerance" relation, as for site positions). A route end or node lying within the
tolerance of another route's interior splits that route there (a T-junction). Two cables that
merely cross are not joined: a crossing is not a splice.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.ops import substring

from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.defaults import DEFAULT_SNAP_M
from gis_planner.errors import GisPlannerError
from gis_planner.sharing import cluster_points

#: Node types that feed backhaul: a path to any of them reaches the core network.
SOURCE_NODE_TYPES = ("pop", "olt")
#: When several nodes share a vertex, the vertex takes the position of the highest in this order.
NODE_PRIORITY = ("pop", "olt", "odf", "splitter")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class FibreGraph:
    """An undirected multigraph of fibre; every array is indexed by vertex, edge or route row.

    Coordinates and lengths are in metres of ``crs``, the metric CRS the graph was built in;
    ``routes`` and ``nodes`` are the input layers in it with a 0..n-1 index; ``edge_route``
    and ``node_vertex`` point into them.
    """

    vertex_xy: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_route: IntArray
    #: Where each edge starts along its route, in metres (it runs from u there to v).
    edge_offset_m: FloatArray
    #: True for an edge of a route laid twice (same ends, same path): kept for display, but a
    #: second cable in the same trench is no protection, so resilience ignores it.
    edge_duplicate: BoolArray
    node_vertex: IntArray
    #: Vertex of each route's start and end (shape (n_routes, 2)).
    route_ends: IntArray
    #: How far each route end moved to reach its vertex, in metres (shape (n_routes, 2)).
    end_moved_m: FloatArray
    #: For each duplicate route, the route row it repeats (-1 for an original).
    route_duplicate_of: IntArray
    routes: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    snap_m: float
    crs: str

    @property
    def n_vertices(self) -> int:
        return len(self.vertex_xy)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @property
    def edge_operator(self) -> npt.NDArray[np.str_]:
        return self.routes["operator"].to_numpy(dtype=str)[self.edge_route]

    def degree(self) -> IntArray:
        """Edges at each vertex (a parallel edge counts once per cable)."""
        return np.bincount(
            np.concatenate([self.edge_u, self.edge_v]), minlength=self.n_vertices
        ).astype(np.int64)

    def sources(self, operator: str | None = None) -> IntArray:
        """Vertices holding a POP or OLT (of ``operator`` when given)."""
        mask = np.array(self.nodes["node_type"].isin(SOURCE_NODE_TYPES), dtype=bool)
        if operator is not None:
            mask &= (self.nodes["operator"] == operator).to_numpy()
        return np.unique(self.node_vertex[mask])

    def select(self, edges: BoolArray) -> FibreGraph:
        """The same vertices with only the edges where ``edges`` is True."""
        return FibreGraph(
            vertex_xy=self.vertex_xy,
            edge_u=self.edge_u[edges],
            edge_v=self.edge_v[edges],
            edge_length_m=self.edge_length_m[edges],
            edge_route=self.edge_route[edges],
            edge_offset_m=self.edge_offset_m[edges],
            edge_duplicate=self.edge_duplicate[edges],
            node_vertex=self.node_vertex,
            route_ends=self.route_ends,
            end_moved_m=self.end_moved_m,
            route_duplicate_of=self.route_duplicate_of,
            routes=self.routes,
            nodes=self.nodes,
            snap_m=self.snap_m,
            crs=self.crs,
        )

    def for_operator(self, operator: str) -> FibreGraph:
        """One operator's fibre (vertices are shared, so ids stay comparable)."""
        return self.select(self.edge_operator == operator)

    def csgraph(self) -> csr_array:
        """Symmetric sparse adjacency with the shortest edge length between each vertex pair.

        A COO → CSR conversion sums duplicate entries, so parallel edges are reduced to their
        minimum first.
        """
        u = np.concatenate([self.edge_u, self.edge_v])
        v = np.concatenate([self.edge_v, self.edge_u])
        w = np.concatenate([self.edge_length_m, self.edge_length_m])
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        # Zero-length edges would vanish from a sparse matrix; a micrometre keeps them.
        weight = np.maximum(w[first], 1e-6)
        n = self.n_vertices
        return csr_array((weight, (u[first], v[first])), shape=(n, n))

    def adjacency(self) -> tuple[IntArray, IntArray, IntArray]:
        """CSR arrays (indptr, neighbour, edge id) listing every edge from both ends."""
        u = np.concatenate([self.edge_u, self.edge_v])
        v = np.concatenate([self.edge_v, self.edge_u])
        eid = np.concatenate([np.arange(self.n_edges), np.arange(self.n_edges)])
        order = np.argsort(u, kind="stable")
        indptr = np.zeros(self.n_vertices + 1, dtype=np.int64)
        np.cumsum(np.bincount(u, minlength=self.n_vertices), out=indptr[1:])
        return indptr, v[order].astype(np.int64), eid[order].astype(np.int64)

    def components(self) -> IntArray:
        """Connected component label of every vertex."""
        n = self.n_vertices
        graph = coo_array(
            (np.ones(self.n_edges, dtype=np.int8), (self.edge_u, self.edge_v)), shape=(n, n)
        )
        return connected_components(graph, directed=False)[1].astype(np.int64)

    def to_networkx(self) -> nx.MultiGraph:
        """The graph for interactive use: vertices carry x/y (in ``crs``) and node ids; edges the
        route attributes. Analyses use the arrays; this is for users who want networkx's
        algorithms.
        """
        graph = nx.MultiGraph(crs=self.crs)
        node_ids = self.nodes.groupby(self.node_vertex)["node_id"].agg(",".join)
        for v, (x, y) in enumerate(self.vertex_xy.tolist()):
            graph.add_node(v, x=x, y=y, node_ids=node_ids.get(v, ""))
        columns = ["route_id", "operator", "route_class", "cores", "laying"]
        attrs = self.routes[columns].iloc[self.edge_route].to_dict("records")
        for u, v, length, dup, attr in zip(
            self.edge_u.tolist(),
            self.edge_v.tolist(),
            self.edge_length_m.tolist(),
            self.edge_duplicate.tolist(),
            attrs,
            strict=True,
        ):
            graph.add_edge(u, v, length_m=length, duplicate=dup, **attr)
        return graph

    def edge_lines(self, edges: IntArray) -> npt.NDArray[np.object_]:
        """The route geometry (in ``crs``) of each edge: the whole route, or the piece between
        splits."""
        lines = self.routes.geometry.to_numpy()[self.edge_route[edges]]
        start = self.edge_offset_m[edges]
        end = start + self.edge_length_m[edges]
        partial = (start > 0) | (end < shapely.length(lines) - 1e-9)
        out = lines.copy()
        out[partial] = [
            substring(line, a, b)
            for line, a, b in zip(lines[partial], start[partial], end[partial], strict=True)
        ]
        return out


def _check_crs(routes: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame) -> None:
    for frame, layer in ((routes, "fibre_routes"), (nodes, "fibre_nodes")):
        if frame.crs is None:
            raise GisPlannerError(f"layer {layer!r}: the frame has no CRS")


def _fibre_crs(routes: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame) -> str:
    """The metric CRS of the area the fibre routes and nodes cover together."""
    _check_crs(routes, nodes)
    present = [frame.geometry.to_crs(WGS84) for frame in (routes, nodes) if len(frame)]
    if not present:
        raise GisPlannerError("no fibre routes or nodes to build a graph from")
    return metric_crs_of(gpd.GeoSeries(pd.concat(present), crs=WGS84))


def _vertex_positions(
    labels: IntArray, xy: FloatArray, node_rank: IntArray, n_ends: int
) -> FloatArray:
    """A vertex stands on its highest-ranked node, or at the mean of its route ends."""
    n_vertices = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=n_vertices)
    vertex_xy = np.column_stack(
        [np.bincount(labels, weights=xy[:, i], minlength=n_vertices) / counts for i in (0, 1)]
    )
    node_labels = labels[n_ends:]
    if len(node_labels):
        order = np.lexsort((np.arange(len(node_labels)), node_rank, node_labels))
        first = order[np.unique(node_labels[order], return_index=True)[1]]
        vertex_xy[node_labels[first]] = xy[n_ends + first]
    return vertex_xy


def _junctions(
    lines: npt.NDArray[np.object_],
    points: npt.NDArray[np.object_],
    labels: IntArray,
    route_ends: IntArray,
    snap_m: float,
) -> tuple[IntArray, FloatArray, IntArray]:
    """(route, position along it in m, vertex) where a point touches a route's interior."""
    # Boxes grown by the tolerance find the candidates; most are a route's own ends, dropped
    # by label before any distance is computed.
    bounds = shapely.bounds(lines) + np.array([-snap_m, -snap_m, snap_m, snap_m])
    point_idx, route_idx = shapely.STRtree(shapely.box(*bounds.T)).query(points)
    label = labels[point_idx]
    interior = (label != route_ends[route_idx, 0]) & (label != route_ends[route_idx, 1])
    point_idx, route_idx, label = point_idx[interior], route_idx[interior], label[interior]
    near = shapely.distance(points[point_idx], lines[route_idx]) <= snap_m
    point_idx, route_idx, label = point_idx[near], route_idx[near], label[near]
    # One split per (route, vertex): several ends of one vertex touch the route at one place.
    _, first = np.unique(route_idx * (labels.max() + 1) + label, return_index=True)
    route_idx, label, point_idx = route_idx[first], label[first], point_idx[first]
    position = shapely.line_locate_point(lines[route_idx], points[point_idx])
    return route_idx.astype(np.int64), position, label


def _duplicates(lines: npt.NDArray[np.object_], route_ends: IntArray, snap_m: float) -> IntArray:
    """For each route, the first earlier route with the same ends and path (else -1)."""
    ends = np.sort(route_ends, axis=1)
    _, group = np.unique(ends, axis=0, return_inverse=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    first_of_group = np.empty(int(group.max()) + 1 if len(group) else 0, dtype=np.int64)
    first_of_group[group[order][::-1]] = order[::-1]
    original = first_of_group[group]
    candidate = np.flatnonzero(original != np.arange(len(lines)))
    same = shapely.hausdorff_distance(lines[candidate], lines[original[candidate]]) <= snap_m
    duplicate_of = np.full(len(lines), -1, dtype=np.int64)
    duplicate_of[candidate[same]] = original[candidate[same]]
    return duplicate_of


def build_graph(
    routes: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    snap_m: float = DEFAULT_SNAP_M,
    *,
    metric_crs: str | None = None,
) -> FibreGraph:
    """Snap ``fibre_routes`` and ``fibre_nodes`` (any CRS) into a ``FibreGraph`` in
    ``metric_crs`` (default: the area of the routes and nodes)."""
    if snap_m < 0:
        raise GisPlannerError(f"snap tolerance must be ≥ 0 m, got {snap_m}")
    _check_crs(routes, nodes)
    crs = metric_crs or _fibre_crs(routes, nodes)
    routes = routes.to_crs(crs).reset_index(drop=True)
    nodes = nodes.to_crs(crs).reset_index(drop=True)
    lines = routes.geometry.to_numpy()
    n_routes = len(lines)
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    points = np.concatenate([starts, ends, nodes.geometry.to_numpy()])
    if len(points) == 0:
        raise GisPlannerError("no fibre routes or nodes to build a graph from")
    xy = shapely.get_coordinates(points)
    labels = cluster_points(xy, snap_m)
    rank_of = {t: i for i, t in enumerate(NODE_PRIORITY)}
    node_rank = nodes["node_type"].map(rank_of).fillna(len(NODE_PRIORITY)).to_numpy(np.int64)
    vertex_xy = _vertex_positions(labels, xy, node_rank, 2 * n_routes)
    route_ends = np.column_stack([labels[:n_routes], labels[n_routes : 2 * n_routes]])
    end_moved = np.hypot(*(xy[: 2 * n_routes] - vertex_xy[labels[: 2 * n_routes]]).T)

    split_route, split_pos, split_vertex = _junctions(lines, points, labels, route_ends, snap_m)
    length = shapely.length(lines)
    route_idx = np.arange(n_routes)
    all_route = np.concatenate([route_idx, route_idx, split_route])
    all_pos = np.concatenate([np.zeros(n_routes), length, split_pos])
    all_vertex = np.concatenate([route_ends[:, 0], route_ends[:, 1], split_vertex])
    order = np.lexsort((all_pos, all_route))
    all_route, all_pos, all_vertex = all_route[order], all_pos[order], all_vertex[order]
    step = np.flatnonzero(all_route[1:] == all_route[:-1])
    edge_u, edge_v = all_vertex[step], all_vertex[step + 1]
    edge_length = all_pos[step + 1] - all_pos[step]
    edge_route = all_route[step]
    # A piece whose two ends snapped to one vertex carries nothing between vertices.
    keep = edge_u != edge_v
    duplicate_of = _duplicates(lines, route_ends, snap_m)
    return FibreGraph(
        vertex_xy=vertex_xy,
        edge_u=edge_u[keep].astype(np.int64),
        edge_v=edge_v[keep].astype(np.int64),
        edge_length_m=edge_length[keep],
        edge_route=edge_route[keep].astype(np.int64),
        edge_offset_m=all_pos[step][keep],
        edge_duplicate=(duplicate_of >= 0)[edge_route[keep]],
        node_vertex=labels[2 * n_routes :],
        route_ends=route_ends,
        end_moved_m=end_moved.reshape(2, n_routes).T.copy(),
        route_duplicate_of=duplicate_of,
        routes=routes,
        nodes=nodes,
        snap_m=snap_m,
        crs=crs,
    )


def operator_graphs(
    routes: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    snap_m: float = DEFAULT_SNAP_M,
    *,
    metric_crs: str | None = None,
) -> dict[str, FibreGraph]:
    """Each operator's fibre as a graph of its own, built from its own routes and nodes only.

    What is computed for one operator is computed on these: nothing of another operator's
    network (its cables, its nodes, even where they meet this operator's) shapes the answer.
    All are in one CRS, ``metric_crs`` (default: the area of every operator's fibre), so their
    results can be put together.
    """
    crs = metric_crs or _fibre_crs(routes, nodes)
    operators = sorted({*routes["operator"].astype(str), *nodes["operator"].astype(str)})
    return {
        op: build_graph(
            routes[routes["operator"] == op],
            nodes[nodes["operator"] == op],
            snap_m,
            metric_crs=crs,
        )
        for op in operators
    }


def shared_crs(graphs: dict[str, FibreGraph]) -> str:
    """The one CRS of several graphs (as ``operator_graphs`` builds them), which results
    computed on each of them share when they are put together."""
    crs = {graph.crs for graph in graphs.values()}
    if len(crs) != 1:
        raise GisPlannerError(f"the graphs are in {len(crs)} CRSs, not one: {sorted(crs)}")
    return crs.pop()


def nearest_vertices(graph: FibreGraph, points: gpd.GeoSeries) -> tuple[IntArray, FloatArray]:
    """Nearest graph vertex of each point and the straight distance to it in metres.

    Only vertices with at least one edge are candidates: an isolated node carries no fibre.
    """
    linked = np.flatnonzero(graph.degree() > 0)
    if len(linked) == 0:
        raise GisPlannerError("the fibre graph has no edges")
    geoms = points.to_crs(graph.crs).to_numpy()
    vertex = np.full(len(geoms), -1, dtype=np.int64)
    distance = np.full(len(geoms), np.nan)
    is_point = shapely.get_type_id(geoms) == 0
    if is_point.any():
        # Points (sites): a k-d tree on coordinates is the fast path.
        dist, idx = cKDTree(graph.vertex_xy[linked]).query(shapely.get_coordinates(geoms[is_point]))
        vertex[is_point], distance[is_point] = linked[idx], dist
    if (~is_point).any():
        # Areas (villages): the distance from the outline, 0 inside.
        tree = shapely.STRtree(shapely.points(graph.vertex_xy[linked]))
        rows = np.flatnonzero(~is_point)
        idx, dist = tree.query_nearest(geoms[rows], return_distance=True, all_matches=False)
        vertex[rows[idx[0]]], distance[rows[idx[0]]] = linked[idx[1]], dist
    return vertex, distance
