"""Station lists as tables: CSV/TSV in any delimiter and encoding, and Excel workbooks.

A reader returns ``SourceTable``s of text cells (a workbook's columns holding only numbers stay
numbers) with, for every data row, its row number as the user sees it in the source (line in a
CSV, row in a sheet). The header row is found below any
title rows: it is the row among the first ones that names the most fields of the target layer,
and it must name at least two. Workbooks are .xlsx, .xlsm, .xls and .ods.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from charset_normalizer import from_bytes
from python_calamine import CalamineError, CalamineSheet, CalamineWorkbook, SheetVisibleEnum

from gis_planner.catalogue import LayerSpec
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import nfc
from gis_planner.io.columns import count_matches, expected_columns
from gis_planner.io.legacy import (
    detect,
    legacy_mapping,
    legacy_name,
    to_unicode,
    vietnamese_words,
)
from gis_planner.io.sheets import check_size, sheet_extents

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
    """Cells of one table of a source file (text, or numbers in a column of numbers), with the
    source row number of each row."""

    frame: pd.DataFrame
    rows: np.ndarray
    sheet: str | None = None
    header_row: int = 1
    encoding: str | None = None


def decode(data: bytes, name: str = "file") -> tuple[str, str]:
    """The text of a file and the encoding it was read in.

    Byte-order marks decide first (UTF-8, UTF-16); then strict UTF-8; then charset-normalizer,
    whose Western single-byte guesses are settled between Windows-1258 (Vietnamese) and
    Windows-1252 by whether the Vietnamese reading has letters only Vietnamese uses; then a
    legacy font encoding (TCVN3, VNI) if it reads as more Vietnamese words. Text in a legacy
    encoding is returned in Unicode, and the encoding named "tcvn3" or "vni".
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return _unlegacy(data.decode(encoding), encoding)
    try:
        return _unlegacy(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    # Bytes of a legacy font encoding, read as Western text, against the code pages' reading.
    western = data.decode("latin-1")
    legacy = detect(western[:200_000].splitlines())
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
    if legacy is not None:
        converted = to_unicode(western, legacy)
        sample = slice(0, 200_000)
        if vietnamese_words([converted[sample]]) > vietnamese_words([nfc(text[sample])]):
            return converted, legacy
    return text, encoding


def _unlegacy(text: str, encoding: str) -> tuple[str, str]:
    """Text of a legacy font saved as Unicode (an export of a sheet typed in ".VnTime"): the
    lines in that legacy encoding converted, the encoding named after the file's."""
    lines = text.splitlines(keepends=True)
    converted, legacy = legacy_mapping((line for line in lines[:2000]), None)
    if legacy is None:
        return text, encoding
    if len(lines) > 2000:
        converted, _ = legacy_mapping(lines, legacy)
    return "".join(converted.get(line, line) for line in lines), f"{encoding}, {legacy}"


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


#: How many known columns a row must name to be taken for the header.
MIN_HEADER_MATCHES = 2


def header_row(
    rows: Sequence[Sequence[object]],
    spec: LayerSpec,
    known: Iterable[str],
    where: str,
    optional: bool = False,
) -> int | None:
    """Index of the row naming the most fields of ``spec`` (or columns ``known`` to a mapping
    file) among the first rows. A row naming fewer than ``MIN_HEADER_MATCHES`` is no header:
    None when a header is ``optional`` (a sheet among others), else an error saying which
    columns were expected."""
    names = set(known)
    best, best_count = 0, -1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = count_matches(row, spec) + sum(1 for cell in row if cell in names)
        if count > best_count:
            best, best_count = index, count
    if best_count >= MIN_HEADER_MATCHES:
        return best
    if optional:
        return None
    raise GisPlannerError(
        f"{where}: no header row names the columns of layer {spec.name!r} (in the first "
        f"{HEADER_SEARCH_ROWS} rows); expected columns such as {expected_columns(spec)}, "
        "or a --mapping naming the file's columns"
    )


def header_rows(rows: Sequence[Sequence[object]], index: int, spec: LayerSpec) -> int:
    """How many rows the header takes: two when the row below names as many fields (the English
    labels under the Vietnamese ones, as the import templates have them)."""
    below = rows[index + 1] if index + 1 < len(rows) else ()
    return 2 if count_matches(below, spec) >= max(count_matches(rows[index], spec), 1) else 1


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
    filled = np.zeros(len(frame), dtype=bool)
    for _, column in frame.items():
        if pd.api.types.is_numeric_dtype(column):
            filled |= column.notna().to_numpy()
        else:
            text = column.astype("string[pyarrow]").str.strip()
            filled |= (text.notna() & (text != "")).to_numpy(dtype=bool)
    return frame[filled].reset_index(drop=True), rows[filled]


def read_csv(
    path: Path, spec: LayerSpec, *, encoding: str | None = None, known: Iterable[str] = ()
) -> SourceTable:
    """A delimited text file (any of , ; tab |) in any common encoding or a legacy Vietnamese
    one (TCVN3, VNI), title rows allowed."""
    data = path.read_bytes()
    legacy = legacy_name(encoding)
    if legacy is not None:
        text = to_unicode(data.decode("latin-1"), legacy)
    elif encoding is not None:
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
    header_index = header_row(parsed_head, spec, known, str(path))
    assert header_index is not None
    header = _unique_headers(parsed_head[header_index])
    skip = header_index + header_rows(parsed_head, header_index, spec)
    names = [*header, EXTRA_COLUMN]
    options = dict(
        sep=delimiter,
        header=None,
        names=names,
        skiprows=skip,
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
    rows = np.arange(len(frame), dtype=np.int64) + skip + 1
    if '"' in text:
        # A quoted cell may span lines: later rows start that many lines further down.
        spans = frame.apply(lambda column: column.str.count("\n")).fillna(0).sum(axis=1)
        rows += np.concatenate([[0], np.cumsum(spans.to_numpy(dtype=np.int64))[:-1]])
    frame, rows = _drop_empty_rows(frame, rows)
    if frame[EXTRA_COLUMN].replace("", np.nan).isna().all():
        frame = frame.drop(columns=EXTRA_COLUMN)
    return SourceTable(frame, rows, None, header_index + 1, legacy or encoding)


_KINDS = {float: "number", int: "number", bool: "flag", str: "text", type(None): "empty"}
_KIND_OF = np.frompyfunc(lambda value: _KINDS.get(type(value), "other"), 1, 1)
_TEXT_OF = np.frompyfunc(str, 1, 1)


#: Rows of a column looked at cell by cell: titles and headers above a list of one kind.
_HEAD_ROWS = 64


def _cell_kinds(values: np.ndarray) -> np.ndarray:
    """Each cell's kind (number, flag, text, empty or other). Below its first rows a column
    usually holds one kind, told at once without a look at each cell's type."""
    kinds = np.empty(len(values), dtype="U6")
    kinds[:_HEAD_ROWS] = _KIND_OF(values[:_HEAD_ROWS])
    body = values[_HEAD_ROWS:]
    inferred = pd.api.types.infer_dtype(body, skipna=True)
    if inferred in ("string", "empty", "floating", "integer", "mixed-integer-float"):
        kind = "text" if inferred == "string" else "number"
        kinds[_HEAD_ROWS:] = np.where(pd.isna(body), "empty", kind)
    else:
        kinds[_HEAD_ROWS:] = _KIND_OF(body)
    kinds[values == ""] = "empty"  # the reader's empty cell
    return kinds


def _cells_as_text(values: np.ndarray, kinds: np.ndarray | None = None) -> np.ndarray:
    """A column of sheet cells as text, column-wise: numbers without a spurious ".0" (codes
    read as 13285.0), booleans as true/false, empty cells as None."""
    out = values.copy()
    kinds = _cell_kinds(values) if kinds is None else kinds
    numbers = kinds == "number"
    if numbers.any():
        floats = values[numbers].astype(np.float64)
        whole = np.isfinite(floats) & (floats == np.floor(floats)) & (np.abs(floats) < 2**53)
        text = floats.astype(str).astype(object)
        text[whole] = floats[whole].astype(np.int64).astype(str)
        out[numbers] = text
    flags = kinds == "flag"
    if flags.any():
        out[flags] = np.where(values[flags].astype(bool), "true", "false")
    others = kinds == "other"
    if others.any():  # dates, times and durations
        out[others] = _TEXT_OF(values[others])
    out[out == ""] = None
    return out


def _body_column(values: np.ndarray, kinds: np.ndarray, converted: dict[str, str]) -> pd.Series:
    """A column of data cells. A column of numbers (and empty cells) stays numeric, whole
    numbers as integers so that a code reads 13285: the parsers take numbers as they are,
    where text would be written out and read back. Any other column is text, with the texts
    of a legacy font converted."""
    if np.isin(kinds, ("number", "empty")).all() and (kinds == "number").any():
        floats = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        finite = floats[floats.notna()].to_numpy(np.float64)
        if (np.isfinite(finite) & (finite == np.floor(finite)) & (np.abs(finite) < 2**53)).all():
            return floats.astype("Int64")
        return floats.astype(np.float64)
    text = pd.Series(_cells_as_text(values, kinds), dtype=object)
    return text.map(converted).fillna(text) if converted else text


def _sheet_cells(sheet: CalamineSheet) -> pd.DataFrame:
    """Every cell of a sheet from A1 as the reader gives it (number, text, flag, date or None),
    merged ranges filled with their top-left value (in headers, and in data cells merged over
    several rows, which then all hold the value).

    A merged range is filled only where the sheet has cells: a merge may claim every column.
    """
    frame = pd.DataFrame(sheet.to_python(skip_empty_area=False), dtype=object)
    height, width = frame.shape
    for (min_row, min_col), (max_row, max_col) in sheet.merged_cell_ranges or []:
        if min_row < height and min_col < width:
            top = frame.iat[min_row, min_col]
            frame.iloc[min_row : max_row + 1, min_col : max_col + 1] = top
    return frame


def _text_rows(block: np.ndarray, kinds: np.ndarray) -> list[list[str | None]]:
    """Rows of sheet cells (of ``kinds``) as text, as the header is looked for."""
    columns = [_cells_as_text(block[:, j], kinds[:, j]) for j in range(block.shape[1])]
    return np.column_stack(columns).tolist() if columns else []


#: Texts with letters beyond ASCII and none beyond Latin-1.
_WESTERN = r"^[\x00-\xff]*[\x80-\xff][\x00-\xff]*$"


def _western_texts(cells: np.ndarray, kinds: np.ndarray) -> list[str]:
    """The distinct texts of ``cells`` with letters beyond ASCII and none beyond Latin-1: the
    only ones that can be typed in a legacy font. A sheet has millions of cells and few
    distinct texts, which alone are looked at (in Arrow)."""
    distinct = [pd.unique(cells[:, j][kinds[:, j] == "text"]) for j in range(cells.shape[1])]
    texts = pa.array(np.concatenate(distinct) if distinct else [], type=pa.string())
    return pc.unique(texts.filter(pc.match_substring_regex(texts, _WESTERN))).to_pylist()


def read_excel(
    path: Path,
    spec: LayerSpec,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    known: Iterable[str] = (),
) -> list[SourceTable]:
    """The station lists of a workbook (.xlsx, .xlsm, .xls or .ods): the sheet named or
    numbered (1-based) by ``sheet``, or every visible sheet with a header row (see
    ``header_row``).

    Text typed in a legacy Vietnamese font (TCVN3, VNI) is converted to Unicode: in
    ``encoding`` when it names one, else in the one a sheet's texts are detected in.
    """
    extents = sheet_extents(path)
    # Every sheet, before the reader opens the file: its .xls and .ods readers load them all.
    for name, extent in extents.items():
        check_size(path, name, extent)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except (OSError, CalamineError) as error:
        raise GisPlannerError(f"{path}: not a readable workbook ({error})") from None
    names = [n for n in book.sheet_names if n in extents]
    if sheet is not None:
        if sheet in names:
            chosen = [sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            chosen = [names[int(sheet) - 1]]
        else:
            raise GisPlannerError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
    else:
        # A hidden sheet holds what a workbook's lists draw from, not a list.
        hidden = {m.name for m in book.sheets_metadata if m.visible != SheetVisibleEnum.Visible}
        chosen = [n for n in names if n not in hidden]
    tables = []
    for name in chosen:
        try:
            cells = _sheet_cells(book.get_sheet_by_name(name))
        except CalamineError as error:
            raise GisPlannerError(f"{path}: sheet {name!r} is not readable ({error})") from None
        if cells.empty:
            continue
        values = cells.to_numpy(object)
        kinds = np.column_stack([_cell_kinds(values[:, j]) for j in range(values.shape[1])])
        converted, legacy = legacy_mapping(_western_texts(values, kinds), legacy_name(encoding))
        top = slice(0, HEADER_SEARCH_ROWS)
        head = [
            [converted.get(text, text) if isinstance(text, str) else text for text in row]
            for row in _text_rows(values[top], kinds[top])
        ]
        header_index = header_row(head, spec, known, f"{path}, sheet {name!r}", sheet is None)
        if header_index is None:
            continue
        header = _unique_headers(head[header_index])
        skip = header_index + header_rows(head, header_index, spec)
        frame = pd.DataFrame(
            {
                title: _body_column(values[skip:, j], kinds[skip:, j], converted)
                for j, title in enumerate(header)
            }
        )
        numbers = np.arange(len(frame), dtype=np.int64) + skip + 1
        frame, numbers = _drop_empty_rows(frame, numbers)
        tables.append(SourceTable(frame, numbers, name, header_index + 1, legacy))
    book.close()
    if not tables:
        raise GisPlannerError(
            f"{path}: no sheet has a header row naming the columns of layer {spec.name!r} "
            f"(sheets: {', '.join(names)}); expected columns such as "
            f"{expected_columns(spec)}; name a sheet with --sheet or the columns with --mapping"
        )
    return tables
