"""Vector layers as GeoParquet partitions by province (hive style), and reading them back.

Each layer is a folder of ``province=CODE/part.parquet`` files written by GeoPandas (GeoParquet
metadata, WKB geometry, a ``bbox`` covering column): pyarrow, GeoPandas, DuckDB, QGIS and
Dask read the folder as one dataset with a ``province`` column, and a filter on it reads only
those files. Province codes are strings (``"01"``): read them as such (``partitioning()``),
or pyarrow takes them for numbers and drops the leading zero.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from gis_planner.admin import locate
from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.layout import OUTSIDE, PART_FILE, PARTITION, partition_dir

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Partition:
    """One file of a partitioned layer: a province's rows (``code`` None: no province's)."""

    layer: str
    code: str | None
    path: Path
    rows: int
    #: (west, south, east, north) of its geometries, None if it has none.
    bounds: BBox | None


def partitioning() -> ds.Partitioning:
    """The layout's partitioning for pyarrow: ``province=CODE`` folders, codes as strings."""
    return ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive")


def province_of(frame: gpd.GeoDataFrame, provinces: gpd.GeoDataFrame) -> pd.Series:
    """The code of the province holding each feature's representative point, ``<NA>`` for
    none; a point on the border of two goes to the lower code (``provinces`` by code)."""
    if frame.empty:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    ordered = provinces.sort_values("code", ignore_index=True).to_crs(WGS84)
    return locate(frame.geometry.to_crs(WGS84).representative_point(), ordered).astype("string")


def _typed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with its text columns typed as strings: a column of objects empty in one
    province would otherwise take another arrow type there than in the next."""
    typed = frame.copy()
    geometry = frame.geometry.name
    for column in frame.columns:
        if column == geometry or frame[column].dtype != object:
            continue
        values = frame[column].dropna()
        if all(isinstance(v, str) for v in values):
            typed[column] = frame[column].astype("string")
    return typed


def write_layer(
    name: str, frame: gpd.GeoDataFrame, province: pd.Series, directory: Path
) -> list[Partition]:
    """Write ``frame`` (a layer in WGS84) under ``directory`` one file a province
    (``province``: each row's code, ``<NA>`` for none), rows in their order; the partitions."""
    if PARTITION in frame.columns:
        raise GisPlannerError(f"layer {name!r} has a column {PARTITION!r}: the partition key")
    frame = _typed(frame.reset_index(drop=True))
    keys = province.reset_index(drop=True).astype("string").fillna(OUTSIDE).to_numpy(dtype=str)
    written = []
    for code in np.unique(keys):
        rows = frame[keys == code]
        path = directory / partition_dir(None if code == OUTSIDE else str(code)) / PART_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(path, index=False, compression="zstd", write_covering_bbox=True)
        present = rows.geometry.dropna()
        present = present[~present.is_empty]
        bounds: BBox | None = None
        if len(present):
            west, south, east, north = (float(v) for v in present.total_bounds)
            bounds = (west, south, east, north)
        key = None if code == OUTSIDE else str(code)
        written.append(Partition(name, key, path, len(rows), bounds))
    return written


def layer_bounds(directory: Path) -> BBox | None:
    """The bounds of a partitioned layer, from its files' GeoParquet metadata (no row read)."""
    boxes = []
    for path in sorted(directory.glob(f"{PARTITION}=*/{PART_FILE}")):
        geo = json.loads(pq.read_schema(path).metadata[b"geo"])
        box = geo["columns"][geo["primary_column"]].get("bbox")
        if box and all(np.isfinite(box)):
            boxes.append(box)
    if not boxes:
        return None
    array = np.array(boxes, dtype=float)
    return (
        float(array[:, 0].min()),
        float(array[:, 1].min()),
        float(array[:, 2].max()),
        float(array[:, 3].max()),
    )


def read_layer(
    directory: Path,
    provinces: Sequence[str | None] | None = None,
    *,
    bbox: BBox | None = None,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """A partitioned layer (``directory``), or the partitions of ``provinces`` (None in it for
    the rows of no province), or its features meeting ``bbox`` (lon/lat) whatever their
    partition, with the ``province`` of each row (``<NA>`` for none)."""
    if not directory.is_dir():
        raise GisPlannerError(f"{directory}: no partitioned layer there")
    where = None
    if provinces is not None:
        codes = pa.array([c for c in provinces if c is not None], type=pa.string())
        where = pc.field(PARTITION).isin(codes)
        if None in provinces:
            where = where | pc.field(PARTITION).is_null()
    frame = gpd.read_parquet(
        directory,
        columns=[*columns, PARTITION] if columns is not None else None,
        bbox=bbox,
        filters=where,
        partitioning=partitioning(),
    )
    frame[PARTITION] = frame[PARTITION].astype("string")
    return frame
