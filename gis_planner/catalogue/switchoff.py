"""Layers written by the 2G/3G switch-off study (``gis_planner.switchoff``)."""

from __future__ import annotations

from dataclasses import replace

from gis_planner.catalogue.sharing import SITE_PROPOSALS
from gis_planner.catalogue.spec import FieldSpec, LayerSpec

SWITCHOFF_STATUSES = ("loses_all_service", "other_operator_only", "loses_voice", "keeps_service")
SWITCHOFF_ACTIONS = ("restore_coverage", "volte_handsets", "none")


def _text(name: str, vi: str, en: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "str", vi, en, required=required)


def _count(name: str, vi: str, en: str, unit: str | None = None) -> FieldSpec:
    return FieldSpec(name, "int", vi, en, unit=unit, min=0)


_OPERATOR = _text("operator", "Nhà mạng", "Operator")
_SWITCHED_OFF = _text("switched_off", "Công nghệ tắt", "Technologies switched off")

SWITCHOFF_VILLAGES = LayerSpec(
    name="switchoff_villages",
    label_vi="Thôn bị ảnh hưởng khi tắt sóng 2G/3G",
    label_en="Villages affected by the 2G/3G switch-off",
    geometry_type="MultiPolygon",
    group="coverage",
    key=("operator", "switched_off", "village_code"),
    description=(
        "Villages the switched-off technologies covered for the operator: what it keeps there "
        "and the action needed before the switch-off date."
    ),
    fields=(
        _text("village_code", "Mã thôn", "Village code"),
        _text("commune_code", "Mã xã", "Commune code", required=False),
        _OPERATOR,
        _SWITCHED_OFF,
        FieldSpec(
            "population", "float", "Dân số", "Population", unit="people", min=0, required=False
        ),
        _text("before", "Công nghệ phủ trước", "Technologies covering before", required=False),
        _text("after", "Công nghệ phủ sau", "Technologies covering after", required=False),
        FieldSpec("status", "str", "Tình trạng", "Status", allowed=SWITCHOFF_STATUSES),
        FieldSpec("action", "str", "Việc cần làm", "Action needed", allowed=SWITCHOFF_ACTIONS),
        _text("restored_by", "Khôi phục bởi", "Restored by", required=False),
    ),
)

_COMMUNE_COUNTS = tuple(
    field
    for what, vi in (
        ("served_before", "được phục vụ trước"),
        ("served_after", "được phục vụ sau"),
        ("voice_before", "có thoại 2G/3G trước"),
        ("voice_after", "có thoại 2G/3G sau"),
    )
    for field in (
        _count(f"villages_{what}", f"Số thôn {vi}", f"Villages {what.replace('_', ' ')}"),
        _count(
            f"population_{what}", f"Dân số {vi}", f"Population {what.replace('_', ' ')}", "people"
        ),
    )
)

SWITCHOFF_COMMUNES = LayerSpec(
    name="switchoff_communes",
    label_vi="Tắt sóng 2G/3G: trước và sau theo xã",
    label_en="2G/3G switch-off: before and after by commune",
    geometry_type=None,
    group="coverage",
    key=("operator", "switched_off", "commune_code"),
    description=(
        "The operator's villages and people served (any technology) and with circuit-switched "
        "voice, before and after the switch-off, and the affected villages by status."
    ),
    fields=(
        _text("commune_code", "Mã xã", "Commune code"),
        _OPERATOR,
        _SWITCHED_OFF,
        _count("villages", "Số thôn", "Villages"),
        _count("population", "Dân số", "Population", "people"),
        *_COMMUNE_COUNTS,
        *(
            _count(f"villages_{status}", f"Số thôn: {status}", f"Villages {status}")
            for status in SWITCHOFF_STATUSES
        ),
    ),
)

SWITCHOFF_RESTORATION = replace(
    SITE_PROPOSALS,
    name="switchoff_restoration",
    label_vi="4G khôi phục phủ sóng khi tắt 2G/3G",
    label_en="4G restoring service after the 2G/3G switch-off",
    key=("operator", "switched_off", "candidate_id"),
    description=(
        "4G cells restoring the operator's service where the switch-off leaves none: a carrier "
        "on its own positions without 4G, tenancies, new towers; ranked by people reached."
    ),
    fields=(
        *(f for f in SITE_PROPOSALS.fields if f.name != "kind"),
        _SWITCHED_OFF,
        FieldSpec("kind", "str", "Loại", "Kind", allowed=("upgrade", "share", "new_build")),
    ),
)

SWITCHOFF_LAYERS = (SWITCHOFF_VILLAGES, SWITCHOFF_COMMUNES, SWITCHOFF_RESTORATION)
