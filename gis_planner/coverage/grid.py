"""The coverage grid: a north-up raster in a metric CRS, its tiles and its area-of-interest mask."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from affine import Affine
from rasterio.features import rasterize

from gis_planner.crs import metric_crs_of
from gis_planner.errors import GisPlannerError

#: Default pixel size of the coverage rasters.
DEFAULT_RESOLUTION_M = 25.0
#: Default tile edge in pixels: a tile's working arrays stay a few MB whatever the grid size.
DEFAULT_TILE_PX = 256


@dataclass(frozen=True)
class Window:
    """A block of pixels of the grid: rows ``row0 … row0+height``, columns likewise."""

    row0: int
    col0: int
    height: int
    width: int

    @property
    def rows(self) -> slice:
        return slice(self.row0, self.row0 + self.height)

    @property
    def cols(self) -> slice:
        return slice(self.col0, self.col0 + self.width)

    def mask_of(self, bits: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
        """The window's mask kept as ``np.packbits(mask)`` (a bit a pixel)."""
        unpacked = np.unpackbits(bits, count=self.height * self.width)
        return unpacked.view(np.bool_).reshape(self.height, self.width)


@dataclass(frozen=True)
class Grid:
    """Pixel (row, col) covers x ∈ [x_min + col·res, +res), y ∈ (y_max − (row+1)·res, … ]."""

    x_min: float
    y_max: float
    resolution_m: float
    width: int
    height: int
    #: A metric CRS (the area's UTM zone unless the run asks for another).
    crs: str

    @classmethod
    def from_bounds(
        cls,
        bounds: tuple[float, float, float, float],
        resolution_m: float,
        crs: str,
    ) -> Grid:
        """The grid covering bounds (x_min, y_min, x_max, y_max) in the metric ``crs``,
        snapped outwards."""
        if resolution_m <= 0:
            raise GisPlannerError(f"resolution must be positive, got {resolution_m} m")
        x0, y0, x1, y1 = bounds
        if not (x1 > x0 and y1 > y0):
            raise GisPlannerError(f"empty bounds {bounds}")
        x_min = math.floor(x0 / resolution_m) * resolution_m
        y_max = math.ceil(y1 / resolution_m) * resolution_m
        width = math.ceil((x1 - x_min) / resolution_m)
        height = math.ceil((y_max - y0) / resolution_m)
        return cls(x_min, y_max, resolution_m, width, height, crs)

    @classmethod
    def for_area(
        cls,
        area: gpd.GeoDataFrame | gpd.GeoSeries,
        resolution_m: float = DEFAULT_RESOLUTION_M,
        crs: str | None = None,
    ) -> Grid:
        """The grid covering the bounds of ``area`` (any CRS) in ``crs``, by default the metric
        CRS of the area (the UTM zone of its centre)."""
        crs = crs or metric_crs_of(area)
        return cls.from_bounds(tuple(area.to_crs(crs).total_bounds), resolution_m, crs)

    @property
    def transform(self) -> Affine:
        return Affine(self.resolution_m, 0.0, self.x_min, 0.0, -self.resolution_m, self.y_max)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        res = self.resolution_m
        return (
            self.x_min,
            self.y_max - self.height * res,
            self.x_min + self.width * res,
            self.y_max,
        )

    def window_bounds(self, window: Window) -> tuple[float, float, float, float]:
        res = self.resolution_m
        x0 = self.x_min + window.col0 * res
        y1 = self.y_max - window.row0 * res
        return (x0, y1 - window.height * res, x0 + window.width * res, y1)

    def sub(self, window: Window) -> Grid:
        """The grid of the pixels of ``window``."""
        x0, _, _, y1 = self.window_bounds(window)
        return Grid(x0, y1, self.resolution_m, window.width, window.height, self.crs)

    def windows(self, tile_px: int = DEFAULT_TILE_PX) -> Iterator[Window]:
        """Tiles of ``tile_px`` × ``tile_px`` pixels (smaller at the right and bottom edges)."""
        if tile_px <= 0:
            raise GisPlannerError(f"tile size must be positive, got {tile_px}")
        for row0 in range(0, self.height, tile_px):
            for col0 in range(0, self.width, tile_px):
                yield Window(
                    row0, col0, min(tile_px, self.height - row0), min(tile_px, self.width - col0)
                )

    def pixel_centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """x of every column centre and y of every row centre."""
        res = self.resolution_m
        xs = self.x_min + (np.arange(self.width, dtype=np.float64) + 0.5) * res
        ys = self.y_max - (np.arange(self.height, dtype=np.float64) + 0.5) * res
        return xs, ys

    def mask(self, area: gpd.GeoDataFrame | gpd.GeoSeries) -> npt.NDArray[np.bool_]:
        """True on pixels whose centre lies in ``area`` (any CRS)."""
        geometries = area.geometry if area.crs == self.crs else area.to_crs(self.crs).geometry
        # the parts near the grid only (a pixel beyond it, so that no new edge is near a
        # pixel centre): rasterizing converts every vertex it is given, and a tile of a
        # province needs a few of its polygons' thousands
        x0, y0, x1, y1 = self.bounds
        margin = self.resolution_m
        near = shapely.clip_by_rect(
            geometries.to_numpy(), x0 - margin, y0 - margin, x1 + margin, y1 + margin
        )
        shapes = [(g, 1) for g in near if g is not None and not g.is_empty]
        if not shapes:
            return np.zeros(self.shape, dtype=bool)
        burned = rasterize(shapes, out_shape=self.shape, transform=self.transform, dtype="uint8")
        return burned.astype(bool)
