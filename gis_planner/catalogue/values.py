"""The values of the catalogue's enumerated fields: each one's key, its labels, and the other
spellings that operators' lists use for it.

A key is English and stable (``lattice``); the Vietnamese label is what the viewer, the reports
and the import templates show ("Cột tự đứng"); ``spellings`` are the other ways files write the
same value, in Vietnamese and English, old names included. An import accepts the key, either
label and every spelling, compared word by word without case, and without accents for a word
written with none ("Cot tu dung"); a word written with other accents ("Cột tụ đứng") is not the
same word, and is rejected with the nearest value as a suggestion (``io.vocabulary``).

Operator names are not listed here: the operator registry (``gis_planner.operators``) is the one
place that knows them, old brands included.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis_planner.i18n import Lang


@dataclass(frozen=True)
class Value:
    """One allowed value of an enumerated field."""

    key: str
    label_vi: str
    label_en: str
    #: Other spellings met in source files (the key and both labels are always accepted).
    spellings: tuple[str, ...] = ()

    def label(self, lang: Lang = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en

    @property
    def every_spelling(self) -> tuple[str, ...]:
        return (self.key, self.label_vi, self.label_en, *self.spellings)


VALUES: tuple[Value, ...] = (
    # administrative levels, unit types and versions
    Value("province", "Tỉnh", "Province", ("cấp tỉnh", "tỉnh, thành phố", "1")),
    Value("district", "Cấp huyện", "District level", ("huyện", "quận, huyện", "quận huyện", "2")),
    Value("commune", "Cấp xã", "Commune level", ("xã", "phường, xã", "xã, phường", "ward", "3")),
    Value("city", "Thành phố", "City", ("tp", "thành phố thuộc tỉnh")),
    Value("town", "Thị xã", "Town", ("tx",)),
    Value("rural_district", "Huyện", "Rural district", ("district",)),
    Value("ward", "Phường", "Ward"),
    Value("rural_commune", "Xã", "Commune", ("commune",)),
    Value("township", "Thị trấn", "Township", ("tt",)),
    Value("pre2025", "Trước 01/7/2025", "Before 1 July 2025", ("trước sáp nhập", "cũ", "old")),
    Value("2025-07", "Từ 01/7/2025", "From 1 July 2025", ("sau sáp nhập", "mới", "new")),
    Value("real", "Ranh giới thật", "Real boundary", ("thật", "chính thức", "official")),
    Value("approximate", "Ranh giới gần đúng", "Approximate boundary", ("gần đúng", "approx")),
    # villages
    Value("thon", "Thôn", "Village", ("xóm", "làng", "ấp", "bản", "village")),
    Value("to_dan_pho", "Tổ dân phố", "Urban residential group", ("tdp", "khu phố", "tổ")),
    # sites and cells
    Value(
        "lattice", "Cột tự đứng", "Lattice tower",
        ("tự đứng", "cột thép tự đứng", "cột anten tự đứng", "cột tháp", "tháp",
         "self-supporting tower", "self supporting", "tower", "greenfield", "SST"),
    ),
    Value(
        "guyed", "Cột dây co", "Guyed mast",
        ("dây co", "cột anten dây co", "cột thép dây co", "guyed tower", "guyed", "mast"),
    ),
    Value(
        "monopole", "Cột đơn thân", "Monopole",
        ("đơn thân", "cột monopole", "cột thân ống", "mono pole", "pole"),
    ),
    Value(
        "rooftop", "Cột trên nóc nhà", "Rooftop",
        # A "cột cóc" is the short mast set on a roof.
        ("cột cóc", "cóc", "trên nóc nhà", "nóc nhà", "cột trên mái", "cột trên mái nhà",
         "trên mái", "roof", "roof top", "on roof", "building"),
    ),
    Value(
        "street_pole", "Cột ngụy trang / cột đèn", "Street pole",
        ("cột ngụy trang", "ngụy trang", "cột đèn", "cột đèn chiếu sáng", "cột điện",
         "camouflage", "lamp post", "lamp pole", "small cell pole"),
    ),
    Value(
        "on-air", "Đang phát sóng", "On air",
        ("đã phát sóng", "phát sóng", "đang hoạt động", "hoạt động", "đã hoạt động",
         "đang khai thác", "on air", "active", "in service", "operational", "live"),
    ),
    Value(
        "planned", "Quy hoạch", "Planned",
        ("kế hoạch", "dự kiến", "chưa phát sóng", "đang xây dựng", "xây mới", "dự án",
         "plan", "proposed", "under construction", "new"),
    ),
    Value("2G", "2G", "2G", ("GSM", "GSM900", "DCS", "DCS1800", "GPRS", "EDGE")),
    Value("3G", "3G", "3G", ("UMTS", "WCDMA", "W-CDMA", "HSPA", "HSPA+", "UMTS2100")),
    Value("4G", "4G", "4G", ("LTE", "4G LTE", "LTE-A", "LTE Advanced", "LTE-FDD", "eNodeB")),
    Value("5G", "5G", "5G", ("NR", "5G NR", "NR SA", "NR NSA", "gNodeB")),
    # fibre
    Value("aerial", "Treo", "Aerial", ("cáp treo", "đi treo", "đi nổi", "nổi", "overhead")),
    Value(
        "underground", "Ngầm", "Underground",
        ("cáp ngầm", "đi ngầm", "chôn ngầm", "cống bể", "trong cống", "duct", "buried"),
    ),
    Value("trunk", "Trục", "Trunk", ("tuyến trục", "cáp trục", "trục chính", "backbone", "core")),
    Value(
        "distribution", "Phân phối", "Distribution",
        ("tuyến phân phối", "cáp phân phối", "cáp nhánh", "nhánh"),
    ),
    Value(
        "access", "Truy nhập", "Access",
        ("tuyến truy nhập", "cáp truy nhập", "cáp thuê bao", "thuê bao", "drop"),
    ),
    Value("pop", "Điểm POP", "POP", ("POP", "điểm truy nhập", "point of presence")),
    Value("olt", "Thiết bị OLT", "OLT", ("OLT", "trạm OLT")),
    Value("odf", "Giá phối quang ODF", "ODF", ("ODF", "giá ODF", "tủ ODF", "giá phối quang")),
    Value("splitter", "Bộ chia quang", "Splitter", ("bộ chia", "spliter", "tủ chia quang")),
    Value("gpon", "GPON", "GPON", ("G-PON", "GPON 2.5G", "2.5G PON")),
    Value("xgs-pon", "XGS-PON", "XGS-PON", ("XGSPON", "XGS PON", "10G PON", "10G-PON")),
    # passive infrastructure: zone rules, exclusions, other sectors' structures, compliance
    Value("no_rule", "Không có quy định riêng", "No rule", ("không", "không có", "none")),
    Value(
        "rooftop_only", "Chỉ cột trên nóc nhà", "Rooftop poles only",
        ("chỉ cột cóc", "chỉ cột trên mái", "rooftop only"),
    ),
    Value(
        "camouflaged_only", "Chỉ cột ngụy trang", "Camouflaged poles only",
        ("chỉ ngụy trang", "chỉ cột ngụy trang, cột đèn", "camouflaged only", "camouflage only"),
    ),
    Value(
        "heritage_site", "Di tích, di sản", "Heritage site",
        ("di sản", "khu di tích", "di tích lịch sử", "heritage"),
    ),
    Value("airport", "Sân bay", "Airport", ("cảng hàng không", "sân bay quân sự", "airfield")),
    Value(
        "nature_reserve", "Khu bảo tồn thiên nhiên", "Nature reserve",
        ("khu bảo tồn", "rừng đặc dụng", "reserve"),
    ),
    Value("other_exclusion", "Khu vực cấm khác", "Other exclusion", ("khác", "other")),
    Value("power_pole", "Cột điện lực", "Power pole", ("cột điện", "cột điện lực", "EVN")),
    Value(
        "lighting_pole", "Cột đèn chiếu sáng", "Lighting pole",
        ("cột đèn", "cột chiếu sáng", "đèn đường", "street light", "lamp post"),
    ),
    Value(
        "public_rooftop", "Nóc nhà công trình công cộng", "Public rooftop",
        ("nóc nhà công cộng", "mái nhà công cộng", "trụ sở", "public building"),
    ),
    Value(
        "structure", "Công trình ngành khác", "Other sector's structure",
        ("công trình ngành khác", "hạ tầng ngành khác"),
    ),
    Value("compliant", "Phù hợp quy hoạch", "Compliant", ("phù hợp", "ok")),
    Value("permit_needed", "Cần giấy phép", "Needs a permit", ("xin phép", "permit")),
    Value("forbidden", "Không được phép", "Not allowed", ("cấm", "không phù hợp")),
    # crosswalk
    Value("whole", "Giữ nguyên đơn vị", "Whole unit", ("nguyên", "toàn bộ", "giữ nguyên")),
    Value("split", "Chia tách", "Split", ("tách", "một phần", "part")),
    # priority areas
    Value("industrial_zone", "Khu công nghiệp", "Industrial zone", ("KCN", "cụm công nghiệp")),
    Value(
        "tourism_heritage", "Khu du lịch, di tích", "Tourist and heritage site",
        ("du lịch", "di tích", "khu du lịch", "khu di tích", "tourism", "heritage"),
    ),
    Value("state_agency", "Cơ quan nhà nước", "State agency", ("cơ quan", "trụ sở")),
    Value("district_centre", "Trung tâm huyện", "District centre", ("trung tâm cấp huyện",)),
    Value(
        "provincial_centre", "Trung tâm tỉnh", "Provincial centre",
        ("trung tâm tỉnh lỵ", "tỉnh lỵ"),
    ),
)  # fmt: skip

#: Each value by its key.
BY_KEY: dict[str, Value] = {value.key: value for value in VALUES}

#: Named carrier bands of the cells' ``band_mhz``, as lists name them: a band number (B3, n78),
#: a technology and frequency (L1800, U2100, GSM900) or the frequency alone. The key is the
#: frequency in MHz.
BANDS: tuple[Value, ...] = (
    Value("700", "700 MHz (B28, n28)", "700 MHz (B28, n28)", ("B28", "Band 28", "L700", "n28")),
    Value(
        "900", "900 MHz (B8)", "900 MHz (B8)",
        ("B8", "Band 8", "GSM900", "GSM 900", "G900", "E-GSM", "U900", "L900", "LTE900", "n8"),
    ),
    Value(
        "1800", "1800 MHz (B3)", "1800 MHz (B3)",
        ("B3", "Band 3", "DCS1800", "DCS 1800", "G1800", "L1800", "LTE1800", "LTE 1800", "n3"),
    ),
    Value(
        "2100", "2100 MHz (B1)", "2100 MHz (B1)",
        ("B1", "Band 1", "U2100", "UMTS2100", "WCDMA2100", "L2100", "LTE2100", "n1"),
    ),
    Value(
        "2300", "2300 MHz (B40)", "2300 MHz (B40)", ("B40", "Band 40", "L2300", "TDD2300", "n40")
    ),
    Value("2600", "2600 MHz (B7)", "2600 MHz (B7)", ("B7", "Band 7", "L2600", "LTE2600", "n7")),
    Value(
        "3500", "3500 MHz (n78)", "3500 MHz (n78)",
        ("n78", "NR3500", "5G3500", "3.5 GHz", "3,5 GHz", "C-band"),
    ),
)  # fmt: skip

#: Named numbers of numeric fields, by field name: a text that is not a number is looked up here.
NAMED_NUMBERS: dict[str, tuple[Value, ...]] = {"band_mhz": BANDS}

#: Labels of the values used across layers (keys in English, Vietnamese first).
VALUE_LABELS: dict[str, tuple[str, str]] = {v.key: (v.label_vi, v.label_en) for v in VALUES}


def values_of(keys: tuple[str, ...]) -> tuple[Value, ...]:
    """The catalogue entries of ``keys``; a key with no entry is its own label."""
    return tuple(BY_KEY.get(key, Value(key, key, key)) for key in keys)
