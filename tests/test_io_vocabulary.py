"""Enumerated values as lists write them: Vietnamese and English spellings, accents left out,
near misses rejected with a suggestion and never guessed, and a mapping file's own values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis_planner.catalogue import CATALOGUE, get_spec
from gis_planner.catalogue.values import BY_KEY, NAMED_NUMBERS
from gis_planner.errors import GisPlannerError
from gis_planner.io import ImportOptions, check_file
from gis_planner.io.vocabulary import field_vocabulary

from .io_files import INSIDE


def _resolve(layer: str, field: str, text: str) -> tuple[str | None, str | None]:
    return field_vocabulary(get_spec(layer).field(field)).resolve_one(text)


@pytest.mark.parametrize(
    ("layer", "field", "text", "key"),
    [
        ("sites", "tower_type", "Cột tự đứng", "lattice"),
        ("sites", "tower_type", "CỘT TỰ ĐỨNG", "lattice"),
        ("sites", "tower_type", "Cot tu dung", "lattice"),
        ("sites", "tower_type", "cột tu dung", "lattice"),  # words without accents only
        ("sites", "tower_type", "Lattice tower", "lattice"),
        ("sites", "tower_type", "Cột dây co", "guyed"),
        ("sites", "tower_type", "Cột trên nóc nhà", "rooftop"),
        ("sites", "tower_type", "Cột cóc", "rooftop"),
        ("sites", "tower_type", "cot coc", "rooftop"),
        ("sites", "tower_type", "Cột đơn thân", "monopole"),
        ("sites", "tower_type", "street_pole", "street_pole"),
        ("sites", "status", "Đang phát sóng", "on-air"),
        ("sites", "status", "Đã phát sóng", "on-air"),
        ("sites", "status", "Chưa phát sóng", "planned"),
        ("sites", "status", "On air", "on-air"),
        ("cells", "technology", "LTE", "4G"),
        ("cells", "technology", "5G NR", "5G"),
        ("cells", "technology", "WCDMA", "3G"),
        ("cells", "band_mhz", "L1800", "1800"),
        ("cells", "band_mhz", "n78", "3500"),
        ("cells", "band_mhz", "Band 8", "900"),
        ("fibre_routes", "laying", "Cáp treo", "aerial"),
        ("fibre_routes", "laying", "Ngầm", "underground"),
        ("fibre_routes", "route_class", "Tuyến trục", "trunk"),
        ("fibre_nodes", "node_type", "Bộ chia quang", "splitter"),
        ("fibre_nodes", "node_type", "Giá ODF", "odf"),
        ("admin_units", "level", "Cấp huyện", "district"),
        ("admin_units", "unit_type", "Huyện", "rural_district"),
        ("priority_areas", "category", "KCN", "industrial_zone"),
    ],
)
def test_spellings_resolve_to_keys(layer: str, field: str, text: str, key: str) -> None:
    assert _resolve(layer, field, text) == (key, None)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("Cột tụ đứng", "Cột tự đứng"),  # another word, though the same letters
        ("Cột tự đúng", "Cột tự đứng"),
        ("Cột tự đứg", "Cột tự đứng"),
        ("latice", "lattice"),
        ("Cột dây cô", "Cột dây co"),
        ("Cột bê tông", None),  # nothing near: not allowed, no suggestion
    ],
)
def test_near_misses_are_not_guessed(text: str, suggestion: str | None) -> None:
    assert _resolve("sites", "tower_type", text) == (None, suggestion)


def test_every_enumerated_field_has_unambiguous_spellings() -> None:
    for spec in CATALOGUE.values():
        for fs in spec.fields:
            if fs.allowed is None and fs.name not in NAMED_NUMBERS:
                continue
            vocabulary = field_vocabulary(fs)  # raises on a spelling of two values
            for key in fs.allowed or ():
                value = BY_KEY.get(key)
                spellings = value.every_spelling if value else (key,)
                for spelling in spellings:
                    assert vocabulary.resolve_one(spelling) == (key, None), (spec.name, spelling)


def _list(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "tram.csv"
    header = "Mã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao cột;Loại cột;Trạng thái"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_near_miss_is_rejected_with_its_suggestion(tmp_path: Path) -> None:
    (lon, lat) = INSIDE[0]
    rows = [
        f"A1;Viettel;{lon};{lat};30;Cột tự đứng;Đang phát sóng",
        f"A2;Viettel;{lon};{lat};30;Cột tụ đứng;Đang phát sóng",
        f"A3;Vietel;{lon};{lat};30;Cột dây co;Đang phát sóng",
        f"A4;Viettel;{lon};{lat};30;Cột bê tông;Đang phát sóng",
        f"A5;Orange;{lon};{lat};30;Cột cóc;Đang phát sóng",
    ]
    result = check_file(_list(tmp_path, rows), "sites").result
    assert (result.read, result.accepted, result.rejected) == (5, 1, 4)
    rejects = result.rejects.set_index("row")
    assert rejects.loc[3, ["field", "value", "reason"]].tolist() == [
        "tower_type", "Cột tụ đứng", "near_miss",
    ]  # fmt: skip
    assert "did you mean 'Cột tự đứng'?" in rejects.loc[3, "message"]
    assert "có phải 'Cột tự đứng'?" in rejects.loc[3, "message"]
    assert rejects.loc[4, ["field", "reason"]].tolist() == ["operator", "near_miss"]
    assert "did you mean 'Viettel'?" in rejects.loc[4, "message"]
    assert rejects.loc[5, "reason"] == "not_allowed"
    assert "Cột tự đứng (lattice)" in rejects.loc[5, "message"]
    assert rejects.loc[6, "reason"] == "unknown_operator"


def test_a_mapping_file_adds_values(tmp_path: Path) -> None:
    (lon, lat) = INSIDE[1]
    rows = [
        f"B1;Viettel Hà Nam 2;{lon};{lat};30;Cột BTS 3 chân;Tạm dừng",
        f"B2;Viettel;{lon};{lat};30;Cột tự đứng;Tạm dừng",
    ]
    values = {
        "tower_type": {"cột bts 3 chân": "lattice"},
        "status": {"Tạm dừng": "planned"},
        "operator": {"Viettel Hà Nam 2": "viettel"},
    }
    checked = check_file(_list(tmp_path, rows), "sites", options=ImportOptions(values=values))
    assert checked.result.ok, checked.result.rejects
    sites = checked.to_write["sites"]
    assert sites["tower_type"].tolist() == ["lattice", "lattice"]
    assert sites["status"].tolist() == ["planned", "planned"]
    assert sites["operator"].tolist() == ["viettel", "viettel"]
    with pytest.raises(GisPlannerError, match="'steel' not a value of 'tower_type'"):
        check_file(
            _list(tmp_path, rows),
            "sites",
            options=ImportOptions(values={"tower_type": {"x": "steel"}}),
        )
    with pytest.raises(GisPlannerError, match="no such enumerated field"):
        check_file(
            _list(tmp_path, rows), "sites", options=ImportOptions(values={"address": {"x": "y"}})
        )


def test_named_bands_are_their_frequency() -> None:
    vocabulary = field_vocabulary(get_spec("cells").field("band_mhz"))
    resolved = vocabulary.resolve(pd.Series(["L1800", "B3", None, "1800MHz", "L1880"]))
    assert resolved.values.tolist()[:2] == ["1800", "1800"] and pd.isna(resolved.values[2])
    assert resolved.suggestion.tolist()[4] == "L1800"
