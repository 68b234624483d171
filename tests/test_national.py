"""National scale: the synthetic national network, and coverage tiles on a Dask cluster."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import rasterio
import shapely
from typer.testing import CliRunner

from benchmarks.national import national_network, provinces
from gis_planner.cli import app
from gis_planner.coverage.engine import BANDS, TileTask, stream_coverage
from gis_planner.coverage.grid import Grid, Window
from gis_planner.coverage.scene import CoverageParams, build_scene
from gis_planner.distributed import _MAX_BATCH, Scheduler, _batches, tile_runner
from gis_planner.errors import GisPlannerError
from gis_planner.jobs import coverage
from gis_planner.jobs.coverage import CoverageSpec
from gis_planner.sharing import PLAN_TARGETS, place_positions, position_ratios, positions
from gis_planner.store import GeoPackageStore
from tests.conftest import SiteFactory
from tests.test_coverage_engine import X0, Y0, cell_rows, mixed_mask


def test_national_network_is_deterministic_inside_its_provinces() -> None:
    outlines = provinces()
    sites, cells = national_network(3_000, outlines=outlines, seed=4)
    again, _ = national_network(3_000, outlines=outlines, seed=4)
    pd.testing.assert_frame_equal(sites.to_wkb(), again.to_wkb())
    by_code = outlines.set_index("code").geometry
    for code, group in sites.groupby("province_code"):
        assert shapely.contains_xy(by_code[code], group.geometry.x, group.geometry.y).all()
    table = positions(sites)
    assert len(table) == 3_000
    # The plan's range, give or take the draw of 3,000 positions.
    assert PLAN_TARGETS.low - 0.03 <= table["shared"].mean() <= PLAN_TARGETS.high + 0.03
    assert sites["site_id"].is_unique and cells["cell_id"].is_unique
    assert set(cells["site_id"]) <= set(sites["site_id"])
    assert sites["province_code"].nunique() == len(outlines)


def test_a_position_across_a_zone_and_a_province_border(make_sites: SiteFactory) -> None:
    """Two provinces meeting on 108°E, the line between UTM 48N and 49N: two operators' sites
    11 m apart across it are one shared position, counted once, in one province; a third
    35 m away (measured in the zone of the national extent, 3° from its meridian) stands apart."""
    west = shapely.box(107.5, 15.5, 108.0, 16.5)
    east = shapely.box(108.0, 15.5, 108.5, 16.5)
    admin = gpd.GeoDataFrame(
        {
            "code": ["48", "49", "48001", "49001"],
            "name": ["Tây", "Đông", "Xã Tây", "Xã Đông"],
            "level": ["province", "province", "commune", "commune"],
            "parent_code": [None, None, "48", "49"],
            "admin_version": "2025-07",
        },
        geometry=[west, east, west, east],
        crs="EPSG:4326",
    )
    metre = 1 / 111_320 / np.cos(np.radians(16.0))
    sites = make_sites(
        [
            ("A", "viettel", 108.0 - 5.5 * metre, 16.0),
            ("B", "vnpt", 108.0 + 5.5 * metre, 16.0),
            ("C", "mobifone", 108.0 + 40.5 * metre, 16.0),
            # the other end of the country, so that the sites' zone is 48N, not 49N
            ("D", "viettel", 104.0, 21.0),
        ]
    )
    table = positions(sites)
    assert table["n_sites"].tolist() == [2, 1, 1]
    placed = place_positions(table, admin, "2025-07")
    ratios = position_ratios(placed, admin, admin_version="2025-07")
    province = ratios[ratios["scope"] == "province"]
    assert province["positions"].sum() == 2  # D lies in neither province
    assert province["shared_positions"].sum() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in-process", Scheduler("in-process")),
        ("local:3", Scheduler("local", workers=3)),
        ("tcp://10.0.0.5:8786", Scheduler("remote", address="tcp://10.0.0.5:8786")),
        ("tcp://[::1]:8786", Scheduler("remote", address="tcp://[::1]:8786")),
    ],
)
def test_scheduler_parse(text: str, expected: Scheduler) -> None:
    assert Scheduler.parse(text) == expected


@pytest.mark.parametrize("text", ["local:0", "local", "dask", "tcp://host", "http://h:1"])
def test_scheduler_parse_refuses(text: str) -> None:
    with pytest.raises(GisPlannerError, match=r"scheduler|worker"):
        Scheduler.parse(text)


def test_a_province_run_needs_no_dask() -> None:
    code = (
        "import sys, gis_planner.jobs.coverage, gis_planner.cli.coverage;"
        "assert not {'dask', 'distributed'} & set(sys.modules), 'dask imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_refuses_an_unknown_scheduler(sample_copy: Path) -> None:
    result = CliRunner().invoke(
        app, ["coverage", "--store", str(sample_copy), "--scheduler", "somewhere"]
    )
    assert result.exit_code != 0
    assert "somewhere" in result.output


def _run(
    store_path: Path,
    out: Path,
    scheduler: str,
    links: list[str],
    resolution_m: float = 400.0,
    progress: Callable[[int], None] | None = None,
) -> coverage.CoverageResult:
    spec = CoverageSpec(
        resolution_m=resolution_m,
        technologies=("4G",),
        workers=1,
        scheduler=scheduler,
        out_dir=out,
        base_dir=out,
        replace=True,
    )
    return coverage.run(
        spec, GeoPackageStore(store_path), on_dashboard=links.append, progress=progress
    )


def test_local_cluster_gives_the_in_process_rasters(sample_copy: Path, tmp_path: Path) -> None:
    other = shutil.copy(sample_copy, tmp_path / "cluster.gpkg")
    links: list[str] = []
    here = _run(sample_copy, tmp_path / "here", "in-process", links)
    assert links == []
    there = _run(Path(other), tmp_path / "there", "local:2", links)
    assert len(links) == 1 and links[0].startswith("http")

    assert [r.path.name for r in here.rasters] == [r.path.name for r in there.rasters]
    for mine, theirs in zip(here.rasters, there.rasters, strict=True):
        with rasterio.open(mine.path) as a, rasterio.open(theirs.path) as b:
            assert a.profile == b.profile
            np.testing.assert_array_equal(a.read(), b.read())
    pd.testing.assert_frame_equal(here.run.villages, there.run.villages)
    pd.testing.assert_frame_equal(here.run.areas, there.run.areas)


def test_a_local_cluster_maps_the_scenes_instead_of_receiving_them(
    sample_copy: Path, tmp_path: Path
) -> None:
    """The workers of a local cluster read the scenes from one memory-mapped file: nothing is
    scattered, and the file is gone after the run."""
    from distributed import default_client

    from gis_planner import mapped

    seen: list[tuple[set[str], set[str | None]]] = []

    def look(pixels: int) -> None:
        del pixels
        if not seen:
            client = default_client()
            keys = set(client.who_has())
            paths = set(client.run(lambda: mapped._LOADED.get("path")).values())
            seen.append((keys, paths))

    _run(sample_copy, tmp_path / "there", "local:2", [], 400.0, look)
    ((keys, paths),) = seen
    assert not any(key.startswith("tuple-") for key in keys)
    loaded = {p for p in paths if p is not None}
    assert len(loaded) == 1
    assert not Path(loaded.pop()).exists()


def test_a_running_scheduler_gets_the_tiles_in_order_and_stays_up() -> None:
    """Tiles on a scheduler given by address: in the windows' order, the same as in-process
    (empty, part and whole windows, every band), the windows read a few batches ahead only;
    the cluster is left running afterwards."""
    from distributed import LocalCluster

    cells = cell_rows({"h_beamwidth_deg": 360.0})
    scene = build_scene(
        cells, np.array([X0 + 1000.0]), np.array([Y0 - 1000.0]),
        np.full(1, "urban", dtype=object), CoverageParams(), "viettel", "4G",
    )  # fmt: skip
    grid = Grid(X0, Y0, 50.0, 40, 40, "EPSG:32648")
    params = CoverageParams(tile_px=8)
    taken: list[Window] = []

    def windows() -> Iterator[tuple[Window, npt.NDArray[np.bool_]]]:
        for window in grid.windows(params.tile_px):
            taken.append(window)
            yield window, mixed_mask(window)

    here = list(stream_coverage([scene], grid, windows(), params))
    taken.clear()
    # A running cluster in this process, reached over TCP as a remote one would be.
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", dashboard_address=":0"
    )
    with cluster:
        scheduler = Scheduler.parse(cluster.scheduler_address)
        assert scheduler.kind == "remote"
        with tile_runner(scheduler) as runner:
            there = []
            for tile in stream_coverage([scene], grid, windows(), params, runner):
                there.append(tile)
                # five batches of two windows to compute (the cluster's two threads) and
                # the empty windows between them, at most
                assert len(taken) - len(there) <= 5 * 2 * 2
        assert cluster.status.name == "running"
    assert [t.window for t in there] == list(grid.windows(params.tile_px))
    for mine, theirs in zip(here, there, strict=True):
        assert mine.window == theirs.window
        np.testing.assert_array_equal(mine.mask, theirs.mask)
        for band in BANDS:
            ours, sent = getattr(mine.rasters[0], band), getattr(theirs.rasters[0], band)
            assert ours.dtype == sent.dtype
            np.testing.assert_array_equal(ours, sent)
        assert mine.rasters[0].evaluations == theirs.rasters[0].evaluations


def test_batches_count_the_windows_to_compute_and_hold_few_empty_ones() -> None:
    """A batch holds ``size`` windows to compute and the empty ones between, and a long run of
    empty windows (sea) is cut so that few masks are held."""
    grid = Grid(X0, Y0, 50.0, 8, 8 * 200, "EPSG:32648")
    windows = list(grid.windows(8))
    busy = {3, 4, 5, 150, 199}
    tasks = [
        TileTask((), grid, w, np.full((8, 8), k in busy, dtype=bool)) for k, w in enumerate(windows)
    ]
    batches = list(_batches(iter(tasks), 2))
    assert [task for batch in batches for task, _ in batch] == tasks
    assert max(len(batch) for batch in batches) == _MAX_BATCH  # the run of sea is cut
    # windows 3 and 4 fill the first batch; 5, 150 and 199 each close theirs at the cut or
    # at the end
    assert [
        sum(computed for _, computed in batch) for batch in batches if any(c for _, c in batch)
    ] == [2, 1, 1, 1]
    assert all(computed == bool(task.mask.any()) for batch in batches for task, computed in batch)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["local", "remote"])
def test_a_worker_killed_midway_changes_nothing(
    sample_copy: Path, tmp_path: Path, where: str
) -> None:
    """The workers killed (SIGKILL) after the first tiles: Dask moves their tasks to their
    restarted selves, which map the scenes' file again (a local cluster) or are sent the
    scenes again (a running scheduler: the scenes were sent from the client, and Dask cannot
    compute them again); the rasters are the in-process ones."""
    import os
    import signal

    from distributed import LocalCluster, default_client

    other = shutil.copy(sample_copy, tmp_path / "cluster.gpkg")
    # 50 m: the area in a few dozen tiles, most of them after the kill
    here = _run(sample_copy, tmp_path / "here", "in-process", [], resolution_m=50.0)
    killed: list[int] = []

    def kill_the_workers(pixels: int) -> None:
        del pixels
        if not killed:
            client = default_client()
            pids = client.run(os.getpid)
            if where == "remote":
                # those holding the scenes, sent with scatter (a key of their type's name)
                holders = {
                    w for k, ws in client.who_has().items() if k.startswith("tuple-") for w in ws
                }
                assert holders
                pids = {w: pids[w] for w in holders}
            killed.extend(pids.values())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    with ExitStack() as stack:
        scheduler = "local:2"
        if where == "remote":
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0")
            scheduler = stack.enter_context(cluster).scheduler_address
        there = _run(Path(other), tmp_path / "there", scheduler, [], 50.0, kill_the_workers)
    assert killed
    for mine, theirs in zip(here.rasters, there.rasters, strict=True):
        with rasterio.open(mine.path) as a, rasterio.open(theirs.path) as b:
            np.testing.assert_array_equal(a.read(), b.read())
    pd.testing.assert_frame_equal(here.run.villages, there.run.villages)
