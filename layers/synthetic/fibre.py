"""A synthetic fibre network: POPs and OLTs in district seats, trunk rings, trees to communes
(ODF) and villages (splitters).

In each former province, VNPT and Viettel close a trunk ring through the district seats
(underground where it touches the province's capital district, the first of its seats); FPT runs
one unprotected trunk line through its urban districts. Each operator reaches its communes from the
district POP along a minimum spanning tree (a few extra links make partial rings) and its
villages from the commune ODF the same way. Villages far from the commune centre are the ones
left out, so a few villages end up with no operator's fibre within reach. Twenty route ends
stop 2–4 m short of their node (snapped by the default 5 m tolerance), three stop 10–20 m short
(topology problems to report) and two routes are laid twice, in each former province.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from layers.synthetic.common import rng
from layers.synthetic.part import Part

#: Share of each commune's villages an operator reaches, nearest to the commune centre first.
VILLAGE_REACH = {"vnpt": 0.95, "viettel": 0.8, "fpt": 0.7}
CORES = {"trunk": 96, "distribution": 48, "access": 12}
PREFIX = {"vnpt": "VNPT", "viettel": "VTL", "fpt": "FPT"}
ID_CODE = {
    "pop": "POP", "olt": "OLT", "odf": "ODF", "splitter": "SPL",
    "trunk": "TR", "distribution": "DS", "access": "AC",
}  # fmt: skip
SHORT_ENDS, GAP_ENDS, DUPLICATES = 20, 3, 2


class _Network:
    """Accumulates nodes and routes with sequential ids per operator and type."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, object]] = []
        self.routes: list[dict[str, object]] = []
        self._seq: dict[tuple[str, str], int] = {}

    def _next(self, operator: str, kind: str) -> str:
        n = self._seq.get((operator, kind), 0) + 1
        self._seq[(operator, kind)] = n
        return f"{PREFIX[operator]}-{ID_CODE[kind]}-{n:04d}"

    def node(self, operator: str, node_type: str, xy: np.ndarray, name: str | None) -> int:
        ports = {"pop": None, "olt": 2048, "odf": 96, "splitter": 16}[node_type]
        self.nodes.append(
            {"node_id": self._next(operator, node_type), "operator": operator,
             "node_type": node_type, "name": name, "capacity_ports": ports,
             "x": float(xy[0]), "y": float(xy[1])}
        )  # fmt: skip
        return len(self.nodes) - 1

    def route(
        self, operator: str, route_class: str, a: int, b: int, laying: str, name: str | None
    ) -> None:
        ends = [(self.nodes[i]["x"], self.nodes[i]["y"]) for i in (a, b)]
        cores = CORES[route_class] if operator != "fpt" or route_class == "access" else 24
        self.routes.append(
            {"route_id": self._next(operator, route_class), "operator": operator,
             "route_class": route_class, "cores": cores, "laying": laying, "name": name,
             "coords": np.array(ends, dtype=float)}
        )  # fmt: skip

    def tree(self, operator: str, route_class: str, members: list[int], laying: str) -> None:
        xy = np.array([[self.nodes[i]["x"], self.nodes[i]["y"]] for i in members], dtype=float)
        if len(members) < 2:
            return
        mst = minimum_spanning_tree(cdist(xy, xy)).tocoo()
        for i, j in sorted(zip(mst.row.tolist(), mst.col.tolist(), strict=True)):
            self.route(operator, route_class, members[i], members[j], laying, None)


def _offset(gen: np.random.Generator, xy: np.ndarray, low: float, high: float) -> np.ndarray:
    angle, dist = gen.uniform(0, 2 * np.pi), gen.uniform(low, high)
    return xy + dist * np.array([np.cos(angle), np.sin(angle)])


def build_fibre(
    communes: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    parts: Sequence[Part],
    provinces: gpd.GeoSeries,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(nodes, routes) in the communes' CRS; ``provinces`` are the parts' outlines by code."""
    gen = rng("fibre")
    net = _Network()
    commune_xy = shapely.get_coordinates(communes.geometry.representative_point())
    village_xy = shapely.get_coordinates(villages.geometry.representative_point())
    commune_row = {code: i for i, code in enumerate(communes["code"])}
    for part in parts:
        first_route = len(net.routes)
        centre = shapely.get_coordinates(provinces[part.code].centroid)[0]
        capital = next(iter(part.seats))
        for operator in ("vnpt", "viettel", "fpt"):
            districts = part.fpt_districts if operator == "fpt" else tuple(part.seats)
            pops: dict[str, int] = {}
            for district in districts:
                seat = commune_row[part.seats[district]]
                name = str(communes["name"].iloc[seat])
                xy = _offset(gen, commune_xy[seat], 40, 160)
                pops[district] = net.node(operator, "pop", xy, f"POP {name}")
                olt = net.node(operator, "olt", _offset(gen, xy, 4, 8), f"OLT {name}")
                net.route(operator, "distribution", pops[district], olt, "underground", None)
            order = sorted(
                districts, key=lambda d: np.arctan2(*(net_xy(net, pops[d]) - centre)[::-1])
            )
            ring = list(zip(order, order[1:] + order[:1], strict=True))
            for a, b in ring if operator != "fpt" else ring[:-1]:
                laying = "underground" if capital in (a, b) else "aerial"
                ends = f"{net.nodes[pops[a]]['name']} – {net.nodes[pops[b]]['name']}"
                name = f"Trục {PREFIX[operator]} {ends}"
                net.route(operator, "trunk", pops[a], pops[b], laying, name)
            for district in districts:
                members = communes[communes["parent_code"] == district]
                if operator == "fpt":
                    members = members[members["unit_type"] == "ward"]
                odfs = []
                for code in members["code"]:
                    row = commune_row[code]
                    odf = net.node(operator, "odf", _offset(gen, commune_xy[row], 30, 200),
                                   f"ODF {communes['name'].iloc[row]}")  # fmt: skip
                    odfs.append(odf)
                    _villages(net, gen, operator, odf, villages, village_xy, code)
                net.tree(operator, "distribution", [pops[district], *odfs], "aerial")
                if operator == "vnpt" and len(odfs) > 3:
                    a, b = gen.choice(odfs, size=2, replace=False)
                    net.route(operator, "distribution", int(a), int(b), "aerial", None)
        _imperfections(net, gen, first_route)
    return _frames(net, communes.crs)


def net_xy(net: _Network, i: int) -> np.ndarray:
    return np.array([net.nodes[i]["x"], net.nodes[i]["y"]], dtype=float)


def _villages(
    net: _Network,
    gen: np.random.Generator,
    operator: str,
    odf: int,
    villages: gpd.GeoDataFrame,
    village_xy: np.ndarray,
    commune_code: str,
) -> None:
    rows = np.flatnonzero(villages["commune_code"].to_numpy() == commune_code)
    distance = np.hypot(*(village_xy[rows] - net_xy(net, odf)).T)
    reach = int(np.floor(VILLAGE_REACH[operator] * len(rows) + gen.random()))
    served = rows[np.argsort(distance, kind="stable")[:reach]]
    splitters = [
        net.node(
            operator,
            "splitter",
            _offset(gen, village_xy[r], 5, 80),
            f"Splitter {villages['name'].iloc[r]}",
        )
        for r in served
    ]
    net.tree(operator, "access", [odf, *splitters], "aerial")


def _imperfections(net: _Network, gen: np.random.Generator, first_route: int) -> None:
    """Short ends, gaps and twins among the access routes laid from ``first_route`` on."""
    routes = enumerate(net.routes[first_route:], start=first_route)
    access = [i for i, r in routes if r["route_class"] == "access"]
    picked = gen.choice(access, size=SHORT_ENDS + GAP_ENDS + DUPLICATES, replace=False)
    for n, i in enumerate(picked):
        route = net.routes[int(i)]
        coords = route["coords"]
        assert isinstance(coords, np.ndarray)
        if n < SHORT_ENDS + GAP_ENDS:
            gap = gen.uniform(2, 4) if n < SHORT_ENDS else gen.uniform(10, 20)
            direction = coords[0] - coords[1]
            coords[1] = coords[1] + direction / np.hypot(*direction) * gap
        else:
            twin = dict(route, coords=coords.copy())
            twin["route_id"] = net._next(str(route["operator"]), "access")
            net.routes.append(twin)


def _frames(net: _Network, crs: object) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    nodes = pd.DataFrame(net.nodes)
    node_frame = gpd.GeoDataFrame(
        nodes.drop(columns=["x", "y"]),
        geometry=shapely.points(nodes["x"].to_numpy(), nodes["y"].to_numpy()),
        crs=crs,
    )
    routes = pd.DataFrame(net.routes)
    route_frame = gpd.GeoDataFrame(
        routes.drop(columns=["coords"]),
        geometry=[shapely.linestrings(c) for c in routes["coords"]],
        crs=crs,
    )
    return node_frame, route_frame
