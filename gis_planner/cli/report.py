"""``report``: the plan's indicators as an HTML report (vi, en) and an XLSX workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import StoreOption, console, fail, lang_from, output_dir, store_from, t


def report(
    store: StoreOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="vi, en or both.")] = "both",
    figures: Annotated[
        Path | None,
        typer.Option("--figures", help="CSV of entered figures: key, value, as_of, source."),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(
            "--area",
            help="Code of the unit to report on (a former province such as 35, a 2025 commune); "
            "default the whole store.",
        ),
    ] = None,
    admin_version: Annotated[
        str,
        typer.Option(
            "--admin-version", help="Administrative version of --area: pre2025 or 2025-07."
        ),
    ] = "pre2025",
) -> None:
    """Write the indicators report (HTML that opens offline) and its tables (XLSX)."""
    from gis_planner.jobs import report as report_job
    from gis_planner.jobs.report import ReportSpec

    if lang not in ("vi", "en", "both"):
        fail(t("--lang must be vi, en or both"))
    target = store_from(store)
    spec = ReportSpec(
        out_dir=output_dir(out, target),
        langs=("vi", "en") if lang == "both" else (lang_from(lang),),
        figures=figures,
        area=(admin_version, area) if area else None,
    )
    result = report_job.run(spec, target)
    for html in result.html:
        console.print(f"[green]{t('report')}[/green] {html}")
    console.print(f"[green]{t('tables')}[/green] {result.xlsx}")


def register(app: typer.Typer) -> None:
    app.command()(report)
