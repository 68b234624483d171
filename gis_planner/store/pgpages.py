"""Pages of a layer read in PostGIS: the rows one request shows and how many rows match, so
that a server answers a page without reading the whole layer.

The bbox and the filters are conditions of the SQL (``pgrows.conditions``: the bbox through the
GiST index), the page is ``LIMIT``/``OFFSET`` in the order the rows were written, and what the
caller may see is the database's row-level security and shared views (the relation the caller
reads, see ``PostGISTransaction``). A page is a few dozen rows: they come as plain values of
one SELECT, far cheaper than a COPY into a frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from psycopg import sql

from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.store import pgrows
from gis_planner.store.base import BBox, Filters
from gis_planner.store.pgschema import FID, GEOMETRY


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` to ``offset + limit`` of those matched, in the order they were written:
    the fields asked of each as plain Python values (missing ones None) and the geometries
    (shapely, WGS84; None for a layer without geometry); and how many rows matched in all."""

    records: list[dict[str, Any]]
    geometries: npt.NDArray[np.object_] | None
    matched: int


def read_page(
    cur: psycopg.Cursor,
    relation: sql.Identifier,
    spec: LayerSpec,
    name: str,
    fields: Sequence[FieldSpec],
    *,
    bbox: BBox | None,
    filters: Filters | None,
    limit: int,
    offset: int,
) -> Page:
    """The page, by two statements: the count and the rows. Both see one snapshot only in a
    ``REPEATABLE READ`` transaction (``PostGISStore.read_page``'s)."""
    where = pgrows.conditions(spec, name, bbox, filters)
    condition = sql.SQL(" AND ").join(where) if where else sql.SQL("true")
    count = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(relation, condition)
    found = cur.execute(count).fetchone()
    matched = int(found[0]) if found else 0
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT %s OFFSET %s").format(
        _selected(spec, fields), relation, condition, sql.Identifier(FID)
    )
    rows: list[tuple[Any, ...]] = []
    # An offset past the rows (any integer a client sends) asks the database for none.
    if offset < matched:
        rows = cur.execute(query, (limit, offset)).fetchall()
    names = [f.name for f in fields]
    records = [dict(zip(names, row, strict=False)) for row in rows]
    if not spec.geometry_type:
        return Page(records, None, matched)
    return Page(records, _geometries(spec, [row[len(names) :] for row in rows]), matched)


def _selected(spec: LayerSpec, fields: Sequence[FieldSpec]) -> sql.Composable:
    """The fields, then a point's coordinates or another geometry's WKB."""
    selected: list[sql.Composable] = []
    for field in fields:
        name = sql.Identifier(field.name)
        # A NaN stored by hand is a missing number, as in a layer read whole.
        if field.dtype == "float":
            selected.append(sql.SQL("NULLIF({}, 'NaN') AS {}").format(name, name))
        else:
            selected.append(name)
    geometry = sql.Identifier(GEOMETRY)
    if spec.geometry_type == "Point":
        selected += [sql.SQL("ST_X({})").format(geometry), sql.SQL("ST_Y({})").format(geometry)]
    elif spec.geometry_type:
        selected.append(sql.SQL("ST_AsBinary({})").format(geometry))
    return sql.SQL(", ").join(selected)


def _geometries(spec: LayerSpec, parts: Sequence[tuple[Any, ...]]) -> npt.NDArray[np.object_]:
    """Shapely geometries of each row's geometry columns (``_selected``)."""
    if spec.geometry_type == "Point":
        xy = np.asarray(parts, dtype=np.float64).reshape(-1, 2)
        points: npt.NDArray[np.object_] = shapely.points(xy)
        return points
    wkb = np.array([bytes(part[0]) for part in parts], dtype=object)
    found: npt.NDArray[np.object_] = shapely.from_wkb(wkb)
    return found
