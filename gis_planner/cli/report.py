"""``report``: the plan's indicators as an HTML report (vi, en) and an XLSX workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import StoreOption, console, lang_from, store_from


def report(
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="vi, en or both.")] = "both",
    figures: Annotated[
        Path | None,
        typer.Option("--figures", help="CSV of entered figures: key, value, as_of, source."),
    ] = None,
) -> None:
    """Write the indicators report (HTML that opens offline) and its tables (XLSX)."""
    from gis_planner.jobs import report as report_job
    from gis_planner.jobs.report import ReportSpec
    from gis_planner.settings import get_settings

    if lang not in ("vi", "en", "both"):
        raise typer.BadParameter("--lang must be vi, en or both")
    spec = ReportSpec(
        out_dir=out or get_settings().output_dir,
        langs=("vi", "en") if lang == "both" else (lang_from(lang),),
        figures=figures,
    )
    result = report_job.run(spec, store_from(store))
    for html in result.html:
        console.print(f"[green]report[/green] {html}")
    console.print(f"[green]tables[/green] {result.xlsx}")


def register(app: typer.Typer) -> None:
    app.command()(report)
