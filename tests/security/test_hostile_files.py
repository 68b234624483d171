"""Hostile files: content that GDAL would open as something else than its name says, and
spreadsheets and CSV files built to exhaust memory or the parser.

Every file is written here for real and read through the importer (and one through the API).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook

from api.app import create_app
from api.settings import ApiSettings
from gis_planner.errors import GisPlannerError
from gis_planner.io import check_file
from gis_planner.store import GeoPackageStore
from tests.api.conftest import api_settings, key
from tests.io_files import station_list, write_kml, write_xls

__all__ = ["api_settings"]  # a fixture, imported for the API test

SECRET = "SECRET-4242-OTHER-OPERATOR"


def _vrt(source: str, layer: str = "secret") -> str:
    """An OGR VRT exposing ``source`` (a CSV of sites) as points in WGS84."""
    return f"""<OGRVRTDataSource>
  <OGRVRTLayer name="sites">
    <SrcDataSource>{source}</SrcDataSource>
    <SrcLayer>{layer}</SrcLayer>
    <LayerSRS>EPSG:4326</LayerSRS>
    <GeometryField encoding="PointFromColumns" x="lon" y="lat"/>
  </OGRVRTLayer>
</OGRVRTDataSource>"""


@pytest.fixture
def secret_csv(tmp_path: Path) -> Path:
    """A file the server can read and the user must never see: a site of another operator."""
    path = tmp_path / "private" / "secret.csv"
    path.parent.mkdir()
    path.write_text(f"site_id,operator,lon,lat\n{SECRET},vnpt,105.91,20.54\n")
    return path


def _hostile(tmp_path: Path, secret_csv: Path, kind: str) -> Path:
    vrt = _vrt(str(secret_csv))
    if kind == "vrt.geojson":
        path = tmp_path / "tram.geojson"
        path.write_text(vrt)
    elif kind == "vrt.kml":
        path = tmp_path / "tram.kml"
        path.write_text(vrt)
    elif kind == "vrt.shp in zip":
        path = tmp_path / "tram.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("tram.shp", vrt)
    elif kind == "gdalg.geojson":
        path = tmp_path / "tram.geojson"
        path.write_text(
            '{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! read '
            f'{secret_csv} ! edit --crs EPSG:4326 ! write --of stream streamed_dataset"}}'
        )
    else:
        raise AssertionError(kind)
    return path


@pytest.mark.parametrize("kind", ["vrt.geojson", "vrt.kml", "vrt.shp in zip", "gdalg.geojson"])
def test_a_file_is_not_opened_by_its_content(tmp_path: Path, secret_csv: Path, kind: str) -> None:
    path = _hostile(tmp_path, secret_csv, kind)
    with pytest.raises(GisPlannerError) as error:
        check_file(path, "sites")
    assert path.name in str(error.value)
    assert SECRET not in str(error.value)


def test_content_of_another_format_is_a_named_mismatch(tmp_path: Path) -> None:
    kml = write_kml(tmp_path / "tram.kml", [("HNM-0001", "Viettel", 105.91, 20.54, "30")])
    disguised = tmp_path / "tram.geojson"
    shutil.copyfile(kml, disguised)
    with pytest.raises(GisPlannerError, match=r"tram\.geojson: the content is .*KML, not GeoJSON"):
        check_file(disguised, "sites")


def test_archive_members_stay_inside_the_archive(tmp_path: Path, secret_csv: Path) -> None:
    path = tmp_path / "tram.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../private/tram.shp", b"")
    with pytest.raises(GisPlannerError, match="points outside the archive"):
        check_file(path, "sites")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def web_server(tmp_path: Path, secret_csv: Path) -> Iterator[tuple[str, Path]]:
    """A web server (a process: GDAL's HTTP client may hold the GIL) serving the secret's
    folder; yields its URL and its request log."""
    port = _free_port()
    log = tmp_path / "requests.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=secret_csv.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/ready", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_no_file_makes_gdal_fetch_a_url(tmp_path: Path, web_server: tuple[str, Path]) -> None:
    url, log = web_server
    vrt = tmp_path / "remote.geojson"
    vrt.write_text(_vrt(f"/vsicurl/{url}/secret.csv"))
    # Plain GeoJSON, read by its own driver, whose CRS is a link GDAL would fetch.
    linked = tmp_path / "linked.geojson"
    linked.write_text(
        '{"type": "FeatureCollection", "crs": {"type": "link", "properties": {"href": '
        f'"{url}/crs", "type": "proj4"}}}}, "features": [{{"type": "Feature", "properties": '
        '{"site_id": "HNM-0001", "operator": "viettel"}, "geometry": {"type": "Point", '
        '"coordinates": [105.91, 20.54]}}]}'
    )
    with pytest.raises(GisPlannerError) as error:
        check_file(vrt, "sites")
    assert SECRET not in str(error.value)
    try:
        check_file(linked, "sites")
    except GisPlannerError as refused:  # refusing the file is as good as not fetching
        assert url not in str(refused)
    requests = [line for line in log.read_text().splitlines() if "GET /" in line]
    assert [r for r in requests if "/ready" not in r] == []


def test_an_upload_of_a_vrt_is_a_400_without_the_secret(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path: Path,
    secret_csv: Path,
) -> None:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    store = GeoPackageStore(tmp_path / "hanam.gpkg")
    client = TestClient(create_app(store, api_settings))
    before = len(store.read("sites"))
    upload = _hostile(tmp_path, secret_csv, "vrt.geojson")
    with upload.open("rb") as data:
        response = client.post(
            "/imports/sites",
            params={"append": "true"},
            files={"file": (upload.name, data, "application/octet-stream")},
            headers=key("admin"),
        )
    assert response.status_code == 400, response.text
    assert "tram.geojson" in response.json()["detail"]
    assert SECRET not in response.text
    assert len(store.read("sites")) == before


# -- spreadsheets ------------------------------------------------------------------------------
def _xlsx(
    path: Path, *, dimension: str | None = None, merge: str | None = None, extra: str = ""
) -> Path:
    """A small real workbook of two sites, its sheet XML then rewritten: the ``<dimension>``
    it claims, a merged range, extra XML rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Trạm"
    sheet.append(["DANH SÁCH TRẠM - TỈNH HÀ NAM"])
    sheet.append(["Mã trạm", "Nhà mạng", "Kinh độ", "Vĩ độ", "Độ cao cột", "Loại cột"])
    sheet.append(["HNM-0001", "Viettel", 105.9123, 20.5432, 30, "lattice"])
    sheet.append(["HNM-0002", "VNPT", 105.9712, 20.6301, 36, "lattice"])
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    if dimension is not None:
        xml, found = re.subn(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', xml)
        assert found == 1
    xml = xml.replace("</sheetData>", f"{extra}</sheetData>")
    if merge is not None:
        xml = xml.replace(
            "</sheetData>",
            f'</sheetData><mergeCells count="1"><mergeCell ref="{merge}"/></mergeCells>',
        )
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


# Reads a workbook in a child process whose address space may grow by at most 768 MiB, and
# prints the growth of its peak memory and what was read (or the error): the memory a
# bomb takes is native and in the reader's grid, which only a process's peak shows.
_READ_IN_CHILD = """
import json, resource, sys
from pathlib import Path
from typing import Any
from gis_planner.catalogue import get_spec
from gis_planner.errors import GisPlannerError
from gis_planner.io.tabular import read_excel

def vm_bytes():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024

limit = vm_bytes() + 768 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    tables = read_excel(Path(sys.argv[1]), get_spec("sites"))
    out = {"rows": [[int(n) for n in t.rows] for t in tables],
           "columns": [t.frame.shape[1] for t in tables],
           "ids": [t.frame.iloc[:, 0].tolist() for t in tables]}
except GisPlannerError as error:
    out = {"error": type(error).__name__, "message": str(error)}
out["growth_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(out))
"""


def _read_in_child(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _READ_IN_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("dimension", "merge"),
    [("A1:XFD8000", None), ("A1:F2000", "G2:XFD2000"), ("A1:XFD1048576", "A5:XFD1048576")],
    ids=["dimension", "merged range", "both"],
)
def test_a_spreadsheet_bomb_reads_only_its_real_cells(
    tmp_path: Path, dimension: str | None, merge: str | None
) -> None:
    path = _xlsx(tmp_path / "tram.xlsx", dimension=dimension, merge=merge)
    assert path.stat().st_size < 20_000
    result = _read_in_child(path)
    assert "error" not in result, result
    assert result["rows"] == [[3, 4]]
    assert result["columns"] == [6]  # the real ones, not the 16,384 the file claims
    assert result["ids"] == [["HNM-0001", "HNM-0002"]]
    assert isinstance(result["growth_mib"], float) and result["growth_mib"] < 100


@pytest.mark.parametrize(
    ("cell", "what"),
    [("WC6", "601 columns"), ("A1000001", "1,000,001 rows"), ("SF45000", "45,000 × 500 cells")],
)
def test_a_sheet_past_the_caps_is_a_named_error(tmp_path: Path, cell: str, what: str) -> None:
    row = re.sub("[A-Z]", "", cell)
    extra = f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row>'
    result = _read_in_child(_xlsx(tmp_path / "tram.xlsx", extra=extra))
    assert result.get("error") == "SheetTooLarge", result
    message = str(result["message"])
    assert "tram.xlsx: sheet 'Trạm' is too large" in message and what in message


_SHARED_STRINGS = (
    '<?xml version="1.0" encoding="UTF-8"?><sst xmlns='
    '"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>x</t></si></sst>"
)


def _inflating(path: Path, part: str, before: str, filler_bytes: int) -> Path:
    """``path`` (a workbook) with ``filler_bytes`` of one letter written into ``part`` (the
    shared strings are added) just before its ``before``, streamed into the archive: a file of
    a few MB that inflates to GBs."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name).decode() for name in archive.namelist()}
    if part == "xl/sharedStrings.xml":
        parts[part] = _SHARED_STRINGS
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            "</Relationships>",
            '<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
        sheet = "xl/worksheets/sheet1.xml"
        parts[sheet] = parts[sheet].replace(
            "</sheetData>", '<row r="6"><c r="A6" t="s"><v>0</v></c></row></sheetData>'
        )
    head, found, tail = parts[part].partition(before)
    assert found
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != part:
                archive.writestr(name, data)
        with archive.open(part, "w", force_zip64=True) as member:
            member.write(head.encode())
            chunk = b"x" * (1 << 24)
            for _ in range(filler_bytes // len(chunk)):
                member.write(chunk)
            member.write((found + tail).encode())
    return path


@pytest.mark.parametrize(
    ("part", "before"),
    [("xl/sharedStrings.xml", "</t></si>"), ("xl/worksheets/sheet1.xml", "</t></is></c>")],
    ids=["shared strings", "a cell's text"],
)
def test_a_workbook_inflating_past_the_cap_is_refused_unread(
    tmp_path: Path, part: str, before: str
) -> None:
    """A text of 1.5 GB in a 2 MB file, in the shared strings or in one cell: the reader would
    hold it whole; the file is refused by name before it is opened."""
    extra = '<row r="5"><c r="A5" t="inlineStr"><is><t>x</t></is></c></row>'
    path = _inflating(_xlsx(tmp_path / "tram.xlsx", extra=extra), part, before, 1536 << 20)
    assert path.stat().st_size < 5 << 20
    result = _read_in_child(path)
    assert result.get("error") == "ArchiveTooLarge", result
    assert "tram.xlsx: inflates to more than 1,024 MiB" in str(result["message"])
    assert isinstance(result["growth_mib"], float) and result["growth_mib"] < 100


def test_shared_strings_are_read(tmp_path: Path) -> None:
    """The workbook the shared strings case starts from is read whole below the cap: the
    refusal above is for the size, not for the shared strings."""
    path = _inflating(_xlsx(tmp_path / "tram.xlsx"), "xl/sharedStrings.xml", "</t></si>", 0)
    result = _read_in_child(path)
    assert "error" not in result, result
    assert result["ids"] == [["HNM-0001", "HNM-0002", "x"]]


def _two_ways(read_by_python: bytes, read_by_the_rust_zip_crate: bytes) -> bytes:
    """One zip holding two workbooks: the zip64 end record just before the locator describes
    the first (Python's zipfile takes that one), the locator's offset and the 32-bit end
    record the second (the Rust zip crate, python-calamine's, takes those)."""

    def parts(data: bytes) -> tuple[bytes, bytearray, int, int]:
        end = data.rfind(b"PK\x05\x06")
        *_, count, size, offset, _ = struct.unpack_from("<4s4H2LH", data, end)
        return data[:offset], bytearray(data[offset : offset + size]), count, size

    def zip64_end(count: int, size: int, offset: int) -> bytes:
        return struct.pack(
            "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset
        )

    rust_local, rust_directory, rust_count, rust_size = parts(read_by_the_rust_zip_crate)
    python_local, python_directory, python_count, python_size = parts(read_by_python)
    out = bytearray(rust_local + rust_directory)
    rust_end_at = len(out)
    out += zip64_end(rust_count, rust_size, len(rust_local))
    base, at = len(out), 0
    while at < len(python_directory):  # the second workbook's parts moved after the first's
        name, extra, comment = struct.unpack_from("<HHH", python_directory, at + 28)
        offset = struct.unpack_from("<L", python_directory, at + 42)[0]
        struct.pack_into("<L", python_directory, at + 42, offset + base)
        at += 46 + name + extra + comment
    out += python_local
    directory_at = len(out)
    out += python_directory + zip64_end(python_count, python_size, directory_at)
    out += struct.pack("<4sLQL", b"PK\x06\x07", 0, rust_end_at, 1)
    out += struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, rust_count, rust_count, rust_size, len(rust_local), 0
    )
    return bytes(out)


def test_the_reader_reads_the_workbook_the_checks_measured(tmp_path: Path) -> None:
    """A zip read one way by the checks and another by the reader: the checks measured a
    harmless list while the reader opened a sheet of 601 columns (or a GB of text, and
    aborted). The reader now opens a copy of the parts the checks read."""
    far = '<row r="6"><c r="WC6" t="inlineStr"><is><t>x</t></is></c></row>'
    wide = _xlsx(tmp_path / "wide.xlsx", extra=far).read_bytes()
    harmless = _xlsx(tmp_path / "harmless.xlsx").read_bytes()
    path = tmp_path / "tram.xlsx"
    path.write_bytes(_two_ways(harmless, wide))
    result = _read_in_child(path)
    assert "error" not in result, result
    assert result["columns"] == [6]
    assert result["ids"] == [["HNM-0001", "HNM-0002"]]


def test_an_xls_claiming_a_huge_grid_is_refused_unread(tmp_path: Path) -> None:
    """The DIMENSIONS record: the reader reserves the grid it claims before reading a cell
    (a 5.6 KB file made it ask for 655 GB and abort)."""
    path = write_xls(tmp_path / "tram.xls", station_list())
    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<HH", 0x0200, 14))
    assert at > 0
    struct.pack_into("<IIHH", data, at + 4, 0, 1_000_000, 0, 16_384)
    path.write_bytes(bytes(data))
    result = _read_in_child(path)
    assert result.get("error") == "SheetTooLarge", result
    assert "16,384 columns" in str(result["message"])


def test_a_kmz_inflating_past_the_cap_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A KMZ's KML is inflated here and counted before GDAL reads it (a KMZ of 1.6 MB held
    142 MB of KML, and GDAL took 1.8 GiB reading it); a small cap stands for the real one."""
    from gis_planner.io import vector

    marks = [("HNM-9001", "Viettel", 105.9123, 20.5432, "30")]
    kml = write_kml(tmp_path / "doc.kml", marks).read_bytes()
    head, found, tail = kml.partition(b"</Document>")
    assert found
    path = tmp_path / "tram.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", head + b"<!--" + b"x" * (3 << 20) + b"-->" + found + tail)
    monkeypatch.setattr(vector, "MAX_INFLATED_BYTES", 2 << 20)
    with pytest.raises(GisPlannerError, match=r"tram.kmz: inflates to more than 2 MiB"):
        check_file(path, "sites")
    monkeypatch.undo()
    assert check_file(path, "sites").result.accepted > 0  # under the real cap, read whole


def test_a_geopackage_whose_view_fails_is_a_named_error(tmp_path: Path) -> None:
    """A features layer that is a view failing as it is read (an integer overflow): a named
    error, not a crash of the reader's caller."""
    path = _endless_view(tmp_path / "tram.gpkg")
    import sqlite3

    with sqlite3.connect(path) as database:
        database.execute("DROP VIEW endless")
        database.execute(
            "CREATE VIEW endless AS SELECT 1 AS fid, geom, 'HNM-9003' AS site_id, "
            "abs(-9223372036854775807 - 1) AS boom FROM sites LIMIT 1"
        )
    with pytest.raises(GisPlannerError, match=r"tram.gpkg: layer 'endless' is not readable"):
        check_file(path, "sites")


def test_a_shapefile_in_a_crs_proj_cannot_use_is_a_named_error(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    sites = gpd.GeoDataFrame(
        {"site_id": ["HNM-9001"], "operator": ["viettel"]},
        geometry=[shapely.Point(105.9123, 20.5432)],
        crs=4326,
    )
    sites.to_file(tmp_path / "tram.shp")
    (tmp_path / "tram.prj").write_text('LOCAL_CS["local",UNIT["metre",1]]', encoding="ascii")
    path = tmp_path / "tram.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in tmp_path.glob("tram.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
    with pytest.raises(GisPlannerError, match=r"tram.zip"):
        check_file(path, "sites")


@pytest.mark.parametrize("kind", ["geojson", "kml"])
def test_a_file_naming_thousands_of_attributes_is_refused(tmp_path: Path, kind: str) -> None:
    """Each feature naming attributes of its own (a GeoJSON's properties, a KML placemark's
    description table): past 512 names, as a sheet's columns, the file is refused (2,000
    placemarks naming five each took 79 s, 2,000 features 428 MiB)."""
    count = 600
    if kind == "geojson":
        features = [
            {
                "type": "Feature",
                "properties": {"site_id": f"HNM-{i:04d}", f"note_{i}": "x"},
                "geometry": {"type": "Point", "coordinates": [105.9, 20.5]},
            }
            for i in range(count)
        ]
        path = tmp_path / "tram.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    else:
        marks = "".join(
            f"<Placemark><name>HNM-{i:04d}</name><description><![CDATA[<table><tr><td>note_{i}"
            "</td><td>x</td></tr></table>]]></description><Point><coordinates>105.9,20.5"
            "</coordinates></Point></Placemark>"
            for i in range(count)
        )
        path = tmp_path / "tram.kml"
        path.write_text(
            '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document>{marks}</Document></kml>",
            encoding="utf-8",
        )
    with pytest.raises(GisPlannerError, match=r"60[0-9] attributes \(at most 512"):
        check_file(path, "sites")


# -- CSV -------------------------------------------------------------------------------------
def _long_field_csv(path: Path) -> Path:
    """Sites whose second row has a 200,000-character name, one of them quoted over two
    lines; every row is valid."""
    long = "x" * 200_000
    quoted = '"' + "y" * 100_000 + "\n" + "z" * 100_000 + '"'
    path.write_text(
        "site_id,operator,lon,lat,height_m,tower_type,name\n"
        "HNM-0001,viettel,105.9123,20.5432,30,lattice,Phủ Lý\n"
        f"HNM-0002,vnpt,105.9712,20.6301,36,lattice,{long}\n"
        f"HNM-0003,mobifone,105.8521,20.5702,30,lattice,{quoted}\n"
        "HNM-0004,viettel,106.0805,20.5512,42,monopole,Lý Nhân\n",
        encoding="utf-8",
    )
    return path


def test_a_csv_field_past_the_csv_module_limit_keeps_every_row(tmp_path: Path) -> None:
    result = check_file(_long_field_csv(tmp_path / "tram.csv"), "sites").result
    assert (result.read, result.accepted, result.rejected) == (4, 4, 0)


@pytest.mark.parametrize("mark", ["\u2028", "\x0c", "\x1e", "\x85", "\x0b"])
def test_a_title_with_a_line_separator_keeps_every_row(tmp_path: Path, mark: str) -> None:
    """Characters Python breaks lines at and the CSV parser does not, in a title: the header
    was looked for among other lines than the parser's, and a data row was lost silently."""
    path = tmp_path / "tram.csv"
    path.write_text(
        f"DANH SÁCH TRẠM{mark}TỈNH HÀ NAM\n"
        "site_id,operator,lon,lat,height_m,tower_type\n"
        "HNM-9001,viettel,105.9123,20.5432,30,lattice\n"
        "HNM-9002,vnpt,105.9712,20.6301,36,lattice\n",
        encoding="utf-8",
    )
    result = check_file(path, "sites").result
    assert (result.read, result.accepted, result.rejected) == (2, 2, 0)


def _upload_sites(client: TestClient, upload: Path, media_type: str) -> Any:
    """``upload`` added to the sites layer by an admin."""
    with upload.open("rb") as data:
        return client.post(
            "/imports/sites",
            params={"append": "true"},
            files={"file": (upload.name, data, media_type)},
            headers=key("admin"),
        )


def test_an_upload_of_a_csv_with_a_long_field_is_not_a_500(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    client = TestClient(create_app(GeoPackageStore(tmp_path / "hanam.gpkg"), api_settings))
    response = _upload_sites(client, _long_field_csv(tmp_path / "tram.csv"), "text/csv")
    assert response.status_code == 200, response.text[:500]
    assert response.json()["read"] == 4


def _endless_view(path: Path) -> Path:
    """A GeoPackage of two sites and a features layer that is a view without end (a
    recursive query): 96 KB that a reader reads forever."""
    import sqlite3

    import geopandas as gpd
    import shapely

    sites = gpd.GeoDataFrame(
        {"site_id": ["HNM-9001", "HNM-9002"], "operator": ["viettel", "vnpt"]},
        geometry=[shapely.Point(105.9123, 20.5432), shapely.Point(105.9712, 20.6301)],
        crs=4326,
    )
    sites.to_file(path, layer="sites", driver="GPKG")
    with sqlite3.connect(path) as database:
        database.executescript(
            "CREATE VIEW endless AS WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
            "SELECT i + 1 FROM c) SELECT c.i AS fid, s.geom AS geom, 'HNM-9003' AS site_id, "
            "'viettel' AS operator FROM c, (SELECT geom FROM sites LIMIT 1) s;"
        )
        database.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, "
            "max_x, max_y, srs_id) VALUES ('endless', 'features', 'endless', 105, 20, 106, "
            "21, 4326)"
        )
        database.execute(
            "INSERT INTO gpkg_geometry_columns VALUES ('endless', 'geom', 'POINT', 4326, 0, 0)"
        )
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("limit", "said"),
    [({"import_timeout_s": 8.0}, "took more than 8 s"), ({"import_cpu_s": 10}, "10 s of CPU")],
    ids=["time", "CPU"],
)
def test_an_upload_read_forever_is_stopped_and_refused(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path: Path,
    limit: dict[str, float],
    said: str,
) -> None:
    """An import's child is stopped past its time or its CPU: the upload is a 400 naming the
    file, the server answers on, and no reader is left running."""
    import psutil

    shutil.copyfile(sample_store.path, tmp_path / "hanam.gpkg")
    settings = api_settings.model_copy(update=limit)
    client = TestClient(create_app(GeoPackageStore(tmp_path / "hanam.gpkg"), settings))
    upload = _endless_view(tmp_path / "tram.gpkg")
    before = {child.pid for child in psutil.Process().children()}  # other tests' children
    start = time.perf_counter()
    response = _upload_sites(client, upload, "application/geopackage+sqlite3")
    assert response.status_code == 400, response.text[:500]
    assert "tram.gpkg" in response.json()["detail"] and said in response.json()["detail"]
    assert time.perf_counter() - start < 60
    assert client.get("/collections").status_code == 200

    def readers() -> list[psutil.Process]:
        """This process's children running since the upload, but multiprocessing's resource
        tracker (started with the first child, it stays) and the dead."""
        running = []
        for child in psutil.Process().children():
            try:
                if child.pid in before or child.status() == psutil.STATUS_ZOMBIE:
                    continue
                if "resource_tracker" in " ".join(child.cmdline()):
                    continue
            except psutil.NoSuchProcess:  # gone meanwhile (a zombie is one)
                continue
            running.append(child)
        return running

    deadline = time.monotonic() + 10
    while readers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not readers()


@pytest.mark.parametrize(
    "cell",
    [
        '<c\tr="SF45000" t="inlineStr"><is><t>x</t></is></c>',
        '<c\r\nr="SF45000" t="inlineStr"><is><t>x</t></is></c>',
        '<c t="inlineStr" r="SF45000"><is><t>x</t></is></c>',
        '<c r="sf45000" t="inlineStr"><is><t>x</t></is></c>',
        '<x:c xmlns:x="http://purl.oclc.org/ooxml/spreadsheetml/main" r="SF45000" '
        't="inlineStr"><x:is><x:t>x</x:t></x:is></x:c>',
    ],
    ids=["tab", "line break", "reference last", "lower case", "Strict Open XML"],
)
def test_a_far_cell_written_unlike_excel_is_measured_where_the_reader_puts_it(
    tmp_path: Path, cell: str
) -> None:
    """The reader places a cell by its own reference, whatever white space precedes it,
    wherever its reference is among its attributes, whatever row element holds it: so does the
    guard (a cell here is written in row 5 and names row 45,000)."""
    result = _read_in_child(_xlsx(tmp_path / "tram.xlsx", extra=f'<row r="5">{cell}</row>'))
    assert result.get("error") == "SheetTooLarge", result
    assert "45,000 × 500 cells" in str(result["message"])


def test_a_column_of_four_letters_is_refused(tmp_path: Path) -> None:
    extra = '<row r="5"><c r="AAAA5" t="inlineStr"><is><t>x</t></is></c></row>'
    result = _read_in_child(_xlsx(tmp_path / "tram.xlsx", extra=extra))
    assert result.get("error") == "SheetTooLarge", result
    assert "18,279 columns" in str(result["message"])
