"""The GDAL guard restricts the GDAL pyogrio reads users' files with, and no other one."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_rasterio_keeps_its_drivers_when_its_gdal_was_loaded_first() -> None:
    """rasterio's wheel brings a GDAL of its own: with its drivers registered before the guard
    ran, the guard once removed them too, and every in-memory raster (MEM) then failed."""
    code = textwrap.dedent(
        """
        import numpy as np, pyogrio, rasterio, rasterio.warp
        from affine import Affine
        from rasterio.crs import CRS
        with rasterio.Env():
            pass  # rasterio's GDAL loaded and its drivers registered
        from gis_planner.io.gdal_guard import ALLOWED_DRIVERS, require_safe_gdal
        require_safe_gdal()
        assert set(pyogrio.list_drivers()) <= ALLOWED_DRIVERS, pyogrio.list_drivers()
        source = np.ones((4, 4), dtype=np.float32)
        target = np.zeros((4, 4), dtype=np.float32)
        grid, crs = Affine(1, 0, 0, 0, -1, 4), CRS.from_epsg(32648)
        rasterio.warp.reproject(source, target, src_transform=grid, src_crs=crs,
                                dst_transform=grid, dst_crs=crs)
        assert target.sum() == 16
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
