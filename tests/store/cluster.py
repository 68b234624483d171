"""Fixtures of a real PostgreSQL + PostGIS cluster, private to the test session.

The cluster runs from the system packages in a temporary directory (``make test`` installs
them); it starts at the first test that needs it and is dropped at the end of the session.
Each test gets a database of its own, cloned from a template the schema was made in once.
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

from gis_planner.sample import load_sample
from gis_planner.settings import REPOSITORY
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore
from gis_planner.store.pgcluster import Cluster, start_cluster, stop_cluster
from gis_planner.store.pgschema import init_schema

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


@pytest.fixture
def pg_url(pg_databases: Databases) -> Iterator[str]:
    """The URL (as the cluster's superuser) of an empty store's database of its own."""
    name = pg_databases.create()
    yield pg_databases.url(name)
    pg_databases.drop(name)


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
