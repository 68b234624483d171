"""``tiles export``: layers of the store as one vector tile archive for static servers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from gis_planner.cli.common import StoreOption, console, output_dir, store_from

tiles = typer.Typer(help="Vector tile archives (PMTiles, MBTiles).", no_args_is_help=True)


@tiles.command("export")
def export(
    layers: Annotated[list[str], typer.Argument(help="Layers to put in the archive.")],
    store: StoreOption = None,
    fmt: Annotated[
        Literal["pmtiles", "mbtiles"], typer.Option("--format", help="pmtiles or mbtiles.")
    ] = "pmtiles",
    minzoom: Annotated[int, typer.Option(help="Lowest zoom.")] = 0,
    maxzoom: Annotated[int, typer.Option(help="Highest zoom.")] = 14,
    out: Annotated[Path | None, typer.Option(help="Archive to write.")] = None,
) -> None:
    """Write the layers' tiles, every zoom from --minzoom to --maxzoom, into one file that any
    static web server, QGIS or MapLibre can read. Every field of the layers goes in: export only
    what may be published."""
    from gis_planner.jobs import tiles as tiles_job

    target = store_from(store)
    spec = tiles_job.TilesSpec(
        layers=tuple(layers),
        out=out or output_dir(None, target) / f"{'_'.join(layers)}.{fmt}",
        format=fmt,
        minzoom=minzoom,
        maxzoom=maxzoom,
    )
    summary = tiles_job.run(spec, target)
    console.print(
        f"[green]tiles[/green] {summary.path}: {summary.tiles:,} tiles, z{summary.minzoom}–"
        f"z{summary.maxzoom}, {summary.bytes / 1e6:.1f} MB"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tiles, name="tiles")
