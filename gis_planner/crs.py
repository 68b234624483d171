"""Coordinate reference systems: store in WGS84, measure in the metric CRS of the area.

The metric CRS of an area is the UTM zone of its centre (a province spans at most two zones'
worth of longitude, and UTM's scale error stays below 0.1 % within 3° of the zone's meridian);
a VN-2000 zone can be asked for instead where surveys are in it.
"""

from __future__ import annotations

import math
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import Transformer

# VN-2000 TM-3 zone 105°00', the CRS of survey lists: a default of the command line, defined
# with the others and named here too, with the library's CRSs.
from gis_planner.defaults import VN2000_TM3_105 as VN2000_TM3_105

#: Storage CRS of every layer.
WGS84 = "EPSG:4326"
#: UTM zone 48N, where Hà Nam lies: the zone the bundled sample is built in (``layers/``); the
#: library measures in the metric CRS of its area (``metric_crs_of``).
UTM48N = "EPSG:32648"


Bounds = tuple[float, float, float, float]


def utm_crs(lon: float, lat: float) -> str:
    """The WGS84 UTM zone of a point, as an EPSG code (326zz north, 327zz south)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a longitude/latitude: ({lon}, {lat})")
    zone = min(int((lon + 180) // 6) + 1, 60)
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def metric_crs(bounds: Bounds) -> str:
    """The metric CRS of an area given by its WGS84 bounds: the UTM zone of its centre."""
    minx, miny, maxx, maxy = bounds
    return utm_crs((minx + maxx) / 2, (miny + maxy) / 2)


def metric_crs_of(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """The metric CRS of the area a frame covers (its WGS84 bounds)."""
    if frame.empty:
        raise ValueError("an empty frame covers no area: its metric CRS is undefined")
    minx, miny, maxx, maxy = frame.to_crs(WGS84).total_bounds
    return metric_crs((float(minx), float(miny), float(maxx), float(maxy)))


def grown_bounds(bounds: Bounds, distance_m: float) -> Bounds:
    """WGS84 ``bounds`` grown by at least ``distance_m`` on every side (on the WGS84 ellipsoid,
    a degree of latitude is at least 110.5 km, a degree of longitude at least that times the
    cosine of the latitude farthest from the equator)."""
    west, south, east, north = bounds
    dlat = distance_m / 110_500.0
    widest = min(math.cos(math.radians(min(89.0, max(abs(south), abs(north)) + dlat))), 1.0)
    dlon = distance_m / (110_500.0 * widest)
    return west - dlon, max(-90.0, south - dlat), east + dlon, min(90.0, north + dlat)


@lru_cache(maxsize=16)
def transformer(src: str, dst: str) -> Transformer:
    """A cached, thread-safe-by-construction pyproj transformer (x=lon/easting first)."""
    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_metric(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project WGS84 longitudes/latitudes to x/y in metres of the metric CRS ``crs``."""
    x, y = transformer(WGS84, crs).transform(np.asarray(lon), np.asarray(lat))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def metric_to_lonlat(
    x: npt.ArrayLike, y: npt.ArrayLike, crs: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unproject x/y in metres of the metric CRS ``crs`` to WGS84 longitudes/latitudes."""
    lon, lat = transformer(crs, WGS84).transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
