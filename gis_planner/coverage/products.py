"""Coverage products: Cloud-Optimised GeoTIFFs written tile by tile, the composite, the map."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
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
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window as RioWindow

from gis_planner.colormaps import RSRP, SERVER_COUNT
from gis_planner.coverage import OPERATOR_CODES
from gis_planner.coverage.engine import NODATA_DB, CoverageTile, TileRasters
from gis_planner.coverage.grid import Grid, Window
from gis_planner.coverage.scene import CoverageParams, Scene
from gis_planner.crs import WGS84, metric_to_lonlat
from gis_planner.i18n import Lang
from gis_planner.maps import Legend, base_map, data_uri
from gis_planner.qgis import raster_qml, style_path

#: Nodata of the server rasters (best server index + 1, server count).
SERVER_NODATA = 0
#: Block edge of the GeoTIFFs, the tiles' default edge: a window of the engine is whole blocks.
BLOCK_PX = 256
#: GDAL's block cache while the rasters are written (MiB): the blocks of windows not yet
#: flushed and of the overviews being built, bounded whatever the size of the grid.
GDAL_CACHE_MIB = 64
#: DEFLATE level of the COGs: level 1 takes 0.6 of level 6's time, and the files are as small
#: (the low bits of float levels do not compress whatever the effort).
DEFLATE_LEVEL = 1


@dataclass(frozen=True)
class RasterBand:
    """One band of a written raster: its description and unit."""

    name: str
    unit: str


@dataclass(frozen=True)
class WrittenRaster:
    """A COG written by ``write_coverage``: what the products registry records."""

    path: Path
    operator: str
    technology: str
    bands: tuple[RasterBand, ...]

    @property
    def sidecars(self) -> tuple[Path, ...]:
        """Files that go with the COG wherever it goes (its QGIS style)."""
        return (style_path(self.path),)


RSRP_BANDS = (
    RasterBand("best_rsrp_dbm", "dBm"),
    RasterBand("second_rsrp_dbm", "dBm"),
    RasterBand("sinr_db", "dB"),
)
SERVER_BANDS = (RasterBand("best_server_index", ""), RasterBand("servers_above_threshold", ""))
COMPOSITE_BANDS = (RasterBand("best_rsrp_dbm", "dBm"), RasterBand("best_operator_code", ""))


def composite(
    best_rsrp_by_operator: Mapping[str, npt.NDArray[np.float32]],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint8]]:
    """The any-operator layer of one technology: best RSRP and ``OPERATOR_CODES`` (0 = none)."""
    shape = next(iter(best_rsrp_by_operator.values())).shape
    best = np.full(shape, NODATA_DB, dtype=np.float32)
    operator = np.zeros(shape, dtype=np.uint8)
    for key, rsrp in best_rsrp_by_operator.items():
        better = rsrp > best
        best[better] = rsrp[better]
        operator[better] = OPERATOR_CODES[key]
    return best, operator


def overview_factors(width: int, height: int) -> list[int]:
    """Decimation factors of a COG's overviews: halving until the image fits in one block."""
    factors: list[int] = []
    while max(width, height) / (2 ** len(factors)) > BLOCK_PX:
        factors.append(2 ** (len(factors) + 1))
    return factors


class _TiledRaster:
    """A tiled GeoTIFF written window by window beside its COG, then converted to the COG."""

    def __init__(
        self,
        path: Path,
        grid: Grid,
        dtype: str,
        nodata: float,
        tags: Mapping[str, str],
        bands: Sequence[RasterBand],
    ) -> None:
        self.path = path
        # a name the API's raster listing (*.tif) does not pick up while it is incomplete;
        # uncompressed, as it is read once by the conversion (compressing it cost a quarter
        # of the run), on disk only for the length of the run
        self.part = path.with_name(path.name + ".part")
        self.bands = tuple(bands)
        self.dataset = rasterio.open(
            self.part, "w", driver="GTiff", width=grid.width, height=grid.height,
            count=len(bands), dtype=dtype, crs=grid.crs, transform=grid.transform,
            nodata=nodata, tiled=True, blockxsize=BLOCK_PX, blockysize=BLOCK_PX,
            BIGTIFF="IF_SAFER",
        )  # fmt: skip
        for index, band in enumerate(bands, start=1):
            self.dataset.set_band_description(index, band.name)
        self.dataset.update_tags(**tags)

    def write(self, window: Window, bands: Sequence[npt.NDArray[np.generic]]) -> None:
        block = np.stack([b.astype(self.dataset.dtypes[0], copy=False) for b in bands])
        target = RioWindow(window.col0, window.row0, window.width, window.height)
        self.dataset.write(block, window=target)

    def finish(self) -> Path:
        """Close the GeoTIFF and replace the COG by its conversion, overviews built."""
        # the overviews are built in the GeoTIFF and copied as they are: the COG driver's own
        # took three times as long as the rest of the conversion
        factors = overview_factors(self.dataset.width, self.dataset.height)
        if factors:
            self.dataset.build_overviews(factors, Resampling.nearest)
        self.dataset.close()
        cog = self.path.with_name(self.path.name + ".cog.part")
        # the COG driver orders the file for range requests; the previous COG is replaced only
        # once the new one is whole. Its blocks are compressed on every core (the same bytes
        # as on one: a 4,000² raster of three bands 2.2 s against 3.4 s), as the conversions
        # run after the kernel's threads have finished with the scene
        rasterio.shutil.copy(
            self.part, cog, driver="COG", compress="DEFLATE", level=DEFLATE_LEVEL,
            overviews="FORCE_USE_EXISTING", blocksize=BLOCK_PX, num_threads="ALL_CPUS",
        )  # fmt: skip
        cog.replace(self.path)
        self.part.unlink()
        return self.path

    def discard(self) -> None:
        if not self.dataset.closed:
            self.dataset.close()
        for leftover in (self.part, self.path.with_name(self.path.name + ".cog.part")):
            leftover.unlink(missing_ok=True)


def write_cog(
    path: Path,
    bands: Sequence[npt.NDArray[np.generic]],
    grid: Grid,
    nodata: float,
    tags: Mapping[str, str],
    band_names: Sequence[str],
) -> Path:
    """Write whole in-memory ``bands`` (one dtype) as a COG with overviews and tags."""
    dtype = np.result_type(*bands)
    path.parent.mkdir(parents=True, exist_ok=True)
    described = [RasterBand(name, "") for name in band_names]
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MIB):
        raster = _TiledRaster(path, grid, dtype.name, nodata, tags, described)
        try:
            raster.write(Window(0, 0, grid.height, grid.width), bands)
            return raster.finish()
        except BaseException:
            raster.discard()
            raise


def coverage_tags(params: CoverageParams, **extra: str) -> dict[str, str]:
    """The metadata every coverage raster carries: the parameters and what is in the file."""
    settings = asdict(params)
    settings["thresholds_dbm"] = dict(params.thresholds_dbm)
    settings["margins_db"] = dict(params.margins_db)
    # the files by path, size and modification time: a product says which terrain it used
    terrain = params.terrain.describe() if params.terrain else None
    settings["terrain"] = terrain
    return {
        "coverage_params": json.dumps(settings, ensure_ascii=False),
        "terrain": json.dumps(terrain, ensure_ascii=False) if terrain else "none (level ground)",
        **extra,
    }


def _scene_rasters(
    scene: Scene, directory: Path, grid: Grid, params: CoverageParams
) -> tuple[_TiledRaster, _TiledRaster]:
    """The RSRP/SINR raster and the server raster of one operator × technology."""
    stem = f"{scene.operator}_{scene.technology}"
    tags = coverage_tags(
        params, operator=scene.operator, technology=scene.technology,
        threshold_dbm=f"{scene.threshold_dbm:g}", models=",".join(scene.models),
        cells=str(scene.n_cells),
    )  # fmt: skip
    rsrp = _TiledRaster(
        directory / f"{stem}_rsrp.tif", grid, "float32", NODATA_DB,
        {**tags, "units": ",".join(b.unit for b in RSRP_BANDS)}, RSRP_BANDS,
    )  # fmt: skip
    servers = _TiledRaster(
        directory / f"{stem}_server.tif", grid, "int32", SERVER_NODATA,
        {**tags, "server_index": "1-based row of coverage_servers for this operator/technology"},
        SERVER_BANDS,
    )  # fmt: skip
    return rsrp, servers


def _composite_raster(
    technology: str, threshold_dbm: float, directory: Path, grid: Grid, params: CoverageParams
) -> _TiledRaster:
    """The any-operator raster of one technology: best RSRP and best operator code."""
    codes = ",".join(f"{code}={key}" for key, code in OPERATOR_CODES.items())
    tags = coverage_tags(
        params, operator="any", technology=technology,
        threshold_dbm=f"{threshold_dbm:g}", operator_codes=codes,
    )  # fmt: skip
    return _TiledRaster(
        directory / f"any_{technology}_rsrp.tif", grid, "float32", NODATA_DB, tags,
        COMPOSITE_BANDS,
    )  # fmt: skip


def write_coverage(
    directory: Path,
    grid: Grid,
    scenes: Sequence[Scene],
    tiles: Iterable[CoverageTile],
    params: CoverageParams,
) -> list[WrittenRaster]:
    """Write the COGs of every scene and of each technology's composite, tile by tile.

    ``tiles`` are the engine's windows (``stream_coverage`` over ``scenes``), consumed as they
    come: each is written into tiled GeoTIFFs on disk, never gathered in memory; at the end
    each GeoTIFF becomes its COG. The tiles are to cover the grid (outside the area too). Returns
    what was written, scenes first (RSRP then server), then one composite per technology.
    """
    directory.mkdir(parents=True, exist_ok=True)
    technologies = {s.technology: s.threshold_dbm for s in scenes}
    written: list[tuple[_TiledRaster, str, str]] = []
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MIB):
        try:
            by_scene = []
            for scene in scenes:
                pair = _scene_rasters(scene, directory, grid, params)
                by_scene.append(pair)
                written += [(r, scene.operator, scene.technology) for r in pair]
            composites = {}
            for technology, threshold in technologies.items():
                raster = _composite_raster(technology, threshold, directory, grid, params)
                composites[technology] = raster
                written.append((raster, "any", technology))
            for tile in tiles:
                best_by_technology: dict[str, dict[str, npt.NDArray[np.float32]]] = {}
                for scene, (rsrp, servers), part in zip(
                    scenes, by_scene, tile.rasters, strict=True
                ):
                    rsrp.write(
                        tile.window, [part.best_rsrp_dbm, part.second_rsrp_dbm, part.sinr_db]
                    )
                    servers.write(tile.window, [server_values(scene, part), part.n_servers])
                    best_by_technology.setdefault(scene.technology, {})[scene.operator] = (
                        part.best_rsrp_dbm
                    )
                for technology, layers in best_by_technology.items():
                    best, operator = composite(layers)
                    # nodata outside the area, as every other band (0 there is "no operator")
                    code = np.where(tile.mask, operator.astype(np.float32), np.float32(NODATA_DB))
                    composites[technology].write(tile.window, [best, code])
            finished = [
                WrittenRaster(raster.finish(), operator, technology, raster.bands)
                for raster, operator, technology in written
            ]
            for done in finished:
                _write_style(done)
            return finished
        except BaseException:
            for raster, _, _ in written:
                raster.discard()
            raise


def server_values(scene: Scene, part: TileRasters) -> npt.NDArray[np.int32]:
    """The best-server raster of a tile: each pixel's best cell by its ``server_index``
    (0 where no cell serves)."""
    served = part.best_server >= 0
    return np.where(served, scene.server_index[np.where(served, part.best_server, 0)], 0)


def _write_style(raster: WrittenRaster) -> None:
    """The QGIS style beside the COG: RSRP of the best server, or the server count of a
    server raster (its best-server index has more values than a palette can tell apart)."""
    names = [band.name for band in raster.bands]
    cmap, band = (SERVER_COUNT, 2) if "servers_above_threshold" in names else (RSRP, 1)
    style_path(raster.path).write_text(raster_qml(cmap, band), encoding="utf-8")


#: Largest edge of the raster drawn on the offline map (pixels): past it, an overview is drawn.
MAP_MAX_PX = 2048


def read_for_map(
    path: Path, band: int = 1, max_px: int = MAP_MAX_PX
) -> tuple[npt.NDArray[np.float32], Grid]:
    """A band of a coverage COG at most ``max_px`` pixels on a side, and its grid.

    A larger raster is read decimated by a whole factor, which GDAL serves from the COG's
    overviews: the map's memory stays bounded whatever the area. The last row and column
    of the decimated grid may stretch by less than one source pixel, which a map cannot show.
    """
    with rasterio.open(path) as source:
        factor = max(1, math.ceil(max(source.width, source.height) / max_px))
        width, height = math.ceil(source.width / factor), math.ceil(source.height / factor)
        values = source.read(band, out_shape=(height, width), resampling=Resampling.nearest)
        transform, crs = source.transform, source.crs.to_string()
    grid = Grid(transform.c, transform.f, transform.a * factor, width, height, crs)
    return values.astype(np.float32, copy=False), grid


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
    lon, lat = metric_to_lonlat(xs, ys, grid.crs)
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
