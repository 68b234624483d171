"""Coverage of any area: a store with two provinces in two UTM zones, runs of the whole store and
of one province, each measured in its own zone and counted in its own province."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from typer.testing import CliRunner

from gis_planner.cli import app as cli
from gis_planner.colormaps import RSRP, SERVER_COUNT
from gis_planner.products import catalogue_name
from gis_planner.store import GeoPackageStore

#: The sample moved this far east lies in UTM zone 49 (from 108° E), Hà Nam in zone 48.
SHIFT_DEG = 2.5
#: Prefix making the moved copy's codes and ids its own.
TAG = "9"
LAYERS = ("admin_units", "villages", "priority_areas", "sites", "cells")
CODES = ("code", "parent_code", "commune_code", "site_id", "cell_id", "area_id", "structure_id")
ARGS = ["--tech", "4G", "--resolution-m", "300", "--workers", "1"]


def _moved(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    copy = frame.copy()
    copy["geometry"] = copy.geometry.translate(xoff=SHIFT_DEG)
    for column in CODES:
        if column in copy:
            copy[column] = (TAG + copy[column].astype("string")).astype(frame[column].dtype)
    return copy


@pytest.fixture(scope="module")
def two_provinces(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    store = GeoPackageStore(tmp_path_factory.mktemp("two") / "two.gpkg")
    for name in LAYERS:
        frame = sample_store.read(name)
        assert isinstance(frame, gpd.GeoDataFrame)
        both = gpd.GeoDataFrame(pd.concat([frame, _moved(frame)], ignore_index=True))
        store.write(name, both)
    return store


def _coverage(store: GeoPackageStore, *extra: str) -> None:
    out = store.path.parent / "tables"
    args = ["coverage", "--store", str(store.path), *ARGS, "--out", str(out), *extra]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output


def _provinces(areas: pd.DataFrame) -> pd.DataFrame:
    rows = areas[(areas["level"] == "province") & (areas["operator"] == "any")]
    return rows.set_index("code")


def test_each_province_is_counted_in_itself(two_provinces: GeoPackageStore) -> None:
    _coverage(two_provinces, "--replace")  # 4G only, in the store-wide products' place
    areas = two_provinces.read("coverage_areas")
    provinces = _provinces(areas)
    assert sorted(provinces.index) == ["35", TAG + "35"]
    villages = two_provinces.read("villages")
    for code in ("35", TAG + "35"):
        own = villages["code"].str.startswith(TAG) == code.startswith(TAG)
        assert provinces.loc[code, "villages"] == own.sum()
        assert provinces.loc[code, "population"] == villages.loc[own, "population"].sum()
    # The moved copy is the same network: the same figures, up to the grid's alignment.
    home, moved = provinces.loc["35"], provinces.loc[TAG + "35"]
    assert moved["population_share"] == pytest.approx(home["population_share"], abs=0.02)
    assert moved["area_share"] == pytest.approx(home["area_share"], abs=0.02)
    districts = areas[(areas["level"] == "district") & (areas["operator"] == "any")]
    assert len(districts) == 2 * 6


def test_a_run_of_one_province_is_measured_in_its_zone(two_provinces: GeoPackageStore) -> None:
    _coverage(two_provinces, "--replace")
    wide = two_provinces.read("coverage_areas")
    _coverage(two_provinces, "--area", TAG + "35")
    # the store-wide product stays as it was
    pd.testing.assert_frame_equal(two_provinces.read("coverage_areas"), wide)
    records = [r for r in two_provinces.products() if r.scope and r.job == "coverage"]
    assert {r.area.admin_codes for r in records} == {(TAG + "35",)}
    rasters = [r for r in records if r.kind == "raster"]
    assert rasters
    for record in rasters:
        with rasterio.open(two_provinces.assets_dir / record.path) as cog:
            assert cog.crs.to_epsg() == 32649
    (layer,) = [r.layer for r in records if r.layer and catalogue_name(r.layer) == "coverage_areas"]
    alone = _provinces(two_provinces.read(layer))
    # only the cells within reach of the area were read and computed
    (servers,) = [r.layer for r in records if r.layer and "coverage_servers" in r.layer]
    assert two_provinces.read(servers)["cell_id"].str.startswith(TAG).all()
    assert list(alone.index) == [TAG + "35"]
    for column in ("population_share", "area_share"):
        assert alone.loc[TAG + "35", column] == pytest.approx(
            _provinces(wide).loc[TAG + "35", column], abs=0.02
        )


def test_an_unknown_area_is_named(two_provinces: GeoPackageStore) -> None:
    args = ["coverage", "--store", str(two_provinces.path), *ARGS, "--area", "X1"]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "no admin unit X1" in result.output


def test_a_raster_the_scope_no_longer_makes_is_dropped(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = GeoPackageStore(tmp_path_factory.mktemp("drop") / "hanam.gpkg")
    for name in LAYERS:
        store.write(name, sample_store.read(name))
    bbox = ["--bbox", "105.88,20.51,105.96,20.57"]
    _coverage(store, *bbox)

    def vnpt_rasters() -> list[str]:
        return [r.path for r in store.products() if r.kind == "raster" and r.operators == ("vnpt",)]

    (path,) = [p for p in vnpt_rasters() if p and p.endswith("vnpt_4G_rsrp.tif")]
    assert (store.assets_dir / path).is_file()
    assert (store.assets_dir / path).with_suffix(".qml").is_file()
    cells = store.read("cells")
    store.write("cells", cells[cells["operator"] != "vnpt"])
    _coverage(store, *bbox)  # the same scope, now without VNPT's cells
    assert vnpt_rasters() == []
    assert not (store.assets_dir / path).exists()
    assert not (store.assets_dir / path).with_suffix(".qml").exists()


def test_every_raster_carries_its_qgis_style(two_provinces: GeoPackageStore) -> None:
    _coverage(two_provinces, "--replace")
    rasters = [r for r in two_provinces.products() if r.kind == "raster" and not r.scope]
    assert rasters
    for record in rasters:
        assert record.path is not None
        style = two_provinces.assets_dir / Path(record.path).with_suffix(".qml")
        root = ET.parse(style).getroot()
        renderer = root.find("pipe/rasterrenderer")
        assert renderer is not None and renderer.get("type") == "singlebandpseudocolor"
        items = root.findall("pipe/rasterrenderer/rastershader/colorrampshader/item")
        cmap, band = (SERVER_COUNT, "2") if record.path.endswith("_server.tif") else (RSRP, "1")
        assert renderer.get("band") == band
        assert len(items) == len(cmap.classes)
        assert {i.get("label") for i in items} == {c.label_vi for c in cmap.classes}
