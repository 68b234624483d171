"""The speeds job: throughput rasters from a coverage run's SINR, village figures against the
plan's download targets (mobile 50 Mb/s, fixed 100 Mb/s and 1 Gb/s by 2030).

A run reads the coverage products of one scope (the province's by default) by their records:
each operator's SINR raster of 4G and 5G, its best-server raster and the ``coverage_servers``
layer naming the cell behind each server index, whose bandwidth and band (``cells``) set what
a bit per resource element is worth. It writes one throughput COG per operator and technology
on the SINR's grid, and one per technology of the best operator at each pixel (``any``),
registered as products whose parameters are every assumption. The village figures are
computed from the registered rasters (``figures``), which the API calls too.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import rasterio

from gis_planner.admin import unit_names
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.products import write_cog
from gis_planner.coverage.registry import JOB as COVERAGE_JOB
from gis_planner.coverage.stats import ANY_OPERATOR, label_pixels
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.ftth import ftth_villages
from gis_planner.i18n import Lang
from gis_planner.products import Band, ProductRecord, input_revisions, is_stale, scoped_layer
from gis_planner.radio.throughput import ThroughputParams, carrier_mbps_per_bit
from gis_planner.settings import get_settings
from gis_planner.speeds import (
    NODATA_MBPS,
    THROUGHPUT_TECHNOLOGIES,
    FixedParams,
    SpeedTargets,
    fixed_speeds,
    fixed_summary,
    speed_summary,
    throughput_raster,
    village_speeds,
)
from gis_planner.store import LayerStore
from gis_planner.tables import write_csv, write_xlsx

JOB = "speeds"
BAND = Band(
    1, "throughput", "throughput_mbps", "Mb/s",
    "Downlink throughput one user gets from the best server (see the record's parameters)",
)  # fmt: skip


class NoCoverage(GisPlannerError):
    """The coverage a speeds run needs has not been computed (or is out of date)."""


class NoSpeeds(GisPlannerError):
    """No throughput raster is registered for the scope asked."""


@dataclass(frozen=True)
class SpeedsSpec:
    #: The coverage run's scope (``""``: the province's, what ``gis-planner coverage`` makes).
    scope: str = ""
    throughput: ThroughputParams = field(default_factory=ThroughputParams)
    fixed: FixedParams = field(default_factory=FixedParams)
    targets: SpeedTargets = field(default_factory=SpeedTargets)
    #: Folder of the CSV/XLSX tables; default ``{base_dir}/speeds/{scope}``.
    out_dir: Path | None = None
    base_dir: Path | None = None
    lang: Lang = "vi"


@dataclass(frozen=True, eq=False)
class SpeedFigures:
    """The village figures of a scope's throughput rasters, and the fixed access."""

    scope: str
    #: One row per village × technology × operator (``speeds.village_speeds``).
    villages: pd.DataFrame
    #: By technology × operator: villages and people at the mobile target.
    summary: pd.DataFrame
    #: One row per village measured: its FTTH, PON and busy-hour download.
    fixed: pd.DataFrame
    fixed_summary: pd.DataFrame
    #: The assumptions the rasters were made with (their records' parameters).
    parameters: dict[str, Any]
    #: An input of the rasters (cells, the coverage) changed since they were made.
    stale: bool


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
    """Write and register the throughput rasters of the coverage of ``spec.scope``, then
    compute and write the village figures."""
    scenes = coverage_scenes(store, spec.scope)
    servers_layer = scoped_layer("coverage_servers", spec.scope)
    # Read before the inputs: a layer rewritten during the run makes the products stale.
    inputs = input_revisions(store.layer_revisions(), ("cells", servers_layer))
    servers = store.read(servers_layer)
    cells = store.read(
        "cells", columns=["cell_id", "operator", "technology", "band_mhz", "bandwidth_mhz"]
    )
    worth = server_worth(servers, cells, spec.throughput)
    params = parameters(spec, sorted(r.id for pair in scenes.values() for r in pair))

    rasters_dir = store.assets_dir / JOB / spec.scope
    rasters_dir.mkdir(parents=True, exist_ok=True)
    # Written aside, then moved into place with the records' commit, as the coverage does.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=rasters_dir))
    write = _Writer(staging, rasters_dir.relative_to(store.assets_dir).as_posix(), params, inputs)
    try:
        staged: list[tuple[Path, ProductRecord]] = []
        best: dict[str, npt.NDArray[np.float32]] = {}
        operators: dict[str, list[str]] = {}
        for (operator, technology), (rsrp, server) in sorted(scenes.items()):
            sinr_db, grid = _band(store, rsrp, "sinr")
            index, _ = _band(store, server, "best_server")
            mbps = throughput_raster(
                sinr_db, index, worth[(operator, technology)], technology, spec.throughput
            )
            staged.append(write(operator, technology, mbps, grid, rsrp))
            best[technology] = np.maximum(best.get(technology, mbps), mbps)
            operators.setdefault(technology, []).append(operator)
        for technology, mbps in best.items():
            if len(operators[technology]) < 2:
                continue  # the best of one operator is that operator's raster
            source = next(r for (_, t), (r, _) in scenes.items() if t == technology)
            every = tuple(sorted(operators[technology]))
            # ``grid``: every raster of a coverage run is on its one grid
            staged.append(write(ANY_OPERATOR, technology, mbps, grid, source, every))
        made = {record.id for _, record in staged}
        gone = [
            r for r in store.products() if r.job == JOB and r.scope == spec.scope
            and r.id not in made
        ]  # fmt: skip
        with store.transaction() as tx:
            for path, record in staged:
                path.replace(rasters_dir / path.name)
                tx.register(record)
            for record in gone:
                tx.unregister(record.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for record in gone:
        if record.path:
            (store.assets_dir / record.path).unlink(missing_ok=True)

    figures = read_figures(store, spec.scope)
    base_dir = spec.base_dir or get_settings().output_dir
    tables_dir = spec.out_dir or base_dir / JOB / spec.scope
    tables = {
        "summary": figures.summary,
        "villages": figures.villages,
        "fixed_summary": figures.fixed_summary,
        "fixed": figures.fixed,
    }
    names = unit_names(store.read("admin_units"))
    for name, frame in tables.items():
        write_csv(tables_dir / f"{name}.csv", frame, None, spec.lang, names)
    workbook = write_xlsx(
        tables_dir / "speeds.xlsx",
        {name: (frame, None) for name, frame in tables.items()},
        spec.lang,
        names,
    )
    return SpeedsResult(figures, tuple(rasters_dir / p.name for p, _ in staged), workbook)


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


def _band(store: LayerStore, record: ProductRecord, name: str) -> tuple[npt.NDArray[Any], Grid]:
    """The band ``name`` of a registered raster, whole, and its grid."""
    assert record.path is not None
    with rasterio.open(store.assets_dir / record.path) as dataset:
        values = dataset.read(record.band(name).index)
        t = dataset.transform
        grid = Grid(t.c, t.f, t.a, dataset.width, dataset.height, dataset.crs.to_string())
    return values, grid


@dataclass(frozen=True)
class _Writer:
    """Writes throughput COGs into ``directory`` with their records, whose paths are in the
    assets' ``folder`` the files are moved to."""

    directory: Path
    folder: str
    params: dict[str, Any]
    inputs: dict[str, int]

    def __call__(
        self,
        operator: str,
        technology: str,
        mbps: npt.NDArray[np.float32],
        grid: Grid,
        source: ProductRecord,
        operators: tuple[str, ...] = (),
    ) -> tuple[Path, ProductRecord]:
        stem = f"{operator}_{technology}_throughput"
        tags = {
            "operator": operator, "technology": technology, "units": BAND.unit,
            "speeds_params": json.dumps(self.params, ensure_ascii=False),
        }  # fmt: skip
        path = write_cog(
            self.directory / f"{stem}.tif", [mbps], grid, NODATA_MBPS, tags, ("throughput_mbps",)
        )
        record = ProductRecord(
            id=f"{JOB}.{source.scope or 'province'}.{stem}",
            kind="raster",
            job=JOB,
            parameters=self.params,
            area=source.area,
            operators=operators or (operator,),
            technologies=(technology,),
            inputs=self.inputs,
            scope=source.scope,
            bands=(BAND,),
            path=f"{self.folder}/{path.name}",
        )
        return path, record


def read_figures(store: LayerStore, scope: str = "") -> SpeedFigures:
    """The village figures of the throughput rasters registered for ``scope``, with the targets
    and fixed-access assumptions recorded with them; ``NoSpeeds`` when there are none. Fixed
    access is counted over the villages the rasters measure."""
    records = [
        r for r in store.products()
        if r.job == JOB and r.scope == scope and r.kind == "raster" and len(r.operators) == 1
    ]  # fmt: skip
    if not records:
        name = scope or "province"
        raise NoSpeeds(
            f"chưa tính tốc độ ({name}) / no speeds of scope {name!r}: run `gis-planner speeds`"
        )
    recorded = records[0].parameters
    targets = SpeedTargets(**recorded["targets"])
    fixed = dict(recorded["fixed"])
    fixed["pon_by_operator"] = tuple(tuple(pair) for pair in fixed["pon_by_operator"])
    villages = store.read("villages")
    assert isinstance(villages, gpd.GeoDataFrame)
    revisions = store.layer_revisions()
    by_technology: dict[str, list[ProductRecord]] = {}
    for record in records:
        by_technology.setdefault(record.technologies[0], []).append(record)
    labels = None
    parts = []
    # One technology's rasters in memory at a time.
    for technology, found in sorted(by_technology.items()):
        rasters = {}
        for record in found:
            rasters[record.operators[0]], grid = _band(store, record, BAND.name)
        if labels is None:
            # Every raster of a scope is on the coverage's one grid: label its pixels once.
            labels = label_pixels(villages, grid)
        parts.append(village_speeds(villages, labels, rasters, technology, targets))
    rows = pd.concat(parts, ignore_index=True)
    measured = villages[villages["code"].isin(rows["village_code"])]
    fixed_rows = fixed_speeds(_ftth(store, measured), FixedParams(**fixed), targets)
    return SpeedFigures(
        scope=scope,
        villages=rows,
        summary=speed_summary(rows),
        fixed=fixed_rows,
        fixed_summary=fixed_summary(fixed_rows, targets),
        parameters=dict(recorded),
        stale=any(is_stale(r, revisions) for r in records),
    )


def _ftth(store: LayerStore, villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """``villages`` with their FTTH (``fibre.ftth.ftth_villages``); none without fibre layers."""
    if not (store.has_layer("fibre_routes") and store.has_layer("fibre_nodes")):
        return villages.assign(covered=False, operators="")
    routes, nodes = store.read("fibre_routes"), store.read("fibre_nodes")
    assert isinstance(routes, gpd.GeoDataFrame) and isinstance(nodes, gpd.GeoDataFrame)
    return ftth_villages(villages, routes, nodes)
