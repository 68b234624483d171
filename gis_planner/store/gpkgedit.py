"""Editing one row of a GeoPackage layer, and the audit history kept in the same file.

Called on the working copy of a ``GeoPackageStore`` transaction: its writers' lock makes edits
one at a time, so a row read in the transaction stays as read until it commits.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from gis_planner.catalogue.spec import LayerSpec
from gis_planner.store.base import plain

#: The audit history: one row a change (see ``gis_planner.store.base.Change``).
AUDIT_TABLE = "gis_planner_audit"

_AUDIT_COLUMNS = (
    "id", "at", "who", "role", "operator", "layer", "feature_id", "action", "before", "after",
    "undoes",
)  # fmt: skip


def key_where(key: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``WHERE`` condition (with ``?`` parameters) matching the row of ``key``."""
    condition = " AND ".join(f'"{field}" = ?' for field in key)
    return condition, [plain(v) for v in key.values()]


def delete_row(path: Path, name: str, key: Mapping[str, Any]) -> int:
    condition, values = key_where(key)
    with closing(sqlite3.connect(path)) as con, con:
        deleted = con.execute(f'DELETE FROM "{name}" WHERE {condition}', values).rowcount
    return int(deleted)


def insert_row(path: Path, name: str, spec: LayerSpec, valid: pd.DataFrame) -> None:
    pyogrio.write_dataframe(
        valid,
        path,
        layer=name,
        driver="GPKG",
        append=True,
        use_arrow=True,
        geometry_type=spec.geometry_type,
    )


def touch_layer(path: Path, meta_table: str, name: str, revision: int) -> None:
    """Note in the layer's metadata row that ``revision`` changed it (count and time too),
    keeping what its last full write recorded."""
    count = int(pyogrio.read_info(path, layer=name)["features"])
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with closing(sqlite3.connect(path)) as con, con:
        row = con.execute(f"SELECT info FROM {meta_table} WHERE layer = ?", (name,)).fetchone()
        info = {**json.loads(row[0] or "{}"), "rows": count} if row else {"rows": count}
        con.execute(
            f"INSERT OR REPLACE INTO {meta_table} (layer, written_at, info, revision) "
            "VALUES (?, ?, ?, ?)",
            (name, now, json.dumps(info, ensure_ascii=False, default=str), revision),
        )


def record_change(path: Path, change: Any) -> int:
    """Add ``change`` (a ``Change``) to the history; its id."""
    at = change.at or datetime.now(UTC).isoformat(timespec="seconds")
    with closing(sqlite3.connect(path)) as con, con:
        _create_audit(con)
        cursor = con.execute(
            f"INSERT INTO {AUDIT_TABLE} (at, who, role, operator, layer, feature_id, action, "
            "before, after, undoes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, change.who, change.role, change.operator, change.layer, change.feature_id,
             change.action, _json(change.before), _json(change.after), change.undoes),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)


def changes(
    path: Path, *, layer: str | None, limit: int, change_id: int | None
) -> list[dict[str, Any]]:
    """Rows of the history, newest first, as dicts of ``Change``'s fields."""
    if not path.exists():
        return []
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as con:
        if not con.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (AUDIT_TABLE,)
        ).fetchone():
            return []
        rows = con.execute(
            f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM {AUDIT_TABLE} "
            "WHERE (? IS NULL OR layer = ?) AND (? IS NULL OR id = ?) ORDER BY id DESC LIMIT ?",
            (layer, layer, change_id, change_id, limit),
        ).fetchall()
    found = []
    for row in rows:
        entry = dict(zip(_AUDIT_COLUMNS, row, strict=True))
        entry["before"] = json.loads(entry["before"]) if entry["before"] else None
        entry["after"] = json.loads(entry["after"]) if entry["after"] else None
        found.append(entry)
    return found


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _create_audit(con: sqlite3.Connection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "at TEXT NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL, operator TEXT, "
        "layer TEXT NOT NULL, feature_id TEXT NOT NULL, action TEXT NOT NULL, before TEXT, "
        "after TEXT, undoes INTEGER)"
    )
    # Registered as a GeoPackage attributes table so that GDAL and QGIS see a valid file.
    con.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change) VALUES (?, 'attributes', ?, 'gis-planner audit history', "
        "strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
        (AUDIT_TABLE, AUDIT_TABLE),
    )
