"""Rows in and out of PostgreSQL in bulk: one COPY each way, Arrow's CSV on the wire.

A read is ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` parsed by Arrow into the catalogue's
dtypes; points travel as their two coordinates (shapely builds points far faster than it parses
WKB), other geometries as hexadecimal WKB decoded in one call. A write is Arrow's CSV of the
validated frame with the geometry as hexadecimal EWKB, into ``COPY … FROM STDIN``.
"""

from __future__ import annotations

import binascii
import io
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from psycopg import sql

from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.store.base import BBox, Filters, iter_filter_items
from gis_planner.store.gpkg import as_catalogue_dtypes
from gis_planner.store.pgschema import FID, GEOMETRY, SRID

_ARROW_TYPES = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}
_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
_PYTHON_TYPES = {"str": str, "int": int, "float": float, "bool": bool}
#: Names of a point's coordinates on their way out of the database.
_POINT_COLUMNS = ("gis_planner_x", "gis_planner_y")


def columns(spec: LayerSpec) -> sql.Composable:
    """The columns a layer's rows are written to, in catalogue order."""
    names = [*spec.field_names, *([GEOMETRY] if spec.geometry_type else [])]
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _envelope(bbox: BBox) -> sql.Composable:
    minx, miny, maxx, maxy = (sql.Literal(float(v)) for v in bbox)
    return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, {})").format(
        minx, miny, maxx, maxy, sql.Literal(SRID)
    )


def overlapping(bbox: BBox) -> sql.Composable:
    """Rows whose geometry's bounding box meets ``bbox`` (the GiST index alone): those whose
    geometry meets it in any projection that maps lon/lat boxes to boxes, Web Mercator's
    included, where an edge is not the same line as in lon/lat."""
    return sql.SQL("{} && {}").format(sql.Identifier(GEOMETRY), _envelope(bbox))


def conditions(
    spec: LayerSpec, name: str, bbox: BBox | None, filters: Filters | None
) -> list[sql.Composable]:
    """The WHERE conditions of a read: the bbox (through the GiST index) and the filters,
    each value cast to its field's type and quoted by psycopg."""
    found: list[sql.Composable] = []
    if bbox is not None and spec.geometry_type:
        geometry = sql.Identifier(GEOMETRY)
        if spec.geometry_type == "Point":
            # A point in the closed box, also one of no area (a polygon of no area intersects
            # nothing); ``&&`` finds the candidates through the GiST index.
            minx, miny, maxx, maxy = (sql.Literal(float(v)) for v in bbox)
            found.append(
                sql.SQL(
                    "{near} AND ST_X({g}) BETWEEN {} AND {} AND ST_Y({g}) BETWEEN {} AND {}"
                ).format(minx, maxx, miny, maxy, g=geometry, near=overlapping(bbox))
            )
        else:
            found.append(sql.SQL("ST_Intersects({}, {})").format(geometry, _envelope(bbox)))
    for field, values in iter_filter_items(filters):
        if field not in spec.field_names:
            raise GisPlannerError(f"layer {name!r} has no field {field!r} to filter on")
        cast = _PYTHON_TYPES[spec.field(field).dtype]
        present = [cast(v) for v in values if v is not None]
        # PostgreSQL's text holds no NUL character: such a value matches no row (and psycopg
        # refuses to quote it).
        present = [v for v in present if not (isinstance(v, str) and "\x00" in v)]
        alternatives: list[sql.Composable] = []
        if present:
            accepted = sql.SQL(", ").join(map(sql.Literal, present))
            alternatives.append(sql.SQL("{} IN ({})").format(sql.Identifier(field), accepted))
        if len(present) < len(values):
            alternatives.append(sql.SQL("{} IS NULL").format(sql.Identifier(field)))
        # No accepted value accepts no row.
        either = sql.SQL(" OR ").join(alternatives) if alternatives else sql.SQL("false")
        found.append(sql.SQL("({})").format(either))
    return found


def copy_in(
    cur: psycopg.Cursor, target: sql.Identifier, spec: LayerSpec, frame: pd.DataFrame
) -> None:
    """``frame`` (validated: catalogue columns and dtypes) into ``target``, in its order."""
    table = pa.Table.from_pandas(pd.DataFrame(frame[list(spec.field_names)]), preserve_index=False)
    if spec.geometry_type:
        geometries = shapely.set_srid(np.asarray(frame.geometry.to_numpy()), SRID)
        ewkb = shapely.to_wkb(geometries, include_srid=True)
        table = table.append_column(GEOMETRY, _hex(ewkb))
    text = io.BytesIO()
    # Every value quoted, so that an empty text stays empty and only a missing value is NULL.
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(table, text, options)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(target, columns(spec))
    with cur.copy(statement) as copy:
        copy.write(text.getbuffer())


def copy_out(
    cur: psycopg.Cursor,
    relation: sql.Identifier,
    spec: LayerSpec,
    fields: Sequence[FieldSpec],
    where: Sequence[sql.Composable],
) -> pd.DataFrame:
    """``fields`` (and the geometry) of the rows of ``relation`` meeting ``where``, in the
    order they were written, in the catalogue's dtypes."""
    geometry = sql.Identifier(GEOMETRY)
    selected: list[sql.Composable] = [sql.Identifier(f.name) for f in fields]
    if spec.geometry_type == "Point":
        selected += [sql.SQL("ST_X({})").format(geometry), sql.SQL("ST_Y({})").format(geometry)]
    elif spec.geometry_type:
        selected.append(sql.SQL("encode(ST_AsBinary({}), 'hex')").format(geometry))
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
        sql.SQL(", ").join(selected),
        relation,
        sql.SQL(" AND ").join(where) if where else sql.SQL("true"),
        sql.Identifier(FID),
    )
    text = io.BytesIO()
    with cur.copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)) as copy:
        for block in copy:
            text.write(block)
    return _frame(text.getvalue(), spec, fields)


def _frame(text: bytes, spec: LayerSpec, fields: Sequence[FieldSpec]) -> pd.DataFrame:
    types = {f.name: _ARROW_TYPES[f.dtype] for f in fields}
    geometry_columns: tuple[str, ...] = ()
    if spec.geometry_type == "Point":
        geometry_columns = _POINT_COLUMNS
        types |= dict.fromkeys(_POINT_COLUMNS, pa.float64())
    elif spec.geometry_type:
        geometry_columns = (GEOMETRY,)
        types[GEOMETRY] = pa.string()
    if text:
        table = pacsv.read_csv(
            io.BytesIO(text),
            read_options=pacsv.ReadOptions(column_names=list(types)),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                # PostgreSQL writes NULL unquoted and an empty text as "".
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
        )
    else:
        table = pa.table({column: pa.array([], type=kind) for column, kind in types.items()})
    attributes = table.drop_columns(list(geometry_columns))
    # The geometry added once the columns are cast: a GeoDataFrame costs milliseconds to
    # make, most of the time of reading one row.
    frame = as_catalogue_dtypes(attributes.to_pandas(types_mapper=_PANDAS_TYPES.get), spec)
    if spec.geometry_type == "Point":
        x, y = (table.column(c).to_numpy() for c in _POINT_COLUMNS)
        return gpd.GeoDataFrame(frame, geometry=shapely.points(x, y), crs=WGS84)
    if spec.geometry_type:
        wkb = _unhex(table.column(GEOMETRY))
        return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=WGS84)
    return frame


def _unhex(column: pa.ChunkedArray) -> npt.NDArray[np.object_]:
    """Hexadecimal texts as bytes, decoded in one call over Arrow's contiguous buffer."""
    array = column.combine_chunks().cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    raw = binascii.unhexlify(memoryview(data)[offsets[0] : offsets[-1]] if data else b"")
    binary = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(),
        len(array),
        [None, pa.py_buffer((offsets - offsets[0]) // 2), pa.py_buffer(raw)],
    )
    return binary.to_numpy(zero_copy_only=False)


def _hex(values: npt.NDArray[np.object_]) -> pa.LargeStringArray:
    """Bytes as hexadecimal texts, encoded in one call over Arrow's contiguous buffer."""
    array = pa.array(values, type=pa.large_binary())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    data = array.buffers()[2]
    text = binascii.hexlify(memoryview(data)[offsets[0] : offsets[-1]] if data else b"")
    return pa.LargeStringArray.from_buffers(
        len(array), pa.py_buffer((offsets - offsets[0]) * 2), pa.py_buffer(text)
    )
