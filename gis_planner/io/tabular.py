"""Station lists as tables: CSV/TSV in any delimiter and encoding, and Excel workbooks.

A reader returns ``SourceTable``s of text cells with, for every data row, its row number as the
user sees it in the source (line in a CSV, row in a sheet). The header row is found below any
title rows: it is the row among the first ones that names the most fields of the target layer.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes
from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook

from gis_planner.catalogue import LayerSpec
from gis_planner.errors import GisPlannerError
from gis_planner.io.columns import count_matches

#: How many rows from the top may hold titles before the header.
HEADER_SEARCH_ROWS = 30
DELIMITERS = (",", ";", "\t", "|")
#: Column holding the surplus cells of a row longer than its header.
EXTRA_COLUMN = "\x00extra"
#: Longest field Python's csv module reads (it raises past it). Lines are cut to it to find the
#: delimiter and the header, whose cells are short; pandas' parsers read the rows whole.
CSV_FIELD_CHARS = csv.field_size_limit()
# Letters that only Vietnamese uses among the texts Windows-1258 and Windows-1252 decode to:
# ă ơ ư đ (and capitals) and the combining hook above and dot below.
_VIETNAMESE_ONLY = set("ăơưđĂƠƯĐ\u0309\u0323")


@dataclass(frozen=True)
class SourceTable:
    """Text cells of one table of a source file, with the source row number of each row."""

    frame: pd.DataFrame
    rows: np.ndarray
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None


def decode(data: bytes, name: str = "file") -> tuple[str, str]:
    """The text of a file and the encoding it was read in.

    Byte-order marks decide first (UTF-8, UTF-16); then strict UTF-8; then charset-normalizer,
    whose Western single-byte guesses are settled between Windows-1258 (Vietnamese) and
    Windows-1252 by whether the Vietnamese reading has letters only Vietnamese uses.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Station lists come from Vietnamese offices: the candidates are the Windows code pages
    # they use and UTF-16 without a BOM; a wider search mistakes short files for Baltic ones.
    best = from_bytes(data[:200_000], cp_isolation=["cp1252", "cp1258", "utf_16"]).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding != "utf_16":
        vietnamese = data.decode("cp1258", errors="replace")
        encoding = "cp1258" if _VIETNAMESE_ONLY & set(vietnamese) else "cp1252"
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise GisPlannerError(f"{name}: cannot tell the text encoding ({error})") from None
    return text, encoding


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter splitting the most lines into the same number of fields.

    Decimal commas in a semicolon file vary from line to line; the real delimiter does not.
    """
    best, best_score = ",", (-1.0, 0)
    sample = [line for line in lines if line.strip()]
    for delimiter in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delimiter))) - 1 for line in sample]
        present = [c for c in counts if c > 0]
        if not present:
            continue
        mode = max(set(present), key=present.count)
        score = (counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _best_header(rows: Sequence[Sequence[object]], spec: LayerSpec) -> tuple[int, int]:
    """Index of the row naming the most fields among the first rows, and that count."""
    best, best_count = 0, -1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = count_matches(row, spec)
        if count > best_count:
            best, best_count = index, count
    return best, best_count


def _unique_headers(cells: Sequence[object]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for position, cell in enumerate(cells, start=1):
        name = "" if cell is None else " ".join(str(cell).split())
        name = name or f"column {position}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def _drop_empty_rows(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    text = frame.astype("string").apply(lambda c: c.str.strip())
    filled = (text.notna() & (text != "")).any(axis=1).to_numpy()
    return frame[filled].reset_index(drop=True), rows[filled]


def read_csv(path: Path, spec: LayerSpec, *, encoding: str | None = None) -> SourceTable:
    """A delimited text file (any of , ; tab |) in any common encoding, title rows allowed."""
    data = path.read_bytes()
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise GisPlannerError(f"{path}: not readable as {encoding}: {error}") from None
    else:
        text, encoding = decode(data, str(path))
    head = [line[:CSV_FIELD_CHARS] for line in text[:200_000].splitlines()]
    head = head[: HEADER_SEARCH_ROWS + 20]
    if not head:
        raise GisPlannerError(f"{path}: the file is empty")
    delimiter = sniff_delimiter(head)
    try:
        parsed_head = list(csv.reader(head[:HEADER_SEARCH_ROWS], delimiter=delimiter))
    except csv.Error:
        # A quoted field runs over several cut lines: the header is found line by line.
        parsed_head = [
            next(csv.reader([line], delimiter=delimiter), []) for line in head[:HEADER_SEARCH_ROWS]
        ]
    header_index, _ = _best_header(parsed_head, spec)
    header = _unique_headers(parsed_head[header_index])
    names = [*header, EXTRA_COLUMN]
    options = dict(
        sep=delimiter,
        header=None,
        names=names,
        skiprows=header_index + 1,
        dtype=str,
        keep_default_na=False,
        na_values=[],
        skip_blank_lines=False,
        index_col=False,
    )
    try:
        frame = pd.read_csv(io.StringIO(text), engine="c", **options)
    except pd.errors.ParserError:
        # Rows longer than the header: keep them whole (surplus cells joined in one column),
        # so that they are rejected with a reason instead of lost.
        frame = pd.read_csv(
            io.StringIO(text),
            engine="python",
            on_bad_lines=lambda fields: [
                *fields[: len(header)],
                delimiter.join(fields[len(header) :]),
            ],
            **options,
        )
    # Line numbers as an editor shows them: the header's line plus the data row's position.
    rows = np.arange(len(frame), dtype=np.int64) + header_index + 2
    if '"' in text:
        # A quoted cell may span lines: later rows start that many lines further down.
        spans = frame.apply(lambda column: column.str.count("\n")).fillna(0).sum(axis=1)
        rows += np.concatenate([[0], np.cumsum(spans.to_numpy(dtype=np.int64))[:-1]])
    frame, rows = _drop_empty_rows(frame, rows)
    if frame[EXTRA_COLUMN].replace("", np.nan).isna().all():
        frame = frame.drop(columns=EXTRA_COLUMN)
    return SourceTable(frame, rows, None, header_index + 1, encoding)


def _cell_text(value: object) -> object:
    """Excel cells as text, numbers without a spurious ".0" (codes read as 13285.0)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: Bounds on a sheet, by its real cells (never by the ``<dimension>`` a file claims). The
#: reader holds the sheet as one grid from A1 to its last cell: a million rows is several
#: times the largest station list, 512 columns several times the widest, and 20 million grid
#: cells about 1 GiB at the peak.
MAX_SHEET_ROWS = 1_000_000
MAX_SHEET_COLUMNS = 512
MAX_SHEET_CELLS = 20_000_000

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]+)$")
_ROW_TAG = "http://schemas.openxmlformats.org/spreadsheetml/2006/main row"
_CELL_TAG = "http://schemas.openxmlformats.org/spreadsheetml/2006/main c"


class SheetTooLarge(GisPlannerError):
    """A sheet whose real cells exceed what the reader holds (rows, columns or cells)."""


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part in the archive, from the workbook and its relationships."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {
        r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PACKAGE_REL_NS}Relationship")
    }
    parts = {}
    for sheet in book.iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(f"{_REL_NS}id"), "")
        parts[sheet.get("name", "")] = (
            target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        )
    return parts


def _column_number(letters: str) -> int:
    """1-based column of its letters (A → 1, XFD → 16384)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _real_extent(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """Rows and columns from A1 to the last cell a sheet really has, streamed from its XML
    (a cell or row without a reference follows the previous one, as Excel reads it)."""
    extent = [0, 0]  # rows, columns
    position = [0, 0]  # current row, column

    def start(tag: str, attributes: dict[str, str]) -> None:
        if tag == _ROW_TAG:
            reference = attributes.get("r", "")
            position[0] = int(reference) if reference.isdigit() else position[0] + 1
            position[1] = 0
        elif tag == _CELL_TAG:
            match = _CELL_REF.match(attributes.get("r", ""))
            position[1] = _column_number(match[1]) if match else position[1] + 1
            extent[0], extent[1] = max(extent[0], position[0]), max(extent[1], position[1])

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    with archive.open(part) as xml:
        while chunk := xml.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    return extent[0], extent[1]


def _check_size(path: Path, name: str, rows: int, columns: int) -> None:
    if rows > MAX_SHEET_ROWS:
        what = f"{rows:,} rows (at most {MAX_SHEET_ROWS:,})"
    elif columns > MAX_SHEET_COLUMNS:
        what = f"{columns:,} columns (at most {MAX_SHEET_COLUMNS:,})"
    elif rows * columns > MAX_SHEET_CELLS:
        what = f"{rows:,} × {columns:,} cells (at most {MAX_SHEET_CELLS:,})"
    else:
        return
    raise SheetTooLarge(f"{path}: sheet {name!r} is too large: {what}")


def _sheet_rows(sheet: CalamineSheet) -> list[list[object]]:
    """Every row of a sheet from A1, merged ranges filled with their top-left value (in
    headers, and in data cells merged over several rows, which then all hold the value).

    A merged range is filled only where the sheet has cells: a merge may claim every column.
    """
    rows: list[list[object]] = [
        [None if v == "" else v for v in r] for r in sheet.to_python(skip_empty_area=False)
    ]
    width = max((len(r) for r in rows), default=0)
    for (min_row, min_col), (max_row, max_col) in sheet.merged_cell_ranges or []:
        if min_row >= len(rows) or min_col >= width:
            continue
        top = rows[min_row][min_col]
        for r in range(min_row, min(max_row + 1, len(rows))):
            rows[r][min_col : min(max_col + 1, width)] = [top] * (min(max_col + 1, width) - min_col)
    return rows


def read_excel(path: Path, spec: LayerSpec, *, sheet: str | None = None) -> list[SourceTable]:
    """The station lists of an ``.xlsx`` workbook: the sheet named or numbered (1-based) by
    ``sheet``, or every sheet whose header names at least two fields of the layer."""
    try:
        archive = zipfile.ZipFile(path)
        parts = _sheet_parts(archive)
        book = CalamineWorkbook.from_path(str(path))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, CalamineError) as error:
        raise GisPlannerError(f"{path}: not a readable .xlsx workbook ({error})") from None
    with archive:
        names = [n for n in book.sheet_names if n in parts]
        if sheet is not None:
            if sheet in names:
                chosen = [sheet]
            elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
                chosen = [names[int(sheet) - 1]]
            else:
                raise GisPlannerError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
        else:
            chosen = names
        tables = []
        for name in chosen:
            try:
                # Before the sheet is loaded: the reader allocates a grid up to its last cell.
                _check_size(path, name, *_real_extent(archive, parts[name]))
                rows = _sheet_rows(book.get_sheet_by_name(name))
            except (KeyError, expat.ExpatError, CalamineError) as error:
                raise GisPlannerError(f"{path}: sheet {name!r} is not readable ({error})") from None
            if not rows:
                continue
            header_index, matches = _best_header(rows, spec)
            if sheet is None and matches < 2:
                continue
            width = max(len(r) for r in rows)
            cells = [[_cell_text(v) for v in r] + [None] * (width - len(r)) for r in rows]
            header = _unique_headers(cells[header_index])
            frame = pd.DataFrame(cells[header_index + 1 :], columns=header, dtype=object)
            numbers = np.arange(len(frame), dtype=np.int64) + header_index + 2
            frame, numbers = _drop_empty_rows(frame, numbers)
            tables.append(SourceTable(frame, numbers, name, header_index + 1))
    book.close()
    if not tables:
        raise GisPlannerError(
            f"{path}: no sheet looks like a list for layer {spec.name!r} "
            f"(sheets: {', '.join(names)}); name one with --sheet"
        )
    return tables
