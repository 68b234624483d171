"""The stores: round trips of every layer, filters, and atomic writes, on both the GeoPackage
and the PostGIS store (``any_store``); what is the GeoPackage's own, on it alone."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.layers import CORE_LAYERS
from gis_planner.errors import GisPlannerError, LayerValidationError, StoreError, UnknownLayer
from gis_planner.store import GeoPackageStore, LayerStore, PostGISStore, open_store

from .conftest import SiteFactory


def test_stores_satisfy_the_protocol(any_store: LayerStore) -> None:
    assert isinstance(any_store, LayerStore)


@pytest.mark.parametrize("layer", [spec.name for spec in CORE_LAYERS])
def test_round_trip_of_every_layer(
    sample_store: GeoPackageStore, any_store: LayerStore, layer: str
) -> None:
    store = any_store
    original = sample_store.read(layer)
    store.write(layer, original)
    back = store.read(layer)
    pd.testing.assert_frame_equal(
        back.drop(columns="geometry", errors="ignore"),
        original.drop(columns="geometry", errors="ignore"),
    )
    if CATALOGUE[layer].geometry_type:
        assert back.geometry.geom_equals_exact(original.geometry, tolerance=1e-9).all()
        assert back.crs.to_epsg() == 4326
        info = next(i for i in store.list_layers() if i.name == layer)
        assert info.geometry_type == CATALOGUE[layer].geometry_type
        assert info.count == len(original)


def test_file_is_a_geopackage_with_spatial_index(sample_store: GeoPackageStore) -> None:
    with sqlite3.connect(sample_store.path) as con:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        contents = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    assert app_id == 0x47504B47  # "GPKG"
    assert {"rtree_sites_geom", "rtree_villages_geom"} <= tables
    assert contents["admin_crosswalk"] == "attributes"
    assert pyogrio.read_info(sample_store.path, layer="sites")["capabilities"][
        "fast_spatial_filter"
    ]


def test_bbox_filter_and_columns(any_sample_store: LayerStore) -> None:
    sample_store = any_sample_store
    phu_ly = (105.88, 20.50, 105.96, 20.58)
    inside = sample_store.read("sites", bbox=phu_ly)
    everything = sample_store.read("sites")
    assert 0 < len(inside) < len(everything)
    assert inside.geometry.x.between(phu_ly[0], phu_ly[2]).all()

    viettel = sample_store.read("sites", filters={"operator": "viettel", "status": ["on-air"]})
    expected = everything[
        (everything["operator"] == "viettel") & (everything["status"] == "on-air")
    ]
    assert sorted(viettel["site_id"]) == sorted(expected["site_id"])

    slim = sample_store.read("cells", columns=["cell_id", "technology"])
    assert list(slim.columns) == ["cell_id", "technology", "geometry"]


def test_filter_on_missing_values_and_quotes(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    store = any_store
    frame = make_sites(
        [("A", "viettel", 105.9, 20.5), ("B", "vnpt", 105.91, 20.5)],
        structure_id=["O'Brien", None],
    )
    store.write("sites", frame)
    assert store.read("sites", filters={"structure_id": "O'Brien"})["site_id"].tolist() == ["A"]
    assert store.read("sites", filters={"structure_id": [None]})["site_id"].tolist() == ["B"]


def test_bad_reads_name_the_problem(any_sample_store: LayerStore) -> None:
    sample_store = any_sample_store
    with pytest.raises(UnknownLayer, match="towers"):
        sample_store.read("towers")
    with pytest.raises(GisPlannerError, match="no field 'colour'"):
        sample_store.read("sites", filters={"colour": "red"})
    with pytest.raises(GisPlannerError, match="colour"):
        sample_store.read("sites", columns=["colour"])


def test_append_checks_keys_against_stored_rows(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    store = any_store
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    store.write("sites", make_sites([("B", "vnpt", 105.91, 20.5)]), mode="append")
    assert sorted(store.read("sites")["site_id"]) == ["A", "B"]
    with pytest.raises(LayerValidationError, match="already in layer"):
        store.write(
            "sites",
            make_sites([("C", "vnpt", 105.9, 20.5), ("B", "vnpt", 105.9, 20.5)]),
            mode="append",
        )
    assert sorted(store.read("sites")["site_id"]) == ["A", "B"], "a refused append writes nothing"
    # Ids are each operator's own: another operator's "A" is another site.
    store.write("sites", make_sites([("A", "vnpt", 105.92, 20.5)]), mode="append")
    assert sorted(store.read("sites")["operator"]) == ["viettel", "vnpt", "vnpt"]


def test_append_to_a_scoped_layer_checks_its_own_keys(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    any_store.write("sites__x", make_sites([("A", "viettel", 105.9, 20.5)]))
    any_store.write("sites__x", make_sites([("B", "viettel", 105.9, 20.5)]), mode="append")
    with pytest.raises(LayerValidationError, match="already in layer 'sites__x'"):
        any_store.write("sites__x", make_sites([("A", "viettel", 105.9, 20.5)]), mode="append")
    assert any_store.read("sites__x")["site_id"].tolist() == ["A", "B"]


def test_invalid_frame_is_refused_and_store_unchanged(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    store = any_store
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    before, revision = store.read("sites"), store.revision()
    with pytest.raises(LayerValidationError):
        store.write("sites", make_sites([("B", "orange", 105.9, 20.5)]))
    pd.testing.assert_frame_equal(store.read("sites"), before)
    assert store.revision() == revision


def test_invalid_frame_leaves_the_geopackage_file_unchanged(
    store: GeoPackageStore, make_sites: SiteFactory
) -> None:
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    before = store.path.read_bytes()
    with pytest.raises(LayerValidationError):
        store.write("sites", make_sites([("B", "orange", 105.9, 20.5)]))
    assert store.path.read_bytes() == before


def test_metadata_and_delete(any_store: LayerStore, make_sites: SiteFactory) -> None:
    store = any_store
    store.write(
        "sites", make_sites([("A", "viettel", 105.9, 20.5)]), metadata={"source_file": "a.csv"}
    )
    meta = store.metadata("sites")
    assert meta["source_file"] == "a.csv" and meta["rows"] == 1 and meta["written_at"]
    store.delete("sites")
    assert not store.has_layer("sites")
    with pytest.raises(UnknownLayer):
        store.delete("sites")
    store.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
    assert store.read("sites")["site_id"].tolist() == ["B"]


def test_a_deleted_layer_leaves_a_valid_geopackage(
    store: GeoPackageStore, make_sites: SiteFactory
) -> None:
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    store.delete("sites")
    # The file stays a valid GeoPackage that GDAL opens.
    store.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
    assert [str(n) for n, _ in pyogrio.list_layers(store.path)].count("sites") == 1


def test_layers_written_by_another_program_are_seen(
    store: GeoPackageStore, make_sites: SiteFactory
) -> None:
    """The store lists a file's layers once for each state of the file: a layer another store
    or program writes (in place, as QGIS does) or removes is seen at the next read."""
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    assert store.has_layer("sites") and not store.has_layer("notes")
    other = GeoPackageStore(store.path)
    other.write("sites__copy", store.read("sites"))
    assert store.has_layer("sites__copy")
    notes = pd.DataFrame({"note": ["Thôn Đông"]})
    pyogrio.write_dataframe(notes, store.path, layer="notes", driver="GPKG", append=False)
    assert store.has_layer("notes")
    other.delete("sites__copy")
    assert not store.has_layer("sites__copy")
    assert store.read("notes")["note"].tolist() == ["Thôn Đông"]
    # Dropped in place at once: the file keeps its size, and maybe its time.
    with closing(sqlite3.connect(store.path)) as con, con:
        con.execute('DROP TABLE "notes"')
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'notes'")
    assert not store.has_layer("notes")


def test_transaction_commits_together_or_not_at_all(
    any_store: LayerStore, make_sites: SiteFactory
) -> None:
    store = any_store
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    before, revision = store.read("sites"), store.revision()
    with pytest.raises(RuntimeError, match="midway"), store.transaction() as tx:
        tx.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
        assert tx.read("sites")["site_id"].tolist() == ["B"]
        raise RuntimeError("failure midway")
    pd.testing.assert_frame_equal(store.read("sites"), before)
    assert store.revision() == revision

    with store.transaction() as tx:
        tx.write("sites", make_sites([("C", "mobifone", 105.9, 20.5)]))
        assert store.read("sites")["site_id"].tolist() == ["A"], "readers see only commits"
    assert store.read("sites")["site_id"].tolist() == ["C"]


def test_a_failed_transaction_leaves_the_geopackage_file_and_no_copy(
    store: GeoPackageStore, make_sites: SiteFactory
) -> None:
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    before = store.path.read_bytes()
    with pytest.raises(RuntimeError, match="midway"), store.transaction() as tx:
        tx.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
        raise RuntimeError("failure midway")
    assert store.path.read_bytes() == before
    assert not list(store.path.parent.glob(".store.*"))


def test_every_commit_increments_the_revision(
    sample_store: GeoPackageStore, any_store: LayerStore, make_sites: SiteFactory
) -> None:
    store = any_store
    crosswalk = sample_store.read("admin_crosswalk")
    assert store.revision() == 0
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    assert store.revision() == 1
    # the same rows again, in the same second: a new revision all the same
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    assert store.revision() == 2
    with store.transaction() as tx:  # one commit, one revision, however many changes
        tx.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
        tx.write("admin_crosswalk", crosswalk)
        assert store.revision() == 2, "readers see only commits"
    assert store.revision() == 3
    with pytest.raises(RuntimeError, match="midway"), store.transaction() as tx:
        tx.delete("sites")
        raise RuntimeError("failure midway")
    assert store.revision() == 3
    store.write("sites", make_sites([("C", "vnpt", 105.9, 20.5)]))
    # each layer knows the commit that last wrote it
    assert {i.name: i.revision for i in store.list_layers()} == {"admin_crosswalk": 3, "sites": 4}
    store.delete("admin_crosswalk")
    assert store.revision() == 5
    assert {i.name: i.revision for i in store.list_layers()} == {"sites": 4}


def test_the_revision_is_a_table_of_the_geopackage(
    store: GeoPackageStore, make_sites: SiteFactory
) -> None:
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    # the revision is the store's own table, not a layer, in a file GDAL still opens
    assert "gis_planner_revision" in {str(n) for n, _ in pyogrio.list_layers(store.path)}


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import geopandas as gpd, numpy as np, shapely
    from gis_planner.store import GeoPackageStore

    store = GeoPackageStore(sys.argv[1])
    n = int(sys.argv[3])
    rng = np.random.default_rng(0)
    frame = gpd.GeoDataFrame(
        {"site_id": [f"K{i}" for i in range(n)], "operator": "vnpt", "tower_type": "lattice",
         "height_m": 30.0},
        geometry=shapely.points(rng.uniform(105.8, 106.1, n), rng.uniform(20.4, 20.7, n)),
        crs="EPSG:4326",
    )
    with store.transaction() as tx:
        print("writing", flush=True)
        tx.write("sites", frame)
        if sys.argv[2] == "after-write":
            os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.parametrize("moment", ["after-write", "during-write"])
def test_kill_midway_leaves_store_unchanged(
    store: GeoPackageStore, make_sites: SiteFactory, tmp_path: Path, moment: str
) -> None:
    store.write("sites", make_sites([("A", "viettel", 105.9, 20.5)]))
    before = store.path.read_bytes()
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    rows = "2000" if moment == "after-write" else "400000"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(store.path), moment, rows],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    if moment == "during-write":
        time.sleep(0.3)  # the 400,000-row write takes seconds: kill it inside pyogrio
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert store.path.read_bytes() == before
    assert store.read("sites")["site_id"].tolist() == ["A"]
    # The next writer sweeps the dead writer's working copy away.
    assert list(store.path.parent.glob(".store.*.tmp.gpkg*"))
    store.write("sites", make_sites([("B", "vnpt", 105.9, 20.5)]))
    assert not list(store.path.parent.glob(".store.*.tmp.gpkg*"))


def test_open_store_dispatch(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "x.gpkg"), GeoPackageStore)
    with pytest.raises(StoreError, match=r"\.gpkg"):
        open_store(tmp_path / "x.sqlite")
    for url in ("postgresql://localhost/planner", "postgres://localhost/planner"):
        assert isinstance(open_store(url), PostGISStore)


def test_layers_carry_descriptions_and_qgis_styles(sample_store: GeoPackageStore) -> None:
    with closing(sqlite3.connect(f"{sample_store.path.as_uri()}?mode=ro", uri=True)) as con:
        described = dict(con.execute("SELECT table_name, description FROM gpkg_contents"))
        styles = {
            table: (column, qml, default)
            for table, column, qml, default in con.execute(
                "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
            )
        }
    spatial = [i.name for i in sample_store.list_layers() if i.geometry_type]
    assert spatial and set(styles) == set(spatial)
    assert described["sites"].startswith("Trạm BTS")
    for name in spatial:
        column, qml, default = styles[name]
        assert column == "geom" and default == 1
        root = ET.fromstring(qml.split("\n", 1)[1])
        assert root.find("renderer-v2/symbols/symbol/layer") is not None
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        assert aliases and all(aliases.values())
    # a deleted layer takes its style with it
    copy = GeoPackageStore(sample_store.path.with_name("styled_copy.gpkg"))
    copy.write("priority_areas", sample_store.read("priority_areas"))
    copy.delete("priority_areas")
    with closing(sqlite3.connect(copy.path)) as con:
        assert con.execute("SELECT count(*) FROM layer_styles").fetchone() == (0,)
