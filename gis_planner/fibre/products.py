"""The whole fibre analysis on the store's layers: every output layer, ready to be written."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.admin import locate, units
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.fibre.backhaul import backhaul_frames
from gis_planner.fibre.extension import extension_links
from gis_planner.fibre.ftth import DEFAULT_DROP_M, ftth_shares, ftth_villages
from gis_planner.fibre.graph import (
    DEFAULT_SNAP_M,
    FibreGraph,
    build_graph,
    nearest_vertices,
    operator_graphs,
)
from gis_planner.fibre.resilience import Resilience, analyse, trunk_rings, vertex_weights
from gis_planner.fibre.topology import DEFAULT_NEAR_MISS_M, operator_topology_problems


@dataclass(frozen=True)
class FibreParams:
    snap_m: float = DEFAULT_SNAP_M
    drop_m: float = DEFAULT_DROP_M
    near_miss_m: float = DEFAULT_NEAR_MISS_M
    #: Single points of failure whose cut-off villages are listed by code (the worst first).
    listed_spof: int = 50


@dataclass(frozen=True, eq=False)
class FibreProducts:
    """Every output layer (WGS84), keyed by catalogue name, and the graph they came from."""

    graph: FibreGraph
    layers: dict[str, pd.DataFrame]


def analyse_fibre(
    routes: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    admin_units: gpd.GeoDataFrame,
    *,
    proposed: gpd.GeoDataFrame | None = None,
    corridors: gpd.GeoDataFrame | None = None,
    params: FibreParams = FibreParams(),
    metric_crs: str | None = None,
) -> FibreProducts:
    """Graph, topology problems, FTTH coverage, backhaul, resilience and extensions.

    Sites with status "planned" count as proposed sites, as do the rows of ``proposed``.
    Each operator's backhaul (``backhaul``, ``backhaul_paths``), topology problems, single
    points of failure (``fibre_spof_links``) and trunk rings are computed on its own network
    only, with its own FTTH villages and its own sites; the analyses over any operator's
    fibre are the department's (``backhaul_shared``, ``backhaul_shared_paths``,
    ``fibre_spof_links_shared``, ``fibre_spof_nodes``, ``fibre_redundancy``,
    ``fibre_extensions``). Everything is measured in ``metric_crs`` (default: the admin
    units' area's); the layers are returned in WGS84.
    """
    crs = metric_crs or metric_crs_of(admin_units)
    graph = build_graph(routes, nodes, params.snap_m, metric_crs=crs)
    own_graphs = operator_graphs(routes, nodes, params.snap_m, metric_crs=crs)
    communes = units(admin_units, "commune")
    covered = ftth_villages(villages, routes, nodes, params.drop_m, metric_crs=crs)
    shares = ftth_shares(covered, admin_units)

    planned = (sites["status"] == "planned").to_numpy() if "status" in sites else False
    frames = [(sites[~planned], "site"), (sites[planned], "proposed")]
    if proposed is not None:
        frames.append((proposed, "proposed"))
    frames = [(frame, kind) for frame, kind in frames if len(frame)]
    points, paths = zip(*(backhaul_frames(graph, f, kind=k) for f, k in frames), strict=True)
    backhaul = pd.concat(points, ignore_index=True)
    own_points, own_paths = zip(
        *(_own_backhaul(own_graphs, f, k, crs) for f, k in frames), strict=True
    )
    res = analyse(graph)
    village_vertex = _village_vertices(res, covered)
    site_vertex = nearest_vertices(graph, backhaul.geometry)[0]
    weights = _weights(graph, covered, village_vertex, site_vertex)
    codes = covered["code"].to_numpy(dtype=str)
    shared_links = _spof_links(res, weights, village_vertex, codes, params.listed_spof)
    cut_nodes = _spof_nodes(res, weights, village_vertex, codes, params.listed_spof)
    site_commune = locate(backhaul.geometry, communes.to_crs(crs))
    redundancy = _redundancy(
        res.redundant(), covered, village_vertex, site_commune, site_vertex, communes
    )
    gaps = covered[~covered["covered"]]
    extensions = extension_links(gaps, routes, communes, corridors, params.snap_m, metric_crs=crs)
    layers = {
        "fibre_topology_problems": operator_topology_problems(own_graphs, params.near_miss_m),
        "ftth_villages": covered,
        "ftth_shares": shares,
        "backhaul": pd.concat(own_points, ignore_index=True).drop(columns="fibre_operators"),
        "backhaul_paths": pd.concat(own_paths, ignore_index=True),
        # A row over several operators' fibre is no one operator's: the site's operator is
        # named apart, so the layer is the department's alone.
        "backhaul_shared": backhaul.rename(columns=SHARED_COLUMNS),
        "backhaul_shared_paths": pd.concat(paths, ignore_index=True).rename(columns=SHARED_COLUMNS),
        "fibre_spof_links": _own_spof_links(own_graphs, covered, backhaul, params.listed_spof, crs),
        # Links over every operator's fibre, and nodes where operators' networks meet: the
        # department's view, with the route's operator named apart as in backhaul_shared.
        "fibre_spof_links_shared": shared_links.rename(columns=SHARED_SPOF_COLUMNS),
        "fibre_spof_nodes": cut_nodes,
        "fibre_rings": _rings(own_graphs, crs),
        "fibre_redundancy": redundancy,
        "fibre_extensions": extensions,
    }
    return FibreProducts(
        graph,
        {
            name: frame.to_crs(WGS84) if isinstance(frame, gpd.GeoDataFrame) else frame
            for name, frame in layers.items()
        },
    )


#: The site's operator in the shared backhaul layers.
SHARED_COLUMNS = {"operator": "site_operator"}
#: The route's operator in the shared single points of failure.
SHARED_SPOF_COLUMNS = {"operator": "route_operator"}


def _own_backhaul(
    graphs: dict[str, FibreGraph], sites: gpd.GeoDataFrame, kind: str, crs: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Each operator's sites backhauled over its own graph (all in ``crs``) to its own
    POPs/OLTs (none reached for an operator without fibre), in the order of ``sites``."""
    operators = sites["operator"].to_numpy(dtype=str)
    points, paths = [], []
    for op in np.unique(operators).tolist():
        rows = np.flatnonzero(operators == op)
        frame, lines = backhaul_frames(graphs.get(op), sites.iloc[rows], kind=kind, metric_crs=crs)
        points.append(frame.set_axis(rows))
        paths.append(lines)
    return (
        gpd.GeoDataFrame(pd.concat(points).sort_index().reset_index(drop=True), crs=crs),
        gpd.GeoDataFrame(pd.concat(paths, ignore_index=True), crs=crs),
    )


def proposed_sites(site_proposals: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``site_proposals`` layer as sites to backhaul; a candidate id repeats across
    operators, so the site id is "<operator>:<candidate_id>"."""
    operator = site_proposals["operator"].astype(str)
    return gpd.GeoDataFrame(
        {
            "site_id": (operator + ":" + site_proposals["candidate_id"].astype(str)).to_numpy(),
            "operator": operator.to_numpy(),
        },
        geometry=site_proposals.geometry.to_numpy(),
        crs=site_proposals.crs,
    )


def _village_vertices(
    res: Resilience, covered: gpd.GeoDataFrame, operator: str | None = None
) -> np.ndarray:
    """The vertex standing for each village in failure counts (see
    ``Resilience.effective_vertices``): -1 without FTTH or POP, -2 when served from two networks.

    A village attaches at the nearest vertex of each operator whose fibre reaches it (of
    ``operator`` only, when given).
    """
    graph = res.graph
    n = len(covered)
    by_operator = covered["operators"].fillna("").str.split(",").explode()
    by_operator = by_operator[by_operator != "" if operator is None else by_operator == operator]
    rows = covered.index.get_indexer(by_operator.index)
    attach = np.full(len(rows), -1, dtype=np.int64)
    for op in by_operator.unique().tolist():
        mine = (by_operator == op).to_numpy()
        geometry = covered.geometry.iloc[rows[mine]]
        if graph.for_operator(op).n_edges:
            attach[mine] = nearest_vertices(graph.for_operator(op), geometry)[0]
    return res.effective_vertices(rows.astype(np.int64), attach, n)


def _listing(lost: np.ndarray, village_vertex: np.ndarray, codes: np.ndarray) -> str:
    return ",".join(codes[(village_vertex >= 0) & lost[np.maximum(village_vertex, 0)]].tolist())


def _weights(
    graph: FibreGraph,
    covered: gpd.GeoDataFrame,
    village_vertex: np.ndarray,
    site_vertex: np.ndarray,
) -> np.ndarray:
    """Villages, people and sites attached at each vertex (shape (n_vertices, 3))."""
    return np.column_stack(
        [
            vertex_weights(graph.n_vertices, village_vertex),
            vertex_weights(graph.n_vertices, village_vertex, covered["population"]),
            vertex_weights(graph.n_vertices, site_vertex),
        ]
    )


def _own_spof_links(
    graphs: dict[str, FibreGraph],
    covered: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    listed: int,
    crs: str,
) -> gpd.GeoDataFrame:
    """Each operator's links that cut its own FTTH villages or its own sites off all of its own
    POPs/OLTs, found on its own graph: another operator's parallel cable is not its backup,
    and the others' villages and sites are not its loss. Ids are numbered within each
    operator ("SPOF-L-vnpt-00001"), and each operator's ``listed`` worst list their villages.
    The graphs and the layer are in ``crs``.
    """
    codes = covered["code"].to_numpy(dtype=str)
    site_operator = sites["operator"].to_numpy(dtype=str)
    frames = []
    for operator, graph in graphs.items():
        if not graph.n_edges:  # nodes without routes: nothing to fail
            continue
        res = analyse(graph)
        village_vertex = _village_vertices(res, covered, operator)
        site_vertex = nearest_vertices(graph, sites.geometry[site_operator == operator])[0]
        weights = _weights(graph, covered, village_vertex, site_vertex)
        frames.append(
            _spof_links(res, weights, village_vertex, codes, listed, f"SPOF-L-{operator}-")
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)


def _spof_links(
    res: Resilience,
    weights: np.ndarray,
    village_vertex: np.ndarray,
    codes: np.ndarray,
    listed: int,
    prefix: str = "SPOF-L-",
) -> gpd.GeoDataFrame:
    """Bridges that cut something off, worst (most people) first."""
    graph = res.graph
    routes = graph.routes
    bridge_loss = res.bridge_losses(weights)
    hit = bridge_loss.sum(axis=1) > 0
    edges = res.bridges[hit]
    loss = bridge_loss[hit]
    order = np.lexsort((-loss[:, 0], -loss[:, 1]))
    edges, loss = edges[order], loss[order]
    route = graph.edge_route[edges]
    listing = [_listing(res.cut_by_bridge(int(e)), village_vertex, codes) for e in edges[:listed]]
    return gpd.GeoDataFrame(
        {
            "spof_id": [f"{prefix}{i + 1:05d}" for i in range(len(edges))],
            "route_id": routes["route_id"].to_numpy()[route],
            "operator": routes["operator"].to_numpy()[route],
            "route_class": routes["route_class"].to_numpy()[route],
            "length_m": np.round(graph.edge_length_m[edges], 1),
            **_cut_columns(loss),
            "village_codes": listing + [None] * (len(edges) - len(listing)),
        },
        geometry=graph.edge_lines(edges),
        crs=graph.crs,
    )


def _spof_nodes(
    res: Resilience,
    weights: np.ndarray,
    village_vertex: np.ndarray,
    codes: np.ndarray,
    listed: int,
) -> gpd.GeoDataFrame:
    """Articulation points that cut something off, worst (most people) first."""
    graph = res.graph
    vertices, vertex_loss = res.vertex_losses(weights)
    hit = vertex_loss.sum(axis=1) > 0
    vertices, vertex_loss = vertices[hit], vertex_loss[hit]
    order = np.lexsort((-vertex_loss[:, 0], -vertex_loss[:, 1]))
    vertices, vertex_loss = vertices[order], vertex_loss[order]
    node_ids = graph.nodes.groupby(graph.node_vertex)["node_id"].agg(",".join)
    listing = [
        _listing(res.cut_by_vertex(int(v)), village_vertex, codes) for v in vertices[:listed]
    ]
    return gpd.GeoDataFrame(
        {
            "spof_id": [f"SPOF-N-{i + 1:05d}" for i in range(len(vertices))],
            "node_ids": node_ids.reindex(vertices).to_numpy(),
            "degree": graph.degree()[vertices],
            **_cut_columns(vertex_loss),
            "village_codes": listing + [None] * (len(vertices) - len(listing)),
        },
        geometry=shapely.points(graph.vertex_xy[vertices]),
        crs=graph.crs,
    )


def _cut_columns(loss: np.ndarray) -> dict[str, np.ndarray]:
    counts = np.rint(loss).astype(np.int64)
    return {"cut_villages": counts[:, 0], "cut_population": counts[:, 1], "cut_sites": counts[:, 2]}


def _redundancy(
    redundant: np.ndarray,
    covered: gpd.GeoDataFrame,
    village_vertex: np.ndarray,
    site_commune: pd.Series,
    site_vertex: np.ndarray,
    communes: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Per commune: villages and sites with a fibre path to a POP, and how many of them keep
    one after any single link fails."""

    def counts(commune: pd.Series, vertex: np.ndarray, name: str) -> pd.DataFrame:
        # -2: served from two networks, which no single failure cuts.
        on_fibre = (vertex >= 0) | (vertex == -2)
        safe = (vertex == -2) | ((vertex >= 0) & redundant[np.maximum(vertex, 0)])
        frame = pd.DataFrame({"commune_code": commune.to_numpy(), name: on_fibre, "safe": safe})
        grouped = frame.dropna(subset="commune_code").groupby("commune_code").sum()
        return grouped.rename(columns={"safe": f"redundant_{name}"})

    villages = counts(covered["commune_code"], village_vertex, "villages")
    sites = counts(site_commune, site_vertex, "sites")
    table = villages.join(sites, how="outer").fillna(0).astype("int64").reset_index()
    table.insert(1, "name", table["commune_code"].map(communes.set_index("code")["name"]))
    served = table["villages"] + table["sites"]
    safe = table["redundant_villages"] + table["redundant_sites"]
    table["redundancy_pct"] = (100 * safe / served.where(served > 0)).round(2)
    return table


def _rings(graphs: dict[str, FibreGraph], crs: str) -> gpd.GeoDataFrame:
    """Each operator's trunk rings, traced on its own graph (all in ``crs``), as closed lines
    through their vertices; ids are numbered within each operator ("RING-vnpt-001")."""
    rows = []
    for operator, graph in graphs.items():
        adjacency = graph.csgraph()
        sources = graph.sources(operator)
        for i, cycle in enumerate(trunk_rings(graph, operator)):
            closed = np.append(cycle, cycle[0])
            length = np.asarray(adjacency[closed[:-1], closed[1:]]).sum()
            rows.append(
                {
                    "ring_id": f"RING-{operator}-{i + 1:03d}",
                    "operator": operator,
                    "vertices": len(cycle),
                    "pops": int(np.isin(cycle, sources).sum()),
                    "length_m": round(float(length), 1),
                    "geometry": shapely.linestrings(graph.vertex_xy[closed]),
                }
            )
    columns = ["ring_id", "operator", "vertices", "pops", "length_m", "geometry"]
    return gpd.GeoDataFrame(rows, columns=columns, crs=crs)
