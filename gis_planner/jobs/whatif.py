"""The coverage what-if job: what a planned site would add to its operator's coverage.

A planned site (three sectors of the planned cell of its technology, ``siting.PLANNED_CELLS``)
is placed at a point of the store's province. Its operator's on-air cells of that technology
within reach, with and without the planned site, go through the coverage engine on a small grid
around it: the disc the planned cells can reach, grown to the whole of every village it meets
(a village's share is then taken over all of it). The gain is where the best server reaches the
threshold with the site and did not without it: villages newly covered (the DOMAIN.md target,
95 % of the village), their population, the area gained (km², inside the province) and its
outline in WGS84. Nothing is written to the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from rasterio.features import shapes

from gis_planner.coverage.analysis import default_area
from gis_planner.coverage.engine import compute_coverage
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.scene import CoverageParams, Scene, build_scenes
from gis_planner.coverage.stats import TargetParams, label_pixels
from gis_planner.crs import WGS84, lonlat_to_metric, metric_crs_of
from gis_planner.defaults import DEFAULT_OUTLINE_TOLERANCE_M
from gis_planner.errors import GisPlannerError
from gis_planner.jobs.importing import province_area
from gis_planner.siting import NEW_BUILD_HEIGHT_M, PlannedCell, planned_cell
from gis_planner.store import LayerStore

#: The grid of one what-if holds at most this many pixels.
MAX_GRID_PIXELS = 1_000_000
#: Azimuths of the planned site's sectors (degrees).
SECTOR_AZIMUTHS_DEG = (0.0, 120.0, 240.0)
#: Columns of the villages a what-if gains.
VILLAGE_COLUMNS = (
    "code", "name", "commune_code", "commune_name", "population", "share_before", "share_after",
)  # fmt: skip


class OutOfProvince(GisPlannerError):
    """A planned site outside the store's province."""


class GridTooLarge(GisPlannerError):
    """A what-if grid past ``MAX_GRID_PIXELS``."""


@dataclass(frozen=True)
class WhatIfSpec:
    lon: float
    lat: float
    #: Operator key (``operators.operator`` normalises user spellings).
    operator: str
    technology: str = "4G"
    #: Antenna height; default a new tower's (``siting.NEW_BUILD_HEIGHT_M``).
    height_m: float | None = None
    #: Carrier band; default the planned cell's of the technology.
    band_mhz: float | None = None
    resolution_m: float = 50.0
    #: Points farther than this outside the province are refused.
    tolerance_m: float = DEFAULT_OUTLINE_TOLERANCE_M

    @property
    def query(self) -> str:
        return f"{self.operator}@{self.lon:.5f},{self.lat:.5f}/{self.technology}"


@dataclass(frozen=True, eq=False)
class WhatIfResult:
    spec: WhatIfSpec
    #: The planned cell computed (band, power, gain) and its antenna height.
    cell: PlannedCell
    height_m: float
    threshold_dbm: float
    grid: Grid
    #: The operator's existing cells that were evaluated with the planned ones.
    existing_cells: int
    #: Villages newly covered, most populous first (``VILLAGE_COLUMNS``).
    villages: pd.DataFrame
    people_gained: int
    area_gained_km2: float
    #: The area gained (one row, WGS84; empty geometry when nothing is gained).
    gained: gpd.GeoDataFrame


def run(spec: WhatIfSpec, store: LayerStore) -> WhatIfResult:
    """The coverage ``spec``'s site would add (see the module doc)."""
    area = province_area(store, spec.tolerance_m)
    point = (np.array([spec.lon]), np.array([spec.lat]))
    if not area.contains_lonlat(*point)[0]:
        west, south, east, north = area.bounds
        raise OutOfProvince(
            f"lon {spec.lon}, lat {spec.lat} is outside the province (longitude "
            f"{west:.3f}–{east:.3f}, latitude {south:.3f}–{north:.3f})"
        )
    cell = planned_cell(spec.technology)
    if spec.band_mhz is not None:
        cell = dataclasses.replace(cell, band_mhz=spec.band_mhz)
    height_m = spec.height_m if spec.height_m is not None else NEW_BUILD_HEIGHT_M
    admin = store.read("admin_units")
    assert isinstance(admin, gpd.GeoDataFrame)
    crs = metric_crs_of(admin)
    params = CoverageParams(resolution_m=spec.resolution_m)
    communes = admin[admin["level"] == "commune"]
    planned = planned_cells(spec, cell, height_m)
    (site_scene,) = build_scenes(planned, communes, params, crs=crs)
    x, y = (float(v[0]) for v in lonlat_to_metric(*point, crs))
    reach_m = float(site_scene.range_m.max())

    villages = store.read("villages")
    assert isinstance(villages, gpd.GeoDataFrame)
    metric_villages = villages.to_crs(crs)
    met = metric_villages.intersects(shapely.Point(x, y).buffer(max(reach_m, 1.0))).to_numpy()
    bounds = np.array([x - reach_m, y - reach_m, x + reach_m, y + reach_m])
    if met.any():
        v_bounds = metric_villages[met].total_bounds
        bounds = np.concatenate([np.minimum(bounds[:2], v_bounds[:2]),
                                 np.maximum(bounds[2:], v_bounds[2:])])  # fmt: skip
    west, south, east, north = (float(b) for b in bounds)
    grid = Grid.from_bounds((west, south, east, north), spec.resolution_m, crs)
    if grid.width * grid.height > MAX_GRID_PIXELS:
        raise GridTooLarge(
            f"the what-if grid would hold {grid.width * grid.height:,} pixels at "
            f"{spec.resolution_m:g} m (at most {MAX_GRID_PIXELS:,}): use a coarser resolution"
        )
    mask = grid.mask(default_area(admin))

    # The operator's cells that can reach the grid: best server and interference are honest.
    cells = store.read("cells")
    assert isinstance(cells, gpd.GeoDataFrame)
    own = cells[(cells["operator"] == spec.operator) & (cells["technology"] == spec.technology)]
    own_xy = own.geometry.to_crs(crs)
    x0, y0, x1, y1 = grid.bounds
    near = own_xy.x.between(x0 - params.max_range_m, x1 + params.max_range_m) & own_xy.y.between(
        y0 - params.max_range_m, y1 + params.max_range_m
    )
    existing = own[near.to_numpy()]
    before_scenes = build_scenes(existing, communes, params, crs=crs)
    with_site = pd.concat([existing, planned], ignore_index=True)
    (after_scene,) = build_scenes(with_site, communes, params, crs=crs)
    before = _best_rsrp(before_scenes, grid, mask, params)
    after = _best_rsrp([after_scene], grid, mask, params)
    threshold = after_scene.threshold_dbm
    gained = mask & (after >= threshold) & ~(before >= threshold)

    table = _villages_gained(villages[met], communes, grid, before, after, threshold)
    return WhatIfResult(
        spec=spec,
        cell=cell,
        height_m=height_m,
        threshold_dbm=threshold,
        grid=grid,
        existing_cells=after_scene.n_cells - len(planned),
        villages=table,
        people_gained=int(table["population"].sum()),
        area_gained_km2=float(gained.sum()) * spec.resolution_m**2 / 1e6,
        gained=gained_outline(gained, grid, spec.resolution_m),
    )


def planned_cells(spec: WhatIfSpec, cell: PlannedCell, height_m: float) -> gpd.GeoDataFrame:
    """The planned site's sectors as rows of the catalogue's ``cells`` layer."""
    n = len(SECTOR_AZIMUTHS_DEG)
    site_id = f"WHATIF-{spec.operator}"
    return gpd.GeoDataFrame(
        {
            "cell_id": [f"{site_id}-{i + 1}" for i in range(n)],
            "site_id": site_id,
            "operator": spec.operator,
            "technology": spec.technology,
            "band_mhz": cell.band_mhz,
            "bandwidth_mhz": cell.bandwidth_mhz,
            "azimuth_deg": list(SECTOR_AZIMUTHS_DEG),
            "mech_tilt_deg": 0.0,
            "elec_tilt_deg": 0.0,
            "height_m": height_m,
            "tx_power_dbm": cell.tx_power_dbm,
            "antenna_gain_dbi": cell.antenna_gain_dbi,
            "feeder_loss_db": cell.feeder_loss_db,
            "h_beamwidth_deg": 65.0,
            "v_beamwidth_deg": 10.0,
            "status": "on-air",
        },
        geometry=gpd.points_from_xy([spec.lon] * n, [spec.lat] * n),
        crs=WGS84,
    )


def _best_rsrp(
    scenes: list[Scene], grid: Grid, mask: npt.NDArray[np.bool_], params: CoverageParams
) -> npt.NDArray[np.float32]:
    """Best-server level over ``scenes`` on ``grid`` (nodata −999 where none reaches)."""
    best = np.full(grid.shape, -999.0, dtype=np.float32)
    for scene in scenes:
        best = np.maximum(best, compute_coverage(scene, grid, mask, params).best_rsrp_dbm)
    return best


def _villages_gained(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    grid: Grid,
    before: npt.NDArray[np.float32],
    after: npt.NDArray[np.float32],
    threshold_dbm: float,
) -> pd.DataFrame:
    """The villages below the target before and at it after, with names and shares."""
    target = TargetParams().target_share
    labels = label_pixels(villages, grid).ravel()
    n = len(villages) + 1
    pixels = np.bincount(labels, minlength=n)[1:].astype(np.float64)
    shares = [
        np.divide(
            np.bincount(labels, weights=(level >= threshold_dbm).ravel(), minlength=n)[1:],
            pixels, out=np.zeros(n - 1), where=pixels > 0,
        )
        for level in (before, after)
    ]  # fmt: skip
    gained = (shares[0] < target) & (shares[1] >= target) & (pixels > 0)
    names = communes.drop_duplicates("code").set_index("code")["name"]
    table = pd.DataFrame(
        {
            "code": villages["code"].to_numpy(),
            "name": villages["name"].to_numpy(),
            "commune_code": villages["commune_code"].to_numpy(),
            "commune_name": villages["commune_code"].map(names).to_numpy(),
            "population": villages["population"].fillna(0).to_numpy(dtype=np.int64),
            "share_before": shares[0].round(4),
            "share_after": shares[1].round(4),
        }
    )[gained]
    return table.sort_values(["population", "code"], ascending=[False, True], ignore_index=True)


def gained_outline(
    gained: npt.NDArray[np.bool_], grid: Grid, resolution_m: float
) -> gpd.GeoDataFrame:
    """The pixels of ``gained`` as one (multi)polygon in WGS84, simplified by half a pixel."""
    parts = [
        shapely.geometry.shape(geometry)
        for geometry, _ in shapes(gained.astype(np.uint8), mask=gained, transform=grid.transform)
    ]
    outline = shapely.union_all(parts) if parts else shapely.Polygon()
    outline = shapely.simplify(outline, resolution_m / 2)
    km2 = float(gained.sum()) * resolution_m**2 / 1e6
    frame = gpd.GeoDataFrame({"area_km2": [round(km2, 3)]}, geometry=[outline], crs=grid.crs)
    return frame.to_crs(WGS84)


def describe(result: WhatIfResult) -> dict[str, float | int | str]:
    """The figures of a what-if, for tables and answers."""
    return {
        "site": result.spec.query,
        "height_m": result.height_m,
        "band_mhz": result.cell.band_mhz,
        "threshold_dbm": result.threshold_dbm,
        "resolution_m": result.grid.resolution_m,
        "existing_cells": result.existing_cells,
        "villages_gained": len(result.villages),
        "people_gained": result.people_gained,
        "area_gained_km2": round(result.area_gained_km2, 3),
    }
