"""A synthetic terrain for demonstrations and benchmarks: no elevation model ships with the
sample (none can be downloaded here), and users bring their own (SRTM, Copernicus GLO-30, a
national DEM).

The terrain imitates the former Hà Nam's: the delta's level fields at a few metres, with
limestone hills of 50–200 m standing out of them in the west of the area, as the karst of Kim
Bảng and Thanh Liêm does. It is synthetic: no hill stands where a real one does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

#: Hills in the western part of the area (its share of the width from the west).
KARST_SHARE = 0.45


def synthetic_karst_dem(
    path: Path,
    bounds: tuple[float, float, float, float],
    crs: str,
    *,
    resolution_m: float = 30.0,
    hills: int = 400,
    seed: int = 19,
) -> Path:
    """Write a level delta with ``hills`` karst hills in the west of ``bounds`` (metres of the
    metric ``crs``), ``resolution_m`` pixels, as a tiled GeoTIFF at ``path``; deterministic."""
    x0, y0, x1, y1 = bounds
    width = int(np.ceil((x1 - x0) / resolution_m))
    height = int(np.ceil((y1 - y0) / resolution_m))
    rng = np.random.default_rng(seed)
    xs = x0 + (np.arange(width) + 0.5) * resolution_m
    ys = y1 - (np.arange(height) + 0.5) * resolution_m
    heights = (2.0 + 3.0 * rng.random((height, width))).astype(np.float32)
    west = x0 + KARST_SHARE * (x1 - x0)
    for _ in range(hills):  # a few hundred hills, each drawn over its own window
        cx, cy = rng.uniform(x0, west), rng.uniform(y0, y1)
        top, radius = rng.uniform(50.0, 200.0), rng.uniform(200.0, 900.0)
        cols = slice(
            max(0, int((cx - x0 - 3 * radius) / resolution_m)),
            int((cx - x0 + 3 * radius) / resolution_m) + 1,
        )
        rows = slice(
            max(0, int((y1 - cy - 3 * radius) / resolution_m)),
            int((y1 - cy + 3 * radius) / resolution_m) + 1,
        )
        dx = xs[cols][None, :] - cx
        dy = ys[rows][:, None] - cy
        hill = top * np.exp(-(dx**2 + dy**2) / (2 * radius**2))
        heights[rows, cols] = np.maximum(heights[rows, cols], hill.astype(np.float32))
    transform = Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1)
    with rasterio.open(
        path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
        crs=crs, transform=transform, tiled=True, blockxsize=256, blockysize=256,
        compress="DEFLATE",
    ) as dataset:  # fmt: skip
        dataset.write(heights, 1)
    return path
