"""The whole-province sample: real 2025 communes, nested pre-2025 ones, three calibrated parts."""

from __future__ import annotations

import filecmp
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from gis_planner.admin import units
from gis_planner.cli import app
from gis_planner.crs import metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.indicators import NO_PLAN, IndicatorInputs, indicators
from gis_planner.positions_product import read_positions
from gis_planner.report import render_report
from gis_planner.sample import bundled_sample_dir, load_sample, sample_files
from gis_planner.settings import SAMPLE_DIRS, Settings
from gis_planner.sharing import cluster_positions
from gis_planner.store import GeoPackageStore
from layers.build_sample import SAMPLES, build_layers, write_layers
from layers.hanam_sample.part import HANAM
from layers.ninhbinh_sample.parts import NAM_DINH, NINH_BINH
from layers.synthetic.radio import NEAR_MISS_PAIRS

from .conftest import SAMPLE_DIR

NINHBINH_DIR = SAMPLE_DIR.parent / "ninhbinh"
SOURCES = SAMPLE_DIR.parent / "sources"
PARTS = (HANAM, NAM_DINH, NINH_BINH)
#: Nesting tolerance: the outlines are written on a 1e-6° grid (about 10 cm), so where two
#: sources' borders run side by side a pre-2025 commune may cross its 2025 commune's or its
#: district's edge in slivers a few centimetres wide: at most a 10 cm strip along its outline.
GRID_M = 0.1


def _outside_within_grid(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether each of ``inner`` lies in ``outer`` but for slivers of the output grid."""
    outside = shapely.area(shapely.difference(inner, outer))
    return bool((outside <= GRID_M * shapely.length(inner)).all())


@pytest.fixture(scope="module")
def nb_store(tmp_path_factory: pytest.TempPathFactory) -> GeoPackageStore:
    store = GeoPackageStore(tmp_path_factory.mktemp("ninhbinh") / "ninhbinh.gpkg")
    load_sample(store, NINHBINH_DIR)
    return store


@pytest.fixture(scope="module")
def admin(nb_store: GeoPackageStore) -> gpd.GeoDataFrame:
    units_ = nb_store.read("admin_units")
    return units_.to_crs(metric_crs_of(units_))


def _part_of(admin: gpd.GeoDataFrame, communes: pd.Series) -> pd.Series:
    """The former province of each pre-2025 commune code."""
    district = communes.map(units(admin, "commune").set_index("code")["parent_code"])
    return district.map(units(admin, "district").set_index("code")["parent_code"])


def test_communes_2025_are_the_official_polygons(admin: gpd.GeoDataFrame) -> None:
    official = gpd.read_file(SOURCES / "ninhbinh_communes_2025-07.geojson")
    official = official.sort_values("code", ignore_index=True)
    stored = units(admin, "commune", "2025-07")
    assert len(stored) == 129
    assert list(stored["code"]) == list(official["code"])
    assert stored["unit_type"].value_counts().to_dict() == {"rural_commune": 97, "ward": 32}
    assert list(stored["name"]) == list(official["fullName"])
    # The catalogue's quality of a published outline (it has no "official").
    assert set(stored["geometry_quality"]) == {"real"}
    official_m = official.to_crs(stored.crs)
    assert shapely.equals(stored.geometry.to_numpy(), official_m.geometry.to_numpy()).all()
    assert np.allclose(stored.area, official_m.area, rtol=0.005)
    # Against the published areaKm2: the store differs exactly where the source's own polygon
    # does (53 coastal and merged communes, listed in layers/SOURCES.md), nowhere else.
    published_m2 = official["areaKm2"].to_numpy() * 1e6
    off = np.abs(stored.area.to_numpy() / published_m2 - 1) > 0.005
    source_off = np.abs(official_m.area.to_numpy() / published_m2 - 1) > 0.005
    assert (off == source_off).all()
    assert off.sum() == 53
    province = units(admin, "province", "2025-07")
    assert province["geometry_quality"].iloc[0] == "real"


def test_pre2025_communes_lie_within_their_2025_communes(
    nb_store: GeoPackageStore, admin: gpd.GeoDataFrame
) -> None:
    old = units(admin, "commune").set_index("code")
    new = units(admin, "commune", "2025-07").set_index("code").geometry
    crosswalk = nb_store.read("admin_crosswalk")
    assert crosswalk["old_code"].nunique() == len(old) == 98 + 175 + 125
    targets = crosswalk.groupby("old_code")["new_code"].agg(list)
    allowed = np.array(
        [shapely.union_all(new[codes].to_numpy()) for codes in targets[old.index]], dtype=object
    )
    assert _outside_within_grid(old.geometry.to_numpy(), allowed)
    # A split commune is divided there: one piece in each of its new communes.
    split = crosswalk[crosswalk["relation"] == "split"]
    assert split["old_code"].nunique() == 6
    pieces = shapely.intersection(
        old.geometry[split["old_code"]].to_numpy(), new[split["new_code"]].to_numpy()
    )
    assert (shapely.area(pieces) > 1_000).all()
    shares = crosswalk.groupby("old_code")["area_share"].sum()
    assert np.allclose(shares, 1.0, atol=2e-3)
    defaults = crosswalk[crosswalk["is_default"]].groupby("old_code").size()
    assert (defaults == 1).all() and len(defaults) == len(old)


def test_pre2025_communes_lie_within_their_districts(admin: gpd.GeoDataFrame) -> None:
    districts = units(admin, "district").set_index("code")
    communes = units(admin, "commune")
    assert set(communes["geometry_quality"]) == {"approximate"}
    parent = districts.geometry[communes["parent_code"]].to_numpy()
    assert _outside_within_grid(communes.geometry.to_numpy(), parent)


def test_districts_reconciled_by_code(admin: gpd.GeoDataFrame) -> None:
    districts = units(admin, "district").set_index("code")
    assert districts.groupby("parent_code").size().to_dict() == {"35": 6, "36": 9, "37": 7}
    assert {"358", "369"}.isdisjoint(districts.index)
    assert districts.loc["356", "name"] == "Thành phố Nam Định"
    assert districts.loc["374", "name"] == "Thành phố Hoa Lư"
    assert "NQ 1104" in districts.loc["356", "source"]
    assert "NQ 1318" in districts.loc["374", "source"]
    assert set(districts["geometry_quality"]) == {"real"}
    communes = units(admin, "commune").set_index("code")
    assert communes.loc["13735", "parent_code"] == "356"  # Xã Mỹ Lộc, of the former Mỹ Lộc
    assert communes.loc["14320", "parent_code"] == "374"  # Phường Đông Thành, Ninh Bình city
    # Each merged unit covers both outlines: Mỹ Lộc's 74 km² are in Nam Định city's.
    assert districts.loc["356"].geometry.area / 1e6 == pytest.approx(121, rel=0.05)


def test_population_by_former_province(nb_store: GeoPackageStore, admin: gpd.GeoDataFrame) -> None:
    villages = nb_store.read("villages")
    part = _part_of(admin, villages["commune_code"])
    people = villages.groupby(part)["population"].sum()
    # Each part's total is its Part's, exactly: Hà Nam the Hà Nam sample's, the others their
    # 2019 census totals.
    assert people.to_dict() == {p.code: p.population for p in PARTS}
    assert people["36"] == 1_780_393 and people["37"] == 982_487
    counts = villages.groupby(part).size()
    for p in PARTS:  # about one village per 800 people
        assert 0.8 * p.population / 800 <= counts[p.code] <= 1.2 * p.population / 800
    provinces = units(admin, "province").set_index("code")
    assert provinces["population"].to_dict() == {p.code: p.population for p in PARTS}
    whole = units(admin, "province", "2025-07")["population"].iloc[0]
    assert whole == sum(p.population for p in PARTS)


def test_hanam_part_keeps_the_hanam_sample_figures(
    sample_store: GeoPackageStore, admin: gpd.GeoDataFrame
) -> None:
    hanam = units(sample_store.read("admin_units"), "commune").set_index("code")["population"]
    whole = units(admin, "commune").set_index("code")["population"]
    pd.testing.assert_series_equal(whole[hanam.index], hanam)


def test_positions_by_former_province(nb_store: GeoPackageStore, admin: gpd.GeoDataFrame) -> None:
    sites = nb_store.read("sites")
    positions = cluster_positions(sites)
    part = sites["site_id"].str.split("-").str[1].map({p.tag: p.code for p in PARTS})
    assert part.notna().all()
    assert 3_700 <= positions.nunique() <= 3_950
    for p in PARTS:
        mine = part == p.code
        drawn = positions[mine]
        # The greedy spacing reaches the Part's count; the near-miss pairs add their own.
        expected = p.positions + NEAR_MISS_PAIRS
        assert 0.97 * expected <= drawn.nunique() <= 1.02 * expected, p.name
        operators = sites[mine].groupby(drawn)["operator"].nunique()
        assert 0.18 <= (operators >= 2).mean() <= 0.20, p.name
    assert set(sites["operator"]) == {"viettel", "vnpt", "mobifone", "vietnamobile"}
    assert sites["source"].str.contains("synthetic").all()
    assert sites["commune_code"].notna().mean() > 0.999


def test_5g_only_in_the_parts_zones(nb_store: GeoPackageStore, admin: gpd.GeoDataFrame) -> None:
    cells = nb_store.read("cells")
    sites = nb_store.read("sites").set_index("site_id")
    district = sites["commune_code"].map(units(admin, "commune").set_index("code")["parent_code"])
    nr = district[cells.loc[cells["technology"] == "5G", "site_id"]]
    zones = {zone.district for p in PARTS for zone in p.nr_zones}
    assert set(nr) == zones == {"347", "353", "356", "374", "370"}


def test_fibre_reaches_every_part(nb_store: GeoPackageStore, admin: gpd.GeoDataFrame) -> None:
    nodes = nb_store.read("fibre_nodes").to_crs(admin.crs)
    provinces = units(admin, "province").set_index("code")
    pops = nodes[nodes["node_type"] == "pop"]
    for p in PARTS:
        inside = pops.within(provinces.geometry[p.code])
        # VNPT and Viettel have a POP at every district seat, FPT in its districts.
        assert inside.sum() == 2 * len(p.seats) + len(p.fpt_districts), p.name


def test_priority_areas_in_their_real_host_communes(
    nb_store: GeoPackageStore, admin: gpd.GeoDataFrame
) -> None:
    areas = nb_store.read("priority_areas").to_crs(admin.crs)
    assert len(areas) == sum(len(p.priority_areas) for p in PARTS) == 62
    hosts = units(admin, "commune").set_index("code").geometry[areas["commune_code"]]
    assert shapely.contains(hosts.to_numpy(), areas.centroid.to_numpy()).all()
    names = set(areas["name"])
    assert {"Quần thể danh thắng Tràng An", "Chùa Bái Đính", "Khu công nghiệp Hòa Xá"} <= names
    assert {"Khu du lịch Tam Cốc – Bích Động", "Chùa Tam Chúc"} <= names
    assert set(areas["category"]) == {
        "provincial_centre", "district_centre", "industrial_zone", "tourism_heritage",
        "state_agency",
    }  # fmt: skip


def test_hanam_plans_judge_the_former_hanam_and_the_province_sums_its_parts(
    nb_store: GeoPackageStore,
) -> None:
    admin_units, crosswalk = nb_store.read("admin_units"), nb_store.read("admin_crosswalk")
    inputs = IndicatorInputs(
        nb_store.read("villages"), admin_units, crosswalk, positions=read_positions(nb_store).table
    )
    table = indicators(inputs)
    sharing = table[table["indicator"] == "bts_position_sharing"].set_index(
        ["admin_version", "code"]
    )
    assert sharing.loc[("pre2025", "35"), "status"] != NO_PLAN
    assert "Hà Nam" in sharing.loc[("pre2025", "35"), "document"]
    for unit in (("pre2025", "36"), ("pre2025", "37"), ("2025-07", "37")):
        assert sharing.loc[unit, "status"] == NO_PLAN, unit
    # The new province's figures are the three former provinces' together.
    parts = sharing.loc[[("pre2025", code) for code in ("35", "36", "37")]]
    for column in ("numerator", "denominator"):
        assert sharing.loc[("2025-07", "37"), column] == parts[column].sum()
    # A 2025 commune is judged by the Hà Nam plans exactly when it was formed from Hà Nam's.
    old = units(admin_units, "commune", "pre2025")
    districts = units(admin_units, "district", "pre2025").set_index("code")["parent_code"]
    hanam = set(old.loc[old["parent_code"].map(districts) == "35", "code"])
    wholly = crosswalk["old_code"].isin(hanam).groupby(crosswalk["new_code"]).all()
    communes = sharing.loc["2025-07"]
    communes = communes[communes["level"] == "commune"]
    judged = communes["status"] != NO_PLAN
    assert judged.to_dict() == wholly.reindex(communes.index).fillna(False).to_dict()
    assert 0 < judged.sum() < len(judged)


def test_the_report_names_the_province_and_reports_on_a_former_one(
    nb_store: GeoPackageStore,
) -> None:
    inputs = IndicatorInputs(
        nb_store.read("villages"),
        nb_store.read("admin_units"),
        nb_store.read("admin_crosswalk"),
        positions=read_positions(nb_store).table,
    )
    html, tables = render_report(inputs)
    assert "Tỉnh Ninh Bình — Tỉnh Hà Nam (cũ), Tỉnh Nam Định (cũ), Tỉnh Ninh Bình (cũ)" in html
    html, tables = render_report(inputs, lang="en", area=("pre2025", "35"))
    assert "<h1>" in html and "Tỉnh Hà Nam (former)" in html
    shown = tables["indicators"]
    provinces = shown[shown["level"] == "province"]
    assert list(zip(provinces["admin_version"], provinces["code"], strict=True)) == [
        ("pre2025", "35")
    ]
    # Only the former Hà Nam's units, and every one of them judged by its plans.
    assert (shown["status"] != "no plan").all()
    with pytest.raises(GisPlannerError, match="no pre2025 administrative unit"):
        render_report(inputs, area=("pre2025", "99"))


def test_sources_document_the_whole_province_sample() -> None:
    text = (SAMPLE_DIR.parent / "SOURCES.md").read_text()
    for name in sample_files(NINHBINH_DIR):
        assert name in text
    for fact in ("1,780,393", "982,487", "852,800", "1104/NQ-UBTVQH15", "1318/NQ-UBTVQH15"):
        assert fact in text


def test_init_chooses_the_bundled_sample(tmp_path: Path) -> None:
    assert Settings().sample == "hanam" and Settings().sample_dir == SAMPLE_DIR
    assert Settings(sample="ninhbinh").sample_dir == NINHBINH_DIR == bundled_sample_dir("ninhbinh")
    assert set(SAMPLE_DIRS) == set(SAMPLES)
    with pytest.raises(GisPlannerError, match="no bundled sample"):
        bundled_sample_dir("hanoi")
    runner = CliRunner()
    store = tmp_path / "hanam.gpkg"
    result = runner.invoke(app, ["init", "--store", str(store)])
    assert result.exit_code == 0, result.output
    communes = units(GeoPackageStore(store).read("admin_units"), "commune")
    assert len(communes) == 98
    both = runner.invoke(
        app, ["init", "--store", str(store), "--sample", "hanam", "--sample-dir", str(tmp_path)]
    )
    assert both.exit_code != 0


@pytest.mark.slow
def test_build_is_the_committed_sample_byte_for_byte(tmp_path: Path) -> None:
    sample = SAMPLES["ninhbinh"]
    written = write_layers(build_layers("ninhbinh"), tmp_path, sample.decimals)
    names = sorted(path.name for path in written)
    assert names == sorted(path.name for path in NINHBINH_DIR.iterdir())
    _match, mismatch, errors = filecmp.cmpfiles(NINHBINH_DIR, tmp_path, names, shallow=False)
    assert not mismatch and not errors
