"""Point tiles written directly in protobuf (Mapbox Vector Tile 2.1).

A tile of points is a few varints a feature. mapbox_vector_tile builds each feature through
Python objects (most of a computed tile's time); here a layer's values are encoded once per
revision (``PointProperties``), a tile finds the values its points use in one pass over an
array of the entries, and its features are written by one compiled loop (numba).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
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
    ``i``'s value of ``keys[j]`` as the index of an entry (a value encoded by ``value_entry``),
    -1 where it has none; equal values share one index."""

    keys: tuple[str, ...]
    codes: npt.NDArray[np.intp]
    #: An array of bytes objects: a tile takes those it uses in one indexing.
    entries: npt.NDArray[np.object_]
    #: Each thread's array of one number an entry (4 bytes each), which a tile writes its own
    #: index of each entry it uses into: shared by the rows taken from these properties.
    scratch: threading.local = field(default_factory=threading.local, compare=False, repr=False)

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
        return PointProperties(self.keys, self.codes[rows], self.entries, self.scratch)

    def tile_values(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
        """The entries these points use, each once, and each point's values as indices into
        them (meaningless where a point has no value): found through the thread's array of
        the entries, without sorting."""
        positions: npt.NDArray[np.int32] | None = getattr(self.scratch, "positions", None)
        if positions is None:
            # One more, that a missing value (-1) reads.
            positions = np.empty(len(self.entries) + 1, dtype=np.int32)
            self.scratch.positions = positions
        flat = self.codes[self.codes >= 0]
        order = np.arange(len(flat), dtype=np.int32)
        # Where a value occurs more than once, the last write wins: that occurrence stands for it.
        positions[flat] = order
        used = flat[positions[flat] == order]
        positions[used] = np.arange(len(used), dtype=np.int32)
        return used, positions[self.codes]


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
    zigzag = (xy << 1) ^ (xy >> 63)

    # The tile's keys and values: only those its points use.
    present = properties.codes >= 0
    used, values = properties.tile_values()
    key_used = present.any(axis=0)
    keys_index = np.cumsum(key_used) - 1
    n, width = present.shape
    # Each feature is at most 11 + 2 × width varints of at most 10 bytes.
    out = np.empty(n * 10 * (11 + 2 * width), dtype=np.uint8)
    features = out[: _write_features(zigzag, values, present, keys_index, out)].tobytes()

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


@numba.njit(cache=True, nogil=True)
def _varint_length(number: int) -> int:
    length = 1
    while number > 0x7F:
        number >>= 7
        length += 1
    return length


@numba.njit(cache=True, nogil=True)
def _put(out: npt.NDArray[np.uint8], at: int, number: int) -> int:
    """``number`` (not negative) written as a varint into ``out`` at ``at``; the next place."""
    while number > 0x7F:
        out[at] = number & 0x7F | 0x80
        number >>= 7
        at += 1
    out[at] = number
    return at + 1


@numba.njit(cache=True, nogil=True)
def _write_features(
    zigzag: npt.NDArray[np.int64],
    values: npt.NDArray[np.int32],
    present: npt.NDArray[np.bool_],
    keys_index: npt.NDArray[np.intp],
    out: npt.NDArray[np.uint8],
) -> int:
    """The features of points (their zigzagged tile coordinates, their values' indices where
    ``present``, the keys' indices) written into ``out`` as a layer's feature messages: the
    feature's key and length, its tags' key, length and (key, value) pairs when it has any,
    its type, and its geometry's key, length, MoveTo and position. The bytes written."""
    n, width = values.shape
    at = 0
    for i in range(n):
        tags_length = 0
        for j in range(width):
            if present[i, j]:
                tags_length += _varint_length(keys_index[j]) + _varint_length(values[i, j])
        geometry_length = 1 + _varint_length(zigzag[i, 0]) + _varint_length(zigzag[i, 1])
        feature_length = 3 + _varint_length(geometry_length) + geometry_length
        if tags_length:
            feature_length += 1 + _varint_length(tags_length) + tags_length
        at = _put(out, at, _LAYER_FEATURE)
        at = _put(out, at, feature_length)
        if tags_length:
            at = _put(out, at, _FEATURE_TAGS)
            at = _put(out, at, tags_length)
            for j in range(width):
                if present[i, j]:
                    at = _put(out, at, keys_index[j])
                    at = _put(out, at, values[i, j])
        for number in (_FEATURE_TYPE, _POINT, _FEATURE_GEOMETRY, geometry_length, _MOVE_TO_ONE):
            at = _put(out, at, number)
        at = _put(out, at, zigzag[i, 0])
        at = _put(out, at, zigzag[i, 1])
    return at
