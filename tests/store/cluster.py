"""Fixtures of a real PostgreSQL + PostGIS cluster, private to the test session.

The cluster runs from the system packages in a temporary directory (``make test`` installs
them); it starts at the first test that needs it and is dropped at the end of the session.
The schema is made once in a template database; the tests' stores share a clone of it,
emptied before each test.
Loaded by ``tests/conftest.py`` (``pytest_plugins``), so every test module can use them.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gis_planner.catalogue import CATALOGUE
from gis_planner.sample import load_sample
from gis_planner.settings import REPOSITORY
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore
from gis_planner.store.pgcluster import Cluster, start_cluster, stop_cluster
from gis_planner.store.pgschema import LAYER_SCHEMA, init_schema, table_name

TEMPLATE = "gis_planner_template"
#: Durability is of no use to a cluster deleted at the end of the session.
TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_numbers = itertools.count()


@dataclass(frozen=True)
class Databases:
    """The session's cluster, with its template database ready."""

    cluster: Cluster

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.cluster.url("postgres"), autocommit=True)

    def create(self, template: str = TEMPLATE) -> str:
        """A new database cloned from ``template`` (which must have no open connection)."""
        name = f"test_{next(_numbers)}"
        with self.admin() as con:
            con.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return name

    def drop(self, name: str) -> None:
        with self.admin() as con:
            con.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def url(self, name: str) -> str:
        return self.cluster.url(name)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[Databases]:
    """A private cluster for the session, with the store's schema in its template database."""
    # Not under pytest's own temporary directory: that one is private to this user, and the
    # cluster may run as the postgres system user.
    directory = Path(tempfile.mkdtemp(prefix="gis-planner-pg-"))
    try:
        databases = Databases(start_cluster(directory, TEST_SETTINGS))
        with databases.admin() as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
        init_schema(databases.url(TEMPLATE))
        yield databases
    finally:
        stop_cluster(directory, immediate=True)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_scratch(pg_databases: Databases) -> str:
    """The database the tests' stores use, one after the other (``pg_url`` empties it)."""
    return pg_databases.create()


@pytest.fixture
def pg_url(pg_databases: Databases, pg_scratch: str) -> str:
    """The URL (as the cluster's superuser) of an empty store: the scratch database emptied
    of every row, scoped layer, record, revision and edit history (far quicker than a new
    database)."""
    url = pg_databases.url(pg_scratch)
    with psycopg.connect(url, autocommit=True) as con:
        # Connections left by an earlier test's store would hold the tables.
        con.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with con.transaction():
            scoped = [
                layer
                for (layer,) in con.execute("SELECT layer FROM gis_planner_meta.layers")
                if layer not in CATALOGUE
            ]
            for layer in scoped:
                con.execute(
                    sql.SQL("DROP TABLE IF EXISTS {}").format(
                        sql.Identifier(LAYER_SCHEMA, table_name(layer))
                    )
                )
            tables = sql.SQL(", ").join(
                sql.Identifier(LAYER_SCHEMA, table_name(layer)) for layer in CATALOGUE
            )
            con.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY").format(tables))
            con.execute("DELETE FROM gis_planner_meta.layers")
            con.execute("DELETE FROM gis_planner_meta.products")
            con.execute("UPDATE gis_planner_meta.revision SET revision = 0, xact = NULL")
            # an editing test leaves a thousand changes: a later test of the history reads
            # the changes its own store made
            con.execute("TRUNCATE gis_planner_meta.audit RESTART IDENTITY")
    return url


@pytest.fixture
def pg_store(pg_url: str, tmp_path: Path) -> Iterator[PostGISStore]:
    store = PostGISStore(pg_url, assets_dir=tmp_path / "assets")
    yield store
    store.close()


@pytest.fixture(scope="session")
def pg_sample_store(
    pg_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostGISStore]:
    """The bundled sample loaded once per session into PostGIS; tests must not write to it."""
    name = pg_databases.create()
    store = PostGISStore(pg_databases.url(name), assets_dir=tmp_path_factory.mktemp("pg_assets"))
    load_sample(store, REPOSITORY / "layers" / "hanam")
    yield store
    store.close()


StoreKind = str
STORE_KINDS: list[StoreKind] = ["gpkg", "postgis"]


@pytest.fixture(params=STORE_KINDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> LayerStore:
    """An empty store of each kind: GeoPackage, then PostGIS."""
    if request.param == "gpkg":
        return GeoPackageStore(tmp_path / "store.gpkg")
    store: PostGISStore = request.getfixturevalue("pg_store")
    return store


@pytest.fixture(params=STORE_KINDS)
def any_sample_store(request: pytest.FixtureRequest) -> LayerStore:
    """The sample, loaded once per session into a store of each kind; read only."""
    name = "sample_store" if request.param == "gpkg" else "pg_sample_store"
    store: LayerStore = request.getfixturevalue(name)
    return store
