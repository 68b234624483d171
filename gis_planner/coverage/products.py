"""Coverage products: Cloud-Optimised GeoTIFFs, the any-operator composite and the RSRP map."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.shutil
from affine import Affine
from matplotlib import colors as mcolors
from matplotlib import image as mimage
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject

from gis_planner.coverage.engine import NODATA_DB, CoverageResult
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.scene import CoverageParams
from gis_planner.crs import WGS84, utm_to_lonlat
from gis_planner.i18n import Lang
from gis_planner.maps import Legend, base_map, data_uri
from gis_planner.operators import OPERATORS

#: Operator codes of the composite's "best operator" band (0 = none).
OPERATOR_CODES: dict[str, int] = {op.key: i + 1 for i, op in enumerate(OPERATORS) if op.mobile}
SERVER_NODATA = 0


@dataclass(frozen=True)
class Composite:
    """Best RSRP over every operator of one technology, and which operator gives it."""

    technology: str
    grid: Grid
    threshold_dbm: float
    best_rsrp_dbm: npt.NDArray[np.float32]
    #: ``OPERATOR_CODES`` of the best operator; 0 where none.
    best_operator: npt.NDArray[np.uint8]


def composite(results: Sequence[CoverageResult]) -> Composite:
    """The any-operator layer of results of one technology on one grid."""
    technologies = {r.scene.technology for r in results}
    if len(technologies) != 1:
        raise ValueError(f"a composite needs one technology, got {sorted(technologies)}")
    grid = results[0].grid
    best = np.full(grid.shape, NODATA_DB, dtype=np.float32)
    operator = np.zeros(grid.shape, dtype=np.uint8)
    for result in results:
        better = result.best_rsrp_dbm > best
        best[better] = result.best_rsrp_dbm[better]
        operator[better] = OPERATOR_CODES[result.scene.operator]
    return Composite(technologies.pop(), grid, results[0].scene.threshold_dbm, best, operator)


def write_cog(
    path: Path,
    bands: Sequence[npt.NDArray[np.generic]],
    grid: Grid,
    nodata: float,
    tags: Mapping[str, str],
    band_names: Sequence[str],
) -> Path:
    """Write ``bands`` (one dtype) as a Cloud-Optimised GeoTIFF with overviews and tags."""
    dtype = np.result_type(*bands)
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": len(bands),
        "dtype": dtype.name,
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            for index, (band, name) in enumerate(zip(bands, band_names, strict=True), start=1):
                dataset.write(band.astype(dtype, copy=False), index)
                dataset.set_band_description(index, name)
            dataset.update_tags(**tags)
        with memory.open() as source:
            # the COG driver builds the overviews and orders the file for range requests
            rasterio.shutil.copy(
                source, path, driver="COG", compress="DEFLATE", overview_resampling="NEAREST",
                blocksize=256,
            )  # fmt: skip
    return path


def coverage_tags(params: CoverageParams, **extra: str) -> dict[str, str]:
    """The metadata every coverage raster carries: the parameters and what is in the file."""
    settings = asdict(params)
    settings["thresholds_dbm"] = dict(params.thresholds_dbm)
    settings["margins_db"] = dict(params.margins_db)
    return {"coverage_params": json.dumps(settings, ensure_ascii=False), **extra}


def write_result(result: CoverageResult, directory: Path, params: CoverageParams) -> list[Path]:
    """The RSRP/SINR COG and the server COG of one operator × technology."""
    scene = result.scene
    stem = f"{scene.operator}_{scene.technology}"
    tags = coverage_tags(
        params, operator=scene.operator, technology=scene.technology,
        threshold_dbm=f"{scene.threshold_dbm:g}", models=",".join(scene.models),
        cells=str(scene.n_cells),
    )  # fmt: skip
    rsrp = write_cog(
        directory / f"{stem}_rsrp.tif",
        [result.best_rsrp_dbm, result.second_rsrp_dbm, result.sinr_db],
        result.grid, NODATA_DB, {**tags, "units": "dBm,dBm,dB"},
        ("best_rsrp_dbm", "second_rsrp_dbm", "sinr_db"),
    )  # fmt: skip
    servers = write_cog(
        directory / f"{stem}_server.tif",
        [result.best_server.astype(np.int32) + 1, result.n_servers.astype(np.int32)],
        result.grid, SERVER_NODATA,
        {**tags, "server_index": "1-based row of coverage_servers for this operator/technology"},
        ("best_server_index", "servers_above_threshold"),
    )  # fmt: skip
    return [rsrp, servers]


def write_composite(layer: Composite, directory: Path, params: CoverageParams) -> Path:
    """The any-operator COG of one technology: best RSRP and best operator code."""
    codes = ",".join(f"{code}={key}" for key, code in OPERATOR_CODES.items())
    tags = coverage_tags(
        params, operator="any", technology=layer.technology,
        threshold_dbm=f"{layer.threshold_dbm:g}", operator_codes=codes,
    )  # fmt: skip
    return write_cog(
        directory / f"any_{layer.technology}_rsrp.tif",
        [layer.best_rsrp_dbm, layer.best_operator.astype(np.float32)],
        layer.grid, NODATA_DB, tags, ("best_rsrp_dbm", "best_operator_code"),
    )  # fmt: skip


#: RSRP classes of the map: lower bound (dBm), colour, label.
RSRP_CLASSES: tuple[tuple[float, str, str], ...] = (
    (-80.0, "#1a9641", "≥ −80 dBm"),
    (-90.0, "#a6d96a", "−90 … −80 dBm"),
    (-100.0, "#ffffbf", "−100 … −90 dBm"),
    (-110.0, "#fdae61", "−110 … −100 dBm"),
    (-120.0, "#d7191c", "−120 … −110 dBm"),
)


def rsrp_png(rsrp_dbm: npt.NDArray[np.float32]) -> bytes:
    """The raster as a PNG of the RSRP classes, transparent where below them or nodata."""
    rgba = np.zeros((*rsrp_dbm.shape, 4), dtype=np.uint8)
    upper = np.inf
    for lower, colour, _ in RSRP_CLASSES:
        inside = (rsrp_dbm >= lower) & (rsrp_dbm < upper)
        rgba[inside] = [round(255 * v) for v in mcolors.to_rgba(colour, alpha=0.75)]
        upper = lower
    buffer = io.BytesIO()
    mimage.imsave(buffer, rgba, format="png")
    return buffer.getvalue()


def rsrp_map(
    rsrp_dbm: npt.NDArray[np.float32],
    grid: Grid,
    title: str,
    boundary: gpd.GeoDataFrame | None = None,
    lang: Lang = "vi",
) -> folium.Map:
    """An offline folium map of a best-server RSRP raster (inlined PNG overlay, legend)."""
    # Leaflet overlays are drawn in lon/lat: reproject the raster to WGS84 first.
    x0, y0, x1, y1 = grid.bounds
    edge = np.linspace(0.0, 1.0, 64)
    xs = np.concatenate(
        [x0 + (x1 - x0) * edge, np.full(64, x1), x0 + (x1 - x0) * edge, np.full(64, x0)]
    )
    ys = np.concatenate(
        [np.full(64, y0), y0 + (y1 - y0) * edge, np.full(64, y1), y0 + (y1 - y0) * edge]
    )
    lon, lat = utm_to_lonlat(xs, ys)
    width, height = grid.width, grid.height
    transform = Affine(
        (lon.max() - lon.min()) / width, 0.0, lon.min(), 0.0, -(lat.max() - lat.min()) / height,
        lat.max(),
    )  # fmt: skip
    lonlat = np.full((height, width), NODATA_DB, dtype=np.float32)
    reproject(
        rsrp_dbm, lonlat, src_transform=grid.transform, src_crs=grid.crs, dst_transform=transform,
        dst_crs=WGS84, src_nodata=NODATA_DB, dst_nodata=NODATA_DB, resampling=Resampling.nearest,
    )  # fmt: skip
    west, north = transform.c, transform.f
    east, south = west + transform.a * width, north + transform.e * height
    fmap = base_map((west, south, east, north))
    folium.raster_layers.ImageOverlay(
        data_uri("image/png", rsrp_png(lonlat)), bounds=[[south, west], [north, east]],
        name=title, opacity=1.0,
    ).add_to(fmap)  # fmt: skip
    if boundary is not None and not boundary.empty:
        folium.GeoJson(
            boundary.to_crs(WGS84)[["geometry"]],
            name="Ranh giới" if lang == "vi" else "Boundary",
            style_function=lambda _f: {"color": "#333", "weight": 1.5, "fill": False},
        ).add_to(fmap)
    heading = "RSRP phục vụ tốt nhất" if lang == "vi" else "Best-server RSRP"
    Legend(f"{heading} – {title}", [(c, label) for _, c, label in RSRP_CLASSES]).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
