"""Tables written for people: labelled headers with units, CSV that Excel reads in Vietnamese."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
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
    # Stored widths hold Excel's padding of 5 pixels (0.71 of a character) besides the text's.
    widths = {c: round(sheet.column_dimensions[c].width - 0.71, 2) for c in "AF"}
    assert 10 <= widths["A"] < widths["F"] <= 60


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


def test_xlsx_keeps_values_as_they_are(tmp_path: Path) -> None:
    """Text that looks like a formula stays text (an operator's remark must not run in the
    reader's Excel); missing and infinite numbers are blank; flags stay booleans and nullable
    integers whole."""
    rows = pd.DataFrame(
        {
            "note": ['=HYPERLINK("http://example.invalid","x")', "+1-2", None, "Thôn Đông"],
            "value": [1.5, np.nan, np.inf, -2.0],
            "flag": pd.array([True, None, False, True], dtype="boolean"),
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
        }
    )
    sheet = openpyxl.load_workbook(write_xlsx(tmp_path / "v.xlsx", {"v": (rows, None)}))["v"]
    notes = [sheet.cell(r, 1) for r in range(2, 6)]
    assert [c.data_type for c in notes] == ["s", "s", "n", "s"]
    assert [c.value for c in notes] == [rows.note[0], "+1-2", None, "Thôn Đông"]
    assert [sheet.cell(r, 2).value for r in range(2, 6)] == [1.5, None, None, -2.0]
    assert [sheet.cell(r, 3).value for r in range(2, 6)] == [True, None, False, True]
    assert [sheet.cell(r, 4).value for r in range(2, 6)] == [1, None, 3, 4]
