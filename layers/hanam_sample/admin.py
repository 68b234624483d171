"""Administrative units of the Hà Nam sample, both versions, and the pre-2025 → 2025-07 crosswalk.

Province and district outlines are real. Commune outlines are not public: each commune is the
Voronoi cell of its real centroid, clipped to its real district, and marked ``approximate``.
The 2025-07 communes are unions of those cells (a pre-2025 commune split between several new
ones is cut by the Voronoi cells of the new centroids), so they cover the former Hà Nam part
only. Populations are synthetic (``commune_populations``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.crs import WGS84, metric_crs_of
from layers.hanam_sample.part import HANAM
from layers.synthetic.admin import (
    UNIT_TYPES,
    Admin,
    commune_populations,
    converter_pairs,
    nudge_inside,
    read_hanam_communes,
    read_units_2025,
)
from layers.synthetic.common import (
    CENTROIDS,
    GOV_OUTLINE,
    GSO_CODES,
    SOURCES,
    synthetic,
    voronoi_cells,
)

SYNTHETIC = synthetic("Hà Nam")
OUTLINE_SOURCE = f"{GOV_OUTLINE}; population {SYNTHETIC}"
COMMUNE_SOURCE = f"{GSO_CODES}; outline = Voronoi of {CENTROIDS}; population {SYNTHETIC}"
SOURCE_2025 = f"vietnamadminunits 1.0.4 (MIT); outline derived; population {SYNTHETIC}"


def _read_outlines() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    province = gpd.read_file(SOURCES / "hanam_province_2025-03.geojson")
    crs = metric_crs_of(province)
    districts = gpd.read_file(SOURCES / "hanam_districts_2025-03.geojson").to_crs(crs)
    districts = districts.rename(columns={"id": "code"})[["code", "geometry"]]
    return province.to_crs(crs), districts.sort_values("code", ignore_index=True)


def _commune_cells(table: pd.DataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    seeds = gpd.GeoSeries(gpd.points_from_xy(table["lon"], table["lat"]), crs=WGS84)
    seeds = seeds.to_crs(districts.crs).to_numpy()
    cells = np.empty(len(table), dtype=object)
    for code, district in zip(districts["code"], districts.geometry, strict=True):
        members = np.flatnonzero(table["parent_code"].to_numpy() == code)
        for i in members:
            seeds[i] = nudge_inside(seeds[i], district, 300.0)
        cells[members] = voronoi_cells(shapely.get_coordinates(seeds[members]), district)
    frame = table[["code", "name", "unit_type", "parent_code", "key"]]
    return gpd.GeoDataFrame(frame, geometry=cells, crs=districts.crs)


def _units_2025(communes: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    new = read_units_2025()
    pairs = converter_pairs(pd.Index(communes["key"]))
    by_key = communes.set_index("key")
    pieces: list[dict[str, object]] = []
    for pair in pairs[pairs["relation"] == "whole"].itertuples():
        unit = by_key.loc[pair.old_key]
        pieces.append(
            {"old_code": unit["code"], "new_key": pair.new_key, "relation": "whole",
             "is_default": True, "geometry": unit.geometry}
        )  # fmt: skip
    for old_key, targets in pairs[pairs["relation"] == "split"].groupby("old_key", sort=False):
        unit = by_key.loc[old_key]
        seeds = gpd.GeoSeries(
            gpd.points_from_xy(targets["new_lon"], targets["new_lat"]), crs=WGS84
        ).to_crs(communes.crs)
        parts = voronoi_cells(shapely.get_coordinates(seeds.to_numpy()), unit.geometry)
        for target, part in zip(targets.itertuples(), parts, strict=True):
            pieces.append(
                {"old_code": unit["code"], "new_key": target.new_key, "relation": "split",
                 "is_default": target.is_default, "geometry": part}
            )  # fmt: skip
    piece_frame = gpd.GeoDataFrame(pieces, geometry="geometry", crs=communes.crs)
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
            "geometry_quality": "approximate",
            "source": SOURCE_2025,
        },
        geometry=dissolved.geometry.to_numpy(),
        crs=communes.crs,
    )
    crosswalk = piece_frame[
        ["old_code", "old_name", "new_code", "new_name", "relation", "is_default", "area_share"]
    ].sort_values(["old_code", "new_code"], ignore_index=True)
    crosswalk["source"] = "vietnamadminunits 1.0.4 converter (MIT); area_share " + SYNTHETIC
    return units, crosswalk


def build_admin() -> Admin:
    """The Hà Nam sample's units in its metric CRS (UTM 48N)."""
    province, districts = _read_outlines()
    table = read_hanam_communes()
    communes = _commune_cells(table, districts)
    communes["population"] = commune_populations(communes, HANAM.population)
    communes["geometry_quality"], communes["source"] = "approximate", COMMUNE_SOURCE
    names = table.drop_duplicates("parent_code").set_index("parent_code")
    districts["name"] = districts["code"].map(names["district_name"])
    districts["unit_type"] = districts["code"].map(names["district_type"])
    districts["parent_code"] = HANAM.code
    districts["geometry_quality"], districts["source"] = "real", OUTLINE_SOURCE
    units_2025, crosswalk = _units_2025(communes)
    province_2025 = gpd.GeoDataFrame(
        {"code": ["37"], "name": ["Tỉnh Ninh Bình"], "geometry_quality": "approximate",
         "source": "former Hà Nam part only; " + SOURCE_2025},
        geometry=[shapely.union_all(units_2025.geometry.to_numpy())],
        crs=communes.crs,
    )  # fmt: skip
    provinces = gpd.GeoDataFrame(
        {"code": [HANAM.code], "name": [HANAM.name], "geometry_quality": "real",
         "source": OUTLINE_SOURCE},
        geometry=province.geometry.to_numpy(),
        crs=communes.crs,
    )  # fmt: skip
    return Admin(
        provinces, districts, communes, units_2025, province_2025, crosswalk, complete_2025=False
    )
