"""Layers of the coverage analysis: village, area and gap statistics, and the server index."""

from __future__ import annotations

from gis_planner.catalogue.layers import TECHNOLOGIES
from gis_planner.catalogue.spec import FieldSpec, LayerSpec
from gis_planner.operators import MOBILE_OPERATORS

COVERAGE_OPERATORS = (*MOBILE_OPERATORS, "any")
AREA_LEVELS = ("commune", "district", "province", "priority_area")


def _tech() -> FieldSpec:
    return FieldSpec("technology", "str", "Công nghệ", "Technology", allowed=TECHNOLOGIES)


def _operator() -> FieldSpec:
    return FieldSpec(
        "operator", "str", "Nhà mạng", "Operator", allowed=COVERAGE_OPERATORS,
        description="'any' is the best of every operator at each pixel.",
    )  # fmt: skip


def _threshold() -> FieldSpec:
    return FieldSpec(
        "threshold_dbm", "float", "Ngưỡng", "Threshold", unit="dBm", min=-150, max=-30,
        description="RSRP (4G), SS-RSRP (5G), RSCP (3G) or RxLev (2G) counted as covered.",
    )  # fmt: skip


def _share(name: str, vi: str, en: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, required=required, unit="share", min=0, max=1)


def _population(name: str, vi: str, en: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "float", vi, en, required=required, unit="people", min=0)


COVERAGE_VILLAGES = LayerSpec(
    name="coverage_villages",
    label_vi="Vùng phủ sóng theo thôn, tổ dân phố",
    label_en="Coverage by village",
    geometry_type=None,
    group="coverage",
    key=("village_code", "technology", "operator"),
    description=(
        "Share of each village above the threshold, per operator and for any operator; the "
        "population is taken as spread evenly over the village, so both shares are equal."
    ),
    fields=(
        FieldSpec("village_code", "str", "Mã thôn", "Village code"),
        FieldSpec("commune_code", "str", "Mã xã (trước 2025)", "Commune code (pre-2025)"),
        _tech(),
        _operator(),
        _threshold(),
        FieldSpec("pixels", "int", "Số điểm ảnh", "Pixels", unit="pixels", min=0),
        _population("population", "Dân số", "Population"),
        _share("area_share", "Tỷ lệ diện tích được phủ", "Area share covered"),
        _population("covered_population", "Dân số được phủ", "Population covered"),
        FieldSpec("covered", "bool", "Đạt mục tiêu phủ sóng", "Meets the coverage target"),
        FieldSpec(
            "max_rsrp_dbm", "float", "Mức thu tốt nhất", "Best level in the village", unit="dBm",
            required=False,
        ),
    ),
)  # fmt: skip

COVERAGE_AREAS = LayerSpec(
    name="coverage_areas",
    label_vi="Vùng phủ sóng theo xã, huyện, tỉnh và khu vực ưu tiên",
    label_en="Coverage by commune, district, province and priority area",
    geometry_type=None,
    group="coverage",
    key=("level", "code", "technology", "operator"),
    description=(
        "Area share and population-weighted share above the threshold; villages covered. "
        "Priority areas have area shares only (their population is not known)."
    ),
    fields=(
        FieldSpec("level", "str", "Cấp", "Level", allowed=AREA_LEVELS),
        FieldSpec("code", "str", "Mã", "Code"),
        FieldSpec("name", "str", "Tên", "Name", required=False),
        _tech(),
        _operator(),
        _threshold(),
        FieldSpec("pixels", "int", "Số điểm ảnh", "Pixels", unit="pixels", min=0),
        _share("area_share", "Tỷ lệ diện tích được phủ", "Area share covered"),
        _share("population_share", "Tỷ lệ dân số được phủ", "Population share covered", False),
        _population("population", "Dân số", "Population", False),
        _population("covered_population", "Dân số được phủ", "Population covered", False),
        FieldSpec("villages", "int", "Số thôn", "Villages", required=False, min=0),
        FieldSpec(
            "villages_covered", "int", "Số thôn đạt mục tiêu", "Villages meeting the target",
            required=False, min=0,
        ),
    ),
)  # fmt: skip

COVERAGE_GAPS = LayerSpec(
    name="coverage_gaps",
    label_vi="Thôn chưa đạt mục tiêu phủ sóng",
    label_en="Villages below the coverage target",
    geometry_type="MultiPolygon",
    group="coverage",
    key=("village_code", "technology"),
    description="Villages whose share above the threshold, from any operator, misses the target.",
    fields=(
        FieldSpec("village_code", "str", "Mã thôn", "Village code"),
        FieldSpec("name", "str", "Tên thôn, tổ dân phố", "Village name", required=False),
        FieldSpec("commune_code", "str", "Mã xã (trước 2025)", "Commune code (pre-2025)"),
        _tech(),
        _threshold(),
        _population("population", "Dân số", "Population"),
        _share("population_share", "Tỷ lệ dân số được phủ", "Population share covered"),
        FieldSpec(
            "max_rsrp_dbm", "float", "Mức thu tốt nhất", "Best available level", unit="dBm",
            required=False,
        ),
        FieldSpec(
            "best_operator", "str", "Nhà mạng có mức thu tốt nhất", "Operator of the best level",
            required=False, allowed=MOBILE_OPERATORS,
        ),
    ),
)  # fmt: skip

COVERAGE_SERVERS = LayerSpec(
    name="coverage_servers",
    label_vi="Bảng tra cell phục vụ của bản đồ phủ sóng",
    label_en="Server index of the coverage rasters",
    geometry_type=None,
    group="coverage",
    key=("operator", "technology", "server_index"),
    description="The cell behind each value of an operator/technology's best-server raster.",
    fields=(
        FieldSpec("operator", "str", "Nhà mạng", "Operator", allowed=MOBILE_OPERATORS),
        _tech(),
        FieldSpec("server_index", "int", "Số hiệu trên bản đồ", "Raster value", min=1),
        FieldSpec("cell_id", "str", "Mã cell", "Cell id"),
        FieldSpec("model", "str", "Mô hình truyền sóng", "Propagation model"),
        FieldSpec("range_m", "float", "Bán kính tính toán", "Computed reach", unit="m", min=0),
    ),
)  # fmt: skip

COVERAGE_LAYERS: tuple[LayerSpec, ...] = (
    COVERAGE_VILLAGES,
    COVERAGE_AREAS,
    COVERAGE_GAPS,
    COVERAGE_SERVERS,
)
