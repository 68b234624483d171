"""Administrative units of the whole new Ninh Bình province, both versions, and the crosswalk.

2025-07: the 129 communes and the province outline are the real polygons (the government's
arrangement map, via vietnamese-provinces-database). Pre-2025: the outlines of the three former
provinces and of their districts are real (gis.chinhphu.vn via dvhcvn, dated 2025-03, with the
two district mergers their commune lists already have applied). Commune outlines are not
public: each 2025 commune is shared among the pre-2025 communes the converter sends into it,
district by district, as the Voronoi cells of their real centroids. A pre-2025 commune thus lies
inside the 2025 commune(s) it became and inside its real district; one split between several
new communes has a piece in each. The parts of 2025 communes outside every district of their
pre-2025 communes (mostly coastal flats the 2025 map includes and the 2025-03 outlines do not)
belong to no pre-2025 commune. Populations: Hà Nam's communes keep those of the Hà Nam sample,
the other two parts share their census totals (``commune_populations``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_planner.crs import WGS84, metric_crs_of
from layers.hanam_sample.admin import build_admin as build_hanam_admin
from layers.hanam_sample.part import HANAM
from layers.ninhbinh_sample.parts import NAM_DINH, NINH_BINH
from layers.synthetic.admin import (
    COMMUNE_COLUMNS,
    UNIT_TYPES,
    Admin,
    commune_populations,
    converter_pairs,
    nudge_inside,
    read_hanam_communes,
    read_units_2025,
)
from layers.synthetic.common import CENTROIDS, GOV_OUTLINE, SOURCES, synthetic, voronoi_cells

SYNTHETIC = synthetic("Ninh Bình")
PROVINCE_FILES = {"35": "hanam", "36": "namdinh", "37": "ninhbinh"}
#: District outlines of 2025-03 whose unit had merged into another by July 2025, and the
#: resolution that merged it: Mỹ Lộc into Nam Định city (from 2024-09-01), Ninh Bình city and
#: Hoa Lư district into Hoa Lư city, which kept Hoa Lư's code (from 2025-01-01).
MERGED_DISTRICTS = {
    "358": ("356", "NQ 1104/NQ-UBTVQH15"),
    "369": ("374", "NQ 1318/NQ-UBTVQH15"),
}
MAP_2025 = "sapnhap.bando.com.vn via vietnamese-provinces-database (MIT)"
OUTLINE_SOURCE = f"{GOV_OUTLINE}; population {SYNTHETIC}"
COMMUNE_SOURCE = (
    f"GSO codes via vietnamadminunits 1.0.4 (MIT); outline = Voronoi of {CENTROIDS} inside "
    f"the 2025 communes and the districts; population {SYNTHETIC}"
)
SOURCE_2025 = f"{MAP_2025}; population {SYNTHETIC}"
#: Seeds outside their share of a 2025 commune move this far inside it.
SEED_MARGIN_M = 50.0


def _read_communes() -> pd.DataFrame:
    """The 398 pre-2025 communes of the three former provinces, one table."""
    other = pd.read_csv(SOURCES / "namdinh_ninhbinh_communes_pre2025_centroids.csv", dtype=str)
    other = pd.DataFrame(
        {
            "code": other["wardCode"],
            "name": other["ward"],
            "unit_type": other["wardType"].map(UNIT_TYPES),
            "parent_code": other["districtCode"],
            "district_name": other["district"],
            "district_type": other["districtType"].map(UNIT_TYPES),
            "key": other["provinceKey"] + "_" + other["districtKey"] + "_" + other["wardKey"],
            "lon": other["wardLon"].astype(float),
            "lat": other["wardLat"].astype(float),
        }
    )
    table = pd.concat([read_hanam_communes(), other[COMMUNE_COLUMNS]], ignore_index=True)
    if len(table) != 398 or table["code"].duplicated().any():
        raise RuntimeError(f"expected 398 distinct communes, read {len(table)}")
    return table.sort_values("code", ignore_index=True)


def _read_outlines(
    communes: pd.DataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """The three former provinces and their districts as of June 2025, and the metric CRS."""
    provinces = pd.concat(
        [
            gpd.read_file(SOURCES / f"{stem}_province_2025-03.geojson").assign(code=code)
            for code, stem in PROVINCE_FILES.items()
        ],
        ignore_index=True,
    )
    crs = metric_crs_of(provinces)
    provinces = provinces.to_crs(crs)
    raw = pd.concat(
        [
            gpd.read_file(SOURCES / f"{stem}_districts_2025-03.geojson").assign(parent_code=code)
            for code, stem in PROVINCE_FILES.items()
        ],
        ignore_index=True,
    ).to_crs(crs)
    merged_into = raw["id"].map(lambda code: MERGED_DISTRICTS.get(code, (code, None))[0])
    districts = raw.assign(code=merged_into).dissolve(
        by="code", aggfunc={"parent_code": "first"}, as_index=False, sort=True
    )
    listed = communes.drop_duplicates("parent_code").set_index("parent_code")
    if set(districts["code"]) != set(listed.index):
        raise RuntimeError("district outlines and commune lists disagree after the mergers")
    resolutions = {new: f"{old} merged ({law})" for old, (new, law) in MERGED_DISTRICTS.items()}
    districts["name"] = districts["code"].map(listed["district_name"])
    districts["unit_type"] = districts["code"].map(listed["district_type"])
    districts["geometry_quality"] = "real"
    districts["source"] = [
        f"{GOV_OUTLINE}, {resolutions[code]}; population {SYNTHETIC}"
        if code in resolutions
        else OUTLINE_SOURCE
        for code in districts["code"]
    ]
    names = {part.code: part.name for part in (HANAM, NAM_DINH, NINH_BINH)}
    provinces = gpd.GeoDataFrame(
        {"code": provinces["code"], "name": provinces["code"].map(names),
         "geometry_quality": "real", "source": OUTLINE_SOURCE},
        geometry=provinces.geometry.to_numpy(),
        crs=crs,
    )  # fmt: skip
    return provinces, districts, crs


def _read_2025(crs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The 129 real 2025 communes (their converter key in ``key``) and the province outline."""
    polygons = gpd.read_file(SOURCES / "ninhbinh_communes_2025-07.geojson").to_crs(crs)
    listed = read_units_2025().reset_index().set_index("wardCode")
    if set(polygons["code"]) != set(listed.index) or len(polygons) != 129:
        raise RuntimeError("the 2025 polygons and the 2025 commune list disagree")
    units = gpd.GeoDataFrame(
        {
            "code": polygons["code"],
            "name": polygons["fullName"],
            "unit_type": polygons["code"].map(listed["wardType"]).map(UNIT_TYPES),
            "key": polygons["code"].map(listed["wardKey"]),
            "geometry_quality": "real",
            "source": SOURCE_2025,
        },
        geometry=polygons.geometry.to_numpy(),
        crs=crs,
    ).sort_values("code", ignore_index=True)
    outline = gpd.read_file(SOURCES / "ninhbinh_province_2025-07.geojson").to_crs(crs)
    province = gpd.GeoDataFrame(
        {"code": outline["code"], "name": outline["fullName"], "geometry_quality": "real",
         "source": SOURCE_2025},
        geometry=outline.geometry.to_numpy(),
        crs=crs,
    )  # fmt: skip
    return units, province


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of an overlay result (dropping the lines and points a shared edge leaves)."""
    # Twice: a collection may hold multi-part members.
    parts = shapely.get_parts(shapely.get_parts(geom))
    kept = parts[shapely.get_type_id(parts) == 3]
    return shapely.multipolygons(kept) if len(kept) else shapely.Polygon()


def _share_out(
    unit: shapely.Geometry, members: pd.DataFrame, districts: gpd.GeoSeries
) -> list[shapely.Geometry]:
    """One 2025 commune's area split among the pre-2025 communes in ``members``: per district,
    the Voronoi cells of their seeds within the commune's part in that district."""
    seeds = members["seed"].to_numpy()
    pieces = np.empty(len(members), dtype=object)
    for district, rows in members.groupby("parent_code", sort=True).indices.items():
        region = _polygonal(shapely.intersection(unit, districts[district]))
        if region.is_empty:
            raise RuntimeError(f"commune {members['code'].iloc[rows[0]]} misses its 2025 unit")
        placed = [nudge_inside(seeds[i], region, SEED_MARGIN_M) for i in rows]
        xy = shapely.get_coordinates(np.asarray(placed))
        if len(np.unique(xy, axis=0)) < len(xy):
            raise RuntimeError(f"two communes share a seed: {list(members['code'].iloc[rows])}")
        cells = voronoi_cells(xy, region)
        pieces[rows] = [_polygonal(cell) for cell in cells]
    return list(pieces)


def _nest(
    communes: pd.DataFrame,
    units_2025: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The pre-2025 communes' outlines, nested in the 2025 ones, and the crosswalk."""
    crs = units_2025.crs
    seeds = gpd.GeoSeries(gpd.points_from_xy(communes["lon"], communes["lat"]), crs=WGS84)
    communes = communes.assign(seed=seeds.to_crs(crs).to_numpy())
    pairs = converter_pairs(pd.Index(communes["key"]))
    pairs = pairs.merge(communes, left_on="old_key", right_on="key", validate="m:1")
    pairs["new_code"] = pairs["new_key"].map(units_2025.set_index("key")["code"])
    if pairs["new_code"].isna().any():
        raise RuntimeError("a 2025 unit of the converter has no polygon")
    pairs = pairs.sort_values(["new_code", "code"], ignore_index=True)
    outlines = districts.set_index("code").geometry
    geometry = np.empty(len(pairs), dtype=object)
    for code, rows in pairs.groupby("new_code", sort=True).indices.items():
        unit = units_2025.set_index("code").geometry[code]
        members = pairs.iloc[rows]
        geometry[rows] = _share_out(unit, members, outlines)
    pieces = gpd.GeoDataFrame(pairs, geometry=geometry, crs=crs)
    pieces = pieces[~pieces.geometry.is_empty]
    outlines_old = pieces[["code", "geometry"]].dissolve(by="code", sort=True).geometry
    table = communes.set_index("code")
    frame = gpd.GeoDataFrame(
        {
            "code": outlines_old.index,
            "name": table.loc[outlines_old.index, "name"].to_numpy(),
            "unit_type": table.loc[outlines_old.index, "unit_type"].to_numpy(),
            "parent_code": table.loc[outlines_old.index, "parent_code"].to_numpy(),
            "key": table.loc[outlines_old.index, "key"].to_numpy(),
            "geometry_quality": "approximate",
            "source": COMMUNE_SOURCE,
        },
        geometry=outlines_old.to_numpy(),
        crs=crs,
    )
    if len(frame) != len(communes):
        raise RuntimeError("a pre-2025 commune got no piece of any 2025 commune")
    share = pieces.area / pieces["code"].map(frame.set_index("code").area)
    crosswalk = pd.DataFrame(
        {
            "old_code": pieces["code"],
            "old_name": pieces["name"],
            "new_code": pieces["new_code"],
            "new_name": pieces["new_code"].map(units_2025.set_index("code")["name"]),
            "relation": pieces["relation"],
            "is_default": pieces["is_default"].astype(bool),
            "area_share": share.round(4),
            "source": "vietnamadminunits 1.0.4 converter (MIT); area_share " + SYNTHETIC,
        }
    ).sort_values(["old_code", "new_code"], ignore_index=True)
    return frame, crosswalk


def build_admin() -> Admin:
    """The whole-province sample's units in its metric CRS (UTM 48N)."""
    table = _read_communes()
    provinces, districts, crs = _read_outlines(table)
    units_2025, province_2025 = _read_2025(crs)
    communes, crosswalk = _nest(table, units_2025, districts)
    # Hà Nam's communes keep the Hà Nam sample's populations, so its figures stay comparable.
    hanam = build_hanam_admin().communes.set_index("code")["population"]
    in_hanam = communes["code"].isin(hanam.index)
    population = communes["code"].map(hanam)
    for part in (NAM_DINH, NINH_BINH):
        mine = communes["parent_code"].map(districts.set_index("code")["parent_code"]) == part.code
        population[mine] = commune_populations(communes[mine], part.population)
    if population.isna().any() or in_hanam.sum() != len(hanam):
        raise RuntimeError("a commune has no population")
    communes["population"] = population.astype(int)
    return Admin(
        provinces,
        districts,
        communes,
        units_2025.drop(columns="key"),
        province_2025,
        crosswalk,
        complete_2025=True,
    )
