"""Every format the importer reads, on real files written in ``tmp_path``."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import Workbook
from pyproj import Transformer

from gis_planner.catalogue.layers import CORE_LAYERS
from gis_planner.errors import GisPlannerError
from gis_planner.io import Area, Context, ImportOptions, check_file, context_from_store, import_file
from gis_planner.io.coordinates import province_outline
from gis_planner.io.opencellid import COLUMNS
from gis_planner.settings import REPOSITORY
from gis_planner.store import GeoPackageStore

from .io_files import INSIDE, encode_cp1258, write_kml, zip_files

#: The government outlines of ../shared/data/admin, as bundled with their licence note.
SHARED_ADMIN = REPOSITORY / "layers" / "sources"


@pytest.fixture(scope="module")
def area(sample_store: GeoPackageStore) -> Area:
    return Area.from_outline(province_outline(sample_store.read("admin_units")))


@pytest.fixture(scope="module")
def context(sample_store: GeoPackageStore, area: Area) -> Context:
    return Context(area=area, admin_units=sample_store.read("admin_units"))


def _station_rows() -> list[list[object]]:
    ops = ["Viettel", "VNPT-VinaPhone", "MobiFone", "Vina", "VIETTEL", "Mobi"]
    return [
        [f"HNM-{i:03d}", ops[i], f"{lon}".replace(".", ","), f"{lat}".replace(".", ","),
         f"{30 + i}m", "lattice", f"Thôn {i + 1}, Xã Đồng Hóa"]
        for i, (lon, lat) in enumerate(INSIDE)
    ]  # fmt: skip


HEADER = ["Mã trạm", "Nhà mạng", "Kinh độ", "Vĩ độ", "Độ cao cột (m)", "Loại cột", "Địa chỉ"]


def _csv_text(delimiter: str = ";", title: bool = True) -> str:
    lines = ["DANH SÁCH TRẠM BTS TỈNH HÀ NAM", ""] if title else []
    lines.append(delimiter.join(HEADER))
    lines += [delimiter.join(map(str, row)) for row in _station_rows()]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("name", "encode"),
    [
        ("utf8_bom_semicolon.csv", lambda t: codecs.BOM_UTF8 + t.encode("utf-8")),
        ("utf16.csv", lambda t: t.encode("utf-16")),
        ("windows1258.csv", encode_cp1258),
        ("utf8.tsv", None),
    ],
)
def test_csv_encodings_delimiters_and_title_rows(
    tmp_path: Path, context: Context, name: str, encode: object
) -> None:
    path = tmp_path / name
    if encode is None:
        path.write_text(_csv_text("\t"), encoding="utf-8")
    else:
        path.write_bytes(encode(_csv_text()))  # type: ignore[operator]
    checked = check_file(path, "sites", context=context)
    result = checked.result
    assert (result.read, result.accepted, result.rejected) == (6, 6, 0), result.rejects
    sites = checked.to_write["sites"]
    assert sites["operator"].tolist() == [
        "viettel", "vnpt", "mobifone", "vnpt", "viettel", "mobifone",
    ]  # fmt: skip
    assert sites["height_m"].tolist() == [30.0, 31.0, 32.0, 33.0, 34.0, 35.0]
    assert sites["address"].iloc[0] == "Thôn 1, Xã Đồng Hóa"
    assert np.allclose(sites.geometry.x, [p[0] for p in INSIDE])
    assert sites["commune_code"].notna().all(), "derived from the store's communes"


def test_windows1252_csv_with_comma_delimiter(tmp_path: Path, context: Context) -> None:
    rows = ["site_id,operator,lon,lat,height_m,tower_type,address"]
    rows += [
        f"W{i},Viettel,{lon},{lat},30,monopole,Café {i}" for i, (lon, lat) in enumerate(INSIDE)
    ]
    path = tmp_path / "western.csv"
    path.write_bytes("\n".join(rows).encode("cp1252"))
    checked = check_file(path, "sites", context=context)
    assert checked.result.accepted == 6
    assert "encoding cp1252" in checked.result.notes
    assert checked.to_write["sites"]["address"].iloc[0] == "Café 0"


def _workbook(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Viettel"
    sheet["A1"] = "DANH SÁCH TRẠM BTS VIETTEL - TỈNH HÀ NAM"
    sheet.merge_cells("A1:G1")
    sheet["A2"] = "(Kèm theo công văn số 123/VTHNM)"
    # Two header rows: "Tọa độ" spans lon/lat, the other headers span both rows.
    for col, title in zip("ADEFG", ["Mã trạm", "Độ cao cột (m)", "Nhà mạng", "Loại cột",
                                    "Địa chỉ"], strict=True):  # fmt: skip
        sheet[f"{col}3"] = title
        sheet.merge_cells(f"{col}3:{col}4")
    sheet["B3"] = "Tọa độ"
    sheet.merge_cells("B3:C3")
    sheet["B4"], sheet["C4"] = "Kinh độ", "Vĩ độ"
    for i, (lon, lat) in enumerate(INSIDE[:4]):
        sheet.append(
            [
                f"VT-{i}",
                lon if i % 2 else f"{lon}".replace(".", ","),
                lat,
                45 if i else "45m",
                "Viettel" if i != 3 else None,
                "lattice",
                f"Thôn {i}",
            ]
        )
    # One operator cell merged over two data rows, as lists often do: both rows are Viettel.
    sheet.merge_cells("E7:E8")  # fmt: skip
    sheet.append([])
    sheet.append(["VT-9", 105.9, 20.5, "N/A", "Viettel", "lattice", ""])  # row 10
    notes = book.create_sheet("Ghi chú")
    notes["A1"] = "Số liệu tháng 6/2025"
    second = book.create_sheet("VNPT")
    second.append(["Site ID", "Longitude", "Latitude", "Height", "Operator", "Tower type"])
    for i, (lon, lat) in enumerate(INSIDE[4:]):
        second.append([f"VNP-{i}", lon, lat, 36.5, "VNPT", "monopole"])
    book.save(path)
    return path


def test_excel_title_rows_merged_headers_several_sheets(tmp_path: Path, context: Context) -> None:
    path = _workbook(tmp_path / "tram.xlsx")
    checked = check_file(path, "sites", context=context)
    result = checked.result
    assert (result.read, result.accepted, result.rejected) == (7, 7, 0), result.rejects
    sites = checked.to_write["sites"].set_index("site_id")
    assert sorted(sites.index) == ["VNP-0", "VNP-1", "VT-0", "VT-1", "VT-2", "VT-3", "VT-9"]
    assert sites.loc["VT-0", "height_m"] == 45.0
    # "N/A": the tower type's typical height, flagged and listed among the fixes.
    assert sites.loc["VT-9", ["height_m", "height_assumed"]].tolist() == [40.0, True]
    fix = result.fixes.iloc[0]
    assert (fix["sheet"], fix["row"], fix["field"], fix["reason"]) == (
        "Viettel", 10, "height_m", "assumed",
    )  # fmt: skip
    assert sites.loc["VT-0"].geometry.x == pytest.approx(INSIDE[0][0])
    assert sites.loc["VNP-1", "operator"] == "vnpt"
    only = check_file(path, "sites", options=ImportOptions(sheet="VNPT"), context=context)
    assert only.result.read == 2
    by_number = check_file(path, "sites", options=ImportOptions(sheet="1"), context=context)
    assert by_number.result.read == 5
    with pytest.raises(GisPlannerError, match="no sheet 'Mobi'"):
        check_file(path, "sites", options=ImportOptions(sheet="Mobi"), context=context)


def test_kml_and_kmz(tmp_path: Path, context: Context) -> None:
    marks = [(f"GE-{i}", "Viettel", lon, lat, "40") for i, (lon, lat) in enumerate(INSIDE)]
    kml = write_kml(tmp_path / "tram.kml", marks)
    kmz = zip_files(tmp_path / "tram.kmz", [kml], ["doc.kml"])
    for path in (kml, kmz):
        checked = check_file(path, "sites", context=context)
        assert (checked.result.read, checked.result.accepted) == (6, 6), checked.result.rejects
        sites = checked.to_write["sites"]
        assert sites["site_id"].tolist() == [m[0] for m in marks]
        assert sites["height_m"].eq(40).all() and sites["operator"].eq("viettel").all()
        assert not shapely.has_z(sites.geometry.to_numpy()).any()


def _routes() -> gpd.GeoDataFrame:
    lines = [shapely.LineString([INSIDE[i], INSIDE[i + 1]]) for i in range(3)]
    frame = gpd.GeoDataFrame(
        {"MA_TUYEN": ["R1", "R2", "R3"], "NHA_MANG": ["VNPT", "Viettel", "FPT"],
         "CAP_TUYEN": ["trunk", "distribution", "access"], "SO_SOI": [96, 48, 24],
         "HINH_THUC": ["aerial", "underground", "aerial"]},
        geometry=lines, crs="EPSG:4326",
    )  # fmt: skip
    return frame.to_crs("EPSG:32648")


def test_zipped_shapefile_with_prj_and_without(tmp_path: Path, context: Context) -> None:
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(_routes(), folder / "cap_quang.shp", encoding="UTF-8")
    parts = sorted(folder.iterdir())
    zipped = zip_files(tmp_path / "cap_quang.zip", parts)
    checked = check_file(zipped, "fibre_routes", context=context)
    assert (checked.result.read, checked.result.accepted) == (3, 3), checked.result.rejects
    routes = checked.to_write["fibre_routes"]
    assert routes["operator"].tolist() == ["vnpt", "viettel", "fpt"]
    assert routes.crs.to_epsg() == 4326
    assert routes.geometry.iloc[0].coords[0] == pytest.approx(INSIDE[0], abs=1e-7)

    no_prj = zip_files(tmp_path / "no_prj.zip", [p for p in parts if p.suffix != ".prj"])
    with pytest.raises(GisPlannerError, match="no coordinate reference system"):
        check_file(no_prj, "fibre_routes", context=context)
    given = check_file(
        no_prj, "fibre_routes", options=ImportOptions(crs="EPSG:32648"), context=context
    )
    assert given.result.accepted == 3
    plain = check_file(folder / "cap_quang.shp", "fibre_routes", context=context)
    assert plain.result.accepted == 3


def test_geojson_and_geopackage_layer(tmp_path: Path, context: Context) -> None:
    nodes = gpd.GeoDataFrame(
        {"node_id": ["N1", "N2"], "operator": ["VNPT", "Viettel"], "node_type": ["olt", "pop"]},
        geometry=shapely.points(INSIDE[:2]), crs="EPSG:4326",
    )  # fmt: skip
    nodes.to_file(tmp_path / "nodes.geojson", driver="GeoJSON")
    assert check_file(tmp_path / "nodes.geojson", "fibre_nodes", context=context).result.ok
    gpkg = tmp_path / "mixed.gpkg"
    pyogrio.write_dataframe(nodes, gpkg, layer="nut_mang")
    pyogrio.write_dataframe(_routes(), gpkg, layer="tuyen_cap")
    checked = check_file(
        gpkg, "fibre_nodes", options=ImportOptions(sheet="nut_mang"), context=context
    )
    assert checked.result.accepted == 2


def test_opencellid_cells_grouped_into_sites(tmp_path: Path, context: Context) -> None:
    lon, lat = INSIDE[0]
    rows = [
        f"LTE,452,4,10501,{1000 + i},{i},{lon + i * 0.0002:.6f},{lat:.6f},500,12,1,1,2,0"
        for i in range(3)
    ]  # three Viettel cells within ~40 m: one site
    rows += [
        f"GSM,452,2,501,77,0,{lon:.6f},{lat:.6f},1000,3,1,1,2,0",  # VinaPhone on the same mast
        f"NR,452,1,700,5,1,{INSIDE[3][0]},{INSIDE[3][1]},200,2,1,1,2,0",  # MobiFone, elsewhere
        f"LTE,452,99,1,1,0,{lon},{lat},1,1,1,1,2,0",  # unknown MNC
        f"LTE,310,260,1,1,0,{lon},{lat},1,1,1,1,2,0",  # not Vietnam
        "UMTS,452,5,1,9,0,106.9,21.9,1,1,1,1,2,0",  # outside the province
    ]
    header = ",".join(COLUMNS)
    for with_header in (True, False):
        path = tmp_path / f"452_{with_header}.csv"
        path.write_text("\n".join(([header] if with_header else []) + rows) + "\n")
        checked = check_file(path, "cells", context=context)
        result = checked.result
        assert (result.read, result.accepted, result.rejected) == (8, 5, 3)
        reasons = dict(zip(result.rejects["row"], result.rejects["reason"], strict=True))
        first = 2 if with_header else 1
        assert reasons == {
            first + 5: "unknown_operator",
            first + 6: "other_country",
            first + 7: "outside_province",
        }
        cells, sites = checked.to_write["cells"], checked.to_write["sites"]
        assert sorted(sites["operator"]) == ["mobifone", "viettel", "vnpt"]
        viettel = cells[cells["operator"] == "viettel"]
        assert viettel["site_id"].nunique() == 1 and viettel["technology"].eq("4G").all()
        assert cells.set_index("operator").loc["mobifone", "technology"] == "5G"
        assert set(cells["site_id"]) == set(sites["site_id"])
        assert sites["commune_code"].notna().all()


def test_vn2000_xy_list_x_northing(tmp_path: Path, context: Context) -> None:
    to_vn = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True)
    east, north = to_vn.transform([p[0] for p in INSIDE], [p[1] for p in INSIDE])
    lines = ["Mã trạm;Nhà mạng;X (m);Y (m);Độ cao cột;Loại cột"]
    for i, (e, n) in enumerate(zip(east, north, strict=True)):
        x, y = (f"{n:.3f}".replace(".", ","), f"{e:.3f}".replace(".", ","))
        if i == 5:  # written the GIS way round: X = easting
            x, y = y, x
        lines.append(f"KS-{i};VNPT;{x};{y};30;lattice")
    path = tmp_path / "khao_sat_vn2000.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    checked = check_file(path, "sites", context=context)
    assert checked.result.accepted == 6 and checked.result.fixed == 1
    assert checked.result.fixes.iloc[0]["row"] == 7
    sites = checked.to_write["sites"]
    # Against pyproj's EPSG:5897 → EPSG:4326 (in the CRSs' own axis order), within 5 cm.
    e = np.round(np.array(east), 3)
    n = np.round(np.array(north), 3)
    lat_ref, lon_ref = Transformer.from_crs("EPSG:5897", "EPSG:4326").transform(e, n)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    ax, ay = to_utm.transform(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    bx, by = to_utm.transform(lon_ref, lat_ref)
    assert np.hypot(ax - bx, ay - by).max() < 0.05


def test_shared_government_outlines_import_as_admin_units(tmp_path: Path) -> None:
    store = GeoPackageStore(tmp_path / "admin.gpkg")
    province = import_file(SHARED_ADMIN / "hanam_province_2025-03.geojson", "admin_units", store)
    assert (province.read, province.accepted, province.rejected) == (1, 1, 0)
    districts = import_file(
        SHARED_ADMIN / "hanam_districts_2025-03.geojson",
        "admin_units",
        store,
        options=ImportOptions(append=True),
    )
    assert (districts.read, districts.accepted, districts.rejected) == (6, 6, 0)
    units = store.read("admin_units").set_index("code")
    assert len(units) == 7
    assert units.loc["35", ["level", "unit_type"]].tolist() == ["province", "province"]
    district_rows = units[units["level"] == "district"]
    assert sorted(district_rows.index) == ["347", "349", "350", "351", "352", "353"]
    assert district_rows["parent_code"].eq("35").all()
    assert (
        units.loc["347", "unit_type"] == "city"
        and units.loc["352", "unit_type"] == "rural_district"
    )
    assert units["admin_version"].eq("pre2025").all() and units["geometry_quality"].eq("real").all()
    # The store so built is a usable province for the next imports.
    area = Area.from_outline(province_outline(store.read("admin_units")))
    assert area.contains_lonlat(np.array([105.91]), np.array([20.54]))[0]


def test_unreadable_inputs_are_clear_errors(tmp_path: Path, context: Context) -> None:
    with pytest.raises(GisPlannerError, match="file not found"):
        check_file(tmp_path / "none.csv", "sites", context=context)
    (tmp_path / "x.doc").write_text("hello")
    with pytest.raises(GisPlannerError, match="unknown file type"):
        check_file(tmp_path / "x.doc", "sites", context=context)
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(GisPlannerError, match=r"not a readable \.xlsx"):
        check_file(tmp_path / "bad.xlsx", "sites", context=context)
    (tmp_path / "nocoords.csv").write_text("Mã trạm;Nhà mạng\nA;Viettel\n")
    with pytest.raises(GisPlannerError, match="no coordinate columns"):
        check_file(tmp_path / "nocoords.csv", "sites", context=context)


def test_context_from_store_reads_admin_and_existing(sample_store: GeoPackageStore) -> None:
    ctx = context_from_store(sample_store, None, ("sites", "cells"))
    assert set(ctx.existing) == {"sites", "cells"} and ctx.admin_units is not None
    assert len(ctx.existing["sites"]) == len(sample_store.read("sites"))
    shutil.rmtree(sample_store.assets_dir, ignore_errors=True)
    pd.testing.assert_index_equal(ctx.existing["cells"].columns, sample_store.read("cells").columns)


@pytest.mark.parametrize("layer", [spec.name for spec in CORE_LAYERS])
def test_every_sample_layer_round_trips_through_an_import(
    tmp_path: Path, sample_store: GeoPackageStore, layer: str
) -> None:
    original = sample_store.read(layer)
    if isinstance(original, gpd.GeoDataFrame):
        path = tmp_path / f"{layer}.geojson"
        pyogrio.write_dataframe(original, path, driver="GeoJSON")
    else:
        path = tmp_path / f"{layer}.csv"
        original.to_csv(path, index=False)
    store = GeoPackageStore(tmp_path / "copy.gpkg")
    result = import_file(path, layer, store)
    assert (result.read, result.accepted, result.rejected) == (len(original),) * 2 + (0,)
    back = store.read(layer)
    pd.testing.assert_frame_equal(
        back.drop(columns="geometry", errors="ignore"),
        original.drop(columns="geometry", errors="ignore"),
    )
