"""Passive infrastructure: zone rules, exclusion buffers and cable shares on hand-made cases
measured in metres, and the job, its command and the site plan's candidates on the sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from gis_planner.catalogue import get_spec, validate
from gis_planner.catalogue.passive import PASSIVE_LAYERS
from gis_planner.cli import app
from gis_planner.jobs import passive
from gis_planner.jobs.passive import PassiveParams, PassiveSpec, permitted_structures
from gis_planner.passive import cable_shares, check, exclusions
from gis_planner.report_studies import passive_section
from gis_planner.siting import siting_candidates
from gis_planner.store import GeoPackageStore

#: UTM 48N, where the hand-made cases are drawn (Hà Nam), in metres from this corner.
UTM = "EPSG:32648"
X0, Y0 = 590_000.0, 2_270_000.0


def _geo(*geometries: shapely.Geometry) -> gpd.GeoSeries:
    moved = [shapely.affinity.translate(g, X0, Y0) for g in geometries]
    return gpd.GeoSeries(moved, crs=UTM).to_crs("EPSG:4326")


def _zones() -> gpd.GeoDataFrame:
    """Z1 (0–1 km): the old quarter, rooftop poles only, no permit; Z2 (1–2 km): monopoles
    and lattice towers up to 35 m, with a permit; Z3 overlaps Z2's east half, every type."""
    return gpd.GeoDataFrame(
        {
            "zone_id": ["Z1", "Z2", "Z3"],
            "name": ["Phố cổ", "Ven đô", "Cụm công nghiệp"],
            "tower_types": [None, "monopole, lattice", None],
            "zone_rule": ["rooftop_only", "no_rule", "no_rule"],
            "max_height_m": [np.nan, 35.0, np.nan],
            "permit_required": [False, True, False],
        },
        geometry=_geo(
            shapely.box(0, 0, 1000, 1000),
            shapely.box(1000, 0, 2000, 1000),
            shapely.box(1500, 0, 2000, 1000),
        ),
    )


def test_zone_rules_decide_with_the_rule_that_decided() -> None:
    points = _geo(
        shapely.Point(500, 500),  # Z1, a lattice tower: rooftop poles only
        shapely.Point(500, 600),  # Z1, a rooftop pole
        shapely.Point(1200, 500),  # Z2, a 30 m monopole: permit
        shapely.Point(1200, 600),  # Z2, a 40 m lattice tower: above the 35 m limit
        shapely.Point(1700, 500),  # Z2 and Z3: the strictest (Z2's permit) decides
        shapely.Point(5000, 5000),  # no zone
    )
    found = check(
        points,
        ["lattice", "rooftop", "monopole", "lattice", "monopole", "guyed"],
        [40.0, 21.0, 30.0, 40.0, 30.0, 36.0],
        _zones(),
        exclusions(None, None, None),
        metric_crs=UTM,
    ).frame(pd.RangeIndex(6))
    assert found["status"].tolist() == [
        "forbidden", "compliant", "permit_needed", "forbidden", "permit_needed", "compliant",
    ]  # fmt: skip
    assert found["rule"].tolist() == [
        "zone_tower_type", "zone_allows", "zone_permit", "zone_height", "zone_permit",
        "outside_zones",
    ]  # fmt: skip
    assert found["zone_id"].tolist()[:5] == ["Z1", "Z1", "Z2", "Z2", "Z2"]
    assert found.loc[0, "rule_vi"] == (
        "Vùng Phố cổ: không cho phép Cột tự đứng (cho phép: Cột trên nóc nhà)"
    )
    assert found.loc[0, "rule_en"] == "Zone Phố cổ: Lattice tower not allowed (allowed: Rooftop)"
    assert found.loc[3, "rule_en"] == "Zone Ven đô: 40 m tall, above the 35 m limit"
    assert found.loc[2, "rule_vi"] == "Vùng Ven đô: phải xin giấy phép xây dựng"


def test_exclusion_buffers_are_measured_in_metres() -> None:
    # A heritage point with a 100 m buffer at (3000, 3000); a military area 400 m square at
    # (4000, 0) with 200 m. Sites 80 m and 120 m east of the point, 150 m and 250 m from the
    # military area's edge, and one inside Z1 next to the point's buffer.
    points_layer = gpd.GeoDataFrame(
        {"area_id": ["E1"], "name": ["Đình Thượng"], "kind": ["heritage_site"],
         "buffer_m": [100.0]},
        geometry=_geo(shapely.Point(3000, 3000)),
    )  # fmt: skip
    military = gpd.GeoDataFrame(
        {"area_id": ["M1"], "name": ["Doanh trại"], "buffer_m": [200.0]},
        geometry=_geo(shapely.box(4000, 0, 4400, 400)),
    )
    excluded = exclusions(None, points_layer, military)
    sites = _geo(
        shapely.Point(3080, 3000),
        shapely.Point(3120, 3000),
        shapely.Point(4550, 200),
        shapely.Point(4650, 200),
    )
    found = check(sites, ["monopole"] * 4, [30.0] * 4, _zones(), excluded, metric_crs=UTM).frame(
        pd.RangeIndex(4)
    )
    assert found["status"].tolist() == ["forbidden", "compliant", "forbidden", "compliant"]
    assert found["rule"].tolist() == ["exclusion", "outside_zones", "military", "outside_zones"]
    assert found.loc[0, "exclusion_id"] == "E1"
    assert found.loc[0, "rule_en"] == (
        "Inside the exclusion area Đình Thượng (Heritage site, 100 m buffer)"
    )
    # the military area's name is not public: the text does not give it
    assert found.loc[2, "rule_vi"] == "Trong khu vực quân sự (vùng đệm 200 m)"
    assert "Doanh trại" not in found.loc[2, "rule_en"]


def test_an_exclusion_comes_before_a_zone_rule_of_the_same_severity() -> None:
    area = gpd.GeoDataFrame(
        {"area_id": ["H1"], "name": ["Chùa"], "kind": ["heritage_site"], "buffer_m": [0.0]},
        geometry=_geo(shapely.box(100, 100, 300, 300)),
    )
    found = check(
        _geo(shapely.Point(200, 200)),
        ["lattice"],
        [40.0],
        _zones(),
        exclusions(area, None, None),
        metric_crs=UTM,
    )
    assert (found.status[0], found.rule[0], found.exclusion_id[0]) == (
        "forbidden", "exclusion", "H1",
    )  # fmt: skip


def test_underground_share_by_commune() -> None:
    communes = gpd.GeoDataFrame(
        {"code": ["A", "B"]},
        geometry=_geo(shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)),
    )
    routes = gpd.GeoDataFrame(
        {"laying": ["aerial", "underground", "aerial"]},
        geometry=_geo(
            shapely.LineString([(100, 500), (900, 500)]),  # 800 m aerial in A
            shapely.LineString([(500, 200), (1500, 200)]),  # 500 m underground in A, 500 in B
            shapely.LineString([(1200, 800), (1800, 800)]),  # 600 m aerial in B
        ),
    )
    ducts = gpd.GeoDataFrame(geometry=_geo(shapely.LineString([(1100, 100), (1400, 100)])))
    table = cable_shares(routes, communes, ducts, metric_crs=UTM, target_share=0.4)
    rows = table.set_index("code")
    assert rows.loc["A", ["aerial_m", "underground_m", "total_m"]].tolist() == pytest.approx(
        [800.0, 500.0, 1300.0], abs=0.01
    )
    assert rows.loc["A", "underground_share"] == pytest.approx(500 / 1300)
    assert rows.loc["B", "underground_share"] == pytest.approx(500 / 1100)
    assert rows.loc["B", "duct_m"] == pytest.approx(300.0, abs=0.01)
    assert rows.loc["all", "underground_share"] == pytest.approx(1000 / 2400)
    assert rows["meets_target"].tolist() == [True, False, True]
    # without a goal, nothing is judged
    assert cable_shares(routes, communes, metric_crs=UTM)["meets_target"].isna().all()


def test_a_zone_lists_only_tower_types() -> None:
    zones = _zones().assign(tower_types=["rooftop", "monopole,pylon", None])
    problems = validate(zones, get_spec("planning_zones")).problems
    assert problems[["row", "field", "reason"]].values.tolist() == [
        [1, "tower_types", "not_allowed"]
    ]


@pytest.fixture(scope="module")
def studied(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A copy of the sample after the job (goal 30 %), and its workbook."""
    target = tmp_path_factory.mktemp("passive") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    _, workbook = passive.run(
        PassiveSpec(PassiveParams(underground_target=0.3)), GeoPackageStore(target), target.parent
    )
    return target, workbook


def test_the_job_registers_its_products_with_their_assumptions(studied: tuple[Path, Path]) -> None:
    path, workbook = studied
    store = GeoPackageStore(path)
    records = {r.layer: r for r in store.products() if r.job == "passive"}
    assert set(records) == {spec.name for spec in PASSIVE_LAYERS}
    for record in records.values():
        assert record.parameters["underground_target"] == 0.3
        assert record.parameters["new_build_tower_type"] == "monopole"
        assert record.parameters["structure_tower_types"]["public_rooftop"] == "rooftop"
        assert {"planning_zones", "military_areas", "sites", "fibre_routes"} <= set(record.inputs)
    checks = store.read("site_compliance")
    assert len(checks) == len(store.read("sites"))  # no study has proposed towers yet
    assert set(checks["status"]) == {"compliant", "permit_needed", "forbidden"}
    assert checks["rule_vi"].notna().all() and checks["rule_en"].notna().all()
    hosts = store.read("passive_hosts")
    assert len(hosts) == len(store.read("host_structures"))
    cables = store.read("cable_shares")
    assert (cables["target_share"] == 0.3).all()
    assert workbook.exists()
    section = passive_section(store, "en")
    assert section is not None and section.tables[0].rows[0][0] == "Existing sites"


def test_the_site_plan_offers_the_structures_the_plan_allows(studied: tuple[Path, Path]) -> None:
    store = GeoPackageStore(studied[0])
    allowed = permitted_structures(store)
    every = store.read("host_structures")
    assert allowed is not None and 0 < len(allowed) < len(every)
    hosts = store.read("passive_hosts")
    forbidden = set(hosts.loc[hosts["status"] == "forbidden", "candidate_id"])
    assert forbidden and not forbidden & set("S" + allowed["structure_id"])
    empty = gpd.GeoDataFrame({"code": []}, geometry=[], crs="EPSG:4326")
    positions = gpd.GeoDataFrame(
        {"position_id": [], "operators": [], "height_m": [], "capacity": [], "tenants": []},
        geometry=[],
        crs="EPSG:4326",
    )
    candidates = siting_candidates(positions, empty, "viettel", structures=allowed, metric_crs=UTM)
    assert (candidates["kind"] == "structure").sum() == len(allowed)
    assert candidates["cost"].eq(0.4).all()


def test_the_command_on_the_sample(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    studied = tmp_path / "hanam.gpkg"
    shutil.copyfile(sample_store.path, studied)
    args = ["passive", "--store", str(studied), "--out", str(tmp_path), "--lang", "en"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "no under-grounding goal" in result.output
    checks = GeoPackageStore(studied).read("site_compliance")
    counts = checks[checks["subject"] == "site"]["status"].value_counts()
    row = next(line for line in result.output.splitlines() if "existing sites" in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells[1:] == [f"{counts[s]:,}" for s in ("compliant", "permit_needed", "forbidden")]
    result = CliRunner().invoke(app, [*args, "--new-build-tower-type", "pylon"])
    assert result.exit_code == 2 and "monopole" in result.output


def test_without_the_plan_s_layers_the_command_says_so(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    target = tmp_path / "bare.gpkg"
    shutil.copyfile(sample_store.path, target)
    store = GeoPackageStore(target)
    for name in ("planning_zones", "exclusion_areas", "exclusion_points", "military_areas"):
        store.delete(name)
    args = ["passive", "--store", str(target), "--lang", "en"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "planning_zones" in result.output
