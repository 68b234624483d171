"""The raster engine against a direct numpy computation, by hand, and across tilings."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from gis_planner.coverage.engine import (
    BANDS,
    NODATA_DB,
    PackedTile,
    TileTask,
    compute_coverage,
    run_packed,
    run_task,
)
from gis_planner.coverage.grid import Grid, Window
from gis_planner.coverage.reach import N_REACH_BINS, reach_extent
from gis_planner.coverage.scene import CoverageParams, Scene, build_scene
from gis_planner.errors import GisPlannerError
from gis_planner.radio.antenna import read_msi, sector_pattern
from gis_planner.radio.linkbudget import Carrier, thermal_noise_dbm
from gis_planner.radio.propagation import model_for

X0, Y0 = 600_000.0, 2_270_000.0


def cell_rows(*rows: dict[str, object]) -> pd.DataFrame:
    """Cells with the catalogue's columns; each row overrides the defaults."""
    defaults: dict[str, object] = {
        "operator": "viettel", "technology": "4G", "band_mhz": 1800.0, "bandwidth_mhz": 20.0,
        "azimuth_deg": 0.0, "mech_tilt_deg": 0.0, "elec_tilt_deg": 4.0, "height_m": 30.0,
        "tx_power_dbm": 46.0, "antenna_gain_dbi": 17.0, "feeder_loss_db": 1.0,
        "h_beamwidth_deg": 65.0, "v_beamwidth_deg": 10.0, "status": "on-air",
    }  # fmt: skip
    frame = pd.DataFrame([{**defaults, "cell_id": f"C{i}", **row} for i, row in enumerate(rows)])
    return frame


def mixed_mask(window: Window) -> npt.NDArray[np.bool_]:
    """A window's mask for tilings of 8 px: a third of the windows empty, a third part
    covered, a third whole."""
    mask = np.ones((window.height, window.width), dtype=bool)
    kind = (window.row0 + window.col0 // 8) % 3
    if kind == 0:
        mask[:] = False
    elif kind == 1:
        mask[::2, 1::3] = False
    return mask


def scene_of(cells: pd.DataFrame, x: list[float], y: list[float], **params: object) -> Scene:
    p = CoverageParams(**params)  # type: ignore[arg-type]
    environments = np.full(len(cells), "urban", dtype=object)
    return build_scene(cells, np.array(x), np.array(y), environments, p, "viettel", "4G")


def direct_rsrp(cells: pd.DataFrame, x: list[float], y: list[float], grid: Grid) -> np.ndarray:
    """RSRP of every cell at every pixel with the public radio API, no tables, no culling."""
    xs, ys = grid.pixel_centres()
    px, py = np.meshgrid(xs, ys)
    out = []
    for i, cell in cells.reset_index(drop=True).iterrows():
        dx, dy = px - x[i], py - y[i]
        dist = np.hypot(dx, dy)
        model = model_for(cell["band_mhz"], "urban")
        loss = model.path_loss(dist, cell["band_mhz"], cell["height_m"], 1.5).loss_db
        pattern = sector_pattern(
            cell["antenna_gain_dbi"], cell["h_beamwidth_deg"], cell["v_beamwidth_deg"]
        )
        bearing = np.degrees(np.arctan2(dx, dy))
        seen_at = np.maximum(dist, model.min_dist_m)  # the engine's rule inside the model's range
        depression = np.degrees(np.arctan2(cell["height_m"] - 1.5, seen_at))
        gain = pattern.gain_towards_dbi(
            bearing, depression, cell["azimuth_deg"], cell["mech_tilt_deg"], cell["elec_tilt_deg"]
        )
        share = Carrier("4G", cell["bandwidth_mhz"]).reference_share_db
        out.append(cell["tx_power_dbm"] + share - cell["feeder_loss_db"] + gain - loss)
    return np.stack(out)


def test_three_cells_match_a_direct_computation() -> None:
    cells = cell_rows(
        {"azimuth_deg": 30.0, "mech_tilt_deg": 2.0},
        {"azimuth_deg": 150.0, "band_mhz": 1800.0, "height_m": 42.0},
        {"azimuth_deg": 270.0, "band_mhz": 2100.0, "bandwidth_mhz": 10.0, "elec_tilt_deg": 6.0},
    )
    x, y = [X0 + 500.0, X0 + 1500.0, X0 + 2600.0], [Y0 - 800.0, Y0 - 1700.0, Y0 - 1200.0]
    grid = Grid(X0, Y0, 25.0, 120, 100, "EPSG:32648")
    scene = scene_of(cells, x, y, margins_db=(("4G", 60.0),), max_range_m=5000.0)
    result = compute_coverage(scene, grid)
    rsrp = direct_rsrp(cells, x, y, grid)
    # pixels every cell reaches; tables are sampled every 5 m and 0.1°
    xs, ys = grid.pixel_centres()
    dist = np.stack([np.hypot(*np.meshgrid(xs - xi, ys - yi)) for xi, yi in zip(x, y, strict=True)])
    # beyond 50 m of the masts, where the elevation angle changes slowly over a 5 m step
    reached = np.all(dist <= scene.range_m[:, None, None], axis=0) & (dist.min(axis=0) > 50.0)
    assert reached.mean() > 0.9
    order = np.sort(rsrp, axis=0)
    np.testing.assert_allclose(result.best_rsrp_dbm[reached], order[-1][reached], atol=0.05)
    np.testing.assert_allclose(result.second_rsrp_dbm[reached], order[-2][reached], atol=0.05)
    clear = reached & (order[-1] - order[-2] > 0.2)
    np.testing.assert_array_equal(result.best_server[clear], np.argmax(rsrp, axis=0)[clear])
    # SINR: cells 0 and 1 share 1800 MHz, cell 2 is alone on 2100 MHz
    noise_mw = 10 ** (thermal_noise_dbm(15e3, 7.0) / 10)
    mw = 10 ** (rsrp / 10)
    best = np.argmax(rsrp, axis=0)
    co_channel = np.where(best == 2, 0.0, mw[0] + mw[1] - mw[best, *np.indices(best.shape)])
    expected = 10 * np.log10(mw.max(axis=0) / (co_channel + noise_mw))
    np.testing.assert_allclose(result.sinr_db[clear], expected[clear], atol=0.05)
    counted = (rsrp >= -110.0).sum(axis=0)
    margin = np.abs(rsrp + 110.0).min(axis=0) > 0.1
    np.testing.assert_array_equal(result.n_servers[reached & margin], counted[reached & margin])


def test_tables_end_at_the_sample_past_the_farthest_reach() -> None:
    # cells 0 and 1 share a table (same model, band and height), cell 2 has its own
    cells = cell_rows({}, {"azimuth_deg": 180.0, "tx_power_dbm": 40.0}, {"height_m": 45.0})
    x, y = [X0, X0, X0 + 3000.0], [Y0, Y0, Y0]
    scene = scene_of(cells, x, y, margins_db=(("4G", 10.0),), max_range_m=10_000.0)
    step = scene.table_step_m
    # the kernel interpolates at a distance d between the samples floor(d / step) and the next
    last = np.floor(scene.range_m / step).astype(int) + 1
    assert scene.table_offset[0] == scene.table_offset[1] != scene.table_offset[2]
    assert len(scene.path_loss_table) == max(last[0], last[1]) + 1 + last[2] + 1
    assert scene.range_m.max() < 10_000.0 / 2  # the cut removes most of the model's range
    model = model_for(1800.0, "urban")
    for cell, height_m in ((0, 30.0), (2, 45.0)):
        samples = np.arange(last[cell] + 1)
        held = scene.path_loss_table[scene.table_offset[cell] + samples]
        loss = model.path_loss(samples * step, 1800.0, height_m, 1.5).loss_db
        np.testing.assert_allclose(held, loss, rtol=1e-6)


def test_two_cell_boundary_and_sinr_by_hand() -> None:
    # two identical omni cells 2 km apart face each other: the boundary is the mid-line
    cells = cell_rows(
        {"h_beamwidth_deg": 360.0, "elec_tilt_deg": 0.0},
        {"h_beamwidth_deg": 360.0, "elec_tilt_deg": 0.0},
    )
    x, y = [X0 + 1000.0, X0 + 3000.0], [Y0 - 1000.0, Y0 - 1000.0]
    # columns 0–39 are west of the mid-line x = X0 + 2000
    grid = Grid(X0, Y0, 50.0, 80, 40, "EPSG:32648")
    result = compute_coverage(scene_of(cells, x, y, margins_db=(("4G", 40.0),)), grid)
    row = 19  # pixel centres at y = Y0 − 975, 25 m north of both cells
    assert (result.best_server[row, :40] == 0).all() and (result.best_server[row, 40:] == 1).all()
    # the two pixels astride the mid-line mirror each other
    assert result.best_rsrp_dbm[row, 39] == pytest.approx(result.best_rsrp_dbm[row, 40], abs=1e-4)
    assert result.second_rsrp_dbm[row, 39] == pytest.approx(
        result.second_rsrp_dbm[row, 40], abs=1e-4
    )
    assert result.best_rsrp_dbm[row, 39] > result.second_rsrp_dbm[row, 39]
    # SINR there: S / (I + N) with I the other cell at the mirror distance
    s_mw = 10 ** (result.best_rsrp_dbm[row, 39] / 10)
    i_mw = 10 ** (result.second_rsrp_dbm[row, 39] / 10)
    n_mw = 10 ** (thermal_noise_dbm(15e3, 7.0) / 10)
    assert result.sinr_db[row, 39] == pytest.approx(10 * np.log10(s_mw / (i_mw + n_mw)), abs=1e-3)
    assert -0.5 < result.sinr_db[row, 39] < 0.5
    # with two cells the interference is the second best everywhere
    s_all = 10 ** (result.best_rsrp_dbm / 10)
    i_all = 10 ** (result.second_rsrp_dbm / 10)
    np.testing.assert_allclose(result.sinr_db, 10 * np.log10(s_all / (i_all + n_mw)), atol=1e-3)
    assert result.sinr_db[row, 20] > 5.0 > result.sinr_db[row, 35]


def test_levels_below_the_floor_are_nodata() -> None:
    cells = cell_rows({"h_beamwidth_deg": 360.0, "elec_tilt_deg": 0.0})
    grid = Grid(X0, Y0, 100.0, 100, 100, "EPSG:32648")
    scene = scene_of(cells, [X0 + 5000.0], [Y0 - 5000.0], margins_db=(("4G", 0.0),))
    result = compute_coverage(scene, grid)
    xs, ys = grid.pixel_centres()
    dist = np.hypot(*np.meshgrid(xs - (X0 + 5000.0), ys - (Y0 - 5000.0)))
    r = scene.range_m[0]
    assert 0 < r < 5000
    assert (result.best_rsrp_dbm[dist > r + 1] == NODATA_DB).all()
    assert (result.best_server[dist > r + 1] == -1).all()
    served = result.best_server >= 0
    assert (result.best_rsrp_dbm[served] >= -110.0).all()


@pytest.mark.parametrize("mech_tilt_deg", [0.0, 4.0, -3.0])
def test_directional_reach_is_never_short(mech_tilt_deg: float) -> None:
    # a tilted sector: it must be evaluated wherever its level reaches the floor, front and back
    cells = cell_rows(
        {"azimuth_deg": 200.0, "elec_tilt_deg": 2.0, "mech_tilt_deg": mech_tilt_deg,
         "v_beamwidth_deg": 7.0, "tx_power_dbm": 49.0},
    )  # fmt: skip
    x, y = [X0 + 3000.0], [Y0 - 3000.0]
    grid = Grid(X0, Y0, 50.0, 120, 120, "EPSG:32648")
    result = compute_coverage(scene_of(cells, x, y, margins_db=(("4G", 0.0),)), grid)
    rsrp = direct_rsrp(cells, x, y, grid)[0]
    clear = np.abs(rsrp + 110.0) > 0.05
    above = rsrp >= -110.0
    assert above.sum() > 100 and (~above).sum() > 100
    np.testing.assert_array_equal((result.best_server == 0)[clear], above[clear])
    np.testing.assert_allclose(result.best_rsrp_dbm[above & clear], rsrp[above & clear], atol=0.05)


@pytest.mark.parametrize("step_m", [5.0, 0.3])
def test_reach_in_single_precision_is_never_short(step_m: float) -> None:
    # a whole number of table steps, in float32 rounded up: exact for the default 5 m step,
    # never below the distance for a step float32 cannot hold
    cells = cell_rows({"azimuth_deg": 30.0}, {"h_beamwidth_deg": 360.0, "tx_power_dbm": 40.0})
    scene = scene_of(cells, [X0, X0], [Y0, Y0], table_step_m=step_m)
    assert scene.reach_m.dtype == np.float32
    metres = scene.reach_m.astype(np.float64)
    steps = np.round(metres / step_m)
    assert (steps > 0).any()
    assert (metres >= steps * step_m).all()
    if step_m == 5.0:
        np.testing.assert_array_equal(metres, steps * step_m)
    assert scene.range_m.dtype == np.float64


def test_each_cell_reaches_as_far_as_alone() -> None:
    """Cells of the same path-loss table, pattern and tilts share their envelopes (made once
    a kind); every cell's reach and extent are still the ones it has in a scene of its own."""
    cells = cell_rows(
        {"azimuth_deg": 30.0, "mech_tilt_deg": 2.0},
        {"azimuth_deg": 270.0, "mech_tilt_deg": 5.0},
        {"azimuth_deg": 150.0, "mech_tilt_deg": 2.0, "tx_power_dbm": 40.0},
        {"h_beamwidth_deg": 360.0, "mech_tilt_deg": 2.0},
        {"azimuth_deg": 30.0, "mech_tilt_deg": 2.0, "height_m": 45.0},
        {"azimuth_deg": 80.0, "mech_tilt_deg": -2.0, "elec_tilt_deg": 7.0},
    )  # fmt: skip
    x = [X0 + 1000.0 * i for i in range(len(cells))]
    y = [Y0 - 500.0 * i for i in range(len(cells))]
    together = scene_of(cells, x, y)
    reaches = set()
    for i in range(len(cells)):
        alone = scene_of(cells.iloc[[i]], [x[i]], [y[i]])
        np.testing.assert_array_equal(together.reach_m[i], alone.reach_m[0])
        np.testing.assert_array_equal(together.extent_m[i], alone.extent_m[0])
        reaches.add(alone.reach_m[0].tobytes())
    assert len(reaches) == len(cells)  # no two cells alike: sharing too much would show


def test_a_reach_extent_holds_its_whole_reach() -> None:
    """The extent bounds every bin edge of the reach, on both sides, turned by the azimuth."""
    rng = np.random.default_rng(7)
    reach_m = (rng.random((200, 2, N_REACH_BINS)) * 20_000.0).astype(np.float32)
    reach_m[:20] = 0.0
    azimuth_rad = rng.random(200) * 2 * np.pi
    extent = reach_extent(reach_m, azimuth_rad)
    edges = np.arccos(np.linspace(-1.0, 1.0, N_REACH_BINS + 1))
    for side, sign in ((0, 1.0), (1, -1.0)):
        for first in (0, 1):  # each bin at its two edges
            angle = azimuth_rad[:, None] + sign * edges[first : first + N_REACH_BINS][None, :]
            r = reach_m[:, side].astype(np.float64)
            x, y = r * np.sin(angle), r * np.cos(angle)
            assert (x >= extent[:, [0]] - 1e-6).all() and (x <= extent[:, [1]] + 1e-6).all()
            assert (y >= extent[:, [2]] - 1e-6).all() and (y <= extent[:, [3]] + 1e-6).all()
    np.testing.assert_array_equal(extent[:20], 0.0)  # no reach: the mast's point
    # to the bit what numpy makes of the definition: the sines and cosines summed per angle
    angles = np.concatenate([edges[:-1], edges[1:], -edges[:-1], -edges[1:]])
    radius = np.concatenate([reach_m[:, 0], reach_m[:, 0], reach_m[:, 1], reach_m[:, 1]], axis=1)
    sin_az, cos_az = np.sin(azimuth_rad)[:, None], np.cos(azimuth_rad)[:, None]
    x = radius * (sin_az * np.cos(angles) + cos_az * np.sin(angles))
    y = radius * (cos_az * np.cos(angles) - sin_az * np.sin(angles))
    slack = reach_m.max(axis=(1, 2)) * (1.0 - np.cos(np.pi / N_REACH_BINS))
    lows = np.minimum(np.stack([x.min(axis=1), y.min(axis=1)], axis=1), 0.0) - slack[:, None]
    highs = np.maximum(np.stack([x.max(axis=1), y.max(axis=1)], axis=1), 0.0) + slack[:, None]
    np.testing.assert_array_equal(extent[:, [0, 2]], lows)
    np.testing.assert_array_equal(extent[:, [1, 3]], highs)
    assert (extent[20:, 0] < 0.0).all() and (extent[20:, 1] > 0.0).all()


@pytest.mark.parametrize(("tile_px", "parallel"), [(7, "threads"), (64, "processes")])
def test_tiling_and_workers_do_not_change_the_result(tile_px: int, parallel: str) -> None:
    cells = cell_rows(
        {"azimuth_deg": 10.0}, {"azimuth_deg": 130.0}, {"azimuth_deg": 250.0},
        {"azimuth_deg": 60.0, "band_mhz": 2100.0, "bandwidth_mhz": 10.0},
    )  # fmt: skip
    x = [X0 + 1500.0, X0 + 1500.0, X0 + 1500.0, X0 + 3000.0]
    y = [Y0 - 1500.0, Y0 - 1500.0, Y0 - 1500.0, Y0 - 2500.0]
    grid = Grid(X0, Y0, 50.0, 90, 70, "EPSG:32648")
    whole = compute_coverage(scene_of(cells, x, y, tile_px=1024), grid)
    tiled = compute_coverage(
        scene_of(cells, x, y, tile_px=tile_px, workers=2, parallel=parallel), grid
    )
    for name in ("best_rsrp_dbm", "second_rsrp_dbm", "sinr_db", "best_server", "n_servers"):
        np.testing.assert_array_equal(getattr(tiled, name), getattr(whole, name))
    assert tiled.evaluations == whole.evaluations


def test_mask_limits_the_work() -> None:
    cells = cell_rows({"h_beamwidth_deg": 360.0})
    grid = Grid(X0, Y0, 50.0, 40, 40, "EPSG:32648")
    mask = np.zeros(grid.shape, dtype=bool)
    mask[:20] = True
    scene = scene_of(cells, [X0 + 1000.0], [Y0 - 1000.0])
    result = compute_coverage(scene, grid, mask)
    assert (result.best_server[~mask] == -1).all()
    assert (result.best_server[mask] == 0).all()
    assert result.evaluations == int(mask.sum())


def test_a_packed_tile_is_the_tile_again() -> None:
    """What a cluster sends of a tile (its bands where a cell serves) gives back every band,
    its type and nodata elsewhere: a scene serving part of the mask, one serving none, and on
    a small window one serving all of it."""
    cells = cell_rows({"h_beamwidth_deg": 360.0}, {"azimuth_deg": 200.0})
    near = scene_of(cells, [X0 + 1000.0, X0 + 1200.0], [Y0 - 1000.0, Y0 - 800.0])
    far = scene_of(cells, [X0 + 90_000.0] * 2, [Y0 - 90_000.0] * 2)
    grid = Grid(X0, Y0, 50.0, 600, 600, "EPSG:32648")
    part = np.ones((600, 600), dtype=bool)
    part[5:30, 10:35] = False
    cases = [
        (Window(0, 0, 600, 600), mask) for mask in (part, np.ones_like(part), np.zeros_like(part))
    ]
    cases.append((Window(15, 15, 10, 10), np.ones((10, 10), dtype=bool)))
    served = set()
    for window, mask in cases:
        task = TileTask((near, far, near), grid, window, mask)
        tile = run_task(task)
        packed = pickle.loads(pickle.dumps(run_packed(task)))
        again = packed.unpacked(window, mask)
        assert len(again.rasters) == 3
        for ours, back, values in zip(tile.rasters, again.rasters, packed.values, strict=True):
            assert back.evaluations == ours.evaluations
            for band, (dtype, nodata) in BANDS.items():
                assert getattr(back, band).dtype == dtype
                np.testing.assert_array_equal(getattr(back, band), getattr(ours, band))
                assert (getattr(back, band)[ours.best_server < 0] == nodata).all()
            # only the served pixels travel
            pixels = int((ours.best_server >= 0).sum())
            assert all(len(band) == pixels for band in values)
            served.add("none" if pixels == 0 else "all" if pixels == mask.size else "part")
    assert served == {"none", "part", "all"}


def test_a_packed_tile_whose_lengths_differ_is_refused() -> None:
    """Unpacking is compiled without bounds checks: served pixels and values that disagree
    (a damaged checkpoint) are an error, not a read beyond the arrays."""
    cells = cell_rows({"h_beamwidth_deg": 360.0})
    scene = scene_of(cells, [X0 + 1000.0], [Y0 - 1000.0])
    grid = Grid(X0, Y0, 50.0, 600, 600, "EPSG:32648")
    window, mask = Window(0, 0, 600, 600), np.ones((600, 600), dtype=bool)
    packed = run_packed(TileTask((scene,), grid, window, mask))
    (bits,), ((*bands, count),) = packed.served, packed.values
    assert 0 < len(count) < mask.size
    for served, values in (
        (bits, (*bands, count[:-1])),
        (bits, tuple(band[:-1] for band in (*bands, count))),
        (bits[:-1], (*bands, count)),
        (np.zeros_like(bits), (*bands, count)),
    ):
        damaged = PackedTile((served,), (values,), packed.evaluations)
        with pytest.raises(ValueError, match="packed tile"):
            damaged.unpacked(window, mask)


def test_grid_geometry() -> None:
    grid = Grid.from_bounds((1010.0, 2020.0, 1990.0, 2980.0), 100.0, "EPSG:32648")
    assert (grid.x_min, grid.y_max, grid.width, grid.height) == (1000.0, 3000.0, 10, 10)
    windows = list(grid.windows(4))
    assert len(windows) == 9 and sum(w.height * w.width for w in windows) == 100
    assert grid.window_bounds(windows[-1]) == (1800.0, 2000.0, 2000.0, 2200.0)


def test_msi_pattern_cells_match_the_parametric_pattern(tmp_path: Path) -> None:
    # an MSI file sampling the 3GPP 65°/7° pattern with its 2° electrical tilt built in
    lines = ["NAME SAMPLED-65-7", "FREQUENCY 1800", "GAIN 14.85 dBd", "TILT 2", "HORIZONTAL 360"]
    lines += [f"{a} {min(12 * (min(a, 360 - a) / 65) ** 2, 30):.4f}" for a in range(360)]
    lines.append("VERTICAL 360")
    lines += [f"{a} {min(12 * (min(abs(a - 2), 360 - abs(a - 2)) / 7) ** 2, 30):.4f}"
              for a in range(360)]  # fmt: skip
    (tmp_path / "sampled.msi").write_text("\n".join(lines) + "\n", encoding="utf-8")
    antennas = {"sampled.msi": read_msi(tmp_path / "sampled.msi").pattern(max_attenuation_db=30)}
    common = {"azimuth_deg": 120.0, "v_beamwidth_deg": 7.0, "mech_tilt_deg": 1.0}
    parametric = cell_rows({**common, "elec_tilt_deg": 2.0})
    # the file's tilt is used and the cell's electrical tilt is not applied again
    from_file = cell_rows({**common, "elec_tilt_deg": 9.0, "pattern_ref": "sampled.msi"})
    grid = Grid(X0, Y0, 50.0, 80, 80, "EPSG:32648")
    x, y = [X0 + 2000.0], [Y0 - 2000.0]
    env = np.full(1, "urban", dtype=object)
    p = CoverageParams(margins_db=(("4G", 30.0),))
    a = compute_coverage(
        build_scene(parametric, np.array(x), np.array(y), env, p, "viettel", "4G"), grid
    )
    b = compute_coverage(
        build_scene(from_file, np.array(x), np.array(y), env, p, "viettel", "4G", antennas), grid
    )
    both = (a.best_server == 0) & (b.best_server == 0)
    assert both.mean() > 0.5
    # 1° samples interpolated against the formula
    np.testing.assert_allclose(a.best_rsrp_dbm[both], b.best_rsrp_dbm[both], atol=0.15)


def test_missing_pattern_files_are_named() -> None:
    cells = cell_rows({"pattern_ref": "absent.msi"})
    env = np.full(1, "urban", dtype=object)
    with pytest.raises(GisPlannerError, match=r"absent\.msi.*first cell 'C0'"):
        build_scene(cells, np.array([X0]), np.array([Y0]), env, CoverageParams(), "viettel", "4G")
