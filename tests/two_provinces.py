"""Two provinces on their real border: Ninh Bình (37) and Thanh Hoá (38), cut to a small box.

The outlines are those of the 34 provinces of July 2025 (``layers/sources``), cut to a box of
about 8 × 9 km through which their shared border runs, west to east, Ninh Bình to the north.
Each province has one district and one commune (pre-2025 units, whose villages the coverage
reports), and the same province in the 2025 units (which the national layout is cut by).
Along the border stand villages and a priority area across it, sites of two operators close
to it on both sides, a shared position whose two sites stand a few metres either side of it,
a chain of sites within the tolerance of each other crossing it, one structure recorded by
two operators 2 km apart, one in each province, and a site south of the box that the coverage
of the northern province does not read.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import Geod

from gis_planner.crs import WGS84
from gis_planner.settings import REPOSITORY

OUTLINES = REPOSITORY / "layers" / "sources" / "vietnam_provinces_2025-07.geojson"
NORTH, SOUTH = "37", "38"
BOX = (105.795, 20.103, 105.875, 20.183)
#: Points of the shared border inside the box (vertices of both outlines).
BORDER = ((105.83474, 20.14288), (105.8121, 20.15725), (105.85766, 20.13426), (105.8411, 20.14285))
SOURCE = "synthetic two-province test layout"
GEOD = Geod(ellps="WGS84")
#: The grid CRS of every run of the tests (the provinces' UTM zone).
CRS = "EPSG:32648"


def offset(point: tuple[float, float], azimuth_deg: float, dist_m: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(point[0], point[1], azimuth_deg, dist_m)
    return float(lon), float(lat)


def outlines() -> dict[str, shapely.Geometry]:
    frame = gpd.read_file(OUTLINES).set_index("code")
    box = shapely.box(*BOX)
    return {code: frame.geometry[code].intersection(box) for code in (NORTH, SOUTH)}


def admin_units() -> gpd.GeoDataFrame:
    shapes = outlines()
    names = {NORTH: "Tỉnh Ninh Bình", SOUTH: "Tỉnh Thanh Hoá"}
    rows = []
    for code, shape in shapes.items():
        rows += [
            (code, names[code], "province", "province", None, "pre2025", shape),
            (f"{code}1", f"Huyện {code}", "district", "rural_district", code, "pre2025", shape),
            (f"{code}101", f"Xã {code}", "commune", "rural_commune", f"{code}1", "pre2025", shape),
            (code, names[code], "province", "province", None, "2025-07", shape),
        ]
    return gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "unit_type": [r[3] for r in rows],
            "parent_code": [r[4] for r in rows],
            "admin_version": [r[5] for r in rows],
            "geometry_quality": "approximate",
            "source": SOURCE,
        },
        geometry=[shapely.MultiPolygon([r[6]]) for r in rows],
        crs=WGS84,
    )


def _square(centre: tuple[float, float], half_deg: float) -> shapely.MultiPolygon:
    lon, lat = centre
    square = shapely.box(lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)
    return shapely.MultiPolygon([square])


#: (code, commune, centre, half side in degrees): across the border, near it, far from it.
VILLAGES = (
    ("V-ACROSS-N", f"{NORTH}101", BORDER[0], 0.003),
    ("V-ACROSS-S", f"{SOUTH}101", BORDER[1], 0.003),
    ("V-NEAR-N", f"{NORTH}101", offset(BORDER[2], 0.0, 500.0), 0.002),
    ("V-NEAR-S", f"{SOUTH}101", offset(BORDER[2], 180.0, 500.0), 0.002),
    ("V-FAR-N", f"{NORTH}101", (105.80, 20.178), 0.002),
    ("V-FAR-S", f"{SOUTH}101", (105.870, 20.108), 0.002),
)


def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [v[0] for v in VILLAGES],
            "name": [f"Thôn {v[0]}" for v in VILLAGES],
            "village_type": "thon",
            "commune_code": [v[1] for v in VILLAGES],
            "population": [500 + 100 * i for i in range(len(VILLAGES))],
            "source": SOURCE,
        },
        geometry=[_square(v[2], v[3]) for v in VILLAGES],
        crs=WGS84,
    )


def priority_areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "area_id": ["PA-ACROSS"],
            "name": ["Khu công nghiệp biên"],
            "category": ["industrial_zone"],
            "geometry_quality": "approximate",
            "source": SOURCE,
        },
        geometry=[_square(BORDER[3], 0.004)],
        crs=WGS84,
    )


def sites() -> gpd.GeoDataFrame:
    """Sites near the border on both sides; a shared position across it (5 m either side), a
    chain of three sites 20 m apart across it, and one structure in two provinces."""
    shared = BORDER[0]
    chain = BORDER[1]
    rows = [
        ("NB-VTL-01", "viettel", offset(BORDER[2], 0.0, 900.0), None),
        ("TH-VNP-01", "vnpt", offset(BORDER[2], 180.0, 900.0), None),
        ("TH-VTL-02", "viettel", offset(BORDER[0], 200.0, 1800.0), None),
        ("NB-VNP-02", "vnpt", offset(BORDER[1], 20.0, 2000.0), None),
        ("NB-VTL-03", "viettel", offset(shared, 0.0, 5.0), None),
        ("TH-VNP-03", "vnpt", offset(shared, 180.0, 5.0), None),
        ("NB-MBF-01", "mobifone", offset(chain, 30.0, 20.0), None),
        ("XX-VNM-01", "vietnamobile", chain, None),
        ("TH-VTL-04", "viettel", offset(chain, 210.0, 20.0), None),
        ("NB-VNP-05", "vnpt", (105.80, 20.175), "STRUCT-X"),
        ("TH-MBF-05", "mobifone", (105.865, 20.110), "STRUCT-X"),
        ("NB-VTL-06", "viettel", (105.82, 20.17), None),
        # south of the box, within reach of the southern province's box only
        ("TH-VNP-00", "vnpt", (105.83, 20.02), None),
    ]
    return gpd.GeoDataFrame(
        {
            "site_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "tower_type": "lattice",
            "height_m": [30.0 + i for i in range(len(rows))],
            "structure_id": [r[3] for r in rows],
            "status": "on-air",
            "source": SOURCE,
        },
        geometry=[shapely.Point(*r[2]) for r in rows],
        crs=WGS84,
    )


#: The sites with 4G cells: around the border, and one out of the northern province's reach,
#: whose cells come first by id (they shift the numbers of the others in a run that reads them).
CELL_SITES = ("NB-VTL-01", "TH-VNP-01", "TH-VTL-02", "NB-VNP-02", "NB-VTL-03", "TH-VNP-03",
              "TH-VNP-00")  # fmt: skip


def cells() -> gpd.GeoDataFrame:
    """4G sectors, three a site, one of them facing north."""
    every = sites()
    chosen = every[every["site_id"].isin(CELL_SITES)]
    rows = []
    for site in chosen.itertuples():
        for k, azimuth in enumerate((0.0, 120.0, 240.0)):
            rows.append((site.site_id, site.operator, azimuth, k, site.geometry))
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"{r[0]}-L18-{r[3] + 1}" for r in rows],
            "site_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "technology": "4G",
            "band_mhz": 1800.0,
            "bandwidth_mhz": 20.0,
            "azimuth_deg": [r[2] for r in rows],
            "mech_tilt_deg": 0.0,
            "elec_tilt_deg": 4.0,
            "height_m": 28.0,
            "tx_power_dbm": 43.0,
            "antenna_gain_dbi": 17.0,
            "feeder_loss_db": 1.0,
            "h_beamwidth_deg": 65.0,
            "v_beamwidth_deg": 10.0,
            "status": "on-air",
            "source": SOURCE,
        },
        geometry=[r[4] for r in rows],
        crs=WGS84,
    )


def layers() -> dict[str, pd.DataFrame]:
    """Every layer of the layout, as a store holds them."""
    return {
        "admin_units": admin_units(),
        "villages": villages(),
        "priority_areas": priority_areas(),
        "sites": sites(),
        "cells": cells(),
    }
