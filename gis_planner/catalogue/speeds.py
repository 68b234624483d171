"""Layers of the speeds estimate: each village's mobile throughput against the download target,
and its fixed access (FTTH) against 100 Mb/s and 1 Gb/s."""

from __future__ import annotations

from gis_planner.catalogue.coverage import COVERAGE_OPERATORS
from gis_planner.catalogue.layers import PON_NAMES
from gis_planner.catalogue.spec import FieldSpec, LayerSpec

#: The technologies a throughput is estimated for (2G/3G cannot reach the targets).
THROUGHPUT_TECHNOLOGIES = ("4G", "5G")


def _mbps(name: str, vi: str, en: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, required=required, unit="Mb/s", min=0)


def _people(name: str, vi: str, en: str) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, unit="people", min=0)


_VILLAGE = (
    FieldSpec("village_code", "str", "Mã thôn", "Village code"),
    FieldSpec("commune_code", "str", "Mã xã (trước 2025)", "Commune code (pre-2025)"),
)

SPEEDS_VILLAGES = LayerSpec(
    name="speeds_villages",
    label_vi="Tốc độ di động theo thôn",
    label_en="Mobile speeds by village",
    geometry_type=None,
    group="speeds",
    key=("village_code", "technology", "operator"),
    description=(
        "Downlink throughput one user gets from the best server, by village, operator and "
        "technology: the share of its people at the target (people spread evenly over the "
        "village) and whether the village is at it (the coverage's 95 % rule). Estimates from "
        "the coverage's SINR; the assumptions are in the product record."
    ),
    fields=(
        *_VILLAGE,
        FieldSpec(
            "technology", "str", "Công nghệ", "Technology", allowed=THROUGHPUT_TECHNOLOGIES
        ),
        FieldSpec(
            "operator", "str", "Nhà mạng", "Operator", allowed=COVERAGE_OPERATORS,
            description="'any' is the best of every operator at each pixel.",
        ),
        _mbps("target_mbps", "Tốc độ mục tiêu", "Target speed"),
        FieldSpec("pixels", "int", "Số điểm ảnh", "Pixels", unit="pixels", min=0),
        _people("population", "Dân số", "Population"),
        FieldSpec(
            "population_share", "float", "Tỷ lệ dân số đạt tốc độ",
            "Population share at the target", unit="share", min=0, max=1,
        ),
        _people("population_at_target", "Dân số đạt tốc độ", "People at the target"),
        FieldSpec("at_target", "bool", "Thôn đạt tốc độ", "Village at the target"),
        _mbps("mean_mbps", "Tốc độ trung bình", "Mean speed"),
        _mbps("max_mbps", "Tốc độ cao nhất", "Best speed", required=False),
    ),
)  # fmt: skip

FTTH_SPEEDS = LayerSpec(
    name="ftth_speeds",
    label_vi="Tốc độ cáp quang FTTH theo thôn",
    label_en="FTTH speeds by village",
    geometry_type=None,
    group="speeds",
    key=("village_code",),
    description=(
        "What one FTTH subscriber of a village's best PON gets in the busy hour, against "
        "100 Mb/s and 1 Gb/s (2030); 0 Mb/s without FTTH. Planning assumptions (split, busy "
        "share, PON) are in the product record."
    ),
    fields=(
        *_VILLAGE,
        _people("population", "Dân số", "Population"),
        FieldSpec("ftth", "bool", "Có FTTH", "FTTH available"),
        FieldSpec(
            "operators", "str", "Doanh nghiệp cung cấp", "Operators", required=False,
            description="Comma-separated operator keys.",
        ),
        FieldSpec(
            "pon", "str", "Công nghệ PON", "PON", required=False, allowed=PON_NAMES,
            description="The best PON of the village's FTTH; empty without FTTH.",
        ),
        FieldSpec(
            "pon_from_fibre", "bool", "PON theo lớp cáp quang", "PON from the fibre layer",
            description="The fibre layer names this PON at a distribution point within drop "
            "distance; otherwise it is the run's assumption for the operator.",
        ),
        _mbps("subscriber_mbps", "Tốc độ mỗi thuê bao giờ cao điểm", "Busy-hour subscriber speed"),
        FieldSpec("meets_target", "bool", "Đạt 100 Mb/s", "At 100 Mb/s"),
        FieldSpec("meets_2030", "bool", "Đạt 1 Gb/s (2030)", "At 1 Gb/s (2030)"),
    ),
)  # fmt: skip

SPEEDS_LAYERS: tuple[LayerSpec, ...] = (SPEEDS_VILLAGES, FTTH_SPEEDS)
