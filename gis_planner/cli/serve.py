"""``serve`` and ``hash-key``: run the API and the viewer; make an API key and its hash."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer

from gis_planner.cli.common import StoreOption, console, store_from
from gis_planner.defaults import DEFAULT_ACCESS_LOG, AccessLog
from gis_planner.errors import GisPlannerError
from gis_planner.operators import OPERATOR_KEYS


def serve(
    store: StoreOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    access_log: Annotated[
        AccessLog,
        typer.Option(
            "--access-log",
            envvar="GIS_PLANNER_ACCESS_LOG",
            help="Log of requests: off, text (uvicorn's lines) or json (a JSON object a line: "
            "time, client, method, path without the query string, status, duration_ms).",
        ),
    ] = DEFAULT_ACCESS_LOG,
) -> None:
    """Serve the API (OGC API – Features, tiles, analyses) and the map viewer."""
    from pydantic import ValidationError

    # Imported here: the server is the top layer, the library never depends on it.
    from api.app import create_app
    from api.serving import run
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
    run(create_app(target, settings), settings, listen_host, listen_port, access_log)


def hash_key_command(
    # No default role: an operator's key printed as an admin's by mistake would be pasted.
    role: Annotated[Literal["operator", "admin"], typer.Option(help="Role of the key.")],
    key: Annotated[
        str | None,
        typer.Argument(help="The key (gp_<id>_<secret>) to hash; a new random key if omitted."),
    ] = None,
    name: Annotated[str, typer.Option(help="Holder of the key, e.g. 'Viettel Hà Nam'.")] = "",
    operator: Annotated[
        str | None, typer.Option(help=f"Operator of an operator key: {', '.join(OPERATOR_KEYS)}.")
    ] = None,
) -> None:
    """Print an API key's id, its scrypt hash and its entry of GIS_PLANNER_API_KEYS (a new key
    if none is given)."""
    from gis_planner.apikeys import hash_key, key_id, new_key

    if role == "operator" and operator not in OPERATOR_KEYS:
        raise typer.BadParameter(
            f"role operator needs --operator, one of {', '.join(OPERATOR_KEYS)}"
        )
    if key is None:
        key = new_key()
        console.print(f"key: {key}", highlight=False, soft_wrap=True)
    try:
        hashed = hash_key(key)
    except GisPlannerError as error:
        raise typer.BadParameter(str(error)) from None
    found_id = key_id(key)
    owner = {"operator": operator} if role == "operator" else {}
    entry = {"name": name or found_id, "role": role, **owner, "key_id": found_id, "hash": hashed}
    console.print(f"key_id: {found_id}", highlight=False)
    console.print(f"hash: {hashed}", highlight=False, soft_wrap=True)
    console.print(
        f"GIS_PLANNER_API_KEYS entry: {json.dumps(entry, ensure_ascii=False)}",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("hash-key")(hash_key_command)
