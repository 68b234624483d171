"""Fields an import fills in that a source file rarely carries, as the sample does.

Sites get the commune they stand in; administrative units get their level, type and parent
from what outlines usually carry (a level number, a name starting with "Huyện", "Thị xã"…).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_planner.admin import locate
from gis_planner.i18n import fold_key

#: Defaults of administrative outlines imported from a file (overridable with constants).
ADMIN_DEFAULTS = {"admin_version": "pre2025", "geometry_quality": "real"}

_LEVELS = {
    **dict.fromkeys(("1", "tinh", "captinh", "province"), "province"),
    **dict.fromkeys(("2", "huyen", "caphuyen", "quanhuyen", "district"), "district"),
    **dict.fromkeys(("3", "xa", "capxa", "phuongxa", "commune", "ward"), "commune"),
}
#: Vietnamese unit types, as a name starts or as a type column says (folded keys).
_UNIT_TYPES = {
    "tinh": "province",
    "thanhpho": "city",
    "thixa": "town",
    "huyen": "rural_district",
    "phuong": "ward",
    "thitran": "township",
    "xa": "rural_commune",
}
# Longest first, so that "Thị xã" is not read as "Thị" + "xã" → rural commune.
_PREFIXES = sorted(_UNIT_TYPES, key=len, reverse=True)
_PARENT_LEVEL = {"district": "province", "commune": "district"}


def _level(values: pd.Series) -> pd.Series:
    keys = values.astype("string").str.replace(r"\.0$", "", regex=True)
    folded = keys.map(lambda v: fold_key(v) if isinstance(v, str) else v)
    mapped = folded.map(_LEVELS)
    # Keep what is not understood, so that validation names it.
    return mapped.fillna(values.astype("string"))


def _type_from_name(names: pd.Series) -> pd.Series:
    folded = names.astype("string").map(lambda v: fold_key(v) if isinstance(v, str) else "")
    out = pd.Series(pd.NA, index=names.index, dtype="string")
    for prefix in _PREFIXES:
        hit = out.isna() & folded.str.startswith(prefix).fillna(False).astype(bool)
        out[hit] = _UNIT_TYPES[prefix]
    return out


def admin_fields(frame: gpd.GeoDataFrame, known: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Level, unit type and parent code of administrative units where they are missing.

    The parent of a district (commune) is the province (district) of the same administrative
    version containing its representative point, taken from the file itself or ``known``
    (the store's units).
    """
    out = frame.copy()
    if "level" in out:
        out["level"] = _level(out["level"])
    if "unit_type" in out:
        given = out["unit_type"].astype("string")
        folded = given.map(lambda v: fold_key(v) if isinstance(v, str) else v)
        out["unit_type"] = folded.map(_UNIT_TYPES).fillna(given)
    else:
        out["unit_type"] = pd.Series(pd.NA, index=out.index, dtype="string")
    if "name" in out:
        out["unit_type"] = out["unit_type"].fillna(_type_from_name(out["name"]))
    if "level" in out:
        out.loc[out["level"] == "province", "unit_type"] = "province"
    if "level" not in out or "admin_version" not in out:
        return out
    if "parent_code" not in out:
        out["parent_code"] = pd.Series(pd.NA, index=out.index, dtype="string")
    pool = [out[["code", "level", "admin_version", "geometry"]]]
    if known is not None and not known.empty:
        pool.append(known[["code", "level", "admin_version", "geometry"]])
    candidates = gpd.GeoDataFrame(pd.concat(pool, ignore_index=True), crs=frame.crs)
    candidates = candidates[candidates.geometry.notna() & candidates["code"].notna()]
    for level, parent_level in _PARENT_LEVEL.items():
        for version in out["admin_version"].dropna().unique():
            need = (
                (out["level"] == level)
                & (out["admin_version"] == version)
                & out["parent_code"].isna()
                & out.geometry.notna()
            ).to_numpy()
            parents = candidates[
                (candidates["level"] == parent_level) & (candidates["admin_version"] == version)
            ]
            if not need.any() or parents.empty:
                continue
            points = out.geometry[need].representative_point()
            out.loc[need, "parent_code"] = locate(points, parents.reset_index(drop=True))
    return out


def site_communes(points: gpd.GeoSeries, communes: gpd.GeoDataFrame | None) -> pd.Series:
    """The code of the commune each site stands in (``<NA>`` outside them or with none)."""
    if communes is None or communes.empty:
        return pd.Series(pd.NA, index=points.index, dtype="string")
    has = points.notna().to_numpy() & ~np.asarray(points.is_empty)
    out = pd.Series(pd.NA, index=points.index, dtype="string")
    if has.any():
        out[has] = locate(points[has], communes).astype("string")
    return out
