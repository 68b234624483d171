"""Cross-border correctness: runs province by province give what one run of their union gives.

The layout is two real provinces cut to a box around their border (``tests/two_provinces``):
positions standing on the border, cells on either side covering across it, villages and a
priority area straddling it. A national run is made of province runs (the coverage job with
``--area``, on the union's grid CRS, as a cluster would run them, or the positions of the
layout's partitions): each must give what the single run of the union gives, to the bit.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from geopandas.testing import assert_geodataframe_equal

from gis_planner.jobs import coverage, national
from gis_planner.jobs.coverage import CoverageResult, CoverageSpec
from gis_planner.layout.sharing import positions_by_province
from gis_planner.layout.vectors import read_layer
from gis_planner.sharing import place_positions, position_ratios, positions
from gis_planner.store import GeoPackageStore
from tests.conftest import writable
from tests.two_provinces import CRS, NORTH, SOUTH

PROVINCES = (NORTH, SOUTH)


def _run(store: GeoPackageStore, codes: tuple[str, ...], out: Path) -> CoverageResult:
    spec = CoverageSpec(
        resolution_m=100.0, technologies=("4G",), workers=1, area_codes=codes, crs=CRS,
        out_dir=out, base_dir=out,
    )  # fmt: skip
    return coverage.run(spec, store)


@pytest.fixture(scope="module")
def runs(
    border_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, CoverageResult]:
    """The union's run and each province's, in one store (each of its own scope)."""
    root = tmp_path_factory.mktemp("runs")
    store = writable(border_store, root)
    found = {"union": _run(store, (), root / "union")}
    for code in PROVINCES:
        found[code] = _run(store, (code,), root / code)
    return found


def _offset(inner: rasterio.io.DatasetReader, outer: rasterio.io.DatasetReader) -> tuple[int, int]:
    """Row and column of ``inner``'s first pixel in ``outer``'s grid (same CRS, lattice)."""
    assert inner.crs == outer.crs and inner.res == outer.res
    col = (inner.transform.c - outer.transform.c) / outer.res[0]
    row = (outer.transform.f - inner.transform.f) / outer.res[1]
    assert col == int(col) and row == int(row), "the grids' pixels do not line up"
    return int(row), int(col)


def test_province_runs_give_the_union_rasters_to_the_bit(runs: dict[str, CoverageResult]) -> None:
    """Every raster of each province run equals the union's where the province run computed
    (its province and its villages), best-server numbers included, and every pixel the union
    computed is computed by a province run."""
    union = runs["union"]
    assert len(union.rasters) == 5  # two operators' RSRP and server rasters, the composite
    for raster in union.rasters:
        with rasterio.open(raster.path) as whole:
            values, nodata = whole.read(), whole.nodata
            covered = np.zeros(values.shape[1:], dtype=bool)
            for code in PROVINCES:
                (part,) = [r for r in runs[code].rasters if r.path.name == raster.path.name]
                with rasterio.open(part.path) as province:
                    row, col = _offset(province, whole)
                    mine = province.read()
                    assert province.descriptions == whole.descriptions
                at = (slice(row, row + mine.shape[1]), slice(col, col + mine.shape[2]))
                computed = (mine != nodata).any(axis=0)
                np.testing.assert_array_equal(mine[:, computed], values[:, *at][:, computed])
                covered[at] |= computed
        assert not ((values != nodata).any(axis=0) & ~covered).any(), raster.path.name


def test_cells_cover_across_the_border(runs: dict[str, CoverageResult]) -> None:
    """The northern run is served in places by cells of sites south of the border, which it
    read because they reach it; their server numbers are the union's."""
    north, union = runs[NORTH], runs["union"]
    servers = north.run.servers
    southern = servers[servers["cell_id"].str.startswith("TH-")]
    assert not southern.empty
    merged = servers.merge(union.run.servers, on=["operator", "technology", "cell_id"])
    assert len(merged) == len(servers)
    assert (merged["server_index_x"] == merged["server_index_y"]).all()
    (raster,) = [r for r in north.rasters if r.path.name == "vnpt_4G_server.tif"]
    with rasterio.open(raster.path) as dataset:
        best = dataset.read(1)
    vnpt_south = southern.loc[southern["operator"] == "vnpt", "server_index"]
    assert np.isin(best, vnpt_south.to_numpy()).sum() > 10


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True)


def test_villages_near_the_border_get_the_union_answer(runs: dict[str, CoverageResult]) -> None:
    """Each village is reported once, by the run of its commune's province, whole: a village
    across the border has the pixels and shares the union gives it, and so do the communes,
    districts, provinces, the priority area across the border and the gaps."""
    union = runs["union"].run
    parts = [runs[code].run for code in PROVINCES]
    keys = ["village_code", "technology", "operator"]
    by_province = pd.concat([p.villages for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(_sorted(by_province, keys), _sorted(union.villages, keys))
    north = set(parts[0].villages["village_code"])
    assert north == {"V-ACROSS-N", "V-NEAR-N", "V-FAR-N"}
    assert not north & set(parts[1].villages["village_code"])
    # the villages across the border have pixels on both sides, all counted in one run
    for code, village in ((NORTH, "V-ACROSS-N"), (SOUTH, "V-ACROSS-S")):
        run = runs[code].run
        row = run.villages[(run.villages["village_code"] == village)].iloc[0]
        assert row["pixels"] > 30
    area_keys = ["level", "code", "technology", "operator"]
    areas = pd.concat([p.areas for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(_sorted(areas, area_keys), _sorted(union.areas, area_keys))
    priority = areas[areas["level"] == "priority_area"]
    assert priority["code"].tolist() == ["PA-ACROSS"]
    gap_keys = ["village_code", "technology"]
    gaps = gpd.GeoDataFrame(
        pd.concat([p.gaps for p in parts], ignore_index=True), crs=union.gaps.crs
    )
    assert_geodataframe_equal(_sorted(gaps, gap_keys), _sorted(union.gaps, gap_keys))


@pytest.fixture(scope="module")
def layout(border_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = national.NationalSpec(
        out=tmp_path_factory.mktemp("layout") / "national",
        layers=("sites", "admin_units"),
        coverage_scope=None,
    )
    return national.run(spec, border_store).out


def test_a_position_across_the_border_is_found_once(
    border_store: GeoPackageStore, layout: Path
) -> None:
    """Positions of the layout computed province by province (each province's partition and
    its neighbours' sites near it) are those of all the sites at once, to the bit: the two
    sites 5 m either side of the border are one shared position, the chain across it one,
    the structure recorded in both provinces one; and counted once in the ratios."""
    sites = border_store.read("sites")
    assert isinstance(sites, gpd.GeoDataFrame)
    whole = positions(sites)
    by_province = positions_by_province(layout)
    assert_geodataframe_equal(by_province, whole, check_less_precise=False)

    partitions = {code: read_layer(layout / "layers" / "sites", [code]) for code in PROVINCES}
    assert "NB-VTL-03" in set(partitions[NORTH]["site_id"])
    assert "TH-VNP-03" in set(partitions[SOUTH]["site_id"])
    groups = set(by_province["site_ids"])
    assert {"NB-VTL-03,TH-VNP-03", "NB-MBF-01,TH-VTL-04,XX-VNM-01", "NB-VNP-05,TH-MBF-05"} <= groups
    # each partition alone would cut the position on the border in two
    for code, site in ((NORTH, "NB-VTL-03"), (SOUTH, "TH-VNP-03")):
        alone = positions(partitions[code].drop(columns="province"))
        assert site in set(alone["site_ids"])

    admin = border_store.read("admin_units")
    assert isinstance(admin, gpd.GeoDataFrame)
    placed = place_positions(by_province, admin)
    # every position but the one south of the box, outside both provinces
    assert placed["province_code"].notna().sum() == len(whole) - 1
    ratios = position_ratios(placed, admin)
    province = ratios[ratios["scope"] == "province"]
    assert province["positions"].sum() == len(whole) - 1
    assert province["shared_positions"].sum() == int(whole["shared"].sum())


def test_positions_do_not_depend_on_the_sites_order(border_store: GeoPackageStore) -> None:
    sites = border_store.read("sites")
    assert isinstance(sites, gpd.GeoDataFrame)
    shuffled = sites.sample(frac=1.0, random_state=3)
    assert_geodataframe_equal(positions(shuffled), positions(sites), check_less_precise=False)
