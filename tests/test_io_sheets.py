"""The extent of .xls and .ods sheets, read from their cells before the reader loads them: a few
bytes that claim millions of cells are refused by name, empty rows repeated to the end are not
counted."""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gis_planner.catalogue import get_spec
from gis_planner.errors import GisPlannerError
from gis_planner.io.sheets import SheetTooLarge, checked_workbook
from gis_planner.io.tabular import read_excel

from .io_files import station_list, write_ods, write_xls


def sheet_extents(path: Path) -> dict[str, tuple[int, int]]:
    with checked_workbook(path) as (_, extents):
        return extents


def test_extents_count_real_cells_only(tmp_path: Path) -> None:
    rows = station_list()
    expected = (len(rows), max(len(r) for r in rows))
    assert sheet_extents(write_xls(tmp_path / "a.xls", rows)) == {"Trạm BTS": expected}
    # The .ods ends with a million empty rows of 1,024 cells, as LibreOffice saves it.
    assert sheet_extents(write_ods(tmp_path / "a.ods", rows)) == {"Trạm BTS": expected}


def _ods_bomb(path: Path, rows: int, columns: int) -> Path:
    write_ods(path, [["Mã trạm", "Nhà mạng"]])
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    content = members["content.xml"].decode()
    bomb = (
        f'<table:table-row table:number-rows-repeated="{rows}">'
        f'<table:table-cell table:number-columns-repeated="{columns}" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )
    members["content.xml"] = content.replace("</table:table-row>", "</table:table-row>" + bomb, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("rows", "columns", "what"),
    [(10, 600, "600 columns"), (2_000_000, 2, "2,000,001 rows"), (50_000, 500, "cells")],
)
def test_an_ods_claiming_millions_of_cells_is_refused_unread(
    tmp_path: Path, rows: int, columns: int, what: str
) -> None:
    path = _ods_bomb(tmp_path / "tram.ods", rows, columns)
    assert path.stat().st_size < 5_000
    start = time.perf_counter()
    with pytest.raises(SheetTooLarge, match=what):
        read_excel(path, get_spec("sites"))
    assert time.perf_counter() - start < 2


def test_an_xls_cell_past_the_last_column_is_refused_unread(tmp_path: Path) -> None:
    path = write_xls(tmp_path / "tram.xls", station_list())
    data = path.read_bytes()
    # The NUMBER record of the first data row's longitude (row 4, column 4): moved to column
    # 60,000, which BIFF8 allows in its 16 bits and Excel never writes.
    record = struct.pack("<HHHH", 0x0203, 14, 4, 4)
    assert data.count(record) == 1
    path.write_bytes(data.replace(record, struct.pack("<HHHH", 0x0203, 14, 4, 60_000)))
    with pytest.raises(SheetTooLarge, match="60,001 columns"):
        read_excel(path, get_spec("sites"))


def test_an_ods_repeat_with_a_plus_sign_counts(tmp_path: Path) -> None:
    """The reader reads "+2000000" as 2,000,000 repeats (it was counted as 1 here: 4 M cells
    in a file of 1 KB got past the caps)."""
    path = _ods_bomb(tmp_path / "tram.ods", 2_000_000, 2)
    path = _rewritten(
        path, "content.xml", b'number-rows-repeated="2000000"', b'number-rows-repeated="+2000000"'
    )
    with pytest.raises(SheetTooLarge, match="2,000,001 rows"):
        read_excel(path, get_spec("sites"))


def test_a_run_of_cells_reaches_from_its_first_column() -> None:
    """A MULRK record's cells go from its first column on, as the reader places them: its
    last column (60,000 + 5,537 cells wrapping round to 1) is not believed."""
    from gis_planner.io import sheets

    cells = ((1 - 60_000) & 0xFFFF) + 1
    body = struct.pack("<HH", 3, 60_000) + struct.pack("<HI", 0, 30) * cells + struct.pack("<H", 1)
    record = struct.pack("<HH", 0x00BD, len(body)) + body
    assert sheets._xls_sheet_extent(record, 0) == (4, 60_000 + cells)


def test_the_workbook_stream_is_the_one_the_reader_reads() -> None:
    """The reader reads the entry named "Workbook" whatever its type, else "Book": a harmless
    "Book" before it was measured instead."""
    from gis_planner.io import sheets

    def entry(name: str, kind: int, start: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        head = encoded.ljust(64, b"\x00") + struct.pack("<HB", len(encoded), kind)
        return head.ljust(0x74, b"\x00") + struct.pack("<II", start, 8).ljust(12, b"\x00")

    compound = object.__new__(sheets._CompoundFile)
    compound.directory = entry("Root Entry", 5, 0) + entry("Book", 2, 1) + entry("Workbook", 1, 2)
    compound.mini_cutoff = 4
    compound.fat = b""
    compound._chain = lambda start, fat, mini=False: f"stream {start}".encode()  # type: ignore[method-assign]
    assert compound.stream(("Workbook", "Book")) == b"stream 2"
    compound.directory = entry("Root Entry", 5, 0) + entry("Book", 2, 1)
    assert compound.stream(("Workbook", "Book")) == b"stream 1"


def test_a_broken_xls_is_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "tram.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600)
    with pytest.raises(Exception, match=r"not a readable \.xls workbook"):
        read_excel(path, get_spec("sites"))


def test_a_part_claiming_fewer_bytes_than_it_inflates_to_is_a_broken_file(
    tmp_path: Path,
) -> None:
    """The inflated bytes are counted, not read from the headers: a part whose headers claim
    less than it holds fails its CRC check and the file is refused as broken, unread."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Mã trạm", "Nhà mạng"])
    path = tmp_path / "tram.xlsx"
    book.save(path)
    data = bytearray(path.read_bytes())
    name = b"xl/styles.xml"  # read by the reader, not by the sheets' scan
    local = data.find(b"PK\x03\x04")
    while data[local + 30 : local + 30 + len(name)] != name:
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, local + 22, 10)  # uncompressed size: 10 bytes
    struct.pack_into("<I", data, central + 24, 10)
    path.write_bytes(bytes(data))
    with pytest.raises(Exception, match=r"tram.xlsx: not a readable \.xlsx workbook.*CRC"):
        read_excel(path, get_spec("sites"))


def _rewritten(path: Path, part: str, old: bytes, new: bytes) -> Path:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    assert old in parts[part]
    parts[part] = parts[part].replace(old, new, 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


#: An attribute of 4 MiB: a tag no writer makes.
_LONG = b' note="' + b"x" * (4 << 20) + b'"'


@pytest.mark.parametrize("sheet", ["as Excel writes it", "with prefixes", "OpenDocument"])
def test_a_tag_of_megabytes_is_a_named_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sheet: str
) -> None:
    """A tag of more than a MiB is refused by the XML parser (whose expat went over an
    unfinished tag again with every chunk: a GB took minutes), and by the byte scan where it
    runs past a chunk (it was carried and copied with every chunk)."""
    from gis_planner.io import sheets

    monkeypatch.setattr(sheets, "_CHUNK_BYTES", 1 << 20)
    if sheet == "OpenDocument":
        path = write_ods(tmp_path / "tram.ods", station_list())
        path = _rewritten(path, "content.xml", b"<table:table-row", b"<table:table-row" + _LONG)
    else:
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["Mã trạm", "Nhà mạng"])
        path = tmp_path / "tram.xlsx"
        book.save(path)
        part = "xl/worksheets/sheet1.xml"
        path = _rewritten(path, part, b'<c r="A1"', b'<c r="A1"' + _LONG)
        if sheet == "with prefixes":  # read by the XML parser, not by the byte scan
            path = _rewritten(path, part, b"<row ", b'<x:row xmlns:x="urn:x"/><row ')
    start = time.perf_counter()
    with pytest.raises(GisPlannerError, match="a tag of more than 1,048,576 bytes"):
        read_excel(path, get_spec("sites"))
    assert time.perf_counter() - start < 5


def test_a_workbook_with_a_part_named_twice_is_refused(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "tram.ods", station_list())
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("content.xml", b"<x/>")
    with pytest.raises(GisPlannerError, match=r"parts named twice \(content.xml\)"):
        read_excel(path, get_spec("sites"))


def test_parts_named_twice_among_many_are_named_once_each(tmp_path: Path) -> None:
    """Among 60,000 parts, those named twice or more are each named once, in order (compared
    name by name, such a file took half a minute to refuse; counted, about a second)."""
    path = write_ods(tmp_path / "tram.ods", station_list())
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        for i in range(60_000):
            archive.writestr(f"Pictures/{i}.png", b"")
        for again in ("Pictures/7.png", "Pictures/0.png", "Pictures/7.png"):
            archive.writestr(again, b"")
    twice = r"parts named twice \(Pictures/0.png, Pictures/7.png\)"
    with pytest.raises(GisPlannerError, match=twice):
        read_excel(path, get_spec("sites"))


def test_parts_zipfile_cannot_inflate_are_left_out(tmp_path: Path) -> None:
    """A thumbnail compressed by a method zipfile lacks (Deflate64, as Windows writes large
    files) or encrypted is no part the reader needs: the list is read without it."""
    path = write_ods(tmp_path / "tram.ods", station_list())
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("Thumbnails/thumbnail.png", b"\x89PNG" + b"\x00" * 100)
    data = bytearray(path.read_bytes())
    name = b"Thumbnails/thumbnail.png"
    local = data.find(name) - 30
    central = data.rfind(name) - 46
    assert data[local : local + 4] == b"PK\x03\x04" and data[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<H", data, local + 8, 9)  # Deflate64
    struct.pack_into("<H", data, central + 10, 9)
    path.write_bytes(bytes(data))
    (table,) = read_excel(path, get_spec("sites"))
    assert len(table.frame) == len(station_list()) - 4


def test_columns_of_numbers_stay_numbers_and_codes_read_whole(tmp_path: Path) -> None:
    """A column holding only numbers reaches the parsers as numbers (whole ones as integers, so
    that a code reads 13285, never 13285.0); a column mixing numbers and text is text."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["DANH SÁCH TRẠM"])
    sheet.append(["Mã trạm", "Mã xã", "Kinh độ", "Vĩ độ", "Độ cao cột (m)"])
    sheet.append(["HNM-1", 13285, 105.9123, 20.5, 45])
    sheet.append(["HNM-2", None, 105.95, 20.55, "N/A"])
    path = tmp_path / "tram.xlsx"
    book.save(path)
    (table,) = read_excel(path, get_spec("sites"))
    frame = table.frame
    assert str(frame["Mã xã"].dtype) == "Int64"
    assert frame["Mã xã"].astype("string").tolist()[0] == "13285"
    assert frame["Kinh độ"].dtype == "float64"
    assert frame["Kinh độ"].tolist() == [105.9123, 105.95]
    assert frame["Độ cao cột (m)"].tolist() == ["45", "N/A"]
    assert frame["Mã trạm"].tolist() == ["HNM-1", "HNM-2"]
    assert table.rows.tolist() == [3, 4]


def _workbooks(tmp_path: Path) -> list[Path]:
    """Workbooks as writers make them: shared strings and merged cells (openpyxl), inline
    strings streamed (openpyxl write-only), and a far cell among ordinary ones."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Trạm BTS"
    sheet.append(["DANH SÁCH TRẠM"])
    sheet.merge_cells("A1:F1")
    for row in station_list():
        sheet.append(row)
    sheet["XFD40"] = "ghi chú"
    shared = tmp_path / "shared.xlsx"
    book.save(shared)
    streamed = Workbook(write_only=True)
    stream = streamed.create_sheet("Trạm BTS")
    for i in range(3000):
        stream.append([f"HNM-{i:04d}", "Viettel", 105.9 + i * 1e-5, 20.5, 30 if i % 3 else "N/A"])
    inline = tmp_path / "inline.xlsx"
    streamed.save(inline)
    return [shared, inline]


def test_the_byte_scan_finds_the_extent_the_xml_parser_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extent found in the sheet's bytes is the XML parser's, for every writer's cells,
    also when the bytes are looked at in chunks that cut tags and references anywhere."""
    from gis_planner.io import sheets

    for path in _workbooks(tmp_path):
        with zipfile.ZipFile(path) as archive:
            for part in sheets._sheet_parts(archive).values():
                parsed = sheets._xlsx_extent(archive, part)
                assert sheets._xlsx_extent_by_references(archive, part) == parsed
                for size in (7, 64) if path.name == "shared.xlsx" else (4096,):
                    monkeypatch.setattr(sheets, "_CHUNK_BYTES", size)
                    assert sheets._xlsx_extent_by_references(archive, part) == parsed
                monkeypatch.undo()
    assert sheet_extents(tmp_path / "shared.xlsx") == {"Trạm BTS": (40, 16384)}
    assert sheet_extents(tmp_path / "inline.xlsx") == {"Trạm BTS": (3000, 5)}


def test_a_long_text_is_not_carried_from_chunk_to_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes are carried to the next chunk only where a tag may be cut: a cell's text of
    megabytes was carried whole and copied again with every chunk (a text of a GB took the
    scan's memory and time with it), and is now looked at once."""
    from openpyxl import Workbook

    from gis_planner.io import sheets

    book = Workbook()
    book.active.append(["Mã trạm", "Ghi chú"])
    book.active.append(["HNM-1", "MARK"])
    book.active["C7"] = "y"
    path = tmp_path / "tram.xlsx"
    book.save(path)
    # past Excel's 32,767 characters a cell, which openpyxl cuts a text to
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b">MARK<", b">" + b"x" * 1_000_000 + b"<")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    scanned: list[int] = []
    references = sheets._references

    def counted(buffer: np.ndarray, size: int) -> tuple[int, int, int] | None:
        scanned.append(len(buffer))
        return references(buffer, size)

    monkeypatch.setattr(sheets, "_references", counted)
    monkeypatch.setattr(sheets, "_CHUNK_BYTES", 4096)
    with zipfile.ZipFile(path) as archive:
        (part,) = sheets._sheet_parts(archive).values()
        assert sheets._xlsx_extent_by_references(archive, part) == (7, 3)
        assert sheets._xlsx_extent(archive, part) == (7, 3)
    assert len(scanned) > 200 and max(scanned) < 4096 + 1024


def test_a_long_column_of_numbers_and_texts_reads_as_text_like_a_short_one(
    tmp_path: Path,
) -> None:
    """Heights as numbers with "N/A" among them: read value by value when the column repeats
    a few values (a long list), cell by cell otherwise (a short one), to the same texts."""
    from openpyxl import Workbook

    heights: list[object] = [30, "N/A", 45.5, 36.0, None, "45m"]
    for rows in (len(heights), 2400):
        book = Workbook()
        sheet = book.active
        sheet.append(["Mã trạm", "Nhà mạng", "Độ cao cột (m)"])
        for i in range(rows):
            sheet.append([f"HNM-{i}", "Viettel", heights[i % len(heights)]])
        path = tmp_path / f"tram_{rows}.xlsx"
        book.save(path)
        (table,) = read_excel(path, get_spec("sites"))
        column = table.frame["Độ cao cột (m)"]
        expected = ["30", "N/A", "45.5", "36", None, "45m"] * (rows // len(heights))
        assert [None if pd.isna(v) else v for v in column] == expected
        assert table.rows.tolist() == list(range(2, rows + 2))


def test_latin1_texts_are_told_from_their_bytes_as_from_their_letters() -> None:
    import re

    import pyarrow as pa

    from gis_planner.io.tabular import _western

    texts = ["abc", "", "Cét tù ®øng", "Coät töï ñöùng", "Trạm 1", "é", "Thôn", "Ā", "ÿ"]
    found = _western(pa.array(texts, type=pa.large_string()))
    pattern = re.compile(r"^[\x00-\xff]*[\x80-\xff][\x00-\xff]*$")
    assert found.tolist() == [pattern.match(t) is not None for t in texts]
    assert _western(pa.array(texts, type=pa.large_string()).slice(2, 3)).tolist() == [
        True,
        True,
        False,
    ]
