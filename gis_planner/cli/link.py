"""``link``: the terrain profile of a microwave hop between two sites, or of a batch of hops."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_planner.cli.common import (
    LangOption,
    StoreOption,
    console,
    fail,
    lang_from,
    operator_key,
    output_dir,
    required_layers,
    store_from,
    t,
)

if TYPE_CHECKING:
    from gis_planner.jobs.link import LinkResult

#: Colours of the verdicts in the terminal.
_COLOURS = {"clear": "green", "marginal": "yellow", "obstructed": "red"}


def _k_factor(text: str) -> float:
    """``4/3``, ``1.33`` or ``2/3``: the effective earth radius factor."""
    try:
        if "/" in text:
            top, bottom = text.split("/", 1)
            return float(top) / float(bottom)
        return float(text)
    except (ValueError, ZeroDivisionError):
        fail(
            t("--k-factor {text!r}: expected a number or a fraction such as 4/3").format(text=text)
        )


def _show(result: LinkResult) -> None:
    from rich.markup import escape
    from rich.table import Table

    from gis_planner.radio.itm import WARNING_TEXT

    p = result.profile
    title = t("Link {a} – {b}").format(a=result.a.site_id, b=result.b.site_id)
    summary = Table(title=escape(title))
    summary.add_column(t("figure"))
    summary.add_column(t("value"), justify="right")
    rows = [
        ("length (km)", f"{p.length_m / 1000:.3f}"),
        ("antenna heights (m)", f"{result.a.antenna_m:g} / {result.b.antenna_m:g}"),
        ("frequency (GHz)", f"{p.params.freq_ghz:g}"),
        ("k-factor", f"{p.params.k_factor:.3f}"),
        ("profile step (m)", f"{p.step_m:.1f}"),
        ("minimum clearance (F1)", f"{p.min_clearance_f1:.2f}"),
        ("minimum clearance (m)", f"{p.min_clearance_m:.1f}"),
        ("at distance (m)", f"{p.worst_distance_m:,.0f}"),
        ("free-space loss (dB)", f"{p.free_space_loss_db:.1f}"),
        ("diffraction loss, Bullington (dB)", f"{p.bullington_loss_db:.1f}"),
        ("diffraction loss, worst knife edge (dB)", f"{p.knife_edge_loss_db:.1f}"),
        ("basic loss, Longley–Rice ITM (dB)", f"{p.itm.basic_loss_db:.1f}"),
    ]
    for label, value in rows:
        summary.add_row(t(label), value)
    if p.itm.warning:
        summary.add_row(t("ITM warning"), f"[yellow]{t(WARNING_TEXT[p.itm.warning])}[/yellow]")
    colour = _COLOURS[p.verdict]
    summary.add_row(t("verdict"), f"[{colour}]{t(p.verdict)}[/{colour}]")
    console.print(summary)
    if p.obstacles:
        table = Table(title=t("Obstacles in {f:g} F1").format(f=p.params.clearance_fraction))
        for column in ("distance (m)", "from – to (m)", "terrain (m)", "clearance (m)",
                       "clearance (F1)"):  # fmt: skip
            table.add_column(t(column), justify="right")
        for o in p.obstacles:
            table.add_row(
                f"{o.distance_m:,.0f}", f"{o.start_m:,.0f} – {o.end_m:,.0f}",
                f"{o.terrain_m:.1f}", f"{o.clearance_m:.1f}", f"{o.clearance_f1:.2f}",
            )  # fmt: skip
        console.print(table)


def link(
    site_a: Annotated[str | None, typer.Argument(help="Site id at one end of the hop.")] = None,
    site_b: Annotated[str | None, typer.Argument(help="Site id at the other end.")] = None,
    terrain: Annotated[
        Path | None,
        typer.Option(
            "--terrain",
            help="Elevation raster (GeoTIFF/COG, SRTM .hgt, VRT); default GIS_PLANNER_TERRAIN.",
        ),
    ] = None,
    freq_ghz: Annotated[float, typer.Option("--freq-ghz", help="Carrier (GHz).")] = 15.0,
    k_factor: Annotated[
        str, typer.Option("--k-factor", help="Effective earth radius factor (4/3, 2/3, 1.2…).")
    ] = "4/3",
    height_a_m: Annotated[
        float | None,
        typer.Option("--antenna-height-a", help="Antenna height at A (m); default the site's."),
    ] = None,
    height_b_m: Annotated[
        float | None,
        typer.Option("--antenna-height-b", help="Antenna height at B (m); default the site's."),
    ] = None,
    clearance_fraction: Annotated[
        float,
        typer.Option("--clearance-fraction", help="Share of the first Fresnel zone to keep clear."),
    ] = 0.6,
    operator: Annotated[
        str | None,
        typer.Option("--operator", help="The sites' operator, where two use the same site id."),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help="A CSV of hops (site_a, site_b[, freq_ghz, height_a_m, height_b_m]) instead "
            "of SITE_A SITE_B.",
        ),
    ] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Draw the profile to this PNG.")] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the profile's samples to this CSV.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="The batch's verdicts (.csv or .xlsx); default beside the store."
        ),
    ] = None,
    store: StoreOption = None,
    lang: LangOption = None,
) -> None:
    """The terrain profile of a microwave hop: line of sight, first Fresnel zone, clearance,
    obstacles, diffraction, free-space and Longley–Rice (ITM) loss, and a verdict (clear,
    marginal, obstructed).

    A batch (--batch) writes one verdict a hop and rejects the rows it cannot profile, with
    their row and reason (exit code 1 when a row was rejected).
    """
    import dataclasses

    from gis_planner.jobs import link as job
    from gis_planner.radio.linkprofile import LinkParams
    from gis_planner.settings import get_settings

    products_lang = lang_from(lang)
    dem = terrain or get_settings().terrain
    if dem is None:
        fail(t("no elevation raster"), t("give --terrain or set GIS_PLANNER_TERRAIN"))
    if (batch is None) == (site_a is None or site_b is None):
        fail(t("give SITE_A SITE_B, or --batch FILE"))
    params = LinkParams(freq_ghz, _k_factor(k_factor), clearance_fraction)
    key = operator_key(operator) if operator else None
    target = store_from(store)
    required_layers(target, ("sites",))
    spec = job.LinkSpec(site_a or "", site_b or "", dem, params, height_a_m, height_b_m, key)
    if batch is None:
        result = job.run(spec, target)
        _show(result)
        if png is not None:
            console.print(
                f"[green]{t('profile')}[/green] {job.draw_profile(result, png, products_lang)}"
            )
        if csv is not None:
            console.print(
                f"[green]{t('samples')}[/green] {job.write_table(job.samples(result), csv)}"
            )
        return

    from rich.markup import escape
    from rich.table import Table

    hops = job.read_hops(batch)
    found = job.run_batch(hops, dem, target, dataclasses.replace(spec, site_a="", site_b=""))
    verdicts = out or output_dir(None, target) / f"{batch.stem}.links.xlsx"
    job.write_table(found.verdicts, verdicts)
    counts = found.verdicts["verdict"].value_counts()
    console.print(
        t("{n} hops: {clear} clear, {marginal} marginal, {obstructed} obstructed").format(
            n=len(found.verdicts), **{v: int(counts.get(v, 0)) for v in _COLOURS}
        )
    )
    console.print(f"[green]{t('verdicts')}[/green] {verdicts}")
    if found.rejects.empty:
        return
    rejects = job.write_table(found.rejects, verdicts.with_name(f"{verdicts.stem}.rejects.csv"))
    table = Table(title=t("{n} hops rejected").format(n=len(found.rejects)))
    for column in ("row", "site_a", "site_b", "reason"):
        table.add_column(t(column))
    for row in found.rejects.itertuples(index=False):
        # the file's text is shown as it is, never read as markup
        table.add_row(str(row.row), escape(row.site_a), escape(row.site_b), escape(row.reason))
    console.print(table)
    console.print(f"[yellow]{t('rejected rows')}[/yellow] {rejects}")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("link")(link)
