"""Mapbox Vector Tiles of every vector layer, with TileJSON."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.access import LayerView
from api.deps import Caller, Language, Layers
from api.layercache import BadQuery, CachedLayer, parse_filters
from api.models import TileJSON, VectorLayer
from api.routers.common import cache_control, filter_params, public_url, visible_layer
from api.tilecache import TileCache
from gis_planner.catalogue import CATALOGUE
from gis_planner.vectortiles import MAX_ZOOM, buffered, encode_tile, tile_bounds

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
        await run_in_threadpool(visible_layer, layers, layer, who)
    cached, view = visible_layer(layers, layer, who)
    if not cached.is_spatial:
        raise BadQuery(f"layer {layer!r} is a table without geometry: it has no tiles")
    params = filter_params(request)
    filters = parse_filters(params, cached, view.filterable)
    key = (layer, cached.version, view.scope, tuple(sorted(params)), z, x, y)
    etag = '"' + hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest() + '"'
    headers = {"Cache-Control": cache_control(who, 300), "ETag": etag, "Vary": "X-API-Key"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    tiles: TileCache = request.app.state.tiles
    data = tiles.get(key)
    if data is None:
        tile_bounds(z, x, y)  # a tile that does not exist is a 400
        points = cached.ready_point_tiles(view, filters) if cached.points_xy is not None else None
        if points is not None and points.is_quick(z, x, y):
            # A point tile from the layer's index and counts made already: a few binary
            # searches and a numpy encoding, quicker than the hop to a worker thread.
            data = _draw(cached, view, filters, z, x, y)
        else:
            data = await run_in_threadpool(_draw, cached, view, filters, z, x, y)
        tiles.put(key, data)
    return Response(data, media_type=MVT, headers=headers)


def _draw(
    cached: CachedLayer, view: LayerView, filters: dict[str, list[Any]], z: int, x: int, y: int
) -> bytes:
    """Tile z/x/y of the view's rows that the filters keep."""
    if cached.points_xy is not None:
        points = cached.point_tiles(view, filters)
        return points.draw(cached.name, z, x, y, lambda: cached.point_properties(view))
    assert cached.mercator is not None
    bounds = tile_bounds(z, x, y)
    rows = cached.select(cached.query_mercator(buffered(bounds)), view, filters)
    properties = [
        {"fid": f, **r} for f, r in zip(cached.fids[rows], cached.records(rows, view), strict=True)
    ]
    return encode_tile(cached.name, cached.mercator[rows], properties, bounds)


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
    parse_filters(params, cached, view.filterable)  # a TileJSON of a bad filter is a 400 too
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
