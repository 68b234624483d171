"""Coverage products: COG files, the composite, exports and the offline RSRP map."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from gis_planner.coverage import OPERATOR_CODES
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.products import (
    coverage_tags,
    rsrp_map,
    write_cog,
)
from gis_planner.coverage.scene import CoverageParams
from gis_planner.maps import remote_references

GRID = Grid(580_000.0, 2_290_000.0, 25.0, 700, 600, "EPSG:32648")
GRID_BOUNDS = rasterio.coords.BoundingBox(*GRID.bounds)


def test_cog_is_tiled_with_overviews_nodata_and_tags(tmp_path: Path) -> None:
    rsrp = np.linspace(-130, -60, GRID.width * GRID.height, dtype=np.float32).reshape(GRID.shape)
    rsrp[:10] = -999.0
    tags = coverage_tags(CoverageParams(), operator="viettel", technology="4G")
    path = write_cog(tmp_path / "x.tif", [rsrp, rsrp - 3], GRID, -999.0, tags, ("best", "second"))
    with rasterio.open(path) as dataset:
        assert dataset.driver == "GTiff"
        assert dataset.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert dataset.block_shapes[0] == (256, 256)
        # halving down to one block (700 px → 350 → 175)
        assert dataset.overviews(1) == [2, 4]
        assert dataset.nodata == -999.0
        assert dataset.crs.to_epsg() == 32648
        assert dataset.descriptions == ("best", "second")
        assert dataset.tags()["operator"] == "viettel"
        assert '"resolution_m": 25.0' in dataset.tags()["coverage_params"]
        np.testing.assert_array_equal(dataset.read(1), rsrp)
        assert dataset.transform == GRID.transform
    # each overview is a nearest sample of the full raster: only its values, same extent
    for level in (0, 1):
        with rasterio.open(path, OVERVIEW_LEVEL=level) as overview:
            assert overview.bounds == GRID_BOUNDS
            assert np.isin(overview.read(1), rsrp).all()


def test_rsrp_map_is_offline_with_legend() -> None:
    rsrp = np.full(GRID.shape, -999.0, dtype=np.float32)
    rsrp[100:300, 100:400] = -95.0
    html = rsrp_map(rsrp, GRID, "viettel 4G").get_root().render()
    assert remote_references(html) == []
    assert "data:image/png;base64," in html
    assert "RSRP phục vụ tốt nhất" in html and "−110 … −100 dBm" in html


def test_operator_codes_are_distinct() -> None:
    assert len(set(OPERATOR_CODES.values())) == len(OPERATOR_CODES)
    assert 0 not in OPERATOR_CODES.values()
