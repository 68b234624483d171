"""``serve`` and ``hash-key``: run the API and the viewer; make the hash of an API key."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from gis_planner.apikeys import hash_key, new_key
from gis_planner.cli.common import StoreOption, console, store_from


def serve(
    store: StoreOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Serve the API (OGC API – Features, tiles, analyses) and the map viewer."""
    # Imported here: the server is the top layer, the library never depends on it.
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    try:
        settings = ApiSettings()
    except ValidationError as error:
        raise typer.BadParameter(f"settings from GIS_PLANNER_* variables: {error}") from None
    target = store_from(store)
    if not target.list_layers():
        raise typer.BadParameter(f"{target.uri} has no layers: run `gis-planner init` first")
    listen_host = host or settings.host
    listen_port = port if port is not None else settings.port
    shown = "127.0.0.1" if listen_host in ("0.0.0.0", "::") else listen_host
    console.print(f"[green]viewer[/green] http://{shown}:{listen_port}/  ({target.uri})")
    console.print(f"[green]API[/green]    http://{shown}:{listen_port}/docs")
    uvicorn.run(create_app(target, settings), host=listen_host, port=listen_port, log_level="info")


def hash_key_command(
    key: Annotated[
        str | None, typer.Argument(help="The key to hash; a new random key if omitted.")
    ] = None,
) -> None:
    """Print the scrypt hash of an API key, for GIS_PLANNER_API_KEYS (a new key if none given)."""
    if key is None:
        key = new_key()
        console.print(f"key:  {key}", highlight=False)
    console.print(f"hash: {hash_key(key)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("hash-key")(hash_key_command)
