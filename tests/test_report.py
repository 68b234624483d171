"""The indicators report: every indicator with its target and status, Vietnamese text, offline."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.indicators import plan_targets
from gis_planner.jobs import coverage, speeds
from gis_planner.report import render_report, write_report
from gis_planner.speeds_product import read_figures
from gis_planner.store import GeoPackageStore

from .test_coverage_terrain import write_dem
from .test_indicators import inputs, old_province_plan

runner = CliRunner()


def summary_rows(html: str) -> dict[str, str]:
    """Each summary row's text by indicator (pre-2025 version), tags stripped."""
    table = html[html.index('<table id="summary">') : html.index("</table>")]
    rows = re.findall(r'<tr data-indicator="(\w+)" data-version="pre2025">(.*?)</tr>', table, re.S)
    return {key: re.sub(r"<[^>]+>|\s+", " ", body) for key, body in rows}


def test_each_indicator_with_target_and_status() -> None:
    html, tables = render_report(inputs(), lang="vi", place="Tỉnh Thử", targets=old_province_plan())
    rows = summary_rows(html)
    assert set(rows) == set(plan_targets().measured["key"])
    assert (
        "66.7 %" in rows["villages_mobile_broadband"]
        and "Chưa đạt" in rows["villages_mobile_broadband"]
    )
    assert (
        "50.0 %" in rows["bts_position_sharing"] and "25.0–30.0 %" in rows["bts_position_sharing"]
    )
    assert "Đạt" in rows["bts_position_sharing"]
    assert "99.0 % (2030)" in rows["population_5g"]
    # Entered indicators are listed beside, without data here.
    entered = html[html.index('<table id="entered">') :]
    assert 'data-indicator="internet_users"' in entered and "Chưa có số liệu" in entered
    assert "Báo cáo chỉ tiêu hạ tầng số" in html and "Thôn có cáp quang FTTH" in html
    assert set(tables) == {"indicators", "entered", "targets"}
    # The former province is named as such; the new one, which no plan governs, is not judged.
    assert "Tỉnh Cũ (cũ)" in rows["villages_ftth"]
    new = re.findall(r'data-version="2025-07">(.*?)</tr>', html, re.S)
    assert new and all("Chưa có quy hoạch cho khu vực này" in row for row in new)


def test_report_opens_offline_and_in_english() -> None:
    html, _ = render_report(inputs(), lang="en", targets=old_province_plan())
    assert "Digital infrastructure indicators report" in html
    assert "Not met" in html and "Villages with FTTH" in html
    # Nothing is fetched: no scripts, stylesheets or images from elsewhere.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count('src="data:image/png;base64,') >= 5


def test_missing_analyses_are_named(sample_copy: Path, tmp_path: Path) -> None:
    figures = tmp_path / "figures.csv"
    figures.write_text(
        "key,value,as_of,source\ninternet_users,96.5,2025-Q3,Sở Khoa học và Công nghệ\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["report", "--store", str(sample_copy), "--out", str(tmp_path), "--figures", str(figures)],
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "report_vi.html").read_text(encoding="utf-8")
    assert "gis-planner coverage" in html and "Chưa có số liệu" in html
    assert "<code>speeds_villages</code>: <code>gis-planner speeds</code>" in html
    assert "96.5" in html and "Sở Khoa học và Công nghệ" in html
    assert (tmp_path / "report_en.html").exists()
    sheets = pd.read_excel(tmp_path / "indicators.xlsx", sheet_name=None)
    assert set(sheets) == {"indicators", "entered", "targets"}


def test_bad_figures_name_file_row_and_field(sample_copy: Path, tmp_path: Path) -> None:
    figures = tmp_path / "figures.csv"
    figures.write_text("key,value,as_of,source\ninternet_users,nhiều,2025,x\n", encoding="utf-8")
    result = runner.invoke(app, ["report", "--store", str(sample_copy), "--figures", str(figures)])
    assert result.exit_code == 2
    assert "row 2, field value" in result.output


def _table(html: str, table_id: str) -> str:
    """A table's text, tags stripped."""
    start = html.index(f'<table id="{table_id}">')
    stripped = re.sub(r"<[^>]+>", " ", html[start : html.index("</table>", start)])
    return re.sub(r"\s+", " ", stripped)


def test_the_speeds_section_from_the_stored_products(sample_copy: Path, tmp_path: Path) -> None:
    store = GeoPackageStore(sample_copy)
    # 4G and 5G around Phủ Lý, coarse, in the province's place: the report reads those
    spec = coverage.CoverageSpec(
        resolution_m=200.0, technologies=("4G", "5G"), bbox=(105.89, 20.52, 105.95, 20.57),
        replace=True, workers=1, out_dir=tmp_path / "coverage",
    )  # fmt: skip
    coverage.run(spec, store)
    speeds.run(speeds.SpeedsSpec(out_dir=tmp_path / "speeds"), store)
    figures = read_figures(store)
    html = write_report(store, tmp_path / "vi", lang="vi").html.read_text(encoding="utf-8")
    assert '<h2 id="speeds">Tốc độ</h2>' in html and "gis-planner speeds</code>" not in html
    assert "Vùng phủ tính trên: mặt đất phẳng (không có mô hình địa hình)" in html
    mobile = _table(html, "speeds-mobile")
    summary = figures.summary.set_index(["technology", "operator"])
    for (technology, operator), name in (
        (("4G", "any"), "Tốt nhất của mọi nhà mạng"), (("5G", "viettel"), "Viettel"),
    ):  # fmt: skip
        row = summary.loc[(technology, operator)]
        shares = (
            f"{int(row['villages_at_target']):,}/{int(row['villages']):,} "
            f"({row['village_share']:.1%}) "
            f"{row['population_share']:.1%}"
        )
        assert f"{technology} {name} {shares}" in mobile
    fixed = _table(html, "speeds-fixed")
    assert "Đạt ≥ 100 Mb/s" in fixed and "Đạt ≥ 1 Gb/s (2030)" in fixed
    at_2030 = figures.fixed_summary.set_index("measure").loc["fixed_2030"]
    assert f"({at_2030['village_share']:.1%}) {at_2030['population_share']:.1%}" in fixed
    assert "1:32" in html  # the assumptions it was measured with

    english = write_report(store, tmp_path / "en", lang="en").html.read_text(encoding="utf-8")
    assert '<h2 id="speeds">Speeds</h2>' in english
    assert "Mobile downloads ≥ 50 Mb/s" in english and "At ≥ 1 Gb/s (2030)" in english
    sheets = pd.read_excel(tmp_path / "en" / "indicators.xlsx", sheet_name=None)
    assert {"speeds", "fixed_speeds"} <= set(sheets)
    assert len(sheets["speeds"]) == len(figures.summary)


@pytest.mark.slow
def test_the_report_names_the_terrain_of_the_coverage(sample_copy: Path, tmp_path: Path) -> None:
    store = GeoPackageStore(sample_copy)
    west, south, east, north = store.read("admin_units").total_bounds
    step = 1 / 1200  # 3″, SRTM3's pixel
    width = math.ceil((east - west + 0.3) / step)
    height = math.ceil((north - south + 0.3) / step)
    level = np.full((height, width), 4, dtype=np.int16)
    transform = Affine(step, 0, west - 0.15, 0, -step, north + 0.15)
    dem = write_dem(tmp_path / "dem_ninh_binh.tif", level, transform, "EPSG:4326")
    spec = coverage.CoverageSpec(
        resolution_m=500.0, operators=("viettel",), technologies=("5G",), replace=True,
        workers=1, out_dir=tmp_path / "coverage", terrain=dem,
    )  # fmt: skip
    coverage.run(spec, store)
    html = write_report(store, tmp_path / "en", lang="en").html.read_text(encoding="utf-8")
    expected = "the elevation model dem_ninh_binh.tif (effective earth radius factor k = 1.33)"
    assert f"Coverage computed over: {expected}" in html
