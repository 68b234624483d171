"""``init``, ``layers`` and ``map``: build the store from the bundled sample and look at it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    console,
    lang_from,
    output_dir,
    store_from,
    t,
)


def init(
    store: StoreOption = None,
    sample: Annotated[
        str | None,
        typer.Option(
            help="Bundled sample: ninhbinh (the whole new province) or hanam (the former Hà Nam "
            "province alone); default GIS_PLANNER_SAMPLE or ninhbinh."
        ),
    ] = None,
    sample_dir: Annotated[
        Path | None, typer.Option(help="Directory of a sample's layer files (instead of --sample).")
    ] = None,
) -> None:
    """Build the store from a bundled sample (validated, in one transaction)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from gis_planner.sample import bundled_sample_dir, load_sample, sample_files
    from gis_planner.settings import get_settings

    if sample and sample_dir:
        raise typer.BadParameter("give --sample or --sample-dir, not both")
    source = sample_dir or (bundled_sample_dir(sample) if sample else get_settings().sample_dir)
    target = store_from(store, create=True)
    names = list(sample_files(source))
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("init", total=len(names))

        def step(name: str) -> None:
            progress.update(task, description=f"init: {name}", advance=1)

        counts = load_sample(target, source, progress=step)
    console.print(
        f"[green]{t('store')}[/green] {target.uri}: "
        + t("{rows} rows in {layers} layers").format(
            rows=f"{sum(counts.values()):,}", layers=len(counts)
        )
    )


def layers(store: StoreOption = None, lang: LangOption = None) -> None:
    """List the store's layers with their counts, extents and breakdowns."""
    from rich.table import Table

    from gis_planner.jobs import overview

    target = store_from(store)
    table = Table(title=target.uri)
    table.add_column(t("layer"), no_wrap=True)
    table.add_column(t("geometry"), no_wrap=True)
    table.add_column(t("count"), justify="right", no_wrap=True)
    table.add_column(t("label · breakdown · extent (lon/lat)"), overflow="fold", ratio=1)
    rows_shown = 0
    for summary in overview.inventory(overview.InventorySpec(lang_from(lang)), target):
        info = summary.info
        extent = "{:.4f} {:.4f} – {:.4f} {:.4f}".format(*info.bounds) if info.bounds else ""
        label = f"[bold]{summary.label}[/bold]" if summary.label else ""
        parts = (label, summary.breakdown, extent)
        details = "\n".join(part for part in parts if part)
        rows_shown += 1
        table.add_row(info.name, info.geometry_type or t("table"), f"{info.count:,}", details)
    console.print(table)
    if not rows_shown:
        console.print(
            t(
                "the store has no layers: `gis-planner init --store {uri}` loads the bundled sample"
            ).format(uri=target.uri)
        )


def map_command(
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option(help="HTML file to write.")] = None,
    lang: LangOption = None,
) -> None:
    """Write the overview map of every layer (HTML that opens with no internet)."""
    from gis_planner.jobs import overview

    target = store_from(store)
    spec = overview.MapSpec(out or output_dir(None, target) / "overview_map.html", lang_from(lang))
    path = overview.write_map(spec, target)
    console.print(f"[green]{t('map')}[/green] {path}")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(layers)
    app.command("map")(map_command)
