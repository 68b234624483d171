"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from gis_planner.i18n import Lang

if TYPE_CHECKING:
    from gis_planner.store import LayerStore

console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Layer store (.gpkg); default GIS_PLANNER_STORE or output/hanam.gpkg."
    ),
]
LangOption = Annotated[str, typer.Option("--lang", help="Language of labels: vi or en.")]


def store_from(path: Path | None) -> LayerStore:
    from gis_planner.settings import get_settings
    from gis_planner.store import open_store

    return open_store(path or get_settings().store)


def lang_from(value: str) -> Lang:
    if value not in ("vi", "en"):
        raise typer.BadParameter("--lang must be vi or en")
    return "vi" if value == "vi" else "en"
