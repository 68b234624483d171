"""Terrain in the coverage engine: level ground changes nothing, a ridge costs its knife-edge
loss, a hill's shadow has the extent its geometry gives, clutter adds its loss, products say
which terrain they used. Synthetic DEMs are real GeoTIFFs written in ``tmp_path``."""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.coverage import terrain as terrain_module
from gis_planner.coverage.engine import (
    CoverageResult,
    CoverageTile,
    compute_coverage,
    masked_windows,
    stream_coverage,
)
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.products import coverage_tags
from gis_planner.coverage.scene import CoverageParams, build_scene
from gis_planner.coverage.terrain import (
    TerrainError,
    TerrainInputs,
    mast_batches,
    open_terrain,
    read_clutter_table,
    read_window,
)
from gis_planner.crs import lonlat_to_metric
from gis_planner.radio.diffraction import curvature_per_m, knife_edge_loss_db, wavelength_m
from gis_planner.store import GeoPackageStore
from tests.test_coverage_engine import cell_rows

RES = 25.0
CRS = "EPSG:32648"
X0, Y0 = 600_000.0, 2_270_000.0
#: The grid of the ridge tests: 5 km east of the mast, 1 km either side of its row.
GRID = Grid(X0, Y0, RES, 200, 81, CRS)
#: The mast at the centre of the first column's middle pixel.
TX_X, TX_Y = X0 + RES / 2, Y0 - 40.5 * RES
TX_HEIGHT_M, UE_HEIGHT_M = 30.0, 1.5


def write_dem(
    path: Path, heights: npt.NDArray[np.floating], transform: Affine, crs: str = CRS
) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=heights.shape[1], height=heights.shape[0], count=1,
        dtype=heights.dtype.name, crs=crs, transform=transform,
        nodata=255 if heights.dtype.kind == "u" else -32768,
    ) as dataset:  # fmt: skip
        dataset.write(heights, 1)
    return path


def grid_dem(path: Path, heights: npt.NDArray[np.floating], margin_px: int = 20) -> Path:
    """A DEM on ``GRID``'s pixels (with a margin of the edge values around it)."""
    padded = np.pad(heights, margin_px, mode="edge")
    transform = Affine(RES, 0.0, X0 - margin_px * RES, 0.0, -RES, Y0 + margin_px * RES)
    return write_dem(path, padded, transform)


def omni(**row: object) -> tuple[object, ...]:
    """One omni cell at the mast, heard to the grid's edge."""
    cells = cell_rows(
        {"h_beamwidth_deg": 360.0, "elec_tilt_deg": 0.0, "height_m": TX_HEIGHT_M, **row}
    )
    return cells, np.array([TX_X]), np.array([TX_Y])


def run(terrain: TerrainInputs | None, band_mhz: float = 3500.0, grid: Grid = GRID,
        **params: object) -> CoverageResult:  # fmt: skip
    cells, x, y = omni(band_mhz=band_mhz, technology="5G")
    p = CoverageParams(margins_db=(("5G", 80.0),), terrain=terrain, **params)  # type: ignore[arg-type]
    env = np.full(1, "urban", dtype=object)
    scene = build_scene(cells, x, y, env, p, "viettel", "5G")  # type: ignore[arg-type]
    return compute_coverage(scene, grid, params=p)


def assert_same(a: CoverageResult, b: CoverageResult) -> None:
    for name in ("best_rsrp_dbm", "second_rsrp_dbm", "sinr_db", "best_server", "n_servers"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.evaluations == b.evaluations


@pytest.mark.parametrize("dtype", ["float32", "int16", "float64"])
def test_level_dem_gives_the_flat_result_to_the_bit(tmp_path: Path, dtype: str) -> None:
    # in lon/lat, so that it is resampled to the grid: a level surface must stay level
    lon, lat = 105.9, 20.55
    heights = np.full((300, 300), 12.3, dtype=dtype)
    dem = write_dem(
        tmp_path / "level.tif", heights, Affine(0.0003, 0, lon - 0.045, 0, -0.0003, lat + 0.045),
        "EPSG:4326",
    )  # fmt: skip
    x, y = lonlat_to_metric(lon, lat, CRS)
    grid = Grid(float(x) - 2500.0, float(y) + 1000.0, RES, 200, 81, CRS)
    cells = cell_rows(
        {"azimuth_deg": 60.0}, {"azimuth_deg": 180.0, "band_mhz": 900.0},
        {"azimuth_deg": 300.0, "band_mhz": 2100.0, "bandwidth_mhz": 10.0, "height_m": 42.0},
    )  # fmt: skip
    cx = np.array([x - 1200.0, x, x + 1500.0])
    cy = np.array([y - 500.0, y, y - 200.0])
    env = np.full(3, "suburban", dtype=object)
    flat = CoverageParams(margins_db=(("4G", 40.0),), tile_px=64)
    with_dem = CoverageParams(margins_db=(("4G", 40.0),), tile_px=64, terrain=open_terrain(dem))
    results = [
        compute_coverage(build_scene(cells, cx, cy, env, p, "viettel", "4G"), grid, params=p)
        for p in (flat, with_dem)
    ]
    assert (results[0].best_server >= 0).mean() > 0.9
    assert_same(*results)


def ridge_heights(col: int, height_m: float) -> npt.NDArray[np.float32]:
    """A north–south wall one pixel wide at column ``col`` on level ground at 5 m."""
    heights = np.full(GRID.shape, 5.0, dtype=np.float32)
    heights[:, col] += height_m
    return heights


def test_a_ridge_costs_its_knife_edge_loss(tmp_path: Path) -> None:
    col, height = 40, 45.0  # 1 km east of the mast, 15 m above the antenna
    flat = run(None)
    ridged = run(open_terrain(grid_dem(tmp_path / "ridge.tif", ridge_heights(col, height))))
    row = 40  # the mast's row: the ray due east samples every pixel centre
    loss = (flat.best_rsrp_dbm - ridged.best_rsrp_dbm)[row]
    # before the ridge nothing changes
    assert (loss[:col] == 0.0).all()
    lam = wavelength_m(3500.0)
    curvature = curvature_per_m()
    d1 = col * RES
    for j in range(col + 4, 160, 7):
        d = j * RES
        d2 = d - d1
        above = height + d1 * d2 * curvature - (TX_HEIGHT_M * d2 + UE_HEIGHT_M * d1) / d
        nu = above * math.sqrt(2 * d / (lam * d1 * d2))
        # the level profile costs nothing at 3.5 GHz (see test_radio_diffraction)
        assert loss[j] == pytest.approx(knife_edge_loss_db(nu), abs=0.01), j


def test_the_shadow_of_a_hill_has_its_geometric_extent(tmp_path: Path) -> None:
    # a flat-topped hill 20 m high, below the antenna, across the whole grid: behind it the
    # shadow ends where the line from the antenna over its top's far edge comes down to the
    # receivers' height (3.06 km out on the mast's row: 28.5/10 × 1.075 km)
    first, last, height = 37, 43, 20.0
    heights = np.zeros(GRID.shape, dtype=np.float32)
    heights[:, first : last + 1] = height
    flat = run(None)
    hill = run(open_terrain(grid_dem(tmp_path / "hill.tif", heights)))
    loss = flat.best_rsrp_dbm - hill.best_rsrp_dbm
    # in the shadow the loss exceeds the grazing loss, J(0) = 6.03 dB; beyond, it falls below
    grazing_db = knife_edge_loss_db(0.0)
    curvature = curvature_per_m()
    xs, ys = GRID.pixel_centres()
    behind = xs > xs[last]
    ends = []
    for i in range(0, GRID.height, 4):
        dy = ys[i] - TX_Y
        # along the ray through the row's pixels: the top's edge at r_top, receivers at r
        r_top = math.hypot(xs[last] - TX_X, dy * (xs[last] - TX_X) / (xs[-1] - TX_X))
        r = np.hypot(xs - TX_X, dy)
        line = TX_HEIGHT_M + (height - r_top**2 * curvature - TX_HEIGHT_M) * r / r_top
        shadowed = UE_HEIGHT_M - r**2 * curvature < line
        expected = int(np.flatnonzero(behind & ~shadowed)[0])
        measured = int(np.flatnonzero(behind & (loss[i] < grazing_db))[0])
        ends.append(measured - expected)
    # on the mast's row the rays sample every pixel centre: to the pixel; elsewhere the profile
    # is sampled every 25 m along the ray and the top's edge is found to within a sample
    assert ends[10] == 0
    assert max(abs(e) for e in ends) <= 3, ends
    assert 3000 < np.flatnonzero(behind & (loss[40] < grazing_db))[0] * RES < 3150


def test_tiling_does_not_change_the_terrain_result(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    heights = (rng.random(GRID.shape) * 30.0).astype(np.float32)
    terrain = open_terrain(grid_dem(tmp_path / "rough.tif", heights))
    whole = run(terrain, band_mhz=1800.0, tile_px=1024)
    tiled = run(terrain, band_mhz=1800.0, tile_px=37, workers=2)
    assert_same(whole, tiled)
    assert (run(None, band_mhz=1800.0).best_rsrp_dbm > whole.best_rsrp_dbm).any()


def test_clutter_adds_its_loss_and_its_height(tmp_path: Path) -> None:
    level = np.full(GRID.shape, 5.0, dtype=np.float32)
    dem = grid_dem(tmp_path / "level.tif", level)
    classes = np.zeros(GRID.shape, dtype=np.uint8)
    classes[:, 60:80] = 1  # a village: 5 dB at its receivers, nothing on others' paths
    classes[:, 120:122] = 2  # a tree line: 12 m on the paths, no loss of its own
    land = grid_dem(tmp_path / "land.tif", classes)
    table = tmp_path / "classes.csv"
    table.write_text(
        "class,height_m,loss_db,name\n0,0,0,open\n1,0,5,village\n2,12,0,trees\n", encoding="utf-8"
    )
    flat = run(None)
    cluttered = run(open_terrain(dem, land, table))
    loss = flat.best_rsrp_dbm - cluttered.best_rsrp_dbm
    np.testing.assert_allclose(loss[:, 60:80], 5.0, atol=1e-4)
    assert (loss[:, :60] == 0.0).all() and (loss[:, 80:120] == 0.0).all()
    # behind the trees, in their shadow for a while
    assert (loss[40, 123:130] > 6.0).all()


def test_products_say_which_terrain_they_used(tmp_path: Path) -> None:
    dem = grid_dem(tmp_path / "dem.tif", np.zeros(GRID.shape, dtype=np.float32))
    terrain = open_terrain(dem)
    tags = coverage_tags(CoverageParams(terrain=terrain), operator="viettel", technology="4G")
    recorded = json.loads(tags["terrain"])
    assert recorded["dem"]["path"] == str(dem.resolve())
    assert recorded["dem"]["size_bytes"] == dem.stat().st_size
    assert recorded["clutter"] is None and recorded["k_factor"] == pytest.approx(4 / 3)
    assert json.loads(tags["coverage_params"])["terrain"] == recorded
    assert coverage_tags(CoverageParams())["terrain"].startswith("none")


def test_bad_terrain_inputs_are_refused(tmp_path: Path) -> None:
    not_raster = tmp_path / "dem.tif"
    not_raster.write_text("not a raster", encoding="utf-8")
    with pytest.raises(TerrainError, match="not a GTiff raster"):
        open_terrain(not_raster)
    # the extension picks the one driver the file is opened with
    with pytest.raises(TerrainError, match="expected a raster named"):
        open_terrain(not_raster.rename(tmp_path / "dem.zip"))
    dem = grid_dem(tmp_path / "ok.tif", np.zeros(GRID.shape, dtype=np.float32))
    with pytest.raises(TerrainError, match="go together"):
        open_terrain(dem, clutter=dem)
    table = tmp_path / "bad.csv"
    table.write_text("class,height_m,loss_db\n1,-3,0\n", encoding="utf-8")
    with pytest.raises(TerrainError, match="line 2"):
        read_clutter_table(table)
    table.write_text("class,height\n1,3\n", encoding="utf-8")
    with pytest.raises(TerrainError, match="columns"):
        read_clutter_table(table)


@pytest.mark.slow
def test_coverage_command_with_a_level_dem(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    store = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, store)
    west, south, east, north = GeoPackageStore(store).read("admin_units").total_bounds
    step = 1 / 1200  # 3″, SRTM3's pixel
    width, height = math.ceil((east - west + 0.3) / step), math.ceil((north - south + 0.3) / step)
    level = np.full((height, width), 4, dtype=np.int16)
    dem = write_dem(tmp_path / "dem.tif", level,
                    Affine(step, 0, west - 0.15, 0, -step, north + 0.15), "EPSG:4326")  # fmt: skip
    args = ["coverage", "--store", str(store), "--resolution-m", "500", "--workers", "1",
            "--operator", "viettel", "--tech", "5G", "--out", str(tmp_path / "tables")]  # fmt: skip
    english = {"COLUMNS": "200", "GIS_PLANNER_LANG": "en"}

    def rsrp() -> tuple[npt.NDArray[np.float32], dict[str, str]]:
        (path,) = (GeoPackageStore(store).assets_dir / "coverage").glob("*/viettel_5G_rsrp.tif")
        with rasterio.open(path) as dataset:
            return dataset.read(1), dataset.tags()

    result = CliRunner().invoke(app, args, env=english)
    assert result.exit_code == 0, result.output
    flat, flat_tags = rsrp()
    assert flat_tags["terrain"].startswith("none")
    result = CliRunner().invoke(app, [*args, "--terrain", str(dem)], env=english)
    assert result.exit_code == 0, result.output
    hilly, tags = rsrp()
    np.testing.assert_array_equal(hilly, flat)
    assert json.loads(tags["terrain"])["dem"]["path"] == str(dem.resolve())
    (record,) = [r for r in GeoPackageStore(store).products()
                 if r.path and r.path.endswith("viettel_5G_rsrp.tif")]  # fmt: skip
    assert record.parameters["terrain"]["dem"]["size_bytes"] == dem.stat().st_size
    # a DEM short of the area is refused before anything is computed
    small = write_dem(tmp_path / "small.tif", level[:50, :50],
                      Affine(step, 0, west, 0, -step, north), "EPSG:4326")  # fmt: skip
    result = CliRunner().invoke(app, [*args, "--terrain", str(small)], env=english)
    assert result.exit_code == 2 and "does not cover the run's area" in result.output
    result = CliRunner().invoke(app, [*args, "--clutter", str(dem)], env=english)
    assert result.exit_code == 2 and "go together" in result.output


def test_mast_batches_keep_each_scene_in_order() -> None:
    order = [np.array([0, 0, 1, 2, 2, 3], dtype=np.int32), np.array([1, 0, 3, 3, 4], np.int32)]
    batches = list(mast_batches(order, 2))
    for s, masts in enumerate(order):
        runs = [run for _, scene_runs in batches for run in [scene_runs[s]]]
        # the runs of a scene follow one another and cover its cells once
        assert runs[0][0] == 0 and runs[-1][1] == len(masts)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(runs))
        for batch, scene_runs in batches:
            start, stop = scene_runs[s]
            assert set(masts[start:stop].tolist()) <= set(batch)
    assert all(len(batch) <= 2 for batch, _ in batches)


def test_level_dem_in_mast_batches_gives_the_flat_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two scenes sharing masts, two masts held at a time: many batches and runs per tile
    monkeypatch.setattr(terrain_module, "MAST_SLOTS", 2)
    dem = grid_dem(tmp_path / "level.tif", np.full(GRID.shape, 7.0, dtype=np.float32))
    sites = [(X0 + 400.0 + 900.0 * k, Y0 - 300.0 - 350.0 * (k % 3)) for k in range(5)]
    rows = [
        {"cell_id": f"S{k}-{tech}-{a}", "technology": tech, "band_mhz": band,
         "azimuth_deg": 120.0 * a + 10.0 * k}
        for k in range(5) for tech, band in (("2G", 900.0), ("4G", 1800.0)) for a in range(3)
    ]  # fmt: skip
    cells = cell_rows(*rows)
    x = np.array([sites[int(r["cell_id"][1])][0] for r in rows])
    y = np.array([sites[int(r["cell_id"][1])][1] for r in rows])
    env = np.full(len(rows), "suburban", dtype=object)

    def tiles(terrain: TerrainInputs | None) -> list[CoverageTile]:
        p = CoverageParams(margins_db=(("2G", 20.0), ("4G", 20.0)), tile_px=64, terrain=terrain)
        scenes = [
            build_scene(cells[cells["technology"] == t].reset_index(drop=True),
                        x[(cells["technology"] == t).to_numpy()],
                        y[(cells["technology"] == t).to_numpy()],
                        env[:15], p, "viettel", t)
            for t in ("2G", "4G")
        ]  # fmt: skip
        mask = np.ones(GRID.shape, dtype=bool)
        return list(stream_coverage(scenes, GRID, masked_windows(GRID, mask, 64), p))

    for flat, level in zip(tiles(None), tiles(open_terrain(dem)), strict=True):
        for a, b in zip(flat.rasters, level.rasters, strict=True):
            for name in ("best_rsrp_dbm", "second_rsrp_dbm", "sinr_db", "best_server"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            np.testing.assert_array_equal(a.n_servers, b.n_servers)
            assert a.evaluations == b.evaluations


def test_srtm_hgt_and_vrt_read_as_the_geotiff(tmp_path: Path) -> None:
    # one SRTM3 tile (1201 × 1201 at 3″, N20E105) of varied heights, and a VRT over it
    step = 1 / 1200
    heights = ((np.arange(1201 * 1201).reshape(1201, 1201) * 7) % 311).astype(np.int16)
    corner = Affine(step, 0, 105 - step / 2, 0, -step, 21 + step / 2)
    tif = write_dem(tmp_path / "n20e105.tif", heights, corner, "EPSG:4326")
    hgt = tmp_path / "N20E105.hgt"
    rasterio.shutil.copy(tif, hgt, driver="SRTMHGT")
    vrt = tmp_path / "dem.vrt"
    vrt.write_text(
        f"""<VRTDataset rasterXSize="1201" rasterYSize="1201">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>{105 - step / 2!r}, {step!r}, 0, {21 + step / 2!r}, 0, {-step!r}</GeoTransform>
  <VRTRasterBand dataType="Int16" band="1">
    <SimpleSource><SourceFilename relativeToVRT="1">n20e105.tif</SourceFilename>
      <SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>""",
        encoding="utf-8",
    )
    x, y = lonlat_to_metric(105.5, 20.5, CRS)
    grid = Grid(float(x) - 3000.0, float(y) + 3000.0, 30.0, 200, 200, CRS)
    windows = [read_window(open_terrain(path), grid, grid.bounds) for path in (tif, hgt, vrt)]
    assert windows[0].ground_m.std() > 50.0
    for other in windows[1:]:
        np.testing.assert_array_equal(other.ground_m, windows[0].ground_m)
