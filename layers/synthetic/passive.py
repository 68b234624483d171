"""Synthetic passive infrastructure: planning zones, exclusion areas, military areas, other
sectors' structures and ducts, all made up for the sample.

Zones are discs around the priority areas (the provincial centre's a permit zone of rooftop,
street and mono poles up to 30 m; heritage sites' landscapes camouflaged poles only, up to
15 m; district centres rooftop poles only; industrial zones every type up to 60 m); the heritage
sites' outlines are also exclusion areas (100 m buffer); a few exclusion points (200–300 m
buffers) and two military areas (200 m buffers) are drawn at seeded places. Every commune's
People's Committee roof (at its representative point) is a public rooftop; lighting poles stand
in wards and townships, power poles along the rural communes; ducts follow the trunk and
distribution routes inside wards. None of this is real: no zoning, exclusion or utility data
is used.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.synthetic.common import rng, sample_in_polygon

#: Zone per priority-area category: (name prefix, radius m, tower types, rule, max height m,
#: permit required).
ZONES = {
    "provincial_centre": ("Đô thị trung tâm", 2_500.0, "rooftop,street_pole,monopole",
                          "no_rule", 30.0, True),
    "tourism_heritage": ("Cảnh quan di tích", 1_500.0, "", "camouflaged_only", 15.0, True),
    "district_centre": ("Trung tâm huyện", 800.0, "", "rooftop_only", None, False),
    "industrial_zone": ("Khu công nghiệp", 1_500.0, "", "no_rule", 60.0, False),
}  # fmt: skip
URBAN_TYPES = ("ward", "township")


def _zones(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    chosen = areas[areas["category"].isin(list(ZONES))].reset_index(drop=True)
    spec = chosen["category"].map(ZONES)
    centre = shapely.point_on_surface(chosen.geometry.to_numpy())
    radius = spec.map(lambda s: s[1]).to_numpy(dtype=np.float64)
    return gpd.GeoDataFrame(
        {
            "zone_id": "QH-" + chosen["area_id"].astype(str),
            "name": spec.map(lambda s: s[0]) + ": " + chosen["name"],
            "tower_types": spec.map(lambda s: s[2]).replace("", None),
            "zone_rule": spec.map(lambda s: s[3]),
            "max_height_m": spec.map(lambda s: s[4]).astype("float64"),
            "permit_required": spec.map(lambda s: s[5]).astype(bool),
            "commune_code": chosen["commune_code"],
        },
        geometry=shapely.buffer(centre, radius, quad_segs=16),
        crs=areas.crs,
    )


def _exclusion_areas(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    heritage = areas[areas["category"] == "tourism_heritage"].reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "area_id": "CAM-" + heritage["area_id"].astype(str),
            "name": heritage["name"],
            "kind": "heritage_site",
            "buffer_m": 100.0,
        },
        geometry=heritage.geometry.to_numpy(),
        crs=areas.crs,
    )


def _seeded_points(
    communes: gpd.GeoDataFrame, n: int, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points, one each in communes drawn at random: (points, commune codes)."""
    picked = communes.iloc[np.sort(gen.choice(len(communes), n, replace=False))]
    xy = np.concatenate([sample_in_polygon(g, 1, gen) for g in picked.geometry])
    return shapely.points(xy), picked["code"].to_numpy()


def _exclusion_points(communes: gpd.GeoDataFrame, tag: str) -> gpd.GeoDataFrame:
    gen = rng(f"exclusion_points:{tag}")
    points, _ = _seeded_points(communes, 4, gen)
    kinds = np.array(["heritage_site", "other_exclusion", "heritage_site", "other_exclusion"])
    return gpd.GeoDataFrame(
        {
            "area_id": [f"{tag}-DC-{i + 1:02d}" for i in range(len(points))],
            "name": [f"Điểm cấm giả lập {i + 1}" for i in range(len(points))],
            "kind": kinds,
            "buffer_m": np.where(kinds == "heritage_site", 200.0, 300.0),
        },
        geometry=points,
        crs=communes.crs,
    )


def _military_areas(communes: gpd.GeoDataFrame, tag: str) -> gpd.GeoDataFrame:
    gen = rng(f"military_areas:{tag}")
    points, _ = _seeded_points(communes, 2, gen)
    return gpd.GeoDataFrame(
        {
            "area_id": [f"{tag}-QS-{i + 1:02d}" for i in range(len(points))],
            "name": [f"Khu quân sự giả lập {i + 1}" for i in range(len(points))],
            "buffer_m": 200.0,
        },
        geometry=shapely.buffer(points, 400.0, quad_segs=16),
        crs=communes.crs,
    )


def _structures(communes: gpd.GeoDataFrame, tag: str) -> gpd.GeoDataFrame:
    """A public rooftop per commune, 6 lighting poles per urban commune, 3 power poles per
    rural one."""
    gen = rng(f"host_structures:{tag}")
    roofs = gpd.GeoDataFrame(
        {
            "kind": "public_rooftop",
            "owner": "UBND " + communes["name"].astype(str),
            "height_m": np.round(gen.uniform(12.0, 20.0, len(communes)), 1),
            "name": "Trụ sở UBND " + communes["name"].astype(str),
            "commune_code": communes["code"].to_numpy(),
        },
        geometry=shapely.point_on_surface(communes.geometry.to_numpy()),
        crs=communes.crs,
    )
    urban = communes["unit_type"].isin(URBAN_TYPES).to_numpy()
    poles = []
    for kind, mask, count, owner, height in (
        ("lighting_pole", urban, 6, "Chiếu sáng đô thị", (10.0, 14.0)),
        ("power_pole", ~urban, 3, "Điện lực", (12.0, 20.0)),
    ):
        chosen = communes[mask]
        xy = np.concatenate([sample_in_polygon(g, count, gen) for g in chosen.geometry])
        poles.append(
            gpd.GeoDataFrame(
                {
                    "kind": kind,
                    "owner": owner,
                    "height_m": np.round(gen.uniform(*height, len(xy)), 1),
                    "name": None,
                    "commune_code": np.repeat(chosen["code"].to_numpy(), count),
                },
                geometry=shapely.points(xy),
                crs=communes.crs,
            )
        )
    frame = pd.concat([roofs, *poles], ignore_index=True)
    frame.insert(0, "structure_id", [f"{tag}-CT-{i + 1:04d}" for i in range(len(frame))])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=communes.crs)


def _ducts(communes: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, tag: str) -> gpd.GeoDataFrame:
    """The trunk and distribution routes' stretches of 200 m or more inside wards, as ducts."""
    wards = shapely.union_all(communes.loc[communes["unit_type"] == "ward"].geometry.to_numpy())
    routes = routes[routes["route_class"].isin(["trunk", "distribution"])]
    inside = shapely.intersection(routes.to_crs(communes.crs).geometry.to_numpy(), wards)
    parts = shapely.get_parts(shapely.line_merge(inside[~shapely.is_empty(inside)]))
    lines = parts[(shapely.get_type_id(parts) == 1) & (shapely.length(parts) >= 200.0)]
    gen = rng(f"ducts:{tag}")
    return gpd.GeoDataFrame(
        {
            "duct_id": [f"{tag}-CB-{i + 1:04d}" for i in range(len(lines))],
            "owner": "Hạ tầng kỹ thuật đô thị",
            "free_ways": gen.integers(0, 4, len(lines)),
        },
        geometry=lines,
        crs=communes.crs,
    )


def build_passive(
    communes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, tag: str
) -> dict[str, gpd.GeoDataFrame]:
    """The passive layers of a sample (metric CRS of ``communes``), by layer name."""
    return {
        "planning_zones": _zones(areas),
        "exclusion_areas": _exclusion_areas(areas),
        "exclusion_points": _exclusion_points(communes, tag),
        "military_areas": _military_areas(communes, tag),
        "host_structures": _structures(communes, tag),
        "ducts": _ducts(communes, routes, tag),
    }
