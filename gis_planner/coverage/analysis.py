"""The coverage analysis end to end on layers: scenes, rasters, composites and statistics."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis_planner.admin import ancestor, locate, units
from gis_planner.coverage.engine import CoverageTile, TileRunner, local_runner, stream_coverage
from gis_planner.coverage.grid import DEFAULT_TILE_PX, Grid, Window
from gis_planner.coverage.products import WrittenRaster, write_coverage
from gis_planner.coverage.resume import TileCheckpoint, fingerprint
from gis_planner.coverage.scene import CoverageParams, Scene, build_scenes
from gis_planner.coverage.stats import (
    ANY_OPERATOR,
    AreaLabeller,
    LevelSums,
    TargetParams,
    area_coverage,
    gap_list,
    priority_table,
    village_table,
    with_any,
)
from gis_planner.crs import WGS84, metric_crs, metric_crs_of
from gis_planner.defaults import VILLAGE_ADMIN_VERSION
from gis_planner.errors import GisPlannerError
from gis_planner.radio.antenna import AntennaPattern


@dataclass(frozen=True, eq=False)
class CoverageRun:
    """Everything one coverage computation produced (the rasters are on disk)."""

    params: CoverageParams
    grid: Grid
    scenes: list[Scene]
    rasters: list[WrittenRaster]
    villages: pd.DataFrame
    areas: pd.DataFrame
    gaps: gpd.GeoDataFrame
    servers: pd.DataFrame
    #: Pixel × cell evaluations the kernel made (tiles read back from a checkpoint included).
    evaluations: int
    #: Tiles read back from an interrupted run's checkpoint instead of computed.
    resumed_tiles: int = 0


@dataclass(frozen=True, eq=False)
class StudyArea:
    """The grid of a run, its area (in the grid's CRS) and the windows holding part of it."""

    grid: Grid
    area: gpd.GeoDataFrame
    tile_px: int
    #: Each window of the grid with its number of pixels in the area.
    windows: tuple[tuple[Window, int], ...]
    #: The masks of the windows the area's outline crosses, a bit a pixel (``np.packbits``):
    #: rasterized once, to count the pixels, where a run rasterized them again (a national
    #: run at 100 m spent 2.7 s of its client's CPU on it). Few and small: a tenth of a
    #: national grid's windows at 100 m, 8 KB each.
    outline_bits: Mapping[Window, npt.NDArray[np.uint8]]

    @property
    def pixels(self) -> int:
        return sum(n for _, n in self.windows)

    def window_masks(self) -> Iterator[tuple[Window, npt.NDArray[np.bool_]]]:
        """Every window of the grid with its mask, computed as it is read.

        Windows outside the area come too (with an empty mask, so nothing is computed there):
        each pixel of the rasters is then written as it is meant to be, nodata outside the
        area, and the priority areas' pixels there count, as on the whole grid.
        """
        for window, pixels in self.windows:
            # the masks were made with the pixels counted: an empty or a whole window's is
            # known, the others were kept
            shape = (window.height, window.width)
            if pixels == 0:
                yield window, np.zeros(shape, dtype=bool)
            elif pixels == window.height * window.width:
                yield window, np.ones(shape, dtype=bool)
            else:
                yield window, window.mask_of(self.outline_bits[window])


def study_grid(
    area: gpd.GeoDataFrame,
    resolution_m: float,
    bbox: tuple[float, float, float, float] | None = None,
    tile_px: int = DEFAULT_TILE_PX,
    crs: str | None = None,
    features: Sequence[gpd.GeoDataFrame | None] = (),
) -> StudyArea:
    """The grid of ``area`` (admin units, any CRS), or of its part in ``bbox`` (lon/lat), by tile.

    ``features`` (polygons the run reports on: its villages and priority areas, see
    ``run_features``) are computed whole, where they stand outside the area too: the grid
    covers them and the mask holds them. The grid is in ``crs``, by default the metric CRS of
    what it covers: the UTM zone of the centre of the area, or of the bbox.
    """
    if area.empty:
        raise GisPlannerError("the run's area holds no admin unit")
    shapes = [area.geometry.to_crs(WGS84)]
    shapes += [f.geometry.to_crs(WGS84) for f in features if f is not None and not f.empty]
    covered = gpd.GeoDataFrame(geometry=pd.concat(shapes, ignore_index=True), crs=WGS84)
    if bbox is None:
        grid = Grid.for_area(covered, resolution_m, crs or metric_crs_of(area))
    else:
        west, south, east, north = bbox
        if not (east > west and north > south):
            raise GisPlannerError(f"bbox {bbox} is empty (expected west, south, east, north)")
        box = gpd.GeoSeries([shapely.box(west, south, east, north)], crs=WGS84)
        grid = Grid.for_area(box, resolution_m, crs or metric_crs(bbox))
    metric_area = covered.to_crs(grid.crs)
    windows, outline_bits = [], {}
    for window in grid.windows(tile_px):
        mask = grid.sub(window).mask(metric_area)
        pixels = int(mask.sum())
        windows.append((window, pixels))
        if 0 < pixels < mask.size:
            outline_bits[window] = np.packbits(mask)
    study = StudyArea(grid, metric_area, tile_px, tuple(windows), outline_bits)
    if not study.pixels:
        raise GisPlannerError(f"bbox {bbox} does not meet the run's area")
    return study


def run_features(
    area: gpd.GeoDataFrame,
    admin_units: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    priority_areas: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The villages and priority areas a run over ``area`` reports on, each whole.

    A village (or priority area) belongs to the run whose area holds its commune, by the
    parent chain of the villages' administrative units; one whose commune the store does not
    know, or any in a run over units of another version, goes by the unit that holds its
    representative point (a point on the border of two units to the one of the lower code
    among every unit of the level). So runs over two neighbouring provinces report each
    village once, whole, with the answer a run over both gives it, however it straddles
    their border.
    """
    version = str(area["admin_version"].iloc[0]) if "admin_version" in area else None
    of_version = admin_units[admin_units["admin_version"] == version]
    kept = villages[_owned(villages, area, of_version, version)]
    if priority_areas is not None:
        priority_areas = priority_areas[_owned(priority_areas, area, of_version, version)]
    return kept, priority_areas


def _owned(
    features: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame,
    of_version: gpd.GeoDataFrame,
    version: str | None,
) -> npt.NDArray[np.bool_]:
    """Whether each of ``features`` belongs to ``area`` (see ``run_features``)."""
    owned = np.zeros(len(features), dtype=bool)
    if features.empty:
        return owned
    points = features.geometry.representative_point()
    for level, codes in area.groupby("level")["code"]:
        candidates = of_version[of_version["level"] == level].sort_values("code")
        if candidates.empty:
            candidates = area[area["level"] == level].sort_values("code")
        found = locate(points, candidates)
        owned |= found.isin(set(codes)).fillna(False).to_numpy(dtype=bool)
    if version != VILLAGE_ADMIN_VERSION or "commune_code" not in features:
        return owned
    communes = features["commune_code"].astype("string")
    known = communes.isin(set(of_version.loc[of_version["level"] == "commune", "code"]))
    under = np.zeros(len(features), dtype=bool)
    for level, codes in area.groupby("level")["code"]:
        found = ancestor(of_version, communes, str(level))
        under |= found.isin(set(codes)).fillna(False).to_numpy(dtype=bool)
    return np.where(known.fillna(False).to_numpy(dtype=bool), under, owned)


def default_area(admin_units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every province of the villages' administrative version: the store's whole area."""
    return units(admin_units, "province", VILLAGE_ADMIN_VERSION)


def server_table(scenes: Sequence[Scene]) -> pd.DataFrame:
    """The cell behind each value of the best-server rasters (value = index + 1)."""
    frames = []
    for scene in scenes:
        frames.append(
            pd.DataFrame(
                {
                    "operator": scene.operator,
                    "technology": scene.technology,
                    "server_index": scene.server_index.astype(np.int64),
                    "cell_id": scene.cell_ids,
                    "model": scene.model_of_cell,
                    "range_m": scene.range_m,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def analyse(
    cells: gpd.GeoDataFrame,
    admin_units: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    priority_areas: gpd.GeoDataFrame | None = None,
    params: CoverageParams | None = None,
    *,
    rasters_dir: Path,
    operators: Sequence[str] | None = None,
    technologies: Sequence[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    area: gpd.GeoDataFrame | None = None,
    crs: str | None = None,
    targets: TargetParams | None = None,
    antennas: Mapping[str, AntennaPattern] | None = None,
    progress: Callable[[int], None] | None = None,
    on_scenes: Callable[[int], None] | None = None,
    runner: TileRunner | None = None,
    checkpoint: Path | None = None,
    every_cell: pd.DataFrame | None = None,
) -> CoverageRun:
    """Coverage rasters of every operator × technology of ``cells`` and their statistics.

    The engine's tiles stream into the COGs of ``rasters_dir`` (``write_coverage``) and into
    per-village and per-priority-area sums, so that memory depends on the tile size, not on
    the area. The area is ``area`` (admin units; default every province of the store), cut to
    ``bbox`` if given; the grid is in ``crs`` (default: the area's UTM zone). ``antennas``
    holds the patterns the cells' ``pattern_ref`` name; ``on_scenes`` is told the number of
    pixels to compute before the work starts, and ``progress`` the pixels of each finished
    tile. ``runner`` runs the tiles elsewhere (``gis_planner.distributed``). With
    ``checkpoint`` (a folder), finished tiles are kept there and a run of the same inputs
    interrupted earlier is resumed from its tiles (``coverage.resume``).

    The villages and priority areas reported are those of the area (``run_features``), each
    computed whole where it crosses the area's outline: the run of a province gives its
    villages the answer a run of the whole country gives them. ``every_cell`` (the cells
    layer's ``cell_id``, ``operator``, ``technology``, ``status``; default ``cells``) numbers
    the best servers (``build_scenes``), so that the best-server rasters of neighbouring runs
    agree where they meet.
    """
    params = params or CoverageParams()
    area = default_area(admin_units) if area is None else area
    villages, priority_areas = run_features(area, admin_units, villages, priority_areas)
    study = study_grid(
        area, params.resolution_m, bbox, params.tile_px, crs, (villages, priority_areas)
    )
    grid = study.grid
    pre = admin_units[admin_units["admin_version"] == VILLAGE_ADMIN_VERSION]
    communes = units(admin_units, "commune", VILLAGE_ADMIN_VERSION)
    scenes = build_scenes(
        cells, communes, params, operators, technologies, antennas, grid.crs, every_cell
    )
    if not scenes:
        raise GisPlannerError(
            f"no on-air cells for operators {list(operators or [])} and technologies "
            f"{list(technologies or [])}"
        )
    if on_scenes:
        on_scenes(len(scenes) * study.pixels)

    thresholds = dict(sorted({s.technology: s.threshold_dbm for s in scenes}.items()))
    village_labels = AreaLabeller(villages, grid, params.tile_px)
    village_sums = {t: LevelSums.empty(len(villages), v) for t, v in thresholds.items()}
    has_priority = priority_areas is not None and not priority_areas.empty
    if has_priority:
        assert priority_areas is not None
        priority_labels = AreaLabeller(priority_areas, grid, params.tile_px)
        priority_sums = {t: LevelSums.empty(len(priority_areas), v) for t, v in thresholds.items()}
    evaluations = 0

    def reduced(tiles: Iterator[CoverageTile]) -> Iterator[CoverageTile]:
        nonlocal evaluations
        for tile in tiles:
            labels = village_labels.labels(tile.window)
            labels[~tile.mask] = 0
            priority = priority_labels.labels(tile.window) if has_priority else None
            for technology, sums in village_sums.items():
                rsrp = {
                    scene.operator: part.best_rsrp_dbm
                    for scene, part in zip(scenes, tile.rasters, strict=True)
                    if scene.technology == technology
                }
                layers = with_any(rsrp)
                sums.add(labels, layers)
                if priority is not None:
                    priority_sums[technology].add(priority, {ANY_OPERATOR: layers[ANY_OPERATOR]})
            evaluations += sum(part.evaluations for part in tile.rasters)
            if progress:
                progress(len(scenes) * int(tile.mask.sum()))
            yield tile

    saved = None
    if checkpoint is not None:
        saved = TileCheckpoint.open(checkpoint, fingerprint(scenes, grid, params))
        runner = saved.wrap(runner or local_runner(params))
    tiles = stream_coverage(scenes, grid, study.window_masks(), params, runner)
    rasters = write_coverage(rasters_dir, grid, scenes, reduced(tiles), params)

    village_rows = pd.concat(
        [village_table(villages, sums, t, targets) for t, sums in village_sums.items()],
        ignore_index=True,
    )
    priority_parts = (
        [priority_table(priority_areas, sums, t) for t, sums in priority_sums.items()]
        if has_priority and priority_areas is not None
        else []
    )
    areas = pd.concat([area_coverage(village_rows, pre), *priority_parts], ignore_index=True)
    return CoverageRun(
        params=params,
        grid=grid,
        scenes=scenes,
        rasters=rasters,
        villages=village_rows,
        areas=areas,
        gaps=gap_list(village_rows, villages),
        servers=server_table(scenes),
        evaluations=evaluations,
        resumed_tiles=saved.resumed if saved is not None else 0,
    )
