"""Tables written for people: labelled headers with units, CSV that Excel reads in Vietnamese."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

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
