"""The LayerStore protocol: what every store (GeoPackage now, PostGIS next) offers the analyses."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry

from gis_planner.catalogue import Validation, get_spec, validate
from gis_planner.catalogue.spec import LayerSpec
from gis_planner.crs import WGS84
from gis_planner.products import ProductRecord, catalogue_name

#: (min lon, min lat, max lon, max lat) in WGS84.
BBox = tuple[float, float, float, float]
#: Attribute filter: field → one value or a sequence of accepted values, combined with AND.
Filters = Mapping[str, Any]
WriteMode = Literal["replace", "append"]
#: The geometry's name in a record.
GEOMETRY = "geometry"


@dataclass(frozen=True)
class LayerInfo:
    """What a store knows about one of its layers without reading it."""

    name: str
    geometry_type: str | None
    count: int
    bounds: BBox | None
    written_at: str | None
    metadata: Mapping[str, Any]
    #: The store ``revision()`` of the commit that last wrote this layer (0 if unknown).
    revision: int = 0


@runtime_checkable
class LayerWriter(Protocol):
    """Reads and writes layers; inside a transaction, nothing shows until it commits."""

    def list_layers(self) -> list[LayerInfo]: ...

    def has_layer(self, name: str) -> bool: ...

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The layer (a GeoDataFrame for spatial layers) in the catalogue's dtypes."""
        ...

    def write(
        self,
        name: str,
        frame: pd.DataFrame | Validation,
        *,
        mode: WriteMode = "replace",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        """Validate ``frame`` against the catalogue and write it; all rows or none. Rows
        already validated are given as their ``Validation`` (see ``catalogue.checked``)."""
        ...

    def delete(self, name: str) -> None: ...

    def metadata(self, name: str) -> dict[str, Any]: ...

    def register(self, record: ProductRecord) -> None:
        """Record a product (replacing the record of the same id); inside a transaction, it
        commits with the layers written there."""
        ...

    def unregister(self, product_id: str) -> None:
        """Drop the record of ``product_id`` (nothing if there is none); inside a transaction,
        with the layers written there."""
        ...

    def products(self) -> list[ProductRecord]:
        """Every registered product, by id."""
        ...

    def product(self, product_id: str) -> ProductRecord:
        """The record of ``product_id``; ``UnknownProduct`` if there is none."""
        ...

    def layer_revisions(self) -> dict[str, int]:
        """Each layer's revision (see ``LayerInfo.revision``), without opening the layers."""
        ...


@runtime_checkable
class LayerStore(LayerWriter, Protocol):
    """A store of catalogued layers.

    Every method that changes the store is atomic: it runs in its own transaction unless it is
    called on the writer of an open ``transaction()``, whose changes all commit together at the
    end of the ``with`` block or not at all.
    """

    @property
    def uri(self) -> str: ...

    @property
    def assets_dir(self) -> Path:
        """A directory the store manages for file products (COG rasters, reports)."""
        ...

    def transaction(self) -> AbstractContextManager[LayerWriter]: ...

    def revision(self) -> int:
        """A number that every committed change increments: equal revisions, equal contents.
        Cheap enough to ask on every request; caches key on it."""
        ...

    def stale(self, record: ProductRecord) -> bool:
        """Whether an input layer of ``record`` changed since the product was computed."""
        ...


def iter_filter_items(filters: Filters | None) -> Iterator[tuple[str, list[Any]]]:
    """Filters as (field, accepted values) pairs; a scalar becomes a one-element list."""
    for field, value in (filters or {}).items():
        if isinstance(value, str) or not isinstance(value, Sequence):
            yield field, [value]
        else:
            yield field, list(value)


@dataclass(frozen=True)
class Change:
    """One edit of one row, as the audit history keeps it.

    ``before`` and ``after`` are the row (its fields and its geometry as GeoJSON) before and
    after the change, None for a row that did not exist (a creation) or no longer does (a
    deletion). ``undoes`` names the change an undo reverted.
    """

    layer: str
    feature_id: str
    action: str
    who: str
    role: str
    operator: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    undoes: int | None = None
    id: int = 0
    at: str = ""


@runtime_checkable
class RowWriter(Protocol):
    """What the writer of a transaction offers for editing one row at a time (both stores'
    writers do; other stores need not)."""

    def read_row(self, name: str, key: Mapping[str, Any]) -> pd.DataFrame:
        """The row of layer ``name`` with key ``key`` (empty if none), held against other
        writers until the transaction ends."""
        ...

    def read_record(
        self, name: str, key: Mapping[str, Any], *, lock: bool = True
    ) -> dict[str, Any] | None:
        """The row of ``key`` as a record (``record_of``), None if there is none; held against
        other writers until the transaction ends unless ``lock`` is False."""
        ...

    def put_record(
        self, name: str, values: Mapping[str, Any], geometry: shapely.Geometry | None
    ) -> dict[str, Any]:
        """``put_row`` of one row given as plain values (validated by ``validate_row``, the
        catalogue's rules for one row); the record as stored."""
        ...

    def put_row(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        """Validate the one row of ``frame`` and write it in place of the row of the same key,
        if there is one; the row as written (``LayerValidationError`` if it breaks a rule)."""
        ...

    def delete_row(self, name: str, key: Mapping[str, Any]) -> int:
        """Delete the row of key ``key``; the number of rows deleted (0 or 1)."""
        ...

    def record_change(self, change: Change) -> int:
        """Add ``change`` to the audit history; its id."""
        ...

    def changes(
        self, *, layer: str | None = None, limit: int = 100, change_id: int | None = None
    ) -> list[Change]:
        """The audit history, newest first (of ``layer``, or the one change ``change_id``)."""
        ...


def plain(value: Any) -> Any:
    """A value of a frame as plain Python (numpy scalars unwrapped), None where missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def as_record(
    spec: LayerSpec, values: Mapping[str, Any], geometry: shapely.Geometry | None
) -> dict[str, Any]:
    """A row as plain JSON values (every field of ``spec``), its geometry as GeoJSON."""
    record = {f.name: plain(values.get(f.name)) for f in spec.fields}
    if spec.geometry_type is not None:
        record[GEOMETRY] = None if geometry is None else shapely.geometry.mapping(geometry)
    # Through JSON once, so that a record compares equal to one read back from the history.
    as_json: dict[str, Any] = json.loads(json.dumps(record, ensure_ascii=False, default=str))
    return as_json


def record_of(spec: LayerSpec, frame: pd.DataFrame) -> dict[str, Any]:
    """The first row of ``frame`` as a record (``as_record``)."""
    row = frame.iloc[0]
    values = {f.name: row[f.name] for f in spec.fields if f.name in frame.columns}
    geometry = frame.geometry.iloc[0] if spec.geometry_type is not None else None
    return as_record(spec, values, geometry)


def row_frame(
    spec: LayerSpec, values: Mapping[str, Any], geometry: shapely.Geometry | None
) -> pd.DataFrame:
    """One row of plain values (and its geometry) as a frame, to validate or write."""
    data = {name: [values.get(name)] for name in spec.field_names if name in values}
    frame = pd.DataFrame(data, index=[0])
    if spec.geometry_type is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=[geometry], crs=WGS84)


def valid_row(name: str, frame: pd.DataFrame) -> tuple[LayerSpec, pd.DataFrame, dict[str, Any]]:
    """The spec of store layer ``name``, ``frame`` validated against it (raising
    ``LayerValidationError``) and the key of its first row: what ``put_row`` starts with."""
    spec = get_spec(catalogue_name(name))
    result = validate(frame, spec)
    result.raise_if_problems()
    valid = result.valid
    return spec, valid, {k: valid[k].iloc[0] for k in spec.key}
