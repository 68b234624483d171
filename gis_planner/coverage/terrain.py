"""Terrain and clutter for the coverage engine: inputs, windows per tile, diffraction per mast.

Inputs: an elevation raster GDAL reads (GeoTIFF/COG, SRTM ``.hgt``, VRT) and optionally a
land-cover raster with a CSV table of its classes (``class,height_m,loss_db``, optional
``name``): the clutter's height stands on the terrain between the mast and the receiver, and
its loss is added at the receiver (ITU-R P.1812's profile of terrain plus representative
clutter heights, the terminals' own clutter being a loss of their surroundings, not an
obstacle of their path). Each tile reads only the window its paths cross (the tile and the
masts reaching it), resampled (bilinear; land cover nearest) to the run's grid in its metric
CRS, as float32, the precision elevation data comes in.

Loss: for each mast reaching a tile, rays leave the mast every ``2π/n`` (``n`` such that two
rays are at most ``RAY_SPACING_PX`` apart at the mast's reach), are sampled every pixel, and
give the Bullington ν·√λ of a receiver at every sample in one pass (``radio.terrain``). A
pixel takes the value of the nearest ray at its distance. The terrain's loss is
the Bullington loss of the real profile less that of a level profile at the mast's ground
(P.526-16 §4.5.2's delta-Bullington: the actual profile's loss less the smooth profile's, the
smooth-earth part being given by another model, here the empirical one), never below zero,
added in dB to the empirical median loss as P.1546-6 Annex 5 §11 adds its terrain clearance
correction. The empirical models already hold the effect of level ground; the terrain adds
only what stands out of it. On level ground the real and the level profiles are the same
numbers, the difference is exactly zero and the result is the flat one to the bit.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.crs
from rasterio.errors import RasterioIOError
from rasterio.warp import transform_bounds
from rasterio.windows import Window as RioWindow

from gis_planner.coverage.grid import Grid, Window
from gis_planner.crs import WGS84, transformer
from gis_planner.defaults import DEFAULT_K_FACTOR
from gis_planner.errors import GisPlannerError
from gis_planner.radio.diffraction import curvature_per_m
from gis_planner.radio.terrain import sweep_mast

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]

#: The driver a terrain or land-cover file is opened with, by its extension, and no other
#: (GDAL would otherwise try every driver it has on whatever the path names).
RASTER_DRIVERS = {".tif": "GTiff", ".tiff": "GTiff", ".hgt": "SRTMHGT", ".vrt": "VRT"}
#: Clutter table columns.
CLUTTER_COLUMNS = ("class", "height_m", "loss_db")


class TerrainError(GisPlannerError):
    """A terrain, land-cover or clutter-table input that cannot be used, and why."""


@dataclass(frozen=True)
class InputFile:
    """A file a run read: its path, size and modification time, recorded with the products."""

    path: str
    size_bytes: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> InputFile:
        stat = path.stat()
        return cls(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class ClutterTable:
    """Land-cover classes → clutter height (m) and extra loss at the receiver (dB)."""

    classes: tuple[int, ...]
    height_m: tuple[float, ...]
    loss_db: tuple[float, ...]
    names: tuple[str, ...]

    def lookup(self) -> tuple[F32, F32]:
        """Height and loss indexed by class (0 for classes the table does not list)."""
        size = max(self.classes, default=0) + 1
        height = np.zeros(size, dtype=np.float32)
        loss = np.zeros(size, dtype=np.float32)
        height[list(self.classes)] = self.height_m
        loss[list(self.classes)] = self.loss_db
        return height, loss


def read_clutter_table(path: Path) -> ClutterTable:
    """The table of a land-cover raster's classes: ``class,height_m,loss_db[,name]`` (CSV).

    Heights and losses must be ≥ 0: the engine's reach of a cell is computed without the
    terrain and stays a bound only if the terrain never adds level.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise TerrainError(f"clutter table {path}: {error.strerror}") from None
    missing = [c for c in CLUTTER_COLUMNS if rows and c not in rows[0]]
    if not rows or missing:
        raise TerrainError(f"clutter table {path}: needs the columns {', '.join(CLUTTER_COLUMNS)}")
    classes, heights, losses, names = [], [], [], []
    for line, row in enumerate(rows, start=2):
        try:
            code, height, loss = int(row["class"]), float(row["height_m"]), float(row["loss_db"])
        except (TypeError, ValueError):
            raise TerrainError(f"clutter table {path}, line {line}: not numbers: {row}") from None
        if not (0 <= code <= 65535 and height >= 0.0 and loss >= 0.0):
            raise TerrainError(
                f"clutter table {path}, line {line}: class 0–65535, height and loss ≥ 0 expected"
            )
        if code in classes:
            raise TerrainError(f"clutter table {path}, line {line}: class {code} twice")
        classes.append(code)
        heights.append(height)
        losses.append(loss)
        names.append((row.get("name") or "").strip())
    return ClutterTable(tuple(classes), tuple(heights), tuple(losses), tuple(names))


@dataclass(frozen=True)
class TerrainInputs:
    """The terrain of a run: elevation, optional land cover and its table, earth curvature."""

    dem: InputFile
    clutter: InputFile | None = None
    clutter_table: ClutterTable | None = None
    clutter_table_file: InputFile | None = None
    k_factor: float = DEFAULT_K_FACTOR

    def describe(self) -> dict[str, Any]:
        """What products record of their terrain (files by path, size and mtime)."""
        return {
            "dem": vars(self.dem),
            "clutter": vars(self.clutter) if self.clutter else None,
            "clutter_table": vars(self.clutter_table_file) if self.clutter_table_file else None,
            "k_factor": self.k_factor,
            "method": "P.526-16 §4.5 Bullington, terrain less level ground (delta-Bullington)",
        }


def _open(path: Path, what: str) -> rasterio.DatasetReader:
    driver = RASTER_DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise TerrainError(
            f"{what} {path}: expected a raster named {', '.join(RASTER_DRIVERS)} "
            "(GeoTIFF/COG, SRTM, VRT)"
        )
    try:
        return rasterio.open(path, driver=driver)
    except RasterioIOError:
        raise TerrainError(f"{what} {path}: not a {driver} raster that can be read") from None


def open_terrain(
    dem: Path,
    clutter: Path | None = None,
    clutter_table: Path | None = None,
    k_factor: float = DEFAULT_K_FACTOR,
) -> TerrainInputs:
    """Check the terrain inputs open, are georeferenced and go together; record them."""
    if (clutter is None) != (clutter_table is None):
        raise TerrainError("a land-cover raster and its clutter table go together")
    if not k_factor > 0:
        raise TerrainError(f"the effective earth radius factor must be positive, got {k_factor}")
    for path, what in ((dem, "elevation raster"), (clutter, "land-cover raster")):
        if path is None:
            continue
        with _open(path, what) as dataset:
            if dataset.crs is None:
                raise TerrainError(f"{what} {path}: no coordinate reference system")
    table = read_clutter_table(clutter_table) if clutter_table else None
    return TerrainInputs(
        dem=InputFile.of(dem),
        clutter=InputFile.of(clutter) if clutter else None,
        clutter_table=table,
        clutter_table_file=InputFile.of(clutter_table) if clutter_table else None,
        k_factor=k_factor,
    )


def check_covers(terrain: TerrainInputs, box: tuple[float, float, float, float]) -> None:
    """Raise unless the elevation raster covers the lon/lat ``box`` of a run (the margins
    beyond the run's area may lack it: they take the window's lowest height)."""
    with _open(Path(terrain.dem.path), "elevation raster") as dataset:
        west, south, east, north = transform_bounds(WGS84, dataset.crs, *box)
        left, bottom, right, top = dataset.bounds
    if west < left or east > right or south < bottom or north > top:
        raise TerrainError(f"elevation raster {terrain.dem.path} does not cover the run's area")


@dataclass(frozen=True, eq=False)
class TerrainWindow:
    """Terrain on a block of the run's grid (pixel centres at ``x0 + (j + ½)·res``…)."""

    x0: float
    y1: float
    resolution_m: float
    ground_m: F32
    #: Ground plus clutter height: what stands on a path.
    obstacle_m: F32
    #: Clutter loss of a receiver at each pixel.
    clutter_loss_db: F32


#: Destination pixels between points transformed exactly; the source coordinates of the
#: pixels between them are interpolated, as GDAL's approximate transformer does (over 16 pixels
#: of 25 m a UTM ↔ lon/lat transformation departs from linear by far less than a millimetre).
LATTICE_PX = 16


def _resample(
    path: str, what: str, shape: tuple[int, int], x0: float, y1: float, res: float, crs: str,
    nearest: bool,
) -> F32:  # fmt: skip
    """The raster's first band on the pixels of ``shape`` from (x0, y1) in ``crs``: bilinear
    (or nearest) from the source window those pixels fall in, NaN where it has no data.

    A plain windowed read and interpolation in numba, a tenth of the time GDAL's general
    warper takes for the same pixels; written as a + t·(b − a), so a level source stays level.
    """
    rows, cols = shape
    lattice_rows = np.unique(np.append(np.arange(0, rows, LATTICE_PX), rows - 1))
    lattice_cols = np.unique(np.append(np.arange(0, cols, LATTICE_PX), cols - 1))
    xs, ys = np.meshgrid(x0 + (lattice_cols + 0.5) * res, y1 - (lattice_rows + 0.5) * res)
    out = np.full(shape, np.nan, dtype=np.float32)
    with _open(Path(path), what) as dataset:
        if dataset.crs != rasterio.crs.CRS.from_user_input(crs):
            xs, ys = transformer(crs, dataset.crs.to_string()).transform(xs, ys)
        cols_src, rows_src = ~dataset.transform @ (xs, ys)
        # pixel-centre coordinates in the source
        cols_src, rows_src = np.asarray(cols_src) - 0.5, np.asarray(rows_src) - 0.5
        c0 = max(math.floor(np.nanmin(cols_src)) - 1, 0)
        r0 = max(math.floor(np.nanmin(rows_src)) - 1, 0)
        c1 = min(math.ceil(np.nanmax(cols_src)) + 2, dataset.width)
        r1 = min(math.ceil(np.nanmax(rows_src)) + 2, dataset.height)
        if c1 <= c0 or r1 <= r0:
            return out
        window = RioWindow(c0, r0, c1 - c0, r1 - r0)
        source = dataset.read(1, window=window, out_dtype="float32", masked=True)
    values = np.ascontiguousarray(source.filled(np.nan), dtype=np.float32)
    _interpolate(
        values, np.ascontiguousarray(cols_src - c0), np.ascontiguousarray(rows_src - r0),
        lattice_rows, lattice_cols, nearest, out,
    )  # fmt: skip
    return out


@numba.njit(cache=True, nogil=True)
def _interpolate(
    values: F32,
    lattice_col: F64,
    lattice_row: F64,
    lattice_rows: npt.NDArray[np.int64],
    lattice_cols: npt.NDArray[np.int64],
    nearest: bool,
    out: F32,
) -> None:
    src_rows, src_cols = values.shape
    rows, cols = out.shape
    n_r = lattice_rows.shape[0]
    n_c = lattice_cols.shape[0]
    for i in range(rows):
        li = min(i // LATTICE_PX, max(n_r - 2, 0))
        span_r = lattice_rows[min(li + 1, n_r - 1)] - lattice_rows[li]
        fi = (i - lattice_rows[li]) / span_r if span_r > 0 else 0.0
        li1 = min(li + 1, n_r - 1)
        for j in range(cols):
            lj = min(j // LATTICE_PX, max(n_c - 2, 0))
            span_c = lattice_cols[min(lj + 1, n_c - 1)] - lattice_cols[lj]
            fj = (j - lattice_cols[lj]) / span_c if span_c > 0 else 0.0
            lj1 = min(lj + 1, n_c - 1)
            top = lattice_col[li, lj] + fj * (lattice_col[li, lj1] - lattice_col[li, lj])
            bottom = lattice_col[li1, lj] + fj * (lattice_col[li1, lj1] - lattice_col[li1, lj])
            c = top + fi * (bottom - top)
            top = lattice_row[li, lj] + fj * (lattice_row[li, lj1] - lattice_row[li, lj])
            bottom = lattice_row[li1, lj] + fj * (lattice_row[li1, lj1] - lattice_row[li1, lj])
            r = top + fi * (bottom - top)
            # half a pixel beyond the outer centres still belongs to the raster
            if c < -0.5 or r < -0.5 or c > src_cols - 0.5 or r > src_rows - 0.5:
                continue
            c = min(max(c, 0.0), src_cols - 1.0)
            r = min(max(r, 0.0), src_rows - 1.0)
            if nearest:
                out[i, j] = values[int(r + 0.5), int(c + 0.5)]
                continue
            ci = min(int(c), max(src_cols - 2, 0))
            ri = min(int(r), max(src_rows - 2, 0))
            tc = c - ci
            tr = r - ri
            ci1 = min(ci + 1, src_cols - 1)
            ri1 = min(ri + 1, src_rows - 1)
            a = values[ri, ci] + tc * (values[ri, ci1] - values[ri, ci])
            b = values[ri1, ci] + tc * (values[ri1, ci1] - values[ri1, ci])
            value = a + tr * (b - a)
            # next to a void, the nearest sample rather than none
            out[i, j] = value if value == value else values[int(r + 0.5), int(c + 0.5)]


def read_window(
    terrain: TerrainInputs, grid: Grid, bounds: tuple[float, float, float, float]
) -> TerrainWindow:
    """The terrain over ``bounds`` (in the grid's CRS), snapped outwards to the grid's pixels.

    Pixels the elevation raster leaves empty (voids, beyond its edge) take the lowest height of
    the window: an unknown point never becomes an obstacle.
    """
    res = grid.resolution_m
    col0 = math.floor((bounds[0] - grid.x_min) / res)
    col1 = math.ceil((bounds[2] - grid.x_min) / res)
    row0 = math.floor((grid.y_max - bounds[3]) / res)
    row1 = math.ceil((grid.y_max - bounds[1]) / res)
    x0, y1 = grid.x_min + col0 * res, grid.y_max - row0 * res
    shape = (row1 - row0, col1 - col0)
    ground = _resample(terrain.dem.path, "elevation raster", shape, x0, y1, res, grid.crs, False)
    void = np.isnan(ground)
    if void.any():
        ground[void] = 0.0 if void.all() else np.nanmin(ground)
    obstacle, loss = ground, np.zeros(shape, dtype=np.float32)
    if terrain.clutter is not None and terrain.clutter_table is not None:
        found = _resample(
            terrain.clutter.path, "land-cover raster", shape, x0, y1, res, grid.crs, True
        )
        classes = np.where(np.isnan(found), -1, found).astype(np.int32)
        heights, losses = terrain.clutter_table.lookup()
        known = (classes >= 0) & (classes < len(heights))
        code = np.where(known, classes, 0)
        obstacle = ground + np.where(known, heights[code], 0.0).astype(np.float32)
        loss = np.where(known, losses[code], 0.0).astype(np.float32)
    return TerrainWindow(x0, y1, res, ground, obstacle, loss)


#: Bearing bins (1°) of a mast's reach by direction.
N_BEARINGS = 360
#: Pixels between two neighbouring rays at a mast's reach: a pixel takes the profile of the
#: nearest ray, at most one pixel aside from its own at the reach and half a pixel at half of
#: it, about the precision of the 30 m elevation data (SRTM) terrain usually comes as.
RAY_SPACING_PX = 2.0


@dataclass(frozen=True)
class CellGeometry:
    """What the masts need of one scene's cells: position, height, azimuth and reach by
    direction (``reach_m[c, side, bin of cos φ]``, as ``coverage.reach`` tabulates it)."""

    x_m: F64
    y_m: F64
    height_m: F64
    sin_az: F64
    cos_az: F64
    reach_m: F32


@dataclass(frozen=True, eq=False)
class Masts:
    """Antennas at one point and height share their profiles (every band, every scene).

    Arrays over the masts, and for each scene the mast of each of its cells. A mast reaches as
    far as its farthest cell, whichever tile is computed: its rays are the same in every tile.
    A ray goes no farther than the farthest of the mast's cells reaches in its direction
    (``bearing_reach_m``, per degree, the neighbouring degrees included).
    """

    x_m: F64
    y_m: F64
    height_m: F64
    reach_m: F64
    bearing_reach_m: F64
    of_cell: tuple[I32, ...]

    @classmethod
    def of(cls, scenes: Sequence[CellGeometry]) -> Masts:
        """The masts of the cells of ``scenes``."""
        if not scenes:
            empty = np.empty(0)
            return cls(empty, empty, empty, empty, np.empty((0, N_BEARINGS)), ())
        keys = np.concatenate([np.stack([g.x_m, g.y_m, g.height_m], axis=1) for g in scenes])
        unique, found = np.unique(keys, axis=0, return_inverse=True)
        mast: I32 = found.reshape(-1).astype(np.int32)
        bounds = np.cumsum([0, *(len(g.x_m) for g in scenes)])
        of_cell = tuple(mast[a:b] for a, b in itertools.pairwise(bounds))
        # each cell's reach at three bearings a bin (its edge, a third and two thirds in), as
        # the kernel finds its side and bin of cos φ for a pixel in that direction
        bearing = np.radians(np.arange(3 * N_BEARINGS) / 3.0)
        sin_b, cos_b = np.sin(bearing)[None, :], np.cos(bearing)[None, :]
        by_bearing = np.zeros((len(unique), N_BEARINGS))
        for geometry, masts_of in zip(scenes, of_cell, strict=True):
            n_bins = geometry.reach_m.shape[2]
            sin_az, cos_az = geometry.sin_az[:, None], geometry.cos_az[:, None]
            cos_phi = cos_b * cos_az + sin_b * sin_az
            side = (sin_b * cos_az - cos_b * sin_az < 0.0).astype(np.intp)
            index = np.minimum(((cos_phi + 1.0) * n_bins / 2.0).astype(np.intp), n_bins - 1)
            cell = np.arange(len(masts_of))[:, None]
            reach = geometry.reach_m[cell, side, index].reshape(len(masts_of), N_BEARINGS, 3)
            np.maximum.at(by_bearing, masts_of, reach.max(axis=2))
        around = np.maximum(np.roll(by_bearing, 1, axis=1), np.roll(by_bearing, -1, axis=1))
        return cls(
            unique[:, 0].copy(), unique[:, 1].copy(), unique[:, 2].copy(),
            by_bearing.max(axis=1), np.maximum(by_bearing, around), of_cell,
        )  # fmt: skip


#: Masts whose losses a tile holds at once: a worker's memory is bounded (2 × 4 bytes a pixel
#: a mast, 32 MiB for 64 masts on 256-pixel tiles) whatever the number of masts reaching it.
MAST_SLOTS = 64


def mast_batches(
    masts_in_order: Sequence[I32], capacity: int
) -> Iterator[tuple[list[int], list[tuple[int, int]]]]:
    """Batches of at most ``capacity`` masts, and the run of each scene's cells they serve.

    ``masts_in_order[s]`` is the mast of each cell of scene ``s`` in the order the kernel
    applies them. Each batch takes, from every scene in turn, its next cells while their masts
    are in the batch or fit in it; a scene's cells are thus applied in their order, in runs
    (a pixel sums its cells' power in the same order as in one pass, to the bit), and the
    scenes advance together, so that a mast shared by several scenes is mostly swept once.
    """
    position = [0] * len(masts_in_order)
    while any(p < len(order) for p, order in zip(position, masts_in_order, strict=True)):
        batch: dict[int, None] = {}
        start = list(position)
        moved = True
        while moved:
            moved = False
            for s, order in enumerate(masts_in_order):
                if position[s] < len(order):
                    mast = int(order[position[s]])
                    if mast in batch or len(batch) < capacity:
                        batch[mast] = None
                        position[s] += 1
                        moved = True
        yield list(batch), list(zip(start, position, strict=True))


class TileTerrain:
    """A tile's terrain, read once, and the losses of the masts of one batch at a time.

    ``u_m[slot]`` and ``level_u_m[slot]`` are ν·√λ (√m) of the mast in ``slot`` at each pixel
    over the real and the level profile; ``clutter_loss_db`` the receiver's clutter loss.
    """

    def __init__(
        self,
        terrain: TerrainInputs,
        masts: Masts,
        grid: Grid,
        window: Window,
        mask: npt.NDArray[np.bool_],
        reaching_masts: npt.NDArray[np.int32],
        rx_height_m: float,
    ) -> None:
        x0, y0, x1, y1 = grid.window_bounds(window)
        res = grid.resolution_m
        shape = (window.height, window.width)
        self.terrain, self.masts, self.rx_height_m = terrain, masts, rx_height_m
        self.x0, self.y1, self.res = x0, y1, res
        self.mask = np.ascontiguousarray(mask)
        self.curvature = curvature_per_m(terrain.k_factor)
        self.u_m = np.zeros((min(MAST_SLOTS, len(reaching_masts)), *shape), dtype=np.float32)
        #: Masts held at once.
        self.capacity = len(self.u_m)
        self.level_u_m = np.zeros_like(self.u_m)
        #: The slot of each mast (−1: not held).
        self.slot = np.full(len(masts.x_m), -1, dtype=np.int32)
        # every path from a mast to the tile lies in the box of the tile and the masts
        xs, ys = masts.x_m[reaching_masts], masts.y_m[reaching_masts]
        bounds = (
            min(x0, xs.min(initial=x0)) - 2 * res, min(y0, ys.min(initial=y0)) - 2 * res,
            max(x1, xs.max(initial=x1)) + 2 * res, max(y1, ys.max(initial=y1)) + 2 * res,
        )  # fmt: skip
        self.area = read_window(terrain, grid, bounds)
        r0 = round((self.area.y1 - y1) / res)
        c0 = round((x0 - self.area.x0) / res)
        self.clutter_loss_db = np.ascontiguousarray(
            self.area.clutter_loss_db[r0 : r0 + shape[0], c0 : c0 + shape[1]]
        )

    def hold(self, batch: list[int]) -> None:
        """Sweep the masts of ``batch`` not held yet into the slots the others leave."""
        keep = set(batch)
        for held in np.flatnonzero(self.slot >= 0):
            if int(held) not in keep:
                self.slot[held] = -1
        taken = {int(self.slot[m]) for m in batch if self.slot[m] >= 0}
        free = [slot for slot in range(len(self.u_m)) if slot not in taken]
        for mast in batch:
            if self.slot[mast] < 0:
                slot = free.pop()
                self.slot[mast] = slot
                self._sweep(mast, slot)

    def _sweep(self, mast: int, slot: int) -> None:
        masts, area, res = self.masts, self.area, self.res
        reach = float(masts.reach_m[mast])
        # rays at most RAY_SPACING_PX apart at the mast's reach, a multiple of 8 of them so
        # that the axes and diagonals are rays; the same rays in every tile
        n_rays = 8 * max(1, math.ceil(2.0 * math.pi * reach / (RAY_SPACING_PX * res) / 8.0))
        sweep_mast(
            area.ground_m, area.obstacle_m, area.x0, area.y1, res, float(masts.x_m[mast]),
            float(masts.y_m[mast]), float(masts.height_m[mast]), self.rx_height_m,
            self.curvature, reach, masts.bearing_reach_m[mast], n_rays, self.x0, self.y1,
            self.mask, self.terrain.clutter is not None, self.u_m[slot], self.level_u_m[slot],
        )  # fmt: skip
