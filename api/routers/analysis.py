"""Analysis endpoints over the library: sharing, host candidates, indicators, point coverage.

Each endpoint calls one library function and shapes its answer. The analyses the CLI writes
to the store (village coverage and gaps, site backhaul) are served by ``api.routers.products``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field
from rio_tiler.errors import PointOutsideBounds
from rio_tiler.io import Reader

from api.access import Principal
from api.deps import Caller, Language, Layers
from api.layercache import BadQuery
from api.models import (
    Indicator,
    Indicators,
    OperatorSignal,
    PointCoverage,
    PositionsRecord,
    RasterSample,
    SharingRatio,
    SharingRatios,
)
from api.routers.common import (
    PlannedLat,
    PlannedLon,
    PlanningOperator,
    cache_control,
    planning_operator,
    visible_layer,
)
from api.routers.rasters import served_rasters, visible_bands, visible_rasters
from gis_planner.colormaps import colour_map_of_quantity
from gis_planner.hosting import FIBRE_LAYERS, HostIndex, PlannedSite
from gis_planner.jobs import indicators as indicators_job
from gis_planner.operators import operator
from gis_planner.positions_product import PRODUCER, PositionsProduct, read_positions
from gis_planner.sharing import PLAN_TARGETS, place_positions, position_capacity, position_ratios
from gis_planner.speeds_product import NoSpeeds, read_figures

router = APIRouter(prefix="/analysis", tags=["analysis"])

_private = {"Cache-Control": "private, max-age=60", "Vary": "X-API-Key"}

Tolerance = Annotated[
    float | None,
    Query(
        gt=0,
        le=500,
        description=(
            "Khoảng cách gộp các trạm thành một vị trí (m) mà người gọi cần; phải bằng khoảng "
            "cách của sản phẩm vị trí (`gis-planner sharing --tolerance-m`). / The position "
            "tolerance (m) the caller expects; must be the positions product's."
        ),
    ),
]

AdminVersion = Annotated[
    Literal["pre2025", "2025-07"],
    Query(description="Phiên bản địa giới / Administrative version of the units"),
]
Scope = Annotated[
    Literal["province", "district", "commune", "operator"] | None,
    Query(description="Chỉ một cấp / Only one scope"),
]


def _positions(layers: Layers, tolerance_m: float | None) -> PositionsProduct:
    """The store's positions product (read once per store revision), checked against the
    tolerance the caller expects."""
    product = layers.memo("positions", lambda: read_positions(layers.store))
    if tolerance_m is not None and tolerance_m != product.tolerance_m:
        raise BadQuery(
            f"vị trí được tính với khoảng cách {product.tolerance_m:g} m / positions were made "
            f"at {product.tolerance_m:g} m, not {tolerance_m:g} m: run `{PRODUCER} "
            f"--tolerance-m {tolerance_m:g}` to make them at {tolerance_m:g} m"
        )
    return product


def _record(product: PositionsProduct) -> PositionsRecord:
    return PositionsRecord(
        tolerance_m=product.tolerance_m,
        method=product.method,
        sites_revision=product.sites_revision,
        made_at=product.made_at,
        stored=product.stored,
        stale=product.stale,
        notice=product.notice(),
    )


def _geojson(table: gpd.GeoDataFrame, product: PositionsProduct) -> bytes:
    """A FeatureCollection with the positions product's record as foreign members."""
    body = json.loads(table.to_json(drop_id=True, ensure_ascii=False))
    body["stale"] = product.stale
    body["positions"] = _record(product).model_dump()
    return json.dumps(body, ensure_ascii=False).encode()


def _seen_positions(
    layers: Layers, who: Principal, tolerance_m: float | None
) -> tuple[str, PositionsProduct, gpd.GeoDataFrame]:
    """The positions product as ``who`` may see it, and a key of that view.

    A position's capacity is recomputed from the caller's view of the sites: other operators'
    ``max_tenants`` are masked there, so their structures count at the tower type's default.
    """
    product = _positions(layers, tolerance_m)
    table = product.table
    if who.role == "admin":
        return f"{product.sites_revision}|{product.made_at}|admin", product, table
    version, sites = _seen(layers, "sites", who)
    table = table.copy()
    table["capacity"] = position_capacity(table, sites)
    return f"{product.sites_revision}|{product.made_at}|{version}", product, table


def _seen(layers: Layers, name: str, who: Principal) -> tuple[str, gpd.GeoDataFrame]:
    """The rows and fields of layer ``name`` that ``who`` may see, other operators' masked
    fields emptied, and a key of that view (version and scope).

    What is derived from a layer for a caller is derived from this: a position's capacity
    from other operators' ``max_tenants``, or a host's distance to other operators' fibre,
    would tell what the view hides.
    """
    layer, view = visible_layer(layers, name, who)
    frame = layer.frame
    assert isinstance(frame, gpd.GeoDataFrame)
    rows = layer.select(np.arange(len(frame)), view)
    seen = frame.iloc[rows][[*view.fields, frame.geometry.name]]
    if view.masked:
        others = seen["operator"].to_numpy(dtype=object) != view.mask_except
        seen = seen.copy()
        seen.loc[others, list(view.masked)] = None
    return f"{layer.version}|{view.scope}", seen


@router.get(
    "/sharing",
    response_model=SharingRatios,
    summary="Tỷ lệ dùng chung vị trí trạm / Position sharing ratio",
    description=(
        "Vị trí dùng chung / tổng vị trí (chỉ tiêu 25–30 %) và trạm trên vị trí dùng chung / "
        "tổng trạm, cho tỉnh, từng huyện, xã và nhà mạng. / Shared positions over all positions "
        "(plan target 25–30 %) and sites on shared positions over all sites, for the province, "
        "each district, commune and operator."
    ),
)
def sharing(
    layers: Layers,
    tolerance_m: Tolerance = None,
    admin_version: AdminVersion = "pre2025",
    scope: Scope = None,
) -> SharingRatios:
    product = _positions(layers, tolerance_m)
    admin = layers.layer("admin_units")
    assert isinstance(admin.frame, gpd.GeoDataFrame)
    frame = admin.frame
    table = layers.memo(
        ("ratios", admin_version),
        lambda: position_ratios(
            place_positions(product.table, frame, admin_version),
            frame,
            admin_version=admin_version,
        ),
    )
    if scope is not None:
        table = table[table["scope"] == scope]
    return SharingRatios(
        tolerance_m=product.tolerance_m,
        admin_version=admin_version,
        target_low=PLAN_TARGETS.low,
        target_high=PLAN_TARGETS.high,
        stale=product.stale,
        positions=_record(product),
        rows=[SharingRatio(**row) for row in table.to_dict("records")],
    )


@router.get(
    "/positions",
    summary="Vị trí trạm (GeoJSON) / Physical positions (GeoJSON)",
    description=(
        "Mỗi vị trí của sản phẩm vị trí (`gis-planner sharing`): số trạm, các nhà mạng, dùng "
        "chung hay không; `stale` khi lớp trạm đã đổi. / Each position of the positions product "
        "(`gis-planner sharing`): its sites, operators and whether it is shared; `stale` when "
        "the sites changed since."
    ),
    responses={200: {"content": {"application/geo+json": {}}}},
)
def positions_geojson(
    layers: Layers,
    who: Caller,
    tolerance_m: Tolerance = None,
    shared: Annotated[bool | None, Query(description="Chỉ vị trí dùng chung / Only shared")] = None,
) -> Response:
    _, product, table = _seen_positions(layers, who, tolerance_m)
    if who.role == "viewer":
        # No site's max_tenants is public: a capacity from tower types alone would mislead.
        table = table.drop(columns="capacity")
    if shared is not None:
        table = table[table["shared"] == shared]
    headers = {"Cache-Control": cache_control(who)}
    body = _geojson(table, product)
    return Response(body, media_type="application/geo+json", headers=headers)


def _host_index(
    layers: Layers, who: Principal, tolerance_m: float | None
) -> tuple[PositionsProduct, HostIndex]:
    """The host index of the positions, communes and fibre ``who`` may see, built once per
    version and view."""
    scope, product, table = _seen_positions(layers, who, tolerance_m)
    names = ("admin_units", *FIBRE_LAYERS)
    parts = {name: _seen(layers, name, who) for name in names if name in layers.infos()}
    key = ("hosts", scope, *((n, version) for n, (version, _) in parts.items()))
    fibre = [frame for n, (_, frame) in parts.items() if n in FIBRE_LAYERS]
    hosts = layers.memo(key, lambda: HostIndex.from_layers(table, parts["admin_units"][1], fibre))
    return product, hosts


@router.get(
    "/host-candidates",
    summary="Vị trí có thể dùng chung cho trạm quy hoạch / Host candidates for a planned site",
    description=(
        "Vị trí của nhà mạng khác trong bán kính tìm kiếm có thể lắp trạm quy hoạch, xếp theo "
        "điểm (khoảng cách, vùng phục vụ chung, độ cao, chỗ trống, cáp quang), kèm tỷ lệ dùng "
        "chung nếu dùng chung tại đó. Cần khoá nhà mạng (cho chính nhà mạng đó) hoặc quản trị. / "
        "Other operators' positions within the search radius that could carry the planned site, "
        "ranked by score (distance, shared service area, height, free slots, fibre), with the "
        "sharing ratio if hosted there. Needs an operator key (for that operator) or an admin key."
    ),
    responses={200: {"content": {"application/geo+json": {}}}},
)
def host_candidates(
    layers: Layers,
    who: Caller,
    lon: PlannedLon,
    lat: PlannedLat,
    operator_key: PlanningOperator = None,
    height_m: Annotated[float, Query(gt=0, le=200, description="Độ cao ăng-ten / Antenna")] = 30,
    technology: Annotated[Literal["4G", "5G"], Query(description="Công nghệ")] = "4G",
    radius_m: Annotated[float | None, Query(gt=0, le=20_000, description="Bán kính (m)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    tolerance_m: Tolerance = None,
) -> Response:
    planner = planning_operator(who, operator_key, "host candidates need an operator or admin key")
    product, index = _host_index(layers, who, tolerance_m)
    site = PlannedSite(lon, lat, planner, height_m, technology)
    found = index.candidates(site, radius_m).head(limit)
    return Response(_geojson(found, product), media_type="application/geo+json", headers=_private)


@router.get(
    "/indicators",
    response_model=Indicators,
    summary="Chỉ tiêu của kế hoạch / The plan's indicators",
    description=(
        "Các chỉ tiêu đo được từ các lớp (phủ sóng thôn, FTTH, dùng chung vị trí, 5G) theo đơn "
        "vị của hai phiên bản địa giới, so với chỉ tiêu của kế hoạch; kèm các lớp phân tích chưa "
        "có. / The indicators measurable from the layers (village coverage, FTTH, position "
        "sharing, 5G) by unit of both administrative versions, against the plan's targets; with "
        "the analysis layers not yet computed."
    ),
)
def plan_indicators(
    layers: Layers,
    admin_version: Annotated[
        Literal["pre2025", "2025-07"] | None, Query(description="Phiên bản địa giới")
    ] = None,
    level: Annotated[
        Literal["province", "district", "commune"] | None, Query(description="Cấp / Level")
    ] = None,
) -> Indicators:
    infos = layers.infos()
    result = layers.memo(
        "indicators", lambda: indicators_job.run(indicators_job.IndicatorsSpec(), layers.store)
    )
    table, missing = result.table, list(result.missing)
    if admin_version is not None:
        table = table[table["admin_version"] == admin_version]
    if level is not None:
        table = table[table["level"] == level]
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    # The indicator counts the stored positions layer: say which product and whether it is
    # stale (positions computed for lack of one are not what it measured).
    product = _positions(layers, None) if "positions" in infos else None
    record = _record(product) if product is not None and product.stored else None
    return Indicators(
        missing_layers=missing,
        stale=record is not None and record.stale,
        positions=record,
        rows=[Indicator(**row) for row in rows],
    )


@router.get(
    "/coverage/point",
    response_model=PointCoverage,
    summary="Vùng phủ tại một điểm / Coverage at a point",
    description=(
        "Giá trị mọi băng (RSRP, RSRP thứ hai, SINR, cell phục vụ, số cell) của mọi raster vùng "
        "phủ người gọi được xem tại điểm, và RSRP tốt nhất của mỗi nhà mạng. 404 khi chưa tính "
        "vùng phủ. / The value of every band (RSRP, second RSRP, SINR, best server, server "
        "count) of every coverage raster the caller may see at the point, and each operator's "
        "best RSRP. 404 when the coverage has not been computed."
    ),
)
def coverage_point(
    layers: Layers,
    who: Caller,
    lang: Language,
    lon: Annotated[float, Query(ge=-180, le=180, description="Kinh độ / Longitude (WGS84)")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Vĩ độ / Latitude (WGS84)")],
) -> PointCoverage:
    if not served_rasters(layers):
        raise HTTPException(
            404,
            "chưa tính vùng phủ / the coverage has not been computed: no raster is registered in "
            "the store (run gis-planner coverage)",
        )
    samples = []
    best: dict[str, float] = {}
    for raster in visible_rasters(layers, who).values():
        bands = visible_bands(raster, who)
        try:
            with Reader(str(raster.path)) as cog:
                point = cog.point(lon, lat, indexes=[b.index for b in bands])
            masked = np.ma.getmaskarray(point.array)
            values = [None if masked[i] else float(point.array[i]) for i in range(len(bands))]
        except PointOutsideBounds:
            values = [None] * len(bands)
        for band, value in zip(bands, values, strict=True):
            cmap = colour_map_of_quantity(band.quantity)
            found = cmap.class_of(value) if value is not None and cmap is not None else None
            if value is not None and band.name == "rsrp" and raster.operator is not None:
                best[raster.operator] = max(best.get(raster.operator, -np.inf), value)
            samples.append(
                RasterSample(
                    raster=raster.id,
                    band=band.name,
                    quantity=band.quantity,
                    unit=band.unit,
                    operator=raster.operator,
                    value=value,
                    label=found.label(lang) if found else None,
                )
            )
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    return PointCoverage(
        lon=lon,
        lat=lat,
        samples=samples,
        rsrp_by_operator=[
            OperatorSignal(operator=k, operator_name=operator(k).name, rsrp_dbm=v)
            for k, v in ranked
        ],
    )


class SpeedShare(BaseModel):
    """Thôn và dân số đạt tốc độ di động mục tiêu / Villages and people at the mobile target."""

    technology: str
    operator: str = Field(description="Nhà mạng, hoặc 'any' (nhà mạng tốt nhất tại mỗi điểm)")
    target_mbps: float
    villages: int = Field(description="Thôn được tính / Villages measured")
    villages_at_target: int = Field(
        description="Thôn có ≥ 95 % dân số đạt mục tiêu / Villages with ≥ 95 % of people at it"
    )
    village_share: float
    population: float
    population_at_target: float = Field(
        description="Dân số ở nơi đạt mục tiêu / People where the target is reached"
    )
    population_share: float


class FixedShare(BaseModel):
    """Thôn và dân số có FTTH, đạt 100 Mb/s, đạt 1 Gb/s / Villages and people with FTTH, at
    100 Mb/s, at 1 Gb/s."""

    measure: Literal["ftth", "fixed_target", "fixed_2030"]
    target_mbps: float | None
    villages: int
    villages_at_target: int
    village_share: float
    population: float
    population_at_target: float
    population_share: float


class Speeds(BaseModel):
    """Tốc độ tải xuống so với chỉ tiêu / Download speeds against the plan's targets."""

    scope: str = Field(description="Phạm vi của lần tính vùng phủ / The coverage run's scope")
    stale: bool = Field(
        description="Số liệu đã cũ so với đầu vào / The figures' inputs changed since"
    )
    assumptions: dict[str, Any] = Field(
        description="Mọi giả định của ước tính / Every assumption of the estimate"
    )
    mobile: list[SpeedShare]
    fixed: list[FixedShare]


@router.get(
    "/speeds",
    response_model=Speeds,
    summary="Tốc độ so với chỉ tiêu / Speeds against the plan's targets",
    description=(
        "Tỷ lệ thôn và dân số đạt tốc độ tải xuống di động mục tiêu (50 Mb/s) theo nhà mạng và "
        "công nghệ, và tỷ lệ có FTTH đạt 100 Mb/s và 1 Gb/s (2030), từ các lớp "
        "`speeds_villages` và `ftth_speeds` của `gis-planner speeds`, kèm mọi giả định. Khách "
        "xem số liệu tổng hợp (operator = any); khoá nhà mạng xem thêm của chính mình; quản trị "
        "xem tất cả. 404 khi chưa tính. / The share of villages and people at the mobile "
        "download target (50 Mb/s) by operator and technology, and with FTTH at 100 Mb/s and "
        "1 Gb/s (2030), from the `speeds_villages` and `ftth_speeds` layers of `gis-planner "
        "speeds`, with every assumption. Viewers get the figures of the best operator at each "
        "pixel (operator = any); an operator key its own too; admins all. 404 until computed."
    ),
)
def speeds(
    layers: Layers,
    who: Caller,
    scope: Annotated[
        str,
        Query(
            pattern="^[a-z0-9_]*$",
            max_length=200,
            description="Phạm vi của lần tính vùng phủ (mặc định: toàn tỉnh) / The coverage "
            "run's scope (default: the province's)",
        ),
    ] = "province",
    technology: Annotated[
        Literal["4G", "5G"] | None, Query(description="Công nghệ / Technology")
    ] = None,
) -> Speeds:
    key = "" if scope == "province" else scope
    try:
        figures = layers.memo(("speeds", key), lambda: read_figures(layers.store, key))
    except NoSpeeds as error:
        raise HTTPException(404, str(error)) from None
    mobile = figures.summary
    seen = (mobile["operator"] == "any") | (who.role == "admin")
    if who.operator is not None:
        seen |= mobile["operator"] == who.operator
    mobile = mobile[seen]
    if technology is not None:
        mobile = mobile[mobile["technology"] == technology]
    fixed = figures.fixed_summary
    return Speeds(
        scope=scope,
        stale=figures.stale,
        # the coverage products' ids name each operator's rasters: not every caller's to see
        assumptions={k: v for k, v in figures.parameters.items() if k != "coverage_products"},
        mobile=[SpeedShare(**row) for row in mobile.to_dict("records")],
        fixed=[
            FixedShare(**row)
            for row in fixed.astype(object).where(fixed.notna(), None).to_dict("records")
        ],
    )
