"""``template`` and ``columns``: the Excel template of a layer, and the README's columns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import console
from gis_planner.defaults import TEMPLATE_LAYERS


def template_command(
    layer: Annotated[str, typer.Argument(help=f"One of: {', '.join(TEMPLATE_LAYERS)}.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Workbook to write (default: mau_<layer>.xlsx)."),
    ] = None,
) -> None:
    """Write an Excel template for LAYER: Vietnamese headers (English below), drop-down lists
    of the allowed values, an example row and a sheet explaining every column."""
    from gis_planner.io.template import write_template

    path = write_template(layer, output or Path(f"mau_{layer}.xlsx"))
    console.print(f"template: {path}")


def columns_command(
    readme: Annotated[
        Path | None,
        typer.Option("--readme", help="Rewrite the generated columns section of this README."),
    ] = None,
) -> None:
    """Print the columns, units and allowed values of each template layer (Markdown), or
    rewrite the README's section with them."""
    from gis_planner.io.template import columns_markdown, update_readme

    if readme is None:
        console.print(columns_markdown(), markup=False, highlight=False)
        return
    changed = update_readme(readme)
    console.print(f"{readme}: {'updated' if changed else 'already up to date'}")


def register(app: typer.Typer) -> None:
    app.command("template")(template_command)
    app.command("columns")(columns_command)
