"""Helpers the routers share: visible layers, query-parameter parsing, links, cache headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query, Request

from api.access import LayerView, Principal, layer_view
from api.cachedlayer import CachedLayer
from api.layercache import BadQuery, LayerCache
from api.models import ErrorMessage
from api.settings import ApiSettings
from gis_planner.catalogue import CATALOGUE
from gis_planner.operators import MOBILE_OPERATORS

#: What each error status means, for the OpenAPI document.
_ERROR_TEXT = {
    400: "Yêu cầu không hợp lệ / Bad request",
    401: "Khoá API không hợp lệ / Invalid API key",
    403: "Không được phép với khoá này / Not allowed for this key",
    404: "Không tìm thấy / Not found",
    409: "Xung đột, không ghi gì / Conflict, nothing written",
    411: "Thiếu Content-Length / Content-Length required",
    413: "Quá lớn / Too large",
    422: "Tham số không hợp lệ / Invalid parameter",
    429: "Quá nhiều khoá API sai / Too many wrong API keys (see Retry-After)",
    503: "Tạm thời không phục vụ được, thử lại sau / Unavailable for now, try again",
}
#: The errors every operation may answer: a key in the URL (400), a wrong key (401), too many
#: wrong keys (429), a malformed parameter (422), the store's database or the server busy or
#: down (503).
COMMON_ERRORS = (400, 401, 422, 429, 503)


def errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` declaring ``statuses`` with the error body every error has."""
    return {s: {"model": ErrorMessage, "description": _ERROR_TEXT[s]} for s in statuses}


#: Query parameters that are never property filters.
RESERVED = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "f", "lang", "datetime"})


def check_visible(layers: LayerCache, name: str, who: Principal) -> None:
    """404 if the store has no layer ``name``, 403 if the caller may not see it, without
    loading the layer."""
    layers.info(name)
    if layer_view(name, _catalogue_fields(name), who) is None:
        needed = "an operator or admin API key" if who.role == "viewer" else "an admin API key"
        raise HTTPException(403, f"lớp {name!r} cần khoá API / layer {name!r} needs {needed}")


def visible_layer(layers: LayerCache, name: str, who: Principal) -> tuple[CachedLayer, LayerView]:
    """The cached layer and the caller's view of it; 404 if the store has no such layer, 403 if
    the caller may not see it (checked before the layer is loaded)."""
    check_visible(layers, name, who)
    layer = layers.layer(name)
    view = layer_view(name, layer.fields, who)
    assert view is not None
    return layer, view


def _catalogue_fields(name: str) -> tuple[str, ...]:
    spec = CATALOGUE.get(name)
    return spec.field_names if spec is not None else ()


def visible_names(layers: LayerCache, who: Principal) -> list[str]:
    """The store's layers the caller may see, in store order (without loading them)."""
    names = []
    for name in layers.infos():
        if layer_view(name, _catalogue_fields(name), who) is not None:
            names.append(name)
    return names


def filter_params(request: Request) -> list[tuple[str, str]]:
    """Query parameters that are property filters."""
    return [(k, v) for k, v in request.query_params.multi_items() if k not in RESERVED]


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` (a 6-number 3D box drops its heights)."""
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise BadQuery(f"bbox {text!r}: expected 4 comma-separated numbers") from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4:
        raise BadQuery(f"bbox {text!r}: expected 4 numbers minlon,minlat,maxlon,maxlat")
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadQuery(f"bbox {text!r}: needs −180 ≤ minlon ≤ maxlon ≤ 180, −90 ≤ lat ≤ 90")
    return minx, miny, maxx, maxy


def public_url(request: Request, path: str | None = None, **params: int | str) -> str:
    """A link for clients to follow: to ``path`` (by default the request's own, with its query
    and ``params`` replacing its parameters) below ``GIS_PLANNER_PUBLIC_URL``, or relative to
    the server's root when that is unset; never built from the request's Host header, which
    the client chooses."""
    settings: ApiSettings = request.app.state.settings
    base = (settings.public_url or "").rstrip("/")
    if path is not None:
        return base + path
    url = request.url.include_query_params(**params) if params else request.url
    return base + url.path + (f"?{url.query}" if url.query else "")


def cache_control(who: Principal, max_age_s: int = 60) -> str:
    """Anonymous answers may be cached by anyone; keyed ones only by the caller's browser."""
    scope = "public" if who.role == "viewer" else "private"
    return f"{scope}, max-age={max_age_s}"


def planning_operator(who: Principal, operator: str | None, refusal: str) -> str:
    """The operator a planned site is for: an operator key plans for its own operator (403 for
    another), an admin key for the one it names (400 if none), viewers not at all (403, saying
    ``refusal``)."""
    if who.role == "viewer":
        raise HTTPException(403, f"cần khoá API / {refusal}")
    planner = operator or who.operator
    if planner is None:
        raise BadQuery("operator: which operator plans the site (an admin key must say)")
    if planner not in MOBILE_OPERATORS:
        raise BadQuery(f"operator {planner!r}: one of {', '.join(MOBILE_OPERATORS)}")
    if who.role == "operator" and planner != who.operator:
        raise HTTPException(403, f"an operator key plans sites of {who.operator!r} only")
    return planner


#: The point and operator of a planned site, as the planning endpoints take them.
PlannedLon = Annotated[float, Query(ge=-180, le=180, description="Kinh độ / Longitude")]
PlannedLat = Annotated[float, Query(ge=-85, le=85, description="Vĩ độ / Latitude")]
PlanningOperator = Annotated[
    str | None,
    Query(alias="operator", description="Nhà mạng quy hoạch (mặc định: của khoá) / Operator"),
]
