"""Backhaul: each site's fibre path to the nearest POP or OLT.

One multi-source Dijkstra from every POP/OLT vertex gives, for every vertex at once, the length
to its nearest source, that source, and a shortest-path tree; a site then only looks up the
vertex nearest to it. The operators whose fibre a path uses are OR-ed bit masks along the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numba
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from gis_planner.crs import metric_crs_of
from gis_planner.fibre.graph import FibreGraph, FloatArray, IntArray, nearest_vertices
from gis_planner.operators import OPERATOR_KEYS


@dataclass(frozen=True, eq=False)
class ShortestPaths:
    """Distance (m) to the nearest source, that source and the predecessor of every vertex."""

    graph: FibreGraph
    dist_m: FloatArray
    source: IntArray
    predecessor: IntArray


def shortest_paths(graph: FibreGraph, sources: IntArray) -> ShortestPaths:
    """Multi-source Dijkstra over the graph's edge lengths."""
    n = graph.n_vertices
    if len(sources) == 0 or graph.n_edges == 0:
        empty = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        dist[sources] = 0.0
        source = empty.copy()
        source[sources] = sources
        return ShortestPaths(graph, dist, source, empty)
    dist, predecessor, source = dijkstra(
        graph.csgraph(),
        directed=False,
        indices=sources,
        min_only=True,
        return_predecessors=True,
    )
    # scipy marks "no predecessor" with -9999.
    predecessor = np.where(predecessor < 0, -1, predecessor).astype(np.int64)
    return ShortestPaths(graph, dist, source.astype(np.int64), predecessor)


@numba.njit(cache=True)
def _tree_masks(
    predecessor: IntArray, indptr: IntArray, neighbour: IntArray, edge_bits: IntArray
) -> IntArray:
    """OR of the operator bits of the edges from each vertex back to its source."""
    n = len(predecessor)
    mask = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    for start in range(n):
        sp = 0
        v = start
        while mask[v] == -1 and predecessor[v] >= 0:
            stack[sp] = v
            sp += 1
            v = predecessor[v]
        if mask[v] == -1:
            mask[v] = 0
        while sp > 0:
            sp -= 1
            w = stack[sp]
            p = predecessor[w]
            bits = 0
            for i in range(indptr[w], indptr[w + 1]):
                if neighbour[i] == p:
                    bits |= edge_bits[i]
            mask[w] = mask[p] | bits
    return mask


def operator_masks(paths: ShortestPaths) -> IntArray:
    """Bit mask (bit i = ``OPERATOR_KEYS[i]``) of the operators along each vertex's path.

    Where parallel cables of several operators join the same two vertices, all of them count:
    the path can use either.
    """
    graph = paths.graph
    indptr, neighbour, edge_id = graph.adjacency()
    bit = {key: 1 << i for i, key in enumerate(OPERATOR_KEYS)}
    edge_bits = np.array([bit[op] for op in graph.edge_operator], dtype=np.int64)
    return _tree_masks(paths.predecessor, indptr, neighbour, edge_bits[edge_id])


def mask_names(masks: IntArray) -> pd.Series:
    """Comma-separated operator keys of each bit mask ('' for none)."""
    unique, inverse = np.unique(masks, return_inverse=True)
    names = [
        ",".join(k for i, k in enumerate(OPERATOR_KEYS) if m >= 0 and m >> i & 1)
        for m in unique.tolist()
    ]
    return pd.Series(np.asarray(names, dtype=object)[inverse], dtype="str")


@numba.njit(cache=True)
def _walk(starts: IntArray, predecessor: IntArray) -> tuple[IntArray, IntArray]:
    """Vertices of every path from ``starts[i]`` back to its source, flattened, with the
    owning path of each entry."""
    total = 0
    for v in starts:
        while v >= 0:
            total += 1
            v = predecessor[v]
    vertices = np.empty(total, dtype=np.int64)
    owner = np.empty(total, dtype=np.int64)
    k = 0
    for i, v in enumerate(starts):
        while v >= 0:
            vertices[k] = v
            owner[k] = i
            k += 1
            v = predecessor[v]
    return vertices, owner


def path_lines(result: BackhaulResult, site_xy: FloatArray) -> npt.NDArray[np.object_]:
    """Line of each site: to its network vertex, then along the path to its POP/OLT through
    the graph's vertices (None where no POP is reached or the site stands on its POP)."""
    lines = np.full(len(site_xy), None, dtype=object)
    reached = np.flatnonzero(result.source >= 0)
    vertices, owner = _walk(result.vertex[reached], result.paths.predecessor)
    coords = np.concatenate([site_xy[reached], result.paths.graph.vertex_xy[vertices]])
    owner = np.concatenate([np.arange(len(reached)), owner])
    # Each site first, then its path: a stable sort by owner keeps that order.
    order = np.argsort(owner, kind="stable")
    coords, owner = coords[order], owner[order]
    distinct = np.ones(len(coords), dtype=bool)
    distinct[1:] = (owner[1:] != owner[:-1]) | (np.diff(coords, axis=0) != 0).any(axis=1)
    coords, owner = coords[distinct], owner[distinct]
    drawable = np.bincount(owner, minlength=len(reached)) >= 2
    keep = drawable[owner]
    if keep.any():
        _, index = np.unique(owner[keep], return_inverse=True)
        lines[reached[drawable]] = shapely.linestrings(coords[keep], indices=index)
    return lines


@dataclass(frozen=True, eq=False)
class BackhaulResult:
    """Per site: network vertex, straight gap, path length, source vertex and operators."""

    vertex: IntArray
    gap_m: FloatArray
    path_m: FloatArray
    source: IntArray
    operator_mask: IntArray
    paths: ShortestPaths


def backhaul(
    graph: FibreGraph, sites: gpd.GeoSeries, operator: str | None = None
) -> BackhaulResult:
    """Path of each site to the nearest POP/OLT over all fibre, or over ``operator``'s only."""
    if operator is not None:
        graph = graph.for_operator(operator)
    paths = shortest_paths(graph, graph.sources(operator))
    n = len(sites)
    if graph.n_edges == 0:
        return BackhaulResult(
            np.full(n, -1, dtype=np.int64), np.full(n, np.nan), np.full(n, np.nan),
            np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.int64), paths,
        )  # fmt: skip
    vertex, gap = nearest_vertices(graph, sites)
    masks = operator_masks(paths)
    path_m = paths.dist_m[vertex]
    reached = np.isfinite(path_m)
    path_m[~reached] = np.nan
    source = np.where(reached, paths.source[vertex], -1)
    mask = np.where(reached, masks[vertex], 0)
    return BackhaulResult(vertex, gap, path_m, source, mask, paths)


def backhaul_frames(
    graph: FibreGraph | None,
    sites: gpd.GeoDataFrame,
    *,
    kind: str = "site",
    metric_crs: str | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(one point per site, one line per site path) of the backhaul over ``graph``'s fibre to
    its POPs/OLTs; None is no fibre at all, where no site reaches a POP.

    A path line runs from the site to its network vertex and on to the POP/OLT through the
    graph's vertices; a site standing on its POP has no line. Both frames are in the graph's
    CRS, or without a graph in ``metric_crs`` (default: the sites' area's).
    """
    n = len(sites)
    crs = graph.crs if graph is not None else metric_crs or metric_crs_of(sites)
    site_points = sites.geometry.to_crs(crs).to_numpy()
    pop = np.full(n, None, dtype=object)
    if graph is None:
        gap_m, path_m, mask = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int64)
        lines = np.full(n, None, dtype=object)
    else:
        result = backhaul(graph, sites.geometry)
        gap_m, path_m, mask = result.gap_m, result.path_m, result.operator_mask
        first_node = pd.Series(graph.nodes["node_id"].to_numpy(), index=graph.node_vertex)
        first_node = first_node[~first_node.index.duplicated()]
        reached = result.source >= 0
        pop[reached] = first_node.reindex(result.source[reached]).to_numpy()
        lines = path_lines(result, shapely.get_coordinates(site_points))
    frame = gpd.GeoDataFrame(
        {
            "site_id": sites["site_id"].to_numpy(),
            "kind": kind,
            "operator": sites["operator"].to_numpy(dtype=str),
            "pop_node_id": pop,
            "gap_m": np.round(gap_m, 1),
            "path_m": np.round(path_m, 1),
            "total_m": np.round(gap_m + path_m, 1),
            "fibre_operators": mask_names(mask).to_numpy(),
        },
        geometry=site_points,
        crs=crs,
    )
    drawn = pd.notna(lines)
    paths = gpd.GeoDataFrame(
        frame.loc[drawn, ["site_id", "kind", "operator", "pop_node_id", "total_m"]],
        geometry=lines[drawn],
        crs=crs,
    ).reset_index(drop=True)
    return frame, paths
