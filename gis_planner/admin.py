"""Administrative units: picking a version and level, and placing points in communes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.catalogue.layers import ADMIN_VERSIONS
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang

AdminVersion = str  # "pre2025" | "2025-07"
#: What a unit that no longer exists is called after its name: "Tỉnh Hà Nam (cũ)".
FORMER = {"vi": "cũ", "en": "former"}


def units(
    admin_units: gpd.GeoDataFrame, level: str, version: AdminVersion = "pre2025"
) -> gpd.GeoDataFrame:
    """The units of one level ("province", "district", "commune") of one administrative version."""
    mask = (admin_units["level"] == level) & (admin_units["admin_version"] == version)
    selected = admin_units[mask]
    if selected.empty:
        raise GisPlannerError(f"no {level} units of version {version!r} in admin_units")
    return selected.sort_values("code", ignore_index=True)


def unit_names(admin_units: pd.DataFrame) -> dict[str, str]:
    """District and commune names by code, for tables and popups: the pre-2025 units' where
    both versions use a code (villages' ``commune_code`` is pre-2025)."""
    below = admin_units[admin_units["level"] != "province"].sort_values(
        "admin_version", key=lambda version: version == "pre2025", kind="stable"
    )
    return dict(zip(below["code"].astype(str), below["name"].astype(str), strict=True))


def ancestor(admin_units: pd.DataFrame, codes: pd.Series, level: str) -> pd.Series:
    """For each unit code in ``codes``, the code of the unit of ``level`` above it (itself if
    it is of that level; ``<NA>`` where the chain of ``parent_code`` never reaches it).

    ``admin_units`` holds the units of one administrative version, whose codes are unique.
    """
    by_code = admin_units.set_index("code")
    parents, levels = by_code["parent_code"], by_code["level"]
    current = codes.astype("string")
    found = pd.Series(pd.NA, index=codes.index, dtype="string")
    # A chain is province ← district ← commune at most: a few vectorised steps, no row loop.
    for _ in range(len(levels.unique()) + 1):
        here = current.map(levels)
        reached = (here == level).fillna(False).astype(bool) & found.isna()
        found[reached] = current[reached]
        current = current.map(parents).astype("string")
        if current.isna().all():
            break
    return found


def locate(points: gpd.GeoSeries, areas: gpd.GeoDataFrame, key: str = "code") -> pd.Series:
    """The ``key`` of the area containing each point (``<NA>`` outside every area).

    A point on a shared border goes to the area listed first in ``areas``, so the result does
    not depend on the geometry engine's iteration order.
    """
    if points.crs is not None and areas.crs is not None and not points.crs.equals(areas.crs):
        points = points.to_crs(areas.crs)
    geoms = areas.geometry.to_numpy()
    values = points.to_numpy()
    tree = shapely.STRtree(geoms)
    if len(values) and (shapely.get_type_id(values) == 0).all():
        point_idx, area_idx = _points_in(tree, geoms, values)
    else:
        point_idx, area_idx = tree.query(values, predicate="intersects")
    order = np.lexsort((area_idx, point_idx))
    point_idx, area_idx = point_idx[order], area_idx[order]
    first = np.unique(point_idx, return_index=True)[1]
    codes = pd.Series(pd.NA, index=points.index, dtype="str")
    codes.iloc[point_idx[first]] = areas[key].to_numpy()[area_idx[first]]
    return codes


def _points_in(
    tree: shapely.STRtree, areas: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (point, area) pairs of points intersecting areas (``tree.query`` with the predicate
    "intersects"): the candidates by bounding box, then each area, prepared, against its
    candidates' coordinates at once rather than each point against each area."""
    point_idx, area_idx = tree.query(points)
    if len(area_idx) == 0:
        return point_idx, area_idx  # no point near any area (the loop below reads the first)
    order = np.argsort(area_idx, kind="stable")
    point_idx, area_idx = point_idx[order], area_idx[order]
    x, y = shapely.get_x(points), shapely.get_y(points)
    hit = np.zeros(len(point_idx), dtype=bool)
    bounds = np.flatnonzero(np.diff(area_idx)) + 1
    for start, end in zip(np.r_[0, bounds], np.r_[bounds, len(area_idx)], strict=True):
        area = areas[area_idx[start]]
        shapely.prepare(area)
        candidates = point_idx[start:end]
        hit[start:end] = shapely.intersects_xy(area, x[candidates], y[candidates])
    return point_idx[hit], area_idx[hit]


def place_name(admin_units: gpd.GeoDataFrame, lang: Lang = "vi") -> str:
    """The province of the newest administrative version in ``admin_units`` and, after it,
    the former provinces the store holds ("Tỉnh Ninh Bình — Tỉnh Hà Nam (cũ)"): a store of one
    former province is not the whole new province."""
    provinces = admin_units[admin_units["level"] == "province"]
    names = {
        version: list(
            provinces.loc[provinces["admin_version"] == version].sort_values("code")["name"]
        )
        for version in ADMIN_VERSIONS
    }
    current = ", ".join(map(str, names["2025-07"]))
    # Provinces that came through unchanged (the same names in both versions) have no former
    # ones to name; otherwise every former province is named, even one whose name lives on.
    unchanged = list(names["pre2025"]) == list(names["2025-07"])
    former = "" if unchanged else ", ".join(f"{n} ({FORMER[lang]})" for n in names["pre2025"])
    return " — ".join(part for part in (current, former) if part)


def unit_name(admin_units: pd.DataFrame, version: str, code: str, lang: Lang = "vi") -> str:
    """The name of one unit; a former (pre-2025) province or district says so."""
    match = admin_units[(admin_units["admin_version"] == version) & (admin_units["code"] == code)]
    if match.empty:
        raise GisPlannerError(f"no {version} administrative unit with code {code!r}")
    name = str(match["name"].iloc[0])
    level = str(match["level"].iloc[0])
    return f"{name} ({FORMER[lang]})" if version == "pre2025" and level != "commune" else name
