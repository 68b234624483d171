"""Speeds: throughput from SINR by the CQI tables, village figures, FTTH by PON, the job and CLI."""

from __future__ import annotations

import math
import pickle
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from typer.testing import CliRunner

from gis_planner.catalogue.layers import PON_NAMES
from gis_planner.cli import app
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.stats import label_pixels
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.ftth import pon_reach
from gis_planner.jobs import coverage, speeds
from gis_planner.radio.linkbudget import LinkBudgetError
from gis_planner.radio.throughput import (
    LTE_CQI,
    NR_CQI_256QAM,
    ThroughputParams,
    carrier_mbps_per_bit,
    cqi_index,
    downlink_mbps,
    spectral_efficiency,
)
from gis_planner.speeds import (
    GPON,
    NODATA_MBPS,
    PONS,
    FixedParams,
    fixed_speeds,
    fixed_summary,
    speed_summary,
    throughput_raster,
    village_speeds,
)
from gis_planner.speeds_product import read_figures
from gis_planner.store import GeoPackageStore

from .conftest import writable

PARAMS = ThroughputParams()
#: Around the centre of Phủ Lý, where the sample has 4G and 5G: the real coverage's area.
BBOX = (105.89, 20.52, 105.95, 20.57)


def test_cqi_from_sinr_at_and_between_thresholds() -> None:
    # at a threshold the CQI is reached; just below it, the one before; below CQI 1, none
    assert cqi_index([-6.7, -6.71, 14.1, 14.09, 22.7, 40.0], LTE_CQI).tolist() == [
        1, 0, 11, 10, 15, 15,
    ]  # fmt: skip
    assert spectral_efficiency(-10.0, LTE_CQI) == 0.0
    # 256QAM table: CQI 12 needs what 64QAM CQI 15 needs, CQI 15 the extrapolated 29.9 dB
    assert spectral_efficiency([22.7, 29.9], NR_CQI_256QAM).tolist() == [5.5547, 7.4063]


def test_lte_20_mhz_at_15_db_by_hand() -> None:
    # FDD 1800 MHz, 100 PRB: 100 · 12 · 14,000 symbols/s = 16.8 M resource elements/s, less
    # 25 % overhead, half of it for the user: 6.3 Mb/s per bit per resource element.
    worth = carrier_mbps_per_bit("4G", 20.0, 1800.0, PARAMS)
    assert worth == pytest.approx(6.3)
    # rank 1 at 15 dB: CQI 11, 3.3223 bit; rank 2 at 15 − 3.01 = 11.99 dB: CQI 10, 2 × 2.7305
    assert downlink_mbps(15.0, worth, "4G", PARAMS) == pytest.approx(6.3 * 2 * 2.7305)


def test_nr_100_mhz_at_30_db_by_hand() -> None:
    # n78 TDD, 273 PRB at 30 kHz: 273 · 12 · 28,000 = 91.728 M RE/s · 0.86 · 0.74 DL · 0.5
    worth = carrier_mbps_per_bit("5G", 100.0, 3500.0, PARAMS)
    assert worth == pytest.approx(91.728 * 0.86 * 0.74 * 0.5)
    # rank 4 at 30 − 6.02 = 23.98 dB: CQI 12 of the 256QAM table, 4 × 5.5547 = 22.22 bit
    # (rank 3 at 25.23 dB is CQI 12 too: 16.66 bit)
    assert downlink_mbps(30.0, worth, "5G", PARAMS) == pytest.approx(worth * 4 * 5.5547)
    assert downlink_mbps(30.0, worth, "5G", PARAMS) == pytest.approx(648.52, abs=0.01)


def test_load_factor_and_refusals() -> None:
    full = ThroughputParams(user_share=1.0)
    # the whole 20 MHz LTE carrier at 2 × 64QAM CQI 15: 16.8 · 0.75 · 11.109 = 140 Mb/s
    peak = downlink_mbps(40.0, carrier_mbps_per_bit("4G", 20.0, 1800.0, full), "4G", full)
    assert peak == pytest.approx(16.8 * 0.75 * 2 * 5.5547)
    with pytest.raises(LinkBudgetError):
        ThroughputParams(user_share=0.0)
    with pytest.raises(LinkBudgetError):
        carrier_mbps_per_bit("3G", 5.0, 2100.0, PARAMS)


def test_throughput_raster_follows_the_best_server() -> None:
    sinr = np.array([[15.0, 15.0], [-999.0, -20.0]], dtype=np.float32)
    server = np.array([[1, 2], [0, 1]], dtype=np.int32)
    worth = np.array([np.nan, 6.3, 3.15])  # server 2 is a 10 MHz carrier
    mbps = throughput_raster(sinr, server, worth, "4G", PARAMS)
    assert mbps.dtype == np.float32
    assert mbps[0, 0] == pytest.approx(34.4043, abs=1e-3)
    assert mbps[0, 1] == pytest.approx(34.4043 / 2, abs=1e-3)
    # nobody serves: nodata; served below CQI 1: 0 Mb/s
    assert mbps[1, 0] == NODATA_MBPS and mbps[1, 1] == 0.0


def _villages(populations: list[int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": [f"V{i}" for i in range(len(populations))],
            "commune_code": "13285",
            "population": populations,
        },
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(len(populations))],
        crs="EPSG:4326",
    )


def test_a_village_at_and_one_below_the_target() -> None:
    villages = _villages([100, 300])
    # 20 pixels a village: V0 all at exactly 50 Mb/s; V1 at 49.9 save one pixel at 80
    labels = np.array([[1] * 20 + [2] * 20], dtype=np.int32)
    mbps = np.full(labels.shape, 49.9, dtype=np.float32)
    mbps[0, :20] = 50.0
    mbps[0, 20] = 80.0
    rows = village_speeds(villages, labels, {"viettel": mbps}, "4G")
    viettel = rows[rows["operator"] == "viettel"].set_index("village_code")
    assert viettel.loc["V0", "at_target"] and viettel.loc["V0", "population_share"] == 1.0
    assert not viettel.loc["V1", "at_target"]
    assert viettel.loc["V1", "population_at_target"] == pytest.approx(300 / 20)
    assert viettel.loc["V1", "mean_mbps"] == pytest.approx((19 * 49.9 + 80) / 20, rel=1e-6)
    assert viettel.loc["V1", "max_mbps"] == 80.0
    summary = speed_summary(rows).set_index("operator")
    assert summary.loc["viettel", "villages_at_target"] == 1
    assert summary.loc["viettel", "village_share"] == 0.5
    assert summary.loc["viettel", "population_share"] == pytest.approx((100 + 15) / 400)
    assert list(summary.index) == ["viettel", "any"]


def test_fixed_access_by_pon() -> None:
    ftth = pd.DataFrame(
        {
            "code": ["A", "B", "C"],
            "commune_code": "13285",
            "population": [100, 200, 700],
            "covered": [True, True, False],
            "operators": ["vnpt", "vnpt,viettel", ""],
        }
    )
    params = FixedParams(pon_by_operator=(("viettel", "xgs-pon"),))
    rows = fixed_speeds(ftth, params).set_index("village_code")
    # GPON: 2,488.32 Mb/s · 0.92 over 32 · 0.25 = 8 subscribers at once
    gpon_mbps = 2488.32 * 0.92 / 8
    assert params.subscriber_mbps(GPON) == pytest.approx(gpon_mbps)
    assert rows.loc["A", "subscriber_mbps"] == pytest.approx(gpon_mbps)
    assert rows.loc["A", "meets_target"] and not rows.loc["A", "meets_2030"]
    # B has Viettel's XGS-PON too: 9,953.28 · 216/248 / 8 = 1,083.6 Mb/s
    assert rows.loc["B", "pon"] == "xgs-pon" and rows.loc["B", "meets_2030"]
    assert rows.loc["B", "subscriber_mbps"] == pytest.approx(9953.28 * 216 / 248 / 8)
    assert rows.loc["C", "subscriber_mbps"] == 0.0 and not rows.loc["C", "meets_target"]
    assert pd.isna(rows.loc["C", "pon"]) and tuple(PONS) == PON_NAMES
    summary = fixed_summary(rows.reset_index()).set_index("measure")
    assert summary.loc["fixed_target", "population_share"] == pytest.approx(0.3)
    assert summary.loc["fixed_2030", "villages_at_target"] == 1
    # a split so small that under one subscriber is active gets the whole PON, no more
    assert FixedParams(split=2).subscriber_mbps(GPON) == pytest.approx(2488.32 * 0.92)


def test_the_fibre_layers_pon_comes_before_the_assumed_one() -> None:
    """VNPT is assumed on GPON, Viettel on XGS-PON; the fibre layer names XGS-PON for VNPT
    at A and GPON for Viettel at B (not at C), and a PON of Viettel's at D, where only
    VNPT's fibre reaches."""
    ftth = pd.DataFrame(
        {
            "code": ["A", "B", "C", "D"],
            "commune_code": "13285",
            "population": [100, 200, 300, 400],
            "covered": True,
            "operators": ["vnpt", "viettel", "viettel", "vnpt"],
        }
    )
    named = pd.DataFrame(
        {
            "code": ["A", "A", "B", "D"],
            "operator": ["vnpt", "vnpt", "viettel", "viettel"],
            "pon": ["gpon", "xgs-pon", "gpon", "xgs-pon"],
        }
    )
    params = FixedParams(pon_by_operator=(("viettel", "xgs-pon"),))
    rows = fixed_speeds(ftth, params, named_pons=named).set_index("village_code")
    xgs_mbps, gpon_mbps = 9953.28 * 216 / 248 / 8, 2488.32 * 0.92 / 8
    # A: the layer's best of its two PONs
    assert rows.loc["A", "pon"] == "xgs-pon" and rows.loc["A", "pon_from_fibre"]
    assert rows.loc["A", "subscriber_mbps"] == pytest.approx(xgs_mbps)
    # B: the layer's GPON, though Viettel is assumed on XGS-PON elsewhere
    assert rows.loc["B", "pon"] == "gpon" and rows.loc["B", "pon_from_fibre"]
    assert rows.loc["B", "subscriber_mbps"] == pytest.approx(gpon_mbps)
    # C: nothing named, the assumption
    assert rows.loc["C", "pon"] == "xgs-pon" and not rows.loc["C", "pon_from_fibre"]
    # D: Viettel's PON is named there but Viettel's fibre is not within reach: VNPT's GPON
    assert rows.loc["D", "pon"] == "gpon" and not rows.loc["D", "pon_from_fibre"]
    with pytest.raises(GisPlannerError, match="unknown PON"):
        fixed_speeds(ftth, params, named_pons=named.assign(pon="epon"))


def test_pon_reach_finds_the_named_distribution_points_within_drop() -> None:
    crs = "EPSG:32648"
    x0, y0 = 590_000.0, 2_270_000.0
    villages = gpd.GeoDataFrame(
        {"code": ["A", "B"]},
        geometry=[
            shapely.box(x0, y0, x0 + 200, y0 + 200),
            shapely.box(x0 + 5000, y0, x0 + 5200, y0 + 200),
        ],
        crs=crs,
    ).to_crs("EPSG:4326")
    nodes = gpd.GeoDataFrame(
        {
            "operator": ["vnpt", "vnpt", "viettel", "fpt"],
            "node_type": ["splitter", "olt", "odf", "splitter"],
            "pon": ["xgs-pon", "gpon", None, "gpon"],
        },
        # 100 m from A; an OLT (not a drop point) inside A; an ODF with no PON inside A; a
        # splitter 400 m from B (beyond a 300 m drop)
        geometry=shapely.points([(x0 + 300, y0 + 100), (x0 + 100, y0 + 100),
                                 (x0 + 100, y0 + 100), (x0 + 5600, y0 + 100)]),
        crs=crs,
    ).to_crs("EPSG:4326")  # fmt: skip
    found = pon_reach(villages, nodes, drop_m=300.0, metric_crs=crs)
    assert found.to_dict("records") == [{"code": "A", "operator": "vnpt", "pon": "xgs-pon"}]
    assert pon_reach(villages, nodes, drop_m=450.0, metric_crs=crs)["code"].tolist() == ["A", "B"]
    assert pon_reach(villages, nodes.drop(columns="pon"), metric_crs=crs).empty


def test_the_spec_pickles() -> None:
    spec = speeds.SpeedsSpec(
        scope="bbox1234abcd_4g", throughput=ThroughputParams(user_share=0.3),
        fixed=FixedParams(pon_by_operator=(("viettel", "xgs-pon"),)), out_dir=Path("out"),
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(spec)) == spec


@pytest.fixture(scope="module")
def covered(sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample with the real coverage job's 4G and 5G around Phủ Lý at 100 m."""
    store = writable(sample_store, tmp_path_factory.mktemp("speeds"))
    spec = coverage.CoverageSpec(
        resolution_m=100.0, technologies=("4G", "5G"), bbox=BBOX, workers=1,
        out_dir=store.path.parent / "coverage",
    )  # fmt: skip
    coverage.run(spec, store)
    return store.path


def _copy(covered: Path, tmp_path: Path) -> GeoPackageStore:
    """A copy of the covered store with its assets (the coverage rasters)."""
    target = tmp_path / "store"
    shutil.copytree(covered.parent, target)
    return GeoPackageStore(target / covered.name)


def _scope(store: GeoPackageStore) -> str:
    return next(r.scope for r in store.products() if r.job == "coverage")


def test_the_job_on_the_real_coverage(covered: Path, tmp_path: Path) -> None:
    store = _copy(covered, tmp_path)
    scope = _scope(store)
    result = speeds.run(speeds.SpeedsSpec(scope=scope, out_dir=tmp_path / "tables"), store)
    records = {r.id: r for r in store.products() if r.job == "speeds"}
    # the rasters and the two layers of village figures
    assert len(records) == len(result.rasters) + 2 and result.workbook.exists()
    layer_record = records[f"speeds.{scope}.speeds_villages"]
    assert layer_record.layer == f"speeds_villages__{scope}"
    assert layer_record.parameters["fixed"]["split"] == 32 and not store.stale(layer_record)
    sinr_record, server_record = speeds.coverage_scenes(store, scope)[("viettel", "5G")]
    mine = records[f"speeds.{scope}.viettel_5G_throughput"]
    assert mine.parameters["throughput"]["user_share"] == 0.5
    assert mine.parameters["cqi_tables"]["5G"]["source"] == "3GPP TS 38.214 Table 5.2.2.1-3"
    assert mine.bands[0].quantity == "throughput_mbps" and not store.stale(mine)
    assert records[f"speeds.{scope}.any_5G_throughput"].operators == ("mobifone", "viettel", "vnpt")
    assert mine.path is not None and sinr_record.path is not None and server_record.path
    # beside each COG its QGIS style, in the viewer's classes
    style = (store.assets_dir / mine.path).with_suffix(".qml").read_text(encoding="utf-8")
    assert "Đạt mục tiêu 50 Mb/s" in style
    with (
        rasterio.open(store.assets_dir / mine.path) as made,
        rasterio.open(store.assets_dir / sinr_record.path) as rsrp,
        rasterio.open(store.assets_dir / server_record.path) as server,
    ):
        # the SINR raster's grid, and each pixel what the tables give its SINR and carrier
        assert (made.transform, made.shape, made.crs) == (rsrp.transform, rsrp.shape, rsrp.crs)
        assert made.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        mbps, sinr, index = made.read(1), rsrp.read(3), server.read(1)
    cells = store.read("cells", filters={"operator": ["viettel"], "technology": ["5G"]})
    assert set(cells["bandwidth_mhz"]) == {100.0}  # every n78 carrier of the sample
    served = index > 0
    assert served.sum() > 100
    expected = downlink_mbps(sinr[served], carrier_mbps_per_bit("5G", 100.0, 3500.0, PARAMS),
                             "5G", PARAMS)  # fmt: skip
    np.testing.assert_allclose(mbps[served], expected, rtol=1e-6)
    assert (mbps[~served] == NODATA_MBPS).all()

    figures = result.figures
    summary = figures.summary.set_index(["technology", "operator"])
    any_5g = summary.loc[("5G", "any")]
    assert 0 < any_5g["villages_at_target"] <= any_5g["villages"]
    # the best operator at each pixel is at least each operator's
    assert any_5g["population_at_target"] >= summary.loc[("5G", "viettel"), "population_at_target"]
    assert set(figures.fixed["village_code"]) == set(figures.villages["village_code"])
    assert math.isclose(figures.fixed_summary.iloc[0]["population"],
                        figures.fixed["population"].sum())  # fmt: skip

    # a second run with other assumptions: the figures follow what the products record
    again = speeds.run(
        speeds.SpeedsSpec(scope=scope, throughput=ThroughputParams(user_share=1.0),
                          fixed=FixedParams(pon_by_operator=(("vnpt", "xgs-pon"),)),
                          out_dir=tmp_path / "tables"),
        store,
    )  # fmt: skip
    doubled = again.figures.summary.set_index(["technology", "operator"])
    assert doubled.loc[("5G", "any"), "population_at_target"] >= any_5g["population_at_target"]
    read = read_figures(store, scope)
    pd.testing.assert_frame_equal(read.fixed, again.figures.fixed)
    assert (read.fixed.loc[read.fixed["operators"].str.contains("vnpt"), "pon"] == "xgs-pon").all()


def test_the_command_after_coverage(covered: Path, tmp_path: Path) -> None:
    store = _copy(covered, tmp_path)
    runner = CliRunner()
    # the province has no coverage in this store: exit 2 naming the scope it does hold
    result = runner.invoke(app, ["speeds", "--store", str(store.path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "gis-planner coverage" in result.output and _scope(store) in result.output
    args = ["speeds", "--store", str(store.path), "--scope", _scope(store), "--pon",
            "viettel=xgs-pon", "--out", str(tmp_path / "out"), "--lang", "en"]  # fmt: skip
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Mobile downloads ≥ 50 Mb/s" in result.output and "(2030)" in result.output
    assert (tmp_path / "out" / "speeds.xlsx").exists()
    result = runner.invoke(app, [*args[:5], "--pon", "viettel=vdsl"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "xgs-pon" in result.output


def test_windows_give_the_whole_raster_figures(covered: Path, tmp_path: Path) -> None:
    """Windows of 24 pixels, edge windows narrower: the rasters and the village figures are
    those of the whole rasters at once."""
    store = _copy(covered, tmp_path)
    scope = _scope(store)
    spec = speeds.SpeedsSpec(scope=scope, tile_px=24, out_dir=tmp_path / "tables")
    speeds.run(spec, store)
    stored = store.read(f"speeds_villages__{scope}")
    villages = store.read("villages")
    assert isinstance(villages, gpd.GeoDataFrame)
    worth = speeds.server_worth(
        store.read(f"coverage_servers__{scope}"), store.read("cells"), PARAMS
    )
    parts = []
    for technology in ("4G", "5G"):
        whole = {}
        for (operator, tech), (sinr_record, server_record) in speeds.coverage_scenes(
            store, scope
        ).items():
            if tech != technology:
                continue
            assert sinr_record.path is not None and server_record.path is not None
            with (
                rasterio.open(store.assets_dir / sinr_record.path) as sinr,
                rasterio.open(store.assets_dir / server_record.path) as server,
            ):
                assert min(sinr.shape) > 2 * 24 and all(n % 24 for n in sinr.shape)  # ragged
                whole[operator] = throughput_raster(
                    sinr.read(3), server.read(1), worth[(operator, tech)], tech, PARAMS
                )
                transform, shape, crs = sinr.transform, sinr.shape, sinr.crs.to_string()
            written = store.assets_dir / "speeds" / scope / f"{operator}_{tech}_throughput.tif"
            with rasterio.open(written) as made:
                np.testing.assert_array_equal(made.read(1), whole[operator])
        grid = Grid(transform.c, transform.f, transform.a, shape[1], shape[0], crs)
        parts.append(village_speeds(villages, label_pixels(villages, grid), whole, technology))
    expected = pd.concat(parts, ignore_index=True)
    key = ["technology", "operator", "village_code"]
    got = stored.sort_values(key, ignore_index=True)
    expected = expected.sort_values(key, ignore_index=True)[list(got.columns)]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)
