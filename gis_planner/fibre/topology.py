"""Topology problems of the fibre layers, found while building the graph.

Each operator's drawing is checked on its own network (``operator_topology_problems``): a row
concerns one operator's route or node and names only that operator's ids.

- ``snapped_end``: a route end that touched no node and was moved onto its vertex (within the
  snap tolerance) — harmless for the analyses, but the drawing should be corrected;
- ``merged_node``: a node within the snap tolerance of another, so both stand on one vertex
  (and the routes ending at it moved with it);
- ``near_miss``: a route end joined to nothing that lies within ``near_miss_m`` of other fibre —
  almost certainly meant to connect;
- ``dangling_end``: a route end joined to nothing with no fibre near it and no node on it;
- ``isolated_node``: a node that no route reaches;
- ``duplicate_route``: a route laid twice (same ends, paths within the tolerance).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.defaults import DEFAULT_NEAR_MISS_M
from gis_planner.fibre.graph import FibreGraph, shared_crs

#: Route ends moved by less than this are digitising noise, not a problem.
SNAP_NOISE_M = 0.1


def topology_problems(
    graph: FibreGraph, near_miss_m: float = DEFAULT_NEAR_MISS_M
) -> gpd.GeoDataFrame:
    """One point per problem: type, the route or node concerned, the other one, the distance
    (in the graph's CRS)."""
    routes, nodes = graph.routes, graph.nodes
    route_ids = routes["route_id"].to_numpy(dtype=object)
    route_ops = routes["operator"].to_numpy(dtype=object)
    n_routes = len(routes)
    ends = np.concatenate([shapely.get_point(routes.geometry.to_numpy(), i) for i in (0, -1)])
    end_vertex = graph.route_ends.T.ravel()
    end_route = np.tile(np.arange(n_routes), 2)
    moved = graph.end_moved_m.T.ravel()
    parts = []

    node_points = nodes.geometry.to_numpy()
    on_node = np.zeros(len(ends), dtype=bool)
    on_node[shapely.STRtree(node_points).query(ends, "dwithin", distance=SNAP_NOISE_M)[0]] = True
    snapped = (moved > SNAP_NOISE_M) & ~on_node
    parts.append(
        _rows("snapped_end", route_ids[end_route[snapped]], None, route_ops[end_route[snapped]],
              moved[snapped], ends[snapped])
    )  # fmt: skip

    has_node = np.zeros(graph.n_vertices, dtype=bool)
    has_node[graph.node_vertex] = True
    # A route laid twice is one cable for these checks; the copy is reported as a duplicate.
    original = graph.route_duplicate_of < 0
    degree = graph.select(~graph.edge_duplicate).degree()
    loose = np.flatnonzero((degree[end_vertex] == 1) & ~has_node[end_vertex] & original[end_route])
    other, dist = _nearest_other(graph, ends[loose], end_route[loose], near_miss_m)
    near = pd.notna(other)
    for kind, rows in (("near_miss", near), ("dangling_end", ~near)):
        idx = loose[rows]
        parts.append(
            _rows(kind, route_ids[end_route[idx]], other[rows], route_ops[end_route[idx]],
                  dist[rows], ends[idx])
        )  # fmt: skip

    node_moved = shapely.distance(node_points, shapely.points(graph.vertex_xy[graph.node_vertex]))
    merged = node_moved > SNAP_NOISE_M
    node_ids = nodes["node_id"].to_numpy(dtype=object)
    host = pd.Series(node_ids[~merged], index=graph.node_vertex[~merged])
    host = host[~host.index.duplicated()]
    parts.append(
        _rows("merged_node", node_ids[merged], host.reindex(graph.node_vertex[merged]).to_numpy(),
              nodes["operator"].to_numpy(dtype=object)[merged], node_moved[merged],
              node_points[merged])
    )  # fmt: skip

    lonely = graph.degree()[graph.node_vertex] == 0
    parts.append(
        _rows("isolated_node", nodes["node_id"].to_numpy(dtype=object)[lonely], None,
              nodes["operator"].to_numpy(dtype=object)[lonely], np.full(lonely.sum(), np.nan),
              node_points[lonely])
    )  # fmt: skip

    dup = np.flatnonzero(graph.route_duplicate_of >= 0)
    middle = shapely.line_interpolate_point(routes.geometry.to_numpy()[dup], 0.5, normalized=True)
    parts.append(
        _rows("duplicate_route", route_ids[dup], route_ids[graph.route_duplicate_of[dup]],
              route_ops[dup], np.zeros(len(dup)), middle)
    )  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "problem_id", [f"FTP-{i + 1:05d}" for i in range(len(frame))])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=graph.crs)


def operator_topology_problems(
    graphs: dict[str, FibreGraph], near_miss_m: float = DEFAULT_NEAR_MISS_M
) -> gpd.GeoDataFrame:
    """The problems of each operator's own graph (see ``graph.operator_graphs``).

    Ids are numbered within each operator ("FTP-vnpt-00001") so that they tell an operator
    nothing of how many problems the others have. The graphs share one CRS (as
    ``operator_graphs`` builds them), which the problems are in.
    """
    frames = []
    for operator, graph in graphs.items():
        frame = topology_problems(graph, near_miss_m)
        frame["problem_id"] = f"FTP-{operator}-" + frame["problem_id"].str.removeprefix("FTP-")
        frames.append(frame)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=shared_crs(graphs))


def _nearest_other(
    graph: FibreGraph, points: np.ndarray, own_route: np.ndarray, near_miss_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each loose end, the id of the nearest other route or node within ``near_miss_m``
    (None when there is none) and its distance."""
    routes, nodes = graph.routes, graph.nodes
    geoms = np.concatenate([routes.geometry.to_numpy(), nodes.geometry.to_numpy()])
    ids = np.concatenate([routes["route_id"].to_numpy(object), nodes["node_id"].to_numpy(object)])
    left, right = shapely.STRtree(geoms).query(points, predicate="dwithin", distance=near_miss_m)
    copy = np.concatenate([graph.route_duplicate_of >= 0, np.zeros(len(nodes), dtype=bool)])
    keep = (right != own_route[left]) & ~copy[right]
    left, right = left[keep], right[keep]
    dist = shapely.distance(points[left], geoms[right])
    order = np.lexsort((dist, left))
    left, right, dist = left[order], right[order], dist[order]
    first = np.unique(left, return_index=True)[1]
    other = np.full(len(points), None, dtype=object)
    nearest = np.full(len(points), np.nan)
    other[left[first]] = ids[right[first]]
    nearest[left[first]] = dist[first]
    return other, nearest


def _rows(
    kind: str,
    feature_id: np.ndarray,
    other_id: np.ndarray | None,
    operator: np.ndarray,
    dist_m: np.ndarray,
    geometry: np.ndarray,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "problem_type": kind,
            "feature_id": feature_id,
            "other_id": other_id,
            "operator": operator,
            "dist_m": np.round(np.asarray(dist_m, dtype=float), 1),
            "geometry": geometry,
        }
    )
