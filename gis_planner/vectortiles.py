"""Mapbox Vector Tiles in Web Mercator: tile bounds, clipping, simplification by zoom, encoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mapbox_vector_tile
import numpy as np
import numpy.typing as npt
import shapely

from gis_planner.errors import GisPlannerError

#: Half the width of the Web Mercator square, in metres.
ORIGIN_M = 20037508.342789244
EXTENT = 4096
#: Geometry is kept this far (in tile units) outside the tile so that strokes join across tiles.
BUFFER = 64
MAX_ZOOM = 24


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
) -> bytes:
    """One MVT layer named ``layer`` of EPSG:3857 ``geometries`` (already selected for the
    tile) with their ``properties``; None values are left out."""
    if len(geometries) == 0:
        return b""
    scaled = to_tile_space(geometries, bounds)
    keep = ~shapely.is_empty(scaled)
    features = [
        {"geometry": geom, "properties": {k: v for k, v in props.items() if v is not None}}
        for geom, props, kept in zip(scaled, properties, keep, strict=True)
        if kept
    ]
    if not features:
        return b""
    data: bytes = mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": False},
    )
    return data
