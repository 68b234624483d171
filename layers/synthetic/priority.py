"""Priority areas of the plan, with real names at approximate positions.

Each area is a disc around a point placed in its host commune (the commune's representative
point moved by a seeded offset), sized by category; names and host communes are real, outlines
and positions are approximate.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from layers.synthetic.common import rng
from layers.synthetic.part import PriorityArea


def build_priority_areas(
    communes: gpd.GeoDataFrame, areas: Sequence[PriorityArea]
) -> gpd.GeoDataFrame:
    """One disc per area, inside its host commune, in the communes' CRS."""
    gen = rng("priority_areas")
    hosts = communes.set_index("code").geometry
    rows, shapes = [], []
    for area in areas:
        host = hosts[area.commune]
        anchor = np.asarray(shapely.get_coordinates(host.representative_point())[0])
        angle, shift = gen.uniform(0, 2 * np.pi), gen.uniform(0, 300)
        moved = shapely.Point(anchor + shift * np.array([np.cos(angle), np.sin(angle)]))
        centre = moved if host.contains(moved) else host.representative_point()
        rows.append(
            {"area_id": area.area_id, "name": area.name, "category": area.category,
             "commune_code": area.commune, "target_5g_year": area.target_5g_year}
        )  # fmt: skip
        shapes.append(centre.buffer(area.radius_m, quad_segs=16))
    return gpd.GeoDataFrame(rows, geometry=shapes, crs=communes.crs)
