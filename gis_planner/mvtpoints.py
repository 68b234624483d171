"""Point tiles written directly in protobuf (Mapbox Vector Tile 2.1) by numpy.

A tile of points is a few varints a feature. mapbox_vector_tile builds each feature through
Python objects (most of a computed tile's time); here a layer's values are encoded once per
revision (``PointProperties``) and a tile's features are written by numpy, all at once.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gis_planner.vectortiles import EXTENT, MAX_TILE_BYTES

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
