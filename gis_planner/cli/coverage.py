"""``coverage``: best-server, SINR and village coverage of the store's cells (the coverage
job, ``gis_planner.jobs.coverage``, with a progress bar and a summary)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    bbox_option,
    console,
    crs_option,
    fail,
    lang_from,
    operator_key,
    output_dir,
    required_layers,
    store_from,
    t,
)
from gis_planner.defaults import (
    DEFAULT_K_FACTOR,
    DEFAULT_RETRIES,
    DEFAULT_SCHEDULER,
    TECHNOLOGIES,
    VILLAGE_ADMIN_VERSION,
)

if TYPE_CHECKING:
    from gis_planner.jobs.coverage import CoverageResult


def _operators(values: list[str] | None) -> list[str] | None:
    return [operator_key(v, "--operator", mobile=True) for v in values] if values else None


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
    scheduler: Annotated[
        str,
        typer.Option(
            help="Where the tiles run: in-process (the --workers threads), local:N (a Dask "
            "cluster of N worker processes) or tcp://host:port (a running Dask scheduler); "
            "Dask only for the last two."
        ),
    ] = DEFAULT_SCHEDULER,
    retries: Annotated[
        int, typer.Option(min=0, help="Times a failed tile task is run again on a Dask cluster.")
    ] = DEFAULT_RETRIES,
    resume: Annotated[
        bool,
        typer.Option(
            help="Keep finished tiles on disk while running, and start from those of an "
            "interrupted run of the same inputs."
        ),
    ] = False,
    planned: Annotated[bool, typer.Option(help="Include planned cells.")] = False,
    patterns: Annotated[
        Path | None,
        typer.Option(help="Directory of the MSI/Planet files named by the cells' pattern_ref."),
    ] = None,
    terrain: Annotated[
        Path | None,
        typer.Option(
            help="Elevation raster (GeoTIFF/COG, SRTM .hgt, VRT) covering the area: adds the "
            "terrain's diffraction loss (default: level ground)."
        ),
    ] = None,
    clutter: Annotated[
        Path | None,
        typer.Option(help="Land-cover raster (with --terrain and --clutter-table)."),
    ] = None,
    clutter_table: Annotated[
        Path | None,
        typer.Option(
            help="CSV of the land-cover classes: class,height_m,loss_db (clutter height on "
            "the paths, extra loss at the receiver)."
        ),
    ] = None,
    k_factor: Annotated[
        float, typer.Option(help="Effective earth radius factor of the terrain's diffraction.")
    ] = DEFAULT_K_FACTOR,
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
    lang: LangOption = None,
) -> None:
    """Compute coverage rasters (COG) and village statistics; write them to the store."""
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gis_planner.jobs import coverage as coverage_job
    from gis_planner.jobs.coverage import CoverageSpec

    for tech in technology or []:
        if tech not in TECHNOLOGIES:
            fail(
                t("--technology {tech!r} is not one of {known}").format(
                    tech=tech, known=", ".join(TECHNOLOGIES)
                )
            )
    if crs is not None:
        crs_option(crs, metric=True)
    if (clutter is None) != (clutter_table is None) or (clutter and terrain is None):
        fail(t("--clutter and --clutter-table go together, with --terrain"))
    target = store_from(store)
    required_layers(target, ("admin_units", "cells"))
    spec = CoverageSpec(
        resolution_m=resolution_m,
        operators=tuple(_operators(operator) or ()),
        technologies=tuple(technology or ()),
        area_codes=tuple(area or ()),
        admin_version=admin_version,
        bbox=bbox_option(bbox),
        crs=crs,
        include_planned=planned,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        resume=resume,
        patterns_dir=patterns,
        terrain=terrain,
        clutter=clutter,
        clutter_table=clutter_table,
        k_factor=k_factor,
        replace=replace,
        out_dir=out,
        base_dir=output_dir(None, target),
        map_operator=operator_key(map_operator, "--map-operator") if map_operator else None,
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
            target,
            progress=lambda pixels: progress.advance(task, pixels),
            on_scenes=lambda total: progress.update(task, total=total),
            on_dashboard=lambda link: progress.console.print(
                t("Dask dashboard: {link}").format(link=link)
            ),
        )
    if result.run.resumed_tiles:
        console.print(
            t("resumed: {count} finished tiles of an interrupted run read back").format(
                count=result.run.resumed_tiles
            )
        )
    for row in result.default_patterns.itertuples():
        console.print(
            f"[yellow]{t('default pattern')}[/yellow] "
            + escape(f"cell {row.cell_id} ({row.operator}): {row.pattern_ref!r}: {row.reason}")
        )
    for dropped in result.dropped:
        console.print(
            f"[yellow]{t('dropped')}[/yellow] {escape(dropped)}: "
            + t("no longer made by this scope")
        )
    _summary(result)


def _summary(result: CoverageResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    run = result.run
    table = Table(
        title=t("coverage {width}×{height} px at {resolution} m ({crs})").format(
            width=run.grid.width,
            height=run.grid.height,
            resolution=f"{run.grid.resolution_m:g}",
            crs=run.grid.crs,
        )
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
        table.add_column(t(name), justify="right" if name not in ("area", "operator") else "left")
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
        console.print(
            t("5G population share {name}: {share}").format(
                name=escape(str(row.name)), share=f"{row.population_share:.1%}"
            )
        )
    priority = five_g[five_g["level"] == "priority_area"]
    if not priority.empty:
        reached = int((priority["area_share"] >= 0.95).sum())
        console.print(
            t("5G priority areas ≥ 95 % of area: {reached}/{total}").format(
                reached=reached, total=len(priority)
            )
        )
    gaps_4g = run.gaps[run.gaps["technology"] == "4G"]
    console.print(
        t("4G gaps: {villages} villages, {people} people below target").format(
            villages=len(gaps_4g), people=f"{int(gaps_4g['population'].sum()):,}"
        )
    )
    console.print(
        f"[green]{t('computed')}[/green] "
        + t(
            "{evaluations} pixel × cell evaluations in {duration}; {rasters} rasters in {folder}"
        ).format(
            evaluations=f"{run.evaluations:,}",
            duration=_duration(result.seconds),
            rasters=len(result.rasters),
            folder=result.rasters_dir,
        )
        + f"; {t('tables')} {result.workbook}"
        + (f"; {t('map')} {result.map}" if result.map else "")
    )


def _duration(seconds: float) -> str:
    # A small run takes milliseconds: "0.0 s" would hide what start-up costs beside it.
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def register(app: typer.Typer) -> None:
    app.command()(coverage)
