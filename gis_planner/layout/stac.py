"""The layout's STAC catalogue (pystac): a collection, an item a province, the mosaics.

Each province's item has its outline and bbox, and as assets its GeoParquet partitions (with
the table extension's row count) and its COGs (with the projection extension's CRS, shape and
transform, and the raster extension's bands). The collection's assets are the VRT mosaics, one
national layer a raster. Paths are relative (a self-contained catalogue): the layout can be
moved or served as it is. The STAC core schemas ship with pystac, so the documents validate
without a network (``validate``); the extensions' schemas are online only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pystac
import shapely
from affine import Affine
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension
from pystac.extensions.table import TableExtension
from rasterio.warp import transform_bounds
from shapely.geometry import mapping

from gis_planner.crs import WGS84
from gis_planner.layout import COLLECTION_FILE, ITEMS_DIR
from gis_planner.layout.rasters import RasterPart
from gis_planner.layout.vectors import Partition
from gis_planner.products import ProductRecord

#: The collection's id.
COLLECTION_ID = "gis-planner-national"
#: Media type of the GeoParquet partitions (registered with IANA in 2024).
PARQUET = "application/vnd.apache.parquet"
#: GDAL's VRT has no registered media type: it is XML.
VRT = "application/xml"
#: Fields of this project in items and assets.
PREFIX = "gis_planner:"


@dataclass(frozen=True)
class ExportedRaster:
    """A raster of a product cut by province: its record, mosaic and parts, and its grid."""

    record: ProductRecord
    mosaic: Path
    parts: tuple[RasterPart, ...]
    crs: str
    transform: Affine
    width: int
    height: int
    dtype: str
    nodata: float | None

    @property
    def name(self) -> str:
        return self.mosaic.stem


def item_id(code: str | None) -> str:
    """The STAC id of a province's item (``province-01``), ``outside`` for no province's."""
    return f"province-{code}" if code else "outside"


def _projection(asset: pystac.Asset, crs: str, transform: Affine, shape: tuple[int, int]) -> None:
    proj = ProjectionExtension.ext(asset, add_if_missing=True)
    proj.code = crs
    proj.shape = [shape[0], shape[1]]
    proj.transform = [transform.a, transform.b, transform.c, transform.d, transform.e, transform.f]
    west, north = transform @ (0, 0)
    east, south = transform @ (shape[1], shape[0])
    proj.bbox = [west, south, east, north]


def _raster_asset(raster: ExportedRaster, path: Path, title: str) -> pystac.Asset:
    bands = "; ".join(f"{b.index}={b.name} ({b.unit or '-'})" for b in raster.record.bands)
    return pystac.Asset(
        href=str(path),
        media_type=pystac.MediaType.COG if path.suffix == ".tif" else VRT,
        roles=["data"] if path.suffix == ".tif" else ["data", "mosaic"],
        title=title,
        description=f"bands {bands}",
        extra_fields={f"{PREFIX}product": raster.record.id},
    )


def _raster_bands(asset: pystac.Asset, raster: ExportedRaster) -> None:
    RasterExtension.ext(asset, add_if_missing=True).bands = [
        RasterBand.create(
            nodata=raster.nodata,
            data_type=DataType(raster.dtype),
            spatial_resolution=abs(raster.transform.a),
            unit=band.unit or None,
        )
        for band in raster.record.bands
    ]


def write_catalogue(
    out: Path,
    provinces: gpd.GeoDataFrame,
    admin_version: str,
    partitions: Sequence[Partition],
    rasters: Sequence[ExportedRaster],
    created: datetime,
) -> Path:
    """The STAC collection of a layout under ``out``: an item for each of ``provinces`` (code,
    name, outline) and for the rows and pixels of no province if there are any; its path."""
    outlines = provinces.to_crs(WGS84)
    codes = [str(c) for c in outlines["code"]]
    boxes: dict[str | None, list[tuple[float, float, float, float]]] = {None: []}
    for partition in partitions:
        if partition.code is None and partition.bounds is not None:
            boxes[None].append(partition.bounds)
    for raster in rasters:
        for part in raster.parts:
            if part.code is None:
                transform = raster.transform
                west, north = transform @ (part.window.col0, part.window.row0)
                east, south = transform @ (
                    part.window.col0 + part.window.width,
                    part.window.row0 + part.window.height,
                )
                boxes[None].append(transform_bounds(raster.crs, WGS84, west, south, east, north))

    items: dict[str | None, pystac.Item] = {}
    for code, name, outline in zip(codes, outlines["name"], outlines.geometry, strict=True):
        items[code] = _item(code, str(name), outline, admin_version, created)
    if boxes[None]:
        west, south = min(b[0] for b in boxes[None]), min(b[1] for b in boxes[None])
        east, north = max(b[2] for b in boxes[None]), max(b[3] for b in boxes[None])
        outside = shapely.box(west, south, east, north)
        items[None] = _item(None, "outside every province", outside, admin_version, created)

    every = shapely.union_all([shapely.box(*item.bbox) for item in items.values() if item.bbox])
    collection = pystac.Collection(
        id=COLLECTION_ID,
        title="gis-planner national layout",
        description=(
            "Vector layers as GeoParquet partitions by province, coverage rasters as one COG a "
            "province with a VRT mosaic each, written by `gis-planner export-national`."
        ),
        extent=pystac.Extent(
            pystac.SpatialExtent([list(every.bounds)]), pystac.TemporalExtent([[created, created]])
        ),
        license="other",
        extra_fields={f"{PREFIX}admin_version": admin_version},
    )
    collection.set_self_href(str(out / COLLECTION_FILE))
    for item in items.values():
        collection.add_item(item)
        item.set_self_href(str(out / ITEMS_DIR / f"{item.id}.json"))
    for partition in partitions:
        owner = items.get(partition.code)
        if owner is None:
            continue
        asset = pystac.Asset(
            href=str(partition.path), media_type=PARQUET, roles=["data"], title=partition.layer
        )
        owner.add_asset(partition.layer, asset)
        TableExtension.ext(asset, add_if_missing=True).row_count = partition.rows
    for raster in rasters:
        mosaic = _raster_asset(raster, raster.mosaic, f"{raster.record.id} (national mosaic)")
        # relative by hand: pystac makes the items' assets relative, not the collection's
        mosaic.href = raster.mosaic.relative_to(out).as_posix()
        collection.add_asset(raster.name, mosaic)
        _projection(mosaic, raster.crs, raster.transform, (raster.height, raster.width))
        _raster_bands(mosaic, raster)
        for part in raster.parts:
            owner = items.get(part.code)
            if owner is None:
                continue
            asset = _raster_asset(raster, part.path, raster.record.id)
            owner.add_asset(raster.name, asset)
            window = part.window
            transform = raster.transform @ Affine.translation(window.col0, window.row0)
            _projection(asset, raster.crs, transform, (window.height, window.width))
            _raster_bands(asset, raster)
    collection.make_all_asset_hrefs_relative()
    collection.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return out / COLLECTION_FILE


def _item(
    code: str | None, name: str, outline: Any, admin_version: str, created: datetime
) -> pystac.Item:
    return pystac.Item(
        id=item_id(code),
        geometry=mapping(outline),
        bbox=list(outline.bounds),
        datetime=created,
        properties={
            "title": name,
            "created": pystac.utils.datetime_to_str(created),
            f"{PREFIX}province": code,
            f"{PREFIX}admin_version": admin_version,
        },
    )


def validate(collection_path: Path) -> int:
    """Validate the collection and its items against the STAC core schemas shipped with pystac
    (the extensions' schemas need a network: their fields are left to ``pystac``'s readers);
    the number of documents checked. Raises ``pystac.STACValidationError``."""
    import pystac.validation

    collection = pystac.Collection.from_file(str(collection_path))
    documents: list[pystac.STACObject] = [collection, *collection.get_items(recursive=True)]
    for document in documents:
        core = document.to_dict(include_self_link=False)
        core["stac_extensions"] = []
        pystac.validation.validate_dict(core)
    return len(documents)
