"""Physical positions and site sharing between operators.

Definitions (``../shared/DOMAIN.md``, made explicit here): sites within ``tolerance_m`` of each
other, or on the same ``structure_id``, are one **position**; a **shared position** hosts two or
more operators. The plan's **sharing ratio** is shared positions / all positions; the second
definition reported beside it is sites (BTS) on shared positions / all sites.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from gis_planner.admin import ancestor, locate, units
from gis_planner.crs import WGS84, lonlat_to_metric, metric_crs_of, metric_to_lonlat
from gis_planner.defaults import DEFAULT_POSITION_TOLERANCE_M as DEFAULT_TOLERANCE_M
from gis_planner.operators import operator

#: How positions are made, as recorded with the positions product.
POSITION_METHOD = "structure_id or within tolerance_m, connected components"
#: Separates the operator from the site id in a position's ``site_keys``.
KEY_SEPARATOR = ":"

#: Tenants a structure takes when its capacity is not recorded, by tower type: a lattice tower
#: carries three or four operators' antennas, a street pole one.
DEFAULT_CAPACITY: dict[str, int] = {
    "lattice": 4,
    "guyed": 3,
    "monopole": 3,
    "rooftop": 2,
    "street_pole": 1,
}


@dataclass(frozen=True)
class SharingTargets:
    """The plan's range for the sharing ratio (25–30 % of positions shared)."""

    low: float = 0.25
    high: float = 0.30


#: The marks of the provincial plan (Hà Nam, 2021–2030).
PLAN_TARGETS = SharingTargets()


def close_pairs(xy: npt.NDArray[np.float64], tolerance_m: float) -> npt.NDArray[np.int64]:
    """The pairs (i, j), i < j, of rows of ``xy`` (metres) within ``tolerance_m`` of each other."""
    if len(xy) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    # A k-d tree on points beats an R-tree query here.
    pairs = cKDTree(xy).query_pairs(tolerance_m, output_type="ndarray")
    return pairs.astype(np.int64).reshape(-1, 2)


def cluster_points(
    xy: npt.NDArray[np.float64],
    tolerance_m: float,
    groups: npt.NDArray[np.object_] | None = None,
    pairs: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """Component label of each point under "within ``tolerance_m``" (metres) or "same group".

    The one clustering of points in the library: site positions and fibre vertices both use it.
    Points are ``xy`` rows in a metric CRS; ``groups`` (e.g. structure ids, missing values
    joining nothing) links points however far apart. Labels are the connected components of
    that relation, so a chain A–B–C with each step within the tolerance is one cluster.
    ``pairs`` gives the pairs within the tolerance found elsewhere (``close_pairs`` of each
    part of the points, with the points of its neighbours near it: a partitioned run).
    """
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if pairs is None:
        pairs = close_pairs(xy, tolerance_m)
    left, right = pairs[:, 0], pairs[:, 1]
    if groups is not None:
        has = pd.notna(groups)
        codes, first = np.unique(groups[has].astype(str), return_index=True)
        members = np.flatnonzero(has)
        group = np.searchsorted(codes, groups[has].astype(str))
        left = np.concatenate([left, members])
        right = np.concatenate([right, members[first][group]])
    graph = coo_array((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def cluster_positions(
    sites: gpd.GeoDataFrame,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    *,
    metric_crs: str | None = None,
    pairs: npt.NDArray[np.int64] | None = None,
) -> pd.Series:
    """The physical position of each site: an integer id, the same for sites on one structure.

    Two sites are on one position when they share a ``structure_id`` or stand within
    ``tolerance_m`` metres of each other (``cluster_points``; ``pairs``: those pairs of rows,
    found elsewhere), measured in ``metric_crs`` (default: the sites' area's). Ids are numbered
    in the order of each position's smallest ``site_id``, so they do not depend on row order.
    """
    n = len(sites)
    if n == 0:
        return pd.Series(dtype="int64", index=sites.index, name="position_id")
    crs = metric_crs or metric_crs_of(sites)
    structure = sites["structure_id"].to_numpy(dtype=object) if "structure_id" in sites else None
    xy = np.column_stack(_metric_xy(sites, crs))
    labels = cluster_points(xy, tolerance_m, structure, pairs)
    order = np.argsort(sites["site_id"].to_numpy(dtype=str), kind="stable")
    first_seen = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first_seen, labels[order], np.arange(n))
    rank = np.argsort(np.argsort(first_seen, kind="stable"), kind="stable")
    return pd.Series(rank[labels], index=sites.index, name="position_id")


def site_capacity(sites: pd.DataFrame) -> pd.Series:
    """Tenants each site's structure can carry: ``max_tenants`` or the tower type's default."""
    default = sites["tower_type"].map(DEFAULT_CAPACITY).fillna(2)
    if "max_tenants" not in sites:
        return default.astype("int64")
    return sites["max_tenants"].astype("Float64").fillna(default).astype("int64")


def positions(
    sites: gpd.GeoDataFrame,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    *,
    metric_crs: str | None = None,
    pairs: npt.NDArray[np.int64] | None = None,
) -> gpd.GeoDataFrame:
    """One row per physical position, with its tenants, structure and whether it is shared.

    Positions are numbered as ``cluster_positions`` numbers them (row i is position i) and list
    their ``site_ids`` and ``site_keys`` (``operator:site_id``, which says whose each site is:
    two operators may use one site id). A position stands at the mean of its sites (in metres),
    its structure is its tallest, and its capacity the largest of its sites' structures.
    ``tenants`` counts distinct operators, so one operator twice on a position does not make it
    shared. Distances and means are taken in ``metric_crs`` (default: the sites' area's); the
    positions are returned in WGS84. Nothing depends on the sites' row order: the sites of a
    position are taken in the order of their ``site_keys``. ``pairs`` are the pairs of rows
    within the tolerance when found elsewhere (``gis_planner.layout.sharing``).
    """
    crs = metric_crs or metric_crs_of(sites)
    position_id = cluster_positions(sites, tolerance_m, metric_crs=crs, pairs=pairs)
    x, y = _metric_xy(sites, crs)
    frame = pd.DataFrame(
        {
            "position_id": position_id.to_numpy(),
            "site_id": sites["site_id"].to_numpy(dtype=str),
            "operator": sites["operator"].to_numpy(dtype=str),
            "tower_type": sites["tower_type"].to_numpy(dtype=object),
            "height_m": sites["height_m"].to_numpy(dtype=float),
            "capacity": site_capacity(sites).to_numpy(),
            "x": x,
            "y": y,
        }
    )
    frame["site_key"] = frame["operator"] + KEY_SEPARATOR + frame["site_id"]
    # In one order whatever the sites' order: a mean of three or more is not.
    frame = frame.sort_values(["position_id", "site_key"], ignore_index=True)
    grouped = frame.groupby("position_id", sort=True)
    by_height = frame.sort_values(["height_m", "site_id"], kind="stable")
    tallest = frame.loc[by_height.groupby("position_id").tail(1).index]
    tallest = tallest.set_index("position_id").sort_index()
    result = pd.DataFrame(
        {
            "position_id": grouped.size().index.to_numpy(),
            "n_sites": grouped.size().to_numpy(),
            "tenants": grouped["operator"].nunique().to_numpy(),
            "operators": _joined(frame.drop_duplicates(["position_id", "operator"]), "operator"),
            "site_ids": _joined(frame, "site_id"),
            "site_keys": _joined(frame, "site_key"),
            "tower_type": tallest["tower_type"].to_numpy(),
            "height_m": tallest["height_m"].to_numpy(),
            "capacity": grouped["capacity"].max().to_numpy(),
        }
    )
    result["shared"] = result["tenants"] >= 2
    lon, lat = metric_to_lonlat(grouped["x"].mean().to_numpy(), grouped["y"].mean().to_numpy(), crs)
    return gpd.GeoDataFrame(result, geometry=shapely.points(lon, lat), crs=WGS84)


def _metric_xy(
    sites: gpd.GeoDataFrame, crs: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Site coordinates in the metric CRS ``crs`` (sites are points, stored in WGS84)."""
    lonlat = (
        sites.geometry.to_crs(WGS84)
        if sites.crs and not sites.crs.equals(WGS84)
        else sites.geometry
    )
    return lonlat_to_metric(shapely.get_x(lonlat.to_numpy()), shapely.get_y(lonlat.to_numpy()), crs)


def hosts_operator(operators: pd.Series, operator: str) -> npt.NDArray[np.bool_]:
    """Whether each position (its comma-separated ``operators``) already hosts ``operator``."""
    padded = "," + operators.astype(str) + ","
    return padded.str.contains(f",{operator},", regex=False).to_numpy(dtype=bool)


def place_positions(
    table: gpd.GeoDataFrame, admin_units: gpd.GeoDataFrame, admin_version: str = "pre2025"
) -> gpd.GeoDataFrame:
    """Positions with the commune, district and province (of ``admin_version``) they stand in.

    The district and province are the commune's parents, so in a store of several provinces
    each position is counted in its own. The 2025 units have no district level (a commune's
    parent is its province), so ``district_code`` is empty for them.
    """
    placed = table.copy()
    commune = locate(placed.geometry, units(admin_units, "commune", admin_version))
    version = admin_units[admin_units["admin_version"] == admin_version]
    placed["commune_code"] = commune.to_numpy()
    for level in ("district", "province"):
        placed[f"{level}_code"] = ancestor(version, commune, level).astype("str").to_numpy()
    return placed


def _joined(frame: pd.DataFrame, column: str) -> npt.NDArray[np.object_]:
    """Per position (in id order), its sorted distinct values of ``column`` joined by commas."""
    ordered = frame.sort_values(["position_id", column])
    ids = ordered["position_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    # Concatenation of object arrays runs in numpy's loop, not one Python call per position.
    pieces = ordered[column].to_numpy(dtype=object) + ","
    joined = np.add.reduceat(pieces, starts)
    return pd.Series(joined, dtype=object).str[:-1].to_numpy(dtype=object)


RATIO_COLUMNS = (
    "scope", "code", "name", "positions", "shared_positions", "position_ratio", "sites",
    "sites_on_shared", "site_ratio", "meets_low", "meets_high", "shared_needed_low",
    "shared_needed_high",
)  # fmt: skip


def members(table: pd.DataFrame) -> pd.DataFrame:
    """The sites of each position of ``table`` (a positions product): one row per site with
    its ``position_id``, ``operator`` and ``site_id``, read from the ``site_keys``."""
    keys = table["site_keys"].astype(str).str.split(",")
    rows = pd.DataFrame(
        {"position_id": table["position_id"].to_numpy(), "site_key": keys.to_numpy()}
    ).explode("site_key", ignore_index=True)
    parts = rows["site_key"].str.split(KEY_SEPARATOR, n=1, expand=True)
    return pd.DataFrame(
        {
            "position_id": rows["position_id"].to_numpy(dtype=np.int64),
            "operator": parts[0].to_numpy(dtype=str),
            "site_id": parts[1].to_numpy(dtype=str),
        }
    )


def position_capacity(table: pd.DataFrame, sites: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Each position's capacity from ``sites`` as given (the product's members looked up there).

    For a view of the sites in which other operators' ``max_tenants`` are emptied, their
    structures fall back to the tower type's default: the capacity tells nothing the view hides.
    A position none of whose sites ``sites`` holds (sites changed since the product was made)
    takes its tower type's default.
    """
    found = members(table).merge(
        pd.DataFrame(
            {
                "operator": sites["operator"].to_numpy(dtype=str),
                "site_id": sites["site_id"].to_numpy(dtype=str),
                "capacity": site_capacity(sites).to_numpy(),
            }
        ),
        on=["operator", "site_id"],
    )
    best = found.groupby("position_id")["capacity"].max()
    default = table["tower_type"].map(DEFAULT_CAPACITY).fillna(2)
    capacity = table["position_id"].map(best).fillna(default)
    return capacity.to_numpy(dtype=np.int64)


def sharing_ratios(
    sites: gpd.GeoDataFrame,
    admin_units: gpd.GeoDataFrame,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    admin_version: str = "pre2025",
    targets: SharingTargets = PLAN_TARGETS,
    metric_crs: str | None = None,
) -> pd.DataFrame:
    """``position_ratios`` of the positions of ``sites`` at ``tolerance_m`` in ``metric_crs``
    (for notebooks; the commands and the API read the stored positions product instead)."""
    table = positions(sites, tolerance_m, metric_crs=metric_crs)
    placed = place_positions(table, admin_units, admin_version)
    return position_ratios(placed, admin_units, admin_version=admin_version, targets=targets)


def position_ratios(
    placed: gpd.GeoDataFrame,
    admin_units: gpd.GeoDataFrame,
    *,
    admin_version: str = "pre2025",
    targets: SharingTargets = PLAN_TARGETS,
) -> pd.DataFrame:
    """The sharing ratio by both definitions, for the province, each district, commune, operator.

    ``placed`` is a positions product placed in the units of ``admin_version`` (the output of
    ``place_positions``). A position belongs to the commune it stands in, and to that commune's
    district; an operator's figures count the positions it is on. ``shared_needed_*`` is how
    many more shared positions the scope would need at its current number of positions.
    """
    table = placed.reset_index(drop=True)
    # Site-level rows carry their position's place and sharing, for the second definition.
    # Each site's position comes from the product's site keys, not from the site ids: a site
    # id is its operator's, so two operators' sites may list the same id.
    per_site = members(table)
    row_of = pd.Series(np.arange(len(table)), index=table["position_id"].to_numpy())
    site_row = row_of.loc[per_site["position_id"].to_numpy()].to_numpy()
    per_site["on_shared"] = table["shared"].to_numpy(dtype=bool)[site_row]
    for column in ("province_code", "district_code", "commune_code"):
        per_site[column] = table[column].to_numpy()[site_row]

    names = admin_units.set_index(["admin_version", "code"])["name"]
    parts = []
    for scope, column in (
        ("province", "province_code"),
        ("district", "district_code"),
        ("commune", "commune_code"),
    ):
        if table[column].isna().all():
            continue
        by_position = table.groupby(column)["shared"].agg(["size", "sum"])
        by_site = per_site.groupby(column)["on_shared"].agg(["size", "sum"])
        part = _ratio_rows(scope, by_position, by_site)
        part["name"] = [names.get((admin_version, code), code) for code in part["code"]]
        parts.append(part)

    # An operator's positions: the distinct (operator, position) pairs.
    pairs = per_site.drop_duplicates(["operator", "position_id"])
    by_position = pairs.groupby("operator")["on_shared"].agg(["size", "sum"])
    by_site = per_site.groupby("operator")["on_shared"].agg(["size", "sum"])
    part = _ratio_rows("operator", by_position, by_site)
    part["name"] = [operator(key).name for key in part["code"]]
    parts.append(part)

    result = pd.concat(parts, ignore_index=True)
    result["meets_low"] = result["position_ratio"] >= targets.low
    result["meets_high"] = result["position_ratio"] >= targets.high
    for label, target in (("low", targets.low), ("high", targets.high)):
        needed = np.ceil(target * result["positions"] - result["shared_positions"] - 1e-9)
        result[f"shared_needed_{label}"] = needed.clip(lower=0).astype("int64")
    return result.loc[:, list(RATIO_COLUMNS)]


def _ratio_rows(scope: str, by_position: pd.DataFrame, by_site: pd.DataFrame) -> pd.DataFrame:
    part = pd.DataFrame(
        {
            "scope": scope,
            "code": by_position.index.astype(str),
            "positions": by_position["size"].to_numpy(),
            "shared_positions": by_position["sum"].to_numpy().astype("int64"),
            "sites": by_site["size"].reindex(by_position.index).to_numpy(),
            "sites_on_shared": by_site["sum"].reindex(by_position.index).to_numpy().astype("int64"),
        }
    )
    part["position_ratio"] = part["shared_positions"] / part["positions"]
    part["site_ratio"] = part["sites_on_shared"] / part["sites"]
    return part
