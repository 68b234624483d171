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
import re
from collections.abc import Iterable, Mapping, Sequence
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
from gis_planner.io.cycles import cycles_uncollected
from gis_planner.io.legacy import (
    detect,
    legacy_mapping,
    legacy_name,
    to_unicode,
    vietnamese_words,
)
from gis_planner.io.sheets import Extent, check_size, checked_workbook

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


#: What ends a line of a CSV file for its parser.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
        if filled.all():
            return frame, rows
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
    # Lines as the CSV parser counts them: str.splitlines also breaks at U+2028, form feeds
    # and the like, and a title holding one of them shifted the header and lost data rows.
    head = [line[:CSV_FIELD_CHARS] for line in _LINE_BREAK.split(text[:200_000])]
    if head and not head[-1]:
        head.pop()
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
#: The kind of an Arrow array of cells of one kind.
_ARROW_KINDS = {pa.string(): "text", pa.float64(): "number", pa.int64(): "number",
                pa.null(): "empty"}  # fmt: skip


def _cell_kinds(values: np.ndarray) -> np.ndarray:
    """Each cell's kind (number, flag, text, empty or other), cell by cell."""
    kinds = np.asarray(_KIND_OF(values), dtype="U6")
    kinds[values == ""] = "empty"  # the reader's empty cell
    return kinds


def _cells_as_text(values: np.ndarray, kinds: np.ndarray | None = None) -> np.ndarray:
    """A column of sheet cells as text, column-wise: numbers without a spurious ".0" (codes
    read as 13285.0), booleans as true/false, empty cells as None."""
    out = values.copy()
    kinds = _cell_kinds(values) if kinds is None else kinds
    numbers = kinds == "number"
    if numbers.any():
        out[numbers] = _numbers_as_text(values[numbers].astype(np.float64))
    flags = kinds == "flag"
    if flags.any():
        out[flags] = np.where(values[flags].astype(bool), "true", "false")
    others = kinds == "other"
    if others.any():  # dates, times and durations
        out[others] = _TEXT_OF(values[others])
    out[kinds == "empty"] = None
    return out


def _numbers_as_text(floats: np.ndarray) -> np.ndarray:
    """Numbers as text, whole ones without a spurious ".0"."""
    whole = np.isfinite(floats) & (floats == np.floor(floats)) & (np.abs(floats) < 2**53)
    text = np.empty(len(floats), dtype=object)
    # Whole numbers (most) written by Arrow, the others as Python writes them.
    integers = pa.array(floats[whole].astype(np.int64)).cast(pa.string())
    text[whole] = integers.to_numpy(zero_copy_only=False)
    text[~whole] = floats[~whole].astype(str)
    return text


@dataclass(frozen=True)
class _SheetColumn:
    """One column of a sheet: its first cells kind by kind, and the cells below them read at
    once into Arrow when they are of one kind (text, or numbers), as a station list's are."""

    #: The first ``_HEAD_ROWS`` cells and their kinds.
    head_cells: np.ndarray
    head: np.ndarray
    #: Text of the first ``_HEAD_ROWS`` cells (None where empty).
    head_text: np.ndarray
    #: Cells below the first ones: an Arrow array of one kind (text, numbers, all empty, or
    #: "mixed": numbers and texts, as text), or the cells themselves with their kinds.
    below: pa.Array | None
    below_kind: str
    below_cells: np.ndarray
    below_kinds: np.ndarray | None

    @classmethod
    def read(cls, values: np.ndarray) -> _SheetColumn:
        head_cells, below_cells = values[:_HEAD_ROWS], values[_HEAD_ROWS:]
        head = _cell_kinds(head_cells)
        head_text = _cells_as_text(head_cells, head)
        try:
            below = pa.array(below_cells, mask=below_cells == "", from_pandas=True)
            kind = _ARROW_KINDS.get(below.type, "")
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            below, kind = None, ""
        if not kind:
            repeated = _repeated_cells(below_cells)
            if repeated is not None:
                kind, below = repeated
                return cls(head_cells, head, head_text, below, kind, below_cells, None)
            kinds = _cell_kinds(below_cells)
            return cls(head_cells, head, head_text, None, "", below_cells, kinds)
        if kind == "text":
            below = below.cast(pa.large_string())
        return cls(head_cells, head, head_text, below, kind, below_cells, None)

    def western_texts(self) -> pa.Array:
        """Distinct texts with letters beyond ASCII and none beyond Latin-1: the only ones that
        can be typed in a legacy font."""
        parts = [pa.array(self.head_text[self.head == "text"], type=pa.large_string())]
        if self.below is not None and self.below_kind in ("text", "mixed"):
            parts.append(self.below.drop_null())
        elif self.below_kinds is not None:
            texts = self.below_cells[self.below_kinds == "text"]
            parts.append(pa.array(texts, type=pa.large_string()))
        cells = pa.concat_arrays(parts).drop_null()
        return pc.unique(cells.filter(_western(cells)))

    def body(self, skip: int, converted: dict[str, str]) -> pd.Series:
        """The data cells from row ``skip``. A column of numbers (and empty cells) stays
        numeric, whole numbers as integers so that a code reads 13285: the parsers take numbers
        as they are, where text would be written out and read back. Any other column is text,
        with the texts of a legacy font converted."""
        head_kinds = self.head[skip:]
        below_numeric = self.below_kind in ("number", "empty") or (
            self.below_kinds is not None and np.isin(self.below_kinds, ("number", "empty")).all()
        )
        numeric = below_numeric and np.isin(head_kinds, ("number", "empty")).all()
        if numeric:
            first = np.where(head_kinds == "number", self.head_cells[skip:], np.nan)
            first = first.astype(np.float64)
            if self.below is not None:
                rest = self.below.cast(pa.float64()).to_numpy(zero_copy_only=False)
            else:
                number = self.below_kinds == "number"
                rest = np.full(len(self.below_cells), np.nan)
                rest[number] = self.below_cells[number].astype(np.float64)
            floats = np.concatenate([first, rest])
            finite = floats[~np.isnan(floats)]
            if finite.size:
                if (np.isfinite(finite) & (finite == np.floor(finite))
                        & (np.abs(finite) < 2**53)).all():  # fmt: skip
                    return pd.Series(floats).astype("Int64")
                return pd.Series(floats)
        head_text = pa.array(self.head_text[skip:], type=pa.large_string())
        if self.below_kind in ("text", "mixed"):
            rest = self.below
        elif self.below_kind == "empty":
            rest = pa.nulls(len(self.below_cells), pa.large_string())
        else:
            # Cells of several kinds, or numbers under a text in the data rows.
            kinds = _cell_kinds(self.below_cells) if self.below_kinds is None else self.below_kinds
            rest = pa.array(_cells_as_text(self.below_cells, kinds), type=pa.large_string())
        text = pa.concat_arrays([head_text, rest])
        if converted:
            text = _replace(text, converted)
        return pd.Series(pd.array(text, dtype="str"))


#: A column whose sample of this many cells has at most a quarter as many values is read
#: value by value.
_SAMPLE_CELLS = 256
_REPEATED_TYPES = {str, float, int, type(None)}


def _repeated_cells(cells: np.ndarray) -> tuple[str, pa.Array] | None:
    """Cells of several kinds in a column that repeats a few values (heights with "N/A")
    read once for each value, as Arrow: text ("" empty), numbers, or "mixed" numbers and
    texts as text; None for a column of many values or of other kinds (flags, dates), read
    cell by cell. Only texts and numbers are taken together: a text never equals a number,
    and numbers that are equal (1 and 1.0) are written alike."""
    if len(cells) < 4 * _SAMPLE_CELLS:
        return None
    sample = cells[:: len(cells) // _SAMPLE_CELLS]
    # Every cell's type, not only the distinct values': True equals 1 and would pass for it.
    if 4 * len(pd.unique(sample)) > len(sample) or not set(map(type, cells)) <= _REPEATED_TYPES:
        return None
    codes, uniques = pd.factorize(cells)
    if 8 * len(uniques) > len(cells):
        return None
    values = np.asarray(uniques, dtype=object)
    kinds = _cell_kinds(values)
    # A missing cell (None, code -1) takes the missing value after the others.
    present = np.where(codes < 0, len(values), codes)
    if (kinds == "empty").all():
        return "empty", pa.nulls(len(cells), pa.large_string())
    if np.isin(kinds, ("number", "empty")).all():
        numbers = np.where(kinds == "number", values, np.nan).astype(np.float64)
        return "number", pa.array(np.append(numbers, np.nan), from_pandas=True).take(present)
    texts = [*_cells_as_text(values, kinds), None]
    text = pa.array(texts, type=pa.large_string())
    kind = "text" if (kinds != "number").all() else "mixed"
    return kind, text.take(present)


def _replace(text: pa.Array, converted: dict[str, str]) -> pa.Array:
    """``text`` with each text that is a key of ``converted`` replaced by its value."""
    found = pc.index_in(text, value_set=pa.array(list(converted), type=text.type))
    replaced = pc.take(pa.array(list(converted.values()), type=text.type), found)
    return pc.if_else(pc.is_valid(found), replaced, text)


def _sheet_cells(sheet: CalamineSheet) -> np.ndarray:
    """Every cell of a sheet from A1 as the reader gives it (number, text, flag, date or ""),
    merged ranges filled with their top-left value (in headers, and in data cells merged over
    several rows, which then all hold the value).

    A merged range is filled only where the sheet has cells: a merge may claim every column.
    """
    with cycles_uncollected():
        rows = sheet.to_python(skip_empty_area=False)
        cells = np.array(rows, dtype=object) if rows else np.empty((0, 0), dtype=object)
        if cells.ndim != 2:  # rows of several lengths (the reader gives them all alike)
            width = max(len(row) for row in rows)
            cells = np.full((len(rows), width), "", dtype=object)
            for i, row in enumerate(rows):
                cells[i, : len(row)] = row
        del rows
    height, width = cells.shape
    for (min_row, min_col), (max_row, max_col) in sheet.merged_cell_ranges or []:
        if min_row < height and min_col < width:
            top = cells[min_row, min_col]
            cells[min_row : max_row + 1, min_col : max_col + 1] = top
    return cells


def _western(texts: pa.LargeStringArray) -> np.ndarray:
    """Which of ``texts`` (none missing) have letters beyond ASCII and none beyond Latin-1,
    told from their UTF-8 bytes at once: a letter up to U+00FF starts with the byte C2 or C3,
    any later one with C4 or more, so that the greatest byte of such a text is from 80 to C3."""
    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    _, offsets, data = texts.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[texts.offset : texts.offset + len(texts) + 1]
    if data is None:
        return np.zeros(len(texts), dtype=bool)
    # A zero after the bytes, for texts that end the buffer or are empty to start somewhere.
    data = np.append(np.frombuffer(data, dtype=np.uint8)[: ends[-1]], np.uint8(0))
    greatest = np.maximum.reduceat(data, np.minimum(ends[:-1], ends[-1]))
    greatest[ends[1:] == ends[:-1]] = 0  # an empty text
    return (greatest >= 0x80) & (greatest < 0xC4)


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
    with checked_workbook(path) as (readable, extents):
        # Every sheet, before the reader opens the file: its .xls and .ods readers load them all.
        for name, extent in extents.items():
            check_size(path, name, extent)
        try:
            book = CalamineWorkbook.from_path(str(readable))
        except (OSError, CalamineError) as error:
            raise GisPlannerError(f"{path}: not a readable workbook ({error})") from None
        return _read_book(path, book, extents, spec, sheet, encoding, known)


def _read_book(
    path: Path,
    book: CalamineWorkbook,
    extents: Mapping[str, Extent],
    spec: LayerSpec,
    sheet: str | None,
    encoding: str | None,
    known: Iterable[str],
) -> list[SourceTable]:
    """The station lists of ``book`` (the workbook ``path``, opened on its checked copy)."""
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
        if cells.size == 0:
            continue
        columns = [_SheetColumn.read(cells[:, j]) for j in range(cells.shape[1])]
        western = pa.concat_arrays([c.western_texts() for c in columns]).unique()
        converted, legacy = legacy_mapping(western.to_pylist(), legacy_name(encoding))
        top = slice(0, HEADER_SEARCH_ROWS)
        head = [
            [converted.get(text, text) if isinstance(text, str) else text for text in row]
            for row in np.column_stack([c.head_text[top] for c in columns]).tolist()
        ]
        header_index = header_row(head, spec, known, f"{path}, sheet {name!r}", sheet is None)
        if header_index is None:
            continue
        header = _unique_headers(head[header_index])
        skip = header_index + header_rows(head, header_index, spec)
        frame = pd.DataFrame(
            {
                title: column.body(skip, converted)
                for title, column in zip(header, columns, strict=True)
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
