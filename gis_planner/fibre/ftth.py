"""FTTH coverage of villages: which operators' fibre lies within drop distance of each village,
and the shares by commune, district and province against the 100 % target."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.admin import units
from gis_planner.crs import metric_crs_of
from gis_planner.defaults import DEFAULT_DROP_M
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.backhaul import mask_names
from gis_planner.operators import OPERATOR_KEYS

#: Nodes a subscriber drop is spliced from (DOMAIN: "distribution point (splitter/ODF)").
DISTRIBUTION_NODE_TYPES = ("splitter", "odf")
TARGET_PCT = 100.0


def ftth_villages(
    villages: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    drop_m: float = DEFAULT_DROP_M,
    *,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Villages with ``covered``, the ``operators`` reaching them and ``fibre_dist_m``.

    A village is covered when a distribution point or a route of some operator lies within
    ``drop_m`` of its outline (distance 0 inside it). ``fibre_dist_m`` is the distance to the
    nearest such fibre, so a gap village shows how far the network is. Distances are measured
    in ``metric_crs`` (default: the villages' area's).
    """
    if drop_m < 0:
        raise GisPlannerError(f"drop distance must be ≥ 0 m, got {drop_m}")
    crs = metric_crs or metric_crs_of(villages)
    points = nodes[nodes["node_type"].isin(DISTRIBUTION_NODE_TYPES)]
    fibre = pd.concat(
        [
            routes[["operator", "geometry"]].to_crs(crs),
            points[["operator", "geometry"]].to_crs(crs),
        ],
        ignore_index=True,
    )
    areas = villages.geometry.to_crs(crs).to_numpy()
    n = len(areas)
    mask = np.zeros(n, dtype=np.int64)
    dist = np.full(n, np.nan)
    if len(fibre):
        tree = shapely.STRtree(fibre.geometry.to_numpy())
        village_idx, fibre_idx = tree.query(areas, predicate="dwithin", distance=drop_m)
        bit = {key: 1 << i for i, key in enumerate(OPERATOR_KEYS)}
        fibre_bits = fibre["operator"].map(bit).to_numpy(dtype=np.int64)
        np.bitwise_or.at(mask, village_idx, fibre_bits[fibre_idx])
        idx, nearest = tree.query_nearest(areas, return_distance=True, all_matches=False)
        dist[idx[0]] = nearest
    out = villages.copy()
    out["covered"] = mask > 0
    out["operators"] = mask_names(mask).to_numpy()
    out["n_operators"] = np.bitwise_count(mask.astype(np.uint64)).astype(np.int64)
    out["fibre_dist_m"] = np.round(dist, 1)
    return out


def pon_reach(
    villages: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    drop_m: float = DEFAULT_DROP_M,
    *,
    metric_crs: str | None = None,
) -> pd.DataFrame:
    """The PONs the fibre layer names near each village: ``code``, ``operator``, ``pon`` for
    every distribution point with a ``pon`` within ``drop_m`` of a village's outline (the
    reach of ``ftth_villages``), one row per village, operator and PON."""
    columns = ["code", "operator", "pon"]
    if "pon" not in nodes.columns:
        return pd.DataFrame(columns=columns)
    named = nodes[nodes["node_type"].isin(DISTRIBUTION_NODE_TYPES) & nodes["pon"].notna()]
    if named.empty or villages.empty:
        return pd.DataFrame(columns=columns)
    crs = metric_crs or metric_crs_of(villages)
    tree = shapely.STRtree(named.geometry.to_crs(crs).to_numpy())
    village_idx, node_idx = tree.query(
        villages.geometry.to_crs(crs).to_numpy(), predicate="dwithin", distance=drop_m
    )
    found = pd.DataFrame(
        {
            "code": villages["code"].to_numpy()[village_idx],
            "operator": named["operator"].to_numpy()[node_idx],
            "pon": named["pon"].to_numpy()[node_idx],
        }
    )
    return found.drop_duplicates(ignore_index=True)


def ftth_shares(covered: gpd.GeoDataFrame, admin_units: gpd.GeoDataFrame) -> pd.DataFrame:
    """Share of villages and of people with FTTH by commune, district and province (pre-2025
    units, which villages are coded in), against the 100 % target."""
    communes = units(admin_units, "commune")
    districts = units(admin_units, "district")
    provinces = units(admin_units, "province")
    frame = pd.DataFrame(
        {
            "commune": covered["commune_code"].to_numpy(dtype=str),
            "villages": 1,
            "covered_villages": covered["covered"].to_numpy(dtype=int),
            "population": covered["population"].to_numpy(dtype=float),
        }
    )
    frame["covered_population"] = frame["population"] * frame["covered_villages"]
    parent = communes.set_index("code")["parent_code"]
    frame["district"] = frame["commune"].map(parent).to_numpy()
    frame["province"] = frame["district"].map(districts.set_index("code")["parent_code"])
    names = pd.concat([communes, districts, provinces]).set_index("code")["name"]
    names = names[~names.index.duplicated()]
    parts = []
    sums = ["villages", "covered_villages", "population", "covered_population"]
    for level in ("province", "district", "commune"):
        # A village coded to a commune the admin layer lacks still counts, under "unknown".
        frame[level] = frame[level].fillna("unknown")
        grouped = frame.groupby(level)[sums].sum().reset_index(names="code")
        grouped.insert(0, "level", level)
        parts.append(grouped)
    shares = pd.concat(parts, ignore_index=True)
    shares["code"] = shares["code"].astype("str")
    shares.insert(2, "name", shares["code"].map(names).to_numpy())
    shares["village_share_pct"] = 100 * shares["covered_villages"] / shares["villages"]
    shares["population_share_pct"] = (
        100 * shares["covered_population"] / shares["population"].where(shares["population"] > 0)
    )
    shares["target_pct"] = TARGET_PCT
    shares["gap_villages"] = shares["villages"] - shares["covered_villages"]
    for column in ("village_share_pct", "population_share_pct"):
        shares[column] = shares[column].round(2)
    return shares.astype({c: "int64" for c in ("villages", "covered_villages", "gap_villages")})
