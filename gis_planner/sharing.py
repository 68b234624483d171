"""Physical positions and site sharing between operators."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from gis_planner.crs import UTM48N, WGS84

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


@dataclass(frozen=True)
class SharingRatio:
    """The plan's sharing metric: shared positions / all positions, and the same for sites."""

    positions: int
    shared_positions: int
    sites: int
    sites_on_shared: int
    tolerance_m: float

    @property
    def position_ratio(self) -> float:
        return self.shared_positions / self.positions if self.positions else 0.0

    @property
    def site_ratio(self) -> float:
        return self.sites_on_shared / self.sites if self.sites else 0.0


def positions_of(
    sites: gpd.GeoDataFrame, tolerance_m: float = DEFAULT_TOLERANCE_M
) -> gpd.GeoDataFrame:
    """One row per physical position: its sites, operators, whether it is shared, its centre.

    The centre is the mean of the sites' UTM coordinates. ``operators`` and ``site_ids`` are
    sorted, comma-separated lists.
    """
    ids = cluster_positions(sites, tolerance_m)
    metric = sites.geometry.to_crs(UTM48N)
    frame = pd.DataFrame(
        {
            "position_id": ids.to_numpy(),
            "site_id": sites["site_id"].astype(str).to_numpy(),
            "operator": sites["operator"].astype(str).to_numpy(),
            "x": metric.x.to_numpy(),
            "y": metric.y.to_numpy(),
        }
    )
    grouped = frame.sort_values("site_id").groupby("position_id", sort=True)
    operators = grouped["operator"].agg(lambda s: ",".join(sorted(set(s))))
    table = pd.DataFrame(
        {
            "position_id": operators.index.to_numpy(dtype=np.int64),
            "n_sites": grouped.size().to_numpy(dtype=np.int64),
            "n_operators": grouped["operator"].nunique().to_numpy(dtype=np.int64),
            "operators": operators.to_numpy(dtype=object),
            "site_ids": grouped["site_id"].agg(",".join).to_numpy(dtype=object),
        }
    )
    table["shared"] = table["n_operators"] >= 2
    centres = shapely.points(grouped["x"].mean().to_numpy(), grouped["y"].mean().to_numpy())
    return gpd.GeoDataFrame(table, geometry=centres, crs=UTM48N).to_crs(WGS84)


def sharing_ratio(positions: gpd.GeoDataFrame, tolerance_m: float) -> SharingRatio:
    """The sharing ratio of the table ``positions_of`` returns."""
    shared = positions["shared"].to_numpy(dtype=bool)
    n_sites = positions["n_sites"].to_numpy(dtype=np.int64)
    return SharingRatio(
        positions=len(positions),
        shared_positions=int(shared.sum()),
        sites=int(n_sites.sum()),
        sites_on_shared=int(n_sites[shared].sum()),
        tolerance_m=tolerance_m,
    )
