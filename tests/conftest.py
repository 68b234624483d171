"""Fixtures: the bundled sample in a store, and factories of small layers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import settings

from gis_planner.sample import load_sample
from gis_planner.settings import REPOSITORY
from gis_planner.store import GeoPackageStore
from tests import second_province, two_provinces

# Property tests check answers, never time: a per-example deadline fails on a loaded machine.
settings.register_profile("gis-planner", deadline=None)
settings.load_profile("gis-planner")

SAMPLE_DIR = REPOSITORY / "layers" / "hanam"
# The suite's default sample is the former Hà Nam, whose known values the tests hold, in this
# process and in the commands and notebook kernels it starts (the whole province has tests
# of its own).
os.environ.setdefault("GIS_PLANNER_SAMPLE", "hanam")

# PostGIS: a private cluster for the session, and the store fixtures of both kinds
# (``any_store``, ``any_sample_store``, ``pg_store``…), in tests/store/cluster.py.
pytest_plugins = ["tests.store.cluster"]


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeoPackageStore]:
    """The bundled sample loaded once per test session; tests must not write to it (checked
    at the end of the session: a write would change what later tests read)."""
    store = GeoPackageStore(tmp_path_factory.mktemp("sample") / "hanam.gpkg")
    load_sample(store, SAMPLE_DIR)
    loaded = store.revision()
    yield store
    assert store.revision() == loaded, "a test wrote to the shared sample store"


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    return GeoPackageStore(tmp_path / "store.gpkg")


SiteFactory = Callable[..., gpd.GeoDataFrame]


@pytest.fixture
def make_sites() -> SiteFactory:
    """Sites from (site_id, operator, lon, lat) tuples, other fields filled plausibly."""

    def make(rows: list[tuple[str, str, float, float]], **columns: object) -> gpd.GeoDataFrame:
        frame = gpd.GeoDataFrame(
            {
                "site_id": [r[0] for r in rows],
                "operator": [r[1] for r in rows],
                "tower_type": "lattice",
                "height_m": 36.0,
                **columns,
            },
            geometry=[shapely.Point(r[2], r[3]) for r in rows],
            crs="EPSG:4326",
        )
        return frame

    return make


@pytest.fixture
def sample_copy(sample_store: GeoPackageStore, tmp_path: Path) -> Path:
    """A writable copy of the sample store's file, for commands that write products."""
    return writable(sample_store, tmp_path).path


@pytest.fixture(scope="session")
def second_store(tmp_path_factory: pytest.TempPathFactory) -> GeoPackageStore:
    """A store of the synthetic province in UTM zone 49 alone; tests must not write to it."""
    store = GeoPackageStore(tmp_path_factory.mktemp("second") / "duyenhai.gpkg")
    with store.transaction() as tx:
        for name, frame in second_province.layers().items():
            tx.write(name, frame)
    return store


@pytest.fixture(scope="session")
def two_province_store(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    """The bundled sample (Hà Nam, zone 48) with the synthetic province of zone 49 added to
    each of its layers; tests must not write to it."""
    path = tmp_path_factory.mktemp("two") / "two.gpkg"
    shutil.copyfile(sample_store.path, path)
    store = GeoPackageStore(path)
    with store.transaction() as tx:
        for name, frame in second_province.layers().items():
            tx.write(name, pd.concat([store.read(name), frame], ignore_index=True))
    return store


@pytest.fixture(scope="session")
def border_store(tmp_path_factory: pytest.TempPathFactory) -> GeoPackageStore:
    """Two provinces on their real border (``tests/two_provinces.py``); tests must not write
    to it (``writable`` gives a copy)."""
    store = GeoPackageStore(tmp_path_factory.mktemp("border") / "border.gpkg")
    with store.transaction() as tx:
        for name, frame in two_provinces.layers().items():
            tx.write(name, frame)
    return store


def writable(store: GeoPackageStore, tmp_path: Path) -> GeoPackageStore:
    """A copy of ``store`` in ``tmp_path``, for jobs that write products."""
    target = tmp_path / store.path.name
    shutil.copyfile(store.path, target)
    return GeoPackageStore(target)
