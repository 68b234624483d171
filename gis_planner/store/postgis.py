"""The server store: layers in PostGIS tables, behind the same ``LayerStore`` protocol.

One table per layer (see ``pgschema``), the catalogue's rules as constraints, ownership as
row-level security. Every method runs in a transaction of its own, or in the one of an open
``transaction()``; readers see only commits. A store acts for a caller (``acting_for``): each
transaction runs on a connection acting as the caller's role (``SET ROLE``, see
``pgconnect.Connections``), so what the caller may not see or change is refused by the
database itself, not by this code. Without a caller the login's own role applies (e.g. an
operator's own login).

Rows travel in bulk, one COPY each way (``pgrows``); the bbox, filters and columns of a read
are conditions of its SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import shapely
from psycopg import sql

from gis_planner import __version__
from gis_planner.catalogue import (
    CATALOGUE,
    Validation,
    checked,
    get_spec,
    row_problems,
    validate_row,
)
from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.errors import GisPlannerError, LayerValidationError, StoreError, UnknownLayer
from gis_planner.products import ProductRecord, UnknownProduct, catalogue_name, is_stale
from gis_planner.settings import get_settings
from gis_planner.store import pgedit, pgpages, pgrows
from gis_planner.store.access import Caller
from gis_planner.store.base import (
    BBox,
    Change,
    Filters,
    LayerInfo,
    WriteMode,
    plain,
    valid_row,
)
from gis_planner.store.pgconnect import Connections, role_of, store_error
from gis_planner.store.pgschema import (
    ADMIN_ROLE,
    COUNT_CONSTRAINT,
    GEOMETRY,
    LAYER_SCHEMA,
    META_SCHEMA,
    SHARED_SCHEMA,
    layer_table_sql,
    redact,
    table_name,
)

#: What listings counted of each layer a caller reads: the layer's revision and the relation
#: read then, and the row count and extent (min x, min y, max x, max y) found.
LayerCounts = dict[str, tuple[int, sql.Identifier, tuple[Any, ...]]]


class PostGISTransaction:
    """Reads and writes the layers of a PostGIS store inside one open transaction."""

    def __init__(self, store: PostGISStore, cursor: psycopg.Cursor) -> None:
        self._store = store
        self._cur = cursor
        # The relation each layer's rows are read from, once per transaction for an edit's
        # several statements; a write or delete of whole layers forgets them.
        self._row_relations: dict[str, sql.Identifier] = {}
        #: Whether anything was written (what ends the transaction when its caller raises).
        self.wrote = False

    def _row_relation(self, name: str) -> sql.Identifier:
        found = self._row_relations.get(name)
        if found is None:
            found = self._row_relations[name] = self._relation(name)[0]
        return found

    @property
    def _where(self) -> str:
        return self._store.uri

    # -- reading -----------------------------------------------------------------------------
    def snapshot(self) -> None:
        """Make the transaction read one snapshot, and nothing but read: its first statement."""
        self._cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def revision(self) -> int:
        row = self._cur.execute(f"SELECT revision FROM {META_SCHEMA}.revision").fetchone()
        return int(row[0]) if row else 0

    def layer_revisions(self) -> dict[str, int]:
        rows = self._cur.execute(f"SELECT layer, revision FROM {META_SCHEMA}.layers").fetchall()
        return {layer: int(revision) for layer, revision in rows}

    def _layer_rows(self, name: str | None = None) -> list[tuple[Any, ...]]:
        """(layer, relation the caller reads, written_at, info, revision) of every layer the
        caller may read (or of ``name``)."""
        # Asked before every read: a text for one layer and one for all, each planned once a
        # session. With ``%s IS NULL OR layer = %s`` the plan made for the name at hand was
        # always cheaper than a generic one, and PostgreSQL planned it again on every call.
        where = sql.SQL("WHERE layer = %s") if name is not None else sql.SQL("")
        rows = self._cur.execute(
            sql.SQL(
                "SELECT layer, table_name, written_at, info, revision, "
                "coalesce(has_table_privilege(to_regclass(format('%%I.%%I', {t}, table_name)), "
                "'SELECT'), false), "
                "coalesce(has_table_privilege(to_regclass(format('%%I.%%I', {v}, table_name)), "
                "'SELECT'), false) "
                "FROM {meta} {where} ORDER BY position"
            ).format(
                t=sql.Literal(LAYER_SCHEMA),
                v=sql.Literal(SHARED_SCHEMA),
                meta=sql.Identifier(META_SCHEMA, "layers"),
                where=where,
            ),
            # Parameters even when there are none: only then does the driver read ``%%`` as ``%``.
            (name,) if name is not None else (),
        ).fetchall()
        admin = self._store._is_admin(self._cur)
        visible = []
        for layer, table, written, info, revision, table_ok, view_ok in rows:
            # Through the shared view a caller sees every row it may, the rest of each row
            # emptied; admins read the table itself.
            if view_ok and not (admin and table_ok):
                relation = sql.Identifier(SHARED_SCHEMA, table)
            elif table_ok:
                relation = sql.Identifier(LAYER_SCHEMA, table)
            else:
                continue
            visible.append((layer, relation, written, info, revision))
        return visible

    def _relation(self, name: str) -> tuple[sql.Identifier, tuple[Any, ...]]:
        rows = self._layer_rows(name)
        if not rows:
            raise UnknownLayer(name, where=self._where)
        return rows[0][1], rows[0]

    def has_layer(self, name: str) -> bool:
        return bool(self._layer_rows(name))

    def list_layers(self, counted: LayerCounts | None = None) -> list[LayerInfo]:
        """The layers the caller may read, each with the rows it sees and their extent.

        ``counted`` keeps, per layer, what listings before counted for this caller and at
        which revision: a layer whose revision has not moved since is not scanned again, and
        what is scanned is noted there. Only a read-only snapshot may use it: in a transaction
        that writes, a layer's revision moves as it commits, after its rows.
        """
        rows = self._layer_rows()
        if not rows:
            return []
        counted = {} if counted is None else counted
        for gone in counted.keys() - {row[0] for row in rows}:
            counted.pop(gone, None)  # a dropped layer (scoped products come and go)
        stats: dict[str, tuple[Any, ...]] = {}
        counts = []
        for layer, relation, _, _, revision in rows:
            kept = counted.get(layer)
            if kept is not None and kept[:2] == (int(revision), relation):
                stats[layer] = kept[2]
                continue
            extent = (
                sql.SQL("ST_Extent({})").format(sql.Identifier(GEOMETRY))
                if CATALOGUE[catalogue_name(layer)].geometry_type
                else sql.SQL("NULL::box2d")
            )
            counts.append(
                sql.SQL("SELECT {} AS layer, count(*) AS n, {} AS box FROM {}").format(
                    sql.Literal(layer), extent, relation
                )
            )
        if counts:
            query = sql.SQL(
                "SELECT layer, n, ST_XMin(box), ST_YMin(box), ST_XMax(box), ST_YMax(box) "
                "FROM ({}) q"
            ).format(sql.SQL(" UNION ALL ").join(counts))
            scanned = {row[0]: row[1:] for row in self._cur.execute(query).fetchall()}
            for layer, relation, _, _, revision in rows:
                if layer in scanned:
                    stats[layer] = scanned[layer]
                    counted[layer] = (int(revision), relation, scanned[layer])
        infos = []
        for layer, _, written, info, revision in rows:
            count, *box = stats[layer]
            infos.append(
                LayerInfo(
                    name=layer,
                    geometry_type=CATALOGUE[catalogue_name(layer)].geometry_type,
                    count=int(count),
                    bounds=tuple(float(b) for b in box) if count and box[0] is not None else None,  # type: ignore[arg-type]
                    written_at=_timestamp(written),
                    metadata=info,
                    revision=int(revision),
                )
            )
        return infos

    def metadata(self, name: str) -> dict[str, Any]:
        relation, (_, _, written, info, _) = self._relation(name)
        row = self._cur.execute(sql.SQL("SELECT count(*) FROM {}").format(relation)).fetchone()
        return {"written_at": _timestamp(written), "rows": int(row[0]) if row else 0, **info}

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        relation, _ = self._relation(name)
        return self._read(relation, name, bbox=bbox, filters=filters, columns=columns)

    def read_page(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
        limit: int,
        offset: int = 0,
    ) -> pgpages.Page:
        """Rows ``offset`` to ``offset + limit`` of those ``read`` would return (the same
        bbox, filters and columns), and how many those are."""
        relation, _ = self._relation(name)
        spec = CATALOGUE[catalogue_name(name)]
        return pgpages.read_page(
            self._cur,
            relation,
            spec,
            name,
            self._fields(spec, name, columns),
            bbox=bbox,
            filters=filters,
            limit=limit,
            offset=offset,
        )

    def read_near(
        self, name: str, bbox: BBox, *, filters: Filters | None = None, max_rows: int
    ) -> pd.DataFrame | None:
        """The rows of ``read`` whose bounding box meets ``bbox`` (``pgrows.overlapping``), or
        None if there are more than ``max_rows`` of them."""
        relation, _ = self._relation(name)
        spec = CATALOGUE[catalogue_name(name)]
        where = [*pgrows.conditions(spec, name, None, filters), pgrows.overlapping(bbox)]
        count = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT %s) q").format(
            relation, sql.SQL(" AND ").join(where)
        )
        found = self._cur.execute(count, (max_rows + 1,)).fetchone()
        if found is None or int(found[0]) > max_rows:
            return None
        return pgrows.copy_out(self._cur, relation, spec, self._fields(spec, name, None), where)

    def _fields(self, spec: LayerSpec, name: str, columns: Sequence[str] | None) -> list[FieldSpec]:
        """The fields of ``columns`` (all by default), in catalogue order."""
        if columns is not None:
            unknown = sorted(set(columns) - set(spec.field_names))
            if unknown:
                raise GisPlannerError(f"layer {name!r} has no field(s) {unknown}")
        return [f for f in spec.fields if columns is None or f.name in columns]

    def _read(
        self,
        relation: sql.Identifier,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        spec = CATALOGUE[catalogue_name(name)]
        fields = self._fields(spec, name, columns)
        where = pgrows.conditions(spec, name, bbox, filters)
        return pgrows.copy_out(self._cur, relation, spec, fields, where)

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
        self.wrote = True
        self._row_relations.clear()
        spec = get_spec(catalogue_name(name))
        valid = checked(frame, spec)
        table = self._table(name)
        if mode == "replace":
            # Under row-level security an operator's replace deletes its own rows only.
            self._cur.execute(sql.SQL("DELETE FROM {}").format(table))
        rls = self._cur.execute(
            "SELECT row_security_active(%s::regclass)", (_qualified(table_name(name)),)
        ).fetchone()
        if mode == "append" or (rls and rls[0]):
            self._insert_staged(name, table, spec, valid, check_keys=mode == "append")
        else:
            pgrows.copy_in(self._cur, table, spec, valid)
        record = {"gis_planner_version": __version__, **(metadata or {})}
        info = json.dumps(record, ensure_ascii=False, default=str)
        note = sql.SQL("UPDATE {} SET info = %s::jsonb WHERE layer = %s").format(
            sql.Identifier(META_SCHEMA, "layers")
        )
        if not self._cur.execute(note, (info, name)).rowcount:
            # A new layer: its record is made by the count, so counted at once. A layer that
            # has one is counted as the transaction commits, after its rows: taking the store's
            # revision row before them waits for an edit holding one of them, while the edit
            # waits for the revision row to commit (a deadlock).
            self._count_now()
            self._cur.execute(note, (info, name))

    # -- one row at a time ---------------------------------------------------------------
    def read_row(self, name: str, key: Mapping[str, Any]) -> pd.DataFrame:
        relation, _ = self._relation(name)
        pgedit.lock_row(self._cur, name, sql.Identifier(LAYER_SCHEMA, table_name(name)), key)
        return self._read(relation, name, filters=key)

    def read_record(
        self, name: str, key: Mapping[str, Any], *, lock: bool = True
    ) -> dict[str, Any] | None:
        relation = self._row_relation(name)
        if lock:
            pgedit.lock_row(self._cur, name, sql.Identifier(LAYER_SCHEMA, table_name(name)), key)
        return pgedit.select_row(self._cur, relation, CATALOGUE[catalogue_name(name)], key)

    def put_record(
        self, name: str, values: Mapping[str, Any], geometry: shapely.Geometry | None
    ) -> dict[str, Any]:
        spec = get_spec(catalogue_name(name))
        row, geometry, problems = validate_row(values, spec, geometry)
        if problems:
            raise LayerValidationError(name, row_problems(problems, values))
        return self._write_row(name, spec, row, geometry)

    def put_row(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        spec, valid, _ = valid_row(name, frame)
        row = {field: plain(valid[field].iloc[0]) for field in spec.field_names}
        self._write_row(name, spec, row, valid.geometry.iloc[0] if spec.geometry_type else None)
        return valid

    def _write_row(
        self,
        name: str,
        spec: LayerSpec,
        row: Mapping[str, Any],
        geometry: shapely.Geometry | None,
    ) -> dict[str, Any]:
        """A validated row in place of the row of its key, or added; the record as stored."""
        self._row_relation(name)
        self.wrote = True
        table = sql.Identifier(LAYER_SCHEMA, table_name(name))
        key = {k: row[k] for k in spec.key}
        updated = pgedit.update_row(self._cur, table, spec, row, geometry, key)
        if updated is not None:
            return updated
        try:
            with self._cur.connection.transaction():
                return pgedit.insert_row(self._cur, table, spec, row, geometry)
        except psycopg.errors.UniqueViolation:
            # Another writer created the row since it was read.
            label = "+".join(spec.key)
            problems = pd.DataFrame(
                {"row": [0], "field": label, "value": [row[spec.key[0]]],
                 "reason": "duplicate_key", "message": f"{label}: already in layer {name!r}"}
            )  # fmt: skip
            raise LayerValidationError(name, problems) from None

    def delete_row(self, name: str, key: Mapping[str, Any]) -> int:
        self._row_relation(name)
        self.wrote = True
        return pgedit.delete_row(self._cur, sql.Identifier(LAYER_SCHEMA, table_name(name)), key)

    def record_change(self, change: Change) -> int:
        self.wrote = True
        return pgedit.record_change(self._cur, change)

    def changes(
        self, *, layer: str | None = None, limit: int = 100, change_id: int | None = None
    ) -> list[Change]:
        return pgedit.changes(self._cur, layer=layer, limit=limit, change_id=change_id)

    def _table(self, name: str) -> sql.Identifier:
        """The table of layer ``name``, created (as the owner role) for a scoped layer."""
        table = table_name(name)
        found = self._cur.execute("SELECT to_regclass(%s)", (_qualified(table),)).fetchone()
        if found is None or found[0] is None:
            if name in CATALOGUE:
                raise StoreError(
                    f"{self._where}: no table for layer {name!r}; run `gis-planner db init URL`"
                )
            self._cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ADMIN_ROLE)))
            for statement in layer_table_sql(name):
                self._cur.execute(statement)
            self._store._enter_role(self._cur)
        return sql.Identifier(LAYER_SCHEMA, table)

    def _insert_staged(
        self,
        name: str,
        table: sql.Identifier,
        spec: LayerSpec,
        frame: pd.DataFrame,
        *,
        check_keys: bool,
    ) -> None:
        # COPY cannot write through row-level security, and an append must first know which
        # rows would take a key already there: the rows go to a temporary table first.
        staging = sql.Identifier("gis_planner_staging")
        columns = pgrows.columns(spec)
        self._cur.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                staging, columns, table
            )
        )
        self._cur.execute(
            sql.SQL(
                "ALTER TABLE {} ADD COLUMN row_number bigint GENERATED ALWAYS AS IDENTITY"
            ).format(staging)
        )
        pgrows.copy_in(self._cur, staging, spec, frame)
        if check_keys:
            self._check_keys_free(name, table, staging, spec, frame)
        self._cur.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY row_number").format(
                table, columns, columns, staging
            )
        )
        self._cur.execute(sql.SQL("DROP TABLE {}").format(staging))

    def _check_keys_free(
        self,
        name: str,
        table: sql.Identifier,
        staging: sql.Identifier,
        spec: LayerSpec,
        frame: pd.DataFrame,
    ) -> None:
        same_key = sql.SQL(" AND ").join(
            sql.SQL("t.{k} = s.{k}").format(k=sql.Identifier(k)) for k in spec.key
        )
        taken = self._cur.execute(
            sql.SQL(
                "SELECT s.row_number FROM {} s WHERE EXISTS (SELECT 1 FROM {} t WHERE {}) "
                "ORDER BY s.row_number"
            ).format(staging, table, same_key)
        ).fetchall()
        if not taken:
            return
        rows = frame.index[[int(r[0]) - 1 for r in taken]]
        label = "+".join(spec.key)
        problems = pd.DataFrame(
            {
                "row": rows,
                "field": label,
                "value": frame.loc[rows, spec.key[0]].to_numpy(dtype=object),
                "reason": "duplicate_key",
                "message": f"{label}: already in layer {name!r}",
            }
        )
        raise LayerValidationError(name, problems)

    def delete(self, name: str) -> None:
        self.wrote = True
        self._row_relations.clear()
        self._relation(name)
        table = sql.Identifier(LAYER_SCHEMA, table_name(name))
        if name in CATALOGUE:
            # The catalogue's tables stay, with their policies, for QGIS projects that use them.
            self._cur.execute(sql.SQL("DELETE FROM {}").format(table))
        else:
            self._cur.execute(sql.SQL("DROP TABLE {} CASCADE").format(table))
            self._count_commit()  # after the table's locks, as an edit takes them
        self._cur.execute(
            sql.SQL("DELETE FROM {} WHERE layer = %s").format(
                sql.Identifier(META_SCHEMA, "layers")
            ),
            (name,),
        )

    def _count_commit(self) -> None:
        self.wrote = True
        commit_revision = sql.Identifier(META_SCHEMA, "commit_revision")
        self._cur.execute(sql.SQL("SELECT {}()").format(commit_revision))

    def _count_now(self) -> None:
        """Count this transaction's changes of layers as they are made, not as it commits."""
        self._cur.execute(f"SET CONSTRAINTS {COUNT_CONSTRAINT} IMMEDIATE")

    # -- product records ---------------------------------------------------------------------
    def register(self, record: ProductRecord) -> None:
        if not record.created_at:
            record = replace(record, created_at=datetime.now(UTC).isoformat(timespec="seconds"))
        self._count_commit()
        self._cur.execute(
            sql.SQL(
                "INSERT INTO {} (id, kind, job, scope, created_at, record) "
                "VALUES (%s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT (id) DO UPDATE SET "
                "kind = excluded.kind, job = excluded.job, scope = excluded.scope, "
                "created_at = excluded.created_at, record = excluded.record"
            ).format(sql.Identifier(META_SCHEMA, "products")),
            (record.id, record.kind, record.job, record.scope, record.created_at,
             record.to_json()),
        )  # fmt: skip

    def unregister(self, product_id: str) -> None:
        products = sql.Identifier(META_SCHEMA, "products")
        found = self._cur.execute(
            sql.SQL("SELECT 1 FROM {} WHERE id = %s").format(products), (product_id,)
        ).fetchone()
        if found:
            self._count_commit()
            delete = sql.SQL("DELETE FROM {} WHERE id = %s").format(products)
            self._cur.execute(delete, (product_id,))

    def products(self) -> list[ProductRecord]:
        rows = self._cur.execute(
            sql.SQL('SELECT record::text FROM {} ORDER BY id COLLATE "C"').format(
                sql.Identifier(META_SCHEMA, "products")
            )
        ).fetchall()
        return [ProductRecord.from_json(text) for (text,) in rows]

    def product(self, product_id: str) -> ProductRecord:
        row = self._cur.execute(
            sql.SQL("SELECT record::text FROM {} WHERE id = %s").format(
                sql.Identifier(META_SCHEMA, "products")
            ),
            (product_id,),
        ).fetchone()
        if row is None:
            raise UnknownProduct(product_id, self._where)
        return ProductRecord.from_json(row[0])


def _qualified(table: str) -> str:
    return sql.Identifier(LAYER_SCHEMA, table).as_string(None)


def _timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


class PostGISStore:
    """A ``LayerStore`` in a PostGIS database made by ``gis-planner db init``.

    ``acting_for`` is the caller every transaction acts for (on a connection set to its role
    once, by ``SET ROLE``; the login must be a member of it); None keeps the login's own role.
    ``assets_dir`` is where file products go (default: ``<output_dir>/<database>_assets``).
    """

    def __init__(
        self,
        url: str,
        *,
        acting_for: Caller | None = None,
        assets_dir: Path | None = None,
    ) -> None:
        self._url = url
        self._role = role_of(acting_for) if acting_for is not None else None
        self._admin: bool | None = (acting_for.role == "admin") if acting_for else None
        self._assets_dir = assets_dir
        self._connections = Connections(url)
        # Per role, since what a listing counts is what the role sees (row-level security).
        self._counted: dict[str | None, LayerCounts] = {}

    def acting_for(self, caller: Caller | None) -> PostGISStore:
        """The same store (and connections) acting for ``caller``: one a request."""
        other = PostGISStore(self._url, acting_for=caller, assets_dir=self._assets_dir)
        other._connections = self._connections
        other._counted = self._counted
        return other

    def __repr__(self) -> str:
        return f"PostGISStore({self.uri!r}, role={self._role!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Connections stay with their process; a child opens its own.
        state = dict(self.__dict__)
        state["_connections"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._connections = Connections(self._url)

    def close(self) -> None:
        """Close the idle connections (a later call opens new ones)."""
        self._connections.close()

    @property
    def uri(self) -> str:
        return redact(self._url)

    @property
    def url(self) -> str:
        """The URL the store connects with (with its password, if it has one)."""
        return self._url

    @property
    def assets_dir(self) -> Path:
        if self._assets_dir is not None:
            return self._assets_dir
        database = psycopg.conninfo.conninfo_to_dict(self._url).get("dbname") or "postgis"
        return get_settings().output_dir / f"{database}_assets"

    # -- sessions ----------------------------------------------------------------------------
    def _enter_role(self, cur: psycopg.Cursor) -> None:
        if self._role is not None:
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(self._role)))
        else:
            cur.execute("SET LOCAL ROLE NONE")

    def _is_admin(self, cur: psycopg.Cursor) -> bool:
        if self._admin is None:
            row = cur.execute(
                sql.SQL("SELECT {}()").format(sql.Identifier(META_SCHEMA, "caller_is_admin"))
            ).fetchone()
            self._admin = bool(row and row[0])
        return self._admin

    @contextmanager
    def transaction(self) -> Iterator[PostGISTransaction]:
        refused: Exception | None = None
        with self._connections.connection(self._role) as con:
            try:
                with con.transaction():
                    tx = PostGISTransaction(self, con.cursor())
                    try:
                        yield tx
                    except Exception as error:
                        # A caller's refusal of a transaction that wrote nothing (a stale
                        # ETag's 412) ends it by a COMMIT, which changes nothing either: after
                        # a ROLLBACK the driver forgets the session's prepared statements, and
                        # every statement of its next transactions was planned again.
                        ok = con.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
                        if tx.wrote or not ok or isinstance(error, psycopg.Error):
                            raise
                        refused = error
            except psycopg.Error as error:
                raise store_error(error, self.uri) from error
        if refused is not None:
            raise refused

    # -- every method is one transaction ----------------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        """The layers, counting again only those written since this store's last listing
        as the same role (each commit moves the revision of the layers it writes): under
        edits, a listing scans the edited layer, not every layer."""
        with self.transaction() as tx:
            # One snapshot: the revisions read and the rows counted are of the same commits.
            tx.snapshot()
            return tx.list_layers(self._counted.setdefault(self._role, {}))

    def has_layer(self, name: str) -> bool:
        with self.transaction() as tx:
            return tx.has_layer(name)

    def read(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        with self.transaction() as tx:
            return tx.read(name, bbox=bbox, filters=filters, columns=columns)

    def read_page(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Filters | None = None,
        columns: Sequence[str] | None = None,
        limit: int,
        offset: int = 0,
    ) -> pgpages.Page:
        """A page of ``read``'s rows and their count, from one snapshot (see
        ``PostGISTransaction.read_page``)."""
        with self.transaction() as tx:
            tx.snapshot()
            return tx.read_page(
                name, bbox=bbox, filters=filters, columns=columns, limit=limit, offset=offset
            )

    def read_near(
        self, name: str, bbox: BBox, *, filters: Filters | None = None, max_rows: int
    ) -> pd.DataFrame | None:
        """``PostGISTransaction.read_near`` in one snapshot."""
        with self.transaction() as tx:
            tx.snapshot()
            return tx.read_near(name, bbox, filters=filters, max_rows=max_rows)

    def metadata(self, name: str) -> dict[str, Any]:
        with self.transaction() as tx:
            return tx.metadata(name)

    def revision(self) -> int:
        with self.transaction() as tx:
            return tx.revision()

    def layer_revisions(self) -> dict[str, int]:
        with self.transaction() as tx:
            return tx.layer_revisions()

    def products(self) -> list[ProductRecord]:
        with self.transaction() as tx:
            return tx.products()

    def product(self, product_id: str) -> ProductRecord:
        with self.transaction() as tx:
            return tx.product(product_id)

    def stale(self, record: ProductRecord) -> bool:
        return is_stale(record, self.layer_revisions())

    def changes(
        self, *, layer: str | None = None, limit: int = 100, change_id: int | None = None
    ) -> list[Change]:
        """The audit history of edits, newest first (admins only: see ``RowWriter``)."""
        with self.transaction() as tx:
            return tx.changes(layer=layer, limit=limit, change_id=change_id)

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
