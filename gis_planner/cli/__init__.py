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
    export,
    fibre,
    importing,
    industry,
    layers,
    link,
    passive,
    report,
    serve,
    sharing,
    siting,
    speeds,
    switchoff,
    template,
    tiles,
    whatif,
)
from gis_planner.cli.common import LangOption, LocalisedGroup, error_hint, fail
from gis_planner.errors import GisPlannerError

app = typer.Typer(
    cls=LocalisedGroup,
    name="gis-planner",
    help="Telecom infrastructure planning GIS (the new Ninh Bình province bundled as a sample).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Click's plain help: typer's rich help imports rich's markdown renderer (about 0.3 s of
    # a start that is to take under half a second).
    rich_markup_mode=None,
)

for module in (
    layers,
    importing,
    template,
    coverage,
    speeds,
    sharing,
    siting,
    switchoff,
    industry,
    passive,
    whatif,
    link,
    fibre,
    report,
    export,
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
    lang: LangOption = None,
) -> None:
    # ``--lang`` here or after the command: read from the whole command line before parsing
    # (``LocalisedGroup.main``), so that the help is in that language too.
    pass


def main() -> None:
    """Entry point: library errors become one clear line, a hint, and exit code 2."""
    try:
        app()
    except GisPlannerError as error:  # raised outside a command (the group catches the rest)
        try:
            fail(str(error), error_hint(error))
        except typer.Exit as stop:
            raise SystemExit(stop.exit_code) from None
