"""How far a workbook's sheets really reach, read from the file's own structure before a reader
loads them.

The spreadsheet reader holds a sheet as one grid from A1 to its last cell, so a file with one
cell far away (or a row repeated a million times, as an ``.ods`` may say in a few bytes) would
make it allocate gigabytes. The extent is taken from the cells a sheet really has, never from
the dimension a file claims: streamed from the sheet XML of an ``.xlsx``, from the cell records
of an ``.xls`` (BIFF in an OLE2 compound file), from the rows and cells of an ``.ods`` with their
repeat counts. Empty cells an ``.ods`` repeats to the end of the sheet do not count. A zipped
workbook is first inflated and counted whole: the reader holds each text it reads, and a text of
gigabytes deflates to a few MB.
"""

from __future__ import annotations

import re
import struct
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np

from gis_planner.errors import GisPlannerError
from gis_planner.io.archives import Inflation

#: Bounds on a sheet, by its real cells. A million rows is several times the largest station
#: list, 512 columns several times the widest, and 20 million grid cells about 1 GiB at the
#: peak. (An .xls has at most 65,536 rows of 256 columns, a grid under these bounds, unless a
#: record names a column past the format's last.)
MAX_SHEET_ROWS = 1_000_000
MAX_SHEET_COLUMNS = 512
MAX_SHEET_CELLS = 20_000_000
#: Bytes a zipped workbook (.xlsx, .ods) may inflate to, every part together. The reader holds
#: each text it reads whole, a shared string or a cell's, so a few MB of deflated text can
#: make it allocate gigabytes: every part is inflated and counted first, whatever its header
#: says. A list of a million rows of twenty columns, as Excel writes it, is some 800 MB.
MAX_INFLATED_BYTES = 1 << 30

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


@contextmanager
def checked_workbook(path: Path) -> Iterator[tuple[Path, dict[str, Extent]]]:
    """The file the reader is to open for the workbook ``path`` (.xlsx/.xlsm, .xls, .ods),
    and each of its worksheets by name with its rows and columns from A1 to its last real cell
    (chart sheets and macro sheets left out), both from one reading of the file.

    A zipped workbook is copied first, each part as it inflates here, counted against
    ``MAX_INFLATED_BYTES`` and stored (not compressed again) in a temporary archive, for the
    duration of the ``with`` block: the reader reads the very parts that were counted and
    measured. Read in place, a zip made to be read two ways (two end records) let the checks
    measure one workbook and the reader open another. Parts this cannot inflate (an unknown
    method, encrypted) are left out: no workbook part a reader needs is written so. An .xls
    is read in place: it is no archive.
    """
    suffix = path.suffix.lower()
    kind = {".xls": ".xls", ".ods": ".ods"}.get(suffix, ".xlsx")
    with ExitStack() as stack:
        readable = path
        try:
            if kind == ".xls":
                extents = _xls_extents(path.read_bytes())
            else:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="gis-planner-"))
                readable = Path(folder) / f"workbook{suffix}"
                with zipfile.ZipFile(path) as archive:
                    _stored_copy(path, archive, readable)
                with zipfile.ZipFile(readable) as archive:
                    extents = _ods_extents(archive) if kind == ".ods" else _xlsx_extents(archive)
        except (OSError, KeyError, ValueError, IndexError, EOFError, struct.error, zlib.error,
                zipfile.BadZipFile, ElementTree.ParseError, expat.ExpatError) as error:  # fmt: skip
            raise GisPlannerError(f"{path}: not a readable {kind} workbook ({error})") from None
        yield readable, extents


def _stored_copy(path: Path, archive: zipfile.ZipFile, copy_path: Path) -> None:
    """The parts of ``archive`` as they inflate, into a new archive at ``copy_path``, stored;
    ``ArchiveTooLarge`` past the bound."""
    named = Counter(info.filename for info in archive.infolist())
    if len(named) < named.total():
        twice = sorted(name for name, count in named.items() if count > 1)
        raise GisPlannerError(f"{path}: parts named twice ({', '.join(twice)}): not a workbook")
    inflation = Inflation(path, MAX_INFLATED_BYTES)
    with zipfile.ZipFile(copy_path, "w", zipfile.ZIP_STORED) as copy:
        for info in archive.infolist():
            try:
                chunks = inflation.chunks(archive, info)
                first = next(chunks, b"")
            except (NotImplementedError, RuntimeError):
                continue  # compressed by a method zipfile lacks, or encrypted
            with copy.open(info.filename, "w") as stored:
                stored.write(first)
                for chunk in chunks:
                    stored.write(chunk)


# -- .xlsx -----------------------------------------------------------------------------------
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"([A-Za-z]+)([0-9]+)$")


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
    """Streamed from the sheet's XML. A cell's reference places it, as the reader places it
    (whatever row it is written in); a cell without one follows the previous cell of its row,
    and a row without a number the previous row, as Excel reads them."""
    extent = [0, 0]  # rows, columns
    position = [0, 0]  # current row, column

    def start(tag: str, attributes: dict[str, str]) -> None:
        # By the local name, in any namespace (Strict Open XML has its own), as the reader.
        tag = tag.rpartition(" ")[2]
        if tag == "row":
            reference = attributes.get("r", "")
            position[0] = int(reference) if reference.isdigit() else position[0] + 1
            position[1] = 0
        elif tag == "c":
            match = _CELL_REF.match(attributes.get("r", ""))
            position[1] = _column_number(match[1]) if match else position[1] + 1
            row = int(match[2]) if match else position[0]
            extent[0], extent[1] = max(extent[0], row), max(extent[1], position[1])

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    _parse(parser, archive, part)
    return extent[0], extent[1]


def _parse(parser: expat.XMLParserType, archive: zipfile.ZipFile, part: str) -> None:
    """``part`` through ``parser``; ValueError for a tag (or comment) of more than
    ``_MAX_TAG_BYTES``: this expat goes over an unfinished one again with every chunk it is
    given, and one of 100 MiB took 6.7 s (a GB, minutes)."""
    fed = 0
    with archive.open(part) as xml:
        while chunk := xml.read(1 << 20):
            parser.Parse(chunk, False)
            fed += len(chunk)
            # outside its handlers the parser stands where the unfinished token starts
            if fed - parser.CurrentByteIndex > _MAX_TAG_BYTES:
                raise ValueError(f"a tag of more than {_MAX_TAG_BYTES:,} bytes in {part}")
        parser.Parse(b"", True)


# Cells as Excel and most writers put them: no namespace prefix, the reference first.
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:c|row)[\s/>]")
#: "<c" as a little-endian 16-bit word, and the bytes that may follow a cell's tag name.
_CELL_TAG_WORD = int.from_bytes(b"<c", "little")
#: The bytes that end a tag's name (XML white space, "/" and ">"), by byte.
_ENDS_TAG_NAME = np.zeros(256, dtype=bool)
_ENDS_TAG_NAME[list(b" \t\r\n/>")] = True
#: Bytes looked at from a cell's start: "<c r=", a quote, the reference (up to 3 letters and
#: 7 digits), the closing quote and one more; and the zeros after a chunk's bytes that keep
#: every look inside.
_CELL_HEAD = 6 + 3 + 7 + 2
_PADDING = 32
_REFERENCE_OPEN = np.frombuffer(b' r="', dtype=np.uint8)
_POSITIONS = np.arange(_CELL_HEAD - 6, dtype=np.uint8)
#: Bytes of a chunk of sheet XML looked at in one go.
_CHUNK_BYTES = 1 << 24
#: The longest tag a sheet may have (cells' tags are tens of bytes).
_MAX_TAG_BYTES = 1 << 20


def _prefixed(buffer: np.ndarray, size: int) -> bool:
    """Whether the first ``size`` bytes of ``buffer`` have a cell or row tag with a namespace
    prefix. Colons followed by "c" or "row" and the end of a tag name are looked for first, as
    arrays (a sheet has few colons); the regular expression looks only when there is one."""
    colons = np.flatnonzero(buffer[:size] == ord(":"))
    if colons.size == 0:
        return False
    cell = (buffer[colons + 1] == ord("c")) & _ENDS_TAG_NAME[buffer[colons + 2]]
    row = (
        (buffer[colons + 1] == ord("r")) & (buffer[colons + 2] == ord("o"))
        & (buffer[colons + 3] == ord("w")) & _ENDS_TAG_NAME[buffer[colons + 4]]
    )  # fmt: skip
    if not (cell | row).any():
        return False
    return _PREFIXED.search(buffer[:size].tobytes()) is not None


def _cell_starts(buffer: np.ndarray, size: int) -> np.ndarray:
    """Where the first ``size`` bytes of ``buffer`` open a cell, in order: "<c" then white
    space, "/" or ">" (any other tag starting "<c", such as "<cols", is not a cell). Pairs of
    bytes are compared as 16-bit words, at even and at odd offsets, so that the bytes are gone
    over twice and no position is kept but those of cells."""
    if size < 3:
        return np.zeros(0, dtype=np.int64)
    raw = buffer.data
    even = np.frombuffer(raw, dtype="<u2", count=size // 2)
    odd = np.frombuffer(raw, dtype="<u2", count=(size - 1) // 2, offset=1)
    starts = np.concatenate(
        [np.flatnonzero(even == _CELL_TAG_WORD) * 2, np.flatnonzero(odd == _CELL_TAG_WORD) * 2 + 1]
    )
    # Two ordered runs, merged: bytes gathered in order are read many times faster.
    starts.sort(kind="stable")
    return starts[_ENDS_TAG_NAME[buffer[2:][starts]]]


def _references(buffer: np.ndarray, size: int) -> tuple[int, int, int] | None:
    """How many cells the first ``size`` bytes of ``buffer`` have, and the last row and column
    their references name, found with array operations on the first bytes of every cell;
    None when a cell does not start with its reference (`` r="A1"``) or has one of another
    shape, for the XML parser to read the sheet."""
    starts = _cell_starts(buffer, size)
    if starts.size == 0:
        return 0, 0, 0
    # The first bytes of every cell, gathered as items of that many bytes (then a row each).
    items = np.ndarray((size,), dtype=np.dtype((np.void, _CELL_HEAD)), buffer=buffer, strides=(1,))
    head = items[starts].view(np.uint8).reshape(-1, _CELL_HEAD)
    if not (head[:, 2:6] == _REFERENCE_OPEN).all():
        return None
    reference = head[:, 6:]
    # 1 to 3 capitals (Excel's last column is XFD), then 1 to 7 digits and the closing quote.
    capital = (reference - np.uint8(ord("A"))) < 26
    digit = (reference - np.uint8(ord("0"))) < 10
    letters = np.argmin(capital, axis=1).astype(np.uint8)
    after = letters[:, None] <= _POSITIONS
    end = np.argmax(~digit & after, axis=1).astype(np.uint8)
    digits = end - letters
    closing = reference[np.arange(len(reference)), end]
    if ((letters < 1) | (letters > 3) | (digits < 1) | (digits > 7) | (closing != ord('"'))).any():
        return None
    # The last column has the most letters, then the greatest; the last row the most digits,
    # then the greatest: compared as numbers made of their bytes, in order.
    most = letters.max()
    widest = reference[letters == most]
    column = _last(widest, 0, int(most), base=26, zero=ord("A") - 1)
    longest = digits.max()
    row = 0
    for count in range(1, 4):
        tallest = reference[(digits == longest) & (letters == count)]
        if len(tallest):
            row = max(row, _last(tallest, count, int(longest), base=10, zero=ord("0")))
    return len(starts), row, column


def _last(items: np.ndarray, start: int, length: int, base: int, zero: int) -> int:
    """The greatest of the numbers written in bytes ``start`` to ``start + length`` of the
    rows of ``items`` (letters in base 26 from A = 1, or digits), all of that many bytes."""
    key = np.zeros(len(items), dtype=np.uint64)
    for j in range(start, start + length):
        key = (key << np.uint64(8)) | items[:, j]
    greatest = int(key.max())
    value = 0
    for shift in range(8 * (length - 1), -1, -8):
        value = value * base + ((greatest >> shift) & 0xFF) - zero
    return value


def _xlsx_extent_by_references(archive: zipfile.ZipFile, part: str) -> Extent | None:
    """The extent from the cells' references, found in the bytes rather than by an XML parser
    (many times faster on a large sheet); None when a cell has no reference where this looks,
    or tags have a prefix, for the parser to read the sheet."""
    last_row = last_column = 0
    carry = b""
    with _chunks(archive, part) as chunks:
        for chunk in chunks:
            # Zeros after the bytes, so that looking a few bytes past a cell stays inside.
            data = b"".join((carry, chunk, bytes(_PADDING)))
            end = len(data) - _PADDING
            # Up to the last tag's start, so that no tag is cut between two chunks; not when
            # that tag is whole here, head and name, and a text follows it (a cell's text of a
            # GB was carried whole, and copied again with every chunk).
            cut = data.rfind(b"<", 0, end) if chunk else end
            if cut < 0 or (end - cut > _CELL_HEAD + _PADDING and data.find(b">", cut, end) != -1):
                cut = end
            elif end - cut > _MAX_TAG_BYTES:
                # no writer makes one; the XML parser would go over it again with every chunk
                raise ValueError(f"a tag of more than {_MAX_TAG_BYTES:,} bytes in {part}")
            carry = data[cut:end]
            buffer = np.frombuffer(data, dtype=np.uint8)
            found = None if _prefixed(buffer, cut) else _references(buffer, cut)
            if found is None:
                return None
            last_row, last_column = max(last_row, found[1]), max(last_column, found[2])
    return last_row, last_column


@contextmanager
def _chunks(archive: zipfile.ZipFile, part: str) -> Iterator[Iterator[bytes]]:
    """The bytes of ``part`` in chunks, the last one empty."""
    with archive.open(part) as xml:

        def chunks() -> Iterator[bytes]:
            while True:
                chunk = xml.read(_CHUNK_BYTES)
                yield chunk
                if not chunk:
                    return

        yield chunks()


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


#: A repeat count as the reader reads one: digits, after a plus sign or not.
_COUNT = re.compile(r"\+?[0-9]+")


def _repeat(attributes: dict[str, str], name: str) -> int:
    text = attributes.get(f"{_TABLE}{name}", "1")
    return int(text) if _COUNT.fullmatch(text) and int(text) > 0 else 1


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
    _parse(parser, archive, "content.xml")
    return counter.extents


# -- .xls ------------------------------------------------------------------------------------
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN = 0xFFFFFFFE
#: BIFF records that hold one cell (row and column first), and those holding a run of cells
#: of one row (the last column last).
_CELL_RECORDS = {0x0006, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E}
_MULRK = 0x00BD
_RUN_RECORDS = {_MULRK, 0x00BE}
_DIMENSIONS = 0x0200
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
        """The stream of the first entry named ``names[0]``, else ``names[1]``…, whatever the
        entry's type, as the reader picks the workbook ("Workbook", else "Book"): picked
        otherwise, a harmless "Book" was measured while the reader read a "Workbook" after
        it."""
        entries: dict[str, bytes] = {}
        for offset in range(0, len(self.directory) - 127, 128):
            entry = self.directory[offset : offset + 128]
            length = struct.unpack_from("<H", entry, 0x40)[0]
            name = entry[: max(length - 2, 0)].decode("utf-16-le", errors="replace")
            entries.setdefault(name, entry)
        for name in names:
            if name in entries:
                start, size = struct.unpack_from("<II", entries[name], 0x74)
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
            # the reader places the run's cells from its first column on, whatever its last
            # column says: a last column before the first hid 5,538 cells from column 60,000
            row, first = unpack("<HH", stream, start)
            cells = (length - 6) // (6 if kind == _MULRK else 2)
            column = max(first + cells - 1, unpack("<H", stream, position - 2)[0])
        elif kind == _DIMENSIONS and length >= 14:
            # the reader reserves the grid a sheet claims here (BIFF8: the last row and
            # column, each plus one), before a cell is read
            row, column = (
                unpack("<I", stream, start + 4)[0] - 1,
                unpack("<H", stream, start + 10)[0] - 1,
            )
        elif kind == _EOF:
            break
        else:
            continue
        rows, columns = max(rows, row + 1), max(columns, column + 1)
    return rows, columns
