"""Administrative units of both versions and the pre-2025 → 2025-07 crosswalk.

Province and district outlines are real. Commune outlines are not public: each commune is the
Voronoi cell of its real centroid, clipped to its real district, and marked ``approximate``.
The 2025-07 communes are unions of those cells (a pre-2025 commune split between several new
ones is cut by the Voronoi cells of the new centroids). Populations are synthetic: the
commune's share of the province's ~880,000 people grows with its area (sub-linearly: large
communes hold fields and karst hills) and with its urban character.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.crs import UTM48N, WGS84
from layers.hanam_sample.common import (
    CENTROIDS,
    GOV_OUTLINE,
    GSO_CODES,
    SOURCES,
    SYNTHETIC,
    largest_remainder,
    voronoi_cells,
)

PROVINCE_POPULATION = 880_000
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


@dataclass(frozen=True)
class Admin:
    """The built administrative layers, in UTM 48N, plus the crosswalk table."""

    province: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    communes_2025: gpd.GeoDataFrame
    province_2025: gpd.GeoDataFrame
    crosswalk: pd.DataFrame


def _read_outlines() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    province = gpd.read_file(SOURCES / "hanam_province_2025-03.geojson").to_crs(UTM48N)
    districts = gpd.read_file(SOURCES / "hanam_districts_2025-03.geojson").to_crs(UTM48N)
    districts = districts.rename(columns={"id": "code"})[["code", "geometry"]]
    return province, districts.sort_values("code", ignore_index=True)


def _read_communes() -> pd.DataFrame:
    codes = pd.read_csv(SOURCES / "hanam_communes_gso_codes.csv", dtype=str)
    centroids = pd.read_csv(SOURCES / "hanam_communes_pre2025_centroids.csv", dtype=str)
    centroids = centroids[["wardCode", "wardLat", "wardLon", "districtKey", "wardKey"]]
    table = codes.merge(centroids, left_on="level3_id", right_on="wardCode", validate="1:1")
    if len(table) != 98:
        raise RuntimeError(f"expected 98 communes, joined {len(table)}")
    return table.sort_values("level3_id", ignore_index=True)


def _inside(point: shapely.Geometry, area: shapely.Geometry, margin_m: float) -> shapely.Geometry:
    """``point`` if it lies in ``area``, else the nearest point ``margin_m`` inside it."""
    if area.contains(point):
        return point
    inner = area.buffer(-margin_m)
    return shapely.ops.nearest_points(inner, point)[0]


def _commune_cells(
    table: pd.DataFrame, districts: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    lon = table["wardLon"].astype(float).to_numpy()
    lat = table["wardLat"].astype(float).to_numpy()
    seeds = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(UTM48N).to_numpy()
    moved: list[str] = []
    cells = np.empty(len(table), dtype=object)
    for code, district in zip(districts["code"], districts.geometry, strict=True):
        members = np.flatnonzero(table["level2_id"].to_numpy() == code)
        for i in members:
            fixed = _inside(seeds[i], district, 300.0)
            if fixed is not seeds[i]:
                moved.append(str(table["level3_id"].iloc[i]))
                seeds[i] = fixed
        cells[members] = voronoi_cells(shapely.get_coordinates(seeds[members]), district)
    frame = gpd.GeoDataFrame(
        {
            "code": table["level3_id"].to_numpy(),
            "name": table["ward"].to_numpy(),
            "unit_type": table["ward_type"].map(UNIT_TYPES).to_numpy(),
            "parent_code": table["level2_id"].to_numpy(),
            "key": (table["districtKey"] + "_" + table["wardKey"]).to_numpy(),
            "seed": seeds,
        },
        geometry=cells,
        crs=UTM48N,
    )
    return frame, moved


def _populations(communes: gpd.GeoDataFrame) -> np.ndarray:
    urban = communes["unit_type"].map(URBAN_WEIGHT).to_numpy(dtype=float)
    area_km2 = communes.area.to_numpy() / 1e6
    return largest_remainder(PROVINCE_POPULATION, area_km2**AREA_EXPONENT * urban)


def _converter_tables() -> tuple[dict[str, list[str]], dict[str, list[dict[str, object]]]]:
    """vietnamadminunits' own old → new tables for the new Ninh Bình province."""
    raw = resources.files("vietnamadminunits").joinpath("data/converter_2025.json").read_text()
    data = json.loads(raw)
    whole = data["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhninhbinh"]
    split = data["DICT_PROVINCE_WARD_DIVIDED"]["tinhninhbinh"]
    return whole, split


def _units_2025(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    new = pd.read_csv(SOURCES / "ninhbinh_communes_2025_centroids.csv", dtype=str)
    new = new.set_index("wardKey")
    whole, split = _converter_tables()
    old_key = "tinhhanam_"
    pieces: list[dict[str, object]] = []
    by_key = communes.set_index("key")
    for new_key, olds in sorted(whole.items()):
        for old in olds:
            if old.startswith(old_key):
                unit = by_key.loc[old.removeprefix(old_key)]
                pieces.append(
                    {"old_code": unit["code"], "new_key": new_key, "relation": "whole",
                     "is_default": True, "geometry": unit.geometry}
                )  # fmt: skip
    for old, targets in sorted(split.items()):
        if not old.startswith(old_key):
            continue
        unit = by_key.loc[old.removeprefix(old_key)]
        keys = [str(t["newWardKey"]) for t in targets]
        seeds = gpd.GeoSeries(
            gpd.points_from_xy(
                [float(t["newWardLon"]) for t in targets],  # type: ignore[arg-type]
                [float(t["newWardLat"]) for t in targets],  # type: ignore[arg-type]
            ),
            crs=WGS84,
        ).to_crs(UTM48N)
        parts = voronoi_cells(shapely.get_coordinates(seeds.to_numpy()), unit.geometry)
        for key, target, part in zip(keys, targets, parts, strict=True):
            pieces.append(
                {"old_code": unit["code"], "new_key": key, "relation": "split",
                 "is_default": bool(target["isDefaultNewWard"]), "geometry": part}
            )  # fmt: skip
    piece_frame = gpd.GeoDataFrame(pieces, geometry="geometry", crs=UTM48N)
    piece_frame = piece_frame[~piece_frame.geometry.is_empty]
    old_area = piece_frame["old_code"].map(communes.set_index("code").area)
    piece_frame["area_share"] = (piece_frame.area / old_area).round(4)
    piece_frame["new_code"] = piece_frame["new_key"].map(new["wardCode"])
    piece_frame["new_name"] = piece_frame["new_key"].map(new["ward"])
    piece_frame["old_name"] = piece_frame["old_code"].map(communes.set_index("code")["name"])
    if piece_frame["new_code"].isna().any():
        raise RuntimeError("a 2025 unit of the converter has no centroid row")

    dissolved = piece_frame.dissolve(by="new_code", as_index=False, sort=True)
    units = gpd.GeoDataFrame(
        {
            "code": dissolved["new_code"],
            "name": dissolved["new_name"],
            "unit_type": dissolved["new_key"].map(new["wardType"]).map(UNIT_TYPES),
        },
        geometry=dissolved.geometry.to_numpy(),
        crs=UTM48N,
    )
    crosswalk = piece_frame[
        ["old_code", "old_name", "new_code", "new_name", "relation", "is_default", "area_share"]
    ].sort_values(["old_code", "new_code"], ignore_index=True)
    crosswalk["source"] = "vietnamadminunits 1.0.4 converter (MIT); area_share " + SYNTHETIC
    return units, crosswalk


def build_admin() -> Admin:
    province, districts = _read_outlines()
    table = _read_communes()
    communes, _moved = _commune_cells(table, districts)
    communes["population"] = _populations(communes)
    names = table.drop_duplicates("level2_id").set_index("level2_id")
    districts["name"] = districts["code"].map(names["district"])
    districts["unit_type"] = districts["code"].map(names["district_type"].map(UNIT_TYPES))
    units_2025, crosswalk = _units_2025(communes)
    province_2025 = gpd.GeoDataFrame(
        {"code": ["37"], "name": ["Tỉnh Ninh Bình"]},
        geometry=[shapely.union_all(units_2025.geometry.to_numpy())],
        crs=UTM48N,
    )
    province = gpd.GeoDataFrame(
        {"code": ["35"], "name": ["Tỉnh Hà Nam"]}, geometry=province.geometry.to_numpy(), crs=UTM48N
    )
    return Admin(province, districts, communes, units_2025, province_2025, crosswalk)


SOURCE_BY_KIND = {
    "outline": GOV_OUTLINE,
    "commune": f"{GSO_CODES}; outline = Voronoi of {CENTROIDS}; population {SYNTHETIC}",
    "commune_2025": f"vietnamadminunits 1.0.4 (MIT); outline derived; population {SYNTHETIC}",
}
