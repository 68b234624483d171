"""Operators' station lists as they are sent: every format and encoding they come in, every
good row accepted as it is (no --set, no mapping), every bad row rejected with its reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from gis_planner.io import Area, Context, ImportOptions, check_file
from gis_planner.io.coordinates import province_outline
from gis_planner.io.legacy import detect, to_unicode
from gis_planner.store import GeoPackageStore

from .io_files import (
    BAD_ROWS,
    FIRST_DATA_ROW,
    GOOD_ROWS,
    station_list,
    to_legacy,
    write_csv,
    write_ods,
    write_xls,
    write_xlsx,
)


@pytest.fixture(scope="module")
def context(sample_store: GeoPackageStore) -> Context:
    admin = sample_store.read("admin_units")
    return Context(area=Area.from_outline(province_outline(admin)), admin_units=admin)


def _csv(encoding: str) -> Callable[[Path, list[list[object]]], Path]:
    return lambda path, rows: write_csv(path, rows, encoding)


WRITERS: dict[str, tuple[str, Callable[[Path, list[list[object]]], Path]]] = {
    "xlsx": ("tram.xlsx", write_xlsx),
    "xls": ("tram.xls", write_xls),
    "ods": ("tram.ods", write_ods),
    "csv utf-8": ("tram.csv", _csv("utf-8-sig")),
    "csv windows-1258": ("tram.csv", _csv("cp1258")),
    "csv tcvn3": ("tram.csv", _csv("tcvn3")),
    "csv vni": ("tram.csv", _csv("vni")),
    "xls tcvn3": ("tram.xls", lambda p, rows: write_xls(p, _legacy_rows(rows, "tcvn3"))),
    "xlsx vni": ("tram.xlsx", lambda p, rows: write_xlsx(p, _legacy_rows(rows, "vni"))),
}


def _legacy_rows(rows: list[list[object]], encoding: str) -> list[list[object]]:
    """A sheet typed in a legacy font: its texts are the font's Western characters."""
    return [[to_legacy(str(v), encoding) for v in row] for row in rows]


@pytest.mark.parametrize("kind", list(WRITERS))
def test_every_good_row_accepted_every_bad_row_rejected(
    tmp_path: Path, context: Context, kind: str
) -> None:
    name, write = WRITERS[kind]
    path = write(tmp_path / name, station_list())
    checked = check_file(path, "sites", context=context)
    result = checked.result
    assert result.read == len(GOOD_ROWS) + len(BAD_ROWS)
    assert result.accepted + result.rejected == result.read
    assert result.accepted == len(GOOD_ROWS), result.rejects
    sites = checked.to_write["sites"].set_index("site_id")
    for row, expected in GOOD_ROWS:
        site = sites.loc[str(row[1])]
        got = {key: site[key] for key in expected}
        assert got == expected, (kind, row[1])
        assert site["address"] == row[3], "Vietnamese text as written"
    first_bad = FIRST_DATA_ROW + len(GOOD_ROWS)
    rejects = result.rejects.drop_duplicates(["row"]).set_index("row")
    assert list(rejects.index) == list(range(first_bad, first_bad + len(BAD_ROWS)))
    for offset, (row, (field, reason)) in enumerate(BAD_ROWS):
        reject = rejects.loc[first_bad + offset]
        assert (reject["field"], reject["reason"]) == (field, reason), (kind, row[1])
        assert reject["message"] and reject["file"] == name
    assert result.fixed_by_reason().to_dict() == {"assumed": 2}
    if "tcvn3" in kind or "vni" in kind:
        assert any(kind.split()[-1] in note for note in result.notes), result.notes


@pytest.mark.parametrize("encoding", ["tcvn3", "vni"])
def test_a_legacy_encoding_given_by_name(tmp_path: Path, context: Context, encoding: str) -> None:
    path = write_csv(tmp_path / "tram.csv", station_list(), encoding)
    options = ImportOptions(encoding=encoding.upper())
    result = check_file(path, "sites", options=options, context=context).result
    assert (result.accepted, result.rejected) == (len(GOOD_ROWS), len(BAD_ROWS))


@pytest.mark.parametrize(
    ("legacy", "encoding", "unicode"),
    [
        ("TiÕng ViÖt rÊt hay", "tcvn3", "Tiếng Việt rất hay"),
        ("Cét tù ®øng, cét d©y co, cét trªn nãc nhµ", "tcvn3",
         "Cột tự đứng, cột dây co, cột trên nóc nhà"),
        ("®­êng Lª Hång Phong", "tcvn3", "đường Lê Hồng Phong"),
        ("Tieáng Vieät raát hay", "vni", "Tiếng Việt rất hay"),
        ("Coät töï ñöùng, coät daây co", "vni", "Cột tự đứng, cột dây co"),
        ("ñöôøng Leâ Hoàng Phong", "vni", "đường Lê Hồng Phong"),
        ("NGUYEÃN", "vni", "NGUYỄN"),
    ],
)  # fmt: skip
def test_legacy_text_converted_and_detected(legacy: str, encoding: str, unicode: str) -> None:
    assert to_unicode(legacy, encoding) == unicode
    assert detect([legacy]) == encoding


def test_western_text_is_not_taken_for_a_legacy_encoding() -> None:
    assert detect(["Café Zürich", "Hà Nam", "Bình Lục"]) is None


def test_a_file_without_a_header_says_which_columns_were_expected(tmp_path: Path) -> None:
    path = tmp_path / "tram.csv"
    path.write_text("A;B;C\n1;2;3\n", encoding="utf-8")
    with pytest.raises(Exception, match="no header row names the columns") as error:
        check_file(path, "sites")
    assert "Mã trạm (site_id)" in str(error.value) and "Kinh độ (lon)" in str(error.value)
    book = write_xlsx(tmp_path / "tram.xlsx", [["A", "B"], [1, 2]])
    with pytest.raises(Exception, match="no sheet has a header row") as error:
        check_file(book, "sites")
    assert "Nhà mạng (operator)" in str(error.value)
    # A mapping file's columns make a header.
    mapped = check_file(
        path,
        "sites",
        options=ImportOptions(mapping={"A": "site_id", "B": "lon", "C": "lat"}),
    ).result
    assert mapped.read == 1


def test_wkt_geometry_columns(tmp_path: Path, context: Context) -> None:
    path = tmp_path / "tuyen.csv"
    path.write_text(
        "Mã tuyến;Doanh nghiệp;Cấp tuyến;Số sợi;Hình thức;WKT\n"
        "R1;VNPT;Tuyến trục;96;Cáp treo;LINESTRING (105.91 20.54, 105.97 20.63)\n"
        "R2;Viettel;Phân phối;48;Ngầm;LINESTRING (105.85 20.57, 105.91 20.54)\n"
        "R3;FPT;Truy nhập;24;Treo;LINESTRING (105.85 20.57\n",
        encoding="utf-8",
    )
    result = check_file(path, "fibre_routes", context=context).result
    assert (result.read, result.accepted, result.rejected) == (3, 2, 1)
    assert result.rejects.iloc[0][["row", "field", "reason"]].tolist() == [4, "geometry", "wkt"]
    assert result.rows is not None
    assert result.rows["route_class"].tolist() == ["trunk", "distribution"]
    assert result.rows["laying"].tolist() == ["aerial", "underground"]
    points = tmp_path / "tram.csv"
    points.write_text(
        "Mã trạm;Nhà mạng;Loại cột;Độ cao cột;Hình học\n"
        "W1;Viettel;Cột tự đứng;40;POINT (105.9123 20.5432)\n"
        # VN-2000 TM-3 105° metres (easting northing), as a survey's WKT has them.
        "W2;Viettel;Cột tự đứng;40;POINT (595697.15 2271293.97)\n",
        encoding="utf-8",
    )
    sites = check_file(points, "sites", context=context).result.rows
    assert sites is not None and len(sites) == 2
    assert sites.geometry.x.iloc[0] == 105.9123
    assert 105.85 < sites.geometry.x.iloc[1] < 106.0 and 20.4 < sites.geometry.y.iloc[1] < 20.6


def test_a_wkt_of_thousands_of_nested_collections_is_a_rejected_row(
    tmp_path: Path, context: Context
) -> None:
    """Collections nest without bound in WKT: 5,000 deep, GEOS took 89 s over one cell (and
    crashed at 100,000). Such a row is rejected at once; the others are kept."""
    import time

    deep = "GEOMETRYCOLLECTION (" * 5000 + "POINT (105.9 20.5)" + ")" * 5000
    path = tmp_path / "tram.csv"
    path.write_text(
        "Mã trạm;Nhà mạng;Loại cột;Độ cao cột;Hình học\n"
        "W1;Viettel;Cột tự đứng;40;POINT (105.9123 20.5432)\n"
        f"W2;Viettel;Cột tự đứng;40;{deep}\n",
        encoding="utf-8",
    )
    start = time.perf_counter()
    result = check_file(path, "sites", context=context).result
    assert time.perf_counter() - start < 10
    assert (result.read, result.accepted, result.rejected) == (2, 1, 1)
    assert result.rejects.iloc[0][["row", "field", "reason"]].tolist() == [3, "geometry", "wkt"]


def _google_earth_kml(path: Path) -> Path:
    table = (
        '<html><body><table border="1"><tr><th colspan="2" align="center">Trạm BTS</th></tr>'
        "<tr><td>Nhà mạng</td><td>{op}</td></tr><tr><td>Độ cao cột</td><td>{h}</td></tr>"
        "<tr><td>Loại cột</td><td>{kind}</td></tr></table></body></html>"
    )
    marks = [
        ("GE-1", "Viettel", "45", "Cột tự đứng", 105.9123, 20.5432),
        ("GE-2", "MobiFone", "N/A", "Cột trên nóc nhà", 105.9712, 20.6301),
    ]
    placemarks = "".join(
        f"<Placemark><name>{name}</name><description><![CDATA["
        f"{table.format(op=op, h=h, kind=kind)}]]></description>"
        f"<Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>"
        for name, op, h, kind, lon, lat in marks
    )
    placemarks += (
        '<Placemark><name>GE-3</name><ExtendedData><Data name="Nhà mạng"><value>VNPT</value>'
        '</Data><Data name="Loại cột"><value>Cột dây co</value></Data><Data name="Độ cao cột">'
        "<value>39</value></Data></ExtendedData>"
        "<Point><coordinates>105.8521,20.5702,0</coordinates></Point></Placemark>"
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><name>Trạm</name>{placemarks}</Document></kml>",
        encoding="utf-8",
    )
    return path


def test_kml_attributes_in_description_tables_and_extended_data(
    tmp_path: Path, context: Context
) -> None:
    checked = check_file(_google_earth_kml(tmp_path / "tram.kml"), "sites", context=context)
    assert (checked.result.read, checked.result.accepted) == (3, 3), checked.result.rejects
    sites = checked.to_write["sites"].set_index("site_id")
    assert sites["operator"].to_dict() == {"GE-1": "viettel", "GE-2": "mobifone", "GE-3": "vnpt"}
    assert sites["tower_type"].to_dict() == {"GE-1": "lattice", "GE-2": "rooftop", "GE-3": "guyed"}
    assert sites["height_m"].to_dict() == {"GE-1": 45.0, "GE-2": 21.0, "GE-3": 39.0}
    assert sites["height_assumed"].tolist() == [False, True, False]
    assert pd.isna(checked.result.rejects.get("value")).all()
