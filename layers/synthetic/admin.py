"""What both samples' administrative builds share: the source tables, the old → new converter,
seed placement and the synthetic share of population each commune gets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.synthetic.common import SOURCES, largest_remainder

#: Relative weight of a unit type in sharing the synthetic population out.
URBAN_WEIGHT = {"ward": 2.2, "township": 1.8, "rural_commune": 1.0}
AREA_EXPONENT = 0.6
UNIT_TYPES = {
    "Phường": "ward",
    "Xã": "rural_commune",
    "Thị trấn": "township",
    "Thành phố": "city",
    "Thị xã": "town",
    "Huyện": "rural_district",
}
#: The columns of a pre-2025 commune table, whatever file it comes from.
COMMUNE_COLUMNS = [
    "code", "name", "unit_type", "parent_code", "district_name", "district_type", "key", "lon",
    "lat",
]  # fmt: skip


@dataclass(frozen=True)
class Admin:
    """A sample's administrative units in its metric CRS, and the old → new crosswalk.

    Every frame carries ``code``, ``name`` and, where they are known at this stage,
    ``geometry_quality`` and ``source``; the build adds levels, versions and populations.
    """

    #: Pre-2025 provinces (``code``, ``name``).
    provinces: gpd.GeoDataFrame
    #: Pre-2025 district-level units (``unit_type``, ``parent_code`` = province).
    districts: gpd.GeoDataFrame
    #: Pre-2025 communes (``unit_type``, ``parent_code`` = district, ``population``).
    communes: gpd.GeoDataFrame
    communes_2025: gpd.GeoDataFrame
    province_2025: gpd.GeoDataFrame
    crosswalk: pd.DataFrame
    #: Whether the 2025 communes make up the whole 2025 province (so their sums are its own).
    complete_2025: bool


def read_hanam_communes() -> pd.DataFrame:
    """The 98 pre-2025 communes of Hà Nam: GSO list joined to the geocoded centroids."""
    codes = pd.read_csv(SOURCES / "hanam_communes_gso_codes.csv", dtype=str)
    centroids = pd.read_csv(SOURCES / "hanam_communes_pre2025_centroids.csv", dtype=str)
    centroids = centroids[["wardCode", "wardLat", "wardLon", "districtKey", "wardKey"]]
    table = codes.merge(centroids, left_on="level3_id", right_on="wardCode", validate="1:1")
    if len(table) != 98:
        raise RuntimeError(f"expected 98 communes, joined {len(table)}")
    table = pd.DataFrame(
        {
            "code": table["level3_id"],
            "name": table["ward"],
            "unit_type": table["ward_type"].map(UNIT_TYPES),
            "parent_code": table["level2_id"],
            "district_name": table["district"],
            "district_type": table["district_type"].map(UNIT_TYPES),
            "key": "tinhhanam_" + table["districtKey"] + "_" + table["wardKey"],
            "lon": table["wardLon"].astype(float),
            "lat": table["wardLat"].astype(float),
        }
    )
    return table.sort_values("code", ignore_index=True)


def read_units_2025() -> pd.DataFrame:
    """The 129 communes of the new Ninh Bình province, indexed by the converter's ward key."""
    return pd.read_csv(SOURCES / "ninhbinh_communes_2025_centroids.csv", dtype=str).set_index(
        "wardKey"
    )


def converter_tables() -> tuple[dict[str, list[str]], dict[str, list[dict[str, object]]]]:
    """vietnamadminunits' own old → new tables for the new Ninh Bình province: new ward key →
    old keys moved whole, and old key → the new wards a split commune went to."""
    raw = resources.files("vietnamadminunits").joinpath("data/converter_2025.json").read_text()
    data = json.loads(raw)
    whole = data["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhninhbinh"]
    split = data["DICT_PROVINCE_WARD_DIVIDED"]["tinhninhbinh"]
    return whole, split


def nudge_inside(
    point: shapely.Geometry, area: shapely.Geometry, margin_m: float
) -> shapely.Geometry:
    """``point`` if it lies in ``area``, else the nearest point ``margin_m`` inside it (or on
    the area, when it is too thin to hold such a point)."""
    if area.contains(point):
        return point
    inner = area.buffer(-margin_m)
    if inner.is_empty:
        return shapely.ops.nearest_points(area, point)[0]
    return shapely.ops.nearest_points(inner, point)[0]


def commune_populations(communes: gpd.GeoDataFrame, total: int) -> np.ndarray:
    """``total`` people shared among ``communes``: the share grows with the area (sub-linearly:
    large communes hold fields and karst hills) and with the urban character of the unit."""
    urban = communes["unit_type"].map(URBAN_WEIGHT).to_numpy(dtype=float)
    area_km2 = communes.area.to_numpy() / 1e6
    return largest_remainder(total, area_km2**AREA_EXPONENT * urban)


def converter_pairs(old_keys: pd.Index) -> pd.DataFrame:
    """The converter's old → new pairs of the communes whose full keys (``tinh…_huyen…_xa…``)
    are in ``old_keys``: one row per pair (``old_key``, ``new_key``, ``relation``,
    ``is_default``, and for a split commune the new unit's centroid ``new_lon``/``new_lat``),
    communes moved whole first, by new key, then split ones, by old key."""
    whole, split = converter_tables()
    rows: list[dict[str, object]] = []
    for new_key, olds in sorted(whole.items()):
        rows.extend(
            {"old_key": old, "new_key": new_key, "relation": "whole", "is_default": True}
            for old in olds
            if old in old_keys
        )
    for old, targets in sorted(split.items()):
        if old in old_keys:
            rows.extend(
                {"old_key": old, "new_key": str(t["newWardKey"]), "relation": "split",
                 "is_default": bool(t["isDefaultNewWard"]), "new_lon": t["newWardLon"],
                 "new_lat": t["newWardLat"]}
                for t in targets
            )  # fmt: skip
    pairs = pd.DataFrame(rows)
    missing = old_keys.difference(pairs["old_key"])
    if len(missing):
        raise RuntimeError(f"the converter does not place {len(missing)} communes: {missing[:5]}")
    return pairs
