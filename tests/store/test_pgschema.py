"""The PostGIS schema holds the catalogue: every layer's columns, types, required fields, allowed
values, ranges, keys and row rules, refused by the database itself whatever the SQL."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import psycopg
import pytest

from gis_planner.catalogue import CATALOGUE
from gis_planner.store import PostGISStore
from gis_planner.store.pgschema import ROW_RULES_SQL, init_schema, table_name

_TYPES = {"str": "text", "int": "bigint", "float": "double precision", "bool": "boolean"}


@pytest.fixture(scope="module")
def con(pg_sample_store: PostGISStore) -> Iterator[psycopg.Connection]:
    """A connection to the session's sample database, for questions that change nothing."""
    with psycopg.connect(pg_sample_store.url, autocommit=True) as connection:
        yield connection


def _constraints(con: psycopg.Connection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s)",
        (f'gis_planner."{table}"',),
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("layer", sorted(CATALOGUE))
def test_every_catalogue_layer_is_a_table_of_its_spec(con: psycopg.Connection, layer: str) -> None:
    spec = CATALOGUE[layer]
    columns = con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = 'gis_planner' AND table_name = %s ORDER BY ordinal_position",
        (table_name(layer),),
    ).fetchall()
    expected = [("fid", "bigint", "NO")] + [
        (f.name, _TYPES[f.dtype], "NO" if f.required else "YES") for f in spec.fields
    ]
    if spec.geometry_type:
        expected.append(("geometry", "USER-DEFINED", "NO"))
    assert columns == expected
    constraints = _constraints(con, table_name(layer))
    for field in spec.fields:
        assert (f"{field.name}_allowed" in constraints) == (field.allowed is not None)
        assert (f"{field.name}_min" in constraints) == (field.min is not None)
        assert (f"{field.name}_max" in constraints) == (field.max is not None)
    key = ", ".join(spec.key)
    assert any(d == f"UNIQUE ({key})" for d in constraints.values()), constraints
    if spec.geometry_type:
        kind, srid = con.execute(
            "SELECT type, srid FROM geometry_columns WHERE f_table_schema = 'gis_planner' "
            "AND f_table_name = %s",
            (table_name(layer),),
        ).fetchone() or (None, None)
        assert (kind, srid) == (spec.geometry_type.upper(), 4326)
        index = con.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'gis_planner' AND tablename = %s "
            "AND indexdef LIKE '%%USING gist (geometry)'",
            (table_name(layer),),
        ).fetchone()
        assert index is not None


def test_every_row_rule_of_the_catalogue_is_checked_in_sql() -> None:
    rules = {(spec.name, r.field, r.reason) for spec in CATALOGUE.values() for r in spec.rules}
    assert rules == set(ROW_RULES_SQL)


#: Rows each rule's Python and SQL forms must judge alike.
RULE_EXAMPLES = {
    ("admin_units", "parent_code", "required"): pd.DataFrame(
        {
            "level": ["province", "commune", "commune", "district"],
            "parent_code": [None, "347", None, None],
        },
        dtype="str",
    ),
    ("cells", "pattern_ref", "not_allowed"): pd.DataFrame(
        {
            "pattern_ref": [
                "K742215.msi",
                "../etc/passwd",
                "a..b",
                "x" * 65,
                "-lead",
                "ok_1-2.txt",
                "a/b",
                None,
            ]
        },
        dtype="str",
    ),
    ("planning_zones", "tower_types", "not_allowed"): pd.DataFrame(
        {
            "tower_types": [
                "rooftop",
                "monopole, lattice",
                "monopole,pylon",
                "",
                "rooftop,,street_pole",
                "Rooftop",
                None,
            ]
        },
        dtype="str",
    ),
}


@pytest.mark.parametrize("rule", sorted(ROW_RULES_SQL))
def test_row_rules_judge_in_sql_as_in_python(
    con: psycopg.Connection, rule: tuple[str, str, str]
) -> None:
    layer, field, reason = rule
    python_rule = next(r for r in CATALOGUE[layer].rules if (r.field, r.reason) == (field, reason))
    rows = RULE_EXAMPLES[rule]
    failing_in_python = python_rule.failing(rows).fillna(False).astype(bool).tolist()
    columns = ", ".join(rows.columns)
    values = ", ".join(
        "(" + ", ".join(["%s::text"] * len(rows.columns)) + ")" for _ in range(len(rows))
    )
    params = [None if pd.isna(v) else v for row in rows.itertuples(index=False) for v in row]
    failing_in_sql = [
        bool(failing)
        for (failing,) in con.execute(
            f"SELECT coalesce(NOT ({ROW_RULES_SQL[rule]}), false) "
            f"FROM (VALUES {values}) AS v({columns})",
            params,
        ).fetchall()
    ]
    assert failing_in_sql == failing_in_python


SITE = (
    "INSERT INTO gis_planner.sites (site_id, operator, tower_type, height_m, max_tenants, "
    "geometry) VALUES (%(id)s, %(operator)s, %(tower)s, %(height)s, %(tenants)s, "
    "ST_GeomFromText(%(wkt)s, %(srid)s))"
)
GOOD = {"id": "S1", "operator": "viettel", "tower": "lattice", "height": 30.0, "tenants": 2,
        "wkt": "POINT(105.9 20.5)", "srid": 4326}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"operator": "orange"}, psycopg.errors.CheckViolation),
        ({"height": 500.0}, psycopg.errors.CheckViolation),
        ({"tenants": 0}, psycopg.errors.CheckViolation),
        ({"tower": None}, psycopg.errors.NotNullViolation),
        ({"id": None}, psycopg.errors.NotNullViolation),
        ({"wkt": "POINT(200 20.5)"}, psycopg.errors.CheckViolation),
        ({"wkt": "POINT EMPTY"}, psycopg.errors.CheckViolation),
        ({"wkt": "LINESTRING(105.9 20.5, 106 20.6)"}, psycopg.errors.InvalidParameterValue),
        ({"srid": 3857}, psycopg.errors.InvalidParameterValue),
    ],
)
def test_the_database_refuses_a_bad_value_written_in_plain_sql(
    pg_store: PostGISStore, change: dict[str, object], error: type[psycopg.Error]
) -> None:
    with psycopg.connect(pg_store.url) as con:
        con.execute(SITE, GOOD)
        with pytest.raises(error):
            con.execute(SITE, {**GOOD, "id": "S2", **change})
    assert not pg_store.has_layer("sites")


def test_keys_are_unique_per_operator_in_the_database(pg_store: PostGISStore) -> None:
    with psycopg.connect(pg_store.url) as con:
        con.execute(SITE, GOOD)
        con.execute(SITE, {**GOOD, "operator": "vnpt"})  # another operator's S1 is another site
        with pytest.raises(psycopg.errors.UniqueViolation):
            con.execute(SITE, GOOD)
    with psycopg.connect(pg_store.url) as con:
        con.execute(SITE, GOOD)
        con.execute(SITE, {**GOOD, "operator": "vnpt"})
    assert sorted(pg_store.read("sites")["operator"]) == ["viettel", "vnpt"]


def test_geometry_rules_and_row_rules_hold_in_plain_sql(pg_store: PostGISStore) -> None:
    bowtie = "MULTIPOLYGON(((105 20, 106 21, 106 20, 105 21, 105 20)))"
    statements = [
        "INSERT INTO gis_planner.villages (code, name, village_type, commune_code, population, "
        f"geometry) VALUES ('V1', 'Thôn 1', 'thon', '13285', 100, ST_GeomFromText('{bowtie}', "
        "4326))",
        "INSERT INTO gis_planner.admin_units (code, name, level, unit_type, admin_version, "
        "geometry_quality, geometry) VALUES ('1', 'Xã', 'commune', 'rural_commune', 'pre2025', "
        "'real', ST_GeomFromText('MULTIPOLYGON(((105 20, 106 20, 106 21, 105 20)))', 4326))",
        "INSERT INTO gis_planner.cells (cell_id, site_id, operator, technology, band_mhz, "
        "bandwidth_mhz, azimuth_deg, height_m, tx_power_dbm, antenna_gain_dbi, pattern_ref, "
        "geometry) VALUES ('C1', 'S1', 'viettel', '4G', 1800, 20, 0, 30, 43, 17, '../x', "
        "ST_GeomFromText('POINT(105.9 20.5)', 4326))",
    ]
    for statement in statements:
        with psycopg.connect(pg_store.url) as con, pytest.raises(psycopg.errors.CheckViolation):
            con.execute(statement)


def test_init_again_changes_nothing_it_holds(pg_store: PostGISStore) -> None:
    pg_store.write("coverage_gaps__x", pd.DataFrame())
    revision = pg_store.revision()
    init_schema(pg_store.url)
    assert pg_store.has_layer("coverage_gaps__x") and pg_store.revision() == revision
