"""The bundled Hà Nam sample: deterministic build, plausible content, honest sources."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gis_planner.admin import units
from gis_planner.crs import metric_crs_of
from gis_planner.sample import read_sample_layer, sample_files
from gis_planner.settings import SAMPLE_DIRS, get_settings
from gis_planner.sharing import cluster_positions
from gis_planner.store import GeoPackageStore
from layers.build_sample import build_layers, write_layers

from .conftest import SAMPLE_DIR


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    write_layers(build_layers(), first)
    write_layers(build_layers(), second)
    return first, second


def test_build_is_byte_for_byte_deterministic(built: tuple[Path, Path]) -> None:
    first, second = built
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    _match, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert not mismatch and not errors


def test_committed_sample_is_what_the_script_builds(built: tuple[Path, Path]) -> None:
    fresh = sample_files(built[0])
    for name, path in sample_files(SAMPLE_DIR).items():
        committed, rebuilt = read_sample_layer(path), read_sample_layer(fresh[name])
        pd.testing.assert_frame_equal(
            committed.drop(columns="geometry", errors="ignore"),
            rebuilt.drop(columns="geometry", errors="ignore"),
        )
        if "geometry" in committed:
            assert committed.geometry.geom_equals_exact(rebuilt.geometry, tolerance=1e-6).all(), (
                name
            )


def test_the_whole_new_province_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # the suite pins the former Hà Nam (conftest); a user's `init` and store are the province's
    monkeypatch.delenv("GIS_PLANNER_SAMPLE", raising=False)
    monkeypatch.delenv("GIS_PLANNER_STORE", raising=False)
    settings = get_settings()
    assert settings.sample == "ninhbinh"
    assert settings.sample_dir == SAMPLE_DIRS["ninhbinh"]
    assert settings.store == Path("output") / "ninhbinh.gpkg"
    monkeypatch.setenv("GIS_PLANNER_SAMPLE", "hanam")
    assert get_settings().sample_dir == SAMPLE_DIRS["hanam"] == SAMPLE_DIR


def test_admin_units_of_both_versions(sample_store: GeoPackageStore) -> None:
    admin = sample_store.read("admin_units")
    assert len(units(admin, "district")) == 6
    communes = units(admin, "commune")
    assert len(communes) == 98
    assert set(communes["unit_type"]) == {"ward", "rural_commune", "township"}
    assert len(units(admin, "commune", "2025-07")) == 33
    crs = metric_crs_of(admin)
    province = units(admin, "province").to_crs(crs)
    assert province.area.iloc[0] / 1e6 == pytest.approx(862.4, abs=1)
    assert units(admin, "province")["geometry_quality"].iloc[0] == "real"
    assert set(communes["geometry_quality"]) == {"approximate"}
    # Commune cells tile the province: no gaps, no overlaps beyond rounding.
    assert communes.to_crs(crs).area.sum() == pytest.approx(province.area.iloc[0], rel=1e-4)
    assert communes["population"].sum() == units(admin, "province")["population"].iloc[0]
    assert "Phường Lê Hồng Phong" in set(communes["name"])


def test_crosswalk_covers_every_old_commune(sample_store: GeoPackageStore) -> None:
    crosswalk = sample_store.read("admin_crosswalk")
    assert crosswalk["old_code"].nunique() == 98
    shares = crosswalk.groupby("old_code")["area_share"].sum()
    assert np.allclose(shares, 1.0, atol=2e-3)
    defaults = crosswalk[crosswalk["is_default"]].groupby("old_code").size()
    assert (defaults == 1).all() and len(defaults) == 98
    assert crosswalk.loc[crosswalk["old_code"] == "13285", "relation"].eq("split").all()


def test_villages_and_population(sample_store: GeoPackageStore) -> None:
    villages = sample_store.read("villages")
    assert 1_000 <= len(villages) <= 1_200
    assert villages["population"].sum() == pytest.approx(880_000, rel=0.01)
    admin = sample_store.read("admin_units")
    communes = units(admin, "commune").set_index("code")
    assert (villages.groupby("commune_code")["population"].sum() == communes["population"]).all()
    density = villages["population"] / villages.to_crs(metric_crs_of(villages)).area
    urban = villages["village_type"] == "to_dan_pho"
    assert density[urban].median() > density[~urban].median()


def test_sites_positions_and_sharing(sample_store: GeoPackageStore) -> None:
    sites = sample_store.read("sites")
    positions = cluster_positions(sites)
    assert 900 <= positions.nunique() <= 950
    operators = sites.groupby(positions)["operator"].nunique()
    assert 0.18 <= (operators >= 2).mean() <= 0.20
    assert set(sites["operator"]) == {"viettel", "vnpt", "mobifone", "vietnamobile"}
    assert sites["commune_code"].notna().all()
    assert sites["source"].str.contains("synthetic").all()


def test_cells_are_plausible(sample_store: GeoPackageStore) -> None:
    cells = sample_store.read("cells")
    sites = sample_store.read("sites").set_index("site_id")
    assert set(cells["site_id"]) <= set(sites.index)
    assert set(cells["technology"]) == {"2G", "3G", "4G", "5G"}
    nr = cells[cells["technology"] == "5G"]
    assert set(nr["band_mhz"]) == {3500.0}
    admin = sample_store.read("admin_units")
    district = sites["commune_code"].map(units(admin, "commune").set_index("code")["parent_code"])
    assert set(district[nr["site_id"]]) <= {"347", "353"}, "5G only in Phủ Lý and Lý Nhân"
    below_mast = cells["height_m"] <= cells["site_id"].map(sites["height_m"]).to_numpy()
    assert below_mast.all()


def test_fibre_leaves_a_few_villages_out(sample_store: GeoPackageStore) -> None:
    villages = sample_store.read("villages")
    crs = metric_crs_of(villages)
    villages = villages.to_crs(crs)
    nodes = sample_store.read("fibre_nodes", filters={"node_type": ["odf", "splitter"]})
    routes = sample_store.read("fibre_routes")
    near = set()
    for layer in (nodes, routes):
        hits = villages.sindex.query(layer.to_crs(crs).geometry, predicate="dwithin", distance=300)
        near.update(hits[1].tolist())
    left_out = len(villages) - len(near)
    assert 3 <= left_out <= 40
    assert {"pop", "olt", "odf", "splitter"} == set(sample_store.read("fibre_nodes")["node_type"])


def test_priority_areas_have_real_names(sample_store: GeoPackageStore) -> None:
    areas = sample_store.read("priority_areas")
    assert {"Chùa Tam Chúc", "Khu công nghiệp Đồng Văn II", "Khu công nghiệp Châu Sơn"} <= set(
        areas["name"]
    )
    assert set(areas["geometry_quality"]) == {"approximate"}


def test_sources_document_every_bundled_file() -> None:
    text = (SAMPLE_DIR.parent / "SOURCES.md").read_text()
    for source in (SAMPLE_DIR.parent / "sources").iterdir():
        assert source.name in text, f"{source.name} has no licence note in layers/SOURCES.md"
    for name in sample_files(SAMPLE_DIR):
        assert name in text
