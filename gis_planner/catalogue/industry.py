"""Layers written by the 5G/IoT study of industrial zones (``gis_planner.industry``)."""

from __future__ import annotations

from dataclasses import replace

from gis_planner.catalogue.sharing import SITE_PROPOSALS
from gis_planner.catalogue.spec import FieldSpec, LayerSpec

#: Measure → (Vietnamese, English) label of its share.
MEASURES = {
    "5g_outdoor": ("Tỷ lệ phủ 5G ngoài trời", "5G outdoor share"),
    "5g_indoor": ("Tỷ lệ phủ 5G trong nhà", "5G indoor share"),
    "nbiot_outdoor": ("Tỷ lệ phủ NB-IoT ngoài trời", "NB-IoT outdoor share"),
    "nbiot_indoor": ("Tỷ lệ phủ NB-IoT trong nhà", "NB-IoT indoor share"),
    "ltem_indoor": ("Tỷ lệ phủ LTE-M trong nhà", "LTE-M indoor share"),
}


def _share(name: str, vi: str, en: str) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, unit="share", min=0, max=1, required=False)


INDUSTRY_ZONES = LayerSpec(
    name="industry_zones",
    label_vi="5G và IoT tại khu công nghiệp",
    label_en="5G and IoT in industrial zones",
    geometry_type=None,
    group="coverage",
    key=("area_id", "operator"),
    description=(
        "Each industrial zone's 5G (outdoor, and indoor past the building entry loss), NB-IoT "
        "and LTE-M coverage, per operator and for any operator; the any-operator rows rank the "
        "zones by their gap to the 5G indoor target."
    ),
    fields=(
        FieldSpec("area_id", "str", "Mã khu vực", "Area id"),
        FieldSpec("name", "str", "Tên khu vực", "Name"),
        FieldSpec("operator", "str", "Nhà mạng", "Operator"),
        FieldSpec("pixels", "int", "Số điểm ảnh", "Pixels", unit="pixels", min=0),
        *(_share(f"{m}_share", vi, en) for m, (vi, en) in MEASURES.items()),
        _share("gap", "Khoảng cách tới mục tiêu 5G trong nhà", "Gap to the 5G indoor target"),
        FieldSpec("meets_target", "bool", "Đạt mục tiêu", "Meets the target", required=False),
        FieldSpec(
            "rank",
            "int",
            "Thứ hạng (xa mục tiêu nhất trước)",
            "Rank (furthest first)",
            min=1,
            required=False,
        ),
    ),
)

INDUSTRY_ADDITIONS = replace(
    SITE_PROPOSALS,
    name="industry_additions",
    label_vi="Bổ sung 5G cho khu công nghiệp",
    label_en="5G additions for industrial zones",
    key=("candidate_id",),
    description=(
        "The cheapest 5G additions closing the zones' indoor gaps: a 5G radio on a position "
        "without 5G, new towers; ranked by the uncovered area they serve."
    ),
    fields=(
        *(
            f
            for f in SITE_PROPOSALS.fields
            if f.name not in ("operator", "kind", "villages_covered", "population_in_range")
        ),
        FieldSpec("kind", "str", "Loại", "Kind", allowed=("add_5g", "new_build")),
        FieldSpec("area_ids", "str", "Khu vực phục vụ", "Zones served"),
        FieldSpec(
            "area_served_m2",
            "float",
            "Diện tích chưa phủ được phục vụ",
            "Uncovered area served",
            unit="m²",
            min=0,
        ),
    ),
)

INDUSTRY_LAYERS = (INDUSTRY_ZONES, INDUSTRY_ADDITIONS)
