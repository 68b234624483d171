"""Rasters cut into one COG a province, and the GDAL VRT that mosaics them back.

A province's COG is the window of the raster's grid over the province's bounds (in the
raster's CRS, whole pixels outwards): the same grid, the same pixels, copied by GDAL's COG
driver from a VRT of that window, so no value is resampled or converted. Neighbouring windows
overlap where the provinces' bounds do, with the same values. The mosaic is a VRT of the
raster's own size and georeferencing whose sources are the COGs at their windows' offsets,
with relative paths: reading it gives the raster back, pixel for pixel, and GDAL, QGIS and
rasterio open it as one layer. The VRT format is GDAL's (https://gdal.org/drivers/raster/vrt.html).
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.dtypes
import rasterio.shutil
from affine import Affine
from rasterio.windows import Window as RioWindow

from gis_planner.coverage.grid import Window
from gis_planner.coverage.products import BLOCK_PX, GDAL_CACHE_MIB
from gis_planner.errors import GisPlannerError


@dataclass(frozen=True)
class RasterPart:
    """One province's COG of a raster (``code`` None: the pixels of no province's window)."""

    code: str | None
    path: Path
    window: Window


def province_windows(
    transform: Affine, width: int, height: int, crs: str, provinces: gpd.GeoDataFrame
) -> dict[str, Window]:
    """Each province's window of the grid (``transform``, ``width`` × ``height`` in ``crs``):
    the pixels whose centres can lie in it, those of the bounds of its outline there, cut to
    the grid; provinces outside the grid have none."""
    if transform.b or transform.d or transform.a <= 0 or transform.e >= 0:
        raise GisPlannerError("only north-up rasters can be cut by province")
    windows = {}
    for code, geometry in zip(provinces["code"], provinces.to_crs(crs).geometry, strict=True):
        if geometry is None or geometry.is_empty:
            continue
        x0, y0, x1, y1 = geometry.bounds
        col0 = max(0, math.floor((x0 - transform.c) / transform.a))
        col1 = min(width, math.ceil((x1 - transform.c) / transform.a))
        row0 = max(0, math.floor((y1 - transform.f) / transform.e))
        row1 = min(height, math.ceil((y0 - transform.f) / transform.e))
        if col1 > col0 and row1 > row0:
            windows[str(code)] = Window(row0, col0, row1 - row0, col1 - col0)
    return windows


def _has_data(values: npt.NDArray[np.generic], nodata: float | None) -> npt.NDArray[np.bool_]:
    """Pixels (of a bands × rows × cols block) where a band holds a value."""
    if nodata is None:
        return np.ones(values.shape[1:], dtype=bool)
    if math.isnan(nodata):
        return np.asarray((~np.isnan(values)).any(axis=0))
    return np.asarray((values != nodata).any(axis=0))


def leftover_window(path: Path, windows: Sequence[Window]) -> Window | None:
    """The smallest window holding every pixel of the raster at ``path`` where a band has a
    value but that none of ``windows`` holds; None if there is no such pixel. Only the blocks
    not inside a window are read."""
    rows: list[int] = []
    cols: list[int] = []
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MIB), rasterio.open(path) as dataset:
        for _, block in dataset.block_windows(1):
            r0, c0 = int(block.row_off), int(block.col_off)
            r1, c1 = r0 + int(block.height), c0 + int(block.width)
            inside = [
                w for w in windows
                if w.row0 < r1 and w.row0 + w.height > r0 and w.col0 < c1 and w.col0 + w.width > c0
            ]  # fmt: skip
            if any(
                w.row0 <= r0 and w.row0 + w.height >= r1 and w.col0 <= c0 and w.col0 + w.width >= c1
                for w in inside
            ):
                continue
            has = _has_data(dataset.read(window=block), dataset.nodata)
            for w in inside:
                has[
                    max(w.row0 - r0, 0) : min(w.row0 + w.height, r1) - r0,
                    max(w.col0 - c0, 0) : min(w.col0 + w.width, c1) - c0,
                ] = False
            found_rows, found_cols = np.nonzero(has)
            if len(found_rows):
                rows += [r0 + int(found_rows.min()), r0 + int(found_rows.max())]
                cols += [c0 + int(found_cols.min()), c0 + int(found_cols.max())]
    if not rows:
        return None
    return Window(min(rows), min(cols), max(rows) - min(rows) + 1, max(cols) - min(cols) + 1)


@dataclass(frozen=True)
class _Source:
    """A raster a VRT reads: its file and size, the rectangle read and where it goes."""

    path: str
    relative: bool
    width: int
    height: int
    block: tuple[int, int]
    src: Window
    dst: Window


def _rect(parent: ET.Element, tag: str, window: Window) -> None:
    ET.SubElement(
        parent, tag, xOff=str(window.col0), yOff=str(window.row0),
        xSize=str(window.width), ySize=str(window.height),
    )  # fmt: skip


def _vrt(
    dataset: rasterio.io.DatasetReader,
    transform: Affine,
    width: int,
    height: int,
    tags: Mapping[str, str],
    sources: Sequence[_Source],
    overviews: Sequence[int] = (),
) -> str:
    """A VRT of ``dataset``'s bands, georeferencing and tags on the grid ``transform``,
    ``width`` × ``height``, made of ``sources`` (simple sources: no value changes), with
    virtual ``overviews`` (factors: GDAL reads them from the sources' own overviews)."""
    root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    srs = ET.SubElement(root, "SRS", dataAxisToSRSAxisMapping="1,2")
    srs.text = dataset.crs.to_wkt()
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(v) for v in transform.to_gdal())
    if overviews:
        listed = ET.SubElement(root, "OverviewList", resampling="nearest")
        listed.text = " ".join(str(f) for f in overviews)
    metadata = ET.SubElement(root, "Metadata")
    for key, value in tags.items():
        ET.SubElement(metadata, "MDI", key=key).text = value
    for band in range(1, dataset.count + 1):
        dtype = dataset.dtypes[band - 1]
        gdal_type = rasterio.dtypes.typename_fwd[rasterio.dtypes.dtype_rev[dtype]]
        element = ET.SubElement(root, "VRTRasterBand", dataType=gdal_type, band=str(band))
        if dataset.descriptions[band - 1]:
            ET.SubElement(element, "Description").text = dataset.descriptions[band - 1]
        if dataset.nodata is not None:
            ET.SubElement(element, "NoDataValue").text = repr(float(dataset.nodata))
        for source in sources:
            simple = ET.SubElement(element, "SimpleSource")
            name = ET.SubElement(
                simple, "SourceFilename", relativeToVRT="1" if source.relative else "0"
            )
            name.text = source.path
            ET.SubElement(simple, "SourceBand").text = str(band)
            ET.SubElement(
                simple, "SourceProperties", RasterXSize=str(source.width),
                RasterYSize=str(source.height), DataType=gdal_type,
                BlockXSize=str(source.block[0]), BlockYSize=str(source.block[1]),
            )  # fmt: skip
            _rect(simple, "SrcRect", source.src)
            _rect(simple, "DstRect", source.dst)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def write_window(
    source: Path, window: Window, target: Path, tags: Mapping[str, str] | None = None
) -> Path:
    """The pixels of ``window`` of the raster ``source`` as the COG ``target`` (same bands,
    types, nodata and tags, and ``tags`` added), overviews built as the coverage COGs'."""
    target.parent.mkdir(parents=True, exist_ok=True)
    window_vrt = target.with_name(target.name + ".window.vrt")
    part = target.with_name(target.name + ".part")
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MIB):
        with rasterio.open(source) as dataset:
            blocks = dataset.block_shapes[0]
            whole = _Source(
                str(source.resolve()), False, dataset.width, dataset.height,
                (blocks[1], blocks[0]), window, Window(0, 0, window.height, window.width),
            )  # fmt: skip
            transform = dataset.window_transform(
                RioWindow(window.col0, window.row0, window.width, window.height)
            )
            text = _vrt(
                dataset, transform, window.width, window.height,
                {**dataset.tags(), **(tags or {})}, [whole],
            )  # fmt: skip
        window_vrt.write_text(text, encoding="utf-8")
        try:
            rasterio.shutil.copy(
                window_vrt, part, driver="COG", compress="DEFLATE", blocksize=BLOCK_PX,
                overview_resampling="NEAREST", BIGTIFF="IF_SAFER",
            )  # fmt: skip
            part.replace(target)
        finally:
            window_vrt.unlink(missing_ok=True)
            part.unlink(missing_ok=True)
    return target


def overview_factors(width: int, height: int) -> list[int]:
    """The overview factors GDAL's COG driver gives a raster of this size: halving until a
    level fits in one block."""
    factors, factor = [], 2
    while max(width, height) / (factor // 2) > BLOCK_PX:
        factors.append(factor)
        factor *= 2
    return factors


def write_mosaic(source: Path, parts: Sequence[RasterPart], target: Path) -> Path:
    """The VRT ``target`` of the grid, bands and tags of the raster ``source``, made of its
    windows ``parts`` (COGs written by ``write_window``) by relative paths, with virtual
    overviews at the factors of the source's (a VRT of several sources has none otherwise:
    the API's tiles of a country zoomed out read them)."""
    sources = []
    for part in parts:
        with rasterio.open(part.path) as cog:
            blocks = cog.block_shapes[0]
            if (cog.height, cog.width) != (part.window.height, part.window.width):
                raise GisPlannerError(f"{part.path}: not the size of its window {part.window}")
        relative = Path(os.path.relpath(part.path, target.parent)).as_posix()
        whole = Window(0, 0, part.window.height, part.window.width)
        size = (part.window.width, part.window.height)
        sources.append(_Source(relative, True, *size, (blocks[1], blocks[0]), whole, part.window))
    with rasterio.open(source) as dataset:
        text = _vrt(
            dataset, dataset.transform, dataset.width, dataset.height, dataset.tags(), sources,
            overview_factors(dataset.width, dataset.height),
        )  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
