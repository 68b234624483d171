"""Pages of a layer read in PostGIS: the rows one request shows and how many rows match, so
that a server answers a page without reading the whole layer.

The bbox and the filters are conditions of the SQL (``pgrows.conditions``: the bbox through the
GiST index), the page is ``LIMIT``/``OFFSET`` in the order the rows were written, and what the
caller may see is the database's row-level security and shared views (the relation the caller
reads, see ``PostGISTransaction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import psycopg
from psycopg import sql

from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.store import pgrows
from gis_planner.store.base import BBox, Filters


@dataclass(frozen=True)
class Page:
    """Rows ``offset`` to ``offset + limit`` of those matched, in the order they were written
    (a GeoDataFrame for a layer with geometry, in the catalogue's dtypes), and how many rows
    matched in all."""

    frame: pd.DataFrame
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
    count = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
        relation, sql.SQL(" AND ").join(where) if where else sql.SQL("true")
    )
    row = cur.execute(count).fetchone()
    matched = int(row[0]) if row else 0
    # An offset past the rows (any integer a client sends) asks the database for none.
    if offset >= matched:
        limit, offset = 0, 0
    frame = pgrows.copy_out(cur, relation, spec, fields, where, limit=limit, offset=offset)
    return Page(frame, matched)
