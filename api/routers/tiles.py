"""Mapbox Vector Tiles of every vector layer, with TileJSON."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from api.access import LayerView, Principal
from api.cachedlayer import CachedLayer
from api.dbtiles import database_tile
from api.deps import Caller, Language, Layers, known_principal
from api.layercache import BadQuery, LayerCache, parse_filters
from api.models import TileJSON, VectorLayer
from api.routers.common import (
    cache_control,
    check_visible,
    filter_params,
    public_url,
    visible_layer,
)
from api.tilecache import TileCache
from gis_planner.catalogue import CATALOGUE
from gis_planner.errors import GisPlannerError
from gis_planner.vectortiles import MAX_ZOOM, tile_bounds

router = APIRouter(prefix="/tiles", tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="Vector tile / Mapbox Vector Tile",
    description=(
        "Tile MVT (Web Mercator, XYZ) của một lớp; lọc thuộc tính như ở /items "
        "(`?operator=viettel`). Hình học được cắt theo tile và đơn giản hoá theo mức zoom. / "
        "MVT tile (Web Mercator, XYZ) of a layer, with the same property filters as /items; "
        "geometry clipped to the tile and simplified by zoom."
    ),
    responses={200: {"content": {MVT: {}}}, 304: {"description": "Not modified"}},
)
async def tile(
    request: Request, layer: str, z: int, x: int, y: int, layers: Layers, who: Caller
) -> Response:
    # A tile in the cache answers on the event loop, where a hop to a worker thread would cost
    # as much as the answer; reading a layer and drawing a tile go to worker threads.
    if not layers.is_current(layer):
        # A stale layer is read again whole on its next use: PostGIS gives the tile's rows
        # meanwhile (``api.dbtiles``).
        await run_in_threadpool(check_visible, layers, layer, who)
        tile_bounds(z, x, y)  # a tile that does not exist is a 400
        params = filter_params(request)
        data = await run_in_threadpool(database_tile, layers, layer, who, params, z, x, y)
        if data is not None:
            headers = {"Cache-Control": cache_control(who, 300), "Vary": "X-API-Key"}
            return Response(data, media_type=MVT, headers=headers)
        await run_in_threadpool(visible_layer, layers, layer, who)
    asked = _TileAsked.of(request, layers, layer, who, z, x, y)
    tiles: TileCache = request.app.state.tiles
    answer = asked.cached_answer(request, tiles)
    if answer is not None:
        return answer
    tile_bounds(z, x, y)  # a tile that does not exist is a 400
    cached, view, filters = asked.cached, asked.view, asked.filters
    points = cached.ready_point_tiles(view, filters) if cached.points_xy is not None else None
    if points is not None and points.is_quick(z, x, y):
        # A point tile from the layer's index and counts made already: a few binary searches
        # and a numpy encoding, quicker than the hop to a worker thread.
        data = cached.tile(view, filters, z, x, y)
    else:
        data = await run_in_threadpool(cached.tile, view, filters, z, x, y)
    tiles.put(asked.key, data)
    return Response(data, media_type=MVT, headers=asked.headers)


@dataclass(frozen=True)
class _TileAsked:
    """A tile request checked: the caller's view of the layer, the filters, the cache key and
    the headers of the answer."""

    cached: CachedLayer
    view: LayerView
    filters: dict[str, list[Any]]
    key: Hashable
    etag: str
    headers: dict[str, str]

    @classmethod
    def of(
        cls,
        request: Request,
        layers: LayerCache,
        layer: str,
        who: Principal,
        z: int,
        x: int,
        y: int,
    ) -> _TileAsked:
        """403/404 for a layer the caller may not see, 400 for a table or a bad filter."""
        cached, view = visible_layer(layers, layer, who)
        if not cached.is_spatial:
            raise BadQuery(f"layer {layer!r} is a table without geometry: it has no tiles")
        params = filter_params(request)
        filters = parse_filters(params, cached.name, view.filterable)
        key = (layer, cached.version, view.scope, tuple(sorted(params)), z, x, y)
        etag = '"' + hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest() + '"'
        headers = {"Cache-Control": cache_control(who, 300), "ETag": etag, "Vary": "X-API-Key"}
        return cls(cached, view, filters, key, etag, headers)

    def cached_answer(self, request: Request, tiles: TileCache) -> Response | None:
        """304 when the client holds the tile, the tile when the cache does; None otherwise."""
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=self.headers)
        data = tiles.get(self.key)
        return None if data is None else Response(data, media_type=MVT, headers=self.headers)


#: A tile's path as the route above matches it (shorter numbers: a longer one is no tile).
_TILE_PATH = re.compile(
    r"/tiles/(?P<layer>[^/]+)/(?P<z>[0-9]{1,9})/(?P<x>[0-9]{1,9})/(?P<y>[0-9]{1,9})\.mvt"
)


class CachedTileHits:
    """ASGI middleware answering the tiles of the tile cache (and 304s) before FastAPI's routing
    and dependencies, which cost more than such an answer.

    It answers only as the route would, through the same checks: a caller known at once (no
    key, or a key verified before; never a key in the URL), a layer loaded, current and
    visible to the caller, valid filters, the tile cached. Anything else (a key to check, a
    refusal, an error, a tile to draw) goes on to the route, which answers it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = _TILE_PATH.fullmatch(scope["path"])
            answer = None if path is None else _cached_hit(Request(scope), path)
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cached_hit(request: Request, path: re.Match[str]) -> Response | None:
    who = known_principal(request)
    layers: LayerCache = request.app.state.layers
    if who is None or not layers.is_current(path["layer"]):
        return None
    try:
        asked = _TileAsked.of(
            request, layers, path["layer"], who, int(path["z"]), int(path["x"]), int(path["y"])
        )
    except (HTTPException, GisPlannerError):
        return None
    tiles: TileCache = request.app.state.tiles
    return asked.cached_answer(request, tiles)


@router.get(
    "/{layer}/tilejson.json",
    response_model=TileJSON,
    summary="TileJSON của lớp / Layer TileJSON",
)
def tilejson(request: Request, layer: str, layers: Layers, who: Caller, lang: Language) -> TileJSON:
    cached, view = visible_layer(layers, layer, who)
    if not cached.is_spatial:
        raise BadQuery(f"layer {layer!r} is a table without geometry: it has no tiles")
    info = layers.info(layer)
    spec = CATALOGUE.get(layer)
    base = public_url(request, "")
    params = filter_params(request)
    parse_filters(params, cached.name, view.filterable)  # a TileJSON of a bad filter is a 400 too
    query = urlencode(params)
    url = f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt" + (f"?{query}" if query else "")
    bounds = list(info.bounds) if info.bounds else [-180.0, -85.0511, 180.0, 85.0511]
    labels = {fs.name: fs.label(lang) for fs in spec.fields} if spec else {}
    return TileJSON(
        name=spec.label(lang) if spec else layer,
        description=spec.description if spec else "",
        tiles=[url],
        minzoom=0,
        maxzoom=MAX_ZOOM,
        bounds=bounds,
        center=[(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 10],
        vector_layers=[
            VectorLayer(
                id=layer, fields={"fid": "id", **{f: labels.get(f, f) for f in view.fields}}
            )
        ],
    )
