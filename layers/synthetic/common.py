"""Shared pieces of the sample builds: seeded randomness, projections, tessellation."""

from __future__ import annotations

import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from gis_planner.crs import WGS84

SEED = 20250701
SOURCES = Path(__file__).resolve().parents[1] / "sources"
GOV_OUTLINE = "gis.chinhphu.vn via dvhcvn, 2025-03 (GPL-3.0)"
GSO_CODES = "GSO codes via dvhcvn (GPL-3.0)"
CENTROIDS = "vietnamadminunits 1.0.4 centroids (MIT)"

Points = npt.NDArray[np.float64]


def rng(stage: str) -> np.random.Generator:
    """An independent, reproducible random stream per build stage."""
    return np.random.default_rng([SEED, zlib.crc32(stage.encode())])


def synthetic(sample: str) -> str:
    """What every synthetic row of a sample says in its ``source`` column."""
    return f"synthetic (gis-planner {sample} sample)"


def to_wgs84(geoms: gpd.GeoSeries, grid_deg: float = 1e-7) -> gpd.GeoSeries:
    """Metric geometries to WGS84 on a ``grid_deg`` grid, so output bytes are stable."""
    out = geoms.to_crs(WGS84)
    return gpd.GeoSeries(
        shapely.set_precision(out.to_numpy(), grid_deg), index=out.index, crs=WGS84
    )


def sample_in_polygon(poly: shapely.Geometry, n: int, gen: np.random.Generator) -> Points:
    """``n`` uniform random points inside ``poly`` (rejection sampling on its bounds)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    found: list[Points] = []
    total = 0
    while total < n:
        xy = np.column_stack(
            [gen.uniform(minx, maxx, 4 * n + 16), gen.uniform(miny, maxy, 4 * n + 16)]
        )
        inside = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
        found.append(xy[inside])
        total += int(inside.sum())
    return np.concatenate(found)[:n]


def voronoi_cells(seeds: Points, clip: shapely.Geometry) -> npt.NDArray[np.object_]:
    """The Voronoi cell of each seed, in seed order, clipped to ``clip``."""
    if len(seeds) == 1:
        return np.array([clip], dtype=object)
    extent = shapely.box(*clip.bounds).buffer(10_000)
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent, ordered=True)
    cells = np.asarray(shapely.get_parts(diagram))
    return np.asarray(shapely.intersection(cells, clip), dtype=object)


def relaxed_cells(
    seeds: Points, clip: shapely.Geometry, iterations: int = 3
) -> tuple[Points, npt.NDArray[np.object_]]:
    """Lloyd relaxation: rounder, more even cells, as real village territories tend to be."""
    cells = voronoi_cells(seeds, clip)
    for _ in range(iterations):
        centres = shapely.point_on_surface(cells)
        centroids = shapely.centroid(cells)
        inside = shapely.contains(clip, centroids)
        chosen = np.where(inside, centroids, centres)
        seeds = shapely.get_coordinates(chosen)
        cells = voronoi_cells(seeds, clip)
    return seeds, cells


def largest_remainder(total: int, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Split an integer total in proportion to ``weights``, summing exactly to ``total``."""
    share = weights / weights.sum() * total
    base = np.floor(share).astype(np.int64)
    remainder = total - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:remainder]] += 1
    return base
