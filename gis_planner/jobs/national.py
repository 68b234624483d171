"""The national layout job: a store's layers and coverage rasters cut by province, catalogued.

Writes the layout of ``gis_planner.layout`` (GeoParquet partitions, one COG a province and a
VRT mosaic a raster, a STAC collection) in a folder beside the one it replaces, then puts it in
place: a failed export leaves the previous layout whole. A layout in the store's assets folder
(the default) has its mosaics registered as raster products (``national.{product}``, the
inputs of the product they cut), so that the API lists and serves each as one layer.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import rasterio

from gis_planner.admin import units
from gis_planner.catalogue.layers import ADMIN_VERSIONS
from gis_planner.coverage.registry import JOB as COVERAGE_JOB
from gis_planner.coverage.registry import raster_bands
from gis_planner.errors import GisPlannerError
from gis_planner.layout import COLLECTION_FILE, COVERAGE_DIR, LAYERS_DIR, partition_dir
from gis_planner.layout.rasters import (
    RasterPart,
    leftover_window,
    province_windows,
    write_mosaic,
    write_window,
)
from gis_planner.layout.stac import ExportedRaster, write_catalogue
from gis_planner.layout.vectors import Partition, province_of, write_layer
from gis_planner.products import ProductArea, ProductRecord
from gis_planner.store import LayerStore

#: The job name of the mosaics' records.
JOB = "national"


@dataclass(frozen=True)
class NationalSpec:
    #: The layout's folder; default ``national`` in the store's assets folder.
    out: Path | None = None
    #: Version of the provinces the layout is cut by; default the newest the store holds.
    admin_version: str | None = None
    #: Layers to write (default every layer with a geometry).
    layers: tuple[str, ...] = ()
    #: Scope of the coverage product whose rasters are cut (``""``: the store-wide product);
    #: None for no rasters.
    coverage_scope: str | None = ""


@dataclass(frozen=True)
class NationalResult:
    out: Path
    collection: Path
    admin_version: str
    provinces: tuple[str, ...]
    partitions: tuple[Partition, ...]
    rasters: tuple[ExportedRaster, ...]
    #: Ids of the mosaics registered as raster products (none outside the assets folder).
    registered: tuple[str, ...]
    seconds: float


def newest_version(admin_units: gpd.GeoDataFrame) -> str:
    """The newest administrative version of which ``admin_units`` holds provinces."""
    held = set(admin_units.loc[admin_units["level"] == "province", "admin_version"])
    for version in reversed(ADMIN_VERSIONS):
        if version in held:
            return version
    raise GisPlannerError("admin_units holds no province: nothing to partition by")


def run(
    spec: NationalSpec, store: LayerStore, progress: Callable[[str], None] | None = None
) -> NationalResult:
    """Write the layout of ``spec``; ``progress`` is told each layer and raster as it starts."""
    start = time.perf_counter()
    created = datetime.now(UTC).replace(microsecond=0)
    out = (spec.out or store.assets_dir / "national").absolute()
    if out.exists() and any(out.iterdir()) and not (out / COLLECTION_FILE).exists():
        raise GisPlannerError(f"{out}: not empty and not a national layout; choose another folder")
    admin = store.read("admin_units")
    assert isinstance(admin, gpd.GeoDataFrame)
    version = spec.admin_version or newest_version(admin)
    provinces = units(admin, "province", version)[["code", "name", "geometry"]]
    records = _coverage_records(store, spec.coverage_scope)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.part-", dir=out.parent))
    try:
        partitions = _write_layers(spec, store, provinces, staging, progress)
        rasters = [
            _write_raster(record, store.assets_dir, provinces, staging, progress)
            for record in records
        ]
        write_catalogue(staging, provinces, version, partitions, rasters, created)
        _replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    partitions = [
        dataclasses.replace(part, path=out / part.path.relative_to(staging)) for part in partitions
    ]
    rasters = [_moved(r, staging, out) for r in rasters]
    registered = _register(store, out, rasters, version, tuple(provinces["code"]))
    return NationalResult(
        out=out,
        collection=out / COLLECTION_FILE,
        admin_version=version,
        provinces=tuple(str(c) for c in provinces["code"]),
        partitions=tuple(partitions),
        rasters=tuple(rasters),
        registered=registered,
        seconds=time.perf_counter() - start,
    )


def _coverage_records(store: LayerStore, scope: str | None) -> list[ProductRecord]:
    if scope is None:
        return []
    records = [
        r for r in store.products()
        if r.kind == "raster" and r.job == COVERAGE_JOB and r.scope == scope and r.path
    ]  # fmt: skip
    if scope and not records:
        raise GisPlannerError(f"no coverage rasters of scope {scope!r} in the store")
    return sorted(records, key=lambda r: r.id)


def _write_layers(
    spec: NationalSpec,
    store: LayerStore,
    provinces: gpd.GeoDataFrame,
    staging: Path,
    progress: Callable[[str], None] | None,
) -> list[Partition]:
    spatial = [info.name for info in store.list_layers() if info.geometry_type]
    unknown = sorted(set(spec.layers) - set(spatial))
    if unknown:
        raise GisPlannerError(f"no layer with a geometry named {', '.join(unknown)} in the store")
    partitions = []
    for name in spec.layers or spatial:
        if progress:
            progress(name)
        frame = store.read(name)
        assert isinstance(frame, gpd.GeoDataFrame)
        province = province_of(frame, provinces)
        partitions += write_layer(name, frame, province, staging / LAYERS_DIR / name)
    return partitions


def _write_raster(
    record: ProductRecord,
    assets_dir: Path,
    provinces: gpd.GeoDataFrame,
    staging: Path,
    progress: Callable[[str], None] | None,
) -> ExportedRaster:
    if progress:
        progress(record.id)
    assert record.path is not None
    source = assets_dir / record.path
    if not source.is_file():
        raise GisPlannerError(f"{source}: the file of product {record.id!r} is missing")
    with rasterio.open(source) as dataset:
        transform, width, height = dataset.transform, dataset.width, dataset.height
        crs, dtype, nodata = dataset.crs.to_string(), dataset.dtypes[0], dataset.nodata
    folder = staging / COVERAGE_DIR / (record.scope or "province")
    windows = province_windows(transform, width, height, crs, provinces)
    tags = {"product": record.id}
    parts = []
    for code, window in windows.items():
        path = folder / partition_dir(code) / f"{source.stem}.tif"
        parts.append(
            RasterPart(code, write_window(source, window, path, {**tags, "province": code}), window)
        )
    leftover = leftover_window(source, list(windows.values()))
    if leftover is not None:
        path = folder / partition_dir(None) / f"{source.stem}.tif"
        parts.append(RasterPart(None, write_window(source, leftover, path, tags), leftover))
    mosaic = write_mosaic(source, parts, folder / f"{source.stem}.vrt")
    return ExportedRaster(
        record, mosaic, tuple(parts), crs, transform, width, height, dtype, nodata
    )


def _replace(staging: Path, out: Path) -> None:
    """Put the layout written in ``staging`` at ``out``, the previous one removed after."""
    previous = None
    if out.exists():
        previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.replace(previous / out.name)
    staging.replace(out)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def _moved(raster: ExportedRaster, staging: Path, out: Path) -> ExportedRaster:
    parts = tuple(
        dataclasses.replace(p, path=out / p.path.relative_to(staging)) for p in raster.parts
    )
    mosaic = out / raster.mosaic.relative_to(staging)
    return dataclasses.replace(raster, mosaic=mosaic, parts=parts)


def _register(
    store: LayerStore,
    out: Path,
    rasters: list[ExportedRaster],
    version: str,
    codes: tuple[str, ...],
) -> tuple[str, ...]:
    """Register the mosaics of a layout in the store's assets folder as raster products, and
    drop the records of the mosaics of that folder no longer made."""
    root = store.assets_dir.absolute()
    if not out.is_relative_to(root):
        return ()
    folder = out.relative_to(root).as_posix()
    made = []
    for raster in rasters:
        source = raster.record
        made.append(
            dataclasses.replace(
                source,
                id=f"{JOB}.{source.id}",
                job=JOB,
                parameters={
                    **source.parameters,
                    "product": source.id,
                    "layout": folder,
                    "admin_version": version,
                },
                area=ProductArea(codes),
                bands=raster_bands(raster.mosaic),
                path=raster.mosaic.relative_to(root).as_posix(),
                layer=None,
                created_at="",
            )
        )
    ids = {record.id for record in made}
    gone = [
        r for r in store.products()
        if r.job == JOB and r.parameters.get("layout") == folder and r.id not in ids
    ]  # fmt: skip
    with store.transaction() as tx:
        for record in made:
            tx.register(record)
        for record in gone:
            tx.unregister(record.id)
    return tuple(sorted(ids))
