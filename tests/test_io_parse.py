"""The pure parsers and coordinate helpers of the importer, alone."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer
from pyproj.crs import CoordinateOperation
from pyproj.transformer import TransformerGroup

from gis_planner.catalogue import get_spec
from gis_planner.errors import GisPlannerError
from gis_planner.io.columns import match_columns, read_mapping
from gis_planner.io.coordinates import Area, projected_to_lonlat, unswap_lonlat
from gis_planner.io.parse import REASON_DMS, parse_angle, parse_number
from gis_planner.io.tabular import decode, sniff_delimiter

from .io_files import encode_cp1258


def _parsed(values: list[object], unit: str | None = "m") -> list[tuple[float, object]]:
    parsed = parse_number(pd.Series(values, dtype=object), unit)
    return list(zip(parsed.values.tolist(), parsed.reason.tolist(), strict=True))


def test_numbers_with_decimal_comma_units_and_missing_markers() -> None:
    got = _parsed(["45", "45,5", "1.234,5", "1,234,567", "45m", "45 m", " 30 M ", "0,5 km"])
    assert [v for v, _ in got] == [45.0, 45.5, 1234.5, 1234567.0, 45.0, 45.0, 30.0, 500.0]
    assert all(r is pd.NA for _, r in got)
    for marker in ["N/A", "", "-", "Không có", "null", None]:
        value, reason = _parsed([marker])[0]
        assert np.isnan(value) and reason is pd.NA, marker


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 4)),
    st.sampled_from(["", "m", " m", " M", "met"]),
)
def test_decimal_comma_numbers_with_units_round_trip(value: float, suffix: str) -> None:
    text = f"{value:.4f}".replace(".", ",") + suffix
    parsed = parse_number(pd.Series([text, f"{value:.4f}{suffix}"]), "m")
    assert parsed.reason.isna().all()
    assert parsed.values.tolist() == pytest.approx([value, value], abs=1e-9)


def test_bad_numbers_and_units_have_reasons() -> None:
    assert [r for _, r in _parsed(["abc", "12 ft", "45"])] == ["type", "unit", pd.NA]
    value, reason = _parsed(["3,5 GHz"], "MHz")[0]
    assert value == 3500.0 and reason is pd.NA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("105°54'30\"E", 105.908333),
        ("105°54′30″E", 105.908333),
        ("20 32 15.2 N", 20.537556),
        ("20°32'15,2\"N", 20.537556),
        ("N 20 32 15.2", 20.537556),
        ("105:54:30", 105.908333),
        ("105d54m30s", 105.908333),
        ("105° 54.5'", 105.908333),
        ("S 20 30", -20.5),
        ("105,9123", 105.9123),
        ("20 32 15", 20.5375),
    ],
)
def test_dms_and_decimal_angles(text: str, expected: float) -> None:
    parsed = parse_angle(pd.Series([text]))
    assert parsed.values[0] == pytest.approx(expected, abs=1e-6)
    assert parsed.reason[0] is pd.NA


def test_bad_angles_are_reported_not_guessed() -> None:
    parsed = parse_angle(pd.Series(["20°75'", "abc", "", "105.9"]))
    assert parsed.reason.tolist() == ["dms", "dms", pd.NA, pd.NA]
    assert np.isnan(parsed.values[:3]).all()


@pytest.fixture(scope="module")
def area(sample_store) -> Area:  # type: ignore[no-untyped-def]
    units = sample_store.read("admin_units")
    outline = units[(units["level"] == "province") & (units["admin_version"] == "pre2025")]
    return Area.from_outline(outline.geometry.iloc[0])


def test_swapped_lat_lon_fixed_only_when_unambiguous(area: Area) -> None:
    lon = np.array([105.91, 20.54, 20.54, 106.9])
    lat = np.array([20.54, 105.91, 20.54, 21.9])
    fixed_lon, fixed_lat, swapped = unswap_lonlat(lon, lat, area)
    assert swapped.tolist() == [False, True, False, False]
    assert fixed_lon[1] == 105.91 and fixed_lat[1] == 20.54
    assert fixed_lon[3] == 106.9, "outside either way: left for the province check"


def test_province_area_tolerance(area: Area) -> None:
    # Phủ Lý inside; a point ~1 km east of the easternmost edge inside the 2 km tolerance.
    assert area.crs == "EPSG:32648"  # Hà Nam's UTM zone
    east = area.outline_m.bounds[2] - 1000
    lon, lat = Transformer.from_crs(area.crs, "EPSG:4326", always_xy=True).transform(
        east, shapely.centroid(area.outline_m).y
    )
    inside = area.contains_lonlat(np.array([105.91, 106.5, np.nan]), np.array([20.54, 20.5, 1]))
    assert inside.tolist() == [True, False, False]
    assert area.tolerance_m == 2000.0 and area.in_bounds(np.array([lon]), np.array([lat]))[0]


def test_vn2000_x_northing_matches_pyproj_within_5_cm() -> None:
    x_north = np.array([2272293.967, 2253000.125, 2285500.5])
    y_east = np.array([594697.150, 601234.75, 612000.0])
    lon, lat, swapped = projected_to_lonlat(x_north, y_east)
    assert not swapped.any()
    # Independent: pyproj in the CRS's own axis order (EPSG:4326 is lat, lon).
    lat_ref, lon_ref = Transformer.from_crs("EPSG:5897", "EPSG:4326").transform(y_east, x_north)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    ax, ay = to_utm.transform(lon, lat)
    bx, by = to_utm.transform(lon_ref, lat_ref)
    assert np.hypot(ax - bx, ay - by).max() < 0.05
    # The datum shift is applied: the same numbers on the WGS84 ellipsoid land ~200 m away.
    naive = Transformer.from_crs(
        "+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000 +ellps=WGS84", "EPSG:4326", always_xy=True
    )
    nx, ny = to_utm.transform(*naive.transform(y_east, x_north))
    assert np.hypot(ax - nx, ay - ny).min() > 100
    # pyproj's choice is the EPSG:6960 datum shift (7 parameters), not the older EPSG:6959.
    shift_6960 = CoordinateOperation.from_epsg(6960).name
    group = TransformerGroup("EPSG:5897", "EPSG:4326", always_xy=True)
    chosen = next(t for t in group.transformers if shift_6960 in t.description)
    cx, cy = to_utm.transform(*chosen.transform(y_east, x_north))
    assert np.hypot(ax - cx, ay - cy).max() < 0.001
    # Written the GIS way round (X = easting): swapped and reported.
    lon2, lat2, swapped2 = projected_to_lonlat(y_east, x_north)
    assert swapped2.all() and np.allclose(lon2, lon) and np.allclose(lat2, lat)


def test_columns_vietnamese_and_english_synonyms() -> None:
    spec = get_spec("sites")
    headers = ["STT", "Mã trạm", "KINH DO", "Vĩ độ (N)", "Độ cao cột (m)", "Doanh nghiệp", "x"]
    mapping = match_columns(headers, spec)
    assert mapping.columns == {
        "Mã trạm": "site_id",
        "KINH DO": "lon",
        "Vĩ độ (N)": "lat",
        "Độ cao cột (m)": "height_m",
        "Doanh nghiệp": "operator",
        "x": "x",
    }
    assert mapping.unused == ("STT",)
    english = match_columns(["site", "lng", "latitude", "height", "network"], spec)
    assert set(english.columns.values()) == {"site_id", "lon", "lat", "height_m", "operator"}
    overridden = match_columns(["STT", "Mã trạm"], spec, {"STT": "site_id"})
    assert overridden.columns == {"STT": "site_id"}


def test_mapping_files(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text('# station list of 2024\n"Cột A": site_id\nCao: height_m\n')
    (tmp_path / "m.json").write_text('{"Cột A": "site_id"}')
    (tmp_path / "m.csv").write_text("source,field\nCột A,site_id\n")
    for name in ("m.yaml", "m.json", "m.csv"):
        mapping = read_mapping(tmp_path / name)
        assert mapping.columns["Cột A"] == "site_id" and mapping.values == {}
    (tmp_path / "bad.yaml").write_text("just text\n")
    with pytest.raises(GisPlannerError, match="'source column: field' pairs"):
        read_mapping(tmp_path / "bad.yaml")


def test_mapping_files_with_values(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        'columns:\n  "Cột A": site_id\nvalues:\n  tower_type:\n    "Cột BTS 3 chân": lattice\n'
        "  status:\n    Tạm dừng: planned\n"
    )
    (tmp_path / "m.json").write_text(
        '{"columns": {"Cột A": "site_id"}, "values": {"tower_type": {"Cột BTS 3 chân": "lattice"},'
        ' "status": {"Tạm dừng": "planned"}}}'
    )
    (tmp_path / "m.csv").write_text(
        "source,field,value\nCột A,site_id,\nCột BTS 3 chân,tower_type,lattice\n"
        "Tạm dừng,status,planned\n"
    )
    for name in ("m.yaml", "m.json", "m.csv"):
        mapping = read_mapping(tmp_path / name)
        assert mapping.columns == {"Cột A": "site_id"}, name
        assert mapping.values == {
            "tower_type": {"Cột BTS 3 chân": "lattice"},
            "status": {"Tạm dừng": "planned"},
        }, name
    (tmp_path / "bad.yaml").write_text("columns:\n  A: site_id\nrows:\n  x: y\n")
    with pytest.raises(GisPlannerError, match="sections 'columns' and 'values'"):
        read_mapping(tmp_path / "bad.yaml")


def test_encodings_and_delimiters_detected() -> None:
    text = "Mã trạm;Nhà mạng;Địa chỉ\nHNM-01;Viettel;Thôn Đồng Văn, Xã Đồng Hóa\n" * 3
    assert decode(text.encode("utf-8-sig")) == (text, "utf-8-sig")
    assert decode(text.encode("utf-16")) == (text, "utf-16")
    decoded, encoding = decode(encode_cp1258(text))
    assert encoding == "cp1258"
    assert unicodedata.normalize("NFC", decoded) == text
    western = "site_id;operator;address\nA1;Viettel;Café Zürich\n" * 3
    assert decode(western.encode("cp1252")) == (western, "cp1252")
    lines = ["title", "a;b;c", "1,5;2,25;x", "3;4,75;y"]
    assert sniff_delimiter(lines) == ";"
    assert sniff_delimiter(["a\tb\tc", "1,5\t2\t3"]) == "\t"


def test_other_epsg_for_xy() -> None:
    # Nam Định's TM-3 zone (central meridian 105°30'), X = northing as in survey lists.
    x_north, y_east = np.array([2260000.0]), np.array([560000.0])
    lon, lat, _ = projected_to_lonlat(x_north, y_east, "EPSG:9209")
    lat_ref, lon_ref = Transformer.from_crs("EPSG:9209", "EPSG:4326").transform(y_east, x_north)
    assert lon[0] == pytest.approx(lon_ref[0], abs=1e-9) and lat[0] == pytest.approx(lat_ref[0])
    assert 106.0 < lon[0] < 106.2, "east of Nam Định's central meridian, not Hà Nam's"


def test_repeated_texts_are_read_once_each_to_what_each_row_reads() -> None:
    """A column repeating a few texts is parsed text by text: the same values and reasons as
    a column of the same texts each once."""
    texts = ["45m", "N/A", "abc", "1,5", None, "3 GHz", "20 32 15 N", "105°74'E", "45"]
    repeated = pd.Series(texts * 50, dtype=object)
    once = pd.Series(texts, dtype=object)
    for parse in (lambda s: parse_number(s, "m"), parse_angle):
        many, single = parse(repeated), parse(once)
        assert many.values.tolist() == pytest.approx(single.values.tolist() * 50, nan_ok=True)
        assert many.reason.tolist() == single.reason.tolist() * 50


def test_a_long_run_of_spaces_is_read_at_once() -> None:
    """White space next to white space in the DMS pattern backtracked on runs of spaces: one
    cell of 850 bytes took 48 s. It is a failed angle, found at once, beside good ones."""
    import time

    hostile = "105 " + " " * 360 + "9" + " " * 360 + "x"
    start = time.perf_counter()
    parsed = parse_angle(pd.Series([hostile, "105  54   30 E", "20°32'15.2\"N"]))
    assert time.perf_counter() - start < 1
    assert parsed.reason.tolist()[0] == REASON_DMS
    assert parsed.values.tolist()[1:] == pytest.approx([105.9083333, 20.5375556])
