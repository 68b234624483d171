"""Mapbox Vector Tiles in Web Mercator: tile bounds, clipping, simplification by zoom, encoding.

Every tile stays small at every zoom, by these rules:

- **Points are counted, not drawn, where the tile itself (not its buffer) holds more than
  ``MAX_DETAIL_POINTS``**: the tile is cut into ``AGGREGATE_CELLS`` × ``AGGREGATE_CELLS`` cells
  (16 screen pixels each), and each cell holding points becomes one point at their mean
  position, with ``point_count`` and the counts by each value of the layer's categories
  (``operator_viettel``, ``shared``…). Only points inside the tile count (not those of its
  buffer), so that the counts of the tiles of a zoom add up to the layer's. The cells of a zoom
  are counted once per revision of the layer (``gis_planner.pointtiles``).
- **Lines and polygons are simplified to a quarter of a pixel and dropped below a pixel**: a
  feature whose extent is under one screen pixel on both axes shows nothing.
- **No tile exceeds ``MAX_TILE_BYTES``**: past it, the largest features (polygons by area,
  lines by length, points in their order) are kept, as many as fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mapbox_vector_tile
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import GisPlannerError

#: Half the width of the Web Mercator square, in metres.
ORIGIN_M = 20037508.342789244
EXTENT = 4096
#: Geometry is kept this far (in tile units) outside the tile so that strokes join across tiles.
BUFFER = 64
MAX_ZOOM = 24
#: Tile units of one screen pixel of a 256 px tile.
PIXEL = EXTENT // 256
#: Points a tile shows one by one; past this many, it shows counts on a grid.
MAX_DETAIL_POINTS = 1_000
#: Cells of the counting grid along a tile's side (16 screen pixels each).
AGGREGATE_CELLS = 16
#: The fields points are counted by in an aggregated tile, where a layer has them.
AGGREGATE_FIELDS = ("operator", "technology", "status", "shared")
#: Largest encoded tile.
MAX_TILE_BYTES = 500 * 1024


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(min x, min y, max x, max y) in EPSG:3857 metres of tile z/x/y (XYZ, y down)."""
    if not 0 <= z <= MAX_ZOOM:
        raise GisPlannerError(f"zoom {z} is outside 0–{MAX_ZOOM}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise GisPlannerError(f"tile {z}/{x}/{y} does not exist: x and y must be in 0–{n - 1}")
    size = 2 * ORIGIN_M / n
    minx = -ORIGIN_M + x * size
    maxy = ORIGIN_M - y * size
    return minx, maxy - size, minx + size, maxy


def buffered(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``bounds`` grown by ``BUFFER`` tile units on each side."""
    minx, miny, maxx, maxy = bounds
    pad = (maxx - minx) * BUFFER / EXTENT
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def to_tile_space(
    geometries: npt.NDArray[np.object_], bounds: tuple[float, float, float, float]
) -> npt.NDArray[np.object_]:
    """Clip lines and polygons to the buffered tile, simplify them to a quarter of a screen
    pixel (a 256 px tile) and scale everything to tile units (0–EXTENT, y up)."""
    minx, miny, maxx, _ = bounds
    scale = EXTENT / (maxx - minx)
    points = shapely.get_type_id(geometries) == shapely.GeometryType.POINT
    if not points.all():
        shapes = geometries[~points]
        shapes = shapely.clip_by_rect(shapes, *buffered(bounds))
        shapes = shapely.simplify(shapes, (maxx - minx) / 1024, preserve_topology=True)
        geometries = geometries.copy()
        geometries[~points] = shapes
    offset = np.array([minx, miny])
    return shapely.transform(geometries, lambda xy: (xy - offset) * scale)


def encode_tile(
    layer: str,
    geometries: npt.NDArray[np.object_],
    properties: Sequence[dict[str, Any]],
    bounds: tuple[float, float, float, float],
    max_bytes: int = MAX_TILE_BYTES,
) -> bytes:
    """One MVT layer named ``layer`` of EPSG:3857 ``geometries`` (already selected for the
    tile) with their ``properties``; None values are left out. Features below a pixel are
    dropped, and the largest kept that fit in ``max_bytes``."""
    if len(geometries) == 0:
        return b""
    scaled = to_tile_space(geometries, bounds)
    minx, miny, maxx, maxy = shapely.bounds(scaled).T
    points = shapely.get_type_id(scaled) == shapely.GeometryType.POINT
    visible = ~shapely.is_empty(scaled) & (points | (maxx - minx >= PIXEL) | (maxy - miny >= PIXEL))
    kept = np.flatnonzero(visible)
    features = [
        {
            "geometry": scaled[i],
            "properties": {k: v for k, v in properties[i].items() if v is not None},
        }
        for i in kept.tolist()
    ]
    if not features:
        return b""
    data = _encode(layer, features)
    if len(data) <= max_bytes:
        return data
    # Largest first: what a map at this zoom can show of the layer.
    size = np.where(points[kept], 0.0, shapely.area(scaled[kept]) + shapely.length(scaled[kept]))
    order = np.argsort(-size, kind="stable")
    count = len(features)
    while len(data) > max_bytes and count > 1:
        count = max(1, int(count * max_bytes / len(data) * 0.9))
        data = _encode(layer, [features[i] for i in np.sort(order[:count])])
    return data


def points_in(
    points_xy: npt.NDArray[np.float64], bounds: tuple[float, float, float, float]
) -> npt.NDArray[np.intp]:
    """Indices of the points (coordinates) in a closed rectangle: four comparisons over the
    arrays, faster than a tree's per-candidate test when a low-zoom tile holds most points."""
    minx, miny, maxx, maxy = bounds
    x, y = points_xy[:, 0], points_xy[:, 1]
    return np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))


def run_positions(starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """The positions of runs [start, end) one after another, in one array."""
    lengths = ends - starts
    offsets = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) + np.repeat(starts - offsets, lengths)


@dataclass(frozen=True)
class Category:
    """A field as the counts see it: each row's code, -1 where missing, and the value of each
    code; a boolean field counts its true values under its own name."""

    codes: npt.NDArray[np.intp]
    values: tuple[Any, ...]
    boolean: bool = False

    @classmethod
    def of(cls, column: pd.Series) -> Category:
        if pd.api.types.is_bool_dtype(column.dtype):
            flags = column.fillna(False).astype(bool).to_numpy()
            return cls(flags.astype(np.intp), (False, True), boolean=True)
        codes, uniques = pd.factorize(column, sort=True)
        return cls(codes.astype(np.intp), tuple(uniques))

    def __getitem__(self, rows: npt.NDArray[np.intp]) -> Category:
        return Category(self.codes[rows], self.values, self.boolean)


def feature_ids(frame: pd.DataFrame, layer: str) -> npt.NDArray[np.object_]:
    """Feature ids: the catalogue key (its fields joined by ':'), else the row number."""
    spec = CATALOGUE.get(layer)
    if spec is None or not set(spec.key) <= set(frame.columns):
        return np.arange(len(frame)).astype(str).astype(object)
    parts = [frame[k].astype(str) for k in spec.key]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + ":" + part
    return joined.to_numpy(dtype=object)


def _encode(layer: str, features: list[dict[str, Any]]) -> bytes:
    data: bytes = mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": False},
    )
    return data
