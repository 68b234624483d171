"""Coverage runs that resume from the finished tiles of an interrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio

from gis_planner.coverage.engine import (
    BANDS,
    CoverageTile,
    TileTask,
    local_runner,
    stream_coverage,
)
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.resume import TileCheckpoint, fingerprint
from gis_planner.coverage.scene import CoverageParams, Scene, build_scene
from gis_planner.store import GeoPackageStore
from tests.test_coverage_engine import X0, Y0, cell_rows, mixed_mask

GRID = Grid(X0, Y0, 50.0, 40, 40, "EPSG:32648")
PARAMS = CoverageParams(tile_px=8)


def _scene(height_m: float = 30.0) -> Scene:
    cells = cell_rows({"h_beamwidth_deg": 360.0, "height_m": height_m})
    return build_scene(
        cells, np.array([X0 + 1000.0]), np.array([Y0 - 1000.0]),
        np.full(1, "urban", dtype=object), PARAMS, "viettel", "4G",
    )  # fmt: skip


def _windows() -> Iterator[tuple[object, np.ndarray]]:
    for window in GRID.windows(PARAMS.tile_px):
        yield window, mixed_mask(window)


def _refuse(tasks: Iterator[TileTask]) -> Iterator[CoverageTile]:
    for task in tasks:
        raise AssertionError(f"window {task.window} was computed again")
    yield from ()


def _same_tiles(a: list[CoverageTile], b: list[CoverageTile]) -> None:
    assert sorted((t.window.row0, t.window.col0) for t in a) == sorted(
        (t.window.row0, t.window.col0) for t in b
    )
    by_window = {t.window: t for t in b}
    for tile in a:
        other = by_window[tile.window]
        np.testing.assert_array_equal(tile.mask, other.mask)
        for mine, theirs in zip(tile.rasters, other.rasters, strict=True):
            for band in ("best_rsrp_dbm", "second_rsrp_dbm", "sinr_db", "best_server"):
                np.testing.assert_array_equal(getattr(mine, band), getattr(theirs, band))
            np.testing.assert_array_equal(mine.n_servers, theirs.n_servers)
            assert mine.evaluations == theirs.evaluations
            assert mine.best_rsrp_dbm.dtype == np.float32


def test_saved_tiles_are_read_back_not_computed(tmp_path: Path) -> None:
    scene = _scene()
    key = fingerprint([scene], GRID, PARAMS)
    first = TileCheckpoint.open(tmp_path, key)
    computed = list(
        stream_coverage([scene], GRID, _windows(), PARAMS, first.wrap(local_runner(PARAMS)))
    )
    assert first.resumed == 0
    assert len(list(first.directory.glob("*.npz"))) == len(computed) == 25
    # a tile is saved as its values inside its mask: an empty window's file is its mask alone
    sizes = {t.window: first._path(t.window).stat().st_size for t in computed}
    empty = [size for t in computed if not t.mask.any() for size in [sizes[t.window]]]
    whole = [size for t in computed if t.mask.all() for size in [sizes[t.window]]]
    band_bytes = sum(dtype.itemsize for dtype, _ in BANDS.values())
    assert empty and whole and min(whole) - max(empty) == 8 * 8 * band_bytes

    again = TileCheckpoint.open(tmp_path, key)
    read_back = list(stream_coverage([scene], GRID, _windows(), PARAMS, again.wrap(_refuse)))
    assert again.resumed == 25
    _same_tiles(computed, read_back)


def test_only_the_missing_tiles_are_computed(tmp_path: Path) -> None:
    scene = _scene()
    key = fingerprint([scene], GRID, PARAMS)
    everything = list(stream_coverage([scene], GRID, _windows(), PARAMS))
    checkpoint = TileCheckpoint.open(tmp_path, key)
    for tile in everything[::3]:
        checkpoint.save(tile)
    asked: list[TileTask] = []

    def counting(tasks: Iterator[TileTask]) -> Iterator[CoverageTile]:
        def seen() -> Iterator[TileTask]:
            for task in tasks:
                asked.append(task)
                yield task

        yield from local_runner(PARAMS)(seen())

    resumed = TileCheckpoint.open(tmp_path, key)
    tiles = list(stream_coverage([scene], GRID, _windows(), PARAMS, resumed.wrap(counting)))
    assert resumed.resumed == len(everything[::3]) == 9
    assert len(asked) == 25 - 9
    _same_tiles(everything, tiles)


def test_the_fingerprint_follows_the_values_not_the_workers() -> None:
    scene = _scene()
    key = fingerprint([scene], GRID, PARAMS)
    assert fingerprint([_scene()], GRID, PARAMS) == key
    assert fingerprint([scene], GRID, replace(PARAMS, workers=4, parallel="processes")) == key
    assert fingerprint([_scene(height_m=31.0)], GRID, PARAMS) != key
    assert fingerprint([scene], replace(GRID, resolution_m=25.0), PARAMS) != key
    assert fingerprint([scene], GRID, replace(PARAMS, ue_height_m=2.0)) != key
    # The same in another process, whatever its hash seed.
    code = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.test_coverage_resume import GRID, PARAMS, _scene;"
        "from gis_planner.coverage.resume import fingerprint;"
        "print(fingerprint([_scene()], GRID, PARAMS))"
    )
    env = os.environ | {"PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert other.stdout.strip() == key


def test_checkpoints_of_other_inputs_are_removed(tmp_path: Path) -> None:
    old = TileCheckpoint.open(tmp_path, "a" * 32)
    (old.directory / "r0-c0-8x8.npz").write_bytes(b"old")
    new = TileCheckpoint.open(tmp_path, "b" * 32)
    assert not old.directory.exists()
    assert new.directory.is_dir() and not new.has(next(GRID.windows(8)))


def _coverage_command(store: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-c", "from gis_planner.cli import main; main()",
        "coverage", "--store", str(store), "--technology", "4G", "--resolution-m", "25",
        "--workers", "1", "--out", str(out), *extra,
    ]  # fmt: skip


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_products(sample_copy: Path, tmp_path: Path) -> None:
    """A real run killed (SIGKILL) midway, then run again with --resume: the tiles it had
    finished are read back, and the products are those of a run never interrupted."""
    clean = Path(shutil.copy(sample_copy, tmp_path / "clean.gpkg"))
    killed = subprocess.Popen(
        _coverage_command(sample_copy, tmp_path / "out-killed", "--resume"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    saved: list[Path] = []
    deadline = time.monotonic() + 300
    while len(saved) < 3 and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        saved = list(GeoPackageStore(sample_copy).assets_dir.glob("coverage/*/.resume/*/*.npz"))
    assert killed.poll() is None, killed.stderr.read() if killed.stderr else ""
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert len(saved) >= 3

    resumed = subprocess.run(
        _coverage_command(sample_copy, tmp_path / "out-resumed", "--resume", "--workers", "2"),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stdout or "tiếp tục" in resumed.stdout
    subprocess.run(_coverage_command(clean, tmp_path / "out-clean"), check=True,
                   capture_output=True)  # fmt: skip

    here, there = GeoPackageStore(sample_copy), GeoPackageStore(clean)
    assert not list(here.assets_dir.glob("coverage/*/.resume"))
    mine = sorted(here.assets_dir.glob("coverage/*/*.tif"))
    theirs = sorted(there.assets_dir.glob("coverage/*/*.tif"))
    assert [p.name for p in mine] == [p.name for p in theirs] and mine
    for a_path, b_path in zip(mine, theirs, strict=True):
        with rasterio.open(a_path) as a, rasterio.open(b_path) as b:
            np.testing.assert_array_equal(a.read(), b.read())
    for name in ("villages", "areas", "gaps"):
        pd.testing.assert_frame_equal(
            pd.read_csv(tmp_path / "out-resumed" / f"{name}.csv"),
            pd.read_csv(tmp_path / "out-clean" / f"{name}.csv"),
        )
