"""How far a workbook's sheets really reach, read from the file's own structure before a reader
loads them.

The spreadsheet reader holds a sheet as one grid from A1 to its last cell, so a file with one
cell far away (or a row repeated a million times, as an ``.ods`` may say in a few bytes) would
make it allocate gigabytes. The extent is taken from the cells a sheet really has, never from
the dimension a file claims: streamed from the sheet XML of an ``.xlsx``, from the cell records
of an ``.xls`` (BIFF in an OLE2 compound file), from the rows and cells of an ``.ods`` with their
repeat counts. Empty cells an ``.ods`` repeats to the end of the sheet do not count.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np

from gis_planner.errors import GisPlannerError

#: Bounds on a sheet, by its real cells. A million rows is several times the largest station
#: list, 512 columns several times the widest, and 20 million grid cells about 1 GiB at the
#: peak. (An .xls has at most 65,536 rows of 256 columns, a grid under these bounds, unless a
#: record names a column past the format's last.)
MAX_SHEET_ROWS = 1_000_000
MAX_SHEET_COLUMNS = 512
MAX_SHEET_CELLS = 20_000_000

Extent = tuple[int, int]


class SheetTooLarge(GisPlannerError):
    """A sheet whose real cells exceed what the reader holds (rows, columns or cells)."""


def check_size(path: Path, name: str, extent: Extent) -> None:
    """Raise ``SheetTooLarge`` for a sheet past the bounds."""
    rows, columns = extent
    if rows > MAX_SHEET_ROWS:
        what = f"{rows:,} rows (at most {MAX_SHEET_ROWS:,})"
    elif columns > MAX_SHEET_COLUMNS:
        what = f"{columns:,} columns (at most {MAX_SHEET_COLUMNS:,})"
    elif rows * columns > MAX_SHEET_CELLS:
        what = f"{rows:,} × {columns:,} cells (at most {MAX_SHEET_CELLS:,})"
    else:
        return
    raise SheetTooLarge(f"{path}: sheet {name!r} is too large: {what}")


def sheet_extents(path: Path) -> dict[str, Extent]:
    """Each worksheet of ``path`` (.xlsx/.xlsm, .xls, .ods) by name: rows and columns from A1
    to its last real cell. Chart sheets and macro sheets are left out."""
    suffix = path.suffix.lower()
    kind = {".xls": ".xls", ".ods": ".ods"}.get(suffix, ".xlsx")
    try:
        if kind == ".xls":
            return _xls_extents(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            return _ods_extents(archive) if kind == ".ods" else _xlsx_extents(archive)
    except (OSError, KeyError, ValueError, IndexError, struct.error, zipfile.BadZipFile,
            ElementTree.ParseError, expat.ExpatError) as error:  # fmt: skip
        raise GisPlannerError(f"{path}: not a readable {kind} workbook ({error})") from None


# -- .xlsx -----------------------------------------------------------------------------------
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]+)$")
_ROW_TAG = "http://schemas.openxmlformats.org/spreadsheetml/2006/main row"
_CELL_TAG = "http://schemas.openxmlformats.org/spreadsheetml/2006/main c"


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


def _xlsx_extent(archive: zipfile.ZipFile, part: str) -> Extent:
    """Streamed from the sheet's XML (a cell or row without a reference follows the previous
    one, as Excel reads it)."""
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


# Cells as Excel and most writers put them: no namespace prefix, the reference first.
_CELL_OPEN = b'<c r="'
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|row)[\s/>]")


def _prefixed(data: bytes) -> bool:
    """Whether ``data`` has a cell or row tag with a namespace prefix. Searching for the colon
    forms first (found at memory speed) spares the regular expression almost every sheet."""
    if b":c" not in data and b":row" not in data:
        return False
    return _PREFIXED.search(data) is not None


#: Letters and digits of a reference, and its closing quote.
_REFERENCE_BYTES = 3 + 7 + 1


def _references(data: bytes) -> tuple[int, int, int] | None:
    """How many cells ``data`` opens with a reference, and the last row and column they name,
    found with array operations; None for a reference of another shape."""
    buffer = np.frombuffer(data + b"\0" * 16, dtype=np.uint8)
    starts = np.flatnonzero(buffer[: len(data)] == _CELL_OPEN[0])
    for offset, byte in enumerate(_CELL_OPEN[1:], start=1):
        starts = starts[buffer[starts + offset] == byte]
    if starts.size == 0:
        return 0, 0, 0
    window = buffer[starts[:, None] + len(_CELL_OPEN) + np.arange(_REFERENCE_BYTES)]
    letters = np.cumprod((window >= ord("A")) & (window <= ord("Z")), axis=1).sum(axis=1)
    column = np.zeros(len(starts), dtype=np.int64)
    row = np.zeros(len(starts), dtype=np.int64)
    digits = np.zeros(len(starts), dtype=np.int64)
    running = np.ones(len(starts), dtype=bool)
    for j in range(_REFERENCE_BYTES):
        byte = window[:, j].astype(np.int64)
        in_letters = j < letters
        column = np.where(in_letters, column * 26 + byte - ord("A") + 1, column)
        digit = (byte >= ord("0")) & (byte <= ord("9"))
        take = ~in_letters & running & digit
        row = np.where(take, row * 10 + byte - ord("0"), row)
        digits += take
        running &= in_letters | digit
    closing = window[np.arange(len(starts)), np.minimum(letters + digits, _REFERENCE_BYTES - 1)]
    if ((letters < 1) | (letters > 3) | (digits < 1) | (closing != ord('"'))).any():
        return None
    return len(starts), int(row.max()), int(column.max())


def _xlsx_extent_by_references(archive: zipfile.ZipFile, part: str) -> Extent | None:
    """The extent from the cells' references, found in the bytes rather than by an XML parser
    (many times faster on a large sheet); None when a cell has no reference where this looks,
    or tags have a prefix, for the parser to read the sheet."""
    last_row = last_column = cells = referenced = 0
    carry = b""
    with archive.open(part) as xml:
        while True:
            chunk = xml.read(1 << 22)
            data = carry + chunk
            # Up to the last tag's start, so that no tag is cut between two chunks.
            cut = data.rfind(b"<") if chunk else len(data)
            data, carry = data[:cut], data[cut:]
            found = None if _prefixed(data) else _references(data)
            if found is None:
                return None
            cells += data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/>")
            referenced += found[0]
            last_row, last_column = max(last_row, found[1]), max(last_column, found[2])
            if not chunk:
                break
    return (last_row, last_column) if cells == referenced else None


def _xlsx_extents(archive: zipfile.ZipFile) -> dict[str, Extent]:
    extents = {}
    for name, part in _sheet_parts(archive).items():
        found = _xlsx_extent_by_references(archive, part)
        extents[name] = found if found is not None else _xlsx_extent(archive, part)
    return extents


# -- .ods ------------------------------------------------------------------------------------
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TEXT_P = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 p"
_CELLS = (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell")


def _repeat(attributes: dict[str, str], name: str) -> int:
    text = attributes.get(f"{_TABLE}{name}", "1")
    return int(text) if text.isdigit() and int(text) > 0 else 1


class _OdsCounter:
    """Expat handlers counting each table's rows and cells with their repeat counts; a cell is
    real when it has a value or text."""

    def __init__(self) -> None:
        self.extents: dict[str, Extent] = {}
        self.depth = 0  # of tables (a cell may hold a table of its own)
        self.table = ""
        self.row = self.rows = self.col = self.cols = self.row_end = 0
        self.last_row = self.last_col = 0
        self.filled = False

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == f"{_TABLE}table":
            self.depth += 1
            if self.depth == 1:
                self.table = attributes.get(f"{_TABLE}name", "")
                self.row = self.last_row = self.last_col = 0
        elif self.depth != 1:
            return
        elif tag == f"{_TABLE}table-row":
            self.rows, self.col, self.row_end = _repeat(attributes, "number-rows-repeated"), 0, 0
        elif tag in _CELLS:
            self.cols = _repeat(attributes, "number-columns-repeated")
            self.filled = f"{_OFFICE}value-type" in attributes
        elif tag == _TEXT_P:
            self.filled = True

    def end(self, tag: str) -> None:
        if tag == f"{_TABLE}table":
            if self.depth == 1:
                self.extents[self.table] = (self.last_row, self.last_col)
            self.depth -= 1
        elif self.depth != 1:
            return
        elif tag in _CELLS:
            self.col += self.cols
            if self.filled:
                self.row_end = self.col
            self.filled = False
        elif tag == f"{_TABLE}table-row":
            self.row += self.rows
            if self.row_end:
                self.last_row = self.row
                self.last_col = max(self.last_col, self.row_end)


def _ods_extents(archive: zipfile.ZipFile) -> dict[str, Extent]:
    counter = _OdsCounter()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = counter.start
    parser.EndElementHandler = counter.end
    with archive.open("content.xml") as xml:
        while chunk := xml.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    return counter.extents


# -- .xls ------------------------------------------------------------------------------------
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
#: BIFF records that hold one cell (row and column first), and those holding a run of cells
#: of one row (the last column last).
_CELL_RECORDS = {0x0006, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E}
_RUN_RECORDS = {0x00BD, 0x00BE}
_BOF, _EOF, _BOUNDSHEET, _CODEPAGE = 0x0809, 0x000A, 0x0085, 0x0042


class _CompoundFile:
    """The streams of an OLE2 compound file (MS-CFB), read with every chain bounded."""

    def __init__(self, data: bytes) -> None:
        if data[:8] != _OLE_MAGIC:
            raise ValueError("not an OLE2 compound file")
        self.data = data
        self.sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        self.mini_sector = 1 << struct.unpack_from("<H", data, 0x20)[0]
        if self.sector not in (512, 4096) or self.mini_sector != 64:
            raise ValueError("unknown sector size")
        self.mini_cutoff = struct.unpack_from("<I", data, 0x38)[0]
        self.count = max(len(data) // self.sector - 1, 0)
        difat = list(struct.unpack_from("<109I", data, 0x4C))
        following, extra = struct.unpack_from("<II", data, 0x44)
        per_sector = self.sector // 4 - 1
        for _ in range(min(extra, self.count)):
            if following >= self.count:
                break
            block = struct.unpack_from(f"<{per_sector + 1}I", self._sector(following))
            difat += block[:-1]
            following = block[-1]
        fat_sectors = [s for s in difat if s < self.count]
        self.fat = b"".join(self._sector(s) for s in fat_sectors)
        self.directory = self._chain(struct.unpack_from("<I", data, 0x30)[0], self.fat)
        minifat_start = struct.unpack_from("<I", data, 0x3C)[0]
        self.minifat = self._chain(minifat_start, self.fat) if minifat_start < self.count else b""
        root_start = struct.unpack_from("<I", self.directory, 0x74)[0]
        self.ministream = self._chain(root_start, self.fat) if root_start < self.count else b""

    def _sector(self, index: int) -> bytes:
        offset = (index + 1) * self.sector
        return self.data[offset : offset + self.sector]

    def _chain(self, start: int, fat: bytes, mini: bool = False) -> bytes:
        size = self.mini_sector if mini else self.sector
        limit = len(fat) // 4
        parts, current, seen = [], start, 0
        while current != _END_OF_CHAIN:
            if current >= limit or seen > limit:
                raise ValueError("a broken sector chain")
            if mini:
                parts.append(self.ministream[current * size : (current + 1) * size])
            else:
                parts.append(self._sector(current))
            current = struct.unpack_from("<I", fat, current * 4)[0]
            seen += 1
        return b"".join(parts)

    def stream(self, names: tuple[str, ...]) -> bytes:
        """The first stream named one of ``names`` (the workbook is "Workbook", or "Book")."""
        for offset in range(0, len(self.directory) - 127, 128):
            entry = self.directory[offset : offset + 128]
            length = struct.unpack_from("<H", entry, 0x40)[0]
            name = entry[: max(length - 2, 0)].decode("utf-16-le", errors="replace")
            if entry[0x42] == 2 and name in names:
                start, size = struct.unpack_from("<II", entry, 0x74)
                mini = size < self.mini_cutoff
                data = self._chain(start, self.minifat if mini else self.fat, mini)
                return data[:size]
        raise ValueError("no workbook stream")


def _xls_extents(data: bytes) -> dict[str, Extent]:
    """From the cell records of each worksheet, found by its BOUNDSHEET record."""
    stream = _CompoundFile(data).stream(("Workbook", "Book"))
    sheets: list[tuple[int, bytes]] = []
    codepage = "cp1252"
    position = 0
    while position + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + length]
        position += 4 + length
        if kind == _CODEPAGE and len(body) >= 2:
            number = struct.unpack_from("<H", body)[0]
            codepage = "utf-16-le" if number == 1200 else f"cp{number}"
        elif kind == _BOUNDSHEET and len(body) >= 8 and body[5] == 0:  # a worksheet
            sheets.append((struct.unpack_from("<I", body)[0], body[6:]))
        elif kind == _EOF:
            break
    extents = {}
    for offset, raw_name in sheets:
        extents[_sheet_name(raw_name, codepage)] = _xls_sheet_extent(stream, offset)
    return extents


def _sheet_name(raw: bytes, codepage: str) -> str:
    count = raw[0]
    if len(raw) > 1 and raw[1] in (0, 1) and len(raw) in (2 + count, 2 + 2 * count):
        # BIFF8: a flags byte says whether the characters are one byte or two.
        return raw[2:].decode("utf-16-le" if raw[1] else "latin-1")
    return raw[1 : 1 + count].decode(codepage, errors="replace")


def _xls_sheet_extent(stream: bytes, position: int) -> Extent:
    rows = columns = 0
    unpack = struct.unpack_from
    while position + 4 <= len(stream):
        kind, length = unpack("<HH", stream, position)
        start = position + 4
        position = start + length
        if kind in _CELL_RECORDS and length >= 4:
            row, column = unpack("<HH", stream, start)
        elif kind in _RUN_RECORDS and length >= 6:
            row = unpack("<H", stream, start)[0]
            column = unpack("<H", stream, position - 2)[0]
        elif kind == _EOF:
            break
        else:
            continue
        rows, columns = max(rows, row + 1), max(columns, column + 1)
    return rows, columns
