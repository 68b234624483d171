"""The 2G/3G switch-off study: statuses on a hand-made case, and the job on the sample after
the real coverage job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.errors import GisPlannerError
from gis_planner.jobs import coverage, switchoff
from gis_planner.jobs.coverage import CoverageSpec
from gis_planner.jobs.switchoff import SwitchOffSpec
from gis_planner.store import GeoPackageStore
from gis_planner.switchoff import CIRCUIT_VOICE, SwitchOff, commune_impact, village_impact

#: village → commune, population, and per operator the technologies covering it.
CASE = {
    "A": ("C1", 100, {"x": {"2G"}, "y": {"4G"}}),  # x leaves, y stays: other operator only
    "B": ("C1", 200, {"x": {"2G"}}),  # nobody left
    "C": ("C1", 300, {"x": {"2G", "4G"}}),  # only 4G: voice needs VoLTE
    "D": ("C2", 400, {"x": {"2G", "3G"}}),  # 3G keeps voice
    "E": ("C2", 500, {"x": {"4G"}}),  # 2G never covered it: not affected
    "F": ("C2", 600, {"y": {"2G"}}),  # another operator's 2G: not affected
}


def _rows(case: dict[str, tuple[str, int, dict[str, set[str]]]]) -> pd.DataFrame:
    rows = []
    for village, (commune, population, by_operator) in case.items():
        for operator in ("x", "y"):
            for technology in ("2G", "3G", "4G"):
                covered = technology in by_operator.get(operator, set())
                rows.append((village, commune, technology, operator, population, covered))
        # the "any" rows never decide anything: best of the operators
        rows.append((village, commune, "4G", "any", population, True))
    columns = ["village_code", "commune_code", "technology", "operator", "population", "covered"]
    return pd.DataFrame(rows, columns=columns)


def test_statuses_of_a_2g_switch_off() -> None:
    rows = _rows(CASE)
    impact = village_impact(rows, SwitchOff("x", ("2G",))).set_index("village_code")
    assert impact["status"].to_dict() == {
        "B": "loses_all_service",
        "A": "other_operator_only",
        "C": "loses_voice",
        "D": "keeps_service",
    }
    # ordered by status (most urgent first), then by people
    assert list(impact.index) == ["B", "A", "C", "D"]
    assert impact.loc["C", ["before", "after", "action"]].tolist() == [
        "2G,4G",
        "4G",
        "volte_handsets",
    ]
    assert impact.loc["B", ["after", "action"]].tolist() == ["", "restore_coverage"]
    assert impact.loc["D", "after"] == "3G"


def test_switching_2g_and_3g_off_together() -> None:
    impact = village_impact(_rows(CASE), SwitchOff("x", ("2G", "3G"))).set_index("village_code")
    assert impact.loc["D", "status"] == "loses_all_service"
    assert impact.loc["D", "population"] == 400


def test_communes_before_and_after() -> None:
    rows = _rows(CASE)
    plan = SwitchOff("x", ("2G",))
    communes = commune_impact(rows, village_impact(rows, plan), plan).set_index("commune_code")
    c1, c2 = communes.loc["C1"], communes.loc["C2"]
    assert (c1["villages"], c1["population"]) == (3, 600)
    assert (c1["villages_served_before"], c1["villages_served_after"]) == (3, 1)
    assert (c1["population_served_before"], c1["population_served_after"]) == (600, 300)
    assert (c1["population_voice_before"], c1["population_voice_after"]) == (600, 0)
    assert (c2["villages_served_before"], c2["villages_served_after"]) == (2, 2)
    assert (c2["population_voice_before"], c2["population_voice_after"]) == (400, 400)
    statuses = ["villages_loses_all_service", "villages_other_operator_only",
                "villages_loses_voice", "villages_keeps_service"]  # fmt: skip
    assert c1[statuses].tolist() == [1, 1, 1, 0]


def test_only_2g_and_3g_are_switched_off() -> None:
    with pytest.raises(GisPlannerError, match="not 4G"):
        SwitchOff("x", ("4G",))


@pytest.mark.slow
def test_switch_off_on_the_sample(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    """The real coverage job (2G, 3G and 4G at a coarse grid), then the study; each village's
    status checked against the coverage rows, read set by set."""
    path = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, path)
    store = GeoPackageStore(path)
    coverage.run(
        CoverageSpec(resolution_m=400.0, technologies=("2G", "3G", "4G"), workers=1,
                     replace=True, out_dir=tmp_path / "coverage"),
        store,
    )  # fmt: skip
    done = switchoff.run(SwitchOffSpec("vietnamobile", ("2G",), time_limit_s=30.0), store, tmp_path)
    rows = store.read("coverage_villages")
    covered = rows[rows["covered"].astype(bool) & (rows["operator"] != "any")]
    techs = covered.groupby(["village_code", "operator"])["technology"].agg(set).to_dict()
    villages = store.read("switchoff_villages")
    assert len(villages) == len(done.study.villages) > 0
    for row in villages.itertuples():
        ours = techs.get((row.village_code, "vietnamobile"), set())
        assert "2G" in ours
        left = ours - {"2G"}
        others = any(
            techs.get((row.village_code, op), set()) for op in ("viettel", "vnpt", "mobifone")
        )
        expected = (
            "keeps_service" if left & set(CIRCUIT_VOICE)
            else "loses_voice" if left
            else "other_operator_only" if others
            else "loses_all_service"
        )  # fmt: skip
        assert row.status == expected, row
    # every village whose 2G covered it for the operator is listed
    has_2g = {v for (v, op), t in techs.items() if op == "vietnamobile" and "2G" in t}
    assert set(villages["village_code"]) == has_2g
    summary = dict(zip(done.study.summary["figure"], done.study.summary["value"], strict=True))
    assert summary["villages affected"] == len(villages)
    restored = villages["restored_by"].notna()
    assert summary["villages restored by the proposed 4G cells"] == int(restored.sum())
    assert villages.loc[restored, "status"].isin(["loses_all_service", "other_operator_only"]).all()
    proposals = store.read("switchoff_restoration")
    assert set(villages.loc[restored, "restored_by"]) <= set(proposals["candidate_id"])
    records = {r.layer: r for r in store.products() if r.layer}
    assert records["switchoff_villages"].parameters["technologies"] == "2G"
    assert done.report.exists()


def test_the_command_asks_for_coverage_first(sample_store: GeoPackageStore) -> None:
    runner = CliRunner()
    args = ["switch-off", "--operator", "Vietnamobile", "--technology", "2g",
            "--store", str(sample_store.path), "--lang", "en"]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "no village coverage" in result.output
    assert "gis-planner coverage --store" in result.output
    result = runner.invoke(app, [*args[:3], "--technology", "4G", *args[5:]])
    assert result.exit_code == 2 and "not 4G" in result.output
