"""National scale: the synthetic national network, and coverage tiles on a Dask cluster."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from typer.testing import CliRunner

from benchmarks.national import national_network, provinces
from gis_planner.cli import app
from gis_planner.distributed import Scheduler
from gis_planner.errors import GisPlannerError
from gis_planner.jobs import coverage
from gis_planner.jobs.coverage import CoverageSpec
from gis_planner.sharing import PLAN_TARGETS, positions
from gis_planner.store import GeoPackageStore


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in-process", Scheduler("in-process")),
        ("local:3", Scheduler("local", workers=3)),
        ("tcp://10.0.0.5:8786", Scheduler("remote", address="tcp://10.0.0.5:8786")),
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


def _run(store_path: Path, out: Path, scheduler: str, links: list[str]) -> coverage.CoverageResult:
    spec = CoverageSpec(
        resolution_m=400.0,
        technologies=("4G",),
        workers=1,
        scheduler=scheduler,
        out_dir=out,
        base_dir=out,
        replace=True,
    )
    return coverage.run(spec, GeoPackageStore(store_path), on_dashboard=links.append)


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
