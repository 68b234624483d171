"""The national data layout: GeoParquet partitions, COGs by province, VRT mosaics, STAC."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pystac
import pytest
import rasterio
import shapely
from fastapi.testclient import TestClient
from geopandas.testing import assert_geodataframe_equal
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import RasterExtension
from pystac.extensions.table import TableExtension
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiKey, ApiSettings
from gis_planner.admin import units
from gis_planner.apikeys import hash_key
from gis_planner.cli import app as cli
from gis_planner.errors import GisPlannerError
from gis_planner.jobs import coverage, national
from gis_planner.jobs.coverage import CoverageSpec
from gis_planner.layout import OUTSIDE, partition_dir, stac
from gis_planner.layout.rasters import leftover_window
from gis_planner.layout.vectors import partitioning, province_of, read_layer, write_layer
from gis_planner.store import GeoPackageStore
from tests.api.conftest import KEYS, key, tile_of
from tests.conftest import writable
from tests.two_provinces import CRS, NORTH, SOUTH

PROVINCES = (NORTH, SOUTH)


def _copy(store_path: Path, tmp_path: Path) -> GeoPackageStore:
    """A copy of a store and of its assets (the products' files)."""
    store = writable(GeoPackageStore(store_path), tmp_path)
    shutil.copytree(GeoPackageStore(store_path).assets_dir, store.assets_dir)
    return store


@pytest.fixture(scope="module")
def covered(border_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the two provinces with the store-wide coverage product (4G at 100 m)."""
    root = tmp_path_factory.mktemp("covered")
    store = writable(border_store, root)
    spec = CoverageSpec(
        resolution_m=100.0, technologies=("4G",), workers=1, crs=CRS, replace=True,
        out_dir=root / "tables", base_dir=root,
    )  # fmt: skip
    coverage.run(spec, store)
    return store.path


@pytest.fixture(scope="module")
def exported(covered: Path) -> tuple[GeoPackageStore, national.NationalResult]:
    store = GeoPackageStore(covered)
    return store, national.run(national.NationalSpec(), store)


def test_layers_read_back_by_province(
    exported: tuple[GeoPackageStore, national.NationalResult],
) -> None:
    """Every layer with a geometry, one file a province: geopandas and pyarrow filtered by
    province give that province's rows (its features' representative points), all of them
    together the layer, in the store's dtypes."""
    store, result = exported
    assert result.admin_version == "2025-07" and result.provinces == PROVINCES
    spatial = sorted(i.name for i in store.list_layers() if i.geometry_type)
    assert sorted({p.layer for p in result.partitions}) == spatial
    provinces = units(store.read("admin_units"), "province", "2025-07")
    for name in spatial:
        layer = store.read(name)
        assert isinstance(layer, gpd.GeoDataFrame)
        code_of = province_of(layer, provinces)
        folder = result.out / "layers" / name
        for code in [*PROVINCES, None]:
            expected = layer[(code_of == code) if code else code_of.isna()]
            expected = expected.reset_index(drop=True)
            got = read_layer(folder, [code])
            assert (got["province"].isna() if code is None else got["province"] == code).all()
            assert_geodataframe_equal(got.drop(columns="province"), expected)
            if code is None:
                continue
            plain = gpd.read_parquet(
                folder, filters=[("province", "=", code)], partitioning=partitioning()
            )
            assert_geodataframe_equal(plain.drop(columns="province"), expected, check_dtype=False)
            table = ds.dataset(folder, format="parquet", partitioning=partitioning()).to_table(
                filter=ds.field("province") == code
            )
            assert table.num_rows == len(expected)
        assert len(read_layer(folder)) == len(layer)
    # the far site south of the box is in no province: pyarrow reads its partition as null
    sites = read_layer(result.out / "layers" / "sites", [None])
    assert sites["site_id"].tolist() == ["TH-VNP-00"]
    assert (result.out / "layers" / "sites" / f"province={OUTSIDE}" / "part.parquet").is_file()


def test_codes_stay_strings(tmp_path: Path) -> None:
    """Province codes are text: "01" is read back as "01", where pyarrow would guess a number."""
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]}, geometry=shapely.points([0, 1, 2], [0, 1, 2]), crs="EPSG:4326"
    )
    write_layer("things", frame, pd.Series(["01", "02", None]), tmp_path / "things")
    assert read_layer(tmp_path / "things", ["01"])["name"].tolist() == ["a"]
    assert read_layer(tmp_path / "things", ["02", None])["province"].tolist() == ["02", pd.NA]
    guessed = ds.dataset(tmp_path / "things", partitioning="hive").schema.field("province")
    assert guessed.type == pa.int32()


def test_province_cogs_are_windows_of_the_product(
    exported: tuple[GeoPackageStore, national.NationalResult],
) -> None:
    """Each province's COG is the window of the product's grid over the province's bounds,
    the same pixels, bands, nodata and tags; the mosaic opens as one layer and reads as the
    product, to the bit; the API's records point at the mosaics."""
    store, result = exported
    products = {r.id: r for r in store.products()}
    assert {r.record.id for r in result.rasters} == {
        i for i, r in products.items() if r.job == "coverage" and r.kind == "raster"
    }
    provinces = units(store.read("admin_units"), "province", "2025-07").to_crs(CRS)
    for raster in result.rasters:
        assert raster.record.path is not None
        source = store.assets_dir / raster.record.path
        with rasterio.open(source) as product:
            values, tags = product.read(), product.tags()
            for part in raster.parts:
                assert part.code in PROVINCES
                with rasterio.open(part.path) as cog:
                    w = part.window
                    np.testing.assert_array_equal(
                        cog.read(), values[:, w.row0 : w.row0 + w.height, w.col0 : w.col0 + w.width]
                    )
                    assert cog.transform == product.window_transform(
                        ((w.row0, w.row0 + w.height), (w.col0, w.col0 + w.width))
                    )
                    assert cog.descriptions == product.descriptions
                    assert (cog.nodata, cog.dtypes, cog.crs) == (
                        product.nodata, product.dtypes, product.crs
                    )  # fmt: skip
                    assert cog.tags()["province"] == part.code
                    assert cog.tags()["coverage_params"] == tags["coverage_params"]
                    # the window holds the province's bounds
                    x0, y0, x1, y1 = provinces.set_index("code").geometry[part.code].bounds
                    left, bottom, right, top = cog.bounds
                    assert left <= x0 and bottom <= y0 and right >= x1 and top >= y1
            with rasterio.open(raster.mosaic) as mosaic:
                assert (mosaic.width, mosaic.height) == (product.width, product.height)
                assert mosaic.transform == product.transform and mosaic.crs == product.crs
                assert mosaic.descriptions == product.descriptions
                np.testing.assert_array_equal(mosaic.read(), values)
        record = products[f"national.{raster.record.id}"]
        assert record.path == raster.mosaic.relative_to(store.assets_dir).as_posix()
        assert record.inputs == raster.record.inputs
        assert record.bands == raster.record.bands
    assert set(result.registered) == {f"national.{r.record.id}" for r in result.rasters}


def test_pixels_of_no_province_have_a_cog_of_their_own(covered: Path, tmp_path: Path) -> None:
    """A layout cut by provinces that do not hold all of the product (here, the 2025 units
    without the southern province) puts the pixels left over in a COG of no province: the
    mosaic still reads as the product, and the catalogue has an item for them."""
    store = _copy(covered, tmp_path)
    admin = store.read("admin_units")
    south_2025 = (admin["admin_version"] == "2025-07") & (admin["code"] == SOUTH)
    store.write("admin_units", admin[~south_2025])
    result = national.run(national.NationalSpec(out=tmp_path / "north_only"), store)
    assert result.provinces == (NORTH,)
    for raster in result.rasters:
        codes = [p.code for p in raster.parts]
        assert codes == [NORTH, None]
        assert raster.parts[1].path.parent.name == f"province={OUTSIDE}"
        assert raster.record.path is not None
        with rasterio.open(store.assets_dir / raster.record.path) as product:
            values = product.read()
        with rasterio.open(raster.mosaic) as mosaic:
            np.testing.assert_array_equal(mosaic.read(), values)
        windows = [p.window for p in raster.parts]
        assert leftover_window(raster.mosaic, windows) is None
    collection = pystac.Collection.from_file(str(result.collection))
    assert {i.id for i in collection.get_items()} == {f"province-{NORTH}", "outside"}


def test_stac_catalogue(exported: tuple[GeoPackageStore, national.NationalResult]) -> None:
    """One item a province with its outline, its partitions (row counts) and COGs (projection
    and raster extensions), the mosaics on the collection; relative links that resolve;
    valid against the STAC core schemas (offline)."""
    store, result = exported
    collection = pystac.Collection.from_file(str(result.collection))
    items = {item.id: item for item in collection.get_items()}
    assert set(items) == {"province-37", "province-38", "outside"}
    by_code = {(p.layer, p.code): p for p in result.partitions}
    for code in PROVINCES:
        item = items[f"province-{code}"]
        assert item.properties["gis_planner:province"] == code
        outline = units(store.read("admin_units"), "province", "2025-07").set_index("code")
        assert shapely.geometry.shape(item.geometry).equals(outline.geometry[code])
        for layer in ("sites", "villages", "cells"):
            asset = item.assets[layer]
            assert Path(asset.get_absolute_href()) == by_code[(layer, code)].path
            assert TableExtension.ext(asset).row_count == by_code[(layer, code)].rows
            assert asset.media_type == stac.PARQUET
        for raster in result.rasters:
            asset = item.assets[raster.name]
            (part,) = [p for p in raster.parts if p.code == code]
            assert Path(asset.get_absolute_href()) == part.path
            assert asset.media_type == pystac.MediaType.COG
            proj = ProjectionExtension.ext(asset)
            with rasterio.open(part.path) as cog:
                assert proj.code == CRS and proj.shape == [cog.height, cog.width]
                assert proj.transform == list(cog.transform)[:6]
                bands = RasterExtension.ext(asset).bands
                assert bands is not None and len(bands) == cog.count
                assert bands[0].nodata == cog.nodata
    for raster in result.rasters:
        asset = collection.assets[raster.name]
        assert Path(asset.get_absolute_href()) == raster.mosaic and "mosaic" in (asset.roles or [])
    assert stac.validate(result.collection) == 1 + len(items)
    # self-contained: the layout moved elsewhere still resolves
    moved = result.out.parent / "moved"
    shutil.copytree(result.out, moved)
    again = pystac.Collection.from_file(str(moved / "collection.json"))
    sites = next(again.get_items()).assets["sites"].get_absolute_href()
    assert sites.startswith(str(moved)) and Path(sites).is_file()


def test_cli_exports_and_the_api_serves_the_mosaic(covered: Path, tmp_path: Path) -> None:
    """``gis-planner export-national`` into the store's assets: the API lists each mosaic as a
    raster and its tiles are the product's."""
    store = _copy(covered, tmp_path)
    args = ["export-national", "--store", str(store.path), "--lang", "en"]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "national layout" in result.output and "registered" in result.output
    assert (store.assets_dir / "national" / "collection.json").is_file()
    # again: the layout and its records replaced, not added to
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    national_ids = sorted(r.id for r in store.products() if r.job == "national")
    assert len(national_ids) == 5

    admin = ApiKey(name="admin", role="admin", key_id="admin1", hash=hash_key(KEYS["admin"]))
    client = TestClient(create_app(store, ApiSettings(api_keys=[admin])))
    listed = {r["id"]: r for r in client.get("/rasters", headers=key("admin")).json()}
    mosaic, product = "national.coverage.province.any_4G_rsrp", "coverage.province.any_4G_rsrp"
    assert mosaic in listed and listed[mosaic]["bounds"] == listed[product]["bounds"]
    z = 13
    x, y = tile_of(105.835, 20.143, z)
    tiles = [
        client.get(f"/rasters/{raster}/tiles/{z}/{x}/{y}.png?band=rsrp", headers=key("admin"))
        for raster in (mosaic, product)
    ]
    assert [t.status_code for t in tiles] == [200, 200]
    assert tiles[0].content == tiles[1].content


def test_refuses_a_folder_that_is_not_a_layout(
    border_store: GeoPackageStore, tmp_path: Path
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(GisPlannerError, match="not a national layout"):
        national.run(national.NationalSpec(out=tmp_path / "mine"), border_store)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("code", ["../37", "37/x", "..", "a b"])
def test_a_province_code_never_names_a_folder_outside_the_layout(code: str) -> None:
    with pytest.raises(GisPlannerError, match="partition folder"):
        partition_dir(code)
    assert partition_dir("37") == "province=37"
