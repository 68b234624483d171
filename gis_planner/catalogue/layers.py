"""The source layers: administrative units, villages, sites, cells, fibre, priority areas, and
the passive infrastructure's planning zones, exclusion areas and other sectors' structures."""

from __future__ import annotations

import re

import pandas as pd

from gis_planner.catalogue.spec import Assumption, FieldSpec, LayerSpec, RowRule
from gis_planner.defaults import TECHNOLOGIES
from gis_planner.operators import MOBILE_OPERATORS, OPERATOR_KEYS

ADMIN_VERSIONS = ("pre2025", "2025-07")
ADMIN_LEVELS = ("province", "district", "commune")
ADMIN_UNIT_TYPES = (
    "province", "city", "town", "rural_district", "ward", "rural_commune", "township",
)  # fmt: skip
SITE_STATUSES = ("on-air", "planned")
TOWER_TYPES = ("lattice", "guyed", "monopole", "rooftop", "street_pole")
#: The typical height above ground of each tower type in Vietnamese networks, taken for a site
#: whose list gives none: a lattice tower 40 m, a guyed mast 36 m, a monopole 30 m, a rooftop
#: mast ("cột cóc" included) 21 m with its building, a street pole 12 m.
TOWER_HEIGHTS_M = (
    ("lattice", 40.0), ("guyed", 36.0), ("monopole", 30.0), ("rooftop", 21.0),
    ("street_pole", 12.0),
)  # fmt: skip
FIBRE_NODE_TYPES = ("pop", "olt", "odf", "splitter")
#: PONs a fibre node may serve (``speeds.PONS``).
PON_NAMES = ("gpon", "xgs-pon")
FIBRE_ROUTE_CLASSES = ("trunk", "distribution", "access")
#: What a planning zone's rule restricts the tower types to (on top of its own list).
ZONE_RULES = ("no_rule", "rooftop_only", "camouflaged_only")
#: Kinds of the public exclusion areas; military areas are a layer of their own, not public.
EXCLUSION_KINDS = ("heritage_site", "airport", "nature_reserve", "other_exclusion")
#: Other sectors' structures that can carry an antenna.
STRUCTURE_KINDS = ("power_pole", "lighting_pole", "public_rooftop")
PRIORITY_CATEGORIES = (
    "provincial_centre", "district_centre", "industrial_zone", "tourism_heritage", "state_agency",
)  # fmt: skip

SOURCE = FieldSpec(
    "source", "str", "Nguồn dữ liệu", "Data source", required=False,
    description="Where the row comes from; synthetic rows say 'synthetic'.",
)  # fmt: skip

#: What a ``pattern_ref`` may be: a plain file name, so that it resolves inside the patterns
#: folder whatever an operator's file says.
PATTERN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def is_pattern_name(name: object) -> bool:
    """Whether ``name`` is a pattern file name (no path, no "..")."""
    return isinstance(name, str) and PATTERN_NAME.fullmatch(name) is not None and ".." not in name


def _code(name: str, vi: str, en: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "str", vi, en, required=required)


ADMIN_UNITS = LayerSpec(
    name="admin_units",
    label_vi="Đơn vị hành chính",
    label_en="Administrative units",
    geometry_type="MultiPolygon",
    group="admin",
    key=("code", "admin_version"),
    description="Province, district and commune units of both administrative versions.",
    fields=(
        _code("code", "Mã đơn vị (GSO)", "Unit code (GSO)"),
        FieldSpec("name", "str", "Tên đơn vị", "Unit name"),
        FieldSpec("level", "str", "Cấp", "Level", allowed=ADMIN_LEVELS),
        FieldSpec("unit_type", "str", "Loại đơn vị", "Unit type", allowed=ADMIN_UNIT_TYPES),
        _code("parent_code", "Mã đơn vị cấp trên", "Parent unit code", required=False),
        FieldSpec(
            "admin_version", "str", "Phiên bản địa giới", "Administrative version",
            allowed=ADMIN_VERSIONS,
        ),
        FieldSpec(
            "population", "int", "Dân số", "Population", required=False, unit="people",
            min=0, max=50_000_000,
        ),
        FieldSpec(
            "households", "int", "Số hộ", "Households", required=False, unit="households",
            min=0, max=20_000_000,
        ),
        FieldSpec(
            "geometry_quality", "str", "Chất lượng ranh giới", "Boundary quality",
            allowed=("real", "approximate"),
        ),
        SOURCE,
    ),
    rules=(
        RowRule(
            "parent_code", "required", "every unit below the province needs its parent_code",
            lambda f: (f["level"] != "province") & f["parent_code"].isna(),
        ),
    ),
)  # fmt: skip

VILLAGES = LayerSpec(
    name="villages",
    label_vi="Thôn, tổ dân phố",
    label_en="Villages (thôn, tổ dân phố)",
    geometry_type="MultiPolygon",
    group="admin",
    key=("code",),
    fields=(
        _code("code", "Mã thôn", "Village code"),
        FieldSpec("name", "str", "Tên thôn, tổ dân phố", "Village name"),
        FieldSpec("village_type", "str", "Loại", "Type", allowed=("thon", "to_dan_pho")),
        _code("commune_code", "Mã xã (trước 2025)", "Commune code (pre-2025)"),
        FieldSpec(
            "population", "int", "Dân số", "Population", unit="people", min=0, max=200_000
        ),
        FieldSpec(
            "households", "int", "Số hộ", "Households", required=False, unit="households",
            min=0, max=60_000,
        ),
        SOURCE,
    ),
)  # fmt: skip

SITES = LayerSpec(
    name="sites",
    label_vi="Trạm BTS (nhà trạm)",
    label_en="BTS sites",
    geometry_type="Point",
    group="radio",
    # Ids are each operator's own: two operators may use the same site id.
    key=("site_id", "operator"),
    description=(
        "One operator's installation on a physical structure; several operators' sites on one "
        "structure (same structure_id or within the position tolerance) form a shared position. "
        "A site is identified by its id and its operator."
    ),
    fields=(
        _code("site_id", "Mã trạm", "Site id"),
        FieldSpec("operator", "str", "Nhà mạng", "Operator", allowed=MOBILE_OPERATORS),
        FieldSpec("tower_type", "str", "Loại cột", "Tower type", allowed=TOWER_TYPES),
        FieldSpec(
            "height_m", "float", "Độ cao cột", "Structure height", unit="m", min=2, max=200,
            description=(
                "Above ground. Where a list gives none, the tower type's typical height is "
                "taken and height_assumed is set."
            ),
        ),
        FieldSpec(
            "height_assumed", "bool", "Độ cao giả định", "Height assumed", default=False,
            description="True where height_m is the tower type's typical height, not a survey.",
        ),
        _code("structure_id", "Mã cột (hạ tầng)", "Structure id", required=False),
        FieldSpec(
            "max_tenants", "int", "Số nhà mạng tối đa trên cột", "Structure capacity (tenants)",
            required=False, min=1, max=8,
        ),
        FieldSpec("address", "str", "Địa chỉ", "Address", required=False),
        _code("commune_code", "Mã xã (theo vị trí)", "Commune code (by location)", required=False),
        FieldSpec(
            "status", "str", "Trạng thái", "Status", allowed=SITE_STATUSES, default="on-air"
        ),
        SOURCE,
    ),
    assumptions=(Assumption("height_m", "tower_type", TOWER_HEIGHTS_M, "height_assumed"),),
)  # fmt: skip

CELLS = LayerSpec(
    name="cells",
    label_vi="Cell (vùng phủ sóng ăng-ten)",
    label_en="Cells",
    geometry_type="Point",
    group="radio",
    key=("cell_id", "operator"),
    description=(
        "One radiating sector (or omni cell) of a site: its antenna and its carrier. A cell is "
        "identified by its id and its operator, and names a site of its own operator."
    ),
    fields=(
        _code("cell_id", "Mã cell", "Cell id"),
        _code("site_id", "Mã trạm", "Site id"),
        FieldSpec("operator", "str", "Nhà mạng", "Operator", allowed=MOBILE_OPERATORS),
        FieldSpec("technology", "str", "Công nghệ", "Technology", allowed=TECHNOLOGIES),
        FieldSpec("band_mhz", "float", "Băng tần", "Band", unit="MHz", min=400, max=6000),
        FieldSpec(
            "bandwidth_mhz", "float", "Độ rộng kênh", "Carrier bandwidth", unit="MHz",
            min=0.1, max=400,
        ),
        FieldSpec(
            "azimuth_deg", "float", "Góc phương vị", "Azimuth", unit="°", min=0, max=360,
            description="Clockwise from true north; ignored for omni cells (h_beamwidth 360°).",
        ),
        FieldSpec(
            "mech_tilt_deg", "float", "Góc ngẩng cơ", "Mechanical downtilt", unit="°",
            min=-15, max=30, default=0.0,
        ),
        FieldSpec(
            "elec_tilt_deg", "float", "Góc ngẩng điện", "Electrical downtilt", unit="°",
            min=0, max=20, default=0.0,
        ),
        FieldSpec(
            "height_m", "float", "Độ cao ăng-ten", "Antenna height above ground", unit="m",
            min=1, max=200,
        ),
        FieldSpec(
            "tx_power_dbm", "float", "Công suất phát", "Transmit power (whole carrier)",
            unit="dBm", min=0, max=65,
        ),
        FieldSpec(
            "antenna_gain_dbi", "float", "Tăng ích ăng-ten", "Antenna gain", unit="dBi",
            min=-5, max=30,
        ),
        FieldSpec(
            "feeder_loss_db", "float", "Suy hao feeder", "Feeder and connector loss", unit="dB",
            min=0, max=20, default=0.0,
        ),
        FieldSpec(
            "h_beamwidth_deg", "float", "Độ rộng búp ngang", "Horizontal half-power beamwidth",
            unit="°", min=5, max=360, default=65.0, description="360° means an omni antenna.",
        ),
        FieldSpec(
            "v_beamwidth_deg", "float", "Độ rộng búp đứng", "Vertical half-power beamwidth",
            unit="°", min=1, max=90, default=10.0,
        ),
        FieldSpec(
            "pattern_ref", "str", "Mẫu bức xạ", "Antenna pattern file (MSI/Planet)",
            required=False,
            description="The name of a file in the patterns folder, never a path.",
        ),
        FieldSpec(
            "status", "str", "Trạng thái", "Status", allowed=SITE_STATUSES, default="on-air"
        ),
        SOURCE,
    ),
    rules=(
        RowRule(
            "pattern_ref", "not_allowed",
            "a file name of the patterns folder (letters, digits, '.', '_', '-'; at most 64; "
            "not a path)",
            lambda f: f["pattern_ref"].notna()
            & ~f["pattern_ref"].map(is_pattern_name).astype(bool),
        ),
    ),
)  # fmt: skip

FIBRE_ROUTES = LayerSpec(
    name="fibre_routes",
    label_vi="Tuyến cáp quang",
    label_en="Fibre routes",
    geometry_type="LineString",
    group="fibre",
    key=("route_id",),
    fields=(
        _code("route_id", "Mã tuyến", "Route id"),
        FieldSpec("operator", "str", "Doanh nghiệp", "Operator", allowed=OPERATOR_KEYS),
        FieldSpec(
            "route_class", "str", "Cấp tuyến", "Route class", allowed=FIBRE_ROUTE_CLASSES
        ),
        FieldSpec("cores", "int", "Số sợi", "Fibre cores", unit="cores", min=1, max=1728),
        FieldSpec("laying", "str", "Hình thức", "Laying", allowed=("aerial", "underground")),
        FieldSpec("name", "str", "Tên tuyến", "Route name", required=False),
        SOURCE,
    ),
)  # fmt: skip

FIBRE_NODES = LayerSpec(
    name="fibre_nodes",
    label_vi="Nút mạng cáp quang",
    label_en="Fibre nodes",
    geometry_type="Point",
    group="fibre",
    key=("node_id",),
    fields=(
        _code("node_id", "Mã nút", "Node id"),
        FieldSpec("operator", "str", "Doanh nghiệp", "Operator", allowed=OPERATOR_KEYS),
        FieldSpec("node_type", "str", "Loại nút", "Node type", allowed=FIBRE_NODE_TYPES),
        FieldSpec("name", "str", "Tên", "Name", required=False),
        FieldSpec(
            "capacity_ports", "int", "Số cổng", "Ports", required=False, min=1, max=100_000
        ),
        FieldSpec(
            "pon", "str", "Công nghệ PON", "PON", required=False, allowed=PON_NAMES,
            description="The PON the node serves (GPON, XGS-PON); empty where not known.",
        ),
        SOURCE,
    ),
)  # fmt: skip

PRIORITY_AREAS = LayerSpec(
    name="priority_areas",
    label_vi="Khu vực ưu tiên",
    label_en="Priority areas",
    geometry_type="MultiPolygon",
    group="planning",
    key=("area_id",),
    description="Areas the plan names for early 5G: centres, industrial zones, heritage, agencies.",
    fields=(
        _code("area_id", "Mã khu vực", "Area id"),
        FieldSpec("name", "str", "Tên khu vực", "Name"),
        FieldSpec("category", "str", "Loại khu vực", "Category", allowed=PRIORITY_CATEGORIES),
        _code("commune_code", "Mã xã (trước 2025)", "Commune code (pre-2025)", required=False),
        FieldSpec(
            "target_5g_year", "int", "Năm mục tiêu 5G", "5G target year", required=False,
            min=2020, max=2040,
        ),
        FieldSpec(
            "geometry_quality", "str", "Chất lượng ranh giới", "Outline quality",
            allowed=("real", "approximate"),
        ),
        SOURCE,
    ),
)  # fmt: skip


def _listed(text: pd.Series) -> pd.Series:
    return text.fillna("").astype(str).str.replace(" ", "", regex=False)


def listed_types(text: pd.Series) -> pd.DataFrame:
    """A zone's ``tower_types`` (comma-separated keys) as one boolean column per tower type;
    an empty list allows every type."""
    listed = _listed(text)
    found = listed.str.get_dummies(sep=",").astype(bool)
    every = listed.eq("").to_numpy()[:, None]
    columns = {t: found[t].to_numpy() if t in found else False for t in TOWER_TYPES}
    return pd.DataFrame(columns, index=text.index) | every


def _unknown_types(frame: pd.DataFrame) -> pd.Series:
    listed = _listed(frame["tower_types"])
    items = listed[listed != ""].str.split(",").explode()
    bad = ~items.isin(TOWER_TYPES)
    return frame.index.to_series().isin(items.index[bad.to_numpy()])


def _buffer(*, required: bool) -> FieldSpec:
    return FieldSpec(
        "buffer_m", "float", "Vùng đệm", "Buffer", unit="m", min=0, max=20_000,
        required=required, default=None if required else 0.0,
        description="Distance around the area (or point) where no antenna may stand.",
    )  # fmt: skip


PLANNING_ZONES = LayerSpec(
    name="planning_zones",
    label_vi="Vùng quy hoạch hạ tầng viễn thông thụ động",
    label_en="Passive infrastructure planning zones",
    geometry_type="MultiPolygon",
    group="passive",
    key=("zone_id",),
    description=(
        "Zones of the province's passive infrastructure plan: the tower types each allows, its "
        "height limit, its rule (rooftop poles only, camouflaged poles only) and whether a "
        "building permit is needed. Where zones overlap, the strictest decides."
    ),
    fields=(
        _code("zone_id", "Mã vùng", "Zone id"),
        FieldSpec("name", "str", "Tên vùng", "Zone name"),
        FieldSpec(
            "tower_types", "str", "Loại cột được phép", "Tower types allowed", required=False,
            description=(
                "Comma-separated tower type keys (lattice, guyed, monopole, rooftop, "
                "street_pole); empty: every type."
            ),
        ),
        FieldSpec(
            "zone_rule", "str", "Quy định riêng", "Zone rule", allowed=ZONE_RULES,
            default="no_rule",
            description=(
                "rooftop_only keeps rooftop poles; camouflaged_only keeps camouflaged (street) "
                "poles; on top of tower_types."
            ),
        ),
        FieldSpec(
            "max_height_m", "float", "Chiều cao tối đa", "Height limit", unit="m", min=2,
            max=200, required=False,
        ),
        FieldSpec(
            "permit_required", "bool", "Phải xin giấy phép xây dựng", "Building permit required",
            default=False,
        ),
        _code("commune_code", "Mã xã (trước 2025)", "Commune code (pre-2025)", required=False),
        SOURCE,
    ),
    rules=(
        RowRule(
            "tower_types", "not_allowed",
            "comma-separated tower type keys: " + ", ".join(TOWER_TYPES),
            _unknown_types,
        ),
    ),
)  # fmt: skip

_EXCLUSION_FIELDS = (
    _code("area_id", "Mã khu vực", "Area id"),
    FieldSpec("name", "str", "Tên khu vực", "Name"),
    FieldSpec("kind", "str", "Loại", "Kind", allowed=EXCLUSION_KINDS),
)

EXCLUSION_AREAS = LayerSpec(
    name="exclusion_areas",
    label_vi="Khu vực cấm xây dựng cột anten",
    label_en="Exclusion areas",
    geometry_type="MultiPolygon",
    group="passive",
    key=("area_id",),
    description=(
        "Areas where no antenna structure may stand (heritage sites, airports, nature "
        "reserves), with a buffer around them."
    ),
    fields=(*_EXCLUSION_FIELDS, _buffer(required=False), SOURCE),
)

EXCLUSION_POINTS = LayerSpec(
    name="exclusion_points",
    label_vi="Điểm cấm xây dựng cột anten (có vùng đệm)",
    label_en="Exclusion points (with a buffer)",
    geometry_type="Point",
    group="passive",
    key=("area_id",),
    description="Exclusions given as a point and the radius around it (a monument, a radar).",
    fields=(*_EXCLUSION_FIELDS, _buffer(required=True), SOURCE),
)

MILITARY_AREAS = LayerSpec(
    name="military_areas",
    label_vi="Khu vực quân sự",
    label_en="Military areas",
    geometry_type="MultiPolygon",
    group="passive",
    key=("area_id",),
    description=(
        "Military and security areas where no antenna structure may stand; for admins only, "
        "unlike the other exclusion areas."
    ),
    fields=(
        _code("area_id", "Mã khu vực", "Area id"),
        FieldSpec("name", "str", "Tên khu vực", "Name", required=False),
        _buffer(required=False),
        SOURCE,
    ),
)

HOST_STRUCTURES = LayerSpec(
    name="host_structures",
    label_vi="Công trình của ngành khác có thể lắp anten",
    label_en="Other sectors' structures that can carry antennas",
    geometry_type="Point",
    group="passive",
    key=("structure_id",),
    description="Power and lighting poles and public rooftops that could carry an antenna.",
    fields=(
        _code("structure_id", "Mã công trình", "Structure id"),
        FieldSpec("kind", "str", "Loại công trình", "Structure kind", allowed=STRUCTURE_KINDS),
        FieldSpec("owner", "str", "Đơn vị quản lý", "Owner", required=False),
        FieldSpec(
            "height_m", "float", "Độ cao", "Height", unit="m", min=2, max=200,
            description="Above ground; for a rooftop, the roof's height with its mast.",
        ),
        FieldSpec("name", "str", "Tên", "Name", required=False),
        _code("commune_code", "Mã xã (theo vị trí)", "Commune code (by location)", required=False),
        SOURCE,
    ),
)  # fmt: skip

DUCTS = LayerSpec(
    name="ducts",
    label_vi="Cống bể, hào kỹ thuật",
    label_en="Ducts",
    geometry_type="LineString",
    group="passive",
    key=("duct_id",),
    description="Underground ducts and shared trenches that can carry cables.",
    fields=(
        _code("duct_id", "Mã tuyến cống", "Duct id"),
        FieldSpec("owner", "str", "Đơn vị quản lý", "Owner", required=False),
        FieldSpec(
            "free_ways", "int", "Số ống còn trống", "Free ways", unit="ways", min=0, max=100,
            required=False,
        ),
        SOURCE,
    ),
)  # fmt: skip

ADMIN_CROSSWALK = LayerSpec(
    name="admin_crosswalk",
    label_vi="Bảng chuyển đổi đơn vị hành chính",
    label_en="Administrative crosswalk",
    geometry_type=None,
    group="admin",
    key=("old_code", "new_code"),
    description=(
        "Pre-2025 commune → 2025-07 commune. A unit split between several new units has one row "
        "per piece, with the area share of the piece and the default new unit flagged."
    ),
    fields=(
        _code("old_code", "Mã xã cũ", "Old commune code"),
        FieldSpec("old_name", "str", "Tên xã cũ", "Old commune name"),
        _code("new_code", "Mã xã mới", "New commune code"),
        FieldSpec("new_name", "str", "Tên xã mới", "New commune name"),
        FieldSpec("relation", "str", "Quan hệ", "Relation", allowed=("whole", "split")),
        FieldSpec("is_default", "bool", "Đơn vị mới mặc định", "Default new unit"),
        FieldSpec(
            "area_share", "float", "Tỷ lệ diện tích", "Share of the old unit's area",
            min=0, max=1,
        ),
        SOURCE,
    ),
)  # fmt: skip

CORE_LAYERS: tuple[LayerSpec, ...] = (
    ADMIN_UNITS,
    VILLAGES,
    SITES,
    CELLS,
    FIBRE_ROUTES,
    FIBRE_NODES,
    PRIORITY_AREAS,
    ADMIN_CROSSWALK,
    PLANNING_ZONES,
    EXCLUSION_AREAS,
    EXCLUSION_POINTS,
    MILITARY_AREAS,
    HOST_STRUCTURES,
    DUCTS,
)
