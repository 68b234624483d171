"""One row at a time on both stores (``RowWriter``): write, delete, the audit history, and
each edit counted as a commit of the store."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from gis_planner.errors import LayerValidationError
from gis_planner.store import LayerStore
from gis_planner.store.base import Change, RowWriter


def _site(site_id: str, operator: str = "viettel", **fields: object) -> gpd.GeoDataFrame:
    row = {"site_id": site_id, "operator": operator, "tower_type": "monopole", "height_m": 30.0}
    return gpd.GeoDataFrame([{**row, **fields}], geometry=[Point(105.92, 20.54)], crs="EPSG:4326")


def test_rows_are_put_and_deleted_one_at_a_time(any_store: LayerStore) -> None:
    any_store.write("sites", _site("A"))
    revision = any_store.revision()
    with any_store.transaction() as tx:
        assert isinstance(tx, RowWriter)
        written = tx.put_row("sites", _site("A", height_m=45.0))
        assert written.height_m.iloc[0] == 45.0
        tx.put_row("sites", _site("B"))
        assert len(tx.read_row("sites", {"site_id": "A", "operator": "viettel"})) == 1
    sites = any_store.read("sites").sort_values("site_id")
    assert list(sites.site_id) == ["A", "B"] and list(sites.height_m) == [45.0, 30.0]
    assert any_store.revision() > revision
    assert any_store.layer_revisions()["sites"] == any_store.revision()
    with any_store.transaction() as tx:
        assert isinstance(tx, RowWriter)
        assert tx.delete_row("sites", {"site_id": "B", "operator": "viettel"}) == 1
        assert tx.delete_row("sites", {"site_id": "B", "operator": "viettel"}) == 0
    assert list(any_store.read("sites").site_id) == ["A"]


def test_a_bad_row_is_refused_and_nothing_changes(any_store: LayerStore) -> None:
    any_store.write("sites", _site("A"))
    with pytest.raises(LayerValidationError), any_store.transaction() as tx:
        assert isinstance(tx, RowWriter)
        tx.delete_row("sites", {"site_id": "A", "operator": "viettel"})
        tx.put_row("sites", _site("A", height_m=900.0))
    assert list(any_store.read("sites").height_m) == [30.0]


def test_the_history_is_kept_in_the_store(any_store: LayerStore) -> None:
    any_store.write("sites", _site("A"))
    change = Change("sites", "A:viettel", "update", "Viettel", "operator", "viettel",
                    {"height_m": 30.0}, {"height_m": 45.0})  # fmt: skip
    with any_store.transaction() as tx:
        assert isinstance(tx, RowWriter)
        history = tx.changes(limit=10_000)  # a store of another test may have some already
        first = tx.record_change(change)
        second = tx.record_change(Change(**{**change.__dict__, "action": "undo", "undoes": first}))
    assert second > first
    with any_store.transaction() as tx:
        assert isinstance(tx, RowWriter)
        newest = tx.changes(limit=2)
        assert [c.id for c in newest] == [second, first]
        assert newest[1].after == {"height_m": 45.0} and newest[0].undoes == first
        assert tx.changes(change_id=first)[0].who == "Viettel"
        assert tx.changes(layer="cells", limit=1000) == [c for c in history if c.layer == "cells"]
    # The history is none of the store's layers.
    assert [info.name for info in any_store.list_layers()] == ["sites"]
