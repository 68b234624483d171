"""Coordinates of station lists: lon/lat swaps, VN-2000 X/Y, and the province check."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from gis_planner.crs import VN2000_TM3_105, WGS84, lonlat_to_metric, metric_crs_of, transformer
from gis_planner.defaults import DEFAULT_OUTLINE_TOLERANCE_M as DEFAULT_TOLERANCE_M
from gis_planner.errors import GisPlannerError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Area:
    """The area imports must fall in: an outline in the metric CRS ``crs`` grown by a
    tolerance."""

    #: The grown outline, in metres of ``crs``.
    outline_m: shapely.Geometry
    tolerance_m: float
    #: (min lon, min lat, max lon, max lat) of the grown outline, for swap detection.
    bounds: tuple[float, float, float, float]
    crs: str

    @classmethod
    def from_outline(
        cls,
        outline_wgs84: shapely.Geometry,
        tolerance_m: float = DEFAULT_TOLERANCE_M,
        *,
        metric_crs: str | None = None,
    ) -> Area:
        """The outline grown by ``tolerance_m`` metres of ``metric_crs`` (default: the
        outline's area's)."""
        crs = metric_crs or metric_crs_of(gpd.GeoSeries([outline_wgs84], crs=WGS84))
        project = transformer(WGS84, crs).transform
        grown = shapely.buffer(shapely.transform(outline_wgs84, _xy(project)), tolerance_m)
        shapely.prepare(grown)
        unproject = transformer(crs, WGS84).transform
        minx, miny, maxx, maxy = shapely.bounds(shapely.transform(grown, _xy(unproject)))
        return cls(grown, tolerance_m, (float(minx), float(miny), float(maxx), float(maxy)), crs)

    def contains_lonlat(self, lon: FloatArray, lat: FloatArray) -> BoolArray:
        """Whether each position lies inside the grown outline (False for NaN)."""
        finite = np.isfinite(lon) & np.isfinite(lat)
        inside = np.zeros(len(lon), dtype=bool)
        if finite.any():
            x, y = lonlat_to_metric(lon[finite], lat[finite], self.crs)
            inside[finite] = shapely.contains_xy(self.outline_m, x, y)
        return inside

    def covers(self, geoms: npt.NDArray[np.object_]) -> BoolArray:
        """Whether each WGS84 geometry lies wholly inside the grown outline."""
        project = transformer(WGS84, self.crs).transform
        projected = shapely.transform(geoms, _xy(project))
        return np.asarray(shapely.covers(self.outline_m, projected), dtype=bool)

    def in_bounds(self, lon: FloatArray, lat: FloatArray) -> BoolArray:
        minx, miny, maxx, maxy = self.bounds
        return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def _xy(fn: object) -> object:
    """Adapt a pyproj ``transform(x, y)`` to shapely's ``transform(coords)`` signature."""

    def apply(coords: FloatArray) -> FloatArray:
        x, y = fn(coords[:, 0], coords[:, 1])  # type: ignore[operator]
        return np.column_stack([x, y])

    return apply


def unswap_lonlat(
    lon: FloatArray, lat: FloatArray, area: Area
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Positions with latitude and longitude exchanged where that is unambiguous.

    A pair is swapped back only when it lies outside the area's bounds as given and inside them
    when exchanged (in Vietnam longitudes are 102–110 and latitudes 8–24, so for a province the
    two never overlap). Returns the corrected lon, lat and which rows were swapped.
    """
    swapped = ~area.in_bounds(lon, lat) & area.in_bounds(lat, lon)
    return np.where(swapped, lat, lon), np.where(swapped, lon, lat), swapped


def projected_to_lonlat(
    x_north: FloatArray, y_east: FloatArray, crs: str = VN2000_TM3_105
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Longitude and latitude of survey coordinates given as X = northing, Y = easting.

    The datum shift is the one pyproj chooses for ``crs`` → WGS84 (for VN-2000, EPSG:6960's
    7 parameters). In Vietnam's TM-3 and UTM zones the northing (≥ 900 km) always exceeds the
    easting (≤ 800 km), so a row whose X is the smaller was written the GIS way round
    (X = easting); it is swapped and reported.
    """
    swapped = np.isfinite(x_north) & np.isfinite(y_east) & (x_north < y_east)
    northing = np.where(swapped, y_east, x_north)
    easting = np.where(swapped, x_north, y_east)
    lon, lat = transformer(crs, WGS84).transform(easting, northing)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64), swapped


def province_outline(admin_units: gpd.GeoDataFrame, version: str = "pre2025") -> shapely.Geometry:
    """The outline of the province units of one administrative version, in WGS84."""
    mask = (admin_units["level"] == "province") & (admin_units["admin_version"] == version)
    if not mask.any():
        raise GisPlannerError(f"admin_units has no province unit of version {version!r}")
    return shapely.union_all(admin_units.geometry[mask].to_crs(WGS84).to_numpy())
