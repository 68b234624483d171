"""Vietnamese-first labels and accent-insensitive text matching."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Lang = Literal["vi", "en"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case ``text`` and strip Vietnamese diacritics, for searching and matching.

    ``đ``/``Đ`` is not a combining mark in Unicode, so it is mapped by hand.

    >>> fold("Phường Lê Hồng Phong")
    'phuong le hong phong'
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def fold_key(text: str) -> str:
    """``fold`` with every non-alphanumeric character removed ("Vina-Phone" → "vinaphone")."""
    return _NON_ALNUM.sub("", fold(text))


def nfc(text: str) -> str:
    """Normalise to NFC so that the same word typed two ways compares equal."""
    return unicodedata.normalize("NFC", text)


#: Labels of the values used across layers (keys in English, Vietnamese first).
VALUE_LABELS: dict[str, tuple[str, str]] = {
    # admin unit levels and types
    "province": ("Tỉnh", "Province"),
    "district": ("Cấp huyện", "District level"),
    "commune": ("Cấp xã", "Commune level"),
    "city": ("Thành phố", "City"),
    "town": ("Thị xã", "Town"),
    "rural_district": ("Huyện", "Rural district"),
    "ward": ("Phường", "Ward"),
    "rural_commune": ("Xã", "Commune"),
    "township": ("Thị trấn", "Township"),
    "pre2025": ("Trước 01/7/2025", "Before 1 July 2025"),
    "2025-07": ("Từ 01/7/2025", "From 1 July 2025"),
    "real": ("Ranh giới thật", "Real boundary"),
    "approximate": ("Ranh giới gần đúng", "Approximate boundary"),
    # villages
    "thon": ("Thôn", "Village"),
    "to_dan_pho": ("Tổ dân phố", "Urban residential group"),
    # sites and cells
    "lattice": ("Cột tự đứng", "Lattice tower"),
    "guyed": ("Cột dây co", "Guyed mast"),
    "monopole": ("Cột đơn thân", "Monopole"),
    "rooftop": ("Cột trên nóc nhà", "Rooftop"),
    "street_pole": ("Cột ngụy trang / cột đèn", "Street pole"),
    "on-air": ("Đang phát sóng", "On air"),
    "planned": ("Quy hoạch", "Planned"),
    "2G": ("2G", "2G"),
    "3G": ("3G", "3G"),
    "4G": ("4G", "4G"),
    "5G": ("5G", "5G"),
    # fibre
    "aerial": ("Treo", "Aerial"),
    "underground": ("Ngầm", "Underground"),
    "trunk": ("Trục", "Trunk"),
    "distribution": ("Phân phối", "Distribution"),
    "access": ("Truy nhập", "Access"),
    "pop": ("Điểm POP", "POP"),
    "olt": ("Thiết bị OLT", "OLT"),
    "odf": ("Giá phối quang ODF", "ODF"),
    "splitter": ("Bộ chia quang", "Splitter"),
    # crosswalk
    "whole": ("Giữ nguyên đơn vị", "Whole unit"),
    "split": ("Chia tách", "Split"),
    # priority areas
    "industrial_zone": ("Khu công nghiệp", "Industrial zone"),
    "tourism_heritage": ("Khu du lịch, di tích", "Tourist and heritage site"),
    "state_agency": ("Cơ quan nhà nước", "State agency"),
    "district_centre": ("Trung tâm huyện", "District centre"),
    "provincial_centre": ("Trung tâm tỉnh", "Provincial centre"),
}


def value_label(value: str, lang: Lang = "vi") -> str:
    """The label of a catalogue value in ``lang``; the value itself when it has none."""
    labels = VALUE_LABELS.get(value)
    if labels is None:
        return value
    return labels[0] if lang == "vi" else labels[1]
