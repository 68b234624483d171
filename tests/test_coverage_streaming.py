"""The streamed coverage (tiles written to disk, statistics as sums) against the whole grid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import rasterio

from gis_planner.coverage import OPERATOR_CODES
from gis_planner.coverage.analysis import (
    VILLAGE_ADMIN_VERSION,
    analyse,
    default_area,
    run_features,
    study_grid,
)
from gis_planner.coverage.engine import NODATA_DB, compute_coverage, stream_coverage
from gis_planner.coverage.grid import Grid, Window
from gis_planner.coverage.products import (
    composite,
    coverage_tags,
    read_for_map,
    write_cog,
)
from gis_planner.coverage.scene import CoverageParams, build_scene
from gis_planner.coverage.stats import (
    area_coverage,
    label_pixels,
    priority_coverage,
    village_coverage,
)
from gis_planner.store import GeoPackageStore
from tests.test_coverage_engine import X0, Y0, cell_rows

RESOLUTION_M = 400.0


@pytest.fixture(scope="module")
def layers(sample_store: GeoPackageStore) -> dict[str, gpd.GeoDataFrame]:
    read = {n: sample_store.read(n) for n in ("cells", "admin_units", "villages", "priority_areas")}
    assert all(isinstance(frame, gpd.GeoDataFrame) for frame in read.values())
    return read  # type: ignore[return-value]


@pytest.mark.slow
def test_streamed_run_equals_the_whole_grid(
    layers: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    cells, admin = layers["cells"], layers["admin_units"]
    villages, priority = layers["villages"], layers["priority_areas"]
    # small tiles not aligned with the GeoTIFF blocks, two threads: many windows, any order
    params = CoverageParams(resolution_m=RESOLUTION_M, tile_px=7, workers=2)
    run = analyse(
        cells, admin, villages, priority, params, rasters_dir=tmp_path, technologies=["4G", "5G"]
    )

    # the whole grid in memory, as the engine computed it before it streamed: one tile; the
    # area with the villages and priority areas of its provinces, each whole
    area = default_area(admin)
    villages, priority = run_features(area, admin, villages, priority)
    assert priority is not None
    study = study_grid(area, RESOLUTION_M, features=(villages, priority))
    grid, mask = study.grid, study.grid.mask(study.area)
    whole = CoverageParams(resolution_m=RESOLUTION_M, tile_px=max(grid.shape))
    results = [compute_coverage(scene, grid, mask, whole) for scene in run.scenes]
    labels = label_pixels(villages, grid)
    labels[~mask] = 0
    village_parts, priority_parts = [], []
    for technology in ("4G", "5G"):
        mine = [r for r in results if r.scene.technology == technology]
        rasters = {r.scene.operator: r.best_rsrp_dbm for r in mine}
        threshold = mine[0].scene.threshold_dbm
        village_parts.append(village_coverage(villages, labels, rasters, technology, threshold))
        best, _ = composite(rasters)
        priority_parts.append(priority_coverage(priority, grid, best, technology, threshold))
    village_rows = pd.concat(village_parts, ignore_index=True)
    pre = admin[admin["admin_version"] == VILLAGE_ADMIN_VERSION]
    areas = pd.concat([area_coverage(village_rows, pre), *priority_parts], ignore_index=True)

    pd.testing.assert_frame_equal(run.villages, village_rows)
    pd.testing.assert_frame_equal(run.areas, areas)
    assert run.evaluations == sum(r.evaluations for r in results)

    # an independent look at one figure: the any-operator 4G share of the largest village
    k = int(village_rows["pixels"].idxmax()) % len(villages)
    any_4g = np.maximum.reduce([r.best_rsrp_dbm for r in results if r.scene.technology == "4G"])
    expected = float(np.mean(any_4g[labels == k + 1] >= -110.0))
    row = run.villages[(run.villages["operator"] == "any") & (run.villages["technology"] == "4G")]
    assert row["area_share"].iloc[k] == pytest.approx(expected)

    # the COGs hold the bands of the whole-grid computation, with their descriptions
    by_name = {r.path.name: r for r in run.rasters}
    assert len(by_name) == 2 * len(run.scenes) + 2
    assert not list(tmp_path.glob("*.part"))
    for result in results:
        stem = f"{result.scene.operator}_{result.scene.technology}"
        with rasterio.open(tmp_path / f"{stem}_rsrp.tif") as dataset:
            assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert dataset.descriptions == ("best_rsrp_dbm", "second_rsrp_dbm", "sinr_db")
            assert dataset.tags()["units"] == "dBm,dBm,dB"
            assert dataset.tags()["operator"] == result.scene.operator
            np.testing.assert_array_equal(dataset.read(1), result.best_rsrp_dbm)
            np.testing.assert_array_equal(dataset.read(2), result.second_rsrp_dbm)
            np.testing.assert_array_equal(dataset.read(3), result.sinr_db)
            written = [b.name for b in by_name[f"{stem}_rsrp.tif"].bands]
            assert written == list(dataset.descriptions)
        with rasterio.open(tmp_path / f"{stem}_server.tif") as dataset:
            np.testing.assert_array_equal(dataset.read(1), result.best_server + 1)
            np.testing.assert_array_equal(dataset.read(2), result.n_servers)
    with rasterio.open(tmp_path / "any_4G_rsrp.tif") as dataset:
        rasters = {r.scene.operator: r.best_rsrp_dbm for r in results if r.scene.technology == "4G"}
        best, operator = composite(rasters)
        np.testing.assert_array_equal(dataset.read(1), best)
        # the operator's code where the area is (0: none there), nodata outside it
        np.testing.assert_array_equal(dataset.read(2), np.where(mask, operator, NODATA_DB))
        assert set(np.unique(operator)) <= {0, *OPERATOR_CODES.values()}
    assert (best[~mask] == NODATA_DB).all()


def test_windows_are_read_lazily() -> None:
    """The engine takes windows as it goes: never more than twice the workers ahead."""
    cells = cell_rows({"h_beamwidth_deg": 360.0})
    scene = build_scene(
        cells, np.array([X0 + 1000.0]), np.array([Y0 - 1000.0]),
        np.full(1, "urban", dtype=object), CoverageParams(), "viettel", "4G",
    )  # fmt: skip
    grid = Grid(X0, Y0, 50.0, 40, 40, "EPSG:32648")
    params = CoverageParams(tile_px=4, workers=2)
    taken: list[Window] = []

    def windows() -> Iterator[tuple[Window, npt.NDArray[np.bool_]]]:
        for window in grid.windows(params.tile_px):
            taken.append(window)
            yield window, np.ones((window.height, window.width), dtype=bool)

    seen = 0
    for tile in stream_coverage([scene], grid, windows(), params):
        seen += 1
        assert len(taken) - seen <= 2 * params.workers
        assert tile.rasters[0].best_rsrp_dbm.shape == (tile.window.height, tile.window.width)
    assert seen == len(taken) == 100


def test_map_of_a_large_raster_reads_an_overview(tmp_path: Path) -> None:
    grid = Grid(580_000.0, 2_290_000.0, 25.0, 700, 600, "EPSG:32648")
    rsrp = np.full(grid.shape, NODATA_DB, dtype=np.float32)
    rsrp[:, 350:] = -95.0
    tags = coverage_tags(CoverageParams(), operator="viettel", technology="4G")
    path = write_cog(tmp_path / "x.tif", [rsrp], grid, NODATA_DB, tags, ("best_rsrp_dbm",))
    small, small_grid = read_for_map(path, max_px=256)
    assert small.shape == small_grid.shape == (200, 234)
    assert small_grid.resolution_m == 75.0
    assert (small_grid.x_min, small_grid.y_max) == (grid.x_min, grid.y_max)
    assert set(np.unique(small)) == {NODATA_DB, -95.0}
    full, full_grid = read_for_map(path)
    assert full_grid == grid
    np.testing.assert_array_equal(full, rsrp)


def test_window_masks_are_the_windows_masks(layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Empty and whole windows' masks come from the pixels counted, not computed again: the
    same masks."""
    admin = layers["admin_units"]
    study = study_grid(default_area(admin), 100.0, tile_px=64)
    counted = {n for _, n in study.windows}
    assert 0 in counted and 64 * 64 in counted  # both shortcuts are taken
    for window, mask in study.window_masks():
        np.testing.assert_array_equal(mask, study.grid.sub(window).mask(study.area))
