"""``db start|stop|init|login`` and ``copy``: the PostGIS store, its private cluster, its
logins, and copies between stores."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gis_planner.cli.common import console

db = typer.Typer(
    help="The PostGIS store: a private PostgreSQL cluster, its schema and its logins.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="The cluster's directory; default <output_dir>/postgres."),
]


class LoginRole(StrEnum):
    operator = "operator"
    viewer = "viewer"
    admin = "admin"
    service = "service"


@db.command()
def start(directory: DirOption = None) -> None:
    """Run a private PostgreSQL + PostGIS cluster (created on first use) and print its URL."""
    from gis_planner.settings import get_settings
    from gis_planner.store.pgcluster import start_cluster

    cluster = start_cluster(directory or get_settings().output_dir / "postgres")
    console.print(f"[green]PostgreSQL[/green] {cluster.data_dir} on 127.0.0.1:{cluster.port}")
    console.print(cluster.url(), soft_wrap=True)
    console.print(f"next: gis-planner db init '{cluster.url()}'", soft_wrap=True)


@db.command()
def stop(directory: DirOption = None) -> None:
    """Stop the private cluster."""
    from gis_planner.settings import get_settings
    from gis_planner.store.pgcluster import stop_cluster

    stop_cluster(directory or get_settings().output_dir / "postgres")
    console.print("[green]PostgreSQL[/green] stopped")


@db.command()
def init(url: Annotated[str, typer.Argument(help="postgresql:// URL, as a superuser.")]) -> None:
    """Create the store's schema, roles and policies (again: bring them up to date)."""
    from gis_planner.store.pgschema import init_schema, redact

    init_schema(url)
    console.print(f"[green]schema[/green] {redact(url)}: ready")


@db.command()
def login(
    url: Annotated[str, typer.Argument(help="postgresql:// URL, as a superuser.")],
    name: Annotated[str, typer.Argument(help="The new login (e.g. viettel_qgis).")],
    role: Annotated[LoginRole, typer.Option(help="What the login may do.")],
    operator: Annotated[
        str | None, typer.Option(help="The operator key, for --role operator.")
    ] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)] = "",
) -> None:
    """Create (or update) a login with a password.

    An operator's login (for QGIS, say) reads and edits its own rows only; a viewer's reads
    what is public; an admin's everything; the service's (the API's) nothing until it acts
    for a caller.
    """
    from gis_planner.store.pgschema import create_login

    create_login(url, name, role.value, operator=operator, password=password)
    console.print(f"[green]login[/green] {name}: {role.value} {operator or ''}".rstrip())


def copy(
    source: Annotated[str, typer.Argument(help="Store to copy: a .gpkg or a postgresql:// URL.")],
    target: Annotated[str, typer.Argument(help="Empty store to copy into.")],
) -> None:
    """Copy a whole store (layers, metadata, product records, assets) into an empty one."""
    from gis_planner.store import open_store
    from gis_planner.store.transfer import copy_store

    origin, destination = open_store(source), open_store(target)
    result = copy_store(origin, destination, progress=lambda name: console.print(f"  {name}"))
    console.print(
        f"[green]copy[/green] {origin.uri} → {destination.uri}: "
        f"{sum(result.rows.values()):,} rows in {len(result.rows)} layers, "
        f"{result.products} product records, {result.assets} asset files"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db, name="db")
    app.command()(copy)
