"""Coordinate reference systems: store in WGS84, measure in UTM 48N."""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import Transformer

#: Storage CRS of every layer.
WGS84 = "EPSG:4326"
#: Metric CRS for every distance, area and raster grid (Hà Nam lies in UTM zone 48N).
UTM48N = "EPSG:32648"
#: VN-2000 TM-3 zone 105°00' (Hà Nam, Ninh Bình); survey lists give X = northing.
VN2000_TM3_105 = "EPSG:5897"


@lru_cache(maxsize=16)
def transformer(src: str, dst: str) -> Transformer:
    """A cached, thread-safe-by-construction pyproj transformer (x=lon/easting first)."""
    return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_utm(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project WGS84 longitudes/latitudes to UTM 48N easting/northing in metres."""
    x, y = transformer(WGS84, UTM48N).transform(np.asarray(lon), np.asarray(lat))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def utm_to_lonlat(
    x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unproject UTM 48N easting/northing in metres to WGS84 longitudes/latitudes."""
    lon, lat = transformer(UTM48N, WGS84).transform(np.asarray(x), np.asarray(y))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def to_metric(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The same frame in UTM 48N, for distances and areas."""
    return frame.to_crs(UTM48N)
