"""``coverage``: best-server, SINR and village coverage of the store's cells.

A run narrowed by ``--bbox``, ``--operator`` or ``--technology`` writes products of its own
scope (layers ``coverage_*__{scope}``, rasters under ``coverage/{scope}/``) and leaves the
province's alone, unless ``--replace`` says to put it in the province product's place. Every
raster and layer written is registered in the store with the layers in one transaction.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gis_planner.catalogue.layers import TECHNOLOGIES
from gis_planner.cli.common import LangOption, StoreOption, console, lang_from, store_from
from gis_planner.coverage.analysis import VILLAGE_ADMIN_VERSION, CoverageRun, analyse
from gis_planner.coverage.products import WrittenRaster, read_for_map, rsrp_map
from gis_planner.coverage.registry import INPUT_LAYERS, coverage_records
from gis_planner.coverage.scene import CoverageParams, with_default_patterns
from gis_planner.coverage.stats import five_g_figures
from gis_planner.maps import save_map
from gis_planner.operators import MOBILE_OPERATORS, normalise_operator_name
from gis_planner.products import ProductArea, Scope, input_revisions, scoped_layer
from gis_planner.radio.antenna import load_patterns
from gis_planner.settings import get_settings
from gis_planner.tables import write_csv, write_xlsx


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    parts = text.replace(";", ",").split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise typer.BadParameter(f"--bbox {text!r}: expected four numbers") from None
    if len(values) != 4:
        raise typer.BadParameter(f"--bbox {text!r}: expected west,south,east,north")
    return values[0], values[1], values[2], values[3]


def _operators(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    keys = []
    for value in values:
        key = normalise_operator_name(value)
        if key is None or key not in MOBILE_OPERATORS:
            raise typer.BadParameter(f"--operator {value!r} is not a mobile operator")
        keys.append(key)
    return keys


def coverage(
    store: StoreOption = None,
    operator: Annotated[
        list[str] | None, typer.Option(help="Operator(s) to compute (default: all).")
    ] = None,
    technology: Annotated[
        list[str] | None, typer.Option("--technology", "--tech", help="2G, 3G, 4G or 5G.")
    ] = None,
    resolution_m: Annotated[
        float, typer.Option("--resolution-m", "--resolution", help="Pixel size (m).")
    ] = 25.0,
    bbox: Annotated[
        str | None, typer.Option(help="west,south,east,north in degrees (default: province).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker threads for the tiles.")] = 2,
    planned: Annotated[bool, typer.Option(help="Include planned cells.")] = False,
    patterns: Annotated[
        Path | None,
        typer.Option(help="Directory of the MSI/Planet files named by the cells' pattern_ref."),
    ] = None,
    map_operator: Annotated[
        str | None, typer.Option(help="Operator of the RSRP map (default: the first).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Directory of the CSV/XLSX tables and the map.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(help="Let a --bbox/--operator/--technology run replace the province's."),
    ] = False,
    lang: LangOption = "vi",
) -> None:
    """Compute coverage rasters (COG) and village statistics; write them to the store."""
    language = lang_from(lang)
    for tech in technology or []:
        if tech not in TECHNOLOGIES:
            raise typer.BadParameter(f"--technology {tech!r} is not one of {TECHNOLOGIES}")
    target = store_from(store)
    operators = _operators(operator)
    area_bbox = _bbox(bbox)
    scope = Scope(area_bbox, tuple(operators or ()), tuple(technology or ()), replace=replace)
    # Read before the inputs: a layer rewritten during the run makes its products stale.
    inputs = input_revisions(target.layer_revisions(), INPUT_LAYERS)
    params = CoverageParams(resolution_m=resolution_m, workers=workers, include_planned=planned)
    admin = target.read("admin_units")
    villages = target.read("villages")
    priority = target.read("priority_areas") if target.has_layer("priority_areas") else None
    cells = target.read("cells")
    assert isinstance(admin, gpd.GeoDataFrame) and isinstance(villages, gpd.GeoDataFrame)
    assert isinstance(cells, gpd.GeoDataFrame)
    refs = set(cells["pattern_ref"].dropna()) - {""}
    antennas, problems = load_patterns(patterns, refs)
    cells, flagged = with_default_patterns(cells, problems)
    for row in flagged.itertuples():
        console.print(
            "[yellow]default pattern[/yellow] "
            + escape(f"cell {row.cell_id} ({row.operator}): {row.pattern_ref!r}: {row.reason}")
        )
    columns = (
        TextColumn("[bold]coverage"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    rasters_dir = target.assets_dir / "coverage" / scope.key
    rasters_dir.mkdir(parents=True, exist_ok=True)
    # Written aside, then moved into place with the records' commit: a failed run leaves the
    # rasters the records describe.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=rasters_dir))
    try:
        start = time.perf_counter()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("coverage", total=None)
            run = analyse(
                cells, admin, villages,
                priority if isinstance(priority, gpd.GeoDataFrame) else None,
                params, rasters_dir=staging, operators=operators, technologies=technology,
                bbox=area_bbox, antennas=antennas,
                progress=lambda pixels: progress.advance(task, pixels),
                on_scenes=lambda total: progress.update(task, total=total),
            )  # fmt: skip
        seconds = time.perf_counter() - start
        placed = [dataclasses.replace(r, path=rasters_dir / r.path.name) for r in run.rasters]
        meta = {"resolution_m": resolution_m, "rasters": str(rasters_dir), "scope": scope.key}
        frames = {"coverage_villages": run.villages, "coverage_areas": run.areas,
                  "coverage_gaps": run.gaps, "coverage_servers": run.servers}  # fmt: skip
        layers = {name: scoped_layer(name, scope.key) for name in frames}
        provinces = admin[(admin["level"] == "province")
                          & (admin["admin_version"] == VILLAGE_ADMIN_VERSION)]  # fmt: skip
        by_technology: dict[str, list[str]] = {}
        for raster in _operator_rsrp(placed):
            by_technology.setdefault(raster.technology, []).append(raster.operator)
        with target.transaction() as tx:
            for name, frame in frames.items():
                tx.write(layers[name], frame, metadata=meta)
            for staged, raster in zip(run.rasters, placed, strict=True):
                staged.path.replace(raster.path)
            for record in coverage_records(
                scope=scope, params=params, inputs=inputs, rasters=[r.path for r in placed],
                layers=layers, area=ProductArea(tuple(provinces["code"]), area_bbox),
                assets_dir=target.assets_dir, operators_by_technology=by_technology,
            ):  # fmt: skip
                tx.register(record)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tables_dir = out or get_settings().output_dir / "coverage" / scope.key
    tables = {"villages": run.villages, "areas": run.areas, "gaps": run.gaps}
    for name, frame in tables.items():
        write_csv(tables_dir / f"{name}.csv", frame, f"coverage_{name}", language)
    workbook = write_xlsx(
        tables_dir / "coverage.xlsx",
        {name: (frame, f"coverage_{name}") for name, frame in tables.items()},
        language,
    )
    map_path = _write_map(placed, map_operator, admin, tables_dir, language)
    _summary(run, seconds, rasters_dir, len(placed), workbook, map_path)


def _operator_rsrp(rasters: list[WrittenRaster]) -> list[WrittenRaster]:
    """Each operator's RSRP raster (one per operator and technology), composites left out."""
    return [r for r in rasters if r.operator != "any" and r.bands[0].name == "best_rsrp_dbm"]


def _write_map(
    rasters: list[WrittenRaster],
    operator: str | None,
    admin: gpd.GeoDataFrame,
    directory: Path,
    lang: str,
) -> Path | None:
    wanted = normalise_operator_name(operator) if operator else None
    candidates = [r for r in _operator_rsrp(rasters) if wanted in (None, r.operator)]
    # 4G first: the technology of the broadband target
    candidates.sort(key=lambda r: (r.technology != "4G", r.operator))
    if not candidates:
        return None
    raster = candidates[0]
    province = admin[(admin["level"] == "province") & (admin["admin_version"] == "pre2025")]
    title = f"{raster.operator} {raster.technology}"
    rsrp, grid = read_for_map(raster.path)
    fmap = rsrp_map(rsrp, grid, title, province, "vi" if lang == "vi" else "en")
    return save_map(fmap, directory / f"rsrp_{raster.operator}_{raster.technology}.html")


def _summary(
    run: CoverageRun,
    seconds: float,
    rasters_dir: Path,
    n_rasters: int,
    xlsx: Path,
    map_path: Path | None,
) -> None:
    table = Table(
        title=f"coverage {run.grid.width}×{run.grid.height} px at {run.grid.resolution_m:g} m"
    )
    for name in (
        "operator",
        "tech",
        "cells",
        "area ≥ thr.",
        "population ≥ thr.",
        "villages covered",
    ):
        table.add_column(name, justify="right" if name != "operator" else "left")
    province = run.areas[run.areas["level"] == "province"]
    for row in province.sort_values(["technology", "operator"]).itertuples():
        n_cells = sum(s.n_cells for s in run.scenes if s.technology == row.technology
                      and row.operator in ("any", s.operator))  # fmt: skip
        table.add_row(
            str(row.operator), str(row.technology), f"{n_cells:,}", f"{row.area_share:.1%}",
            f"{row.population_share:.1%}", f"{int(row.villages_covered):,}/{int(row.villages):,}",
        )  # fmt: skip
    console.print(table)
    five_g = five_g_figures(run.areas)
    for row in five_g[five_g["level"] != "priority_area"].itertuples():
        console.print(f"5G population share {row.name}: {row.population_share:.1%}")
    priority = five_g[five_g["level"] == "priority_area"]
    if not priority.empty:
        reached = int((priority["area_share"] >= 0.95).sum())
        console.print(f"5G priority areas ≥ 95 % of area: {reached}/{len(priority)}")
    gaps_4g = run.gaps[run.gaps["technology"] == "4G"]
    console.print(
        f"4G gaps: {len(gaps_4g)} villages, "
        f"{int(gaps_4g['population'].sum()):,} people below target"
    )
    console.print(
        f"[green]computed[/green] {run.evaluations:,} pixel × cell evaluations in {seconds:.1f} s; "
        f"{n_rasters} rasters in {rasters_dir}; tables {xlsx}"
        + (f"; map {map_path}" if map_path else "")
    )


def register(app: typer.Typer) -> None:
    app.command()(coverage)
