"""The coverage analysis end to end on layers: scenes, rasters, composites and statistics."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis_planner.admin import units
from gis_planner.coverage.engine import CoverageResult, compute_scenes
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.products import Composite, composite
from gis_planner.coverage.scene import CoverageParams, build_scenes
from gis_planner.coverage.stats import (
    TargetParams,
    area_coverage,
    gap_list,
    label_pixels,
    priority_coverage,
    village_coverage,
)
from gis_planner.crs import UTM48N, WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.radio.antenna import AntennaPattern

#: The administrative version the villages are coded in.
VILLAGE_ADMIN_VERSION = "pre2025"


@dataclass(frozen=True, eq=False)
class CoverageRun:
    """Everything one coverage computation produced."""

    params: CoverageParams
    grid: Grid
    mask: npt.NDArray[np.bool_]
    results: list[CoverageResult]
    composites: dict[str, Composite]
    villages: pd.DataFrame
    areas: pd.DataFrame
    gaps: gpd.GeoDataFrame
    servers: pd.DataFrame

    @property
    def evaluations(self) -> int:
        return sum(r.evaluations for r in self.results)


def study_grid(
    admin_units: gpd.GeoDataFrame,
    resolution_m: float,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[Grid, npt.NDArray[np.bool_]]:
    """The grid of the province (or of ``bbox``, lon/lat) and the mask of the province on it."""
    province = units(admin_units, "province", VILLAGE_ADMIN_VERSION)
    if bbox is None:
        grid = Grid.for_area(province, resolution_m)
    else:
        west, south, east, north = bbox
        if not (east > west and north > south):
            raise GisPlannerError(f"bbox {bbox} is empty (expected west, south, east, north)")
        box = gpd.GeoSeries([shapely.box(west, south, east, north)], crs=WGS84)
        grid = Grid.for_area(box.to_crs(UTM48N), resolution_m)
    mask = grid.mask(province)
    if not mask.any():
        raise GisPlannerError(f"bbox {bbox} does not meet the province")
    return grid, mask


def server_table(results: Sequence[CoverageResult]) -> pd.DataFrame:
    """The cell behind each value of the best-server rasters (value = index + 1)."""
    frames = []
    for result in results:
        scene = result.scene
        frames.append(
            pd.DataFrame(
                {
                    "operator": scene.operator,
                    "technology": scene.technology,
                    "server_index": np.arange(1, scene.n_cells + 1),
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
    operators: Sequence[str] | None = None,
    technologies: Sequence[str] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    targets: TargetParams | None = None,
    antennas: Mapping[str, AntennaPattern] | None = None,
    progress: Callable[[int], None] | None = None,
    on_scenes: Callable[[int], None] | None = None,
) -> CoverageRun:
    """Coverage rasters of every operator × technology of ``cells`` and their statistics.

    ``antennas`` holds the patterns the cells' ``pattern_ref`` name; ``on_scenes`` is told the
    number of pixels to compute before the work starts, and ``progress`` the pixels of each
    finished tile.
    """
    params = params or CoverageParams()
    grid, mask = study_grid(admin_units, params.resolution_m, bbox)
    pre = admin_units[admin_units["admin_version"] == VILLAGE_ADMIN_VERSION]
    communes = units(admin_units, "commune", VILLAGE_ADMIN_VERSION)
    scenes = build_scenes(cells, communes, params, operators, technologies, antennas)
    if not scenes:
        raise GisPlannerError(
            f"no on-air cells for operators {list(operators or [])} and technologies "
            f"{list(technologies or [])}"
        )
    if on_scenes:
        on_scenes(len(scenes) * int(mask.sum()))
    results = compute_scenes(scenes, grid, mask, params, progress)

    labels = label_pixels(villages, grid)
    labels[~mask] = 0
    village_parts, priority_parts = [], []
    composites: dict[str, Composite] = {}
    for technology in sorted({r.scene.technology for r in results}):
        mine = [r for r in results if r.scene.technology == technology]
        composites[technology] = composite(mine)
        rasters = {r.scene.operator: r.best_rsrp_dbm for r in mine}
        village_parts.append(
            village_coverage(
                villages, labels, rasters, technology, mine[0].scene.threshold_dbm, targets
            )
        )
        if priority_areas is not None and not priority_areas.empty:
            priority_parts.append(
                priority_coverage(
                    priority_areas, grid, composites[technology].best_rsrp_dbm, technology,
                    mine[0].scene.threshold_dbm,
                )
            )  # fmt: skip
    village_rows = pd.concat(village_parts, ignore_index=True)
    areas = pd.concat([area_coverage(village_rows, pre), *priority_parts], ignore_index=True)
    return CoverageRun(
        params=params,
        grid=grid,
        mask=mask,
        results=results,
        composites=composites,
        villages=village_rows,
        areas=areas,
        gaps=gap_list(village_rows, villages),
        servers=server_table(results),
    )
