"""The API's layer cache: what it answers after a write, and what its requests wait for."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from api.access import LayerView
from api.layercache import LayerCache
from gis_planner.store import GeoPackageStore

WAIT_S = 30.0


class HeldStore(GeoPackageStore):
    """A GeoPackage whose reads of ``held`` (a layer, or ``"revision"``) wait for ``release``,
    so that a test can act while the cache is in the middle of a load or a listing."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.held: str | None = None
        self.entered = threading.Event()
        self.release = threading.Event()

    def _hold(self, what: str) -> None:
        if self.held == what:
            self.entered.set()
            assert self.release.wait(WAIT_S)

    def read(self, name: str, **kwargs: Any) -> pd.DataFrame:
        self._hold(name)
        return super().read(name, **kwargs)

    def revision(self) -> int:
        # Held after the read: the caller goes on with the revision from before the hold.
        revision = super().revision()
        self._hold("revision")
        return revision


@pytest.fixture
def held_store(sample_store: GeoPackageStore, tmp_path: Path) -> HeldStore:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    return HeldStore(tmp_path / "hanam.gpkg")


def _in_thread(target: Any) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_refresh_and_other_layers_never_wait_for_a_layer_being_loaded(
    held_store: HeldStore,
) -> None:
    cache = LayerCache(held_store, check_s=3600)
    cache.infos()
    held_store.held = "cells"
    loading = _in_thread(lambda: cache.layer("cells"))
    assert held_store.entered.wait(WAIT_S)
    try:
        # An edit's answer refreshes the cache: it returned at once, not after the reload.
        refreshed = _in_thread(cache.refresh)
        refreshed.join(5)
        assert not refreshed.is_alive(), "refresh waited for the layer being loaded"
        sites = _in_thread(lambda: cache.layer("sites"))
        sites.join(WAIT_S / 2)
        assert not sites.is_alive(), "another layer waited for the layer being loaded"
    finally:
        held_store.release.set()
        loading.join(WAIT_S)
    assert len(cache.layer("cells").frame) == len(held_store.read("cells"))


def test_a_refresh_while_the_store_is_listed_is_not_lost(held_store: HeldStore) -> None:
    cache = LayerCache(held_store, check_s=3600)
    before = cache.info("sites").count
    held_store.held = "revision"
    cache.refresh()
    listing = _in_thread(cache.infos)
    assert held_store.entered.wait(WAIT_S)
    # A write committed and refreshed while the cache is between its revision read and the
    # end of its listing (the revision it read may be the one before the write).
    held_store.held = None
    sites = held_store.read("sites")
    held_store.write("sites", sites.head(len(sites) - 1))
    cache.refresh()
    held_store.release.set()
    listing.join(WAIT_S)
    assert cache.info("sites").count == before - 1
    assert len(cache.layer("sites").frame) == before - 1


def test_records_are_the_views_values_built_for_the_rows_asked(
    sample_store: GeoPackageStore,
) -> None:
    cache = LayerCache(sample_store)
    layer = cache.layer("cells")
    fields = layer.fields
    view = LayerView(fields=fields, masked=("azimuth_deg", "pattern_ref"), mask_except="vnpt")
    rows = np.random.default_rng(1).permutation(len(layer.frame))
    page = layer.records(rows[:50], view)
    every = layer.records(rows, view)
    assert every[:50] == page
    expected = layer.frame.iloc[rows][list(fields)].astype(object)
    expected = expected.where(expected.notna(), None)
    others = expected["operator"] != "vnpt"
    expected.loc[others, ["azimuth_deg", "pattern_ref"]] = None
    # As JSON: the same values of the same (plain Python) types.
    assert json.dumps(every) == json.dumps(expected.to_dict("records"))
    assert {r["operator"] for r in every if r["azimuth_deg"] is not None} == {"vnpt"}
