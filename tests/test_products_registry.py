"""Products registered by the real coverage job: records, staleness, and scoped runs that leave
the province product alone, on the GeoPackage store and on a PostGIS copy of it."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
import shapely
from typer.testing import CliRunner

from gis_planner.cli import app as cli
from gis_planner.products import ProductArea, ProductRecord, UnknownProduct
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore
from gis_planner.store.transfer import copy_store
from tests.conftest import SiteFactory
from tests.store.cluster import Databases

#: A box around Phủ Lý, well inside the province.
BOX = (105.85, 20.48, 105.99, 20.60)
PRODUCT_LAYERS = ("coverage_villages", "coverage_areas", "coverage_gaps")


def _run(store: str, out: Path, env: dict[str, str], *extra: str) -> None:
    args = ["coverage", "--store", store, "--resolution-m", "400", "--workers", "1",
            "--out", str(out / "tables"), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200", **env})
    assert result.exit_code == 0, result.output


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Copy:
    """A writable copy of the province: the store, and how the CLI names it."""

    store: LayerStore
    argument: str
    env: dict[str, str]


class Province:
    """The sample after a province run of the real coverage job, in a GeoPackage or in a
    PostGIS database (a copy of the GeoPackage); tests write to copies of it only."""

    def __init__(self, store: LayerStore, databases: Databases | None = None) -> None:
        self.store = store
        self._databases = databases

    def copy(self, tmp_path: Path) -> Copy:
        if isinstance(self.store, GeoPackageStore):
            path = tmp_path / "hanam.gpkg"
            shutil.copyfile(self.store.path, path)
            shutil.copytree(self.store.assets_dir, tmp_path / "hanam_assets")
            return Copy(GeoPackageStore(path), str(path), {})
        assert isinstance(self.store, PostGISStore) and self._databases is not None
        template = psycopg.conninfo.conninfo_to_dict(self.store.url)["dbname"]
        self.store.close()  # a template database must have no connection
        name = self._databases.create(template=str(template))
        output = tmp_path / "output"
        assets = output / f"{name}_assets"
        shutil.copytree(self.store.assets_dir, assets)
        url = self._databases.url(name)
        return Copy(
            PostGISStore(url, assets_dir=assets), url, {"GIS_PLANNER_OUTPUT_DIR": str(output)}
        )


@pytest.fixture(scope="module")
def gpkg_province(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    path = tmp_path_factory.mktemp("province") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, path)
    _run(str(path), path.parent, {})
    return GeoPackageStore(path)


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def province(
    request: pytest.FixtureRequest,
    gpkg_province: GeoPackageStore,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Province]:
    if request.param == "gpkg":
        yield Province(gpkg_province)
        return
    databases: Databases = request.getfixturevalue("pg_databases")
    name = databases.create()
    store = PostGISStore(databases.url(name), assets_dir=tmp_path_factory.mktemp("pg_province"))
    copy_store(gpkg_province, store)
    yield Province(store, databases)
    store.close()
    databases.drop(name)


def test_a_province_run_registers_every_raster_and_layer(province: Province) -> None:
    store = province.store
    records = store.products()
    rasters = [r for r in records if r.kind == "raster"]
    on_disk = sorted(p.relative_to(store.assets_dir).as_posix()
                     for p in (store.assets_dir / "coverage").glob("*.tif"))  # fmt: skip
    assert sorted(r.path for r in rasters if r.path) == on_disk
    layers = {r.layer for r in records if r.kind == "layer"}
    assert layers == {*PRODUCT_LAYERS, "coverage_servers"}
    record = next(r for r in rasters if r.operators == ("viettel",) and r.technologies == ("4G",)
                  and r.bands[0].name == "rsrp")  # fmt: skip
    assert [(b.name, b.unit) for b in record.bands] == [
        ("rsrp", "dBm"), ("second_rsrp", "dBm"), ("sinr", "dB")
    ]  # fmt: skip
    assert record.scope == "" and record.area.bbox is None and record.area.admin_codes
    assert record.parameters["resolution_m"] == 400.0
    assert set(record.inputs) >= {"cells", "sites", "villages", "admin_units"}
    assert not store.stale(record)
    assert store.product(record.id) == record


def test_every_layer_of_the_province_reads_as_from_the_geopackage(
    province: Province, gpkg_province: GeoPackageStore
) -> None:
    store = province.store
    assert [i.name for i in store.list_layers()] == [i.name for i in gpkg_province.list_layers()]
    for info in gpkg_province.list_layers():
        pd.testing.assert_frame_equal(store.read(info.name), gpkg_province.read(info.name))


def test_a_record_becomes_stale_when_the_sites_change(province: Province, tmp_path: Path) -> None:
    store = province.copy(tmp_path).store
    record = store.products()[0]
    assert not store.stale(record)
    store.write("sites", store.read("sites"))
    assert store.stale(record)


def test_a_bbox_run_leaves_the_province_product_and_its_statistics(
    province: Province, tmp_path: Path
) -> None:
    copy = province.copy(tmp_path)
    store = copy.store
    before = {name: store.read(name) for name in PRODUCT_LAYERS}
    rasters_before = {p.name: _digest(p) for p in (store.assets_dir / "coverage").glob("*.tif")}
    records_before = {r.id: r for r in store.products()}

    _run(copy.argument, tmp_path, copy.env, "--bbox", ",".join(map(str, BOX)))

    for name, frame in before.items():
        pd.testing.assert_frame_equal(store.read(name), frame, check_like=True)
    after = {p.name: _digest(p) for p in (store.assets_dir / "coverage").glob("*.tif")}
    assert after == rasters_before
    records = {r.id: r for r in store.products()}
    assert {k: records[k] for k in records_before} == records_before
    scoped = [r for r in records.values() if r.id not in records_before]
    assert scoped and all(r.scope and r.area.bbox == BOX for r in scoped)
    # The scoped statistics hold the villages of the box only: none outside is "uncovered".
    gaps_layer = next(r.layer for r in scoped if r.layer and r.layer.startswith("coverage_gaps"))
    villages_layer = next(
        r.layer for r in scoped if r.layer and r.layer.startswith("coverage_villages")
    )
    assert gaps_layer != "coverage_gaps" and villages_layer != "coverage_villages"
    rows = store.read(villages_layer)
    villages = store.read("villages").set_index("code")
    # the grid snaps outwards by up to one 400 m pixel
    inside = villages.geometry.intersects(shapely.box(*BOX).buffer(0.005))
    assert set(rows["village_code"]) <= set(villages.index[inside])
    assert 0 < rows["village_code"].nunique() < len(villages)
    gaps = store.read(gaps_layer)
    assert isinstance(gaps, gpd.GeoDataFrame)
    assert set(gaps["village_code"]) <= set(villages.index[inside])


def test_records_round_trip_and_commit_with_the_transaction(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    store = any_store
    store.write("sites", make_sites([("VTL001", "viettel", 105.9, 20.5)]))
    record = ProductRecord(
        id="coverage.test.x", kind="layer", job="coverage", parameters={"resolution_m": 25.0},
        area=ProductArea(("35",), (105.8, 20.4, 106.0, 20.6)), operators=("viettel",),
        technologies=("4G",), inputs={"cells": 3}, scope="test", layer="coverage_gaps__test",
    )  # fmt: skip
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.register(record)
        raise RuntimeError("the job failed before its commit")
    assert store.products() == []
    with pytest.raises(UnknownProduct):
        store.product(record.id)
    store.register(record)
    (found,) = store.products()
    assert found.created_at and found == replace(record, created_at=found.created_at)
    assert "gis_planner_products" not in {i.name for i in store.list_layers()}
    with pytest.raises(UnknownProduct, match="no product 'nothing'"):
        store.product("nothing")
    assert store.stale(found)  # its input layer "cells" is not in this store
