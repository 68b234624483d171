"""National-scale synthetic layers for benchmarks (not the Hà Nam sample)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.operators import MOBILE_OPERATORS

#: Rough extent of mainland Vietnam's populated lowlands, enough for realistic spatial spread.
VIETNAM_BBOX = (102.2, 8.6, 109.4, 23.3)


def national_sites(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` sites valid against the catalogue, spread over Vietnam's extent."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = VIETNAM_BBOX
    operators = np.array(MOBILE_OPERATORS)
    towers = np.array(["lattice", "monopole", "rooftop", "guyed"])
    return gpd.GeoDataFrame(
        {
            "site_id": np.char.add("VN-", np.arange(n).astype(str)),
            "operator": operators[rng.integers(0, len(operators), n)],
            "tower_type": towers[rng.integers(0, len(towers), n)],
            "height_m": np.round(rng.uniform(15, 60, n), 1),
            "structure_id": pd.Series(np.char.add("T-", np.arange(n).astype(str))).where(
                rng.random(n) < 0.3
            ),
            "status": "on-air",
            "source": "synthetic benchmark",
        },
        geometry=shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)),
        crs="EPSG:4326",
    )


def national_fibre(n_edges: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(routes, nodes) of a synthetic national fibre network with about ``n_edges`` routes.

    Nodes are spread over Vietnam's extent; routes are their Delaunay minimum spanning tree plus
    the shortest other Delaunay links (rings), each a straight route between two nodes. One
    route end in fifty stops 1–3 m short of its node, so snapping has work to do.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay

    from gis_planner.crs import lonlat_to_metric, metric_crs, metric_to_lonlat

    rng = np.random.default_rng(seed)
    n = int(n_edges * 0.8)
    minx, miny, maxx, maxy = VIETNAM_BBOX
    crs = metric_crs(VIETNAM_BBOX)
    x, y = lonlat_to_metric(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n), crs)
    xy = np.column_stack([x, y])
    simplices = Delaunay(xy).simplices
    pairs = np.sort(np.concatenate([simplices[:, [0, 1]], simplices[:, [1, 2]],
                                    simplices[:, [0, 2]]]), axis=1)  # fmt: skip
    pairs = np.unique(pairs, axis=0)
    length = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    tree = minimum_spanning_tree(coo_array((length, (pairs[:, 0], pairs[:, 1])), shape=(n, n)))
    tree = tree.tocoo()
    in_tree = np.zeros(len(pairs), dtype=bool)
    key = pairs[:, 0] * n + pairs[:, 1]
    tree_key = np.minimum(tree.row, tree.col) * n + np.maximum(tree.row, tree.col)
    in_tree[np.isin(key, tree_key)] = True
    extra = np.flatnonzero(~in_tree)[np.argsort(length[~in_tree])][: n_edges - in_tree.sum()]
    chosen = pairs[np.concatenate([np.flatnonzero(in_tree), extra])]
    starts, ends = xy[chosen[:, 0]].copy(), xy[chosen[:, 1]].copy()
    short = rng.random(len(chosen)) < 0.02
    direction = starts[short] - ends[short]
    ends[short] += direction / np.hypot(*direction.T)[:, None] * rng.uniform(1, 3, (short.sum(), 1))
    lon0, lat0 = metric_to_lonlat(starts[:, 0], starts[:, 1], crs)
    lon1, lat1 = metric_to_lonlat(ends[:, 0], ends[:, 1], crs)
    fixed = np.array(["vnpt", "viettel", "fpt"])
    m = len(chosen)
    routes = gpd.GeoDataFrame(
        {
            "route_id": np.char.add("R-", np.arange(m).astype(str)),
            "operator": fixed[rng.integers(0, 3, m)],
            "route_class": np.array(["trunk", "distribution", "access"])[
                rng.choice(3, m, p=[0.05, 0.3, 0.65])
            ],
            "cores": 48,
            "laying": np.array(["aerial", "underground"])[rng.integers(0, 2, m)],
        },
        geometry=shapely.linestrings(np.stack([np.column_stack([lon0, lat0]),
                                               np.column_stack([lon1, lat1])], axis=1)),
        crs="EPSG:4326",
    )  # fmt: skip
    lon, lat = metric_to_lonlat(xy[:, 0], xy[:, 1], crs)
    nodes = gpd.GeoDataFrame(
        {
            "node_id": np.char.add("N-", np.arange(n).astype(str)),
            "operator": fixed[rng.integers(0, 3, n)],
            "node_type": np.array(["pop", "olt", "odf", "splitter"])[
                rng.choice(4, n, p=[0.01, 0.02, 0.2, 0.77])
            ],
        },
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )
    return routes, nodes


def colocate(sites: gpd.GeoDataFrame, fraction: float, seed: int = 0) -> gpd.GeoDataFrame:
    """Moves ``fraction`` of the sites to within 20 m of another site, as sharing does."""
    rng = np.random.default_rng(seed)
    n = len(sites)
    movers = rng.choice(n, int(n * fraction), replace=False)
    anchors = rng.integers(0, n, len(movers))
    x = sites.geometry.x.to_numpy().copy()
    y = sites.geometry.y.to_numpy().copy()
    # 20 m is about 0.00018° of latitude; longitude degrees are a little shorter here.
    x[movers] = x[anchors] + rng.uniform(-0.00012, 0.00012, len(movers))
    y[movers] = y[anchors] + rng.uniform(-0.00012, 0.00012, len(movers))
    return sites.set_geometry(shapely.points(x, y), crs=sites.crs)
