"""Analysis endpoints over the layers the CLI's analyses write: village coverage and gap
villages (``gis-planner coverage``), the fibre backhaul of a site (``gis-planner fibre``).

The rows each caller gets follow the layer's policy (``api.access``): coverage aggregated over
operators and the gap villages are public, each operator's coverage and backhaul its own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Response
from shapely.geometry import mapping

from api.access import LayerView, Principal
from api.cachedlayer import CachedLayer
from api.deps import Caller, Layers
from api.layercache import BadQuery, LayerCache
from api.models import GapVillage, GapVillages, SiteBackhaul, VillageCoverage, VillageCoverages
from api.routers.common import cache_control, visible_layer
from gis_planner.catalogue.coverage import COVERAGE_OPERATORS

router = APIRouter(prefix="/analysis", tags=["analysis"])

Technology = Annotated[
    Literal["2G", "3G", "4G", "5G"] | None,
    Query(description="Công nghệ / Technology"),
]
CommuneCode = Annotated[
    str | None,
    Query(max_length=16, description="Mã xã (trước 2025) / Commune code (pre-2025)"),
]


def _layer(
    layers: LayerCache, name: str, command: str, who: Principal
) -> tuple[CachedLayer, LayerView]:
    """The layer and the caller's view of it if the analysis has run (404 naming the command
    that writes it otherwise); 403 if the caller may not see it."""
    if name not in layers.infos():
        raise HTTPException(
            404,
            f"chưa có lớp {name!r}, hãy chạy `{command}` / the store has no {name!r} layer: "
            f"run `{command}` first",
        )
    return visible_layer(layers, name, who)


def _filters(**values: str | None) -> dict[str, list[Any]]:
    return {name: [value] for name, value in values.items() if value is not None}


def _village_names(layers: LayerCache) -> dict[str, str]:
    """Village code → name, from the (public) villages layer when the store has it."""
    if "villages" not in layers.infos():
        return {}
    frame = layers.layer("villages").frame
    return dict(zip(frame["code"], frame["name"], strict=True))


@router.get(
    "/coverage/villages",
    response_model=VillageCoverages,
    summary="Vùng phủ theo thôn / Coverage by village",
    description=(
        "Tỷ lệ diện tích và dân số có sóng của mỗi thôn, theo công nghệ và nhà mạng, từ lớp "
        "`coverage_villages` của `gis-planner coverage`. Khách xem số liệu tổng hợp mọi nhà mạng "
        "(operator = any); khoá nhà mạng xem thêm số liệu của chính mình; quản trị xem tất cả. / "
        "Each village's covered area and population share, by technology and operator, from "
        "the `coverage_villages` layer of `gis-planner coverage`. Viewers get the figures "
        "aggregated over operators (operator = any); an operator key its own too; admins all."
    ),
)
def village_coverage(
    layers: Layers,
    who: Caller,
    response: Response,
    operator: Annotated[
        str | None,
        Query(description="Nhà mạng hoặc 'any' (tổng hợp) / Operator, or 'any' (aggregated)"),
    ] = None,
    technology: Technology = None,
    commune_code: CommuneCode = None,
    covered: Annotated[
        bool | None, Query(description="Chỉ thôn đạt / chưa đạt mục tiêu / Only (not) covered")
    ] = None,
) -> VillageCoverages:
    layer, view = _layer(layers, "coverage_villages", "gis-planner coverage", who)
    if operator is not None:
        if operator not in COVERAGE_OPERATORS:
            raise BadQuery(f"operator {operator!r}: one of {', '.join(COVERAGE_OPERATORS)}")
        mine = view.only_operator is None or operator in (view.only_operator, view.also_operator)
        if not mine:
            raise HTTPException(
                403,
                f"vùng phủ của {operator!r} cần khoá của nhà mạng đó / {operator!r}'s own "
                "coverage needs that operator's key or an admin key",
            )
    filters: dict[str, list[Any]] = _filters(
        operator=operator, technology=technology, commune_code=commune_code
    )
    if covered is not None:
        filters["covered"] = [covered]
    rows = layer.select(np.arange(len(layer.frame)), view, filters)
    names = _village_names(layers)
    records = [
        VillageCoverage(**record, name=names.get(record["village_code"]))
        for record in layer.records(rows, view)
    ]
    response.headers["Cache-Control"] = cache_control(who)
    return VillageCoverages(
        villages=len(records), covered=sum(r.covered for r in records), rows=records
    )


@router.get(
    "/coverage/gaps",
    response_model=GapVillages,
    summary="Danh sách thôn vùng lõm sóng / Villages below the coverage target",
    description=(
        "Các thôn mà tỷ lệ có sóng (bất kỳ nhà mạng nào) chưa đạt mục tiêu, đông dân trước, từ "
        "lớp `coverage_gaps` của `gis-planner coverage`; `f=geojson` trả về GeoJSON kèm ranh "
        "giới thôn. Nhà mạng có mức thu tốt nhất chỉ quản trị xem được. / The villages whose "
        "covered share (by any operator) misses the target, most populous first, from the "
        "`coverage_gaps` layer of `gis-planner coverage`; `f=geojson` answers GeoJSON with the "
        "village outlines. The operator of the best level is shown to admins only."
    ),
    responses={200: {"content": {"application/geo+json": {}}}},
)
def coverage_gaps(
    layers: Layers,
    who: Caller,
    response: Response,
    technology: Technology = None,
    commune_code: CommuneCode = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="Số thôn tối đa")] = None,
    f: Annotated[
        Literal["json", "geojson"], Query(description="Định dạng / Format (json, geojson)")
    ] = "json",
) -> Response | GapVillages:
    layer, view = _layer(layers, "coverage_gaps", "gis-planner coverage", who)
    filters = _filters(technology=technology, commune_code=commune_code)
    rows = layer.select(np.arange(len(layer.frame)), view, filters)
    population = layer.column("population").to_numpy()[rows]
    rows = rows[np.argsort(-population, kind="stable")][:limit]
    records = layer.records(rows, view)
    response.headers["Cache-Control"] = cache_control(who)
    if f == "geojson":
        assert isinstance(layer.frame, gpd.GeoDataFrame)
        frame = gpd.GeoDataFrame(
            records, geometry=layer.frame.geometry.iloc[rows].to_numpy(), crs=layer.frame.crs
        )
        body = frame.to_json(drop_id=True, ensure_ascii=False)
        headers = {"Cache-Control": cache_control(who)}
        return Response(body.encode(), media_type="application/geo+json", headers=headers)
    gaps = [GapVillage(**r) for r in records]
    return GapVillages(
        villages=len(gaps), population=float(sum(g.population for g in gaps)), rows=gaps
    )


@router.get(
    "/fibre/backhaul/{site_id}",
    response_model=SiteBackhaul,
    summary="Truyền dẫn cáp quang của một trạm / Fibre backhaul of a site",
    description=(
        "Đường cáp quang từ trạm đến POP/OLT gần nhất của nhà mạng, chỉ trên cáp của chính nhà "
        "mạng: khoảng cách đến mạng cáp, chiều dài và tuyến (GeoJSON), từ các lớp `backhaul` và "
        "`backhaul_paths` của `gis-planner fibre`. Khoá nhà mạng xem trạm của mình; quản trị xem "
        "mọi trạm (và lớp `backhaul_shared` trên cáp của mọi doanh nghiệp). / The site's fibre "
        "path to its operator's nearest POP/OLT over that operator's own fibre only: the gap to "
        "the network, the length and the path (GeoJSON), from the `backhaul` and "
        "`backhaul_paths` layers of `gis-planner fibre`. An operator key sees its own sites; an "
        "admin key every site (and the `backhaul_shared` layer, over any operator's fibre)."
    ),
)
def site_backhaul(
    layers: Layers,
    who: Caller,
    response: Response,
    site_id: Annotated[str, Path(max_length=64, description="Mã trạm / Site id")],
    kind: Annotated[
        Literal["site", "proposed"], Query(description="Trạm hiện có hay đề xuất / Kind")
    ] = "site",
    operator: Annotated[
        str | None,
        Query(
            max_length=32,
            description=(
                "Nhà mạng của trạm (quản trị, khi nhiều nhà mạng dùng cùng mã) / The site's "
                "operator (admin, when several operators use the same id); an operator key "
                "always gets its own"
            ),
        ),
    ] = None,
) -> SiteBackhaul:
    layer, view = _layer(layers, "backhaul", "gis-planner fibre", who)
    # Site ids are each operator's own: an operator key finds its own site only, so another
    # operator's site is not found, as in the features endpoints.
    owner = who.operator if who.role == "operator" else operator
    if owner is None:
        owners = layer.frame.loc[layer.frame["site_id"] == site_id, "operator"].unique()
        if len(owners) > 1:
            raise HTTPException(
                400,
                f"mã trạm {site_id!r} của nhiều nhà mạng, hãy chọn operator= / several "
                f"operators use site id {site_id!r}: pass operator= ({', '.join(sorted(owners))})",
            )
        owner = str(owners[0]) if len(owners) else ""
    fid = f"{site_id}:{owner}:{kind}"
    rows = layer.select(np.flatnonzero(layer.fids == fid), view)
    if len(rows) == 0:
        raise HTTPException(
            404, f"không có truyền dẫn của trạm {site_id!r} ({kind}) / no backhaul of {site_id!r}"
        )
    record = layer.records(rows[:1], view)[0]
    point = layer.frame.geometry.iloc[rows[0]]
    path = None
    if "backhaul_paths" in layers.infos():
        paths, paths_view = visible_layer(layers, "backhaul_paths", who)
        found = paths.select(np.flatnonzero(paths.fids == fid), paths_view)
        if len(found):
            path = dict(mapping(paths.frame.geometry.iloc[found[0]]))
    response.headers["Cache-Control"] = cache_control(who)
    return SiteBackhaul(**record, lon=point.x, lat=point.y, path=path)
