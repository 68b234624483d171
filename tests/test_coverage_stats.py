"""Village, area, gap and priority statistics on a small synthetic raster."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_planner.admin import units
from gis_planner.coverage.analysis import study_grid
from gis_planner.coverage.grid import Grid
from gis_planner.coverage.stats import (
    TargetParams,
    area_coverage,
    five_g_figures,
    gap_list,
    label_pixels,
    priority_coverage,
    village_coverage,
)
from gis_planner.errors import GisPlannerError
from gis_planner.indicators import first_units
from gis_planner.store import GeoPackageStore

# a 10 × 10 grid of 100 m pixels; villages are whole pixel blocks in UTM
GRID = Grid(0.0, 1000.0, 100.0, 10, 10, "EPSG:32648")


def box(col0: int, row0: int, col1: int, row1: int) -> shapely.Polygon:
    """Pixels [col0, col1) × [row0, row1) as a polygon."""
    return shapely.box(col0 * 100.0, 1000.0 - row1 * 100.0, col1 * 100.0, 1000.0 - row0 * 100.0)


@pytest.fixture
def villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["V1", "V2", "V3", "V4"],
            "name": ["Thôn Một", "Thôn Hai", "Tổ dân phố 3", "Thôn Bốn"],
            "commune_code": ["C1", "C1", "C2", "C2"],
            "population": [1000, 3000, 500, 200],
        },
        geometry=[box(0, 0, 4, 5), box(4, 0, 10, 5), box(0, 5, 10, 10), box(9.4, 9.4, 9.6, 9.6)],
        crs="EPSG:32648",
    )


def test_labels_and_tiny_villages(villages: gpd.GeoDataFrame) -> None:
    labels = label_pixels(villages, GRID)
    # V4 holds no pixel centre: it takes the pixel of its representative point from V3
    assert np.bincount(labels.ravel(), minlength=5).tolist() == [0, 20, 30, 49, 1]
    assert labels[9, 9] == 4


def test_village_shares_by_hand(villages: gpd.GeoDataFrame) -> None:
    labels = label_pixels(villages, GRID)
    viettel = np.full(GRID.shape, -120.0, dtype=np.float32)
    viettel[:, :2] = -100.0  # 10 of V1's 20 pixels, 5 of V3's
    vnpt = np.full(GRID.shape, -999.0, dtype=np.float32)
    vnpt[:5, 4:] = -105.0  # all of V2
    rows = village_coverage(villages, labels, {"viettel": viettel, "vnpt": vnpt}, "4G", -110.0)
    share = rows.pivot(index="village_code", columns="operator", values="area_share")
    assert share.loc["V1"].to_dict() == pytest.approx({"any": 0.5, "viettel": 0.5, "vnpt": 0.0})
    assert share.loc["V2", "vnpt"] == 1.0 and share.loc["V2", "viettel"] == 0.0
    assert share.loc["V3", "any"] == pytest.approx(10 / 49)
    covered = rows[rows["operator"] == "any"].set_index("village_code")["covered"]
    assert covered.to_dict() == {"V1": False, "V2": True, "V3": False, "V4": False}
    best = rows[rows["operator"] == "vnpt"].set_index("village_code")["max_rsrp_dbm"]
    assert best["V2"] == -105.0 and np.isnan(best["V1"])  # nodata is no level
    assert rows.loc[(rows["village_code"] == "V1") & (rows["operator"] == "any"),
                    "covered_population"].item() == 500.0  # fmt: skip
    # a lower target makes V1 covered
    lenient = village_coverage(villages, labels, {"viettel": viettel}, "4G", -110.0,
                               TargetParams(target_share=0.5))  # fmt: skip
    assert lenient.set_index(["village_code", "operator"]).loc[("V1", "any"), "covered"]


def test_areas_are_population_weighted(villages: gpd.GeoDataFrame) -> None:
    labels = label_pixels(villages, GRID)
    rsrp = np.full(GRID.shape, -120.0, dtype=np.float32)
    rsrp[:, :2] = -100.0
    rows = village_coverage(villages, labels, {"viettel": rsrp}, "4G", -110.0)
    admin = pd.DataFrame(
        {
            "code": ["P", "D1", "C1", "C2"],
            "name": ["Tỉnh", "Huyện", "Xã Một", "Xã Hai"],
            "level": ["province", "district", "commune", "commune"],
            "parent_code": [None, "P", "D1", "D1"],
        }
    )
    areas = area_coverage(rows, admin).set_index(["level", "code", "operator"])
    c1 = areas.loc[("commune", "C1", "any")]
    # C1: V1 half covered (1000 people), V2 not (3000): 500 / 4000 people, 10 / 50 pixels
    assert c1["population_share"] == pytest.approx(500 / 4000)
    assert c1["area_share"] == pytest.approx(10 / 50)
    assert c1["name"] == "Xã Một"
    province = areas.loc[("province", "P", "viettel")]
    assert province["population"] == 4700
    assert province["covered_population"] == pytest.approx(500 + 500 * 10 / 49)
    assert province["villages"] == 4 and province["villages_covered"] == 0
    assert areas.loc[("district", "D1", "any"), "population"] == 4700


def test_gap_list_names_the_best_operator(villages: gpd.GeoDataFrame) -> None:
    labels = label_pixels(villages, GRID)
    viettel = np.full(GRID.shape, -115.0, dtype=np.float32)
    vnpt = np.full(GRID.shape, -112.0, dtype=np.float32)
    vnpt[:5, 4:] = -90.0
    rows = village_coverage(villages, labels, {"viettel": viettel, "vnpt": vnpt}, "4G", -110.0)
    gaps = gap_list(rows, villages)
    assert gaps["village_code"].tolist() == ["V1", "V3", "V4"]  # by population, V2 covered
    assert (gaps["best_operator"] == "vnpt").all()
    assert gaps["max_rsrp_dbm"].tolist() == [-112.0, -112.0, -112.0]
    assert gaps.crs == villages.crs and gaps.geometry.notna().all()


def test_gap_list_names_no_operator_where_none_is_heard(villages: gpd.GeoDataFrame) -> None:
    labels = label_pixels(villages, GRID)
    viettel = np.full(GRID.shape, -115.0, dtype=np.float32)
    vnpt = np.full(GRID.shape, -112.0, dtype=np.float32)
    viettel[5:, :] = vnpt[5:, :] = -999.0  # V3 and V4: no operator's cell reaches
    rows = village_coverage(villages, labels, {"viettel": viettel, "vnpt": vnpt}, "4G", -110.0)
    gaps = gap_list(rows, villages).set_index("village_code")
    assert gaps.loc["V1", "best_operator"] == "vnpt"
    assert gaps.loc[["V3", "V4"], "best_operator"].isna().all()
    assert gaps.loc[["V3", "V4"], "max_rsrp_dbm"].isna().all()


def test_priority_areas_and_five_g(villages: gpd.GeoDataFrame) -> None:
    areas = gpd.GeoDataFrame(
        {"area_id": ["PA-1"], "name": ["Khu công nghiệp"]},
        geometry=[box(0, 0, 5, 2)],
        crs="EPSG:32648",
    )
    rsrp = np.full(GRID.shape, -120.0, dtype=np.float32)
    rsrp[0, :] = -95.0
    table = priority_coverage(areas, GRID, rsrp, "5G", -110.0)
    assert table["area_share"].item() == pytest.approx(0.5)
    assert five_g_figures(table)["code"].tolist() == ["PA-1"]


def test_five_g_figures_of_the_units_the_plan_names_first() -> None:
    areas = pd.DataFrame(
        {
            "level": ["district", "district", "province", "commune", "district"],
            "code": ["347", "353", "35", "13321", "349"],
            "technology": "5G",
            "operator": "any",
        }
    )
    # Phủ Lý and Lý Nhân, from the plan's table, not from a constant
    assert first_units("five_g_first") == ("347", "353")
    chosen = five_g_figures(areas, first_units("five_g_first"))
    assert chosen["code"].tolist() == ["347", "353", "35"]
    assert five_g_figures(areas, ("13321",))["code"].tolist() == ["35", "13321"]


def test_study_grid_of_a_bbox(sample_store: GeoPackageStore) -> None:
    admin = sample_store.read("admin_units")
    assert isinstance(admin, gpd.GeoDataFrame)
    admin = units(admin, "province")
    province = study_grid(admin, 500.0)
    box = study_grid(admin, 500.0, (105.85, 20.50, 105.95, 20.60))
    assert box.grid.width < province.grid.width and box.grid.height < province.grid.height
    # central Phủ Lý lies wholly inside the province
    assert box.pixels == box.grid.width * box.grid.height
    assert 0.3 < province.pixels / (province.grid.width * province.grid.height) < 0.8
    with pytest.raises(GisPlannerError, match="does not meet the run's area"):
        study_grid(admin, 500.0, (100.0, 10.0, 100.1, 10.1))
    with pytest.raises(GisPlannerError, match="empty"):
        study_grid(admin, 500.0, (106.0, 20.5, 105.9, 20.6))
