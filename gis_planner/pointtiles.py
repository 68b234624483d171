"""Tiles of point layers: the points in a Z-order index, and their counts on the grid of each
zoom made once per revision, so that a tile is a few binary searches and an encoding.

The rules are the module ``gis_planner.vectortiles``'s: a tile whose own rectangle holds more
than ``MAX_DETAIL_POINTS`` shows the counts of its ``AGGREGATE_CELLS`` × ``AGGREGATE_CELLS``
cells, any other its points and those of its buffer. A zoom's cells are the tiles of zoom
z + 4, and in the Z-order of the index the points of one tile, or one cell, are one run: so the
counts of every cell of a zoom are made in one pass over the index (``ZoomCounts``), on the
first counted tile of that zoom, and a counted tile is then the run of its 256 cells.

Memory, per revision of a layer and set of rows (a view or a filter of it): the index holds 16
bytes a point; the counts of a zoom 8 × (4 + counted values) bytes a cell holding points, at
most one cell a point (``PointTiles.nbytes``). Writing a tile takes 4 bytes a coded value of the
layer on each thread that writes one (``gis_planner.mvtpoints``).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from gis_planner.mvtpoints import PointProperties, encode_points
from gis_planner.vectortiles import (
    AGGREGATE_CELLS,
    BUFFER,
    EXTENT,
    MAX_DETAIL_POINTS,
    ORIGIN_M,
    Category,
    buffered,
    points_in,
    run_positions,
    tile_bounds,
)

Indices = npt.NDArray[np.intp]
#: Zooms from a tile to the cells of its counting grid (AGGREGATE_CELLS = 2 ** 4).
GRID_ZOOMS = AGGREGATE_CELLS.bit_length() - 1
#: Zooms from a tile to cells two buffers wide (EXTENT / BUFFER = 2 ** 6).
RING_ZOOMS = (EXTENT // BUFFER).bit_length() - 2


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
        #: Rows of the indexed points, in the curve's order, and their codes.
        self.order = np.argsort(codes, kind="stable")
        self.codes = codes[self.order]
        #: The rows indexed, in row order; None for every point.
        self.rows: Indices | None = None

    def __len__(self) -> int:
        return len(self.codes)

    def subset(self, rows: Indices) -> PointIndex:
        """The index of ``rows`` only (row numbers stay the layer's), taken from this one's
        order without sorting again."""
        keep = np.zeros(len(self.points_xy), dtype=bool)
        keep[rows] = True
        kept = keep[self.order]
        other = copy.copy(self)
        other.order, other.codes = self.order[kept], self.codes[kept]
        other.rows = np.flatnonzero(keep)
        return other

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

    def _compared(self, bounds: tuple[float, float, float, float]) -> Indices:
        """The indexed points in a closed rectangle, each compared with it."""
        if self.rows is None:
            return points_in(self.points_xy, bounds)
        return self.rows[points_in(self.points_xy[self.rows], bounds)]

    def query(self, bounds: tuple[float, float, float, float]) -> Indices:
        """Indices of the points in a closed rectangle, in row order (as ``points_in``)."""
        if len(self.codes) < self.MIN_POINTS:
            return self._compared(bounds)
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
            return self._compared(bounds)
        candidates = self.order[run_positions(starts, ends)]
        found = candidates[points_in(self.points_xy[candidates], bounds)]
        return np.sort(found)

    def tile_run(self, z: int, x: int, y: int) -> tuple[int, int]:
        """The run (start, end) of the index's order holding the points of tile z/x/y, its
        rectangle closed on the west and north sides only (a point on a side between two
        tiles is in one of them); z at most ``LEVEL``."""
        shift = 2 * (self.LEVEL - z)
        first = (_interleave(x) | _interleave(y) << 1) << shift
        run = np.array([first, first + (1 << shift)], dtype=np.uint64)
        start, end = np.searchsorted(self.codes, run)
        return int(start), int(end)

    def count_in_tile(self, z: int, x: int, y: int) -> int:
        """How many points tile z/x/y holds (closed on its west and north sides only)."""
        if z <= self.LEVEL:
            start, end = self.tile_run(z, x, y)
            return end - start
        bounds = tile_bounds(z, x, y)
        return len(_inside(self.points_xy, self.query(bounds), bounds))

    def tile_rows(self, z: int, x: int, y: int) -> Indices:
        """Indices of the points in tile z/x/y and its buffer, in row order (as ``query`` of
        the buffered tile): the tile's run, and the points of the runs of the ring of cells
        two buffers wide around it compared with the buffered tile. The grid of zoom ``LEVEL``
        cuts such cells exactly up to zoom ``LEVEL`` - 5; two buffers, so that a point on the
        buffer's outer side is found whichever cell the rounding puts it in."""
        bounds = buffered(tile_bounds(z, x, y))
        if z > self.LEVEL - RING_ZOOMS or len(self.codes) < self.MIN_POINTS:
            return self.query(bounds)
        # A ring cell's code is its tile's (the tile or a neighbour) joined to its place in
        # that tile (a constant): their bits do not overlap.
        n = 1 << z
        cols = [_interleave(c) if 0 <= c < n else -1 for c in (x - 1, x, x + 1)]
        rows = [_interleave(r) << 1 if 0 <= r < n else -1 for r in (y - 1, y, y + 1)]
        tiles = np.array([c | r if c >= 0 and r >= 0 else -1 for c in cols for r in rows])
        exists = tiles[_RING_TILE] >= 0
        shift = 2 * (self.LEVEL - z - RING_ZOOMS)
        ring = (tiles[_RING_TILE][exists].astype(np.uint64) << 2 * RING_ZOOMS) | _RING_CELL[exists]
        ring <<= shift
        starts = np.searchsorted(self.codes, ring)
        ends = np.searchsorted(self.codes, ring + (1 << shift))
        around = self.order[run_positions(starts, ends)]
        around = around[points_in(self.points_xy[around], bounds)]
        start, end = self.tile_run(z, x, y)
        return np.sort(np.concatenate([self.order[start:end], around]))


Code = TypeVar("Code", int, npt.NDArray[np.uint64])


def _interleave(values: Code) -> Code:
    """The bits of 32-bit ``values`` spread to the even bits (one axis of a Z-order code)."""
    # Untyped within: numpy's stubs type an unsigned array & an int as signed.
    spread: Any = values
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):  # fmt: skip
        spread = (spread | (spread << shift)) & mask
    return cast(Code, spread)


#: The cells two buffers wide (of ``RING_ZOOMS`` zooms more) around a tile, each as its tile
#: (one of the 3 × 3 around it, by column then row) and the Z-order code of its place there.
_SIDE = 1 << RING_ZOOMS
_COLS, _ROWS = (a.ravel() for a in np.meshgrid(np.arange(-1, _SIDE + 1), np.arange(-1, _SIDE + 1)))
_AROUND = (_COLS < 0) | (_COLS >= _SIDE) | (_ROWS < 0) | (_ROWS >= _SIDE)
_RING_TILE = (_COLS[_AROUND] // _SIDE + 1) * 3 + _ROWS[_AROUND] // _SIDE + 1
_RING_CELL = _interleave((_COLS[_AROUND] % _SIDE).astype(np.uint64)) | (
    _interleave((_ROWS[_AROUND] % _SIDE).astype(np.uint64)) << 1
)


def _inside(
    points_xy: npt.NDArray[np.float64], rows: Indices, bounds: tuple[float, float, float, float]
) -> Indices:
    """Those of ``rows`` whose point is in the tile ``bounds``, closed on its west and north
    sides only, as the index's cells are."""
    minx, miny, maxx, maxy = bounds
    x, y = points_xy[rows, 0], points_xy[rows, 1]
    return rows[(x >= minx) & (x < maxx) & (y > miny) & (y <= maxy)]


def _counted(
    cells: npt.NDArray[Any], points_xy: npt.NDArray[np.float64], categories: Mapping[str, Category]
) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64], PointProperties]:
    """Points (and their ``categories``, aligned with them) counted by the cell each is in:
    the cells holding points in order, their points' mean positions, and their counts
    (``point_count``, then by the values of each category) coded for ``encode_points``."""
    held, group, counts = np.unique(cells, return_inverse=True, return_counts=True)
    n = len(held)
    centres = (
        np.column_stack([np.bincount(group, weights=points_xy[:, i], minlength=n) for i in (0, 1)])
        / counts[:, None]
    )
    columns = {"point_count": counts}
    for name, category in categories.items():
        known = category.codes >= 0
        width = len(category.values)
        # One bincount over (cell, value) pairs: a cells × values table of counts.
        table = np.bincount(group[known] * width + category.codes[known], minlength=n * width)
        table = table.reshape(n, width)
        if category.boolean:
            columns[name] = table[:, 1]
        else:
            columns.update(
                (f"{name}_{value}", table[:, i]) for i, value in enumerate(category.values)
            )
    return held, centres, PointProperties.counts(columns)


class ZoomCounts:
    """The points of an index counted on the grid cells of every tile of zoom ``z``."""

    def __init__(self, index: PointIndex, categories: Mapping[str, Category], z: int) -> None:
        self.z = z
        shift = np.uint64(2 * (PointIndex.LEVEL - z - GRID_ZOOMS))
        self.cells, self.centres_xy, self.properties = _counted(
            index.codes >> shift,
            index.points_xy[index.order],
            {name: category[index.order] for name, category in categories.items()},
        )

    @property
    def nbytes(self) -> int:
        return self.cells.nbytes + self.centres_xy.nbytes + self.properties.codes.nbytes

    def tile(self, layer: str, x: int, y: int) -> bytes:
        """Tile z/x/y: the run of its cells."""
        shift = 2 * GRID_ZOOMS
        first = (_interleave(x) | _interleave(y) << 1) << shift
        run = np.array([first, first + (1 << shift)], dtype=np.uint64)
        start, end = np.searchsorted(self.cells, run)
        held = np.arange(start, end)
        bounds = tile_bounds(self.z, x, y)
        return encode_points(layer, self.centres_xy[held], self.properties[held], bounds)


def count_tile(
    layer: str,
    points_xy: npt.NDArray[np.float64],
    rows: Indices,
    categories: Mapping[str, Category],
    bounds: tuple[float, float, float, float],
) -> bytes:
    """Tile ``bounds`` of the points of ``rows`` (any that include those in the tile) counted
    on its grid, the cells in row-major order: where a zoom's cells are finer than the
    index's."""
    inside = _inside(points_xy, rows, bounds)
    if not len(inside):
        return b""
    minx, _, maxx, maxy = bounds
    cell_m = (maxx - minx) / AGGREGATE_CELLS
    xy = points_xy[inside]
    col = np.minimum(((xy[:, 0] - minx) // cell_m).astype(np.intp), AGGREGATE_CELLS - 1)
    row = np.minimum(((maxy - xy[:, 1]) // cell_m).astype(np.intp), AGGREGATE_CELLS - 1)
    counted = {name: category[inside] for name, category in categories.items()}
    _, centres, properties = _counted(row * AGGREGATE_CELLS + col, xy, counted)
    return encode_points(layer, centres, properties, bounds)


class PointTiles:
    """The tiles of a point layer, or of some of its rows: each zoom's counts made on its first
    counted tile and kept (for the revision this object is made for)."""

    def __init__(self, index: PointIndex, categories: Mapping[str, Category]) -> None:
        self.index = index
        self.categories = categories
        self._counts: dict[int, ZoomCounts] = {}
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes of the index's order and codes and of the counts made so far."""
        counts = sum(c.nbytes for c in list(self._counts.values()))
        return self.index.order.nbytes + self.index.codes.nbytes + counts

    def is_counted(self, z: int, x: int, y: int) -> bool:
        return self.index.count_in_tile(z, x, y) > MAX_DETAIL_POINTS

    def is_quick(self, z: int, x: int, y: int) -> bool:
        """Whether tile z/x/y is drawn from what is made already (a few milliseconds at most)."""
        return z in self._counts or not self.is_counted(z, x, y)

    def counts(self, z: int) -> ZoomCounts:
        """The counts of zoom ``z``, made on first use."""
        found = self._counts.get(z)
        if found is None:
            with self._lock:
                found = self._counts.get(z)
                if found is None:
                    found = ZoomCounts(self.index, self.categories, z)
                    self._counts[z] = found
        return found

    def draw(
        self, layer: str, z: int, x: int, y: int, properties: Callable[[], PointProperties]
    ) -> bytes:
        """Tile z/x/y (see the module's rules); the points' ``properties()`` (aligned with the
        layer's rows) are asked for only when the tile shows points."""
        if not self.is_counted(z, x, y):
            rows = self.index.tile_rows(z, x, y)
            xy = self.index.points_xy[rows]
            return encode_points(layer, xy, properties()[rows], tile_bounds(z, x, y))
        if z + GRID_ZOOMS <= PointIndex.LEVEL:
            return self.counts(z).tile(layer, x, y)
        bounds = tile_bounds(z, x, y)
        rows = self.index.query(bounds)
        return count_tile(layer, self.index.points_xy, rows, self.categories, bounds)
