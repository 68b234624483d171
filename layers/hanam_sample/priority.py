"""Priority areas of the plan, with real names at approximate positions.

Each area is a disc around a point placed in its host commune (the commune's representative
point moved by a seeded offset), sized by category; names and host communes are real, outlines
and positions are approximate.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gis_planner.crs import UTM48N
from layers.hanam_sample.common import rng

#: (area id, name, category, host commune code, radius m, 5G target year)
AREAS: tuple[tuple[str, str, str, str, float, int], ...] = (
    ("PA-01", "Trung tâm thành phố Phủ Lý", "provincial_centre", "13285", 1500, 2025),
    ("PA-02", "Khu trung tâm hành chính tỉnh Hà Nam", "state_agency", "13291", 350, 2030),
    ("PA-03", "Trung tâm huyện Lý Nhân (Vĩnh Trụ)", "district_centre", "13597", 1200, 2025),
    ("PA-04", "Trung tâm thị xã Duy Tiên (Hòa Mạc)", "district_centre", "13324", 1000, 2030),
    ("PA-05", "Trung tâm thị xã Kim Bảng (Quế)", "district_centre", "13384", 1000, 2030),
    ("PA-06", "Trung tâm huyện Thanh Liêm (Tân Thanh)", "district_centre", "13474", 900, 2030),
    ("PA-07", "Trung tâm huyện Bình Lục (Bình Mỹ)", "district_centre", "13501", 900, 2030),
    ("PA-08", "Khu công nghiệp Đồng Văn I", "industrial_zone", "13321", 800, 2030),
    ("PA-09", "Khu công nghiệp Đồng Văn II", "industrial_zone", "13333", 1000, 2030),
    ("PA-10", "Khu công nghiệp Đồng Văn III", "industrial_zone", "13357", 900, 2030),
    ("PA-11", "Khu công nghiệp Đồng Văn IV", "industrial_zone", "13390", 900, 2030),
    ("PA-12", "Khu công nghiệp Châu Sơn", "industrial_zone", "13318", 800, 2030),
    ("PA-13", "Khu công nghiệp Hòa Mạc", "industrial_zone", "13330", 700, 2030),
    ("PA-14", "Khu công nghiệp Thanh Liêm", "industrial_zone", "13453", 700, 2030),
    ("PA-15", "Khu công nghiệp Liêm Phong", "industrial_zone", "13450", 600, 2030),
    ("PA-16", "Khu công nghiệp Thái Hà", "industrial_zone", "13588", 700, 2030),
    ("PA-17", "Chùa Tam Chúc", "tourism_heritage", "13429", 900, 2030),
    ("PA-18", "Ngũ Động Thi Sơn", "tourism_heritage", "13435", 400, 2030),
    ("PA-19", "Chùa Bà Đanh", "tourism_heritage", "13423", 350, 2030),
    ("PA-20", "Đền Trần Thương", "tourism_heritage", "13594", 350, 2030),
    ("PA-21", "Khu lưu niệm nhà văn Nam Cao", "tourism_heritage", "13630", 300, 2030),
    ("PA-22", "Chùa Long Đọi Sơn", "tourism_heritage", "13369", 400, 2030),
)  # fmt: skip


def build_priority_areas(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One disc per area, inside its host commune, in UTM 48N."""
    gen = rng("priority_areas")
    hosts = communes.set_index("code").geometry
    rows, shapes = [], []
    for area_id, name, category, commune, radius, year in AREAS:
        host = hosts[commune]
        anchor = np.asarray(shapely.get_coordinates(host.representative_point())[0])
        angle, shift = gen.uniform(0, 2 * np.pi), gen.uniform(0, 300)
        moved = shapely.Point(anchor + shift * np.array([np.cos(angle), np.sin(angle)]))
        centre = moved if host.contains(moved) else host.representative_point()
        rows.append(
            {"area_id": area_id, "name": name, "category": category, "commune_code": commune,
             "target_5g_year": year}
        )  # fmt: skip
        shapes.append(centre.buffer(radius, quad_segs=16))
    return gpd.GeoDataFrame(rows, geometry=shapes, crs=UTM48N)
