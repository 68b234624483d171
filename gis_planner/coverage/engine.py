"""The raster engine: best server, second best, SINR and server count over a tiled grid.

For each tile, only the cells whose useful range reaches the tile are evaluated, and each of
them only on the pixels inside its range circle (the numba kernel below). Per pixel the kernel
keeps the best and second-best reference power, the best cell, the number of cells at or above
the threshold and the sum of received power (mW) per carrier frequency, over the cells whose
level reaches the scene's floor (threshold − margin); the SINR of the best
server is its power over the other co-channel cells' power plus the noise of one resource
element.

With terrain (``params.terrain``), a tile also reads its terrain window and sweeps the masts
reaching it (``coverage.terrain``); the kernel subtracts each cell's diffraction loss beyond
level ground's and the receiver's clutter loss from its level. Over level ground those are
exactly zero and the rasters are the flat ones to the bit.

Tiles are independent and streamed: ``stream_coverage`` takes the windows (with their
area-of-interest masks) one at a time and yields each window's rasters as soon as it is done,
so that the caller writes them to disk and reduces its statistics before the next ones arrive.
Nothing the size of the grid is allocated: a tile's arrays, times the tiles in flight (twice
the workers), are all the memory the computation needs. Tiles run in turn or on
``params.workers`` threads (the kernel releases the GIL) or spawned processes, each task
carrying its scenes, grid, window and mask explicitly.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from gis_planner.coverage.grid import Grid, Window
from gis_planner.coverage.scene import CoverageParams, Scene
from gis_planner.coverage.terrain import (
    CellGeometry,
    Masts,
    TerrainInputs,
    TileTerrain,
    mast_batches,
)
from gis_planner.radio.diffraction import knife_edge_loss_db, wavelength_m

#: Nodata of the float rasters.
NODATA_DB = -999.0
_NONE = -1.0e30
#: Edge of the cache blocks of the kernel, in pixels.
BLOCK_PX = 32


@dataclass(frozen=True, eq=False)
class TileRasters:
    """Rasters of one scene on one window; nodata where no cell reaches or outside the area."""

    window: Window
    best_rsrp_dbm: npt.NDArray[np.float32]
    second_rsrp_dbm: npt.NDArray[np.float32]
    sinr_db: npt.NDArray[np.float32]
    #: Index of the best server in ``scene.cell_ids``; −1 where none.
    best_server: npt.NDArray[np.int32]
    n_servers: npt.NDArray[np.uint8]
    #: Pixel × cell evaluations the kernel made.
    evaluations: int


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Rasters of one scene on a whole grid, assembled in memory (small grids, tests)."""

    scene: Scene
    grid: Grid
    best_rsrp_dbm: npt.NDArray[np.float32]
    second_rsrp_dbm: npt.NDArray[np.float32]
    sinr_db: npt.NDArray[np.float32]
    best_server: npt.NDArray[np.int32]
    n_servers: npt.NDArray[np.uint8]
    evaluations: int


@dataclass(frozen=True, eq=False)
class TileTask:
    """One unit of work, picklable: every scene on one window (``mask``: the window's area)."""

    scenes: tuple[Scene, ...]
    grid: Grid
    window: Window
    mask: npt.NDArray[np.bool_]
    terrain: TerrainInputs | None = None
    #: The scenes' masts (with ``terrain``).
    masts: Masts | None = None
    ue_height_m: float = 1.5


@dataclass(frozen=True, eq=False)
class CoverageTile:
    """A finished window: its mask and one ``TileRasters`` per scene, in the scenes' order."""

    window: Window
    mask: npt.NDArray[np.bool_]
    rasters: tuple[TileRasters, ...]


#: The bands of a ``TileRasters``: their type and their value where no cell serves, which is
#: also every band's value outside the tile's mask (the kernel writes only the mask's pixels).
BANDS: dict[str, tuple[np.dtype[Any], float]] = {
    "best_rsrp_dbm": (np.dtype(np.float32), NODATA_DB),
    "second_rsrp_dbm": (np.dtype(np.float32), NODATA_DB),
    "sinr_db": (np.dtype(np.float32), NODATA_DB),
    "best_server": (np.dtype(np.int32), -1),
    "n_servers": (np.dtype(np.uint8), 0),
}


@dataclass(frozen=True, eq=False)
class PackedTile:
    """A tile as its bands' values at its served pixels only: what a tile weighs on the wire.

    Where no cell serves a pixel (outside the mask too: the kernel writes only the mask's
    pixels) every band is its nodata, so the tile is whole again from its window and the
    served pixels (``unpacked``). Over a country most windows of the grid are sea or a
    neighbour's land (82 % of Vietnam's at 100 m), and over a third of the land's pixels are
    served by no cell of a scene (nine tenths for 5G): sent by the mask, a national run's tiles
    weighed half as much again.
    """

    #: Per scene, its served pixels (best server ≥ 0) a bit each in row-major order
    #: (``np.packbits``); empty when none or every pixel of the window is served, which the
    #: values' length tells apart.
    served: tuple[npt.NDArray[np.uint8], ...]
    #: Per scene, each band of ``BANDS`` at the served pixels in row-major order.
    values: tuple[tuple[npt.NDArray[Any], ...], ...]
    evaluations: tuple[int, ...]

    @classmethod
    def of(cls, tile: CoverageTile) -> PackedTile:
        """``tile`` packed: its bands at its served pixels."""
        served, values = [], []
        for part in tile.rasters:
            bands = tuple(getattr(part, name).reshape(-1) for name in BANDS)
            pixels = int(np.count_nonzero(part.best_server >= 0))
            if pixels == 0:
                bits, bands = _NO_BITS, tuple(band[:0] for band in bands)
            elif pixels == part.best_server.size:
                bits = _NO_BITS
            else:
                bits, *packed = _pack(pixels, *bands)
                bands = tuple(packed)
            served.append(bits)
            values.append(bands)
        return cls(tuple(served), tuple(values), tuple(p.evaluations for p in tile.rasters))

    @classmethod
    def empty(cls, scenes: int) -> PackedTile:
        """The tile of ``scenes`` scenes on a window with an empty mask."""
        nothing = tuple(np.empty(0, dtype=dtype) for dtype, _ in BANDS.values())
        return cls((_NO_BITS,) * scenes, (nothing,) * scenes, (0,) * scenes)

    def unpacked(self, window: Window, mask: npt.NDArray[np.bool_]) -> CoverageTile:
        """The tile packed on ``window`` with ``mask``: nodata where no cell serves. The bands
        of a scene that serves no pixel are shared and read-only."""
        shape = (window.height, window.width)
        size = window.height * window.width
        rasters = []
        for bits, values, evaluations in zip(
            self.served, self.values, self.evaluations, strict=True
        ):
            pixels = len(values[0])
            if pixels == 0:
                bands = [_nodata_band(shape, dtype, fill) for dtype, fill in BANDS.values()]
            elif pixels == size:
                bands = [band.reshape(shape) for band in values]
            else:
                bands = [band.reshape(shape) for band in _unpack(size, bits, *values)]
            named = dict(zip(BANDS, bands, strict=True))
            rasters.append(TileRasters(window, evaluations=evaluations, **named))
        return CoverageTile(window, mask, tuple(rasters))


_NO_BITS = np.empty(0, dtype=np.uint8)


@numba.njit(cache=True, nogil=True)
def _pack(
    pixels: int,
    best: npt.NDArray[np.float32],
    second: npt.NDArray[np.float32],
    sinr: npt.NDArray[np.float32],
    server: npt.NDArray[np.int32],
    count: npt.NDArray[np.uint8],
) -> tuple[
    npt.NDArray[np.uint8],
    npt.NDArray[np.float32],
    npt.NDArray[np.float32],
    npt.NDArray[np.float32],
    npt.NDArray[np.int32],
    npt.NDArray[np.uint8],
]:
    # one pass over the five bands: numpy's boolean indexing went over the pixels once a band
    bits = np.zeros((server.size + 7) // 8, dtype=np.uint8)
    best_v = np.empty(pixels, dtype=np.float32)
    second_v = np.empty(pixels, dtype=np.float32)
    sinr_v = np.empty(pixels, dtype=np.float32)
    server_v = np.empty(pixels, dtype=np.int32)
    count_v = np.empty(pixels, dtype=np.uint8)
    k = 0
    for p in range(server.size):
        if server[p] >= 0:
            bits[p >> 3] |= np.uint8(128 >> (p & 7))
            best_v[k], second_v[k], sinr_v[k] = best[p], second[p], sinr[p]
            server_v[k], count_v[k] = server[p], count[p]
            k += 1
    return bits, best_v, second_v, sinr_v, server_v, count_v


@numba.njit(cache=True, nogil=True)
def _unpack(
    size: int,
    bits: npt.NDArray[np.uint8],
    best_v: npt.NDArray[np.float32],
    second_v: npt.NDArray[np.float32],
    sinr_v: npt.NDArray[np.float32],
    server_v: npt.NDArray[np.int32],
    count_v: npt.NDArray[np.uint8],
) -> tuple[
    npt.NDArray[np.float32],
    npt.NDArray[np.float32],
    npt.NDArray[np.float32],
    npt.NDArray[np.int32],
    npt.NDArray[np.uint8],
]:
    # numba does not check bounds: a tile read back from a damaged checkpoint must not read
    # beyond its arrays
    pixels = best_v.size
    if bits.size * 8 < size or not (
        second_v.size == sinr_v.size == server_v.size == count_v.size == pixels
    ):
        raise ValueError("a packed tile's bands and served pixels differ in length")
    best = np.full(size, NODATA_DB, dtype=np.float32)
    second = np.full(size, NODATA_DB, dtype=np.float32)
    sinr = np.full(size, NODATA_DB, dtype=np.float32)
    server = np.full(size, -1, dtype=np.int32)
    count = np.zeros(size, dtype=np.uint8)
    k = 0
    for p in range(size):
        if bits[p >> 3] & (128 >> (p & 7)):
            if k == pixels:
                raise ValueError("a packed tile has more served pixels than values")
            best[p], second[p], sinr[p] = best_v[k], second_v[k], sinr_v[k]
            server[p], count[p] = server_v[k], count_v[k]
            k += 1
    if k != pixels:
        raise ValueError("a packed tile has fewer served pixels than values")
    return best, second, sinr, server, count


@functools.cache
def _nodata_band(shape: tuple[int, int], dtype: np.dtype[Any], fill: float) -> npt.NDArray[Any]:
    """One read-only band of nodata per shape, shared by the tiles of scenes that serve no
    pixel of their window (every scene of an empty one): filled afresh, they were most of the
    time a cluster's client spent on a country's tiles."""
    band = np.full(shape, fill, dtype=dtype)
    band.flags.writeable = False
    return band


#: Runs tile tasks elsewhere (a Dask cluster, ``gis_planner.distributed``) and yields their
#: tiles; without one, the engine runs them on its own threads or processes.
TileRunner = Callable[[Iterator[TileTask]], Iterator[CoverageTile]]


@numba.njit(cache=True, fastmath=True, nogil=True)
def _tile_kernel(
    x0: float,
    y1: float,
    res: float,
    mask: npt.NDArray[np.bool_],
    cells: npt.NDArray[np.int64],
    cx: npt.NDArray[np.float64],
    cy: npt.NDArray[np.float64],
    ref_eirp: npt.NDArray[np.float64],
    sin_az: npt.NDArray[np.float64],
    cos_az: npt.NDArray[np.float64],
    mech: npt.NDArray[np.float64],
    elec: npt.NDArray[np.float64],
    range_m: npt.NDArray[np.float64],
    reach_m: npt.NDArray[np.float32],
    extent_m: npt.NDArray[np.float64],
    channel: npt.NDArray[np.int32],
    table_offset: npt.NDArray[np.int64],
    pl_table: npt.NDArray[np.float32],
    dep_table: npt.NDArray[np.float32],
    step: float,
    pattern: npt.NDArray[np.int32],
    h_tables: npt.NDArray[np.float64],
    v_tables: npt.NDArray[np.float64],
    max_att: npt.NDArray[np.float64],
    threshold: float,
    floor: float,
    has_terrain: bool,
    mast: npt.NDArray[np.int32],
    inv_sqrt_lambda: npt.NDArray[np.float64],
    terrain_u: npt.NDArray[np.float32],
    level_u: npt.NDArray[np.float32],
    clutter_loss: npt.NDArray[np.float32],
    best: npt.NDArray[np.float64],
    best_mw: npt.NDArray[np.float64],
    second: npt.NDArray[np.float64],
    server: npt.NDArray[np.int32],
    count: npt.NDArray[np.uint8],
    power_mw: npt.NDArray[np.float64],
) -> int:
    rows, cols = mask.shape
    n_cos = h_tables.shape[2]
    n_v = v_tables.shape[1]
    n_bins = reach_m.shape[2]
    cos_scale = (n_cos - 1) / 2.0
    bin_scale = n_bins / 2.0
    v_scale = (n_v - 1) / 180.0
    inv_step = 1.0 / step
    evaluations = 0
    # Blocks of BLOCK_PX² pixels keep the per-pixel accumulators in cache while every cell
    # reaching the block is applied to it.
    for b_row in range(0, rows, BLOCK_PX):
        b_row_end = min(b_row + BLOCK_PX, rows)
        by_hi = y1 - b_row * res
        by_lo = y1 - b_row_end * res
        for b_col in range(0, cols, BLOCK_PX):
            b_col_end = min(b_col + BLOCK_PX, cols)
            bx_lo = x0 + b_col * res
            bx_hi = x0 + b_col_end * res
            for k in range(cells.shape[0]):
                c = cells[k]
                # the cell's reach, as a box around it, must meet the block
                ex_lo = cx[c] + extent_m[c, 0]
                ex_hi = cx[c] + extent_m[c, 1]
                ey_lo = cy[c] + extent_m[c, 2]
                ey_hi = cy[c] + extent_m[c, 3]
                if ex_hi < bx_lo or ex_lo > bx_hi or ey_hi < by_lo or ey_lo > by_hi:
                    continue
                r = range_m[c]
                r2 = r * r
                off = table_offset[c]
                p = pattern[c]
                ch = channel[c]
                sa = sin_az[c]
                ca = cos_az[c]
                i_lo = max(b_row, int(np.floor((y1 - ey_hi) / res - 0.5)))
                i_hi = min(b_row_end, int(np.ceil((y1 - ey_lo) / res - 0.5)) + 1)
                for i in range(i_lo, i_hi):
                    dy = y1 - (i + 0.5) * res - cy[c]
                    if dy * dy > r2:
                        continue
                    # the row's chord of the range circle, within the reach box
                    half = np.sqrt(r2 - dy * dy)
                    x_from = max(cx[c] - half, ex_lo)
                    x_to = min(cx[c] + half, ex_hi)
                    j_lo = max(b_col, int(np.ceil((x_from - x0) / res - 0.5)))
                    j_hi = min(b_col_end, int(np.floor((x_to - x0) / res - 0.5)) + 1)
                    for j in range(j_lo, j_hi):
                        if not mask[i, j]:
                            continue
                        dx = x0 + (j + 0.5) * res - cx[c]
                        d2 = dx * dx + dy * dy
                        if d2 > r2:
                            continue
                        d = np.sqrt(d2)
                        cos_phi = 1.0
                        if d > 0.0:
                            cos_phi = min(max((dx * sa + dy * ca) / d, -1.0), 1.0)
                        side = 1 if dx * ca - dy * sa < 0.0 else 0
                        # the reach in this direction (the vertical pattern only lowers levels)
                        b = min(int((cos_phi + 1.0) * bin_scale), n_bins - 1)
                        if d > reach_m[c, side, b]:
                            continue
                        evaluations += 1
                        t = d * inv_step
                        ti = int(t)
                        tf = t - ti
                        a = off + ti
                        loss = pl_table[a] + tf * (pl_table[a + 1] - pl_table[a])
                        dep = dep_table[a] + tf * (dep_table[a + 1] - dep_table[a])
                        u = (cos_phi + 1.0) * cos_scale
                        ui = min(int(u), n_cos - 2)
                        uf = u - ui
                        h0 = h_tables[p, side, ui]
                        a_h = h0 + uf * (h_tables[p, side, ui + 1] - h0)
                        theta = dep - (elec[c] + mech[c] * cos_phi)
                        v = (min(max(theta, -90.0), 90.0) + 90.0) * v_scale
                        vi = min(int(v), n_v - 2)
                        vf = v - vi
                        a_v = v_tables[p, vi] + vf * (v_tables[p, vi + 1] - v_tables[p, vi])
                        rsrp = ref_eirp[c] - loss - min(a_h + a_v, max_att[p])
                        if has_terrain:
                            # the terrain's diffraction beyond level ground's (none on level
                            # ground: the two are the same numbers) and the receiver's clutter
                            g = mast[c]
                            u = terrain_u[g, i, j]
                            u_level = level_u[g, i, j]
                            if u > u_level:
                                rsrp -= knife_edge_loss_db(
                                    u * inv_sqrt_lambda[c]
                                ) - knife_edge_loss_db(u_level * inv_sqrt_lambda[c])
                            rsrp -= clutter_loss[i, j]
                        if rsrp < floor:
                            continue
                        # single precision is ample for a power; the best server's own term is
                        # kept as added, so that subtracting it from the sum leaves exactly the rest
                        mw = np.exp(np.float32(rsrp * 0.23025850929940458))
                        power_mw[ch, i, j] += mw
                        if rsrp > best[i, j]:
                            second[i, j] = best[i, j]
                            best[i, j] = rsrp
                            best_mw[i, j] = mw
                            server[i, j] = c
                        elif rsrp > second[i, j]:
                            second[i, j] = rsrp
                        if rsrp >= threshold and count[i, j] < 255:
                            count[i, j] += 1
    return evaluations


@numba.njit(cache=True, nogil=True)
def _reaching(
    x_m: npt.NDArray[np.float64],
    y_m: npt.NDArray[np.float64],
    extent_m: npt.NDArray[np.float64],
    range_m: npt.NDArray[np.float64],
    x0: float,
    y0: float,
    x1: float,
    y1: float,
) -> npt.NDArray[np.int64]:
    # without temporaries the length of the scene: through numpy a national scene's tiles
    # each compared tens of thousands of cells in five arrays of that length, 0.85 ms a tile
    # where the allocator hands freed memory back at once (Dask's workers)
    meets = np.zeros(len(x_m), dtype=np.bool_)
    for c in range(len(x_m)):
        x, y = x_m[c], y_m[c]
        meets[c] = (
            (x + extent_m[c, 1] >= x0)
            & (x + extent_m[c, 0] <= x1)
            & (y + extent_m[c, 3] >= y0)
            & (y + extent_m[c, 2] <= y1)
            & (range_m[c] > 0)
        )
    return np.flatnonzero(meets)


def cells_reaching(
    scene: Scene, bounds: tuple[float, float, float, float]
) -> npt.NDArray[np.int64]:
    """Indices of the cells whose reach (its bounding box) meets the rectangle ``bounds``."""
    x0, y0, x1, y1 = (float(v) for v in bounds)
    found: npt.NDArray[np.int64] = _reaching(
        scene.x_m, scene.y_m, scene.extent_m, scene.range_m, x0, y0, x1, y1
    )
    return found


@dataclass(frozen=True, eq=False)
class _Levels:
    """What the kernel accumulates per pixel over the cells of one scene."""

    best: npt.NDArray[np.float64]
    best_mw: npt.NDArray[np.float64]
    second: npt.NDArray[np.float64]
    server: npt.NDArray[np.int32]
    count: npt.NDArray[np.uint8]
    power_mw: npt.NDArray[np.float64]


class _Scratch(threading.local):
    """Each thread's accumulators, kept from one tile to the next.

    A tile's accumulators are about 5 MB a scene. Allocated afresh for every scene and tile,
    their pages were faulted in again each time wherever the allocator hands freed memory back
    to the system at once: under Dask's workers (``MALLOC_TRIM_THRESHOLD_``) the kernel's tiles
    took twice their time. Reused, they are only reset.
    """

    def __init__(self) -> None:
        self.slots: list[dict[str, npt.NDArray[np.generic]]] = []

    def levels(self, slot: int, scene: Scene, shape: tuple[int, int]) -> _Levels:
        """The accumulators of ``scene`` on a tile of ``shape``, reset; ``slot`` tells apart
        the scenes a tile holds at once (the buffers of a slot serve one scene at a time)."""
        while len(self.slots) <= slot:
            self.slots.append({})
        buffers = self.slots[slot]
        pixels = shape[0] * shape[1]
        channels = len(scene.channel_bands_mhz)

        def take(name: str, dtype: type[np.generic], size: int, fill: float) -> Any:
            buffer = buffers.get(name)
            if buffer is None or buffer.size < size:
                buffer = buffers[name] = np.empty(size, dtype=dtype)
            view = buffer[:size]
            view.fill(fill)
            return view

        return _Levels(
            take("best", np.float64, pixels, _NONE).reshape(shape),
            take("best_mw", np.float64, pixels, 0.0).reshape(shape),
            take("second", np.float64, pixels, _NONE).reshape(shape),
            take("server", np.int32, pixels, -1).reshape(shape),
            take("count", np.uint8, pixels, 0).reshape(shape),
            take("power_mw", np.float64, channels * pixels, 0.0).reshape(channels, *shape),
        )


_SCRATCH = _Scratch()


@dataclass(frozen=True, eq=False)
class _TerrainPart:
    """The terrain's arrays for one kernel call: the slot of each cell's mast, the losses."""

    mast_slot: npt.NDArray[np.int32]
    inv_sqrt_lambda: npt.NDArray[np.float64]
    tile: TileTerrain


def _accumulate(
    scene: Scene,
    grid: Grid,
    window: Window,
    mask: npt.NDArray[np.bool_],
    cells: npt.NDArray[np.int64],
    levels: _Levels,
    terrain: _TerrainPart | None = None,
) -> int:
    """Apply ``cells`` (in their order) to ``levels``; the evaluations made."""
    x0, _, _, y1 = grid.window_bounds(window)
    if terrain is None:
        # the kernel reads none of the terrain's arrays over level ground: empty ones, where
        # arrays of a scene's cells cost a national scene's tiles an allocation each
        mast = np.empty(0, dtype=np.int32)
        inv_sqrt_lambda = np.empty(0)
        terrain_u = level_u = np.zeros((0, 0, 0), dtype=np.float32)
        clutter_loss = np.zeros((0, 0), dtype=np.float32)
    else:
        mast, inv_sqrt_lambda = terrain.mast_slot, terrain.inv_sqrt_lambda
        terrain_u, level_u = terrain.tile.u_m, terrain.tile.level_u_m
        clutter_loss = terrain.tile.clutter_loss_db
    evaluations: int = _tile_kernel(
        x0, y1, grid.resolution_m, np.ascontiguousarray(mask), cells,
        scene.x_m, scene.y_m, scene.ref_eirp_dbm, scene.sin_az, scene.cos_az,
        scene.mech_tilt_deg, scene.elec_tilt_deg, scene.range_m, scene.reach_m,
        scene.extent_m, scene.channel,
        scene.table_offset, scene.path_loss_table, scene.depression_table,
        scene.table_step_m, scene.pattern, scene.h_tables, scene.v_tables,
        scene.max_att_db, scene.threshold_dbm, scene.floor_dbm, terrain is not None, mast,
        inv_sqrt_lambda, terrain_u, level_u, clutter_loss, levels.best, levels.best_mw,
        levels.second, levels.server, levels.count, levels.power_mw,
    )  # fmt: skip
    return evaluations


@numba.njit(cache=True, nogil=True)
def _finish_kernel(
    best: npt.NDArray[np.float64],
    best_mw: npt.NDArray[np.float64],
    second: npt.NDArray[np.float64],
    server: npt.NDArray[np.int32],
    power_mw: npt.NDArray[np.float64],
    channel: npt.NDArray[np.int32],
    noise_mw: npt.NDArray[np.float64],
    best_out: npt.NDArray[np.float32],
    second_out: npt.NDArray[np.float32],
    sinr: npt.NDArray[np.float32],
) -> None:
    rows, cols = best.shape
    for i in range(rows):
        for j in range(cols):
            c = server[i, j]
            if c >= 0:
                best_out[i, j] = best[i, j]
                ch = channel[c]
                signal_mw = best_mw[i, j]
                interference_mw = max(power_mw[ch, i, j] - signal_mw, 0.0)
                sinr[i, j] = 10.0 * np.log10(signal_mw / (interference_mw + noise_mw[ch]))
            else:
                best_out[i, j] = NODATA_DB
                sinr[i, j] = NODATA_DB
            second_out[i, j] = second[i, j] if second[i, j] > _NONE else NODATA_DB


def _rasters(scene: Scene, window: Window, levels: _Levels, evaluations: int) -> TileRasters:
    """The rasters of a tile from what the kernel accumulated over every cell reaching it, in
    arrays of their own (the accumulators serve the next scene): nodata where no cell serves,
    and the SINR of the best server over its co-channel cells' power plus the noise."""
    shape = (window.height, window.width)
    best_out = np.empty(shape, dtype=np.float32)
    second_out = np.empty(shape, dtype=np.float32)
    sinr = np.empty(shape, dtype=np.float32)
    _finish_kernel(
        levels.best, levels.best_mw, levels.second, levels.server, levels.power_mw,
        scene.channel, scene.noise_mw, best_out, second_out, sinr,
    )  # fmt: skip
    return TileRasters(
        window, best_out, second_out, sinr, levels.server.copy(), levels.count.copy(), evaluations
    )


def compute_tile(
    scene: Scene, grid: Grid, mask: npt.NDArray[np.bool_], window: Window
) -> TileRasters:
    """The rasters of one tile of ``grid`` (``mask`` is the tile's area-of-interest mask),
    over level ground."""
    levels = _SCRATCH.levels(0, scene, (window.height, window.width))
    cells = cells_reaching(scene, grid.window_bounds(window))
    evaluations = 0
    if len(cells) and mask.any():
        evaluations = _accumulate(scene, grid, window, mask, cells, levels)
    return _rasters(scene, window, levels, evaluations)


def compute_terrain_tile(
    scenes: Sequence[Scene],
    grid: Grid,
    window: Window,
    mask: npt.NDArray[np.bool_],
    terrain: TerrainInputs,
    masts: Masts,
    ue_height_m: float,
) -> tuple[TileRasters, ...]:
    """The rasters of every scene on one tile with the terrain's losses.

    The masts' profiles are shared by their cells of every scene; they are swept in batches
    (``mast_batches``), so that a tile holds the losses of a bounded number of masts, and each
    scene's cells are applied in the same order as over level ground.
    """
    shape = (window.height, window.width)
    bounds = grid.window_bounds(window)
    reaching = [cells_reaching(scene, bounds) for scene in scenes]
    order = [masts.of_cell[s][cells] for s, cells in enumerate(reaching)]
    every = np.unique(np.concatenate(order)) if order else np.empty(0, dtype=np.int32)
    tile = TileTerrain(terrain, masts, grid, window, mask, every, ue_height_m)
    levels = [_SCRATCH.levels(s, scene, shape) for s, scene in enumerate(scenes)]
    evaluations = [0] * len(scenes)
    inv_sqrt_lambda = [
        1.0 / np.sqrt(wavelength_m(scene.channel_bands_mhz[scene.channel])) for scene in scenes
    ]
    for batch, runs in mast_batches(order, tile.capacity):
        tile.hold(batch)
        for s, (start, stop) in enumerate(runs):
            if stop > start:
                part = _TerrainPart(tile.slot[masts.of_cell[s]], inv_sqrt_lambda[s], tile)
                evaluations[s] += _accumulate(
                    scenes[s], grid, window, mask, reaching[s][start:stop], levels[s], part
                )
    return tuple(
        _rasters(scene, window, levels[s], evaluations[s]) for s, scene in enumerate(scenes)
    )


def run_task(task: TileTask) -> CoverageTile:
    """Every scene of ``task`` on its window (the function workers run)."""
    grid, window, mask = task.grid, task.window, task.mask
    if not mask.any():
        return PackedTile.empty(len(task.scenes)).unpacked(window, mask)
    if task.terrain is None or task.masts is None:
        rasters = tuple(compute_tile(s, grid, mask, window) for s in task.scenes)
    else:
        rasters = compute_terrain_tile(
            task.scenes, grid, window, mask, task.terrain, task.masts, task.ue_height_m
        )
    return CoverageTile(window, mask, rasters)


def run_packed(task: TileTask) -> PackedTile:
    """``run_task``'s tile packed, nothing computed nor allocated for an empty mask."""
    if not task.mask.any():
        return PackedTile.empty(len(task.scenes))
    return PackedTile.of(run_task(task))


def stream_coverage(
    scenes: Sequence[Scene],
    grid: Grid,
    windows: Iterable[tuple[Window, npt.NDArray[np.bool_]]],
    params: CoverageParams | None = None,
    runner: TileRunner | None = None,
) -> Iterator[CoverageTile]:
    """Each window's rasters for every scene, yielded as the windows finish (in any order).

    ``windows`` gives each window with its area-of-interest mask; it is read lazily, no more
    than twice ``params.workers`` windows ahead of the caller, so that the tiles waiting to be
    consumed stay few whatever the size of the grid. ``runner`` runs the tile tasks instead of
    the engine's workers (and bounds what it holds itself).
    """
    params = params or CoverageParams()
    masts = None
    if params.terrain is not None:
        masts = Masts.of(
            [CellGeometry(s.x_m, s.y_m, s.height_m, s.sin_az, s.cos_az, s.reach_m) for s in scenes]
        )
    tasks = (
        TileTask(tuple(scenes), grid, window, mask, params.terrain, masts, params.ue_height_m)
        for window, mask in windows
    )
    yield from (runner or local_runner(params))(tasks)


def local_runner(params: CoverageParams) -> TileRunner:
    """The engine's own runner: tasks in turn, or on ``params.workers`` threads or processes."""

    def run(tasks: Iterator[TileTask]) -> Iterator[CoverageTile]:
        if params.workers <= 1:
            yield from map(run_task, tasks)
            return
        # numba releases the GIL in the kernel, so threads share the scenes at no cost;
        # spawned processes get each task pickled (fork would copy the parent's threads and
        # locks)
        pool: Executor
        if params.parallel == "processes":
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(params.workers, mp_context=context)
        else:
            pool = ThreadPoolExecutor(params.workers)
        with pool:
            yield from _bounded(pool, run_task, tasks, 2 * params.workers)

    return run


def _bounded(
    pool: Executor,
    fn: Callable[[TileTask], CoverageTile],
    tasks: Iterator[TileTask],
    in_flight: int,
) -> Iterator[CoverageTile]:
    pending: set[Future[CoverageTile]] = set()
    for task in tasks:
        pending.add(pool.submit(fn, task))
        if len(pending) >= in_flight:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (future.result() for future in done)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from (future.result() for future in done)


def masked_windows(
    grid: Grid, mask: npt.NDArray[np.bool_], tile_px: int
) -> Iterator[tuple[Window, npt.NDArray[np.bool_]]]:
    """The windows of ``grid`` holding a pixel of an in-memory ``mask``, with their part of it."""
    for window in grid.windows(tile_px):
        part = mask[window.rows, window.cols]
        if part.any():
            yield window, part


def compute_coverage(
    scene: Scene,
    grid: Grid,
    mask: npt.NDArray[np.bool_] | None = None,
    params: CoverageParams | None = None,
) -> CoverageResult:
    """The rasters of one scene on the whole of ``grid``, in memory: for small grids.

    ``mask`` restricts the computation (default: the whole grid). Large areas go through
    ``stream_coverage``, which never holds a whole raster.
    """
    params = params or CoverageParams()
    if mask is None:
        mask = np.ones(grid.shape, dtype=bool)
    if mask.shape != grid.shape:
        raise ValueError(f"mask shape {mask.shape} differs from the grid's {grid.shape}")
    best = np.full(grid.shape, NODATA_DB, dtype=np.float32)
    second = np.full(grid.shape, NODATA_DB, dtype=np.float32)
    sinr = np.full(grid.shape, NODATA_DB, dtype=np.float32)
    server = np.full(grid.shape, -1, dtype=np.int32)
    count = np.zeros(grid.shape, dtype=np.uint8)
    evaluations = 0
    for tile in stream_coverage([scene], grid, masked_windows(grid, mask, params.tile_px), params):
        (part,) = tile.rasters
        at = (tile.window.rows, tile.window.cols)
        best[at], second[at], sinr[at] = part.best_rsrp_dbm, part.second_rsrp_dbm, part.sinr_db
        server[at], count[at] = part.best_server, part.n_servers
        evaluations += part.evaluations
    return CoverageResult(scene, grid, best, second, sinr, server, count, evaluations)
