"""The coverage job: best server, SINR and village coverage of the store's cells, into the store.

A run covers an area: every province of the store, or the admin units it names, cut to a bbox if
it has one. A run narrowed by its area, bbox, operators or technologies writes products of its
own scope (layers ``coverage_*__{scope}``, rasters under ``coverage/{scope}/``) and leaves the
store-wide ones alone, unless ``replace`` puts it in their place. The rasters, the layers and
their records commit together; the records of the scope that this run no longer makes (an
operator whose cells are gone) go with their files.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis_planner.admin import unit_names
from gis_planner.coverage.analysis import (
    VILLAGE_ADMIN_VERSION,
    CoverageRun,
    analyse,
    default_area,
    run_features,
)
from gis_planner.coverage.products import WrittenRaster, read_for_map, rsrp_map
from gis_planner.coverage.registry import INPUT_LAYERS, JOB, coverage_records
from gis_planner.coverage.scene import CoverageParams, with_default_patterns
from gis_planner.coverage.stats import five_g_figures
from gis_planner.coverage.terrain import TerrainError, check_covers, open_terrain
from gis_planner.crs import WGS84, grown_bounds
from gis_planner.defaults import DEFAULT_K_FACTOR, DEFAULT_RETRIES
from gis_planner.distributed import IN_PROCESS, Scheduler, tile_runner
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.indicators import first_units
from gis_planner.maps import save_map
from gis_planner.products import ProductArea, Scope, input_revisions, scoped_layer
from gis_planner.qgis import remove_rasters
from gis_planner.radio.antenna import load_patterns
from gis_planner.settings import get_settings
from gis_planner.store import LayerStore
from gis_planner.tables import write_csv, write_xlsx

#: The catalogue layers a run writes (each under its scope's name).
LAYERS = ("coverage_villages", "coverage_areas", "coverage_gaps", "coverage_servers")


@dataclass(frozen=True)
class CoverageSpec:
    resolution_m: float = 25.0
    #: Operators and technologies to compute; empty for all the cells have.
    operators: tuple[str, ...] = ()
    technologies: tuple[str, ...] = ()
    #: Admin unit codes (of ``admin_version``, any level) making the area; empty for every
    #: province of the store.
    area_codes: tuple[str, ...] = ()
    admin_version: str = VILLAGE_ADMIN_VERSION
    #: (west, south, east, north) in degrees: the part of the area computed.
    bbox: tuple[float, float, float, float] | None = None
    #: The grid's metric CRS; default the UTM zone of the area's (or the bbox's) centre.
    crs: str | None = None
    include_planned: bool = False
    workers: int = 2
    #: Where the tiles run: ``in-process`` (the ``workers`` threads), ``local:N`` or a Dask
    #: scheduler's ``tcp://host:port`` (``gis_planner.distributed``).
    scheduler: str = IN_PROCESS
    #: Times a failed tile task is run again on a cluster.
    retries: int = DEFAULT_RETRIES
    #: Keep finished tiles on disk while running, and start from those of an interrupted
    #: run of the same inputs (``coverage.resume``).
    resume: bool = False
    #: Folder of the MSI/Planet files the cells' ``pattern_ref`` name.
    patterns_dir: Path | None = None
    #: Elevation raster (GeoTIFF/COG, SRTM .hgt, VRT) covering the area; None: level ground.
    terrain: Path | None = None
    #: Land-cover raster and its classes' table (``class,height_m,loss_db``), with ``terrain``.
    clutter: Path | None = None
    clutter_table: Path | None = None
    #: Effective earth radius factor of the terrain's diffraction.
    k_factor: float = DEFAULT_K_FACTOR
    #: Let a narrowed run replace the store-wide products.
    replace: bool = False
    #: Folder of the CSV/XLSX tables and the map; default ``{base_dir}/coverage/{scope}``.
    out_dir: Path | None = None
    #: Folder under which the default ``out_dir`` is made; default the settings' output_dir.
    base_dir: Path | None = None
    #: Operator of the RSRP map (default: the first, 4G first).
    map_operator: str | None = None
    lang: Lang = "vi"

    @property
    def scope(self) -> Scope:
        return Scope(self.bbox, self.operators, self.technologies, self.area_codes, self.replace)


@dataclass(frozen=True, eq=False)
class CoverageResult:
    run: CoverageRun
    scope: str
    rasters_dir: Path
    #: The rasters at their final paths.
    rasters: tuple[WrittenRaster, ...]
    layers: tuple[str, ...]
    #: Cells computed with a default pattern instead of theirs, and why.
    default_patterns: pd.DataFrame
    #: Records of the scope no longer made, dropped with their files.
    dropped: tuple[str, ...]
    workbook: Path
    map: Path | None
    #: 5G (any operator) for the units the plan names first, the provinces, priority areas.
    five_g: pd.DataFrame
    seconds: float


def run(
    spec: CoverageSpec,
    store: LayerStore,
    *,
    progress: Callable[[int], None] | None = None,
    on_scenes: Callable[[int], None] | None = None,
    on_dashboard: Callable[[str], None] | None = None,
) -> CoverageResult:
    """Compute, write and register the coverage of ``spec``; ``on_scenes`` is told the pixels
    to compute before the work starts, ``progress`` the pixels of each finished tile and
    ``on_dashboard`` the dashboard's link when the tiles run on a cluster."""
    scope = spec.scope
    # Parsed first: a mistyped scheduler fails before anything is read.
    scheduler = Scheduler.parse(spec.scheduler)
    # Read before the inputs: a layer rewritten during the run makes its products stale.
    inputs = input_revisions(store.layer_revisions(), INPUT_LAYERS)
    if spec.terrain is None and spec.clutter is not None:
        raise TerrainError("land cover needs an elevation raster (--terrain) under it")
    terrain = (
        open_terrain(spec.terrain, spec.clutter, spec.clutter_table, spec.k_factor)
        if spec.terrain is not None
        else None
    )
    params = CoverageParams(
        resolution_m=spec.resolution_m, workers=spec.workers, include_planned=spec.include_planned,
        terrain=terrain,
    )  # fmt: skip
    admin = store.read("admin_units")
    assert isinstance(admin, gpd.GeoDataFrame)
    area = run_area(admin, spec.area_codes, spec.admin_version)
    # Only what can count is read: villages in the run's box, cells within reach of it and of
    # the area's villages and priority areas where they cross its outline.
    box = _run_box(area, None)
    villages = store.read("villages", bbox=box)
    priority = store.read("priority_areas", bbox=box) if store.has_layer("priority_areas") else None
    assert isinstance(villages, gpd.GeoDataFrame)
    villages, priority = run_features(
        area, admin, villages, priority if isinstance(priority, gpd.GeoDataFrame) else None
    )
    box = _run_box(area, spec.bbox, (villages, priority))
    if terrain is not None:
        check_covers(terrain, box)
    cells = store.read("cells", bbox=grown_bounds(box, params.max_range_m))
    assert isinstance(cells, gpd.GeoDataFrame)
    # The servers are numbered among every cell of the layer, not only those read here.
    every_cell = store.read("cells", columns=["cell_id", "operator", "technology", "status"])
    refs = set(cells["pattern_ref"].dropna()) - {""}
    antennas, problems = load_patterns(spec.patterns_dir, refs)
    cells, flagged = with_default_patterns(cells, problems)

    rasters_dir = store.assets_dir / "coverage" / scope.key
    rasters_dir.mkdir(parents=True, exist_ok=True)
    # Written aside, then moved into place with the records' commit: a failed run leaves the
    # rasters the records describe.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=rasters_dir))
    # Finished tiles of a --resume run; once products are made from them they are of no use.
    checkpoint = rasters_dir / ".resume"
    try:
        start = time.perf_counter()
        with tile_runner(scheduler, on_dashboard, spec.retries) as runner:
            computed = analyse(
                cells, admin, villages, priority, params, rasters_dir=staging,
                operators=spec.operators or None,
                technologies=spec.technologies or None, bbox=spec.bbox, area=area,
                crs=spec.crs, antennas=antennas, progress=progress, on_scenes=on_scenes,
                runner=runner, checkpoint=checkpoint if spec.resume else None,
                every_cell=every_cell,
            )  # fmt: skip
        seconds = time.perf_counter() - start
        placed = [dataclasses.replace(r, path=rasters_dir / r.path.name) for r in computed.rasters]
        meta = {"resolution_m": spec.resolution_m, "rasters": str(rasters_dir), "scope": scope.key}
        frames = dict(zip(LAYERS, (computed.villages, computed.areas, computed.gaps,
                                   computed.servers), strict=True))  # fmt: skip
        layers = {name: scoped_layer(name, scope.key) for name in frames}
        by_technology: dict[str, list[str]] = {}
        for raster in operator_rsrp(placed):
            by_technology.setdefault(raster.technology, []).append(raster.operator)
        with store.transaction() as tx:
            for name, frame in frames.items():
                tx.write(layers[name], frame, metadata=meta)
            for staged, raster in zip(computed.rasters, placed, strict=True):
                staged.path.replace(raster.path)
                for source, target in zip(staged.sidecars, raster.sidecars, strict=True):
                    source.replace(target)
            records = coverage_records(
                scope=scope, params=params, inputs=inputs, rasters=[r.path for r in placed],
                layers=layers, area=ProductArea(tuple(area["code"]), spec.bbox),
                assets_dir=store.assets_dir, operators_by_technology=by_technology,
            )  # fmt: skip
            made = {record.id for record in records}
            gone = [
                r for r in store.products()
                if r.job == JOB and r.scope == scope.key and r.id not in made
            ]  # fmt: skip
            for record in records:
                tx.register(record)
            for record in gone:
                tx.unregister(record.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(checkpoint, ignore_errors=True)
    remove_rasters(store.assets_dir, (record.path for record in gone))

    base_dir = spec.base_dir or get_settings().output_dir
    tables_dir = spec.out_dir or base_dir / "coverage" / scope.key
    tables = {"villages": computed.villages, "areas": computed.areas, "gaps": computed.gaps}
    names = unit_names(admin)
    for name, frame in tables.items():
        write_csv(tables_dir / f"{name}.csv", frame, f"coverage_{name}", spec.lang, names)
    workbook = write_xlsx(
        tables_dir / "coverage.xlsx",
        {name: (frame, f"coverage_{name}") for name, frame in tables.items()},
        spec.lang,
        names,
    )
    map_path = _write_map(placed, spec.map_operator, area, tables_dir, spec.lang)
    return CoverageResult(
        run=computed,
        scope=scope.key,
        rasters_dir=rasters_dir,
        rasters=tuple(placed),
        layers=tuple(layers.values()),
        default_patterns=flagged,
        dropped=tuple(r.id for r in gone),
        workbook=workbook,
        map=map_path,
        five_g=five_g_figures(computed.areas, first_units("five_g_first")),
        seconds=seconds,
    )


def run_area(
    admin_units: gpd.GeoDataFrame, codes: tuple[str, ...], admin_version: str
) -> gpd.GeoDataFrame:
    """The admin units a run covers: those of ``codes`` in ``admin_version``, or every province
    of the store when no code is given."""
    if not codes:
        return default_area(admin_units)
    of_version = admin_units[admin_units["admin_version"] == admin_version]
    area = of_version[of_version["code"].isin(codes)]
    unknown = sorted(set(codes) - set(area["code"]))
    if unknown:
        raise GisPlannerError(
            f"không có đơn vị hành chính {', '.join(unknown)} ({admin_version}) / no admin unit "
            f"{', '.join(unknown)} of version {admin_version!r} in the store"
        )
    return area.sort_values("code", ignore_index=True)


def _run_box(
    area: gpd.GeoDataFrame,
    bbox: tuple[float, float, float, float] | None,
    features: tuple[gpd.GeoDataFrame | None, ...] = (),
) -> tuple[float, float, float, float]:
    """The lon/lat box of the run: the bounds of the area and of ``features`` (its villages and
    priority areas, which may cross its outline), cut to ``bbox``."""
    shapes = [f.geometry.to_crs(WGS84) for f in (area, *features) if f is not None and len(f)]
    west, south, east, north = (float(v) for v in pd.concat(shapes).total_bounds)
    if bbox is not None:
        west, south = max(west, bbox[0]), max(south, bbox[1])
        east, north = min(east, bbox[2]), min(north, bbox[3])
        if not (east > west and north > south):
            raise GisPlannerError(f"bbox {bbox} does not meet the run's area")
    return west, south, east, north


def operator_rsrp(rasters: list[WrittenRaster]) -> list[WrittenRaster]:
    """Each operator's RSRP raster (one per operator and technology), composites left out."""
    return [r for r in rasters if r.operator != "any" and r.bands[0].name == "best_rsrp_dbm"]


def _write_map(
    rasters: list[WrittenRaster],
    operator: str | None,
    area: gpd.GeoDataFrame,
    directory: Path,
    lang: Lang,
) -> Path | None:
    candidates = [r for r in operator_rsrp(rasters) if operator in (None, r.operator)]
    # 4G first: the technology of the broadband target
    candidates.sort(key=lambda r: (r.technology != "4G", r.operator))
    if not candidates:
        return None
    raster = candidates[0]
    rsrp, grid = read_for_map(raster.path)
    fmap = rsrp_map(rsrp, grid, f"{raster.operator} {raster.technology}", area, lang)
    return save_map(fmap, directory / f"rsrp_{raster.operator}_{raster.technology}.html")
