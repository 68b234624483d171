"""The PostGIS store against a real cluster: the sample's round trip, reads pushed down to SQL,
transactions and revisions, acting for a caller, and a writer killed midway."""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import shapely
from psycopg import sql

from gis_planner.catalogue.layers import CORE_LAYERS
from gis_planner.errors import GisPlannerError, LayerValidationError, StoreError, UnknownLayer
from gis_planner.products import ProductArea, ProductRecord
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore, open_store
from gis_planner.store.access import SITE_POSITION_FIELDS
from gis_planner.store.postgis import PostGISTransaction
from tests.conftest import SiteFactory


class Caller:
    """The API's principal as the store sees it (the library never imports the API)."""

    def __init__(self, role: str, operator: str | None = None) -> None:
        self.role = role
        self.operator = operator


ADMIN, VIEWER = Caller("admin"), Caller("viewer")
VIETTEL, VNPT = Caller("operator", "viettel"), Caller("operator", "vnpt")


def _record(layer: str = "sites", revision: int = 1) -> ProductRecord:
    return ProductRecord(
        id=f"test.{layer}", kind="layer", job="test", parameters={}, area=ProductArea(),
        operators=(), technologies=(), inputs={layer: revision}, layer=layer,
    )  # fmt: skip


def test_postgis_store_satisfies_the_protocol(pg_store: PostGISStore) -> None:
    assert isinstance(pg_store, LayerStore)
    assert "password" not in pg_store.uri and pg_store.uri.startswith("postgresql://")


@pytest.mark.parametrize("layer", [spec.name for spec in CORE_LAYERS])
def test_the_sample_reads_back_as_from_the_geopackage(
    pg_sample_store: PostGISStore, sample_store: GeoPackageStore, layer: str
) -> None:
    # Same rows, same order, same dtypes, same geometries to the last bit.
    pd.testing.assert_frame_equal(pg_sample_store.read(layer), sample_store.read(layer))
    ours = next(i for i in pg_sample_store.list_layers() if i.name == layer)
    theirs = next(i for i in sample_store.list_layers() if i.name == layer)
    assert (ours.geometry_type, ours.count) == (theirs.geometry_type, theirs.count)
    if theirs.bounds is not None:
        assert ours.bounds == pytest.approx(theirs.bounds, abs=1e-7)
    assert pg_sample_store.metadata(layer).keys() == sample_store.metadata(layer).keys()


def test_reads_are_answered_by_sql(
    pg_sample_store: PostGISStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    copy = psycopg.Cursor.copy

    def spy(self: psycopg.Cursor, statement: object, *args: object, **kwargs: object) -> object:
        assert isinstance(statement, sql.Composable)
        statements.append(statement.as_string(self))
        return copy(self, statement, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    box = (105.88, 20.50, 105.96, 20.58)
    frame = pg_sample_store.read(
        "cells", bbox=box, filters={"operator": "viettel", "technology": ["4G", "5G"]},
        columns=["cell_id", "technology"],
    )  # fmt: skip
    (statement,) = statements
    assert '"geometry" && ST_MakeEnvelope(105.88, 20.5, 105.96, 20.58' in statement
    assert "\"operator\" IN ('viettel')" in statement and "IN ('4G', '5G')" in statement
    assert '"azimuth_deg"' not in statement, "only the asked columns leave the database"
    assert list(frame.columns) == ["cell_id", "technology", "geometry"]
    every = pg_sample_store.read("cells")
    inside = every[
        every.geometry.intersects(shapely.box(*box))
        & (every["operator"] == "viettel")
        & every["technology"].isin(["4G", "5G"])
    ]
    assert 0 < len(frame) < len(every)
    assert frame["cell_id"].tolist() == inside["cell_id"].tolist()


def test_filters_keep_the_geopackage_semantics(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    frame = make_sites(
        [("A", "viettel", 105.9, 20.5), ("B", "vnpt", 105.91, 20.5), ("C", "vnpt", 105.92, 20.5)],
        max_tenants=[2, None, 3],
        address=["", "x", "Phủ Lý"],
    )
    any_store.write("sites", frame)
    assert any_store.read("sites", filters={"max_tenants": [None, 3]})["site_id"].tolist() == [
        "B", "C"
    ]  # fmt: skip
    # numbers given as text still find a number field, and text given as a number a text field
    assert any_store.read("sites", filters={"max_tenants": "2"})["site_id"].tolist() == ["A"]
    assert any_store.read("sites", filters={"address": "Phủ Lý"})["site_id"].tolist() == ["C"]
    empty = any_store.read("sites", bbox=(0.0, 0.0, 1.0, 1.0))
    assert empty.empty and list(empty.columns) == list(any_store.read("sites").columns)


def test_an_empty_list_of_values_accepts_no_row(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    any_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    assert any_store.read("sites", filters={"operator": []}).empty


def test_a_point_on_a_box_of_no_area_is_in_it(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    any_store.write(
        "sites", make_sites([("A", "viettel", 105.9, 20.5), ("B", "vnpt", 105.91, 20.5)])
    )
    assert any_store.read("sites", bbox=(105.9, 20.5, 105.9, 20.5))["site_id"].tolist() == ["A"]


def test_a_text_with_a_nul_character_matches_no_row(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    # PostgreSQL's text cannot hold one (psycopg refused to quote it: a StoreError).
    pg_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    either = {"operator": ["viettel\x00", "viettel"]}
    assert pg_store.read("sites", filters=either)["site_id"].tolist() == ["A"]
    assert pg_store.read("sites", filters={"operator": "\x00"}).empty


def test_a_page_is_a_slice_of_the_read_and_its_count(pg_sample_store: PostGISStore) -> None:
    viettel = pg_sample_store.acting_for(VIETTEL)
    asked = {
        "bbox": (105.88, 20.50, 105.96, 20.58),
        "filters": {"technology": ["4G", "5G"]},
        "columns": ["cell_id", "operator", "azimuth_deg"],
    }
    every = viettel.read("cells", **asked)  # type: ignore[arg-type]
    assert len(every) > 10 and set(every["operator"]) == {"viettel"}
    for offset in (0, 7, len(every) - 3, len(every), 10**30):
        page = viettel.read_page("cells", **asked, limit=5, offset=offset)  # type: ignore[arg-type]
        assert page.matched == len(every)
        start = min(offset, len(every))
        expected = every.iloc[start : start + 5]
        values = expected[asked["columns"]].astype(object)
        assert page.records == values.where(values.notna(), None).to_dict("records")
        assert page.geometries is not None
        assert list(page.geometries) == list(expected.geometry)


def test_a_listing_after_an_edit_counts_the_edited_layer_only(
    pg_store: PostGISStore, make_sites: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5),
                                        ("B", "vnpt", 106.0, 20.6),
                                        ("C", "viettel", 106.1, 20.7)]))  # fmt: skip
    pg_store.write("sites__old", make_sites([("D", "vnpt", 105.8, 20.4)]))
    callers = (ADMIN, VIEWER, VIETTEL, None)
    stores = [pg_store.acting_for(caller) for caller in callers]
    for store in stores:
        store.list_layers()
    # Viettel's replace of its own sites drops C: the layer's extent shrinks.
    stores[2].write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    counted: list[str] = []
    execute = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor, query: object, *args: object, **kwargs: object) -> object:
        text = query.as_string(self) if isinstance(query, sql.Composable) else str(query)
        counted.extend(re.findall(r"SELECT '(\w+)' AS layer, count\(\*\)", text))
        return execute(self, query, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    listings = [store.list_layers() for store in stores]
    assert counted == ["sites"] * len(stores)
    counted.clear()
    assert [store.list_layers() for store in stores] == listings and counted == []
    monkeypatch.undo()
    # The same answers as a store that never listed, for every caller.
    fresh = PostGISStore(pg_store.url)
    assert listings == [fresh.acting_for(caller).list_layers() for caller in callers]
    fresh.close()
    sites = next(info for info in listings[0] if info.name == "sites")
    assert sites.count == 2 and sites.bounds == pytest.approx((105.9, 20.5, 106.0, 20.6))
    # What was counted of a dropped layer is dropped with it.
    pg_store.delete("sites__old")
    assert "sites__old" not in {info.name for info in stores[0].list_layers()}
    assert "sites__old" not in stores[0]._counted[stores[0]._role]


def test_a_failing_write_leaves_nothing(pg_store: PostGISStore, make_sites: SiteFactory) -> None:
    pg_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    before, revision = pg_store.read("sites"), pg_store.revision()
    with pytest.raises(RuntimeError), pg_store.transaction() as tx:
        tx.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
        tx.register(_record())
        tx.write("admin_crosswalk", pd.DataFrame())
        raise RuntimeError("the job failed before its commit")
    pd.testing.assert_frame_equal(pg_store.read("sites"), before)
    assert pg_store.revision() == revision and pg_store.products() == []
    assert not pg_store.has_layer("admin_crosswalk")


def test_records_and_layers_commit_together_once(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    with pg_store.transaction() as tx:
        tx.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
        tx.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]), mode="append")
        tx.register(_record(revision=tx.layer_revisions()["sites"]))
        assert pg_store.revision() == 0 and pg_store.products() == [], "readers see commits"
        assert tx.revision() == 1
    assert pg_store.revision() == 1 and pg_store.layer_revisions() == {"sites": 1}
    (record,) = pg_store.products()
    assert not pg_store.stale(record)
    pg_store.unregister("nothing")  # nothing to drop: nothing committed
    assert pg_store.revision() == 1
    pg_store.unregister(record.id)
    assert pg_store.revision() == 2 and pg_store.products() == []


def test_concurrent_writers_count_every_commit(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    sites = make_sites([("A", "viettel", 105.9, 20.5)])
    pg_store.write("sites", sites)
    errors: list[BaseException] = []

    def append(operator: str) -> None:
        try:
            for i in range(5):
                frame = make_sites([(f"{operator}{i}", operator, 105.9, 20.5)])
                pg_store.write("sites", frame, mode="append")
        except BaseException as error:  # handed to the test thread
            errors.append(error)

    threads = [threading.Thread(target=append, args=(op,)) for op in ("vnpt", "mobifone")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert pg_store.revision() == 11 and len(pg_store.read("sites")) == 11
    assert pg_store.layer_revisions() == {"sites": 11}


def test_deleting_a_scoped_layer_drops_its_table(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    # A name PostgreSQL would cut at 63 bytes: the table takes a hash, the layer keeps its name.
    name = "sites__" + "x" * 70
    pg_store.write(name, make_sites([("A", "viettel", 105.9, 20.5)]))
    assert pg_store.has_layer(name) and pg_store.read(name)["site_id"].tolist() == ["A"]
    pg_store.delete(name)
    assert not pg_store.has_layer(name) and pg_store.revision() == 2
    with psycopg.connect(pg_store.url) as con:
        tables = con.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'gis_planner' AND "
            "tablename LIKE 'sites\\_\\_%'"
        ).fetchone()
    assert tables == (0,)


def test_validation_happens_before_the_database(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    with pytest.raises(LayerValidationError, match="orange"):
        pg_store.write("sites", make_sites([("A", "orange", 105.9, 20.5)]))
    with pytest.raises(UnknownLayer):
        pg_store.write("towers", make_sites([("A", "viettel", 105.9, 20.5)]))
    with pytest.raises(GisPlannerError, match="write mode"):
        pg_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]), mode="merge")  # type: ignore[arg-type]
    assert pg_store.revision() == 0


def test_acting_for_a_caller(pg_sample_store: PostGISStore) -> None:
    viewer = pg_sample_store.acting_for(VIEWER)
    viettel = pg_sample_store.acting_for(VIETTEL)
    names = {i.name for i in viewer.list_layers()}
    assert {"sites", "villages", "admin_units"} <= names and "cells" not in names
    with pytest.raises(UnknownLayer):
        viewer.read("cells")
    assert set(viettel.read("cells")["operator"]) == {"viettel"}
    assert next(i for i in viettel.list_layers() if i.name == "cells").count == len(
        viettel.read("cells")
    )
    # Everyone sees where every site is; only its operator (and admins) its configuration.
    everything = pg_sample_store.read("sites")
    for store, own in ((viewer, None), (viettel, "viettel")):
        sites = store.read("sites")
        assert len(sites) == len(everything)
        hidden = [f for f in sites.columns if f not in (*SITE_POSITION_FIELDS, "geometry")]
        others = sites["operator"] != own
        assert sites.loc[others, hidden].isna().all().all()
        pd.testing.assert_frame_equal(sites[~others], everything[~others])
    assert viettel.read("sites", filters={"max_tenants": 2})["operator"].eq("viettel").all()
    assert pickle.loads(pickle.dumps(viettel)).read("cells")["operator"].eq("viettel").all()


def test_an_operator_changes_its_own_rows_only(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    pg_store.write(
        "sites", make_sites([("A", "viettel", 105.9, 20.5), ("B", "vnpt", 105.91, 20.5)])
    )
    vnpt = pg_store.acting_for(VNPT)
    # An operator's replace replaces its own rows; the others' stay.
    vnpt.write("sites", make_sites([("C", "vnpt", 105.9, 20.5), ("D", "vnpt", 105.9, 20.6)]),
               metadata={"source_file": "vnpt.xlsx"})  # fmt: skip
    assert sorted(pg_store.read("sites")["site_id"]) == ["A", "C", "D"]
    assert pg_store.metadata("sites")["source_file"] == "vnpt.xlsx"
    with pytest.raises(StoreError, match="row-level security"):
        vnpt.write("sites", make_sites([("E", "viettel", 105.9, 20.5)]), mode="append")
    for change in (
        lambda: vnpt.register(_record()),
        lambda: vnpt.delete("sites"),
        lambda: vnpt.write("coverage_gaps__x", pd.DataFrame()),
    ):
        with pytest.raises(StoreError, match="not allowed"):
            change()
    assert sorted(pg_store.read("sites")["site_id"]) == ["A", "C", "D"]
    assert pg_store.revision() == 2


def test_connections_ended_by_the_server_are_replaced(pg_store: PostGISStore) -> None:
    assert pg_store.revision() == 0  # leaves an idle connection in the store
    with psycopg.connect(pg_store.url, autocommit=True) as con:
        ended = con.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended == (1,)
    assert pg_store.revision() == 0


def test_a_transaction_refused_by_its_caller_keeps_its_connection(
    pg_store: PostGISStore,
) -> None:
    """An error raised inside a transaction (an edit refused: a stale ETag) ends it and gives
    the session back: closing it made every refusal cost a new backend."""
    assert pg_store.revision() == 0  # leaves an idle connection in the store
    before = _sessions(pg_store)
    with pytest.raises(GisPlannerError), pg_store.transaction() as tx:
        tx.revision()
        raise GisPlannerError("refused")
    assert pg_store.revision() == 0
    assert _sessions(pg_store) == before


def test_a_refusal_that_wrote_nothing_keeps_the_sessions_prepared_statements(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    """A transaction its caller refuses after reads only (a stale ETag's 412) ends without a
    ROLLBACK, after which the driver forgets the session's prepared statements and the next
    transactions' statements were all planned again; one that wrote is rolled back."""

    def prepared() -> int:
        with pg_store.transaction() as tx:
            row = tx._cur.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        return int(row[0]) if row else 0

    for _ in range(6):  # the driver prepares a statement at its fifth use
        assert pg_store.revision() == 0
    before = prepared()
    assert before >= 1
    with pytest.raises(GisPlannerError, match="refused"), pg_store.transaction() as tx:
        tx.revision()
        raise GisPlannerError("refused")
    assert prepared() >= before
    with pytest.raises(GisPlannerError, match="refused"), pg_store.transaction() as tx:
        tx.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
        raise GisPlannerError("refused after a write")
    assert not pg_store.has_layer("sites") and pg_store.revision() == 0


def test_finding_a_layer_is_planned_once_a_session(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    """Every read first finds its layer's relation: planned on each call, that statement was
    the one PostgreSQL planned most under edits."""
    pg_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    with pg_store.transaction() as tx:
        for _ in range(20):  # the driver prepares a statement at its fifth use
            assert tx.has_layer("sites")
        plans = tx._cur.execute(
            "SELECT custom_plans, generic_plans FROM pg_prepared_statements "
            "WHERE statement LIKE '%has_table_privilege%'"
        ).fetchall()
    # PostgreSQL plans a prepared statement for its values five times before it weighs a
    # generic plan.
    assert plans == [(5, 10)]


def _sessions(store: PostGISStore) -> set[int]:
    """The store's sessions (every other one of the database)."""
    with psycopg.connect(store.url, autocommit=True) as con:
        rows = con.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchall()
    return {int(pid) for (pid,) in rows}


def test_a_session_acts_for_one_role_all_its_life(pg_store: PostGISStore) -> None:
    """Transactions of two operators in turn: each role's transactions go to its own session
    (PostgreSQL plans statements on tables with row-level security again whenever the role
    changes), and each acts as its caller."""
    viettel, vnpt = pg_store.acting_for(VIETTEL), pg_store.acting_for(VNPT)
    assert viettel.revision() == 0
    first = _sessions(pg_store)
    assert vnpt.revision() == 0
    both = _sessions(pg_store)
    assert len(first) == 1 and len(both) == 2 and first < both
    for store in (viettel, vnpt, viettel):
        assert store.revision() == 0
    assert _sessions(pg_store) == both


def _started(work: Callable[[], object]) -> tuple[threading.Thread, list[BaseException]]:
    """``work`` running on a thread of its own, and the errors it raised (for the test's)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # handed to the test thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def _set_height(tx: PostGISTransaction, key: dict[str, str], height_m: float) -> None:
    record = tx.read_record("sites", key)
    assert record is not None
    values = {k: v for k, v in record.items() if k != "geometry"} | {"height_m": height_m}
    tx.put_record("sites", values, shapely.geometry.shape(record["geometry"]))


def test_an_edit_in_progress_holds_no_other_writer(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    """The store's revision is counted as a transaction commits: an edit still open (its
    reads, its history, a slow client) does not hold back another operator's edit, and the
    commits count in the order they are made visible."""
    pg_store.write(
        "sites", make_sites([("A", "viettel", 105.9, 20.5), ("B", "vnpt", 105.91, 20.5)])
    )
    revision = pg_store.revision()

    def other() -> None:
        with pg_store.acting_for(VNPT).transaction() as tx:
            _set_height(tx, {"site_id": "B", "operator": "vnpt"}, 41.0)

    with pg_store.acting_for(VIETTEL).transaction() as tx:
        _set_height(tx, {"site_id": "A", "operator": "viettel"}, 42.0)
        thread, errors = _started(other)
        thread.join(timeout=30)
        assert not thread.is_alive(), "the other operator's edit waited for this one"
        assert not errors, errors
        assert pg_store.revision() == revision + 1
    assert pg_store.revision() == revision + 2
    assert pg_store.layer_revisions() == {"sites": revision + 2}
    heights = pg_store.read("sites").set_index("site_id")["height_m"]
    assert heights.to_dict() == {"A": 42.0, "B": 41.0}


def test_an_edit_in_progress_and_a_replacement_of_its_layer_do_not_deadlock(
    pg_store: PostGISStore, make_sites: SiteFactory
) -> None:
    """An admin's import replacing a layer waits for an open edit of one of its rows, and goes
    on once the edit commits: it took the store's revision row before the rows, and the edit
    then waited for it at its commit (PostgreSQL ended the import: "deadlock detected")."""
    pg_store.write(
        "sites", make_sites([("A", "viettel", 105.9, 20.5), ("B", "vnpt", 105.91, 20.5)])
    )
    revision = pg_store.revision()
    with pg_store.acting_for(VIETTEL).transaction() as tx:
        _set_height(tx, {"site_id": "A", "operator": "viettel"}, 42.0)
        thread, errors = _started(
            lambda: pg_store.write("sites", make_sites([("C", "vnpt", 105.92, 20.5)]))
        )
        thread.join(timeout=2)
        assert thread.is_alive(), "the replacement did not wait for the edit's row"
    thread.join(timeout=30)
    assert not thread.is_alive() and not errors, errors
    assert pg_store.revision() == revision + 2
    assert pg_store.read("sites")["site_id"].tolist() == ["C"]


def test_open_store_takes_urls_even_through_a_path(pg_store: PostGISStore) -> None:
    assert isinstance(open_store(pg_store.url), PostGISStore)
    # The CLI's --store and the store setting are paths: "postgresql://" lost a slash there.
    through_path = open_store(Path(pg_store.url))
    assert isinstance(through_path, PostGISStore) and through_path.url == pg_store.url
    assert through_path.revision() == 0


def test_a_database_without_the_schema_says_what_to_do(pg_databases: object) -> None:
    url = pg_databases.url("postgres")  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match="db init"):
        PostGISStore(url).list_layers()
    with pytest.raises(StoreError, match="cannot connect"):
        PostGISStore(url.replace("/postgres?", "/no_such_database?")).revision()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import geopandas as gpd, numpy as np, shapely
    from gis_planner.store import open_store

    store = open_store(sys.argv[1])
    n = 20000
    rng = np.random.default_rng(0)
    frame = gpd.GeoDataFrame(
        {"site_id": [f"K{i}" for i in range(n)], "operator": "vnpt", "tower_type": "lattice",
         "height_m": 30.0},
        geometry=shapely.points(rng.uniform(105.8, 106.1, n), rng.uniform(20.4, 20.7, n)),
        crs="EPSG:4326",
    )
    with store.transaction() as tx:
        tx.write("sites", frame)
        print("written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_writer_killed_before_its_commit_leaves_nothing(
    pg_store: PostGISStore, make_sites: SiteFactory, tmp_path: Path
) -> None:
    pg_store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(script), pg_store.url], capture_output=True,
                          text=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == -signal.SIGKILL and done.stdout.strip() == "written", done.stderr
    assert pg_store.read("sites")["site_id"].tolist() == ["A"]
    assert pg_store.revision() == 1
    pg_store.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]), mode="append")
    assert pg_store.revision() == 2
