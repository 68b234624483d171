"""The embedded default store: one GeoPackage file that QGIS opens, changed atomically.

Every change is made on a private copy of the file, which replaces the original with one
``os.replace`` when the transaction commits. A failure or a kill at any point before that leaves
the previous file untouched (the copy is swept away by the next writer). Writers take an
exclusive ``flock`` so two processes never interleave; readers never wait.

Every commit increments the store's revision, a number kept in the file itself; each layer's
metadata row records the revision that last wrote it. Caches key on these, never on times.

Product records (``gis_planner.products``) live in a table of the same file, so a job that
writes its layers and registers them in one transaction commits both or neither.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from gis_planner import __version__
from gis_planner.catalogue import CATALOGUE, Validation, checked, get_spec
from gis_planner.catalogue.spec import PANDAS_DTYPES, LayerSpec
from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError, LayerValidationError, StoreError, UnknownLayer
from gis_planner.products import ProductRecord, UnknownProduct, catalogue_name, is_stale
from gis_planner.qgis import vector_qml
from gis_planner.store import gpkgedit
from gis_planner.store.base import (
    BBox,
    Change,
    Filters,
    LayerInfo,
    WriteMode,
    iter_filter_items,
    record_of,
    row_frame,
    valid_row,
)

META_TABLE = "gis_planner_layers"
#: One row, one integer: the store's revision.
REVISION_TABLE = "gis_planner_revision"
#: One row per registered product: its id, kind, job and scope, and the whole record as JSON.
PRODUCTS_TABLE = "gis_planner_products"
#: QGIS reads a layer's default style from this table (its own name and columns).
STYLES_TABLE = "layer_styles"


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _where_clause(filters: Filters | None, fields: Sequence[str], layer: str) -> str | None:
    parts = []
    for field, values in iter_filter_items(filters):
        if field not in fields:
            raise GisPlannerError(f"layer {layer!r} has no field {field!r} to filter on")
        present = [v for v in values if v is not None]
        clauses = []
        if present:
            clauses.append(f'"{field}" IN ({", ".join(_sql_literal(v) for v in present)})')
        if len(present) < len(values):
            clauses.append(f'"{field}" IS NULL')
        # No value accepted: no row (``IN ()`` is not SQL).
        parts.append("(" + (" OR ".join(clauses) or "0 = 1") + ")")
    return " AND ".join(parts) or None


def as_catalogue_dtypes(frame: pd.DataFrame, spec: LayerSpec) -> pd.DataFrame:
    """Cast columns read from a file to the catalogue's dtypes, in catalogue order.

    Reading does not re-validate (everything in a store was validated on write); it only undoes
    what the file format loses, e.g. nullable integers that come back as floats.
    """
    given = dict(frame.items())
    columns: dict[str, pd.Series] = {}
    for fs in spec.fields:
        if fs.name in given:
            # Cast only what the format changed: a cast of every column is most of the time
            # of reading one row.
            column, dtype = given[fs.name], PANDAS_DTYPES[fs.dtype]
            columns[fs.name] = column if column.dtype == dtype else column.astype(dtype)
    out = pd.DataFrame(columns, index=frame.index)
    extra = [c for c in frame.columns if c not in columns and c != "geometry"]
    for column in extra:
        out[column] = frame[column]
    if spec.geometry_type is not None and isinstance(frame, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(out, geometry=frame.geometry.to_numpy(), crs=WGS84)
    return out


class GeoPackageFile:
    """Reads and writes the layers of one GeoPackage file, with no atomicity of its own."""

    def __init__(self, path: Path, uri: str) -> None:
        self.path = path
        self._uri = uri
        #: The revision the changes made through this file will have once committed.
        self.commit_revision = 0
        #: The layer names, and the state of the file they were listed from.
        self._listed: tuple[tuple[int, ...], tuple[str, ...]] | None = None

    # -- reading -----------------------------------------------------------------------------
    def _names(self) -> list[str]:
        # GDAL opens the whole file to list its layers (60 ms on the new province's store with
        # its products), and every read asks: listed again only when the file has changed,
        # here or in another program (QGIS writes in place, maybe through a WAL).
        state = _file_state(self.path)
        if not state:
            return []
        if self._listed is None or self._listed[0] != state:
            own = (META_TABLE, REVISION_TABLE, PRODUCTS_TABLE, STYLES_TABLE, gpkgedit.AUDIT_TABLE)
            listed = tuple(str(n) for n, _ in pyogrio.list_layers(self.path) if n not in own)
            self._listed = (state, listed)
        return list(self._listed[1])

    def revision(self) -> int:
        """The revision of the file's last commit; 0 for a file no commit has counted."""
        if not self.path.exists():
            return 0
        # Read-only, so that asking never creates or locks anything.
        with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as con:
            try:
                row = con.execute(f"SELECT revision FROM {REVISION_TABLE}").fetchone()
            except sqlite3.OperationalError:  # a file written before revisions were kept
                return 0
        return int(row[0]) if row else 0

    def _meta_rows(self) -> dict[str, tuple[str | None, dict[str, Any], int]]:
        if not self.path.exists():
            return {}
        with closing(sqlite3.connect(self.path)) as con:
            columns = _columns(con, META_TABLE)
            if not columns:
                return {}
            revision = "revision" if "revision" in columns else "0"
            rows = con.execute(
                f"SELECT layer, written_at, info, {revision} FROM {META_TABLE}"
            ).fetchall()
        return {
            layer: (written, json.loads(info or "{}"), int(rev or 0))
            for layer, written, info, rev in rows
        }

    def layer_revisions(self) -> dict[str, int]:
        return {layer: revision for layer, (_, _, revision) in self._meta_rows().items()}

    def products(self) -> list[ProductRecord]:
        if not self.path.exists():
            return []
        with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as con:
            if not _columns(con, PRODUCTS_TABLE):
                return []
            rows = con.execute(f"SELECT record FROM {PRODUCTS_TABLE} ORDER BY id").fetchall()
        return [ProductRecord.from_json(text) for (text,) in rows]

    def product(self, product_id: str) -> ProductRecord:
        found = next((r for r in self.products() if r.id == product_id), None)
        if found is None:
            raise UnknownProduct(product_id, self._uri)
        return found

    def list_layers(self) -> list[LayerInfo]:
        meta = self._meta_rows()
        infos = []
        for name in self._names():
            info = pyogrio.read_info(self.path, layer=name)
            bounds = info.get("total_bounds")
            has_bounds = bounds is not None and info["features"] > 0
            written, extra, revision = meta.get(name, (None, {}, 0))
            infos.append(
                LayerInfo(
                    name=name,
                    geometry_type=info["geometry_type"],
                    count=int(info["features"]),
                    bounds=tuple(float(b) for b in bounds) if has_bounds else None,  # type: ignore[arg-type]
                    written_at=written,
                    metadata=extra,
                    revision=revision,
                )
            )
        return infos

    def has_layer(self, name: str) -> bool:
        return name in self._names()

    def _require(self, name: str) -> None:
        if not self.has_layer(name):
            raise UnknownLayer(name, where=self._uri)

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        self._require(name)
        where = None
        if columns is not None or filters:
            # The layer's fields, asked only when columns or filters name some.
            fields = list(pyogrio.read_info(self.path, layer=name)["fields"])
            unknown = sorted(set(columns or ()) - set(fields))
            if unknown:
                raise GisPlannerError(f"layer {name!r} has no field(s) {unknown}")
            where = _where_clause(filters, fields, name)
        frame = pyogrio.read_dataframe(
            self.path,
            layer=name,
            bbox=bbox,
            where=where,
            columns=list(columns) if columns is not None else None,
            use_arrow=True,
        )
        spec = CATALOGUE.get(catalogue_name(name))
        return as_catalogue_dtypes(frame, spec) if spec is not None else frame

    def metadata(self, name: str) -> dict[str, Any]:
        self._require(name)
        written, extra, _ = self._meta_rows().get(name, (None, {}, 0))
        return {"written_at": written, **extra}

    # -- writing -----------------------------------------------------------------------------
    def write(
        self,
        name: str,
        frame: pd.DataFrame | Validation,
        *,
        mode: WriteMode = "replace",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if mode not in ("replace", "append"):
            raise GisPlannerError(f"unknown write mode {mode!r}")
        # A scoped product's layer ("coverage_gaps__bbox…") follows its catalogue layer's spec.
        spec = get_spec(catalogue_name(name))
        valid = checked(frame, spec)
        append = mode == "append" and self.has_layer(name)
        if append:
            self._check_keys_free(name, spec, valid)
        pyogrio.write_dataframe(
            valid,
            self.path,
            layer=name,
            driver="GPKG",
            append=append,
            use_arrow=True,
            geometry_type=spec.geometry_type,
            layer_options={"SPATIAL_INDEX": "YES"} if spec.geometry_type else None,
        )
        self._listed = None  # within the clock's tick, the file's state may look the same
        count = int(pyogrio.read_info(self.path, layer=name)["features"])
        self._write_meta(name, count, metadata or {})
        self._describe_for_qgis(name, spec)

    def _describe_for_qgis(self, name: str, spec: LayerSpec) -> None:
        """The layer's Vietnamese and English description in ``gpkg_contents``, and for a
        spatial layer its default QGIS style (``layer_styles``, as QGIS itself saves them)."""
        description = f"{spec.label_vi} / {spec.label_en}" + (
            f". {spec.description}" if spec.description else ""
        )
        with closing(sqlite3.connect(self.path)) as con, con:
            con.execute(
                "UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                (description, name),
            )
            if spec.geometry_type is None:
                return
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {STYLES_TABLE} (id INTEGER PRIMARY KEY "
                "AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256), "
                "f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), "
                "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, "
                "owner TEXT(30), ui TEXT(30), update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"
            )
            _register(con, STYLES_TABLE, "QGIS layer styles")
            (column,) = con.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
            ).fetchone()
            aliases = {f.name: f.label("vi") + (f" ({f.unit})" if f.unit else "")
                       for f in spec.fields}  # fmt: skip
            con.execute(f"DELETE FROM {STYLES_TABLE} WHERE f_table_name = ?", (name,))
            con.execute(
                f"INSERT INTO {STYLES_TABLE} (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '')",
                (name, column, spec.name, vector_qml(spec.name, spec.geometry_type, aliases),
                 description),
            )  # fmt: skip

    def _check_keys_free(self, name: str, spec: LayerSpec, new: pd.DataFrame) -> None:
        """Refuse rows whose key store layer ``name`` (of catalogue layer ``spec``) holds."""
        key = list(spec.key)
        existing = pyogrio.read_dataframe(
            self.path, layer=name, columns=key, read_geometry=False, use_arrow=True
        )
        existing = as_catalogue_dtypes(existing, spec)[key]
        clash = new[key].merge(existing.drop_duplicates(), how="left", indicator=True)
        taken = (clash["_merge"] == "both").to_numpy()
        if taken.any():
            rows = new.index[taken]
            label = "+".join(key)
            problems = pd.DataFrame(
                {
                    "row": rows,
                    "field": label,
                    "value": new.loc[rows, key[0]].to_numpy(dtype=object),
                    "reason": "duplicate_key",
                    "message": f"{label}: already in layer {name!r}",
                }
            )
            raise LayerValidationError(spec.name, problems)

    def _write_meta(self, name: str, count: int, extra: Mapping[str, Any]) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        info = json.dumps(
            {"rows": count, "gis_planner_version": __version__, **extra},
            ensure_ascii=False,
            default=str,
        )
        with closing(sqlite3.connect(self.path)) as con, con:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} "
                "(layer TEXT PRIMARY KEY, written_at TEXT, info TEXT, revision INTEGER)"
            )
            if "revision" not in _columns(con, META_TABLE):  # a file from before revisions
                con.execute(f"ALTER TABLE {META_TABLE} ADD COLUMN revision INTEGER")
            _register(con, META_TABLE, "gis-planner layer metadata")
            con.execute(
                f"INSERT OR REPLACE INTO {META_TABLE} (layer, written_at, info, revision) "
                "VALUES (?, ?, ?, ?)",
                (name, now, info, self.commit_revision),
            )

    def register(self, record: ProductRecord) -> None:
        if not record.created_at:
            record = replace(record, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
        if not self.path.exists():
            raise StoreError(f"{self._uri}: a product is registered with the layers it wrote")
        with closing(sqlite3.connect(self.path)) as con, con:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {PRODUCTS_TABLE} (id TEXT PRIMARY KEY, "
                "kind TEXT NOT NULL, job TEXT NOT NULL, scope TEXT NOT NULL, "
                "created_at TEXT NOT NULL, record TEXT NOT NULL)"
            )
            _register(con, PRODUCTS_TABLE, "gis-planner product records")
            con.execute(
                f"INSERT OR REPLACE INTO {PRODUCTS_TABLE} "
                "(id, kind, job, scope, created_at, record) VALUES (?, ?, ?, ?, ?, ?)",
                (record.id, record.kind, record.job, record.scope, record.created_at,
                 record.to_json()),
            )  # fmt: skip

    def unregister(self, product_id: str) -> None:
        if not self.path.exists():
            return
        with closing(sqlite3.connect(self.path)) as con, con:
            if _columns(con, PRODUCTS_TABLE):
                con.execute(f"DELETE FROM {PRODUCTS_TABLE} WHERE id = ?", (product_id,))

    # -- one row at a time (the transaction's lock holds it) --------------------------------
    def read_row(self, name: str, key: Mapping[str, Any]) -> pd.DataFrame:
        return self.read(name, filters=key)

    def read_record(
        self, name: str, key: Mapping[str, Any], *, lock: bool = True
    ) -> dict[str, Any] | None:
        # One writer at a time holds the whole file: no row to lock.
        frame = self.read_row(name, key)
        return record_of(get_spec(catalogue_name(name)), frame) if len(frame) else None

    def put_record(
        self, name: str, values: Mapping[str, Any], geometry: shapely.Geometry | None
    ) -> dict[str, Any]:
        spec = get_spec(catalogue_name(name))
        return record_of(spec, self.put_row(name, row_frame(spec, values, geometry)))

    def put_row(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        spec, valid, key = valid_row(name, frame)
        self._require(name)
        gpkgedit.delete_row(self.path, name, key)
        gpkgedit.insert_row(self.path, name, spec, valid)
        gpkgedit.touch_layer(self.path, META_TABLE, name, self.commit_revision)
        return valid

    def delete_row(self, name: str, key: Mapping[str, Any]) -> int:
        self._require(name)
        deleted = gpkgedit.delete_row(self.path, name, key)
        if deleted:
            gpkgedit.touch_layer(self.path, META_TABLE, name, self.commit_revision)
        return deleted

    def record_change(self, change: Change) -> int:
        return gpkgedit.record_change(self.path, change)

    def changes(
        self, *, layer: str | None = None, limit: int = 100, change_id: int | None = None
    ) -> list[Change]:
        rows = gpkgedit.changes(self.path, layer=layer, limit=limit, change_id=change_id)
        return [Change(**row) for row in rows]

    def count_commit(self) -> None:
        """Store ``commit_revision`` as the file's revision: the last step before it commits."""
        with closing(sqlite3.connect(self.path)) as con, con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {REVISION_TABLE} (revision INTEGER NOT NULL)")
            _register(con, REVISION_TABLE, "gis-planner store revision")
            con.execute(f"DELETE FROM {REVISION_TABLE}")
            con.execute(
                f"INSERT INTO {REVISION_TABLE} (revision) VALUES (?)", (self.commit_revision,)
            )

    def delete(self, name: str) -> None:
        self._require(name)
        with closing(sqlite3.connect(self.path)) as con, con:
            geometry_columns = [
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (name,)
                )
            ]
            for column in geometry_columns:
                con.execute(f'DROP TABLE IF EXISTS "rtree_{name}_{column}"')
            con.execute(f'DROP TABLE "{name}"')
            for table in ("gpkg_geometry_columns", "gpkg_extensions", "gpkg_contents"):
                con.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))
            if con.execute("SELECT 1 FROM sqlite_master WHERE name='gpkg_ogr_contents'").fetchone():
                con.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = ?", (name,))
            if con.execute(f"SELECT 1 FROM sqlite_master WHERE name='{META_TABLE}'").fetchone():
                con.execute(f"DELETE FROM {META_TABLE} WHERE layer = ?", (name,))
            if _columns(con, STYLES_TABLE):
                con.execute(f"DELETE FROM {STYLES_TABLE} WHERE f_table_name = ?", (name,))
        self._listed = None


def _file_state(path: Path) -> tuple[int, ...]:
    """What changes whenever the file (or its write-ahead log) is written or replaced; empty
    when there is no file. Besides the file's identity, time and size, SQLite's change counter
    (bytes 24–27 of its header, counted by every commit outside WAL mode): a commit within the
    clock's tick that leaves the size alone (a table dropped) still changes the state."""
    try:
        stat = path.stat()
        with path.open("rb") as file:
            counter = int.from_bytes(file.read(28)[24:28], "big")
    except FileNotFoundError:
        return ()
    state = (stat.st_ino, stat.st_mtime_ns, stat.st_size, counter)
    try:
        wal = path.with_name(path.name + "-wal").stat()
    except FileNotFoundError:
        return state
    return (*state, wal.st_mtime_ns, wal.st_size)


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    """The columns of ``table``; none if there is no such table."""
    return [str(row[1]) for row in con.execute(f"PRAGMA table_info({table})")]


def _register(con: sqlite3.Connection, table: str, description: str) -> None:
    # Registered as a GeoPackage attributes table so that GDAL and QGIS see a valid file.
    con.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
        "description, last_change) VALUES (?, 'attributes', ?, ?, "
        "strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
        (table, table, description),
    )


class GeoPackageStore:
    """A ``LayerStore`` in one ``.gpkg`` file; see the module docstring for atomicity."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        if self.path.suffix.lower() != ".gpkg":
            raise StoreError(f"{self.path}: a GeoPackage store needs a .gpkg file name")
        self._file = GeoPackageFile(self.path, self.uri)

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    @property
    def uri(self) -> str:
        return str(self.path)

    @property
    def assets_dir(self) -> Path:
        return self.path.with_name(self.path.stem + "_assets")

    @property
    def _lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    # -- reading goes straight to the committed file ------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        return self._file.list_layers()

    def has_layer(self, name: str) -> bool:
        return self._file.has_layer(name)

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        return self._file.read(name, bbox=bbox, filters=filters, columns=columns)

    def metadata(self, name: str) -> dict[str, Any]:
        return self._file.metadata(name)

    def revision(self) -> int:
        return self._file.revision()

    def layer_revisions(self) -> dict[str, int]:
        return self._file.layer_revisions()

    def products(self) -> list[ProductRecord]:
        return self._file.products()

    def product(self, product_id: str) -> ProductRecord:
        return self._file.product(product_id)

    def stale(self, record: ProductRecord) -> bool:
        return is_stale(record, self._file.layer_revisions())

    def changes(
        self, *, layer: str | None = None, limit: int = 100, change_id: int | None = None
    ) -> list[Change]:
        """The audit history of edits, newest first (see ``RowWriter.changes``)."""
        return self._file.changes(layer=layer, limit=limit, change_id=change_id)

    # -- every change is a transaction ------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[GeoPackageFile]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._sweep_stale_copies()
            token = f"{os.getpid()}.{secrets.token_hex(4)}"
            working = self.path.with_name(self._working_name(token))
            try:
                if self.path.exists():
                    shutil.copyfile(self.path, working)
                changes = GeoPackageFile(working, self.uri)
                changes.commit_revision = changes.revision() + 1
                yield changes
                if working.exists():
                    changes.count_commit()
                    _fsync(working)
                    working.replace(self.path)
                    _fsync(self.path.parent)
            finally:
                for leftover in self.path.parent.glob(self._working_name(token) + "*"):
                    leftover.unlink(missing_ok=True)

    def _working_name(self, token: str) -> str:
        # Hidden, and ending in .gpkg so that GDAL accepts the copy as a GeoPackage.
        return f".{self.path.stem}.{token}.tmp.gpkg"

    def _sweep_stale_copies(self) -> None:
        # Called under the writers' lock: any working copy still here belongs to a dead writer.
        for leftover in self.path.parent.glob(self._working_name("*") + "*"):
            leftover.unlink(missing_ok=True)

    def write(
        self,
        name: str,
        frame: pd.DataFrame | Validation,
        *,
        mode: WriteMode = "replace",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        with self.transaction() as tx:
            tx.write(name, frame, mode=mode, metadata=metadata)

    def delete(self, name: str) -> None:
        with self.transaction() as tx:
            tx.delete(name)

    def register(self, record: ProductRecord) -> None:
        with self.transaction() as tx:
            tx.register(record)

    def unregister(self, product_id: str) -> None:
        with self.transaction() as tx:
            tx.unregister(product_id)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
