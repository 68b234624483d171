"""``gis-planner copy`` between GeoPackage and PostGIS both ways, and the ``db`` commands."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from typer.testing import CliRunner

from gis_planner.cli import app as cli
from gis_planner.errors import StoreError
from gis_planner.products import ProductArea, ProductRecord
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore
from gis_planner.store.pgcluster import stop_cluster
from gis_planner.store.transfer import copy_store

from .cluster import Databases


def _record(id_: str, inputs: dict[str, int], **extra: object) -> ProductRecord:
    return ProductRecord(
        id=id_, kind="raster", job="coverage", parameters={"resolution_m": 400.0},
        area=ProductArea(("35",), (105.8, 20.4, 106.0, 20.6)), operators=("viettel",),
        technologies=("4G",), inputs=inputs, scope="t", path="coverage/t/x.tif",
        created_at="2025-07-01T00:00:00+00:00", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def source(sample_store: GeoPackageStore, tmp_path: Path) -> GeoPackageStore:
    """A copy of the sample with a scoped layer, two records (one stale) and an asset file."""
    store = GeoPackageStore(tmp_path / "source" / "hanam.gpkg")
    store.path.parent.mkdir()
    shutil.copyfile(sample_store.path, store.path)
    revisions = store.layer_revisions()
    with store.transaction() as tx:
        tx.write("sites__t", store.read("sites").head(20), metadata={"note": "scoped"})
        tx.register(_record("fresh", {"sites": revisions["sites"], "cells": revisions["cells"]}))
        tx.register(_record("stale", {"sites": revisions["sites"] - 1, "gone": 3}))
    (store.assets_dir / "coverage" / "t").mkdir(parents=True)
    (store.assets_dir / "coverage" / "t" / "x.tif").write_bytes(b"II*\x00raster")
    return store


def _same_contents(a: LayerStore, b: LayerStore) -> None:
    assert [i.name for i in a.list_layers()] == [i.name for i in b.list_layers()]
    for info in a.list_layers():
        pd.testing.assert_frame_equal(a.read(info.name), b.read(info.name))
        own = ("written_at", "gis_planner_version")
        assert {k: v for k, v in a.metadata(info.name).items() if k not in own} == {
            k: v for k, v in b.metadata(info.name).items() if k not in own
        }
    assert {r.id: a.stale(r) for r in a.products()} == {"fresh": False, "stale": True}
    assert {r.id: b.stale(r) for r in b.products()} == {"fresh": False, "stale": True}
    strip = {"inputs": {}}
    assert [ProductRecord(**{**vars(r), **strip}) for r in a.products()] == [
        ProductRecord(**{**vars(r), **strip}) for r in b.products()
    ]
    files = sorted(p.relative_to(a.assets_dir) for p in a.assets_dir.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(b.assets_dir) for p in b.assets_dir.rglob("*") if p.is_file()
    )
    for name in files:
        assert (a.assets_dir / name).read_bytes() == (b.assets_dir / name).read_bytes()


def test_copy_both_ways_preserves_everything(
    source: GeoPackageStore, pg_store: PostGISStore, tmp_path: Path
) -> None:
    result = copy_store(source, pg_store)
    assert result.products == 2 and result.assets == 1 and result.rows["sites__t"] == 20
    _same_contents(source, pg_store)
    back = GeoPackageStore(tmp_path / "back" / "hanam.gpkg")
    copy_store(pg_store, back)
    _same_contents(source, back)
    # the copy counted one commit on each side
    assert pg_store.revision() == 1 and back.revision() == 1


def test_copy_refuses_a_store_that_is_not_empty(
    source: GeoPackageStore, pg_store: PostGISStore
) -> None:
    pg_store.write("sites", source.read("sites"))
    with pytest.raises(StoreError, match="not empty"):
        copy_store(source, pg_store)


def test_the_commands(
    source: GeoPackageStore, pg_databases: Databases, pg_store: PostGISStore, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "200", "GIS_PLANNER_OUTPUT_DIR": str(tmp_path / "output")}
    # start: the session's cluster is already running; it says so and where.
    started = runner.invoke(cli, ["db", "start", "--dir", str(pg_databases.cluster.directory)],
                            env=env)  # fmt: skip
    assert started.exit_code == 0, started.output
    assert f"127.0.0.1:{pg_databases.cluster.port}" in started.output
    # init: again on an initialised database, it changes nothing.
    done = runner.invoke(cli, ["db", "init", pg_store.url], env=env)
    assert done.exit_code == 0 and "ready" in done.output, done.output
    done = runner.invoke(cli, ["copy", str(source.path), pg_store.url], env=env)
    assert done.exit_code == 0 and "2 product records, 1 asset files" in done.output, done.output
    # the assets go where the PostGIS store keeps them: in the output, by database name
    database = psycopg.conninfo.conninfo_to_dict(pg_store.url)["dbname"]
    assert (tmp_path / "output" / f"{database}_assets" / "coverage" / "t" / "x.tif").exists()
    done = runner.invoke(cli, ["copy", str(source.path), pg_store.url], env=env)
    assert done.exit_code == 2 and "not empty" in done.output, done.output
    login = runner.invoke(
        cli,
        ["db", "login", pg_store.url, "viettel_editor", "--role", "operator",
         "--operator", "viettel", "--password", "x-secret"],
        env=env,
    )  # fmt: skip
    assert login.exit_code == 0, login.output


def test_db_start_makes_a_cluster_once_and_stop_stops_it() -> None:
    # Beside pytest's own temporary directory, which the postgres system user cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="gis-planner-db-start-"))
    runner = CliRunner()
    try:
        first = runner.invoke(cli, ["db", "start", "--dir", str(directory)])
        assert first.exit_code == 0, first.output
        url = next(line for line in first.output.splitlines() if line.startswith("postgresql"))
        with psycopg.connect(url) as con:
            assert con.execute("SELECT current_database()").fetchone() == ("gis_planner",)
        stopped = runner.invoke(cli, ["db", "stop", "--dir", str(directory)])
        assert stopped.exit_code == 0 and "stopped" in stopped.output
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=2)
        # started again: the same cluster, on the same port, with the same password
        again = runner.invoke(cli, ["db", "start", "--dir", str(directory)])
        assert again.exit_code == 0 and url in again.output.replace("\n", "")
        with psycopg.connect(url) as con:
            assert con.execute("SELECT 1").fetchone() == (1,)
    finally:
        stop_cluster(directory, immediate=True)
        shutil.rmtree(directory, ignore_errors=True)
