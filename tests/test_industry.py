"""5G and IoT in industrial zones: building entry loss against P.2109's formula, the measures on
a hand-made window, and the study on the sample after the real coverage job."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.industry import ZoneParams, ZoneSums, demand_cells, zone_gaps
from gis_planner.jobs import coverage, industry
from gis_planner.jobs.coverage import CoverageSpec
from gis_planner.jobs.industry import IndustrySpec
from gis_planner.radio.indoor import building_entry_loss_db, iot_extra_budget_db
from gis_planner.store import GeoPackageStore


def _p2109_median(freq_ghz: float, r: float, s: float, t: float, w: float, x: float) -> float:
    """P.2109's median (F⁻¹(0.5) = 0), horizontal path, written out by hand."""
    lf = math.log10(freq_ghz)
    a = r + s * lf + t * lf * lf
    b = w + x * lf
    return 10 * math.log10(10 ** (a / 10) + 10 ** (b / 10) + 10 ** (-0.3))


def test_building_entry_loss_is_p2109() -> None:
    traditional = (12.64, 3.72, 0.96, 9.1, -3.0)
    efficient = (28.19, -3.00, 8.48, 27.8, -2.9)
    for freq_mhz in (700.0, 900.0, 1800.0, 3500.0):
        expected = _p2109_median(freq_mhz / 1000, *traditional)
        assert building_entry_loss_db(freq_mhz) == pytest.approx(expected, abs=1e-9)
        expected = _p2109_median(freq_mhz / 1000, *efficient)
        assert building_entry_loss_db(freq_mhz, "thermally_efficient") == pytest.approx(expected)
    # 15.7 dB into a traditional building at 3.5 GHz, about 31 dB into an efficient one
    assert building_entry_loss_db(3500.0) == pytest.approx(15.72, abs=0.01)
    # a higher probability not exceeded is a larger loss
    assert building_entry_loss_db(3500.0, probability=0.9) > building_entry_loss_db(3500.0)
    assert (iot_extra_budget_db("NB-IoT"), iot_extra_budget_db("LTE-M")) == (20.0, 12.0)


def test_measures_on_a_hand_made_window() -> None:
    params = ZoneParams()
    bel_5g = params.bel_5g_db  # 15.72 dB
    # one zone of four pixels; one pixel outside it
    labels = np.array([[1, 1, 0], [1, 1, 0]], dtype=np.int32)
    five_g = {
        "x": np.array([[-80, -100, -50], [-120, -999, -50]], dtype=np.float32),
        "y": np.array([[-999, -90, -50], [-105, -999, -50]], dtype=np.float32),
    }
    four_g = {"x": np.array([[-100, -125, 0], [-131, -140, 0]], dtype=np.float32)}
    sums = ZoneSums(1, params)
    sums.add(labels, {"5G": five_g, "4G": four_g})
    zones = pd.DataFrame({"area_id": ["KCN"], "name": ["Khu công nghiệp"]})
    table = sums.table(zones).set_index("operator")
    # 5G outdoor (≥ −110): x has −80, −100; y has −90, −105; any: −80, −90, −105 → 3 of 4
    assert table.loc["x", "5g_outdoor_share"] == 0.5
    assert table.loc["any", "5g_outdoor_share"] == 0.75
    # indoors (≥ −110 + 15.72 = −94.28): x −80; any −80 and −90
    assert pytest.approx(-110 + bel_5g, abs=0.01) == -94.28
    assert table.loc["x", "5g_indoor_share"] == 0.25
    assert table.loc["any", "5g_indoor_share"] == 0.5
    # NB-IoT outdoor (4G ≥ −130): −100, −125 → 2 of 4; indoor at 900 MHz (−130 + 14.24)
    assert table.loc["x", "nbiot_outdoor_share"] == 0.5
    assert table.loc["x", "nbiot_indoor_share"] == 0.25
    gaps = zone_gaps(table.reset_index(), params)
    assert gaps.loc[0, "gap"] == pytest.approx(0.45) and not gaps.loc[0, "meets_target"]


def test_uncovered_pixels_gather_in_squares() -> None:
    x = np.array([10.0, 60.0, 150.0, 10.0])
    y = np.array([10.0, 90.0, 10.0, 10.0])
    ids = np.array(["A", "A", "A", "B"], dtype=object)
    cells = demand_cells(x + 500_000, y + 2_270_000, ids, 625.0, "EPSG:32648")
    by_code = cells.set_index("code")["population"].to_dict()
    assert by_code == {"A:5000:22700": 1250.0, "A:5001:22700": 625.0, "B:5000:22700": 625.0}
    assert cells.crs == "EPSG:4326"


@pytest.mark.slow
def test_industrial_zones_on_the_sample(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    """The real coverage job (4G and 5G at 200 m), then the study: shares consistent with each
    other, the zones ranked by gap, and the additions covering what they claim."""
    path = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, path)
    store = GeoPackageStore(path)
    coverage.run(
        CoverageSpec(resolution_m=200.0, technologies=("4G", "5G"), workers=1, replace=True,
                     out_dir=tmp_path / "coverage"),
        store,
    )  # fmt: skip
    result, report = industry.run(IndustrySpec(time_limit_s=30.0), store, tmp_path)
    zones = store.read("industry_zones")
    areas = store.read("priority_areas")
    industrial = set(areas.loc[areas["category"] == "industrial_zone", "area_id"])
    assert set(zones["area_id"]) == industrial
    any_rows = zones[zones["operator"] == "any"].sort_values("rank")
    assert any_rows["rank"].tolist() == list(range(1, len(industrial) + 1))
    assert any_rows["gap"].is_monotonic_decreasing
    # indoors is never better than outdoors; NB-IoT reaches at least as far as LTE-M indoors
    # (an operator without 5G has no 5G share)
    shares = zones.fillna({c: 0.0 for c in zones.columns if c.endswith("_share")})
    assert (shares["5g_indoor_share"] <= shares["5g_outdoor_share"] + 1e-12).all()
    assert (shares["ltem_indoor_share"] <= shares["nbiot_outdoor_share"] + 1e-12).all()
    assert zones.loc[zones["operator"] == "vietnamobile", "5g_outdoor_share"].isna().all()
    per_operator = zones[zones["operator"] != "any"]
    best = per_operator.groupby("area_id")["5g_outdoor_share"].max()
    any_share = any_rows.set_index("area_id")["5g_outdoor_share"]
    assert (any_share >= best.reindex(any_share.index) - 1e-12).all()
    additions = store.read("industry_additions")
    if any_rows["gap"].gt(0).any():
        assert len(additions) > 0
        assert set(",".join(additions["area_ids"]).split(",")) <= industrial
        served = result.demand.loc[result.demand["covered"], "population"].sum()
        assert additions["area_served_m2"].sum() == pytest.approx(served)
    assert report.exists()


@pytest.mark.slow
def test_the_command_on_the_sample(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    path = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, path)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    args = ["industry", "--store", str(path), "--out", str(tmp_path), "--lang", "en"]
    before = runner.invoke(app, args, env=env)
    assert before.exit_code == 2 and "run `gis-planner coverage` first" in before.output
    coverage_args = ["coverage", "--store", str(path), "--resolution-m", "400", "--tech", "4G",
                     "--tech", "5G", "--workers", "1", "--out", str(tmp_path)]  # fmt: skip
    assert runner.invoke(app, coverage_args, env=env).exit_code == 0
    scope = ["--scope", "4g_5g"]
    result = runner.invoke(app, [*args, *scope, "--building", "thermally_efficient"], env=env)
    assert result.exit_code == 0, result.output
    assert "Khu công nghiệp Đồng Văn I" in result.output and "5G additions" in result.output
    assert (tmp_path / "industrial_zones.xlsx").exists()
    wrong = runner.invoke(app, [*args, *scope, "--building", "glass"], env=env)
    assert wrong.exit_code == 2
