"""Layers written by the fibre analysis: topology problems, FTTH coverage, backhaul, single
points of failure, trunk rings, redundancy and extensions."""

from __future__ import annotations

from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.operators import OPERATOR_KEYS

PROBLEM_TYPES = (
    "snapped_end", "merged_node", "near_miss", "dangling_end", "isolated_node", "duplicate_route",
)  # fmt: skip
BACKHAUL_KINDS = ("site", "proposed")
EXTENSION_KINDS = ("straight", "corridor")
SHARE_LEVELS = ("province", "district", "commune")


def _metres(name: str, vi: str, en: str, *, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, required=required, unit="m", min=0)


def _count(name: str, vi: str, en: str, unit: str) -> FieldSpec:
    return FieldSpec(name, "int", vi, en, unit=unit, min=0)


OPERATOR = FieldSpec("operator", "str", "Doanh nghiệp", "Operator", allowed=OPERATOR_KEYS)
FIBRE_OPERATORS = FieldSpec(
    "fibre_operators", "str", "Cáp của doanh nghiệp", "Fibre of operators", required=False,
    description="Comma-separated operator keys.",
)  # fmt: skip
CUT = (
    _count("cut_villages", "Số thôn mất kết nối", "Villages cut off", "villages"),
    _count("cut_population", "Dân số mất kết nối", "People cut off", "people"),
    _count("cut_sites", "Số trạm BTS mất kết nối", "Sites cut off", "sites"),
)

FIBRE_TOPOLOGY_PROBLEMS = LayerSpec(
    name="fibre_topology_problems",
    label_vi="Lỗi cấu trúc mạng cáp quang",
    label_en="Fibre topology problems",
    geometry_type="Point",
    group="fibre",
    key=("problem_id",),
    description="Snapped and loose route ends, near-misses, isolated nodes, routes laid twice.",
    fields=(
        FieldSpec("problem_id", "str", "Mã lỗi", "Problem id"),
        FieldSpec("problem_type", "str", "Loại lỗi", "Problem type", allowed=PROBLEM_TYPES),
        FieldSpec("feature_id", "str", "Tuyến/nút", "Route or node id"),
        FieldSpec("other_id", "str", "Tuyến/nút liên quan", "Related route or node",
                  required=False),
        OPERATOR,
        _metres("dist_m", "Khoảng cách", "Distance", required=False),
    ),
)  # fmt: skip

FTTH_VILLAGES = LayerSpec(
    name="ftth_villages",
    label_vi="Thôn có cáp quang FTTH",
    label_en="FTTH coverage of villages",
    geometry_type="MultiPolygon",
    group="fibre",
    key=("code",),
    description="A village is covered when a splitter/ODF or a route lies within drop distance.",
    fields=(
        FieldSpec("code", "str", "Mã thôn", "Village code"),
        FieldSpec("name", "str", "Tên thôn, tổ dân phố", "Village name"),
        FieldSpec("commune_code", "str", "Mã xã (trước 2025)", "Commune code (pre-2025)"),
        FieldSpec("population", "int", "Dân số", "Population", unit="people", min=0),
        FieldSpec("covered", "bool", "Có FTTH", "FTTH available"),
        FieldSpec("operators", "str", "Doanh nghiệp cung cấp", "Operators", required=False),
        _count("n_operators", "Số doanh nghiệp", "Number of operators", "operators"),
        _metres("fibre_dist_m", "Khoảng cách đến cáp quang", "Distance to fibre",
                required=False),
    ),
)  # fmt: skip

FTTH_SHARES = LayerSpec(
    name="ftth_shares",
    label_vi="Tỷ lệ thôn có FTTH",
    label_en="FTTH share of villages",
    geometry_type=None,
    group="fibre",
    key=("level", "code"),
    fields=(
        FieldSpec("level", "str", "Cấp", "Level", allowed=SHARE_LEVELS),
        FieldSpec("code", "str", "Mã đơn vị", "Unit code"),
        FieldSpec("name", "str", "Tên đơn vị", "Unit name", required=False),
        _count("villages", "Số thôn", "Villages", "villages"),
        _count("covered_villages", "Số thôn có FTTH", "Villages with FTTH", "villages"),
        _count("gap_villages", "Số thôn chưa có FTTH", "Villages without FTTH", "villages"),
        FieldSpec("population", "float", "Dân số", "Population", unit="people", min=0),
        FieldSpec("covered_population", "float", "Dân số có FTTH", "People with FTTH",
                  unit="people", min=0),
        FieldSpec("village_share_pct", "float", "Tỷ lệ thôn có FTTH", "Village share",
                  unit="%", min=0, max=100),
        FieldSpec("population_share_pct", "float", "Tỷ lệ dân số có FTTH", "Population share",
                  unit="%", min=0, max=100, required=False),
        FieldSpec("target_pct", "float", "Mục tiêu", "Target", unit="%", min=0, max=100),
    ),
)  # fmt: skip

_BACKHAUL_KEY = (
    FieldSpec("site_id", "str", "Mã trạm", "Site id"),
    FieldSpec("kind", "str", "Loại", "Kind", allowed=BACKHAUL_KINDS),
)

POP_NODE = FieldSpec("pop_node_id", "str", "Nút POP/OLT", "POP/OLT node", required=False)
_BACKHAUL_FIELDS = (
    POP_NODE,
    _metres("gap_m", "Khoảng cách đến mạng cáp", "Gap to the network", required=False),
    _metres("path_m", "Chiều dài tuyến đến POP", "Path to POP", required=False),
    _metres("total_m", "Tổng chiều dài", "Total length", required=False),
)
#: The site's operator in the shared layers: not ``operator``, which would make a row over
#: several operators' fibre its site operator's own (see ``api.access.policy``).
SITE_OPERATOR = FieldSpec(
    "site_operator", "str", "Nhà mạng của trạm", "Site operator", allowed=OPERATOR_KEYS
)

BACKHAUL = LayerSpec(
    name="backhaul",
    label_vi="Truyền dẫn cáp quang cho trạm BTS",
    label_en="Site backhaul",
    geometry_type="Point",
    group="fibre",
    # Site ids are each operator's own: two operators may use the same one.
    key=("site_id", "operator", "kind"),
    description=(
        "Each site's fibre path to the nearest POP/OLT of its operator over that operator's own "
        "fibre only: straight gap to the network, path and total length."
    ),
    fields=(*_BACKHAUL_KEY, OPERATOR, *_BACKHAUL_FIELDS),
)

BACKHAUL_PATHS = LayerSpec(
    name="backhaul_paths",
    label_vi="Tuyến truyền dẫn của trạm BTS",
    label_en="Site backhaul paths",
    geometry_type="LineString",
    group="fibre",
    key=("site_id", "operator", "kind"),
    description="The paths of ``backhaul``, over the site operator's own fibre.",
    fields=(
        *_BACKHAUL_KEY,
        OPERATOR,
        POP_NODE,
        _metres("total_m", "Tổng chiều dài", "Total length"),
    ),
)

BACKHAUL_SHARED = LayerSpec(
    name="backhaul_shared",
    label_vi="Truyền dẫn cho trạm BTS trên cáp dùng chung",
    label_en="Site backhaul over shared fibre",
    geometry_type="Point",
    group="fibre",
    key=("site_id", "site_operator", "kind"),
    description=(
        "Each site's fibre path to the nearest POP/OLT over any operator's fibre, and whose "
        "fibre it uses: for the department's sharing plans, never shown to operators."
    ),
    fields=(*_BACKHAUL_KEY, SITE_OPERATOR, *_BACKHAUL_FIELDS, FIBRE_OPERATORS),
)

BACKHAUL_SHARED_PATHS = LayerSpec(
    name="backhaul_shared_paths",
    label_vi="Tuyến truyền dẫn trên cáp dùng chung",
    label_en="Site backhaul paths over shared fibre",
    geometry_type="LineString",
    group="fibre",
    key=("site_id", "site_operator", "kind"),
    description="The paths of ``backhaul_shared``: the department's only.",
    fields=(
        *_BACKHAUL_KEY,
        SITE_OPERATOR,
        POP_NODE,
        _metres("total_m", "Tổng chiều dài", "Total length"),
    ),
)

#: The route's operator in the shared single points of failure: not ``operator``, which would
#: make a failure found over several operators' fibre its route operator's own.
ROUTE_OPERATOR = FieldSpec(
    "route_operator", "str", "Doanh nghiệp của tuyến", "Route operator", allowed=OPERATOR_KEYS
)
_SPOF_ID = FieldSpec("spof_id", "str", "Mã", "Id")
_SPOF_ROUTE = FieldSpec("route_id", "str", "Mã tuyến", "Route id")
_SPOF_LINK_FIELDS = (
    FieldSpec("route_class", "str", "Cấp tuyến", "Route class"),
    _metres("length_m", "Chiều dài", "Length"),
    *CUT,
    FieldSpec("village_codes", "str", "Các thôn mất kết nối", "Villages cut off", required=False),
)

FIBRE_SPOF_LINKS = LayerSpec(
    name="fibre_spof_links",
    label_vi="Tuyến cáp là điểm lỗi đơn",
    label_en="Fibre links that are single points of failure",
    geometry_type="LineString",
    group="fibre",
    key=("spof_id",),
    description=(
        "Bridges of each operator's own fibre graph whose failure cuts that operator's FTTH "
        "villages or sites off all of its POPs/OLTs."
    ),
    fields=(_SPOF_ID, _SPOF_ROUTE, OPERATOR, *_SPOF_LINK_FIELDS),
)

FIBRE_SPOF_LINKS_SHARED = LayerSpec(
    name="fibre_spof_links_shared",
    label_vi="Tuyến cáp là điểm lỗi đơn trên cáp dùng chung",
    label_en="Single-point-of-failure links over shared fibre",
    geometry_type="LineString",
    group="fibre",
    key=("spof_id",),
    description=(
        "Bridges of the graph of every operator's fibre whose failure cuts villages or sites "
        "off every POP: for the department's sharing plans, never shown to operators."
    ),
    fields=(_SPOF_ID, _SPOF_ROUTE, ROUTE_OPERATOR, *_SPOF_LINK_FIELDS),
)

FIBRE_SPOF_NODES = LayerSpec(
    name="fibre_spof_nodes",
    label_vi="Nút mạng là điểm lỗi đơn",
    label_en="Fibre nodes that are single points of failure",
    geometry_type="Point",
    group="fibre",
    key=("spof_id",),
    description=(
        "Articulation points of the graph of every operator's fibre whose failure cuts "
        "villages or sites off every POP: the department's only."
    ),
    fields=(
        FieldSpec("spof_id", "str", "Mã", "Id"),
        FieldSpec("node_ids", "str", "Mã nút", "Node ids", required=False),
        _count("degree", "Số tuyến nối", "Links", "links"),
        *CUT,
        FieldSpec("village_codes", "str", "Các thôn mất kết nối", "Villages cut off",
                  required=False),
    ),
)  # fmt: skip

FIBRE_RINGS = LayerSpec(
    name="fibre_rings",
    label_vi="Mạch vòng cáp trục",
    label_en="Trunk rings",
    geometry_type="LineString",
    group="fibre",
    key=("ring_id",),
    description="Cycles of each operator's trunk, traced on that operator's own fibre.",
    fields=(
        FieldSpec("ring_id", "str", "Mã mạch vòng", "Ring id"),
        OPERATOR,
        _count("vertices", "Số điểm nối", "Vertices", "vertices"),
        _count("pops", "Số POP/OLT trên vòng", "POPs/OLTs on the ring", "nodes"),
        _metres("length_m", "Chiều dài", "Length"),
    ),
)

FIBRE_REDUNDANCY = LayerSpec(
    name="fibre_redundancy",
    label_vi="Mức dự phòng cáp quang theo xã",
    label_en="Fibre redundancy by commune",
    geometry_type=None,
    group="fibre",
    key=("commune_code",),
    description=(
        "Share of the commune's fibre-served villages and sites that keep a path to a POP "
        "after any single link fails (two edge-disjoint paths)."
    ),
    fields=(
        FieldSpec("commune_code", "str", "Mã xã", "Commune code"),
        FieldSpec("name", "str", "Tên xã", "Commune name", required=False),
        _count("villages", "Số thôn có FTTH", "Villages with FTTH", "villages"),
        _count("redundant_villages", "Số thôn có dự phòng", "Villages with redundancy",
               "villages"),
        _count("sites", "Số trạm có cáp", "Sites on fibre", "sites"),
        _count("redundant_sites", "Số trạm có dự phòng", "Sites with redundancy", "sites"),
        FieldSpec("redundancy_pct", "float", "Tỷ lệ có dự phòng", "Share with redundancy",
                  unit="%", min=0, max=100, required=False),
    ),
)  # fmt: skip

FIBRE_EXTENSIONS = LayerSpec(
    name="fibre_extensions",
    label_vi="Tuyến cáp quang mở rộng đề xuất",
    label_en="Proposed fibre extensions",
    geometry_type="LineString",
    group="fibre",
    key=("link_id",),
    description="The shortest set of new links found to reach villages without FTTH.",
    fields=(
        FieldSpec("link_id", "str", "Mã tuyến đề xuất", "Link id"),
        FieldSpec("kind", "str", "Loại", "Kind", allowed=EXTENSION_KINDS),
        FieldSpec("village_code", "str", "Thôn được nối", "Village served", required=False),
        _metres("length_m", "Chiều dài", "Length"),
        FieldSpec("commune_code", "str", "Mã xã (theo vị trí)", "Commune code (by location)",
                  required=False),
    ),
)  # fmt: skip

FIBRE_LAYERS = (
    FIBRE_TOPOLOGY_PROBLEMS, FTTH_VILLAGES, FTTH_SHARES, BACKHAUL, BACKHAUL_PATHS,
    BACKHAUL_SHARED, BACKHAUL_SHARED_PATHS, FIBRE_SPOF_LINKS, FIBRE_SPOF_LINKS_SHARED,
    FIBRE_SPOF_NODES, FIBRE_RINGS, FIBRE_REDUNDANCY, FIBRE_EXTENSIONS,
)  # fmt: skip
