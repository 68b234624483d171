"""The speeds job: throughput rasters from a coverage run's SINR, village figures against the
plan's download targets (mobile 50 Mb/s, fixed 100 Mb/s and 1 Gb/s by 2030).

A run reads the coverage products of one scope (the province's by default) by their records:
each operator's SINR raster of 4G and 5G, its best-server raster and the ``coverage_servers``
layer naming the cell behind each server index, whose bandwidth and band (``cells``) set what
a bit per resource element is worth. It writes one throughput COG per operator and technology
on the SINR's grid, and one per technology of the best operator at each pixel (``any``),
registered as products whose parameters are every assumption. Each raster is read, written
and counted by village a window at a time (as the coverage writes its own), so a run's memory
is bounded by the window, not the area. The village figures are stored with their records in
the same commit as the rasters: ``speeds_villages`` (mobile, by village, operator and
technology) and ``ftth_speeds`` (fixed access), which ``gis_planner.speeds_product`` reads
back for the command, the API and the report.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio
from rasterio.windows import Window as RioWindow

from gis_planner.admin import unit_names
from gis_planner.catalogue.speeds import FTTH_SPEEDS, SPEEDS_VILLAGES, THROUGHPUT_TECHNOLOGIES
from gis_planner.colormaps import THROUGHPUT
from gis_planner.coverage.grid import DEFAULT_TILE_PX, Grid
from gis_planner.coverage.products import GDAL_CACHE_MIB, RasterBand, _TiledRaster
from gis_planner.coverage.registry import JOB as COVERAGE_JOB
from gis_planner.coverage.stats import ANY_OPERATOR, AreaLabeller, with_any
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.ftth import ftth_villages, pon_reach
from gis_planner.i18n import Lang
from gis_planner.products import (
    Band,
    ProductRecord,
    catalogue_name,
    input_revisions,
    is_stale,
    scoped_layer,
)
from gis_planner.qgis import raster_qml, remove_rasters, style_path
from gis_planner.radio.throughput import ThroughputParams, carrier_mbps_per_bit
from gis_planner.settings import get_settings
from gis_planner.speeds import (
    NODATA_MBPS,
    FixedParams,
    SpeedSums,
    SpeedTargets,
    fixed_speeds,
    speeds_table,
    throughput_raster,
)
from gis_planner.speeds_product import JOB, SpeedFigures, read_figures
from gis_planner.store import LayerStore
from gis_planner.tables import write_csv, write_xlsx

#: Layers the village figures read besides the rasters' inputs: villages and the FTTH's fibre.
FIGURE_INPUTS = ("villages", "fibre_routes", "fibre_nodes")
BAND = Band(
    1, "throughput", "throughput_mbps", "Mb/s",
    "Downlink throughput one user gets from the best server (see the record's parameters)",
)  # fmt: skip


class NoCoverage(GisPlannerError):
    """The coverage a speeds run needs has not been computed (or is out of date)."""


@dataclass(frozen=True)
class SpeedsSpec:
    #: The coverage run's scope (``""``: the province's, what ``gis-planner coverage`` makes).
    scope: str = ""
    throughput: ThroughputParams = field(default_factory=ThroughputParams)
    fixed: FixedParams = field(default_factory=FixedParams)
    targets: SpeedTargets = field(default_factory=SpeedTargets)
    #: Edge of the windows the rasters are read, written and counted by (pixels).
    tile_px: int = DEFAULT_TILE_PX
    #: Folder of the CSV/XLSX tables; default ``{base_dir}/speeds/{scope}``.
    out_dir: Path | None = None
    base_dir: Path | None = None
    lang: Lang = "vi"


@dataclass(frozen=True, eq=False)
class SpeedsResult:
    figures: SpeedFigures
    rasters: tuple[Path, ...]
    workbook: Path


def parameters(spec: SpeedsSpec, coverage_ids: list[str]) -> dict[str, Any]:
    """Every assumption of a run, as recorded with its products."""
    throughput = spec.throughput
    tables = {t: throughput.cqi_table(t) for t in THROUGHPUT_TECHNOLOGIES}
    return {
        "throughput": asdict(throughput),
        "cqi_tables": {t: {"table": c.name, "source": c.source} for t, c in tables.items()},
        "sinr_to_cqi": "SINR for 10 % BLER, Kawser et al. 2012 (Vienna LTE simulator, AWGN)",
        "fixed": asdict(spec.fixed),
        "targets": asdict(spec.targets),
        "coverage_products": coverage_ids,
    }


def run(spec: SpeedsSpec, store: LayerStore) -> SpeedsResult:
    """Write and register the throughput rasters of the coverage of ``spec.scope`` and the
    village figures' layers, window by window, then write the tables."""
    scenes = coverage_scenes(store, spec.scope)
    servers_layer = scoped_layer("coverage_servers", spec.scope)
    # Read before the inputs: a layer rewritten during the run makes the products stale.
    revisions = store.layer_revisions()
    raster_inputs = input_revisions(revisions, ("cells", servers_layer))
    layer_inputs = input_revisions(revisions, ("cells", servers_layer, *FIGURE_INPUTS))
    servers = store.read(servers_layer)
    cells = store.read(
        "cells", columns=["cell_id", "operator", "technology", "band_mhz", "bandwidth_mhz"]
    )
    worth = server_worth(servers, cells, spec.throughput)
    params = parameters(spec, sorted(r.id for pair in scenes.values() for r in pair))
    villages = store.read("villages")
    assert isinstance(villages, gpd.GeoDataFrame)

    rasters_dir = store.assets_dir / JOB / spec.scope
    rasters_dir.mkdir(parents=True, exist_ok=True)
    # Written aside, then moved into place with the records' commit, as the coverage does.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=rasters_dir))
    rasters = _Rasters(
        staging, rasters_dir.relative_to(store.assets_dir).as_posix(), params, raster_inputs
    )
    by_technology: dict[str, dict[str, tuple[ProductRecord, ProductRecord]]] = {}
    for (operator, technology), pair in sorted(scenes.items()):
        by_technology.setdefault(technology, {})[operator] = pair
    labellers: dict[Grid, AreaLabeller] = {}
    try:
        staged: list[tuple[Path, ProductRecord]] = []
        parts = []
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MIB):
            for technology, found in by_technology.items():
                made, sums = _throughput(
                    store, technology, found, worth, spec, rasters, villages, labellers
                )
                staged += made
                parts.append(speeds_table(villages, sums, technology, spec.targets))
        rows = pd.concat(parts, ignore_index=True)
        measured = villages[villages["code"].isin(rows["village_code"])]
        ftth, named_pons = _ftth(store, measured)
        fixed = fixed_speeds(ftth, spec.fixed, spec.targets, named_pons)
        area = next(iter(scenes.values()))[0].area
        layers = {
            scoped_layer(SPEEDS_VILLAGES.name, spec.scope): rows,
            scoped_layer(FTTH_SPEEDS.name, spec.scope): fixed,
        }
        layer_records = [
            ProductRecord(
                id=f"{JOB}.{spec.scope or 'province'}.{catalogue_name(layer)}",
                kind="layer", job=JOB, parameters=params, area=area,
                operators=tuple(sorted({o for ops in by_technology.values() for o in ops})),
                technologies=tuple(by_technology), inputs=layer_inputs, scope=spec.scope,
                layer=layer,
            )
            for layer in layers
        ]  # fmt: skip
        made_ids = {record.id for _, record in staged} | {r.id for r in layer_records}
        gone = [
            r for r in store.products() if r.job == JOB and r.scope == spec.scope
            and r.id not in made_ids
        ]  # fmt: skip
        meta = {"scope": spec.scope, "rasters": str(rasters_dir)}
        with store.transaction() as tx:
            for layer, frame in layers.items():
                tx.write(layer, frame, metadata=meta)
            for path, record in staged:
                for part in (path, style_path(path)):
                    part.replace(rasters_dir / part.name)
                tx.register(record)
            for record in layer_records:
                tx.register(record)
            for record in gone:
                tx.unregister(record.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    remove_rasters(store.assets_dir, (record.path for record in gone))

    figures = read_figures(store, spec.scope)
    base_dir = spec.base_dir or get_settings().output_dir
    tables_dir = spec.out_dir or base_dir / JOB / spec.scope
    tables: dict[str, tuple[pd.DataFrame, str | None]] = {
        "summary": (figures.summary, None),
        "villages": (figures.villages, SPEEDS_VILLAGES.name),
        "fixed_summary": (figures.fixed_summary, None),
        "fixed": (figures.fixed, FTTH_SPEEDS.name),
    }
    names = unit_names(store.read("admin_units"))
    for name, (frame, labels) in tables.items():
        write_csv(tables_dir / f"{name}.csv", frame, labels, spec.lang, names)
    workbook = write_xlsx(tables_dir / "speeds.xlsx", tables, spec.lang, names)
    return SpeedsResult(figures, tuple(rasters_dir / p.name for p, _ in staged), workbook)


def _throughput(
    store: LayerStore,
    technology: str,
    scenes: Mapping[str, tuple[ProductRecord, ProductRecord]],
    worth: Mapping[tuple[str, str], npt.NDArray[np.float64]],
    spec: SpeedsSpec,
    rasters: _Rasters,
    villages: gpd.GeoDataFrame,
    labellers: dict[Grid, AreaLabeller],
) -> tuple[list[tuple[Path, ProductRecord]], SpeedSums]:
    """One technology's throughput COGs (each operator's of ``scenes``, operator → its SINR
    and best-server records, and the best of them) and its village sums, a window at a time:
    memory is bounded by the window, whatever the size of the grid."""
    operators = sorted(scenes)
    sums = SpeedSums.empty(len(villages), spec.targets.mobile_mbps)
    with ExitStack() as stack:
        sources = {
            operator: tuple(
                stack.enter_context(rasterio.open(_asset(store, record)))
                for record in scenes[operator]
            )
            for operator in operators
        }
        grid = _grid(sources[operators[0]][0])
        # Every raster of a scope is on the coverage's one grid: its pixels are labelled once.
        if grid not in labellers:
            labellers[grid] = AreaLabeller(villages, grid, spec.tile_px)
        labeller = labellers[grid]
        outputs = {operator: rasters.open(operator, technology, grid) for operator in operators}
        if len(operators) > 1:  # the best of one operator is that operator's raster
            outputs[ANY_OPERATOR] = rasters.open(ANY_OPERATOR, technology, grid)
        try:
            for window in grid.windows(spec.tile_px):
                target = RioWindow(window.col0, window.row0, window.width, window.height)
                mbps = {}
                for operator, (sinr, server) in sources.items():
                    sinr_record, server_record = scenes[operator]
                    mbps[operator] = throughput_raster(
                        sinr.read(sinr_record.band("sinr").index, window=target),
                        server.read(server_record.band("best_server").index, window=target),
                        worth[(operator, technology)], technology, spec.throughput,
                    )  # fmt: skip
                layers = with_any(mbps)
                for name, raster in outputs.items():
                    raster.write(window, [layers[name]])
                sums.add(labeller.labels(window), layers)
            paths = {name: raster.finish() for name, raster in outputs.items()}
            for path in paths.values():
                # QGIS opens the COG in the viewer's classes (the coverage's COGs have theirs)
                style_path(path).write_text(raster_qml(THROUGHPUT), encoding="utf-8")
        except BaseException:
            for raster in outputs.values():
                raster.discard()
            raise
    source = scenes[operators[0]][0]
    made = [
        (path, rasters.record(path, technology, source, (name,) if name in scenes else operators))
        for name, path in paths.items()
    ]
    return made, sums


def coverage_scenes(
    store: LayerStore, scope: str
) -> dict[tuple[str, str], tuple[ProductRecord, ProductRecord]]:
    """The SINR and best-server raster records of each operator's 4G and 5G in ``scope``,
    found by their bands; ``NoCoverage`` when there are none or they are out of date."""
    records = [
        r for r in store.products()
        if r.job == COVERAGE_JOB and r.kind == "raster" and len(r.operators) == 1
        and r.technologies and r.technologies[0] in THROUGHPUT_TECHNOLOGIES
    ]  # fmt: skip
    here = [r for r in records if r.scope == scope]
    pairs: dict[tuple[str, str], dict[str, ProductRecord]] = {}
    for record in here:
        names = {band.name for band in record.bands}
        kind = "sinr" if "sinr" in names else "best_server" if "best_server" in names else None
        if kind:
            pairs.setdefault((record.operators[0], record.technologies[0]), {})[kind] = record
    scenes = {
        key: (found["sinr"], found["best_server"])
        for key, found in pairs.items()
        if {"sinr", "best_server"} <= set(found)
    }
    name = scope or "province"
    if not scenes:
        others = sorted({r.scope for r in records} - {scope})
        hint = (
            f", or name one the store holds (--scope): {', '.join(s or 'province' for s in others)}"
            if others
            else ""
        )
        raise NoCoverage(
            f"chưa có vùng phủ 4G/5G ({name}) / no 4G or 5G coverage of scope {name!r}: run "
            f"`gis-planner coverage` first{hint}"
        )
    revisions = store.layer_revisions()
    if any(is_stale(r, revisions) for pair in scenes.values() for r in pair):
        raise NoCoverage(
            f"vùng phủ ({name}) đã cũ / the coverage of scope {name!r} is out of date (its cells, "
            "sites or villages changed since): run `gis-planner coverage` again"
        )
    return scenes


def server_worth(
    servers: pd.DataFrame, cells: pd.DataFrame, params: ThroughputParams
) -> dict[tuple[str, str], npt.NDArray[np.float64]]:
    """Per operator × technology, the worth (Mb/s per bit per resource element, to one user)
    of each server index's carrier; entry 0 (no server) is NaN."""
    served = servers[servers["technology"].isin(THROUGHPUT_TECHNOLOGIES)]
    joined = served.merge(
        cells[["operator", "cell_id", "band_mhz", "bandwidth_mhz"]],
        on=["operator", "cell_id"],
        how="left",
    )
    missing = joined[joined["bandwidth_mhz"].isna()]
    if len(missing):
        raise NoCoverage(
            f"{len(missing)} cells of the coverage are no longer in the cells layer (e.g. "
            f"{missing['cell_id'].iloc[0]!r}): run `gis-planner coverage` again"
        )
    # One link-budget figure per distinct carrier, not per cell.
    carriers = joined[["technology", "bandwidth_mhz", "band_mhz"]].drop_duplicates()
    carriers["worth"] = [
        carrier_mbps_per_bit(t, bw, band, params)
        for t, bw, band in carriers.itertuples(index=False)
    ]
    joined = joined.merge(carriers, on=["technology", "bandwidth_mhz", "band_mhz"])
    worth = {}
    for (operator, technology), rows in joined.groupby(["operator", "technology"]):
        table = np.full(int(rows["server_index"].max()) + 1, np.nan)
        table[rows["server_index"].to_numpy(dtype=int)] = rows["worth"].to_numpy()
        worth[(str(operator), str(technology))] = table
    return worth


def _asset(store: LayerStore, record: ProductRecord) -> Path:
    """The file of a registered raster."""
    if record.path is None:
        raise GisPlannerError(f"product {record.id!r} has no file")
    return store.assets_dir / record.path


def _grid(dataset: rasterio.io.DatasetReader) -> Grid:
    t = dataset.transform
    return Grid(t.c, t.f, t.a, dataset.width, dataset.height, dataset.crs.to_string())


@dataclass(frozen=True)
class _Rasters:
    """Opens throughput GeoTIFFs in ``directory`` and makes their records, whose paths are in
    the assets' ``folder`` the files are moved to."""

    directory: Path
    folder: str
    params: dict[str, Any]
    inputs: dict[str, int]

    def open(self, operator: str, technology: str, grid: Grid) -> _TiledRaster:
        tags = {
            "operator": operator, "technology": technology, "units": BAND.unit,
            "speeds_params": json.dumps(self.params, ensure_ascii=False),
        }  # fmt: skip
        path = self.directory / f"{operator}_{technology}_throughput.tif"
        band = RasterBand("throughput_mbps", BAND.unit)
        return _TiledRaster(path, grid, "float32", NODATA_MBPS, tags, (band,))

    def record(
        self, path: Path, technology: str, source: ProductRecord, operators: Sequence[str]
    ) -> ProductRecord:
        return ProductRecord(
            id=f"{JOB}.{source.scope or 'province'}.{path.stem}",
            kind="raster",
            job=JOB,
            parameters=self.params,
            area=source.area,
            operators=tuple(operators),
            technologies=(technology,),
            inputs=self.inputs,
            scope=source.scope,
            bands=(BAND,),
            path=f"{self.folder}/{path.name}",
        )


def _ftth(store: LayerStore, villages: gpd.GeoDataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``villages`` with their FTTH (``fibre.ftth.ftth_villages``) and the PONs the fibre
    layer names near them (``fibre.ftth.pon_reach``); none without fibre layers."""
    if not (store.has_layer("fibre_routes") and store.has_layer("fibre_nodes")):
        return villages.assign(covered=False, operators=""), pd.DataFrame(
            columns=["code", "operator", "pon"]
        )
    routes, nodes = store.read("fibre_routes"), store.read("fibre_nodes")
    assert isinstance(routes, gpd.GeoDataFrame) and isinstance(nodes, gpd.GeoDataFrame)
    return ftth_villages(villages, routes, nodes), pon_reach(villages, nodes)
