"""Placing points in administrative units."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from gis_planner.admin import ancestor, locate, units
from gis_planner.errors import GisPlannerError
from gis_planner.store import GeoPackageStore


def test_locate_inside_outside_and_on_borders() -> None:
    areas = gpd.GeoDataFrame(
        {"code": ["A", "B"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    points = gpd.GeoSeries(
        [
            shapely.Point(0.5, 0.5),
            shapely.Point(1.5, 0.5),
            shapely.Point(1, 0.5),
            shapely.Point(5, 5),
        ],
        crs="EPSG:4326",
    )
    codes = locate(points, areas)
    assert codes.iloc[:3].tolist() == ["A", "B", "A"]
    assert codes.isna().iloc[3]


def test_points_far_from_every_area_are_outside() -> None:
    """No point near any area (every bounding box missed): each is outside, where the first
    pair was read from an empty list (IndexError, a 500 on an upload of such sites)."""
    areas = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326")
    points = gpd.GeoSeries([shapely.Point(5, 5), shapely.Point(7, 7)], crs="EPSG:4326")
    assert locate(points, areas).isna().all()


def test_sample_sites_fall_in_their_communes(sample_store: GeoPackageStore) -> None:
    communes = units(sample_store.read("admin_units"), "commune")
    sites = sample_store.read("sites")
    assert (locate(sites.geometry, communes) == sites["commune_code"]).all()


def test_missing_version_is_an_error(sample_store: GeoPackageStore) -> None:
    with pytest.raises(GisPlannerError, match="2030"):
        units(sample_store.read("admin_units"), "commune", "2030")


def test_ancestor_walks_the_parent_chain() -> None:
    admin = pd.DataFrame(
        {
            "code": ["35", "347", "13285", "96", "13999"],
            "level": ["province", "district", "commune", "province", "commune"],
            "parent_code": [None, "35", "347", None, "96"],
        }
    )
    codes = pd.Series(["13285", "13999", "347", "X"], index=[10, 11, 12, 13])
    provinces = ancestor(admin, codes, "province")
    assert provinces.tolist() == ["35", "96", "35", pd.NA]
    assert list(provinces.index) == [10, 11, 12, 13]
    # a commune straight under its province (2025 units) has no district
    assert ancestor(admin, codes, "district").tolist() == ["347", pd.NA, "347", pd.NA]


def test_points_are_located_as_the_tree_query_locates_them(sample_store: GeoPackageStore) -> None:
    """Points (the usual case) are tested against each area prepared, with the same pairs as
    the tree's "intersects" query, also for points on borders and corners."""
    import numpy as np

    from gis_planner.admin import _points_in

    admin = sample_store.read("admin_units")
    areas = admin.geometry.to_numpy()
    corners = shapely.points(shapely.get_coordinates(areas)[::5])
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = shapely.total_bounds(areas)
    inside = shapely.points(rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000))
    points = np.concatenate([corners, inside])
    tree = shapely.STRtree(areas)
    expected = set(zip(*tree.query(points, predicate="intersects"), strict=True))
    assert set(zip(*_points_in(tree, areas, points), strict=True)) == expected
