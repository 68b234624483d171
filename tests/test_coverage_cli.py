"""``gis-planner coverage`` end to end on the bundled sample, at a coarse resolution."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.maps import remote_references
from gis_planner.store import GeoPackageStore

runner = CliRunner()


@pytest.mark.slow
def test_coverage_on_the_sample(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    store = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, store)
    out = tmp_path / "tables"
    args = ["coverage", "--store", str(store), "--resolution-m", "400", "--workers", "1",
            "--tech", "4G", "--tech", "5G", "--replace", "--out", str(out)]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "5G population share Thành phố Phủ Lý" in result.output
    assert "4G gaps:" in result.output

    written = GeoPackageStore(store)
    villages = written.read("coverage_villages")
    assert set(villages["technology"]) == {"4G", "5G"}
    assert set(villages["operator"]) == {"any", "viettel", "vnpt", "mobifone", "vietnamobile"}
    assert len(villages[(villages["technology"] == "4G") & (villages["operator"] == "any")]) == 1091
    areas = written.read("coverage_areas")
    province = areas[(areas["level"] == "province") & (areas["operator"] == "any")]
    share = province.set_index("technology")["population_share"]
    # the sample's 5G is concentrated in the centres: well below 4G
    assert 0.0 < share["5G"] < share["4G"] <= 1.0
    servers = written.read("coverage_servers")
    assert servers["cell_id"].str.startswith(("VTL", "VNP", "MBF", "VNM")).all()

    rasters = written.assets_dir / "coverage"
    with rasterio.open(rasters / "viettel_4G_rsrp.tif") as dataset:
        best = dataset.read(1)
        assert dataset.tags()["technology"] == "4G"
        assert dataset.res == (400.0, 400.0)
    with rasterio.open(rasters / "viettel_4G_server.tif") as dataset:
        index = dataset.read(1)
    # every pixel with a level has a server whose row exists in coverage_servers
    has_level = best > -999.0
    assert (index[has_level] >= 1).all() and (index[~has_level] == 0).all()
    viettel_4g = servers[(servers["operator"] == "viettel") & (servers["technology"] == "4G")]
    assert index.max() <= len(viettel_4g)
    with rasterio.open(rasters / "any_5G_rsrp.tif") as dataset:
        assert np.nanmax(dataset.read(1)) > -110.0

    assert (out / "coverage.xlsx").exists() and (out / "gaps.csv").exists()
    html = next(out.glob("rsrp_*_4G.html")).read_text(encoding="utf-8")
    assert remote_references(html) == []
