"""Tables written for people: labelled headers with units, CSV that Excel reads in Vietnamese."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import shapely

from gis_planner.tables import labelled, write_csv, write_xlsx

FRAME = pd.DataFrame({"village_code": ["T01"], "population": [1_250.0], "note": ["Thôn Đông"]})


def test_labels_come_from_the_catalogue_with_units() -> None:
    vi = labelled(FRAME, "coverage_villages", "vi")
    assert list(vi.columns) == ["Mã thôn", "Dân số (người)", "note"]
    assert list(labelled(FRAME, "coverage_villages", "en").columns)[:2] == [
        "Village code", "Population (people)",
    ]  # fmt: skip
    assert list(labelled(FRAME, None).columns) == list(FRAME.columns)


def test_csv_has_a_bom_and_xlsx_one_sheet_per_table(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "villages.csv", FRAME, "coverage_villages")
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    assert pd.read_csv(csv, encoding="utf-8-sig")["note"].item() == "Thôn Đông"
    book = write_xlsx(
        tmp_path / "out" / "tables.xlsx",
        {
            "villages": (FRAME, "coverage_villages"),
            "a name longer than excel allows": (FRAME, None),
        },
    )
    workbook = openpyxl.load_workbook(book)
    assert workbook.sheetnames == ["villages", "a name longer than excel allows"[:31]]
    assert workbook["villages"]["A1"].value == "Mã thôn"
    assert workbook["villages"]["C2"].value == "Thôn Đông"


def test_xlsx_is_formatted_for_people(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "village_code": ["T01", "T02"],
            "population": [1_250, 4_574],
            "area_share": [0.19032258, 1.0],
            "max_rsrp_dbm": [-97.123, -110.5],
            "covered": [True, False],
            "note": ["Thôn Đông", "a long remark " * 10],
            "missing": pd.Series([None, None], dtype="str"),
        }
    )
    book = openpyxl.load_workbook(
        write_xlsx(tmp_path / "t.xlsx", {"v": (rows, "coverage_villages")})
    )
    sheet = book["v"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G3"
    assert sheet["A1"].font.bold
    formats = {sheet.cell(1, c).value: sheet.cell(2, c).number_format for c in range(1, 8)}
    assert formats["Dân số (người)"] == "#,##0"
    assert formats["Tỷ lệ diện tích được phủ"] == "0.0%"
    assert formats["Mức thu tốt nhất (dBm)"] == "0.0"
    assert sheet["C2"].value == 0.19032258  # the value kept, only its display rounded
    assert 10 <= sheet.column_dimensions["A"].width < sheet.column_dimensions["F"].width <= 60


def test_names_beside_codes_and_coordinates_of_places(tmp_path: Path) -> None:
    places = gpd.GeoDataFrame(
        {"site_id": ["VTL-1", "VTL-2"], "commune_code": ["13285", "99999"]},
        geometry=[shapely.Point(105.9123456, 20.5412345), shapely.Point(106.0, 20.6)],
        crs="EPSG:4326",
    )
    names = {"13285": "Phường Quang Trung"}
    book = openpyxl.load_workbook(
        write_xlsx(tmp_path / "p.xlsx", {"p": (places, "sites")}, names=names)
    )
    sheet = book["p"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Mã trạm", "Mã xã (theo vị trí)", "Tên xã"]
    assert sheet.cell(2, 3).value == "Phường Quang Trung"
    assert sheet.cell(3, 3).value is None  # a code no unit has: no name invented
    assert header[-2:] == ["Kinh độ", "Vĩ độ"]
    assert sheet.cell(2, len(header) - 1).value == 105.912346
    assert sheet.cell(2, len(header)).number_format == "0.000000"
    csv = write_csv(tmp_path / "p.csv", places, "sites", lang="en", names=names)
    table = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(table.columns[-2:]) == ["Longitude", "Latitude"]
    assert "Phường Quang Trung" in table.iloc[0].tolist()
