"""Physical positions and site sharing between operators."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from gis_planner.crs import UTM48N

DEFAULT_TOLERANCE_M = 30.0


def cluster_positions(
    sites: gpd.GeoDataFrame, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> pd.Series:
    """The physical position of each site: an integer id, the same for sites on one structure.

    Two sites are on one position when they share a ``structure_id`` or stand within
    ``tolerance_m`` metres of each other; positions are the connected components of that
    relation (so a chain A–B–C with each step within the tolerance is one position). Ids are
    numbered in the order of each position's smallest ``site_id``, so they do not depend on row
    order.
    """
    n = len(sites)
    if n == 0:
        return pd.Series(dtype="int64", index=sites.index, name="position_id")
    points = sites.geometry.to_crs(UTM48N).to_numpy()
    tree = shapely.STRtree(points)
    left, right = tree.query(points, predicate="dwithin", distance=tolerance_m)
    structure = sites["structure_id"].to_numpy(dtype=object) if "structure_id" in sites else None
    if structure is not None:
        has = pd.notna(structure)
        codes, first = np.unique(structure[has].astype(str), return_index=True)
        members = np.flatnonzero(has)
        group = np.searchsorted(codes, structure[has].astype(str))
        left = np.concatenate([left, members])
        right = np.concatenate([right, members[first][group]])
    graph = coo_array((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(sites["site_id"].to_numpy(dtype=str), kind="stable")
    first_seen = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first_seen, labels[order], np.arange(n))
    rank = np.argsort(np.argsort(first_seen, kind="stable"), kind="stable")
    return pd.Series(rank[labels], index=sites.index, name="position_id")
