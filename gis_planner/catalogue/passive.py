"""Layers written by the passive infrastructure study (``gis_planner.passive``)."""

from __future__ import annotations

from gis_planner.catalogue.layers import STRUCTURE_KINDS, TOWER_TYPES
from gis_planner.catalogue.spec import FieldSpec, LayerSpec

#: The job that writes these layers, and the command that runs it.
JOB = "passive"
PRODUCER = "gis-planner passive"
#: A check's outcome, the least severe first.
COMPLIANCE_STATUSES = ("compliant", "permit_needed", "forbidden")
#: The rule that decided a check (``passive.RULE_TEXTS`` words each in both languages).
COMPLIANCE_RULES = (
    "outside_zones", "zone_allows", "zone_permit", "zone_height", "zone_tower_type",
    "exclusion", "military",
)  # fmt: skip
#: What was checked: an existing site, a planned one (``sites`` status planned), a new tower
#: a study proposed.
SUBJECTS = ("site", "planned_site", "proposal")


def _text(name: str, vi: str, en: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "str", vi, en, required=required)


#: The decision and its rule, shared by the checks of sites and of host structures.
DECISION = (
    FieldSpec("status", "str", "Kết quả", "Outcome", allowed=COMPLIANCE_STATUSES),
    FieldSpec("rule", "str", "Quy định áp dụng", "Deciding rule", allowed=COMPLIANCE_RULES),
    _text("rule_vi", "Lý do", "Reason (Vietnamese)"),
    _text("rule_en", "Lý do (tiếng Anh)", "Reason"),
    _text("zone_id", "Mã vùng quy hoạch", "Planning zone", required=False),
    _text("exclusion_id", "Mã khu vực cấm", "Exclusion area", required=False),
)

SITE_COMPLIANCE = LayerSpec(
    name="site_compliance",
    label_vi="Kiểm tra trạm theo quy hoạch hạ tầng thụ động",
    label_en="Sites against the passive infrastructure plan",
    geometry_type="Point",
    group="passive",
    key=("check_id",),
    description=(
        "Every existing and planned site, and every new tower a study proposed, against the "
        "planning zones and the exclusion buffers: compliant, needs a permit or not allowed, "
        "with the rule that decided it."
    ),
    fields=(
        _text("check_id", "Mã kiểm tra", "Check id"),
        FieldSpec("subject", "str", "Đối tượng", "Subject", allowed=SUBJECTS),
        _text("layer", "Lớp dữ liệu", "Layer"),
        _text("site_id", "Mã trạm", "Site id"),
        _text("operator", "Nhà mạng", "Operator", required=False),
        FieldSpec("tower_type", "str", "Loại cột", "Tower type", allowed=TOWER_TYPES),
        FieldSpec("height_m", "float", "Độ cao cột", "Structure height", unit="m", min=0),
        *DECISION,
        _text("commune_code", "Mã xã (theo vị trí)", "Commune code (by location)", required=False),
    ),
)

PASSIVE_HOSTS = LayerSpec(
    name="passive_hosts",
    label_vi="Công trình ngành khác làm vị trí lắp anten",
    label_en="Other sectors' structures as antenna hosts",
    geometry_type="Point",
    group="passive",
    key=("candidate_id",),
    description=(
        "Power and lighting poles and public rooftops as candidate hosts (the site plan's "
        "candidates of kind 'structure'), each checked against the zones as a street pole or "
        "a rooftop pole of its height; forbidden ones are not offered to the site plan."
    ),
    fields=(
        _text("candidate_id", "Mã ứng viên", "Candidate id"),
        FieldSpec("structure_kind", "str", "Loại công trình", "Structure kind",
                  allowed=STRUCTURE_KINDS),
        _text("owner", "Đơn vị quản lý", "Owner", required=False),
        FieldSpec("tower_type", "str", "Tương đương loại cột", "As tower type",
                  allowed=TOWER_TYPES),
        FieldSpec("height_m", "float", "Độ cao", "Height", unit="m", min=0),
        FieldSpec("cost", "float", "Chi phí tương đối", "Relative cost", min=0),
        *DECISION,
        _text("commune_code", "Mã xã (theo vị trí)", "Commune code (by location)", required=False),
    ),
)  # fmt: skip


def _metres(name: str, vi: str, en: str) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, unit="m", min=0)


CABLE_SHARES = LayerSpec(
    name="cable_shares",
    label_vi="Tỷ lệ cáp ngầm theo xã",
    label_en="Underground cable share by commune",
    geometry_type=None,
    group="passive",
    key=("level", "code"),
    description=(
        "Length of fibre cable aerial and underground in each commune (pre-2025) and the "
        "province, the underground share against the under-grounding goal given to the run, "
        "and the length of ducts that could take aerial cable."
    ),
    fields=(
        FieldSpec("level", "str", "Cấp", "Level", allowed=("province", "commune")),
        _text("code", "Mã đơn vị", "Unit code"),
        _metres("aerial_m", "Chiều dài cáp treo", "Aerial cable"),
        _metres("underground_m", "Chiều dài cáp ngầm", "Underground cable"),
        _metres("total_m", "Tổng chiều dài cáp", "All cable"),
        FieldSpec(
            "underground_share", "float", "Tỷ lệ cáp ngầm", "Underground share", unit="share",
            min=0, max=1, required=False,
        ),
        _metres("duct_m", "Chiều dài cống bể", "Ducts"),
        FieldSpec(
            "target_share", "float", "Mục tiêu ngầm hóa", "Under-grounding goal", unit="share",
            min=0, max=1, required=False,
        ),
        FieldSpec("meets_target", "bool", "Đạt mục tiêu", "Meets the goal", required=False),
    ),
)  # fmt: skip

PASSIVE_LAYERS = (SITE_COMPLIANCE, PASSIVE_HOSTS, CABLE_SHARES)
