"""Writers of the files the importer tests read: real files, made in ``tmp_path``."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from gis_planner.io.legacy import TCVN3_TO_UNICODE, VNI_TO_UNICODE

#: Positions inside Hà Nam (Phủ Lý, Duy Tiên, Kim Bảng, Lý Nhân, Bình Lục, Thanh Liêm).
INSIDE = [
    (105.9123, 20.5432),
    (105.9712, 20.6301),
    (105.8521, 20.5702),
    (106.0805, 20.5512),
    (106.0013, 20.5021),
    (105.9217, 20.4533),
]

#: The five combining tone marks Windows-1258 has (grave, acute, tilde, hook, dot below).
TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text in Windows-1258: letters it lacks precomposed are written as a base
    letter plus a combining tone mark, as Windows itself does."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = next(c for c in decomposed if c in TONE_MARKS)
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


def write_kml(path: Path, placemarks: list[tuple[str, str, float, float, str]]) -> Path:
    """A Google Earth style KML: name, operator and height as schema data, 3D points."""
    marks = "\n".join(
        f"""  <Placemark><name>{name}</name>
    <ExtendedData><SchemaData schemaUrl="#tram">
      <SimpleData name="Nhà mạng">{op}</SimpleData>
      <SimpleData name="Độ cao cột">{height}</SimpleData>
      <SimpleData name="Loại cột">lattice</SimpleData>
    </SchemaData></ExtendedData>
    <Point><coordinates>{lon},{lat},0</coordinates></Point>
  </Placemark>"""
        for name, op, lon, lat, height in placemarks
    )
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Trạm BTS</name>
  <Schema name="tram" id="tram">
    <SimpleField name="Nhà mạng" type="string"/>
    <SimpleField name="Độ cao cột" type="string"/>
    <SimpleField name="Loại cột" type="string"/>
  </Schema>
{marks}
</Document></kml>
""",
        encoding="utf-8",
    )
    return path


def zip_files(path: Path, files: list[Path], names: list[str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for i, file in enumerate(files):
            archive.write(file, names[i] if names else file.name)
    return path


# -- operators' station lists, as they are sent ----------------------------------------------
LIST_TITLE = [
    ["DANH SÁCH TRẠM BTS TRÊN ĐỊA BÀN TỈNH HÀ NAM"],
    ["(Kèm theo Công văn số 215/VTHNM-KT ngày 12/6/2025)"],
    [],
]
LIST_HEADER = ["STT", "Mã trạm", "Tên trạm", "Địa chỉ", "Kinh độ", "Vĩ độ", "Loại cột",
               "Độ cao cột (m)", "Trạng thái", "Nhà mạng"]  # fmt: skip
#: Rows every reader must accept as they are, and what they become.
GOOD_ROWS: list[tuple[list[object], dict[str, object]]] = [
    (["1", "HNM0001", "Phủ Lý 1", "Số 12 Lê Hồng Phong, phường Minh Khai", "105.9123", "20.5432",
      "Cột tự đứng", "42", "Đang phát sóng", "Viettel"],
     {"operator": "viettel", "tower_type": "lattice", "height_m": 42.0, "status": "on-air",
      "height_assumed": False}),
    (["2", "HNM0002", "Duy Tiên 3", "Thôn Đồng Văn, xã Đồng Hóa", "105,9712", "20,6301",
      "Cột dây co", "N/A", "Đã phát sóng", "VIETTEL"],
     {"operator": "viettel", "tower_type": "guyed", "height_m": 36.0, "status": "on-air",
      "height_assumed": True}),
    (["3", "VNP-HNM-017", "Kim Bảng", "Số 5 đường Trần Hưng Đạo, thị trấn Quế", "105.8521",
      "20.5702", "Cột trên nóc nhà", "18", "Đang hoạt động", "Vinaphone"],
     {"operator": "vnpt", "tower_type": "rooftop", "height_m": 18.0, "status": "on-air",
      "height_assumed": False}),
    (["4", "MBF-HNM-102", "Lý Nhân 2", "Chợ Cầu Không, xã Đạo Lý", "106.0805", "20.5512",
      "Cột cóc", "", "Quy hoạch", "MobiFone"],
     {"operator": "mobifone", "tower_type": "rooftop", "height_m": 21.0, "status": "planned",
      "height_assumed": True}),
    (["5", "VNP-HNM-021", "Bình Lục", "Thôn Mai Động, xã An Ninh", "106.0013", "20.5021",
      "Cột đơn thân", "30m", "Đang phát sóng", "VNPT"],
     {"operator": "vnpt", "tower_type": "monopole", "height_m": 30.0, "status": "on-air",
      "height_assumed": False}),
    (["6", "HNM0006", "Thanh Liêm", "Thôn Bói Kênh, xã Thanh Hà", "105.9217", "20.4533",
      "Cot tu dung", "36,5", "Phát sóng", "Viettel"],
     {"operator": "viettel", "tower_type": "lattice", "height_m": 36.5, "status": "on-air",
      "height_assumed": False}),
]  # fmt: skip
#: Rows every reader must reject, each for one reason: (row, field, reason).
BAD_ROWS: list[tuple[list[object], tuple[str, str]]] = [
    (["7", "HNM0007", "Phủ Lý 7", "Thôn Châu Giang", "105.92", "20.54", "Cột tụ đứng", "40",
      "Đang phát sóng", "Viettel"], ("tower_type", "near_miss")),
    (["8", "HNM0008", "Phủ Lý 8", "Thôn Châu Giang", "105.93", "20.55", "Cột tự đứng", "40",
      "Đang phát sóng", "Vietel"], ("operator", "near_miss")),
    (["9", "HNM0009", "Phủ Lý 9", "Thôn Châu Giang", "105.94", "20.56", "Cột tự đứng", "-5",
      "Đang phát sóng", "Viettel"], ("height_m", "below_min")),
    (["10", "HNM0010", "Hải Phòng", "Ngoài tỉnh", "106.9", "20.9", "Cột tự đứng", "40",
      "Đang phát sóng", "Viettel"], ("geometry", "outside_province")),
    (["11", "HNM0001", "Phủ Lý 1 (trùng)", "Thôn Châu Giang", "105.95", "20.55", "Cột tự đứng",
      "40", "Đang phát sóng", "Viettel"], ("site_id+operator", "duplicate_key")),
    (["12", "HNM0012", "Phủ Lý 12", "Thôn Châu Giang", "105.96", "20.56", "Cột bê tông", "40",
      "Đang phát sóng", "Viettel"], ("tower_type", "not_allowed")),
    (["13", "HNM0013", "Phủ Lý 13", "Thôn Châu Giang", "", "20.56", "Cột tự đứng", "40",
      "Đang phát sóng", "Viettel"], ("lon", "required")),
]  # fmt: skip
#: The sheet (or file) row of the first data row: title, subtitle, blank line, header.
FIRST_DATA_ROW = 5


def station_list() -> list[list[object]]:
    """The whole list: title rows, header, good rows then bad rows."""
    return [*LIST_TITLE, LIST_HEADER, *(r for r, _ in GOOD_ROWS), *(r for r, _ in BAD_ROWS)]


_TCVN3_CODES = {letter: chr(code) for code, letter in TCVN3_TO_UNICODE.items()}
_VNI_CODES = {letter: code for code, letter in VNI_TO_UNICODE.items()}


def to_legacy(text: str, encoding: str) -> str:
    """``text`` typed in a legacy font (as Western text): TCVN3 has no capitals with tones, so
    they are typed as the small letter (the ".VnTimeH" fonts draw it as a capital)."""
    if encoding == "vni":
        return "".join(_VNI_CODES.get(c, c) for c in unicodedata.normalize("NFC", text))
    return "".join(
        _TCVN3_CODES.get(c, _TCVN3_CODES.get(c.lower(), c))
        for c in unicodedata.normalize("NFC", text)
    )


def write_csv(path: Path, rows: list[list[object]], encoding: str) -> Path:
    """A semicolon list in ``encoding``: utf-8-sig, cp1258, tcvn3 or vni."""
    text = "\r\n".join(";".join(str(c) for c in row) for row in rows) + "\r\n"
    if encoding in ("tcvn3", "vni"):
        data = to_legacy(text, encoding).encode("latin-1")
    elif encoding == "cp1258":
        data = encode_cp1258(text)
    else:
        data = text.encode(encoding)
    path.write_bytes(data)
    return path


def _cell(value: object) -> object:
    """Numbers as numbers, as a sheet holds them; everything else as text."""
    text = str(value)
    try:
        return float(text) if text and text.strip() == text else text
    except ValueError:
        return text


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Trạm BTS") -> Path:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    first.title = sheet
    for row in rows:
        first.append([_cell(v) if v != "" else None for v in row])
    first.merge_cells("A1:J1")
    book.save(path)
    return path


def write_xls(path: Path, rows: list[list[object]], sheet: str = "Trạm BTS") -> Path:
    """A BIFF8 workbook, as Excel 97–2003 saves it."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    table = book.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value != "":
                table.write(r, c, _cell(value))
    book.save(str(path))
    return path


def write_ods(path: Path, rows: list[list[object]], sheet: str = "Trạm BTS") -> Path:
    """An OpenDocument spreadsheet as LibreOffice saves it, empty rows repeated to the end."""

    def cell(value: object) -> str:
        value = _cell(value)
        if value == "":
            return "<table:table-cell/>"
        if isinstance(value, float):
            return (
                f'<table:table-cell office:value-type="float" office:value="{value!r}">'
                f"<text:p>{value:g}</text:p></table:table-cell>"
            )
        return (
            f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
            "</text:p></table:table-cell>"
        )

    body = "".join(
        "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet)}">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        f"{body}"
        '<table:table-row table:number-rows-repeated="1048560">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path
