"""The metric CRS of an area: the UTM zone of its centre, wherever the area is."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_planner.crs import (
    WGS84,
    lonlat_to_metric,
    metric_crs,
    metric_crs_of,
    metric_to_lonlat,
    utm_crs,
)


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


def test_metric_coordinates_in_the_zone_given() -> None:
    # Đà Nẵng in zone 49: a tenth of a degree east is about 10.7 km along x, and back again.
    x, y = lonlat_to_metric([108.2, 108.3], [16.05, 16.05], "EPSG:32649")
    assert 10_600 < x[1] - x[0] < 10_800 and abs(y[1] - y[0]) < 200
    lon, lat = metric_to_lonlat(x, y, "EPSG:32649")
    np.testing.assert_allclose(lon, [108.2, 108.3], atol=1e-9)
    np.testing.assert_allclose(lat, [16.05, 16.05], atol=1e-9)
    # The same point has other coordinates in zone 48.
    assert lonlat_to_metric(108.2, 16.05, "EPSG:32648")[0] > x[0] + 600_000
