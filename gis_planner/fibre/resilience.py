"""Single points of failure of the fibre network: bridges, articulation points, trunk rings.

One depth-first search (iterative Tarjan, compiled with numba) numbers the vertices in preorder,
so every DFS subtree is one contiguous run of numbers. What a failure cuts off is a set of such
runs, and the villages, people and sites behind it are differences of prefix sums, with no
search per failure.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numba
import numpy as np
import numpy.typing as npt

from gis_planner.fibre.graph import BoolArray, FibreGraph, FloatArray, IntArray


@numba.njit(cache=True)
def _tarjan(
    roots: IntArray, indptr: IntArray, neighbour: IntArray, edge_id: IntArray, n_edges: int
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, BoolArray]:
    """Preorder number, low-link, parent, parent edge, subtree size, root and depth of every
    vertex, and which edges are bridges; trees are grown from ``roots`` in that order (every
    vertex must be listed). Parallel edges are told apart by edge id, so a doubled link is not
    a bridge.
    """
    n = len(roots)
    disc = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    parent_edge = np.full(n, -1, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    root = np.zeros(n, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    bridge = np.zeros(n_edges, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    cursor = np.empty(n, dtype=np.int64)
    t = 0
    for r in roots:
        if disc[r] != -1:
            continue
        disc[r] = t
        low[r] = t
        root[r] = r
        t += 1
        sp = 0
        stack[0] = r
        cursor[0] = indptr[r]
        sp = 1
        while sp > 0:
            v = stack[sp - 1]
            i = cursor[sp - 1]
            if i < indptr[v + 1]:
                cursor[sp - 1] = i + 1
                w = neighbour[i]
                if edge_id[i] == parent_edge[v]:
                    continue
                if disc[w] == -1:
                    disc[w] = t
                    low[w] = t
                    t += 1
                    parent[w] = v
                    parent_edge[w] = edge_id[i]
                    root[w] = r
                    depth[w] = depth[v] + 1
                    stack[sp] = w
                    cursor[sp] = indptr[w]
                    sp += 1
                elif disc[w] < low[v]:
                    low[v] = disc[w]
            else:
                sp -= 1
                if sp > 0:
                    p = stack[sp - 1]
                    size[p] += size[v]
                    if low[v] < low[p]:
                        low[p] = low[v]
                    if low[v] > disc[p]:
                        bridge[parent_edge[v]] = True
    return disc, low, parent, parent_edge, size, root, depth, bridge


@numba.njit(cache=True)
def _common_ancestors(
    group_start: IntArray, vertices: IntArray, parent: IntArray, depth: IntArray
) -> IntArray:
    """Lowest common ancestor in the DFS forest of each group of vertices (-1 across trees)."""
    out = np.full(len(group_start) - 1, -1, dtype=np.int64)
    for g in range(len(group_start) - 1):
        a = vertices[group_start[g]]
        for k in range(group_start[g] + 1, group_start[g + 1]):
            b = vertices[k]
            while a != b and a >= 0 and b >= 0:
                if depth[a] >= depth[b]:
                    a = parent[a]
                else:
                    b = parent[b]
            if a != b:
                a = -1
        out[g] = a
    return out


@dataclass(frozen=True, eq=False)
class Resilience:
    """The DFS of a fibre graph (duplicate routes left out), grown from the POP/OLT vertices.

    Every component holding a POP is rooted at one, so the side of a failure that keeps the
    root keeps a POP, and what a failure cuts off is always a set of subtrees: the subtrees
    below the failed link or node that hold no POP themselves.
    """

    graph: FibreGraph
    disc: IntArray
    low: IntArray
    parent: IntArray
    parent_edge: IntArray
    size: IntArray
    root: IntArray
    depth: IntArray
    is_bridge: BoolArray
    is_source: BoolArray

    @property
    def bridges(self) -> IntArray:
        return np.flatnonzero(self.is_bridge)

    def _in_run(self, prefix: FloatArray, top: IntArray) -> FloatArray:
        """Sum over the subtree of each ``top`` vertex, from preorder prefix sums."""
        return prefix[self.disc[top] + self.size[top]] - prefix[self.disc[top]]

    def _prefix(self, weight: FloatArray) -> FloatArray:
        """Prefix sums of a per-vertex weight in preorder (length n + 1)."""
        ordered = np.zeros(len(self.disc) + 1)
        ordered[self.disc + 1] = weight
        return np.cumsum(ordered)

    def _bridge_child(self) -> IntArray:
        u, v = self.graph.edge_u[self.bridges], self.graph.edge_v[self.bridges]
        return np.where(self.parent_edge[v] == self.bridges, v, u)

    def reaches_source(self) -> BoolArray:
        """Vertices whose component holds a POP/OLT."""
        return self.is_source[self.root]

    def _lost_below(self, top: IntArray) -> BoolArray:
        """Whether the subtree of each ``top`` vertex is cut from every POP when it is severed
        from its parent: it holds no POP, but its component does."""
        src = self._prefix(self.is_source.astype(float))
        return (self._in_run(src, top) == 0) & self.reaches_source()[top]

    def _separated(self) -> tuple[IntArray, IntArray]:
        """(parent, child) pairs where removing the parent cuts the child's subtree off."""
        child = np.flatnonzero(self.parent >= 0)
        p = self.parent[child]
        keep = self.low[child] >= self.disc[p]
        return p[keep], child[keep]

    @property
    def articulation_points(self) -> IntArray:
        p, _ = self._separated()
        cut_children = np.bincount(p, minlength=len(self.disc))
        is_root = self.parent < 0
        return np.flatnonzero((cut_children > 0) & (~is_root | (cut_children > 1)))

    def bridge_losses(self, weights: FloatArray) -> FloatArray:
        """For each bridge, the summed per-vertex ``weights`` (shape (n, k)) cut from every POP."""
        c = self._bridge_child()
        lost = self._lost_below(c)
        out = np.zeros((len(c), weights.shape[1]))
        for k in range(weights.shape[1]):
            out[:, k] = np.where(lost, self._in_run(self._prefix(weights[:, k]), c), 0.0)
        return out

    def vertex_losses(self, weights: FloatArray) -> tuple[IntArray, FloatArray]:
        """Articulation points and, for each, the summed ``weights`` of the other vertices it
        cuts from every POP."""
        n = len(self.disc)
        points = self.articulation_points
        p, child = self._separated()
        lost = self._lost_below(child)
        out = np.zeros((len(points), weights.shape[1]))
        for k in range(weights.shape[1]):
            below = self._in_run(self._prefix(weights[:, k]), child)
            out[:, k] = np.bincount(p, weights=below * lost, minlength=n)[points]
        return points, out

    def _subtree(self, top: int) -> BoolArray:
        return (self.disc >= self.disc[top]) & (self.disc < self.disc[top] + self.size[top])

    def cut_by_bridge(self, edge: int) -> BoolArray:
        """Vertices that lose every path to a POP when ``edge`` fails."""
        position = np.searchsorted(self.bridges, edge)
        if position >= len(self.bridges) or self.bridges[position] != edge:
            return np.zeros(len(self.disc), dtype=bool)
        c = self._bridge_child()[position : position + 1]
        if not self._lost_below(c)[0]:
            return np.zeros(len(self.disc), dtype=bool)
        return self._subtree(int(c[0]))

    def cut_by_vertex(self, vertex: int) -> BoolArray:
        """Vertices (other than ``vertex``) that lose every path to a POP when it fails."""
        lost = np.zeros(len(self.disc), dtype=bool)
        p, child = self._separated()
        pieces = child[p == vertex]
        for c in pieces[self._lost_below(pieces)].tolist():
            lost |= self._subtree(c)
        return lost

    def redundant(self) -> BoolArray:
        """Vertices that keep a path to a POP after any single link fails (two edge-disjoint
        paths to POPs, by Menger's theorem)."""
        n = len(self.disc)
        c = self._bridge_child()
        c = c[self._lost_below(c)]
        diff = np.zeros(n + 1)
        np.add.at(diff, self.disc[c], 1.0)
        np.add.at(diff, self.disc[c] + self.size[c], -1.0)
        behind = np.cumsum(diff)[:n][self.disc] > 0
        return self.reaches_source() & ~behind

    def effective_vertices(self, group: IntArray, vertex: IntArray, n_groups: int) -> IntArray:
        """For items attached at several vertices (``vertex[i]`` belongs to item ``group[i]``),
        the one vertex whose failures cut them: the lowest common ancestor of their attachments
        within a component that reaches a POP. An item attached in two such components gets -2
        (no single failure cuts it); an item with none gets -1.

        An item is cut off exactly when all its attachments are; all lie in a subtree exactly
        when their common ancestor does, so the ancestor stands for the item.
        """
        usable = (vertex >= 0) & self.reaches_source()[np.maximum(vertex, 0)]
        group, vertex = group[usable], vertex[usable]
        order = np.lexsort((vertex, self.root[vertex], group))
        group, vertex = group[order], vertex[order]
        key = np.column_stack([group, self.root[vertex]])
        _, start = np.unique(key, axis=0, return_index=True)
        bounds = np.append(start, len(group)).astype(np.int64)
        ancestor = _common_ancestors(bounds, vertex, self.parent, self.depth)
        owner = group[start]
        out = np.full(n_groups, -1, dtype=np.int64)
        out[owner] = ancestor
        homes = np.bincount(owner, minlength=n_groups)
        out[homes >= 2] = -2
        return out


def analyse(graph: FibreGraph) -> Resilience:
    """Bridges, articulation points and POP reachability of ``graph`` (duplicates ignored)."""
    graph = graph.select(~graph.edge_duplicate)
    indptr, neighbour, edge_id = graph.adjacency()
    is_source = np.zeros(graph.n_vertices, dtype=bool)
    is_source[graph.sources()] = True
    roots = np.argsort(~is_source, kind="stable").astype(np.int64)
    disc, low, parent, parent_edge, size, root, depth, bridge = _tarjan(
        roots, indptr, neighbour, edge_id, graph.n_edges
    )
    return Resilience(graph, disc, low, parent, parent_edge, size, root, depth, bridge, is_source)


def trunk_rings(graph: FibreGraph, operator: str) -> list[IntArray]:
    """Rings of an operator's trunk: the cycle basis of each 2-edge-connected part, as vertex
    sequences (closed: the first vertex is not repeated)."""
    routes = graph.routes
    trunk = (routes["route_class"].to_numpy() == "trunk") & (
        routes["operator"].to_numpy() == operator
    )
    sub = graph.select(trunk[graph.edge_route] & ~graph.edge_duplicate)
    res = analyse(sub)
    keep = ~res.is_bridge
    simple = nx.Graph()
    simple.add_edges_from(zip(sub.edge_u[keep].tolist(), sub.edge_v[keep].tolist(), strict=True))
    return [np.asarray(cycle, dtype=np.int64) for cycle in nx.cycle_basis(simple)]


def vertex_weights(
    n_vertices: int, vertices: IntArray, values: npt.ArrayLike | None = None
) -> FloatArray:
    """Sum of ``values`` (default 1 each) of items attached to each vertex (< 0: not attached)."""
    attached = vertices >= 0
    vals = np.ones(len(vertices)) if values is None else np.asarray(values, dtype=float)
    total = np.bincount(vertices[attached], weights=vals[attached], minlength=n_vertices)
    return total.astype(np.float64)
