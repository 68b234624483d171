"""Raster tiles (PNG) of the COGs in the store's assets, with colour maps and legends."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rasterio
from fastapi import APIRouter, HTTPException, Request, Response
from rasterio.warp import transform_bounds
from rio_tiler.errors import TileOutsideBounds

from api.access import Principal, may_see_raster, raster_operator
from api.deps import Caller, Language, Store
from api.models import Legend, LegendEntry, RasterInfo, TileJSON
from api.routers.common import cache_control, public_url
from gis_planner.colormaps import COLOUR_MAPS, ColourMap, colour_map_for
from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.rastertiles import Pyramid, read_tile
from gis_planner.store import LayerStore
from gis_planner.vectortiles import MAX_ZOOM

router = APIRouter(tags=["rasters"])

PNG = "image/png"
RASTER_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class Raster:
    """A COG of the store's assets: its id is its path below the assets directory, dotted."""

    id: str
    path: Path
    bounds: tuple[float, float, float, float]
    colour_map: ColourMap | None
    operator: str | None
    pyramid: Pyramid


@lru_cache(maxsize=256)
def _describe(path: Path, mtime_ns: int, raster_id: str) -> Raster:
    with rasterio.open(path) as src:
        bounds = transform_bounds(src.crs, WGS84, *src.bounds)
        quantity = src.tags().get("quantity", "") or (src.descriptions[0] or "")
        pyramid = Pyramid.of(src)
    cmap = colour_map_for(quantity) or colour_map_for(raster_id)
    return Raster(raster_id, path, bounds, cmap, raster_operator(raster_id), pyramid)


def rasters(store: LayerStore) -> dict[str, Raster]:
    """Every raster under the store's assets directory, by id."""
    root = store.assets_dir
    if not root.is_dir():
        return {}
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in RASTER_SUFFIXES or not path.is_file():
            continue
        raster_id = ".".join(path.relative_to(root).with_suffix("").parts)
        found[raster_id] = _describe(path, path.stat().st_mtime_ns, raster_id)
    return found


def visible_rasters(store: LayerStore, who: Principal) -> dict[str, Raster]:
    return {k: r for k, r in rasters(store).items() if may_see_raster(k, who)}


def _raster(store: LayerStore, raster_id: str, who: Principal) -> Raster:
    found = rasters(store).get(raster_id)
    if found is None:
        raise HTTPException(404, f"không có raster / no raster {raster_id!r}")
    if not may_see_raster(raster_id, who):
        raise HTTPException(
            403, f"raster {raster_id!r} thuộc nhà mạng khác / is another operator's"
        )
    return found


def _colour_map(raster: Raster, name: str | None) -> ColourMap:
    if name is not None:
        if name not in COLOUR_MAPS:
            raise GisPlannerError(f"colormap {name!r}: one of {', '.join(COLOUR_MAPS)}")
        return COLOUR_MAPS[name]
    if raster.colour_map is None:
        raise GisPlannerError(
            f"raster {raster.id!r} has no known quantity: pass colormap= ({', '.join(COLOUR_MAPS)})"
        )
    return raster.colour_map


def _title(raster: Raster, lang: Lang) -> str:
    return f"{raster.colour_map.title(lang)} – {raster.id}" if raster.colour_map else raster.id


def raster_info(request: Request, raster: Raster, lang: Lang) -> RasterInfo:
    base = public_url(request, "")
    cmap = raster.colour_map
    return RasterInfo(
        id=raster.id,
        title=_title(raster, lang),
        quantity=cmap.quantity if cmap else None,
        unit=cmap.unit if cmap else None,
        operator=raster.operator,
        colormap=cmap.name if cmap else None,
        bounds=list(raster.bounds),
        tilejson=f"{base}/rasters/{raster.id}/tilejson.json",
        legend=f"{base}/legends/{cmap.name}" if cmap else None,
    )


@router.get(
    "/rasters",
    response_model=list[RasterInfo],
    summary="Các raster vùng phủ / Coverage rasters",
    description="Các COG người gọi được xem / The COGs the caller may see.",
)
def list_rasters(request: Request, store: Store, who: Caller, lang: Language) -> list[RasterInfo]:
    return [raster_info(request, r, lang) for r in visible_rasters(store, who).values()]


@router.get(
    "/rasters/{raster_id}/tiles/{z}/{x}/{y}.png",
    summary="Tile ảnh PNG / PNG tile",
    description=(
        "Tile 256 px tô màu theo bảng màu RSRP/SINR, nodata trong suốt; zoom dưới `minzoom` "
        "của tilejson bị từ chối (400). / 256 px tile coloured with the RSRP/SINR colour map, "
        "nodata transparent; zooms below the tilejson's `minzoom` are refused (400)."
    ),
    responses={200: {"content": {PNG: {}}}},
)
def raster_tile(
    raster_id: str,
    z: int,
    x: int,
    y: int,
    store: Store,
    who: Caller,
    colormap: str | None = None,
) -> Response:
    raster = _raster(store, raster_id, who)
    cmap = _colour_map(raster, colormap)
    try:
        image = read_tile(raster.path, raster.pyramid, z, x, y, indexes=1, name=raster_id)
    except TileOutsideBounds:
        raise HTTPException(
            404, f"tile {z}/{x}/{y} ngoài raster / is outside {raster_id!r}"
        ) from None
    png = image.render(img_format="PNG", colormap=cmap.intervals())
    headers = {"Cache-Control": cache_control(who, 300), "Vary": "X-API-Key"}
    return Response(png, media_type=PNG, headers=headers)


@router.get(
    "/rasters/{raster_id}/tilejson.json",
    response_model=TileJSON,
    summary="TileJSON của raster / Raster TileJSON",
)
def raster_tilejson(
    request: Request,
    raster_id: str,
    store: Store,
    who: Caller,
    lang: Language,
    colormap: str | None = None,
) -> TileJSON:
    raster = _raster(store, raster_id, who)
    cmap = _colour_map(raster, colormap)
    base = public_url(request, "")
    bounds = list(raster.bounds)
    return TileJSON(
        name=_title(raster, lang),
        tiles=[f"{base}/rasters/{raster.id}/tiles/{{z}}/{{x}}/{{y}}.png?colormap={cmap.name}"],
        minzoom=raster.pyramid.min_zoom,
        maxzoom=MAX_ZOOM,
        bounds=bounds,
        center=[(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 11],
    )


def legend_of(cmap: ColourMap, lang: Lang) -> Legend:
    def bound(value: float) -> float | None:
        return None if abs(value) >= 1e9 else value

    return Legend(
        colormap=cmap.name,
        title=cmap.title(lang),
        quantity=cmap.quantity,
        unit=cmap.unit,
        entries=[
            LegendEntry(
                low=bound(c.low),
                high=bound(c.high),
                colour="#" + "".join(f"{v:02x}" for v in c.rgba),
                label=c.label(lang),
            )
            for c in cmap.classes
        ],
    )


@router.get(
    "/legends/{colormap}",
    response_model=Legend,
    summary="Chú giải bảng màu / Colour map legend",
)
def legend(colormap: str, lang: Language) -> Legend:
    if colormap not in COLOUR_MAPS:
        raise HTTPException(404, f"colormap {colormap!r}: one of {', '.join(COLOUR_MAPS)}")
    return legend_of(COLOUR_MAPS[colormap], lang)
