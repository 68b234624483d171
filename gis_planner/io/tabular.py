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

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from gis_planner.catalogue import LayerSpec
from gis_planner.errors import GisPlannerError
from gis_planner.io.columns import count_matches

#: How many rows from the top may hold titles before the header.
HEADER_SEARCH_ROWS = 30
DELIMITERS = (",", ";", "\t", "|")
#: Column holding the surplus cells of a row longer than its header.
EXTRA_COLUMN = "\x00extra"
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
    head = text[:200_000].splitlines()[: HEADER_SEARCH_ROWS + 20]
    if not head:
        raise GisPlannerError(f"{path}: the file is empty")
    delimiter = sniff_delimiter(head[: HEADER_SEARCH_ROWS + 20])
    parsed_head = list(csv.reader(head[:HEADER_SEARCH_ROWS], delimiter=delimiter))
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


_MERGE_REF = re.compile(rb'<mergeCell ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_ranges(path: Path, sheet_xml: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a sheet (min col, min row, max col, max row), from its XML.

    A read-only workbook (several times faster to load) does not parse them, so they are read
    from the sheet's part of the archive.
    """
    from openpyxl.utils.cell import range_boundaries

    with zipfile.ZipFile(path) as archive:
        xml = archive.read(sheet_xml.lstrip("/"))
    bounds = (range_boundaries(ref.decode()) for ref in _MERGE_REF.findall(xml))
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in bounds]


def _sheet_rows(path: Path, sheet: object) -> list[list[object]]:
    """Every row of a sheet, merged ranges filled with their top-left value (in headers, and
    in data cells merged over several rows, which then all hold the value)."""
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]  # type: ignore[attr-defined]
    for min_col, min_row, max_col, max_row in _merged_ranges(path, sheet._worksheet_path):  # type: ignore[attr-defined]
        if min_row > len(rows):
            continue
        top = rows[min_row - 1][min_col - 1] if min_col <= len(rows[min_row - 1]) else None
        for r in range(min_row - 1, min(max_row, len(rows))):
            row = rows[r]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            row[min_col - 1 : max_col] = [top] * (max_col - min_col + 1)
    return rows


def read_excel(path: Path, spec: LayerSpec, *, sheet: str | None = None) -> list[SourceTable]:
    """The station lists of an ``.xlsx`` workbook: the sheet named or numbered (1-based) by
    ``sheet``, or every sheet whose header names at least two fields of the layer."""
    from openpyxl import load_workbook  # imported here: only Excel imports pay for it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise GisPlannerError(f"{path}: not a readable .xlsx workbook ({error})") from None
    names = list(book.sheetnames)
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
        rows = _sheet_rows(path, book[name])
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
    book.close()  # a read-only workbook keeps its file open until closed
    if not tables:
        raise GisPlannerError(
            f"{path}: no sheet looks like a list for layer {spec.name!r} "
            f"(sheets: {', '.join(names)}); name one with --sheet"
        )
    return tables
