"""Mapbox Vector Tiles in Web Mercator: tile bounds, clipping, simplification by zoom, encoding.

Every tile stays small at every zoom, by these rules:

- **Points are counted, not drawn, where a tile holds more than ``MAX_DETAIL_POINTS``**: the
  tile is cut into ``AGGREGATE_CELLS`` × ``AGGREGATE_CELLS`` cells (16 screen pixels each), and
  each cell holding points becomes one point at their mean position, with ``point_count`` and
  the counts by each value of the layer's categories (``operator_viettel``, ``shared``…). Only
  points inside the tile count (not those of its buffer), so that the counts of the tiles of a
  zoom add up to the layer's.
- **Lines and polygons are simplified to a quarter of a pixel and dropped below a pixel**: a
  feature whose extent is under one screen pixel on both axes shows nothing.
- **No tile exceeds ``MAX_TILE_BYTES``**: past it, the largest features (polygons by area,
  lines by length, points in their order) are kept, as many as fit.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
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


def draw_tile(
    layer: str,
    geometries: npt.NDArray[np.object_],
    bounds: tuple[float, float, float, float],
    properties: Callable[[], Sequence[dict[str, Any]]],
    categories: Callable[[], Mapping[str, Category]],
    points_xy: npt.NDArray[np.float64] | None = None,
    point_properties: Callable[[], PointProperties] | None = None,
) -> bytes:
    """The tile of ``geometries`` (EPSG:3857, selected for the tile): counts on the grid for a
    point layer (``points_xy``, the points' coordinates) past ``MAX_DETAIL_POINTS``, by
    ``categories()``; else the features with their ``properties()``, or for a point layer
    with its ``point_properties()`` (the same, coded) by ``encode_points``. Each is asked for
    only when used."""
    if points_xy is not None and len(points_xy) > MAX_DETAIL_POINTS:
        return encode_aggregates(layer, points_xy, categories(), bounds)
    if points_xy is not None and point_properties is not None:
        return encode_points(layer, points_xy, point_properties(), bounds)
    return encode_tile(layer, geometries, properties(), bounds)


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


def encode_aggregates(
    layer: str,
    points_xy: npt.NDArray[np.float64],
    categories: Mapping[str, Category],
    bounds: tuple[float, float, float, float],
) -> bytes:
    """Points (EPSG:3857 coordinates) counted on the tile's grid (see the module's rules), with
    counts by the values of each of ``categories`` (aligned with the points)."""
    minx, miny, maxx, maxy = bounds
    x, y = points_xy[:, 0], points_xy[:, 1]
    inside = np.flatnonzero((x >= minx) & (x < maxx) & (y > miny) & (y <= maxy))
    if not len(inside):
        return b""
    x, y = x[inside], y[inside]
    cell_m = (maxx - minx) / AGGREGATE_CELLS
    col = np.minimum(((x - minx) // cell_m).astype(np.intp), AGGREGATE_CELLS - 1)
    row = np.minimum(((maxy - y) // cell_m).astype(np.intp), AGGREGATE_CELLS - 1)
    # Counting into the grid's fixed cells needs no sort of the points.
    cells = AGGREGATE_CELLS**2
    cell = row * AGGREGATE_CELLS + col
    counts = np.bincount(cell, minlength=cells)
    held = np.flatnonzero(counts)
    columns = {"point_count": counts[held]}
    for name, category in categories.items():
        codes = category.codes[inside]
        known = codes >= 0
        width = len(category.values)
        # One bincount over (cell, value) pairs: a cells × values table of counts.
        table = np.bincount(cell[known] * width + codes[known], minlength=cells * width)
        table = table.reshape(cells, width)[held]
        if category.boolean:
            columns[name] = table[:, 1]
        else:
            columns.update(
                (f"{name}_{value}", table[:, i]) for i, value in enumerate(category.values)
            )
    centres = (
        np.column_stack(
            [
                np.bincount(cell, weights=x, minlength=cells)[held],
                np.bincount(cell, weights=y, minlength=cells)[held],
            ]
        )
        / counts[held, None]
    )
    return encode_points(layer, centres, PointProperties.counts(columns), bounds)


# -- Point tiles written directly in protobuf ---------------------------------------------------
# A tile of points is a few varints a feature. mapbox_vector_tile builds each feature through
# Python objects (most of a computed tile's time); here a layer's values are encoded once per
# revision (``PointProperties``) and a tile's features are written by numpy, all at once.

#: The protobuf keys (field number << 3 | wire type) of the MVT messages written here.
_TILE_LAYER = 3 << 3 | 2
_LAYER_NAME, _LAYER_FEATURE, _LAYER_KEY, _LAYER_VALUE = (n << 3 | 2 for n in (1, 2, 3, 4))
_LAYER_EXTENT, _LAYER_VERSION = 5 << 3, 15 << 3
_FEATURE_TAGS, _FEATURE_TYPE, _FEATURE_GEOMETRY = 2 << 3 | 2, 3 << 3, 4 << 3 | 2
_VALUE_STRING, _VALUE_DOUBLE, _VALUE_INT, _VALUE_BOOL = 1 << 3 | 2, 3 << 3 | 1, 4 << 3, 7 << 3
_POINT = 1
#: A MoveTo command of one point.
_MOVE_TO_ONE = 1 | 1 << 3


#: The smallest number of each length of varint past one byte (7 bits a byte).
_VARINT_STEPS = np.array([1 << bits for bits in range(7, 64, 7)], dtype=np.uint64)
#: Varints of the numbers below 2**14, looked up rather than computed: every number of a point
#: tile's features but the largest lengths (tile units, indices of keys and values). Each is
#: two bytes in a little-endian 16-bit word, the second used where ``_SMALL_TWO_BYTES``.
_SMALL = np.arange(1 << 14)
_SMALL_TWO_BYTES = _SMALL >= 1 << 7
_SMALL_LENGTHS = 1 + _SMALL_TWO_BYTES.astype(np.intp)
_SMALL_WORDS = ((_SMALL & 0x7F) | (_SMALL_TWO_BYTES << 7) | (_SMALL >> 7 << 8)).astype("<u2")


def _varint_lengths(numbers: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """Bytes of each number as a protobuf varint."""
    if not numbers.size or numbers.max() < len(_SMALL):
        return _SMALL_LENGTHS.take(numbers.astype(np.intp))
    return np.searchsorted(_VARINT_STEPS, numbers, side="right") + 1


def _varints(numbers: npt.NDArray[np.uint64]) -> bytes:
    """``numbers`` as consecutive protobuf varints."""
    if not len(numbers):
        return b""
    if numbers.max() < len(_SMALL):
        small = numbers.astype(np.intp)
        data = _SMALL_WORDS.take(small).view(np.uint8)
        keep = np.ones(len(data), dtype=bool)
        keep[1::2] = _SMALL_TWO_BYTES.take(small)
        return data[keep].tobytes()
    lengths = _varint_lengths(numbers)
    width = int(lengths.max())
    shifts = np.arange(width, dtype=np.uint64) * np.uint64(7)
    groups = (numbers[:, None] >> shifts) & np.uint64(0x7F)
    position = np.arange(width)
    groups |= np.where(position < lengths[:, None] - 1, np.uint64(0x80), np.uint64(0))
    return groups[position < lengths[:, None]].astype(np.uint8).tobytes()


def _varint(number: int) -> bytes:
    """One non-negative number as a protobuf varint (one at a time: numpy would be slower)."""
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _message(key: int, payload: bytes) -> bytes:
    """A length-delimited field: its key, the payload's length, the payload."""
    return _varint(key) + _varint(len(payload)) + payload


def value_entry(value: Any) -> bytes | None:
    """``value`` as an entry of a layer's values (None for a type MVT has no value for), typed as
    mapbox_vector_tile types it: text, boolean, 64-bit integer or double."""
    if isinstance(value, bool):
        message = bytes([_VALUE_BOOL, int(value)])
    elif isinstance(value, str):
        message = _message(_VALUE_STRING, value.encode())
    elif isinstance(value, int) and -(2**63) <= value < 2**63:
        message = bytes([_VALUE_INT]) + _varint(value % 2**64)  # negatives as two's complement
    elif isinstance(value, float):
        message = bytes([_VALUE_DOUBLE]) + struct.pack("<d", value)
    else:
        return None
    return _message(_LAYER_VALUE, message)


@dataclass(frozen=True)
class PointProperties:
    """The properties of a set of points, coded for ``encode_points``: ``codes[i, j]`` is point
    ``i``'s value of ``keys[j]`` as an index into ``entries`` (encoded by ``value_entry``), -1
    where it has none; equal values share one index."""

    keys: tuple[str, ...]
    codes: npt.NDArray[np.intp]
    #: An array of bytes objects: a tile takes those it uses in one indexing.
    entries: npt.NDArray[np.object_]

    @classmethod
    def of(cls, columns: Mapping[str, Sequence[Any] | pd.Series]) -> PointProperties:
        """The properties of Python values by key (None or NaN for none); values of other types
        than MVT's are left out, as mapbox_vector_tile leaves them."""
        index: dict[bytes, int] = {}
        codes = []
        for values in columns.values():
            found, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
            entries = [value_entry(u) for u in uniques]
            # Each distinct value's index among all columns' (-1, last, for the missing).
            shared = [-1 if e is None else index.setdefault(e, len(index)) for e in entries]
            codes.append(np.array([*shared, -1], dtype=np.intp)[found])
        return cls(tuple(columns), np.column_stack(codes), _objects(list(index)))

    @classmethod
    def counts(cls, columns: Mapping[str, npt.NDArray[np.int64]]) -> PointProperties:
        """Counts by key as integers, a zero left out."""
        counts = np.column_stack(list(columns.values()))
        uniques, codes = np.unique(counts, return_inverse=True)
        codes = np.where(counts > 0, codes.reshape(counts.shape), -1).astype(np.intp)
        entries = [value_entry(int(n)) or b"" for n in uniques.tolist()]
        return cls(tuple(columns), codes, _objects(entries))

    def __getitem__(self, rows: npt.NDArray[np.intp]) -> PointProperties:
        return PointProperties(self.keys, self.codes[rows], self.entries)


def _objects(items: list[bytes]) -> npt.NDArray[np.object_]:
    """A one-dimensional array of ``items`` (``np.array`` would make bytes a string array)."""
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def encode_points(
    layer: str,
    points_xy: npt.NDArray[np.float64],
    properties: PointProperties,
    bounds: tuple[float, float, float, float],
    max_bytes: int = MAX_TILE_BYTES,
) -> bytes:
    """One MVT layer named ``layer`` of points (EPSG:3857 coordinates, selected for the tile)
    with their ``properties``, the same tile as ``encode_tile`` writes; past ``max_bytes`` the
    first points that fit are kept."""
    count = len(points_xy)
    if not count:
        return b""
    data = _encode_points(layer, points_xy, properties, bounds)
    while len(data) > max_bytes and count > 1:
        count = max(1, int(count * max_bytes / len(data) * 0.9))
        first = np.arange(count)
        data = _encode_points(layer, points_xy[first], properties[first], bounds)
    return data


def _encode_points(
    layer: str,
    points_xy: npt.NDArray[np.float64],
    properties: PointProperties,
    bounds: tuple[float, float, float, float],
) -> bytes:
    minx, _, maxx, maxy = bounds
    scale = EXTENT / (maxx - minx)
    # Tile units, y down; each feature's geometry starts from (0, 0): zigzag of the position.
    xy = np.rint(np.column_stack([points_xy[:, 0] - minx, maxy - points_xy[:, 1]]) * scale)
    xy = xy.astype(np.int64)
    zigzag = ((xy << 1) ^ (xy >> 63)).astype(np.uint64)

    # The tile's keys and values: only those its points use.
    n, width = properties.codes.shape
    present = properties.codes >= 0
    # Sorted, then the first of each run: quicker than np.unique's hashing on a few thousand.
    used = np.sort(properties.codes[present])
    if len(used):
        used = used[np.concatenate([[True], used[1:] != used[:-1]])]
    key_used = present.any(axis=0)
    tags = np.empty((n, width, 2), dtype=np.uint64)
    tags[:, :, 0] = np.cumsum(key_used) - 1
    tags[:, :, 1] = np.searchsorted(used, properties.codes)
    tag_slots = tags.reshape(n, 2 * width)
    tags_used = np.repeat(present, 2, axis=1)

    # Every feature as a row of varints, the slots it does not use masked out: features key,
    # length, tags key, length, (key, value)…, type key, type, geometry key, length, MoveTo, x, y.
    tags_length = (_varint_lengths(tag_slots) * tags_used).sum(axis=1).astype(np.uint64)
    has_tags = tags_length > 0
    geometry = np.column_stack([np.full(n, _MOVE_TO_ONE, dtype=np.uint64), zigzag])
    geometry_length = _varint_lengths(geometry).sum(axis=1).astype(np.uint64)
    feature_length = (
        np.where(has_tags, 1 + _varint_lengths(tags_length) + tags_length, 0)
        + 3
        + _varint_lengths(geometry_length)
        + geometry_length
    ).astype(np.uint64)
    tags_end = 4 + 2 * width
    slots = np.empty((n, tags_end + 7), dtype=np.uint64)
    slots[:, :4] = [_LAYER_FEATURE, 0, _FEATURE_TAGS, 0]
    slots[:, 1], slots[:, 3] = feature_length, tags_length
    slots[:, 4:tags_end] = tag_slots
    slots[:, tags_end:] = [_FEATURE_TYPE, _POINT, _FEATURE_GEOMETRY, 0, 0, 0, 0]
    slots[:, tags_end + 3], slots[:, tags_end + 4 :] = geometry_length, geometry
    used_slots = np.ones(slots.shape, dtype=bool)
    used_slots[:, 2], used_slots[:, 3] = has_tags, has_tags
    used_slots[:, 4:tags_end] = tags_used
    features = _varints(slots[used_slots])

    keys = [properties.keys[j] for j in np.flatnonzero(key_used).tolist()]
    body = b"".join(
        [
            _message(_LAYER_NAME, layer.encode()),
            features,
            *(_message(_LAYER_KEY, key.encode()) for key in keys),
            b"".join(properties.entries[used].tolist()),
            _varint(_LAYER_EXTENT) + _varint(EXTENT),
            _varint(_LAYER_VERSION) + _varint(2),
        ]
    )
    return _message(_TILE_LAYER, body)


class PointIndex:
    """Points sorted along a Z-order curve of the tiles of zoom ``LEVEL``: the points of any
    rectangle are a few runs of that order, found by binary search, rather than every point
    compared with it (the cost that grows with the layer)."""

    LEVEL = 16
    #: Below this many points, comparing them all is quicker than searching the index.
    MIN_POINTS = 20_000

    def __init__(self, points_xy: npt.NDArray[np.float64]) -> None:
        self.points_xy = points_xy
        col, row = self._cells(points_xy[:, 0], points_xy[:, 1])
        codes = _interleave(col) | (_interleave(row) << np.uint64(1))
        self.order = np.argsort(codes, kind="stable")
        self.codes = codes[self.order]

    @classmethod
    def _cells(
        cls, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        # The one formula for points and rectangles alike: it keeps their order, so a point
        # inside a rectangle never falls in a cell outside its cells, whatever the rounding.
        size = 2 * ORIGIN_M / (1 << cls.LEVEL)
        last = (1 << cls.LEVEL) - 1
        col = np.clip((x + ORIGIN_M) // size, 0, last).astype(np.uint64)
        row = np.clip((ORIGIN_M - y) // size, 0, last).astype(np.uint64)
        return col, row

    def query(self, bounds: tuple[float, float, float, float]) -> npt.NDArray[np.intp]:
        """Indices of the points in a closed rectangle, in row order (as ``points_in``)."""
        if len(self.codes) < self.MIN_POINTS:
            return points_in(self.points_xy, bounds)
        minx, miny, maxx, maxy = bounds
        (col0, col1), (row1, row0) = self._cells(np.array([minx, maxx]), np.array([miny, maxy]))
        # Cells of a level at which the rectangle spans a few of them on each side (4–9).
        span = max(int(col1 - col0), int(row1 - row0), 1)
        shift = np.uint64(max(span.bit_length() - 3, 0))
        cols = np.arange(col0 >> shift, (col1 >> shift) + np.uint64(1), dtype=np.uint64)
        rows = np.arange(row0 >> shift, (row1 >> shift) + np.uint64(1), dtype=np.uint64)
        first = _interleave(cols)[None, :] | (_interleave(rows)[:, None] << np.uint64(1))
        first = np.sort(first.ravel()) << (shift * np.uint64(2))
        starts = np.searchsorted(self.codes, first)
        ends = np.searchsorted(self.codes, first + (np.uint64(1) << (shift * np.uint64(2))))
        if (ends - starts).sum() > len(self.codes) // 4:
            # Gathering a large share of the points costs more than comparing them all in place.
            return points_in(self.points_xy, bounds)
        candidates = np.concatenate(
            [self.order[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        )
        found = candidates[points_in(self.points_xy[candidates], bounds)]
        return np.sort(found)


def _interleave(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The bits of 32-bit ``values`` spread to the even bits (one axis of a Z-order code)."""
    v = values.astype(np.uint64)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):  # fmt: skip
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _encode(layer: str, features: list[dict[str, Any]]) -> bytes:
    data: bytes = mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": False},
    )
    return data
