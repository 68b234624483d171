"""A second, synthetic province far from Hà Nam: around 109°E, 13.9°N, in UTM zone 49N.

Hà Nam lies in zone 48; here zone 48 would stretch every length by about 0.2 % (zone 49: under
0.02 %), so a measurement taken in the wrong zone shows against ``pyproj.Geod``. The province
is a box of whole hundredths of a degree (its edges are meridians and parallels), two districts
of two communes each (one commune each side in the 2025 units), four villages a commune, sites
of four operators on eight positions (three shared) and two operators' fibre. Every place is
given in degrees or as a geodesic offset, never in projected metres, so that the tests measure
against the ellipsoid and not against a projection.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from gis_planner.crs import WGS84

GEOD = Geod(ellps="WGS84")
#: The province's UTM zone.
ZONE_49 = "EPSG:32649"
PROVINCE = "96"
WEST, SOUTH, EAST, NORTH = 108.95, 13.80, 109.15, 14.00
SOURCE = "synthetic test province"

#: (code, name, unit type, district, west, south, east, north)
COMMUNES = (
    ("96101", "Phường Bến Cá", "ward", "961", 108.95, 13.80, 109.05, 13.90),
    ("96102", "Phường Chợ Mới", "ward", "961", 108.95, 13.90, 109.05, 14.00),
    ("96201", "Xã Ruộng Muối", "rural_commune", "962", 109.05, 13.80, 109.15, 13.90),
    ("96202", "Xã Đồi Cát", "rural_commune", "962", 109.05, 13.90, 109.15, 14.00),
)
#: 2025 units: one commune each side of 109.05°E, both under the province.
COMMUNES_2025 = (("96001", "Phường Duyên Hải", "961"), ("96002", "Xã Sông Cầu", "962"))
#: Villages stand ±0.025° around their commune's centre, 400 m across.
VILLAGE_OFFSETS = ((-0.025, -0.025), (0.025, -0.025), (-0.025, 0.025), (0.025, 0.025))
VILLAGE_HALF_DEG = 0.0018

#: The trunk (VNPT) runs along this parallel; its POP stands at its west end.
TRUNK_LAT = 13.875
TRUNK_WEST, TRUNK_EAST = 108.96, 109.14


def offset(lon: float, lat: float, azimuth_deg: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` metres from (lon, lat) along the geodesic of ``azimuth_deg``."""
    end_lon, end_lat, _ = GEOD.fwd(lon, lat, azimuth_deg, dist_m)
    return float(end_lon), float(end_lat)


def geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The geodesic distance between two (lon, lat) points, in metres."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def admin_units() -> gpd.GeoDataFrame:
    """The province, its two districts and four communes (pre2025), and its 2025 units."""
    districts = {"961": ("Thành phố Cảng", "city"), "962": ("Huyện Đồng Bằng", "rural_district")}
    rows = [(PROVINCE, "Tỉnh Duyên Hải", "province", "province", None, "pre2025",
             (WEST, SOUTH, EAST, NORTH))]  # fmt: skip
    for code, (name, kind) in districts.items():
        west = WEST if code == "961" else 109.05
        rows.append((code, name, "district", kind, PROVINCE, "pre2025",
                     (west, SOUTH, west + 0.10, NORTH)))  # fmt: skip
    for code, name, kind, district, *box in COMMUNES:
        rows.append((code, name, "commune", kind, district, "pre2025", tuple(box)))
    rows.append((PROVINCE, "Tỉnh Duyên Hải", "province", "province", None, "2025-07",
                 (WEST, SOUTH, EAST, NORTH)))  # fmt: skip
    for code, name, district in COMMUNES_2025:
        west = WEST if district == "961" else 109.05
        kind = "ward" if district == "961" else "rural_commune"
        rows.append((code, name, "commune", kind, PROVINCE, "2025-07",
                     (west, SOUTH, west + 0.10, NORTH)))  # fmt: skip
    frame = gpd.GeoDataFrame(
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
        geometry=[shapely.box(*r[6]) for r in rows],
        crs=WGS84,
    )
    # Population: each unit sums the villages inside it.
    people = villages()
    centres = [shapely.Point(c[2], c[3]) for c in village_centres()]
    inside = gpd.sjoin(
        gpd.GeoDataFrame(people[["population"]], geometry=centres, crs=WGS84),
        frame[["geometry"]],
        predicate="within",
    )
    frame["population"] = inside.groupby("index_right")["population"].sum().astype("int64")
    return frame


def crosswalk() -> pd.DataFrame:
    """Each pre-2025 commune lies whole in the 2025 commune of its side."""
    new = {district: (code, name) for code, name, district in COMMUNES_2025}
    return pd.DataFrame(
        {
            "old_code": [c[0] for c in COMMUNES],
            "old_name": [c[1] for c in COMMUNES],
            "new_code": [new[c[3]][0] for c in COMMUNES],
            "new_name": [new[c[3]][1] for c in COMMUNES],
            "relation": "whole",
            "is_default": True,
            "area_share": 1.0,
            "source": SOURCE,
        }
    )


def village_centres() -> list[tuple[str, str, float, float]]:
    """(village code, commune code, lon, lat) of every village."""
    centres = []
    for code, _, _, _, west, south, east, north in COMMUNES:
        lon, lat = (west + east) / 2, (south + north) / 2
        for i, (dx, dy) in enumerate(VILLAGE_OFFSETS):
            centres.append((f"{code}{i + 1:03d}", code, round(lon + dx, 6), round(lat + dy, 6)))
    return centres


def villages() -> gpd.GeoDataFrame:
    centres = village_centres()
    h = VILLAGE_HALF_DEG
    return gpd.GeoDataFrame(
        {
            "code": [c[0] for c in centres],
            "name": [f"Thôn {i % 4 + 1}" for i in range(len(centres))],
            "village_type": ["to_dan_pho" if c[1].startswith("961") else "thon" for c in centres],
            "commune_code": [c[1] for c in centres],
            "population": [800 + 100 * i for i in range(len(centres))],
            "source": SOURCE,
        },
        geometry=[shapely.box(c[2] - h, c[3] - h, c[2] + h, c[3] + h) for c in centres],
        crs=WGS84,
    )


#: Position anchors (lon, lat): the sites of a position stand a few metres around them.
ANCHORS = {
    "P1": (109.000, 13.876),  # district 961, on the trunk's side: Viettel + VNPT
    "P2": (108.980, 13.930),  # 961: MobiFone alone
    "P4": (109.020, 13.960),  # 961: Viettel + MobiFone on one structure, 80 m apart
    "P5": (109.100, 13.877),  # 962, by the trunk: VNPT + Viettel + MobiFone
    "P6": (109.080, 13.950),  # 962: Viettel alone
    "P8": (109.130, 13.830),  # 962: Vietnamobile alone, far from everything
}
#: Single positions of another operator a short geodesic walk east of an anchor: mergeable.
MERGE_OFFSETS_M = {"P3": ("P2", 300.0), "P7": ("P6", 400.0)}


def sites() -> gpd.GeoDataFrame:
    """Twelve sites on eight positions, three of them shared."""
    at = dict(ANCHORS)
    for name, (anchor, dist_m) in MERGE_OFFSETS_M.items():
        at[name] = offset(*ANCHORS[anchor], 90.0, dist_m)
    rows = [
        ("DH-VTL-01", "viettel", at["P1"], None),
        ("DH-VNP-01", "vnpt", offset(*at["P1"], 90.0, 10.0), None),
        ("DH-MBF-01", "mobifone", at["P2"], None),
        ("DH-VNM-01", "vietnamobile", at["P3"], None),
        ("DH-VTL-02", "viettel", at["P4"], "DH-T1"),
        ("DH-MBF-02", "mobifone", offset(*at["P4"], 0.0, 80.0), "DH-T1"),
        ("DH-VNP-02", "vnpt", at["P5"], None),
        ("DH-VTL-03", "viettel", offset(*at["P5"], 45.0, 15.0), None),
        ("DH-MBF-03", "mobifone", offset(*at["P5"], 180.0, 12.0), None),
        ("DH-VTL-04", "viettel", at["P6"], None),
        ("DH-VNP-03", "vnpt", at["P7"], None),
        ("DH-VNM-02", "vietnamobile", at["P8"], None),
    ]
    return gpd.GeoDataFrame(
        {
            "site_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "tower_type": "lattice",
            "height_m": [30.0 + 2 * i for i in range(len(rows))],
            "structure_id": [r[3] for r in rows],
            "status": "on-air",
            "source": SOURCE,
        },
        geometry=[shapely.Point(*r[2]) for r in rows],
        crs=WGS84,
    )


#: Positions, shared positions and sites on shared positions of each district.
DISTRICT_FIGURES = {"961": (4, 2, 4), "962": (4, 1, 3)}


def fibre_routes() -> gpd.GeoDataFrame:
    """VNPT's trunk and a branch north; Viettel's own line in the north-east."""
    rows = [
        ("DH-VNP-TR1", "vnpt", "trunk", [(TRUNK_WEST, TRUNK_LAT), (TRUNK_EAST, TRUNK_LAT)]),
        ("DH-VNP-DI1", "vnpt", "distribution", [(108.975, TRUNK_LAT), (108.975, 13.99)]),
        ("DH-VTL-DI1", "viettel", "distribution", [(109.125, 13.90), (109.125, 13.99)]),
    ]
    return gpd.GeoDataFrame(
        {
            "route_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "route_class": [r[2] for r in rows],
            "cores": 48,
            "laying": "aerial",
            "source": SOURCE,
        },
        geometry=[shapely.LineString(r[3]) for r in rows],
        crs=WGS84,
    )


def fibre_nodes() -> gpd.GeoDataFrame:
    rows = [
        ("DH-VNP-POP1", "vnpt", "pop", (TRUNK_WEST, TRUNK_LAT)),
        ("DH-VTL-OLT1", "viettel", "olt", (109.125, 13.90)),
    ]
    return gpd.GeoDataFrame(
        {
            "node_id": [r[0] for r in rows],
            "operator": [r[1] for r in rows],
            "node_type": [r[2] for r in rows],
            "source": SOURCE,
        },
        geometry=[shapely.Point(*r[3]) for r in rows],
        crs=WGS84,
    )


def layers() -> dict[str, pd.DataFrame]:
    """Every layer of the province, as a store holds them."""
    return {
        "admin_units": admin_units(),
        "admin_crosswalk": crosswalk(),
        "villages": villages(),
        "sites": sites(),
        "fibre_routes": fibre_routes(),
        "fibre_nodes": fibre_nodes(),
    }


def geodesic_length_m(lines: np.ndarray) -> np.ndarray:
    """The geodesic length of each WGS84 line, in metres."""
    return np.array([GEOD.geometry_length(line) for line in lines])
