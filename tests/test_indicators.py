"""Indicators on small hand-built layers, checked by hand, in both administrative versions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.indicators import (
    NO_PLAN,
    IndicatorInputs,
    PlanTargets,
    area_units,
    entered_figures,
    indicators,
    plan_targets,
    status,
    village_places,
)

from .test_sharing import METRIC_CRS, X0, Y0

H = 5_000.0


def box(x0: float, x1: float) -> shapely.Geometry:
    return shapely.box(X0 + x0, Y0 - H, X0 + x1, Y0 + H)


def admin() -> gpd.GeoDataFrame:
    """pre2025: province 90 > district 901 > communes 90101 (east), 90102 (west).
    2025-07: province 91 > communes 91001 (x < 2 km) and 91002 (x ≥ 2 km)."""
    rows = [
        ("90", "Tỉnh Cũ", "province", None, "pre2025", box(-H, H)),
        ("901", "Huyện Cũ", "district", "90", "pre2025", box(-H, H)),
        ("90101", "Xã Đông", "commune", "901", "pre2025", box(0, H)),
        ("90102", "Xã Tây", "commune", "901", "pre2025", box(-H, 0)),
        ("91", "Tỉnh Mới", "province", None, "2025-07", box(-H, H)),
        ("91001", "Xã Hợp Nhất", "commune", "91", "2025-07", box(-H, 2_000)),
        ("91002", "Xã Bờ Sông", "commune", "91", "2025-07", box(2_000, H)),
    ]
    frame = gpd.GeoDataFrame(
        {
            "code": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "level": [r[2] for r in rows],
            "parent_code": [r[3] for r in rows],
            "admin_version": [r[4] for r in rows],
        },
        geometry=[r[5] for r in rows],
        crs=METRIC_CRS,
    )
    return frame.to_crs(WGS84)


CROSSWALK = pd.DataFrame(
    {
        "old_code": ["90101", "90101", "90102"],
        "new_code": ["91001", "91002", "91001"],
        "relation": ["split", "split", "whole"],
        "is_default": [False, True, True],
    }
)


def villages() -> gpd.GeoDataFrame:
    """A (east, x = 1 km), B (east, x = 3 km), C (west, x = −1 km); 100, 200, 300 people."""
    xs = {"A": 1_000, "B": 3_000, "C": -1_000}
    frame = gpd.GeoDataFrame(
        {
            "code": list(xs),
            "commune_code": ["90101", "90101", "90102"],
            "population": [100, 200, 300],
        },
        geometry=[shapely.box(X0 + x - 50, Y0 - 50, X0 + x + 50, Y0 + 50) for x in xs.values()],
        crs=METRIC_CRS,
    )
    return frame.to_crs(WGS84)


def points(xs: list[float]) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        shapely.points(np.array(xs) + X0, np.full(len(xs), Y0)), crs=METRIC_CRS
    ).to_crs(WGS84)


def inputs() -> IndicatorInputs:
    coverage = pd.DataFrame(
        {
            "village_code": ["A", "B", "C"] * 2 + ["A"],
            "technology": ["4G"] * 3 + ["5G"] * 3 + ["4G"],
            "operator": ["any"] * 6 + ["viettel"],
            "population": [100.0, 200.0, 300.0] * 2 + [100.0],
            "covered_population": [100.0, 0.0, 300.0, 100.0, 50.0, 150.0, 0.0],
            "covered": [True, False, True, False, False, False, False],
        }
    )
    ftth = pd.DataFrame({"code": ["A", "B", "C"], "covered": [True, True, False]})
    positions = gpd.GeoDataFrame(
        {"shared": [True, False, True, False]}, geometry=points([1_000, 3_000, -1_000, -2_000])
    )
    priority = gpd.GeoDataFrame(
        {"area_id": ["KCN-1", "DL-1"]},
        geometry=points([1_000, 3_000]).to_crs(METRIC_CRS).buffer(100).to_crs(WGS84),
    )
    areas = pd.DataFrame(
        {
            "level": "priority_area",
            "code": ["KCN-1", "DL-1"],
            "technology": "5G",
            "operator": "any",
            "area_share": [0.97, 0.5],
        }
    )
    return IndicatorInputs(
        villages(), admin(), CROSSWALK, coverage, areas, ftth, positions, priority
    )


def value(table: pd.DataFrame, indicator: str, version: str, code: str) -> float:
    row = table[
        (table["indicator"] == indicator)
        & (table["admin_version"] == version)
        & (table["code"] == code)
    ]
    assert len(row) == 1, (indicator, version, code)
    return float(row["value"].iloc[0])


def test_villages_follow_the_crosswalk_and_their_location() -> None:
    places = village_places(villages(), admin(), CROSSWALK).set_index("village_code")
    # A's old commune is split: A lies in 91001, B in 91002; C's commune moved whole.
    assert places["commune_2025"].to_dict() == {"A": "91001", "B": "91002", "C": "91001"}
    assert places["district_pre2025"].unique().tolist() == ["901"]
    assert places["province_2025"].unique().tolist() == ["91"]


def old_province_plan() -> PlanTargets:
    """The bundled targets, as a plan of the hand-built former province 90."""
    return PlanTargets(plan_targets().table.assign(area_version="pre2025", area_code="90"))


def test_each_indicator_by_hand() -> None:
    table = indicators(inputs(), old_province_plan())
    # Mobile broadband: A and C covered, B not.
    assert value(table, "villages_mobile_broadband", "pre2025", "90") == pytest.approx(200 / 3)
    assert value(table, "villages_mobile_broadband", "pre2025", "90101") == 50.0
    assert value(table, "villages_mobile_broadband", "2025-07", "91001") == 100.0
    assert value(table, "villages_mobile_broadband", "2025-07", "91002") == 0.0
    # 5G population: (100 + 50 + 150) / 600; 91001 holds A and C: 250 / 400.
    assert value(table, "population_5g", "pre2025", "90") == 50.0
    assert value(table, "population_5g", "2025-07", "91001") == 62.5
    assert value(table, "population_5g", "pre2025", "901") == 50.0
    # FTTH: A and B yes, C no.
    assert value(table, "villages_ftth", "pre2025", "90101") == 100.0
    assert value(table, "villages_ftth", "pre2025", "90102") == 0.0
    assert value(table, "villages_ftth", "2025-07", "91") == pytest.approx(200 / 3)
    # Sharing: 2 of 4 positions; in 2025 units 91001 has three positions, two shared.
    assert value(table, "bts_position_sharing", "pre2025", "90") == 50.0
    assert value(table, "bts_position_sharing", "2025-07", "91001") == pytest.approx(200 / 3)
    # Priority areas: KCN-1 is 97 % covered (counts), DL-1 50 % (does not).
    assert value(table, "priority_areas_5g", "pre2025", "90") == 50.0
    assert value(table, "priority_areas_5g", "2025-07", "91002") == 0.0

    province = table[(table["code"] == "90")].set_index("indicator")
    assert province.loc["villages_ftth", "status"] == "not met"
    assert province.loc["bts_position_sharing", "status"] == "met"
    assert province.loc["bts_position_sharing", "target_high"] == 30.0
    assert province.loc["population_5g", "year"] == 2030
    assert table.loc[table["code"] == "90", "name"].iloc[0] == "Tỉnh Cũ"


def test_a_plan_governs_its_area_and_the_communes_formed_from_it() -> None:
    governed = area_units(admin(), CROSSWALK, "pre2025", "90")
    assert governed == {
        ("pre2025", "90"), ("pre2025", "901"), ("pre2025", "90101"), ("pre2025", "90102"),
        ("2025-07", "91001"), ("2025-07", "91002"),
    }  # fmt: skip
    # A plan of one old commune: the new commune that also took from the other is not its.
    assert area_units(admin(), CROSSWALK, "pre2025", "90102") == {("pre2025", "90102")}
    assert area_units(admin(), CROSSWALK, "pre2025", "90101") == {
        ("pre2025", "90101"), ("2025-07", "91002"),
    }  # fmt: skip


def test_units_no_plan_governs_are_not_judged() -> None:
    table = indicators(inputs(), old_province_plan())
    new_province = table[(table["admin_version"] == "2025-07") & (table["code"] == "91")]
    assert len(new_province) and (new_province["status"] == NO_PLAN).all()
    assert new_province["target"].isna().all() and new_province["document"].isna().all()
    judged = table[table["admin_version"] == "pre2025"]
    assert (judged["status"] != NO_PLAN).all() and judged["document"].str.contains("Hà Nam").all()
    # The bundled plans are Hà Nam's: nothing of this made-up province is judged by them.
    assert (indicators(inputs())["status"] == NO_PLAN).all()
    # A plan for the whole store (no area) judges every unit; one for an area wins inside it.
    everywhere = plan_targets().table.assign(area_version=pd.NA, area_code=pd.NA)
    stricter = everywhere[everywhere["key"] == "villages_ftth"].assign(
        target=50.0, area_version="2025-07", area_code="91", document="Kế hoạch tỉnh mới"
    )
    table = indicators(inputs(), PlanTargets(pd.concat([everywhere, stricter])))
    assert (table["status"] != NO_PLAN).all()
    ftth = table[table["indicator"] == "villages_ftth"].set_index(["admin_version", "code"])
    assert ftth.loc[("2025-07", "91"), "target"] == 50.0
    assert ftth.loc[("2025-07", "91"), "status"] == "met"
    assert ftth.loc[("pre2025", "90"), "target"] == 100.0


def test_a_plan_of_an_unknown_version_is_refused(tmp_path: Path) -> None:
    table = plan_targets().table.assign(area_version="1999")
    path = tmp_path / "targets.csv"
    table.to_csv(path, index=False)
    with pytest.raises(GisPlannerError, match="unknown area_version 1999"):
        plan_targets(path)


def test_status_marks() -> None:
    assert status(27.0, 25.0, 30.0) == "in range"
    assert status(31.0, 25.0, 30.0) == "met"
    assert status(24.9, 25.0, 30.0) == "not met"
    assert status(float("nan"), 100.0) == "no data"


def test_targets_are_data_with_their_documents() -> None:
    targets = plan_targets()
    sharing = targets.row("bts_position_sharing")
    assert (sharing["target"], sharing["target_high"], sharing["year"]) == (25, 30, 2025)
    assert "Hà Nam" in sharing["document"]
    assert targets.row("population_5g")["target"] == 99
    assert set(targets.measured["key"]) == {
        "villages_mobile_broadband", "villages_ftth", "bts_position_sharing", "population_5g",
        "priority_areas_5g",
    }  # fmt: skip


def test_entered_figures_are_reported_beside() -> None:
    figures = pd.DataFrame(
        {"key": ["internet_users"], "value": [96.5], "as_of": ["2025-Q3"], "source": ["Sở KH&CN"]}
    )
    table = entered_figures(figures).set_index("key")
    assert table.loc["internet_users", "status"] == "met"
    assert table.loc["fixed_broadband_subscriptions", "status"] == "no data"
    with pytest.raises(GisPlannerError, match="unknown indicators"):
        entered_figures(pd.DataFrame({"key": ["x"], "value": [1], "as_of": [""], "source": [""]}))
