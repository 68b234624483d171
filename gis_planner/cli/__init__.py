"""The ``gis-planner`` command line: a thin layer over the library.

The command modules import typer, rich's console, the standard library and light project
modules (``defaults``, ``operators``, ``i18n``, ``errors``) at their top, and the library, pandas
and the rest of the stack inside the commands that use them: ``--help`` and light commands start
without loading the numeric stack (``tests/test_cli_startup.py`` holds to it).
"""

from __future__ import annotations

import typer

from gis_planner import __version__
from gis_planner.cli import (
    coverage,
    db,
    fibre,
    importing,
    layers,
    report,
    serve,
    sharing,
    siting,
    template,
    tiles,
)
from gis_planner.cli.common import err_console
from gis_planner.errors import GisPlannerError

app = typer.Typer(
    name="gis-planner",
    help="Telecom infrastructure planning GIS (Hà Nam sample bundled).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module in (
    layers,
    importing,
    template,
    coverage,
    sharing,
    siting,
    fibre,
    report,
    tiles,
    serve,
    db,
):
    module.register(app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    # Eager: printed while the options are parsed, before a command is required.
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    pass


def main() -> None:
    """Entry point: library errors become one clear line and exit code 2."""
    try:
        app()
    except GisPlannerError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise SystemExit(2) from None
