"""Consolidation plans on hand-built districts and on the sample."""

from __future__ import annotations

import pandas as pd
import pytest

from gis_planner.consolidation import ConsolidationPlan, consolidation_plan, moves_needed
from gis_planner.sharing import place_positions, positions, sharing_ratios
from gis_planner.store import GeoPackageStore

from .conftest import SiteFactory
from .test_sharing import admin_square, at


def plan_for(
    make_sites: SiteFactory, rows: list[tuple[str, str, float, float]], **kw: object
) -> ConsolidationPlan:
    sites = at(make_sites, rows, **kw)
    return consolidation_plan(place_positions(positions(sites), admin_square()))


def test_lower_bound() -> None:
    assert moves_needed(5, 0, 0.25) == 1  # (1.25 - 0) / 1.25
    assert moves_needed(5, 0, 0.30) == 2  # 1.5 / 1.3 → 2
    assert moves_needed(10, 3, 0.25) == 0
    assert moves_needed(100, 19, 0.25) == 5  # 6 / 1.25 = 4.8 → 5: 24 / 95 = 0.2526


def test_merges_shortest_pairs_first(make_sites: SiteFactory) -> None:
    plan = plan_for(
        make_sites,
        [
            ("V1", "viettel", 100, 0),
            ("N1", "vnpt", 250, 0),  # 150 m from V1
            ("M1", "mobifone", 2_000, 0),
            ("V2", "viettel", 2_100, 0),  # 100 m from M1
            ("N2", "vnpt", 4_000, 0),  # nobody within reach
        ],
        height_m=[30.0, 40.0, 30.0, 20.0, 30.0],
    )
    summary = plan.summary.iloc[0]
    assert (summary["positions"], summary["shared_positions"]) == (5, 0)
    assert summary["moves_low"] == summary["moves_lower_bound_low"] == 1
    assert summary["moves_high"] == summary["moves_lower_bound_high"] == 2
    assert summary["ratio_after_plan"] == pytest.approx(2 / 3)
    moves = plan.moves
    assert moves["kind"].tolist() == ["merge", "merge"]
    # The shorter pair first; the site on the lower structure moves to the taller one.
    assert moves["from_sites"].tolist() == ["V2", "V1"]
    assert moves["to_operators"].tolist() == ["mobifone", "vnpt"]
    assert moves["distance_m"].round(1).tolist() == [100.0, 150.0]
    assert moves["for_low"].tolist() == [True, False]
    assert moves["ratio_after"].tolist() == pytest.approx([1 / 4, 2 / 3])


def test_joins_a_shared_position_when_no_pair_is_left(make_sites: SiteFactory) -> None:
    plan = plan_for(
        make_sites,
        [
            ("V1", "viettel", 100, 0),
            ("N1", "vnpt", 105, 0),  # shared position, lattice: room for two more
            ("M1", "mobifone", 300, 0),  # single, only a shared position nearby
            ("V2", "viettel", 3_000, 0),
            ("V3", "viettel", 3_100, 0),  # same operator: no merge
        ],
    )
    summary = plan.summary.iloc[0]
    assert summary["ratio_now"] == pytest.approx(1 / 4)
    assert summary["moves_low"] == 0
    assert summary["moves_high"] == 1
    assert plan.moves["kind"].tolist() == ["join"]
    assert plan.moves["to_operators"].tolist() == ["viettel,vnpt"]


def test_unreachable_mark_is_reported(make_sites: SiteFactory) -> None:
    plan = plan_for(make_sites, [("V1", "viettel", 100, 0), ("N1", "vnpt", 3_000, 0)])
    summary = plan.summary.iloc[0]
    assert summary["moves_lower_bound_low"] == 1
    assert pd.isna(summary["moves_low"])
    assert plan.moves.empty


def test_sample_plan_reaches_the_marks_by_district(sample_store: GeoPackageStore) -> None:
    sites, admin = sample_store.read("sites"), sample_store.read("admin_units")
    placed = place_positions(positions(sites), admin)
    plan = consolidation_plan(placed)
    summary = plan.summary.set_index("area_code")
    ratios = sharing_ratios(sites, admin).query("scope == 'district'").set_index("code")
    assert summary["positions"].to_dict() == ratios["positions"].to_dict()
    reached = summary[summary["moves_low"].notna()]
    assert len(reached) >= 4
    # Where the plan reaches a mark it does so with the fewest possible moves.
    assert (reached["moves_low"] == reached["moves_lower_bound_low"]).all()
    for code, group in plan.moves.groupby("area_code"):
        assert group["ratio_after"].is_monotonic_increasing
        assert group["distance_m"].max() <= 500.0
        assert code in summary.index


def test_a_site_never_joins_a_position_its_operator_is_on(make_sites: SiteFactory) -> None:
    plan = plan_for(
        make_sites,
        [
            ("V1", "viettel", 100, 0),
            ("N1", "vnpt", 105, 0),  # shared position with room
            ("N2", "vnpt", 300, 0),  # VNPT again: it may not move onto its own operator
            ("V2", "viettel", 3_000, 0),
            ("V3", "viettel", 3_100, 0),
        ],
    )
    assert plan.moves.empty
    assert pd.isna(plan.summary.iloc[0]["moves_high"])
