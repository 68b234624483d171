"""The ``gis-planner`` command line: a thin layer over the library."""

from __future__ import annotations

import typer

from gis_planner import __version__
from gis_planner.cli import coverage, db, fibre, importing, layers, report, serve, sharing, siting
from gis_planner.cli.common import err_console
from gis_planner.errors import GisPlannerError

app = typer.Typer(
    name="gis-planner",
    help="Telecom infrastructure planning GIS (Hà Nam sample bundled).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module in (layers, importing, coverage, sharing, siting, fibre, report, serve, db):
    module.register(app)


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def main() -> None:
    """Entry point: library errors become one clear line and exit code 2."""
    try:
        app()
    except GisPlannerError as error:
        err_console.print(f"[red]error:[/red] {error}")
        raise SystemExit(2) from None
