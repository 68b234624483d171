"""The metric CRS of an area: the UTM zone of its centre, wherever the area is."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gis_planner.crs import WGS84, metric_crs, metric_crs_of, utm_crs


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (105.92, 20.54, "EPSG:32648"),  # Phủ Lý
        (102.5, 22.0, "EPSG:32648"),  # Lai Châu, west of zone 48's edge at 102°E
        (101.9, 22.0, "EPSG:32647"),  # Mường Nhé, zone 47
        (108.2, 16.05, "EPSG:32649"),  # Đà Nẵng, zone 49
        (-3.0, -10.0, "EPSG:32730"),  # south of the equator
        (180.0, 0.0, "EPSG:32660"),  # the antimeridian is in zone 60
    ],
)
def test_utm_zone_of_a_point(lon: float, lat: float, expected: str) -> None:
    assert utm_crs(lon, lat) == expected


def test_metric_crs_of_an_area_is_its_centres() -> None:
    # Ninh Bình and Nam Định lie in zone 48; a box straddling 108°E falls on its centre's side.
    assert metric_crs((105.5, 19.9, 106.6, 20.8)) == "EPSG:32648"
    assert metric_crs((107.5, 16.0, 108.9, 16.5)) == "EPSG:32649"
    frame = gpd.GeoDataFrame(geometry=[shapely.box(107.5, 16.0, 108.9, 16.5)], crs=WGS84)
    assert metric_crs_of(frame) == "EPSG:32649"
    assert metric_crs_of(frame.to_crs("EPSG:3857")) == "EPSG:32649"


def test_no_crs_for_nothing_or_nowhere() -> None:
    with pytest.raises(ValueError, match="empty"):
        metric_crs_of(gpd.GeoDataFrame(geometry=[], crs=WGS84))
    with pytest.raises(ValueError, match="longitude"):
        utm_crs(200.0, 10.0)
