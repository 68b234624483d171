"""Pydantic models of what goes over HTTP (descriptions in Vietnamese and English).

OGC field names (``numberMatched``, ``itemType``…) are kept as the standard spells them.
"""

# ruff: noqa: N815

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorMessage(BaseModel):
    """Every error's body: one message, in Vietnamese then English."""

    detail: str = Field(description="Lỗi / What went wrong (Vietnamese / English)")


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """Trang gốc OGC API – Features / OGC API – Features landing page."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """Các lớp phù hợp chuẩn được hỗ trợ / Conformance classes implemented."""

    conformsTo: list[str]


class Extent(BaseModel):
    spatial: dict[str, Any]


class Collection(BaseModel):
    """Một lớp dữ liệu / One layer of the store."""

    id: str
    title: str
    description: str
    itemType: str = "feature"
    crs: list[str]
    storageCrs: str
    extent: Extent | None = None
    links: list[Link]
    group: str | None = Field(None, description="Nhóm lớp / Layer group (admin, radio, fibre…).")
    fields: dict[str, str] = Field(
        default_factory=dict, description="Tên trường → nhãn / Field name → label."
    )


class Collections(BaseModel):
    """Danh sách lớp dữ liệu / The layers this caller may read."""

    collections: list[Collection]
    links: list[Link]


class Feature(BaseModel):
    type: str = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(BaseModel):
    """Một trang đối tượng GeoJSON / A page of GeoJSON features (CRS84)."""

    type: str = "FeatureCollection"
    features: list[Feature]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[Link]


class VectorLayer(BaseModel):
    id: str
    fields: dict[str, str]
    description: str = ""


class TileJSON(BaseModel):
    """Mô tả bộ tile theo TileJSON 3.0 / TileJSON 3.0 description of a tile set."""

    tilejson: str = "3.0.0"
    name: str
    description: str = ""
    tiles: list[str]
    minzoom: int
    maxzoom: int
    bounds: list[float]
    center: list[float] | None = None
    vector_layers: list[VectorLayer] | None = None
    attribution: str = ""


class LegendEntry(BaseModel):
    low: float | None = Field(description="Cận dưới (None: không giới hạn) / Lower bound.")
    high: float | None = Field(description="Cận trên (None: không giới hạn) / Upper bound.")
    colour: str = Field(description="Màu #rrggbbaa / Colour #rrggbbaa.")
    label: str


class Legend(BaseModel):
    """Chú giải bản đồ màu / Legend of a colour map."""

    colormap: str
    title: str
    quantity: str
    unit: str
    entries: list[LegendEntry]


class RasterBand(BaseModel):
    """Một băng của raster / One band of a raster."""

    index: int = Field(description="Số thứ tự từ 1 / 1-based index.")
    name: str = Field(description="Tên dùng trong `band=` / Name for `band=`.")
    quantity: str
    unit: str
    description: str
    colormap: str | None
    legend: str | None


class RasterInfo(BaseModel):
    """Một raster đã đăng ký trong kho / A raster product registered in the store."""

    id: str
    title: str
    quantity: str | None = Field(description="Đại lượng của băng 1 / Quantity of band 1.")
    unit: str | None
    operator: str | None = Field(description="Nhà mạng (None: tổng hợp) / Operator or aggregated.")
    operators: list[str] = Field(description="Các nhà mạng đã tính / Operators computed.")
    technologies: list[str]
    job: str
    scope: str | None = Field(description="Phạm vi hẹp hơn tỉnh / Scope below the province.")
    area_codes: list[str] = Field(description="Đơn vị hành chính / Admin units covered.")
    area_bbox: list[float] | None = Field(description="Khung lon/lat / Lon/lat bbox of the run.")
    created_at: str
    stale: bool = Field(description="Đầu vào đã đổi từ khi tính / An input changed since.")
    colormap: str | None
    bands: list[RasterBand]
    bounds: list[float]
    minzoom: int
    tilejson: str
    legend: str | None


class RasterSample(BaseModel):
    raster: str
    band: str
    quantity: str | None
    unit: str | None
    operator: str | None
    value: float | None = Field(description="Giá trị tại điểm (None: ngoài raster hoặc nodata).")
    label: str | None = Field(description="Lớp màu của giá trị / Colour class of the value.")


class OperatorSignal(BaseModel):
    operator: str
    operator_name: str
    rsrp_dbm: float


class PointCoverage(BaseModel):
    """Vùng phủ tại một điểm / Coverage at a point."""

    lon: float
    lat: float
    samples: list[RasterSample]
    rsrp_by_operator: list[OperatorSignal] = Field(
        description="RSRP mạnh nhất của mỗi nhà mạng, giảm dần / Each operator's RSRP, best first."
    )


class SharingRatio(BaseModel):
    """Tỷ lệ dùng chung của một phạm vi / Sharing ratio of one scope."""

    scope: str = Field(description="province | district | commune | operator")
    code: str
    name: str
    positions: int
    shared_positions: int
    position_ratio: float = Field(description="Vị trí dùng chung / tổng vị trí.")
    sites: int
    sites_on_shared: int
    site_ratio: float = Field(description="Trạm trên vị trí dùng chung / tổng trạm.")
    meets_low: bool
    meets_high: bool
    shared_needed_low: int = Field(description="Vị trí dùng chung còn thiếu / Shared still needed")
    shared_needed_high: int


class PositionsRecord(BaseModel):
    """Sản phẩm vị trí trạm đã dùng / The positions product an answer was computed from."""

    tolerance_m: float
    method: str
    sites_revision: int = Field(description="Phiên bản lớp trạm / Revision of the sites layer")
    made_at: str | None
    stored: bool = Field(
        description=(
            "false: kho chưa có sản phẩm, vị trí vừa tính với khoảng cách mặc định / the store "
            "has no product: positions computed now at the default tolerance"
        )
    )
    stale: bool = Field(
        description="Lớp trạm đã đổi từ khi tính / The sites changed since it was made"
    )
    notice: str | None = Field(description="Điều cần biết / What to know about it")


class SharingRatios(BaseModel):
    """Tỷ lệ dùng chung vị trí trạm BTS / BTS position sharing ratios (plan target 25–30 %)."""

    tolerance_m: float
    admin_version: str
    target_low: float
    target_high: float
    stale: bool = Field(description="Vị trí đã cũ / The positions product is stale")
    positions: PositionsRecord
    rows: list[SharingRatio]


class Indicator(BaseModel):
    """Một chỉ tiêu của một đơn vị / One indicator of one unit."""

    indicator: str
    admin_version: str
    level: str
    code: str
    name: str
    numerator: float
    denominator: float
    value: float | None = Field(description="Tỷ lệ đo được (None: không có mẫu) / Measured ratio")
    target: float | None = Field(
        description="Mục tiêu của quy hoạch áp dụng cho đơn vị (None: chưa có quy hoạch) / "
        "Target of the plan governing the unit (None: no plan loaded for it)"
    )
    target_high: float | None
    year: int | None
    status: str = Field(description="met, in range, not met, no data, no plan")
    document: str | None = Field(description="Văn bản quy hoạch / The plan's document")


class Indicators(BaseModel):
    """Chỉ tiêu của kế hoạch, đo từ các lớp / The plan's indicators measured from the layers."""

    missing_layers: list[str] = Field(
        description="Lớp phân tích chưa có nên chưa đo được / Analysis layers not yet computed"
    )
    stale: bool = Field(
        description="Vị trí trạm đã cũ so với lớp trạm / The positions product is stale"
    )
    positions: PositionsRecord | None = Field(
        description="Sản phẩm vị trí đã đo / The positions product measured (none if missing)"
    )
    rows: list[Indicator]


class SearchHit(BaseModel):
    layer: str
    id: str
    label: str
    kind: str
    bbox: list[float] = Field(description="[min lon, min lat, max lon, max lat]")


class SearchResults(BaseModel):
    """Kết quả tìm kiếm (không phân biệt dấu) / Search results (accent-insensitive)."""

    query: str
    hits: list[SearchHit]


class ViewerLayer(BaseModel):
    id: str
    title: str
    group: str
    kind: str = Field(default="vector", description="vector | raster")
    source: str | None = Field(default=None, description="Lớp trong kho / Store layer.")
    filters: dict[str, str] = Field(default_factory=dict)
    tiles: str
    geometry_type: str | None = None
    colour: str | None = None
    visible: bool = False
    popup_fields: dict[str, str] = Field(default_factory=dict)
    units: dict[str, str] = Field(
        default_factory=dict, description="Đơn vị của trường / Units of the popup's fields."
    )
    label_field: str | None = Field(
        default=None, description="Trường làm nhãn trên bản đồ / Field drawn as a map label."
    )
    legend: str | None = None
    description: str | None = Field(
        default=None,
        description="Cách tính, ví dụ địa hình của vùng phủ / How it was computed, e.g. the "
        "terrain a coverage raster was computed over.",
    )
    bounds: list[float] | None = None
    minzoom: int | None = Field(
        default=None, description="Zoom nhỏ nhất có tile / Lowest zoom with tiles (rasters)."
    )


class IdentifiedFeature(BaseModel):
    layer: str
    id: str
    properties: dict[str, Any]


class Identified(BaseModel):
    """Đối tượng tại điểm bấm / Features at a clicked point, nearest first per layer."""

    lon: float
    lat: float
    features: list[IdentifiedFeature]


class ViewerArea(BaseModel):
    """Một vùng để chọn: tỉnh hoặc tỉnh cũ / An area to pick: a province or a former one."""

    id: str = Field(description="Phiên bản địa giới:mã / admin_version:code")
    name: str
    bounds: list[float]


class ViewerConfig(BaseModel):
    """Cấu hình trình xem bản đồ / Viewer configuration for this caller."""

    title: str
    lang: str
    role: str
    operator: str | None
    bounds: list[float]
    basemap_url: str | None
    basemap_attribution: str
    groups: dict[str, str]
    layers: list[ViewerLayer]
    coverage: bool = Field(description="Đã có raster vùng phủ / Coverage rasters exist.")
    link_profile: bool = Field(
        False,
        description="Máy chủ có raster độ cao cho mặt cắt tuyến viba / The server has an "
        "elevation raster for microwave link profiles.",
    )
    value_labels: dict[str, str]
    place_names: dict[str, str] = Field(
        default_factory=dict,
        description="Tên huyện, xã theo mã / District and commune names by code.",
    )
    areas: list[ViewerArea] = Field(
        default_factory=list,
        description="Các tỉnh và tỉnh cũ để chọn, cả tỉnh trước / The provinces and former "
        "provinces to pick, the whole province first.",
    )


class VillageCoverage(BaseModel):
    """Vùng phủ của một thôn với một công nghệ và nhà mạng / One village's coverage."""

    village_code: str
    name: str | None = Field(description="Tên thôn, tổ dân phố / Village name.")
    commune_code: str
    technology: str
    operator: str = Field(description="Nhà mạng ('any': tốt nhất mọi nhà mạng) / Operator.")
    threshold_dbm: float = Field(description="Ngưỡng được tính là có sóng / Covered threshold.")
    pixels: int
    population: float
    area_share: float = Field(description="Tỷ lệ diện tích có sóng / Area share covered.")
    covered_population: float
    covered: bool = Field(description="Đạt mục tiêu phủ sóng / Meets the coverage target.")
    max_rsrp_dbm: float | None = Field(description="Mức thu tốt nhất / Best level (dBm).")


class VillageCoverages(BaseModel):
    """Vùng phủ theo thôn mà người gọi được xem / The village coverage the caller may see."""

    villages: int = Field(description="Số dòng / Rows returned.")
    covered: int = Field(description="Số dòng đạt mục tiêu / Rows meeting the target.")
    rows: list[VillageCoverage]


class GapVillage(BaseModel):
    """Thôn chưa đạt mục tiêu phủ sóng / A village below the coverage target."""

    village_code: str
    name: str | None
    commune_code: str
    technology: str
    threshold_dbm: float
    population: float
    population_share: float = Field(description="Tỷ lệ dân số có sóng / Population covered.")
    max_rsrp_dbm: float | None = Field(description="Mức thu tốt nhất / Best level (dBm).")
    best_operator: str | None = Field(
        None, description="Nhà mạng có mức thu tốt nhất (chỉ quản trị) / Best operator (admin)."
    )


class GapVillages(BaseModel):
    """Danh sách thôn vùng lõm, đông dân trước / Gap villages, most populous first."""

    villages: int
    population: float = Field(description="Tổng dân số các thôn / People in these villages.")
    rows: list[GapVillage]


class SiteBackhaul(BaseModel):
    """Truyền dẫn cáp quang của một trạm trên cáp của chính nhà mạng / A site's fibre backhaul
    to its operator's POP/OLT over that operator's own fibre."""

    site_id: str
    kind: str = Field(description="site | proposed")
    operator: str
    lon: float
    lat: float
    pop_node_id: str | None = Field(description="Nút POP/OLT gần nhất / Nearest POP/OLT node.")
    gap_m: float | None = Field(description="Khoảng cách đến mạng cáp / Gap to the network.")
    path_m: float | None = Field(description="Tuyến trên cáp đến POP / Path over fibre to POP.")
    total_m: float | None = Field(description="Tổng chiều dài / Gap plus path.")
    path: dict[str, Any] | None = Field(
        description="Tuyến truyền dẫn (GeoJSON, CRS84) / The backhaul path (GeoJSON)."
    )


class ImportReject(BaseModel):
    """Một lỗi của một dòng bị loại / One problem of a rejected row."""

    file: str
    sheet: str | None
    row: int = Field(description="Dòng trong tệp nguồn / Row in the source file.")
    field: str
    value: str | None
    reason: str
    message: str


class ImportSummary(BaseModel):
    """Kết quả nhập tệp / What an import did (all accepted rows in one transaction)."""

    file: str
    layer: str
    read: int
    accepted: int
    rejected: int = Field(description="Số dòng bị loại (xem rejects) / Rows rejected.")
    unchanged: int = Field(description="Đã có trong kho, không ghi lại / Already in the store.")
    fixed: int = Field(description="Dòng đã sửa (đảo toạ độ) / Rows fixed (swapped coordinates).")
    written: dict[str, int] = Field(description="Số dòng ghi vào mỗi lớp / Rows written.")
    append: bool = Field(description="Thêm vào lớp (không thay thế) / Added, not replaced.")
    rejected_by_reason: dict[str, int]
    notes: list[str]
    rejects: list[ImportReject]


class ProblemField(BaseModel):
    field: str = Field(description="Trường / Field (or 'geometry')")
    reason: str = Field(description="Mã lý do / Reason code (e.g. above_max, not_allowed)")
    message: str


class Problem(BaseModel):
    """Chi tiết lỗi (RFC 9457) / Problem details, with the fields at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = Field(description="Lỗi / What went wrong (Vietnamese / English)")
    errors: list[ProblemField] = Field(default_factory=list)


class AuditChange(BaseModel):
    """Một thay đổi đã ghi / One change of the audit history."""

    id: int
    at: str = Field(description="Thời điểm (UTC) / When (UTC)")
    who: str = Field(description="Người sửa (chủ khoá API) / Editor (the API key's holder)")
    role: str
    operator: str | None = Field(None, description="Nhà mạng của đối tượng / The row's operator")
    layer: str
    feature_id: str
    action: str = Field(description="create, replace, update, delete, undo")
    before: dict[str, Any] | None = Field(None, description="Trước / The row before (null: none)")
    after: dict[str, Any] | None = Field(None, description="Sau / The row after (null: deleted)")
    undoes: int | None = Field(None, description="Thay đổi được hoàn tác / The change undone")


class AuditChanges(BaseModel):
    """Lịch sử thay đổi, mới nhất trước / The audit history, newest first."""

    changes: list[AuditChange]
