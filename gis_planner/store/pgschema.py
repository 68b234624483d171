"""The PostGIS store's schema, generated from the catalogue and the access table.

Three schemas: ``gis_planner`` holds one table per layer (what QGIS users open), with the
catalogue's types, allowed values, ranges, required fields, keys and row rules as constraints,
the geometry in EPSG:4326 with a GiST index, and row-level security generated from
``gis_planner.store.access``; ``gis_planner_shared`` holds, for layers of which viewers see
some fields only, a view of every row with the fields a caller may not see emptied;
``gis_planner_meta`` holds the store's revision, the layers' records and the product registry.

Roles (cluster-wide): ``gp_admin`` owns everything (owners pass row-level security),
``gp_viewer``, and ``gp_operator_<key>`` per operator, members of ``gp_operator``, to which the
policies apply. A trigger on every layer table counts each transaction that changes it as one
commit of the store, whoever makes it (the store, QGIS or plain SQL), as it commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import psycopg
from psycopg import sql

from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.layers import PATTERN_NAME, TOWER_TYPES
from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.errors import StoreError
from gis_planner.operators import OPERATOR_KEYS
from gis_planner.products import catalogue_name
from gis_planner.store.access import layer_access

LAYER_SCHEMA = "gis_planner"
SHARED_SCHEMA = "gis_planner_shared"
META_SCHEMA = "gis_planner_meta"
ADMIN_ROLE = "gp_admin"
VIEWER_ROLE = "gp_viewer"
OPERATOR_GROUP = "gp_operator"
FID = "fid"
GEOMETRY = "geometry"
SRID = 4326
#: PostgreSQL cuts identifiers at 63 bytes.
MAX_IDENTIFIER = 63

_SQL_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean"}

#: The catalogue's row rules (Python functions) as SQL, by (layer, field, reason); a test
#: checks that every rule of the catalogue has one here.
ROW_RULES_SQL: dict[tuple[str, str, str], str] = {
    ("admin_units", "parent_code", "required"): "level = 'province' OR parent_code IS NOT NULL",
    ("cells", "pattern_ref", "not_allowed"): (
        f"pattern_ref ~ '^(?:{PATTERN_NAME.pattern})$' AND strpos(pattern_ref, '..') = 0"
    ),
    ("planning_zones", "tower_types", "not_allowed"): (
        "tower_types IS NULL OR replace(tower_types, ' ', '') = '' OR "
        "string_to_array(replace(tower_types, ' ', ''), ',') <@ ARRAY["
        + ", ".join(f"'{t}'" for t in TOWER_TYPES)
        + "]::text[]"
    ),
}


def operator_role(operator: str) -> str:
    """The database role of an operator key."""
    return f"gp_operator_{operator}"


def table_name(layer: str) -> str:
    """The table of a store layer: its name, or for a name too long for PostgreSQL its start
    and a hash of the whole."""
    if len(layer.encode()) <= MAX_IDENTIFIER:
        return layer
    digest = hashlib.sha256(layer.encode()).hexdigest()[:12]
    return f"{layer.encode()[:50].decode(errors='ignore')}_{digest}"


def has_shared_view(layer: str) -> bool:
    """Whether viewers see some fields of ``layer`` only: they read it through a view."""
    spec = CATALOGUE.get(layer)
    public = layer_access(layer).public_fields
    return spec is not None and public is not None and set(public) != set(spec.field_names)


def _ident(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def _lit(value: object) -> sql.Literal:
    return sql.Literal(value)


def _column(field: FieldSpec) -> sql.Composable:
    name = _ident(field.name)
    parts: list[sql.Composable] = [name, sql.SQL(_SQL_TYPES[field.dtype])]
    if field.required:
        parts.append(sql.SQL("NOT NULL"))
    if field.default is not None:
        parts.append(sql.SQL("DEFAULT {}").format(_lit(field.default)))
    checks: list[tuple[str, sql.Composable]] = []
    if field.allowed is not None:
        allowed = sql.SQL(", ").join(_lit(v) for v in field.allowed)
        checks.append(("allowed", sql.SQL("{} IN ({})").format(name, allowed)))
    if field.min is not None:
        checks.append(("min", sql.SQL("{} >= {}").format(name, _lit(field.min))))
    if field.max is not None:
        checks.append(("max", sql.SQL("{} <= {}").format(name, _lit(field.max))))
    for suffix, check in checks:
        constraint = _ident(f"{field.name}_{suffix}")
        parts.append(sql.SQL("CONSTRAINT {} CHECK ({})").format(constraint, check))
    return sql.SQL(" ").join(parts)


def _geometry_column(spec: LayerSpec) -> sql.Composable:
    geometry = _ident(GEOMETRY)
    checks = [
        sql.SQL("CONSTRAINT geometry_not_empty CHECK (NOT ST_IsEmpty({}))").format(geometry),
        sql.SQL(
            "CONSTRAINT geometry_in_range CHECK (ST_XMin({g}) >= -180 AND ST_XMax({g}) <= 180 "
            "AND ST_YMin({g}) >= -90 AND ST_YMax({g}) <= 90)"
        ).format(g=geometry),
    ]
    if spec.geometry_type != "Point":
        checks.append(sql.SQL("CONSTRAINT geometry_valid CHECK (ST_IsValid({}))").format(geometry))
    return sql.SQL("{} geometry({}, {}) NOT NULL {}").format(
        geometry, sql.SQL(spec.geometry_type or ""), _lit(SRID), sql.SQL(" ").join(checks)
    )


def create_table_sql(layer: str) -> sql.Composed:
    """``CREATE TABLE`` of a store layer (a catalogue layer or a scoped one)."""
    spec = CATALOGUE[catalogue_name(layer)]
    columns: list[sql.Composable] = [
        sql.SQL("{} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY").format(_ident(FID))
    ]
    columns += [_column(field) for field in spec.fields]
    if spec.geometry_type is not None:
        columns.append(_geometry_column(spec))
    columns.append(sql.SQL("UNIQUE ({})").format(sql.SQL(", ").join(map(_ident, spec.key))))
    for rule in spec.rules:
        expression = ROW_RULES_SQL[(spec.name, rule.field, rule.reason)]
        constraint = _ident(f"{rule.field}_{rule.reason}")
        columns.append(sql.SQL("CONSTRAINT {} CHECK ({})").format(constraint, sql.SQL(expression)))
    return sql.SQL("CREATE TABLE IF NOT EXISTS {} (\n  {}\n)").format(
        _ident(LAYER_SCHEMA, table_name(layer)), sql.SQL(",\n  ").join(columns)
    )


_CALLER_OPERATORS = sql.SQL("(SELECT {}())::text[]").format(_ident(META_SCHEMA, "caller_operators"))
_CALLER_IS_ADMIN = sql.SQL("(SELECT {}())").format(_ident(META_SCHEMA, "caller_is_admin"))


def _own_rows() -> sql.Composable:
    # A scalar sub-select, so that PostgreSQL computes the caller's operators once a query (the
    # cast keeps ANY from reading it as a set of rows).
    return sql.SQL("operator = ANY ({})").format(_CALLER_OPERATORS)


def layer_security_sql(layer: str) -> Iterator[sql.Composed]:
    """Grants, row-level security policies and the shared view of a store layer, from its
    ``LayerAccess``; run again, they replace what was there."""
    spec = CATALOGUE[catalogue_name(layer)]
    access = layer_access(layer)
    table = _ident(LAYER_SCHEMA, table_name(layer))
    readers = sql.SQL("{}, {}").format(_ident(VIEWER_ROLE), _ident(OPERATOR_GROUP))
    operators = _ident(OPERATOR_GROUP)
    yield sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(table)
    yield sql.SQL("REVOKE ALL ON {} FROM PUBLIC, {}").format(table, readers)
    for policy in ("public_rows", "own_rows", "own_insert", "own_update", "own_delete"):
        yield sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(_ident(policy), table)
    public_rows = (
        sql.SQL("operator = {}").format(_lit(access.public_rows))
        if access.public_rows
        else sql.SQL("true")
    )
    fields = spec.field_names
    if access.public_fields is not None and set(access.public_fields) == set(fields):
        # Viewers see these rows whole; so do operators (beside their own, if any).
        yield sql.SQL("GRANT SELECT ON {} TO {}").format(table, readers)
        yield sql.SQL("CREATE POLICY public_rows ON {} FOR SELECT TO {} USING ({})").format(
            table, readers, public_rows
        )
    if access.by_operator:
        yield sql.SQL("GRANT SELECT ON {} TO {}").format(table, operators)
        yield sql.SQL("CREATE POLICY own_rows ON {} FOR SELECT TO {} USING ({})").format(
            table, operators, _own_rows()
        )
        if access.editable:
            yield sql.SQL("GRANT INSERT, UPDATE, DELETE ON {} TO {}").format(table, operators)
            yield sql.SQL("CREATE POLICY own_insert ON {} FOR INSERT TO {} WITH CHECK ({})").format(
                table, operators, _own_rows()
            )
            yield sql.SQL(
                "CREATE POLICY own_update ON {} FOR UPDATE TO {} USING ({}) WITH CHECK ({})"
            ).format(table, operators, _own_rows(), _own_rows())
            yield sql.SQL("CREATE POLICY own_delete ON {} FOR DELETE TO {} USING ({})").format(
                table, operators, _own_rows()
            )
    view = _ident(SHARED_SCHEMA, table_name(layer))
    yield sql.SQL("DROP VIEW IF EXISTS {}").format(view)
    if has_shared_view(layer) and access.public_fields is not None:
        yield _shared_view_sql(layer, spec, access.public_fields, public_rows)
        yield sql.SQL("GRANT SELECT ON {} TO {}").format(view, readers)


def _shared_view_sql(
    layer: str, spec: LayerSpec, public: tuple[str, ...], public_rows: sql.Composable
) -> sql.Composed:
    # The view runs with its owner's rights (past row-level security): it shows what the
    # caller may see of every row, the fields it may not see emptied.
    full = _CALLER_IS_ADMIN
    if layer_access(layer).by_operator:
        full = sql.SQL("{} OR {}").format(_CALLER_IS_ADMIN, _own_rows())
    columns: list[sql.Composable] = [_ident(FID)]
    for field in spec.field_names:
        if field in public:
            columns.append(_ident(field))
        else:
            masked = sql.SQL("CASE WHEN {} THEN {} END AS {}")
            columns.append(masked.format(full, _ident(field), _ident(field)))
    if spec.geometry_type is not None:
        columns.append(_ident(GEOMETRY))
    return sql.SQL(
        "CREATE VIEW {} WITH (security_barrier) AS SELECT {} FROM {} WHERE {} OR {}"
    ).format(
        _ident(SHARED_SCHEMA, table_name(layer)),
        sql.SQL(", ").join(columns),
        _ident(LAYER_SCHEMA, table_name(layer)),
        public_rows,
        full,
    )


def layer_table_sql(layer: str) -> Iterator[sql.Composed]:
    """Everything a store layer's table needs: the table, its index, its trigger, its
    security. Run as the owner role."""
    spec = CATALOGUE[catalogue_name(layer)]
    table = _ident(LAYER_SCHEMA, table_name(layer))
    yield create_table_sql(layer)
    if spec.geometry_type is not None:
        index = _ident(f"{table_name(layer)[: MAX_IDENTIFIER - 5]}_gist")
        yield sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gist ({})").format(
            index, table, _ident(GEOMETRY)
        )
    yield sql.SQL(
        "CREATE OR REPLACE TRIGGER gis_planner_commit BEFORE INSERT OR UPDATE OR DELETE OR "
        "TRUNCATE ON {} FOR EACH STATEMENT EXECUTE FUNCTION {}({})"
    ).format(table, _ident(META_SCHEMA, "layer_changed"), _lit(layer))
    yield from layer_security_sql(layer)


#: The deferred trigger that counts a transaction's changes as it commits.
COUNT_CONSTRAINT = "gis_planner_meta.gis_planner_count"
#: Functions of the meta schema. ``commit_revision`` increments the store's revision once a
#: transaction, whatever it changes: the row lock it takes is held to the commit, so writers
#: count their commits one after the other, in the order they become visible. A layer's trigger
#: only notes the layer as changed (``pending``, once a transaction and layer); the note's
#: deferred trigger counts the commit and the layer's revision when the transaction commits, so
#: the store's one revision row is locked for the commit alone, not for the rest of an edit (its
#: reads, its history, the client's round trips), and writers of different rows do not wait for
#: each other. It runs after every row is written, so two writers never wait on each other in
#: turn. ``SET CONSTRAINTS … IMMEDIATE`` counts at once instead (the first write of a new layer,
#: whose record the count makes, after its rows). A statement counts even if it changes no row
#: (a trigger per statement cannot tell, one per row would cost a call a row): a revision may
#: change with nothing changed, never the reverse.
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION gis_planner_meta.caller_operators() RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(operator), '{}') FROM gis_planner_meta.operator_roles
  WHERE pg_has_role(current_user, role_name, 'USAGE')
$$;
CREATE OR REPLACE FUNCTION gis_planner_meta.caller_is_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT pg_has_role(current_user, 'gp_admin', 'USAGE') $$;
CREATE OR REPLACE FUNCTION gis_planner_meta.commit_revision() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  counted bigint;
BEGIN
  UPDATE gis_planner_meta.revision SET revision = revision + 1, xact = pg_current_xact_id()
  WHERE xact IS DISTINCT FROM pg_current_xact_id() RETURNING revision INTO counted;
  IF counted IS NULL THEN
    SELECT revision INTO counted FROM gis_planner_meta.revision;
  END IF;
  RETURN counted;
END
$$;
CREATE OR REPLACE FUNCTION gis_planner_meta.record_layer(text, text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  INSERT INTO gis_planner_meta.layers (layer, table_name, written_at, revision)
  VALUES ($1, $2, now(), gis_planner_meta.commit_revision())
  ON CONFLICT (layer) DO UPDATE SET written_at = excluded.written_at, revision = excluded.revision
$$;
CREATE OR REPLACE FUNCTION gis_planner_meta.layer_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN  -- a bulk change, counted at once as before
    PERFORM gis_planner_meta.record_layer(TG_ARGV[0], TG_TABLE_NAME);
  ELSE
    INSERT INTO gis_planner_meta.pending (xact, layer, table_name)
    VALUES (pg_current_xact_id(), TG_ARGV[0], TG_TABLE_NAME) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION gis_planner_meta.count_layer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  DELETE FROM gis_planner_meta.pending WHERE xact = NEW.xact AND layer = NEW.layer;
  IF FOUND THEN  -- else the layer's record was deleted since, and the change counted then
    PERFORM gis_planner_meta.record_layer(NEW.layer, NEW.table_name);
  END IF;
  RETURN NULL;
END
$$;
-- A layer's record deleted (the layer deleted) counts at once, and is not made again as the
-- transaction commits.
CREATE OR REPLACE FUNCTION gis_planner_meta.layer_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM gis_planner_meta.commit_revision();
  DELETE FROM gis_planner_meta.pending WHERE xact = pg_current_xact_id() AND layer = OLD.layer;
  RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER gis_planner_deleted AFTER DELETE ON gis_planner_meta.layers
  FOR EACH ROW EXECUTE FUNCTION gis_planner_meta.layer_deleted();
DROP TRIGGER IF EXISTS gis_planner_count ON gis_planner_meta.pending;
CREATE CONSTRAINT TRIGGER gis_planner_count AFTER INSERT ON gis_planner_meta.pending
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gis_planner_meta.count_layer();
REVOKE ALL ON FUNCTION gis_planner_meta.commit_revision() FROM PUBLIC;
REVOKE ALL ON FUNCTION gis_planner_meta.layer_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION gis_planner_meta.count_layer() FROM PUBLIC;
REVOKE ALL ON FUNCTION gis_planner_meta.record_layer(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gis_planner_meta.layer_deleted() FROM PUBLIC;
"""

_META_TABLES = """
CREATE TABLE IF NOT EXISTS gis_planner_meta.revision (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  revision bigint NOT NULL,
  xact xid8
);
INSERT INTO gis_planner_meta.revision (revision) VALUES (0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS gis_planner_meta.layers (
  layer text PRIMARY KEY,
  -- layers are listed in the order they were first written, as in a GeoPackage
  position bigint GENERATED ALWAYS AS IDENTITY,
  table_name text NOT NULL UNIQUE,
  written_at timestamptz NOT NULL,
  info jsonb NOT NULL DEFAULT '{}',
  revision bigint NOT NULL
);
-- The layers a transaction changed, counted as it commits (see ``count_layer``); a row lives
-- as long as its transaction.
CREATE UNLOGGED TABLE IF NOT EXISTS gis_planner_meta.pending (
  xact xid8 NOT NULL,
  layer text NOT NULL,
  table_name text NOT NULL,
  PRIMARY KEY (xact, layer)
);
CREATE TABLE IF NOT EXISTS gis_planner_meta.products (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('raster', 'layer')),
  job text NOT NULL,
  scope text NOT NULL,
  created_at text NOT NULL,
  record jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS gis_planner_meta.operator_roles (
  role_name name PRIMARY KEY,
  operator text NOT NULL UNIQUE
);
GRANT SELECT ON gis_planner_meta.revision, gis_planner_meta.layers, gis_planner_meta.products,
  gis_planner_meta.operator_roles TO gp_viewer, gp_operator;
-- What a layer's last write recorded (its source file…): an operator may set it for the
-- layers it writes to.
GRANT UPDATE (info) ON gis_planner_meta.layers TO gp_operator;
ALTER TABLE gis_planner_meta.layers ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS everyone_reads ON gis_planner_meta.layers;
CREATE POLICY everyone_reads ON gis_planner_meta.layers FOR SELECT USING (true);
DROP POLICY IF EXISTS writers_note ON gis_planner_meta.layers;
CREATE POLICY writers_note ON gis_planner_meta.layers FOR UPDATE TO gp_operator
  USING (has_table_privilege(format('gis_planner.%I', table_name), 'INSERT'))
  WITH CHECK (has_table_privilege(format('gis_planner.%I', table_name), 'INSERT'));
"""

#: The audit history of row edits (after ``_FUNCTIONS``: its policy calls them).
_AUDIT = """
-- The audit history of row edits: admins read it (they own it); an operator adds the
-- changes of its own rows only, under its own role.
CREATE TABLE IF NOT EXISTS gis_planner_meta.audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  db_role name NOT NULL DEFAULT current_user,
  who text NOT NULL,
  role text NOT NULL,
  operator text,
  layer text NOT NULL,
  feature_id text NOT NULL,
  action text NOT NULL CHECK (action IN ('create', 'replace', 'update', 'delete', 'undo')),
  before jsonb,
  after jsonb,
  undoes bigint REFERENCES gis_planner_meta.audit (id)
);
CREATE INDEX IF NOT EXISTS audit_layer ON gis_planner_meta.audit (layer, id);
GRANT INSERT ON gis_planner_meta.audit TO gp_operator;
GRANT USAGE, SELECT ON SEQUENCE gis_planner_meta.audit_id_seq TO gp_operator;
ALTER TABLE gis_planner_meta.audit ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_changes ON gis_planner_meta.audit;
CREATE POLICY own_changes ON gis_planner_meta.audit FOR INSERT TO gp_operator
  WITH CHECK (db_role = current_user AND role = 'operator' AND undoes IS NULL
    AND operator = ANY ((SELECT gis_planner_meta.caller_operators())::text[])
    AND coalesce(before ->> 'operator', operator) = operator
    AND coalesce(after ->> 'operator', operator) = operator);
"""


def _create_roles(cur: psycopg.Cursor) -> None:
    roles = [ADMIN_ROLE, VIEWER_ROLE, OPERATOR_GROUP]
    roles += [operator_role(key) for key in OPERATOR_KEYS]
    found = cur.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (roles,))
    existing = {row[0] for row in found}
    for role in roles:
        if role not in existing:
            cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(_ident(role)))
    for key in OPERATOR_KEYS:
        cur.execute(
            sql.SQL("GRANT {} TO {}").format(_ident(OPERATOR_GROUP), _ident(operator_role(key)))
        )


def init_schema(url: str) -> None:
    """Create (or bring up to date) the store's roles, schemas, tables, functions and policies
    in the database at ``url``, as a superuser (or a role that may create roles and the PostGIS
    extension). Idempotent: run again, it adds what is missing and replaces the policies."""
    try:
        with psycopg.connect(url, autocommit=True) as con, con.transaction():
            cur = con.cursor()
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('gis_planner init'))")
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            _create_roles(cur)
            for schema in (LAYER_SCHEMA, SHARED_SCHEMA, META_SCHEMA):
                cur.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                        _ident(schema), _ident(ADMIN_ROLE)
                    )
                )
                cur.execute(
                    sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(
                        _ident(schema), _ident(VIEWER_ROLE), _ident(OPERATOR_GROUP)
                    )
                )
            cur.execute(sql.SQL("SET LOCAL ROLE {}").format(_ident(ADMIN_ROLE)))
            cur.execute(_META_TABLES)
            cur.execute(_FUNCTIONS)
            cur.execute(_AUDIT)
            for key in OPERATOR_KEYS:
                cur.execute(
                    "INSERT INTO gis_planner_meta.operator_roles (role_name, operator) "
                    "VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (operator_role(key), key),
                )
            scoped = [
                row[0]
                for row in cur.execute("SELECT layer FROM gis_planner_meta.layers")
                if row[0] not in CATALOGUE
            ]
            for layer in [*CATALOGUE, *scoped]:
                for statement in layer_table_sql(layer):
                    cur.execute(statement)
    except psycopg.Error as error:
        raise StoreError(f"{redact(url)}: the schema could not be created: {error}") from error


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the PostGIS store"
    user = f"{info['user']}@" if info.get("user") else ""
    host = info.get("host", "")
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{host}{port}/{info.get('dbname', '')}"


def login_grants(role: str, operator: str | None = None) -> tuple[list[str], bool]:
    """The roles a login of ``role`` is granted, and whether it inherits their rights. The
    service's login (the API's) inherits none: it has rights only once it acts for a caller
    (``SET ROLE``), so a request that forgot to say for whom reads nothing."""
    if role == "operator":
        if operator not in OPERATOR_KEYS:
            raise StoreError(f"unknown operator {operator!r}; one of {', '.join(OPERATOR_KEYS)}")
        return [operator_role(operator)], True
    if role in ("viewer", "admin"):
        return [VIEWER_ROLE if role == "viewer" else ADMIN_ROLE], True
    if role == "service":
        return [ADMIN_ROLE, VIEWER_ROLE, *map(operator_role, OPERATOR_KEYS)], False
    raise StoreError(f"unknown login role {role!r}: operator, viewer, admin or service")


def create_login(
    url: str, name: str, role: str, *, operator: str | None = None, password: str
) -> None:
    """Create (or update) the login ``name`` with ``password`` and the rights of ``role``, in
    the cluster of the database at ``url`` (as a role that may create roles). The password is
    hashed here, never sent in clear."""
    grants, inherit = login_grants(role, operator)
    if not password:
        raise StoreError(f"login {name!r}: a password is needed")
    try:
        with psycopg.connect(url, autocommit=True) as con, con.transaction():
            cur = con.cursor()
            found = cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = "ALTER" if found else "CREATE"
            options = "LOGIN INHERIT" if inherit else "LOGIN NOINHERIT"
            cur.execute(sql.SQL(f"{verb} ROLE {{}} {options}").format(_ident(name)))
            hashed = con.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
            cur.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(_ident(name), _lit(hashed.decode()))
            )
            for granted in grants:
                cur.execute(sql.SQL("GRANT {} TO {}").format(_ident(granted), _ident(name)))
    except psycopg.Error as error:
        raise StoreError(f"{redact(url)}: login {name!r} not made: {error}") from error
