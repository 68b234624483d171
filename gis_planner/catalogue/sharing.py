"""Layers written by the sharing, consolidation, host-candidate and site-proposal analyses."""

from __future__ import annotations

from gis_planner.catalogue.layers import TOWER_TYPES
from gis_planner.catalogue.spec import FieldSpec, LayerSpec


def _int(
    name: str, vi: str, en: str, *, required: bool = True, unit: str | None = None
) -> FieldSpec:
    return FieldSpec(name, "int", vi, en, required=required, unit=unit, min=0)


def _ratio(name: str, vi: str, en: str) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, unit="ratio", min=0.0, max=1.0)


def _text(name: str, vi: str, en: str, *, required: bool = False) -> FieldSpec:
    return FieldSpec(name, "str", vi, en, required=required)


POSITIONS = LayerSpec(
    name="positions",
    label_vi="Vị trí trạm BTS (dùng chung)",
    label_en="BTS positions (sharing)",
    geometry_type="Point",
    group="sharing",
    key=("position_id",),
    description=(
        "Physical positions: sites of one structure or within the position tolerance. The "
        "layer's record holds its tolerance_m, method, the sites revision it was made from and "
        "when (`gis-planner sharing`)."
    ),
    fields=(
        _int("position_id", "Mã vị trí", "Position id"),
        _int("n_sites", "Số trạm", "Sites"),
        _int("tenants", "Số nhà mạng", "Operators on the position"),
        _text("operators", "Nhà mạng", "Operators", required=True),
        _text("site_ids", "Mã trạm", "Site ids", required=True),
        _text("site_keys", "Nhà mạng:mã trạm", "Operator:site id of each site", required=True),
        FieldSpec("tower_type", "str", "Loại cột", "Tower type", allowed=TOWER_TYPES),
        FieldSpec("height_m", "float", "Độ cao cột", "Structure height", unit="m", min=0),
        _int("capacity", "Số nhà mạng tối đa", "Capacity (tenants)"),
        FieldSpec("shared", "bool", "Dùng chung", "Shared"),
        _text("commune_code", "Mã xã", "Commune code"),
        _text("district_code", "Mã huyện", "District code"),
        _text("province_code", "Mã tỉnh", "Province code"),
    ),
)

SHARING_RATIOS = LayerSpec(
    name="sharing_ratios",
    label_vi="Tỷ lệ dùng chung vị trí trạm BTS",
    label_en="BTS position sharing ratio",
    geometry_type=None,
    group="sharing",
    key=("scope", "code"),
    description=(
        "Shared positions / all positions (the plan's metric) and sites on shared positions / "
        "all sites, by province, district, commune and operator, against 25 % and 30 %."
    ),
    fields=(
        FieldSpec(
            "scope", "str", "Phạm vi", "Scope",
            allowed=("province", "district", "commune", "operator"),
        ),
        _text("code", "Mã", "Code", required=True),
        _text("name", "Tên", "Name", required=True),
        _int("positions", "Số vị trí", "Positions"),
        _int("shared_positions", "Số vị trí dùng chung", "Shared positions"),
        _ratio("position_ratio", "Tỷ lệ vị trí dùng chung", "Shared position ratio"),
        _int("sites", "Số trạm", "Sites"),
        _int("sites_on_shared", "Số trạm trên vị trí dùng chung", "Sites on shared positions"),
        _ratio("site_ratio", "Tỷ lệ trạm trên vị trí dùng chung", "Sites on shared ratio"),
        FieldSpec("meets_low", "bool", "Đạt 25 %", "Meets 25 %"),
        FieldSpec("meets_high", "bool", "Đạt 30 %", "Meets 30 %"),
        _int("shared_needed_low", "Vị trí dùng chung còn thiếu (25 %)", "Shared short of 25 %"),
        _int("shared_needed_high", "Vị trí dùng chung còn thiếu (30 %)", "Shared short of 30 %"),
    ),
)  # fmt: skip

CONSOLIDATION_MOVES = LayerSpec(
    name="consolidation_moves",
    label_vi="Phương án dồn trạm về vị trí dùng chung",
    label_en="Consolidation moves",
    geometry_type="LineString",
    group="sharing",
    key=("move_id",),
    description="Moves of single-operator sites onto other operators' positions, per district.",
    fields=(
        _text("move_id", "Mã phương án", "Move id", required=True),
        _text("area_code", "Mã địa bàn", "Area code", required=True),
        _int("step", "Thứ tự", "Step"),
        FieldSpec("kind", "str", "Loại", "Kind", allowed=("merge", "join")),
        _text("operator", "Nhà mạng di chuyển", "Moving operator", required=True),
        _int("from_position", "Từ vị trí", "From position"),
        _text("from_sites", "Trạm di chuyển", "Moving sites", required=True),
        _int("to_position", "Đến vị trí", "To position"),
        _text("to_operators", "Nhà mạng tại vị trí đích", "Host operators", required=True),
        FieldSpec("distance_m", "float", "Khoảng cách", "Distance", unit="m", min=0),
        _ratio("ratio_after", "Tỷ lệ sau bước này", "Ratio after this move"),
        FieldSpec("for_low", "bool", "Cần cho mốc 25 %", "Needed for 25 %"),
        FieldSpec("for_high", "bool", "Cần cho mốc 30 %", "Needed for 30 %"),
    ),
)

HOST_CANDIDATES = LayerSpec(
    name="host_candidates",
    label_vi="Vị trí có thể dùng chung cho trạm dự kiến",
    label_en="Host candidates for a planned site",
    geometry_type="Point",
    group="sharing",
    key=("query_id", "rank"),
    description="Other operators' positions near a planned site, ranked by the hosting score.",
    fields=(
        _text("query_id", "Mã truy vấn", "Query id", required=True),
        _int("rank", "Thứ hạng", "Rank"),
        _int("position_id", "Mã vị trí", "Position id"),
        _text("operators", "Nhà mạng hiện có", "Operators now", required=True),
        _text("site_ids", "Mã trạm", "Site ids", required=True),
        FieldSpec("tower_type", "str", "Loại cột", "Tower type", allowed=TOWER_TYPES),
        FieldSpec("height_m", "float", "Độ cao cột", "Structure height", unit="m", min=0),
        _int("tenants", "Số nhà mạng", "Tenants"),
        _int("capacity", "Số nhà mạng tối đa", "Capacity"),
        _int("free_slots", "Số chỗ còn trống", "Free slots"),
        FieldSpec("eligible", "bool", "Còn chỗ", "Has room"),
        FieldSpec("distance_m", "float", "Khoảng cách", "Distance", unit="m", min=0),
        FieldSpec(
            "fibre_distance_m", "float", "Khoảng cách tới cáp quang", "Distance to fibre",
            unit="m", min=0, required=False,
        ),
        _ratio("overlap_share", "Tỷ lệ vùng phủ trùng", "Coverage overlap share"),
        _ratio("score", "Điểm", "Score"),
        _ratio("ratio_now", "Tỷ lệ dùng chung hiện tại", "Sharing ratio now"),
        _ratio("ratio_if_hosted", "Tỷ lệ nếu dùng chung vị trí này", "Ratio if hosted here"),
        _ratio("ratio_if_new_build", "Tỷ lệ nếu xây mới", "Ratio if built new"),
    ),
)  # fmt: skip

SITE_PROPOSALS = LayerSpec(
    name="site_proposals",
    label_vi="Đề xuất vị trí trạm mới",
    label_en="Proposed new sites",
    geometry_type="Point",
    group="sharing",
    key=("operator", "candidate_id"),
    description="Sites chosen by the maximal (budget) or set covering of the coverage gaps.",
    fields=(
        _text("operator", "Nhà mạng", "Operator", required=True),
        _text("candidate_id", "Mã ứng viên", "Candidate id", required=True),
        FieldSpec("kind", "str", "Loại", "Kind", allowed=("share", "structure", "new_build")),
        FieldSpec("height_m", "float", "Độ cao ăng-ten", "Antenna height", unit="m", min=0),
        FieldSpec("cost", "float", "Chi phí tương đối", "Relative cost", min=0),
        _text("host_operators", "Nhà mạng chủ cột", "Host operators"),
        _text("environment", "Môi trường truyền sóng", "Environment", required=True),
        FieldSpec("range_m", "float", "Bán kính phục vụ", "Service range", unit="m", min=0),
        _int("villages_covered", "Số thôn được phủ", "Villages in range"),
        _int("population_in_range", "Dân số trong vùng phủ", "Population in range", unit="people"),
    ),
)

SITING_DEMAND = LayerSpec(
    name="siting_demand",
    label_vi="Thôn chưa đạt phủ sóng và phương án",
    label_en="Villages below target and their proposal",
    geometry_type="MultiPolygon",
    group="sharing",
    key=("operator", "code"),
    description="Demand of a site proposal: covered, not reached within budget, or uncoverable.",
    fields=(
        _text("operator", "Nhà mạng", "Operator", required=True),
        _text("code", "Mã thôn", "Village code", required=True),
        _text("name", "Tên thôn", "Village name", required=True),
        _text("commune_code", "Mã xã", "Commune code"),
        _int("population", "Dân số", "Population", unit="people"),
        FieldSpec(
            "status", "str", "Tình trạng", "Status",
            allowed=("covered", "not_reached", "uncoverable"),
        ),
        _text("served_by", "Phục vụ bởi", "Served by"),
    ),
)  # fmt: skip

SHARING_LAYERS = (
    POSITIONS, SHARING_RATIOS, CONSOLIDATION_MOVES, HOST_CANDIDATES, SITE_PROPOSALS, SITING_DEMAND,
)  # fmt: skip
