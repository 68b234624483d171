"""Web Mercator PNG tiles of a COG, each read from one level of its pyramid at bounded cost.

Tiles are drawn as palette PNGs, one palette entry per class of the colour map: a quarter of
the bytes of RGBA and a fraction of the time to classify and encode.

A tile much larger than the raster must not be read as rio-tiler reads any tile: a warped
dataset over the whole tile at the raster's full resolution (at zoom 0, the world at 25 m),
whatever the raster's overviews. Here a tile reads only where it meets the raster, from the
coarsest level whose pixels are no larger than the tile's, and zooms at which even that would
read more than ``MAX_READ_PX`` pixels, or at which the raster would span less than
``MIN_SPAN_PX`` tile pixels, are refused.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.io import DatasetReader, MemoryFile
from rasterio.transform import from_bounds, from_origin
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rio_tiler.constants import WEB_MERCATOR_CRS
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.models import ImageData

from gis_planner.colormaps import ColourMap
from gis_planner.errors import GisPlannerError
from gis_planner.vectortiles import MAX_ZOOM, ORIGIN_M, tile_bounds

TILE_PX = 256
#: Pixels of one level a tile may read: four tiles' worth, since levels are powers of two apart.
MAX_READ_PX = 4 * TILE_PX * TILE_PX
#: Below the zoom at which the raster spans this many tile pixels, its tiles show nothing useful.
MIN_SPAN_PX = 2

Bounds = tuple[float, float, float, float]


class ZoomBelowRaster(GisPlannerError):
    """A tile at a zoom below the raster's useful minimum."""

    def __init__(self, raster: str, z: int, min_zoom: int) -> None:
        self.raster = raster
        self.z = z
        self.min_zoom = min_zoom
        super().__init__(
            f"zoom {z} thấp hơn mức tối thiểu {min_zoom} của raster / zoom {z} is below the "
            f"minimum zoom {min_zoom} of raster {raster!r} (see its tilejson minzoom)"
        )


@dataclass(frozen=True)
class TilePlan:
    """How one tile is read: the part of it the raster covers and the level it is read from."""

    #: 0 for full resolution, ``i`` for the ``i``-th overview.
    level: int
    #: The covered part of the tile, EPSG:3857 metres, on the tile's pixel grid.
    part_m: Bounds
    #: Columns and rows of that part in the 256 × 256 tile: (col0, row0, col1, row1).
    window_px: tuple[int, int, int, int]
    #: Pixels of ``level`` that the part covers: what the read costs.
    read_px: float


@dataclass(frozen=True)
class Pyramid:
    """Where a raster lies in Web Mercator and the pixel size of each level of its pyramid."""

    bounds_m: Bounds
    #: (x, y) pixel size in EPSG:3857 metres of the full resolution, then of each overview.
    level_res_m: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, dataset: DatasetReader) -> Pyramid:
        bounds = transform_bounds(dataset.crs, WEB_MERCATOR_CRS, *dataset.bounds, densify_pts=21)
        width_m, height_m = bounds[2] - bounds[0], bounds[3] - bounds[1]
        factors = [1, *dataset.overviews(1)]
        res = tuple(
            (width_m / math.ceil(dataset.width / f), height_m / math.ceil(dataset.height / f))
            for f in factors
        )
        return cls(bounds, res)

    @property
    def width_m(self) -> float:
        return self.bounds_m[2] - self.bounds_m[0]

    @property
    def height_m(self) -> float:
        return self.bounds_m[3] - self.bounds_m[1]

    def level_for(self, z: int) -> int:
        """The coarsest level whose pixels are no larger than the tile's at zoom ``z``: the
        full resolution when zoomed in past it, the coarsest overview when zoomed out past it."""
        pixel_m = _pixel_m(z)
        fine_enough = [i for i, (rx, ry) in enumerate(self.level_res_m) if max(rx, ry) <= pixel_m]
        return max(fine_enough, default=0)

    def worst_read_px(self, z: int) -> float:
        """Pixels a tile at zoom ``z`` reads at most: its level over all the raster it can meet."""
        tile_m = TILE_PX * _pixel_m(z)
        rx, ry = self.level_res_m[self.level_for(z)]
        return min(tile_m, self.width_m) / rx * min(tile_m, self.height_m) / ry

    @property
    def min_zoom(self) -> int:
        """The lowest zoom at which the raster spans ``MIN_SPAN_PX`` tile pixels and no tile
        reads more than ``MAX_READ_PX`` pixels."""
        for z in range(MAX_ZOOM + 1):
            spans_px = max(self.width_m, self.height_m) / _pixel_m(z)
            if spans_px >= MIN_SPAN_PX and self.worst_read_px(z) <= MAX_READ_PX:
                return z
        return MAX_ZOOM

    def plan(self, z: int, x: int, y: int) -> TilePlan:
        """How tile z/x/y is read; ``TileOutsideBounds`` if the raster does not meet it."""
        tx0, _, _, ty1 = tile_bounds(z, x, y)
        bx0, by0, bx1, by1 = self.bounds_m
        pixel_m = _pixel_m(z)
        col0 = max(0, math.floor((bx0 - tx0) / pixel_m))
        col1 = min(TILE_PX, math.ceil((bx1 - tx0) / pixel_m))
        row0 = max(0, math.floor((ty1 - by1) / pixel_m))
        row1 = min(TILE_PX, math.ceil((ty1 - by0) / pixel_m))
        if col1 <= col0 or row1 <= row0:
            raise TileOutsideBounds(f"tile {z}/{x}/{y} does not meet the raster")
        left, right = tx0 + col0 * pixel_m, tx0 + col1 * pixel_m
        part = (left, ty1 - row1 * pixel_m, right, ty1 - row0 * pixel_m)
        level = self.level_for(z)
        rx, ry = self.level_res_m[level]
        covered_x = min(part[2], bx1) - max(part[0], bx0)
        covered_y = min(part[3], by1) - max(part[1], by0)
        return TilePlan(level, part, (col0, row0, col1, row1), covered_x / rx * covered_y / ry)


def _pixel_m(z: int) -> float:
    return 2 * ORIGIN_M / (TILE_PX << z)


def prepare_thread() -> None:
    """Set up GDAL's and PROJ's state on the calling thread, which the first georeferenced file
    it opens otherwise pays for (about 20 ms, twice a tile's read): for threads that read tiles.
    """
    profile = {"driver": "GTiff", "width": 1, "height": 1, "count": 1, "dtype": "uint8"}
    with MemoryFile() as memory:
        with memory.open(**profile, crs=WEB_MERCATOR_CRS, transform=from_origin(0, 0, 1, 1)) as dst:
            dst.write(np.zeros((1, 1, 1), dtype=np.uint8))
        with memory.open() as src:
            src.read(1)


def read_tile(
    path: Path, pyramid: Pyramid, z: int, x: int, y: int, indexes: int = 1, name: str = ""
) -> ImageData:
    """Tile z/x/y of the COG at ``path`` (256 × 256, masked where the raster is not)."""
    tile_bounds(z, x, y)  # checks z/x/y before the zoom is compared with the raster's
    if z < pyramid.min_zoom:
        raise ZoomBelowRaster(name or path.name, z, pyramid.min_zoom)
    plan = pyramid.plan(z, x, y)
    col0, row0, col1, row1 = plan.window_px
    width, height = col1 - col0, row1 - row0
    # OVERVIEW_LEVEL opens one overview as if it were the dataset: no read can reach finer.
    options = {"overview_level": plan.level - 1} if plan.level else {}
    with (
        rasterio.open(path, **options) as dataset,
        WarpedVRT(
            dataset, crs=WEB_MERCATOR_CRS, transform=from_bounds(*plan.part_m, width, height),
            width=width, height=height, resampling=Resampling.nearest,
        ) as warped,
    ):  # fmt: skip
        part = warped.read(indexes, masked=True)
    tile: np.ma.MaskedArray = np.ma.masked_all((1, TILE_PX, TILE_PX), dtype=part.dtype)
    tile[0, row0:row1, col0:col1] = part
    return ImageData(tile, bounds=tile_bounds(z, x, y), crs=WEB_MERCATOR_CRS)


def render_png(values: np.ma.MaskedArray, cmap: ColourMap) -> bytes:
    """A 2-D tile as an indexed PNG: each value in its class's colour, masked values and values
    of no class transparent."""
    if len(cmap.classes) > 255:
        raise GisPlannerError(f"colour map {cmap.name!r} has more than 255 classes")
    image = Image.fromarray(cmap.class_indices(values), mode="P")
    image.putpalette(
        [0, 0, 0] + [channel for c in cmap.classes for channel in c.rgba[:3]], rawmode="RGB"
    )
    alpha = bytes([0] + [c.rgba[3] for c in cmap.classes])
    out = io.BytesIO()
    # Level 1: the tiles of a few classes compress almost as well, at a fraction of level 6's time.
    image.save(out, format="PNG", transparency=alpha, compress_level=1)
    return out.getvalue()
