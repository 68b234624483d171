"""``coverage``: best-server, SINR and village coverage of the store's cells (the coverage
job, ``gis_planner.jobs.coverage``, with a progress bar and a summary)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_planner.cli.common import LangOption, StoreOption, console, lang_from, store_from
from gis_planner.defaults import TECHNOLOGIES, VILLAGE_ADMIN_VERSION
from gis_planner.operators import MOBILE_OPERATORS, normalise_operator_name

if TYPE_CHECKING:
    from gis_planner.jobs.coverage import CoverageResult


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
    area: Annotated[
        list[str] | None,
        typer.Option(
            help="Admin unit code(s) making the area (any level; default: every province)."
        ),
    ] = None,
    admin_version: Annotated[
        str, typer.Option(help="Administrative version of the --area codes.")
    ] = VILLAGE_ADMIN_VERSION,
    bbox: Annotated[
        str | None, typer.Option(help="west,south,east,north in degrees (default: the area).")
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(help="Metric CRS of the grid, e.g. EPSG:5897 (default: the area's UTM zone)."),
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
        typer.Option(
            help="Let a narrowed run (--area/--bbox/--operator/--technology) replace "
            "the store-wide products."
        ),
    ] = False,
    lang: LangOption = "vi",
) -> None:
    """Compute coverage rasters (COG) and village statistics; write them to the store."""
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gis_planner.jobs import coverage as coverage_job
    from gis_planner.jobs.coverage import CoverageSpec

    for tech in technology or []:
        if tech not in TECHNOLOGIES:
            raise typer.BadParameter(f"--technology {tech!r} is not one of {TECHNOLOGIES}")
    if crs is not None and not _is_metric(crs):
        raise typer.BadParameter(f"--crs {crs!r} is not a projected CRS in metres")
    spec = CoverageSpec(
        resolution_m=resolution_m,
        operators=tuple(_operators(operator) or ()),
        technologies=tuple(technology or ()),
        area_codes=tuple(area or ()),
        admin_version=admin_version,
        bbox=_bbox(bbox),
        crs=crs,
        include_planned=planned,
        workers=workers,
        patterns_dir=patterns,
        replace=replace,
        out_dir=out,
        map_operator=normalise_operator_name(map_operator) if map_operator else None,
        lang=lang_from(lang),
    )
    columns = (
        TextColumn("[bold]coverage"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("coverage", total=None)
        result = coverage_job.run(
            spec,
            store_from(store),
            progress=lambda pixels: progress.advance(task, pixels),
            on_scenes=lambda total: progress.update(task, total=total),
        )
    for row in result.default_patterns.itertuples():
        console.print(
            "[yellow]default pattern[/yellow] "
            + escape(f"cell {row.cell_id} ({row.operator}): {row.pattern_ref!r}: {row.reason}")
        )
    for dropped in result.dropped:
        console.print(f"[yellow]dropped[/yellow] {escape(dropped)}: no longer made by this scope")
    _summary(result)


def _is_metric(crs: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        return False
    return parsed.is_projected and all(
        axis.unit_name in ("metre", "meter") for axis in parsed.axis_info
    )


def _summary(result: CoverageResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    run = result.run
    table = Table(
        title=f"coverage {run.grid.width}×{run.grid.height} px at {run.grid.resolution_m:g} m "
        f"({run.grid.crs})"
    )
    for name in (
        "area",
        "operator",
        "tech",
        "cells",
        "area ≥ thr.",
        "population ≥ thr.",
        "villages covered",
    ):
        table.add_column(name, justify="right" if name not in ("area", "operator") else "left")
    provinces = run.areas[run.areas["level"] == "province"]
    for row in provinces.sort_values(["code", "technology", "operator"]).itertuples():
        n_cells = sum(s.n_cells for s in run.scenes if s.technology == row.technology
                      and row.operator in ("any", s.operator))  # fmt: skip
        table.add_row(
            escape(str(row.name)), str(row.operator), str(row.technology), f"{n_cells:,}",
            f"{row.area_share:.1%}", f"{row.population_share:.1%}",
            f"{int(row.villages_covered):,}/{int(row.villages):,}",
        )  # fmt: skip
    console.print(table)
    five_g = result.five_g
    for row in five_g[five_g["level"] != "priority_area"].itertuples():
        console.print(f"5G population share {escape(str(row.name))}: {row.population_share:.1%}")
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
        f"[green]computed[/green] {run.evaluations:,} pixel × cell evaluations in "
        f"{_duration(result.seconds)}; {len(result.rasters)} rasters in {result.rasters_dir}; "
        f"tables {result.workbook}" + (f"; map {result.map}" if result.map else "")
    )


def _duration(seconds: float) -> str:
    # A small run takes milliseconds: "0.0 s" would hide what start-up costs beside it.
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def register(app: typer.Typer) -> None:
    app.command()(coverage)
