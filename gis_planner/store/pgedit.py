"""Editing one row of a PostGIS layer, and the audit history in ``gis_planner_meta.audit``.

Run inside a ``PostGISStore`` transaction, as the role it acts for: row-level security decides
which rows a caller may lock, change or delete, and which changes it may record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import psycopg
import shapely
from psycopg import sql

from gis_planner.catalogue.spec import LayerSpec
from gis_planner.store import pgrows
from gis_planner.store.base import Change, as_record, plain
from gis_planner.store.pgschema import GEOMETRY, META_SCHEMA, SRID

_AUDIT = sql.Identifier(META_SCHEMA, "audit")
_AUDIT_COLUMNS = (
    "id", "at", "who", "role", "operator", "layer", "feature_id", "action", "before", "after",
    "undoes",
)  # fmt: skip


def key_condition(key: Mapping[str, Any]) -> tuple[sql.Composable, list[Any]]:
    condition = sql.SQL(" AND ").join(
        sql.SQL("{} = %s").format(sql.Identifier(field)) for field in key
    )
    return condition, [plain(v) for v in key.values()]


def lock_row(
    cur: psycopg.Cursor, layer: str, table: sql.Identifier, key: Mapping[str, Any]
) -> None:
    """Hold the row of ``key`` until the transaction ends, so that an edit made on what was
    read cannot lose another's: a lock on the key itself (an edit replaces the row, and a
    creation has none yet), then on the row against writers outside the store (QGIS)."""
    condition, values = key_condition(key)
    name = "\x1f".join([layer, *(str(v) for v in values)])
    cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))
    cur.execute(sql.SQL("SELECT 1 FROM {} WHERE {} FOR UPDATE").format(table, condition), values)


def select_row(
    cur: psycopg.Cursor, relation: sql.Identifier, spec: LayerSpec, key: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The row of ``key`` in ``relation`` as a record (``record_of``), None if there is none:
    one SELECT of plain values, far cheaper for one row than a COPY into a frame."""
    condition, values = key_condition(key)
    row = cur.execute(
        sql.SQL("SELECT {} FROM {} WHERE {}").format(_selected(spec), relation, condition),
        values,
    ).fetchone()
    return None if row is None else _record(spec, row)


def _selected(spec: LayerSpec) -> sql.Composable:
    """The columns a record is made of (``_record``)."""
    selected: list[sql.Composable] = [sql.Identifier(name) for name in spec.field_names]
    if spec.geometry_type:
        selected.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(GEOMETRY)))
    return sql.SQL(", ").join(selected)


def _record(spec: LayerSpec, row: tuple[Any, ...]) -> dict[str, Any]:
    wkb = row[len(spec.field_names)] if spec.geometry_type else None
    geometry = shapely.from_wkb(bytes(wkb)) if wkb is not None else None
    return as_record(spec, dict(zip(spec.field_names, row, strict=False)), geometry)


def _row_values(
    spec: LayerSpec, row: Mapping[str, Any], geometry: shapely.Geometry | None
) -> tuple[list[sql.Composable], list[Any]]:
    """The columns (``pgrows.columns``) of one validated row: its placeholders and values."""
    values: list[Any] = [row[name] for name in spec.field_names]
    placeholders: list[sql.Composable] = [sql.Placeholder()] * len(values)
    if spec.geometry_type:
        ewkb = (
            None
            if geometry is None
            else shapely.to_wkb(shapely.set_srid(geometry, SRID), include_srid=True)
        )
        values.append(ewkb)
        placeholders.append(sql.SQL("ST_GeomFromEWKB(%s)"))
    return placeholders, values


def update_row(
    cur: psycopg.Cursor,
    table: sql.Identifier,
    spec: LayerSpec,
    row: Mapping[str, Any],
    geometry: shapely.Geometry | None,
    key: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The row of ``key`` in ``table`` set to one validated row (plain values in the
    catalogue's types) by one UPDATE; the record as stored, None if there is no such row. One
    statement where a delete, an insert (with its savepoint) and a read took five, each
    holding the row's lock a little longer."""
    placeholders, values = _row_values(spec, row, geometry)
    condition, key_values = key_condition(key)
    found = cur.execute(
        sql.SQL("UPDATE {} SET ({}) = ROW({}) WHERE {} RETURNING {}").format(
            table, pgrows.columns(spec), sql.SQL(", ").join(placeholders), condition,
            _selected(spec),
        ),
        [*values, *key_values],
    ).fetchone()  # fmt: skip
    return None if found is None else _record(spec, found)


def insert_row(
    cur: psycopg.Cursor,
    table: sql.Identifier,
    spec: LayerSpec,
    row: Mapping[str, Any],
    geometry: shapely.Geometry | None,
) -> dict[str, Any]:
    """One validated row (plain values in the catalogue's types) into ``table``, by one
    INSERT, and the record as stored: unlike COPY it goes through row-level security with no
    staging table, whose creation would be most of the time of an edit (and churn the
    catalogue under many)."""
    placeholders, values = _row_values(spec, row, geometry)
    found = cur.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
            table, pgrows.columns(spec), sql.SQL(", ").join(placeholders), _selected(spec)
        ),
        values,
    ).fetchone()
    assert found is not None, "an INSERT returns its row"
    return _record(spec, found)


def delete_row(cur: psycopg.Cursor, table: sql.Identifier, key: Mapping[str, Any]) -> int:
    condition, values = key_condition(key)
    cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, condition), values)
    return int(cur.rowcount)


def record_change(cur: psycopg.Cursor, change: Change) -> int:
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (who, role, operator, layer, feature_id, action, before, after, "
            "undoes) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)"
        ).format(_AUDIT),
        (change.who, change.role, change.operator, change.layer, change.feature_id,
         change.action, _json(change.before), _json(change.after), change.undoes),
    )  # fmt: skip
    # Not RETURNING: an operator may add changes, not read them back.
    row = cur.execute("SELECT lastval()").fetchone()
    return int(row[0]) if row else 0


def changes(
    cur: psycopg.Cursor, *, layer: str | None, limit: int, change_id: int | None
) -> list[Change]:
    rows = cur.execute(
        sql.SQL(
            "SELECT {} FROM {} WHERE (%(layer)s::text IS NULL OR layer = %(layer)s) "
            "AND (%(id)s::bigint IS NULL OR id = %(id)s) ORDER BY id DESC LIMIT %(limit)s"
        ).format(sql.SQL(", ").join(map(sql.Identifier, _AUDIT_COLUMNS)), _AUDIT),
        {"layer": layer, "id": change_id, "limit": limit},
    ).fetchall()
    found = []
    for row in rows:
        entry = dict(zip(_AUDIT_COLUMNS, row, strict=True))
        entry["at"] = entry["at"].isoformat(timespec="seconds")
        found.append(Change(**entry))
    return found


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)
