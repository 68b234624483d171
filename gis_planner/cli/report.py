"""``report``: the plan's indicators as an HTML report (vi, en) and an XLSX workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from gis_planner.cli.common import StoreOption, console, store_from
from gis_planner.errors import GisPlannerError
from gis_planner.report import write_report
from gis_planner.settings import get_settings

FIGURE_COLUMNS = ("key", "value", "as_of", "source")


def read_figures(path: Path) -> pd.DataFrame:
    """Entered figures (CSV with key, value, as_of, source); errors name the file and row."""
    try:
        figures = pd.read_csv(path, dtype={"key": str, "as_of": str, "source": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise GisPlannerError(f"{path}: cannot read the figures: {error}") from None
    missing = [c for c in FIGURE_COLUMNS if c not in figures.columns]
    if missing:
        raise GisPlannerError(f"{path}: missing columns {', '.join(missing)}")
    values = pd.to_numeric(figures["value"], errors="coerce")
    bad = figures.index[values.isna() & figures["value"].notna()]
    if len(bad):
        row = int(bad[0]) + 2  # the header is line 1
        raise GisPlannerError(
            f"{path}, row {row}, field value: {figures.loc[bad[0], 'value']!r} is not a number"
        )
    return figures.assign(value=values)


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
    if lang not in ("vi", "en", "both"):
        raise typer.BadParameter("--lang must be vi, en or both")
    target = store_from(store)
    entered = read_figures(figures) if figures else None
    folder = out or get_settings().output_dir
    for language in ("vi", "en") if lang == "both" else (lang,):
        files = write_report(target, folder, lang=language, figures=entered)
        console.print(f"[green]report[/green] {files.html}")
    console.print(f"[green]tables[/green] {files.xlsx}")


def register(app: typer.Typer) -> None:
    app.command()(report)
