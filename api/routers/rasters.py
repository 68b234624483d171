"""Raster tiles (PNG) of the registered raster products, any band, with colour maps and legends.

Rasters are found by their product records (``LayerStore.products``), never by file name: a
record gives the file, each band's quantity (which picks the colour map) and the operators the
raster is computed for (which decide who may see it).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import rasterio
from fastapi import APIRouter, HTTPException, Request, Response
from rasterio.warp import transform_bounds
from rio_tiler.errors import TileOutsideBounds

from api.access import Principal, may_see_raster
from api.deps import Caller, Language, Layers
from api.layercache import LayerCache
from api.models import Legend, LegendEntry, RasterBand, RasterInfo, TileJSON
from api.routers.common import cache_control, public_url
from api.tilecache import TileCache
from gis_planner.colormaps import COLOUR_MAPS, ColourMap, colour_map_of_quantity
from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.products import Band, ProductRecord, is_stale, owner
from gis_planner.rastertiles import Pyramid, read_tile, render_png
from gis_planner.store import LayerStore
from gis_planner.vectortiles import MAX_ZOOM

router = APIRouter(tags=["rasters"])

PNG = "image/png"
#: Bands only admins may read: which operator is best where is not public (as in coverage_gaps).
ADMIN_QUANTITIES = frozenset({"operator_code"})


@dataclass(frozen=True)
class Raster:
    """A registered raster product, where its file lies and whether its inputs moved since."""

    record: ProductRecord
    path: Path
    mtime_ns: int
    stale: bool

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def operator(self) -> str | None:
        """The operator the raster belongs to; None when aggregated over operators."""
        return owner(self.record)

    # Opened when first asked for: a tile needs its own raster's pyramid, not every raster's.
    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return _describe(self.path, self.mtime_ns)[0]

    @property
    def pyramid(self) -> Pyramid:
        return _describe(self.path, self.mtime_ns)[1]


@lru_cache(maxsize=256)
def _describe(path: Path, mtime_ns: int) -> tuple[tuple[float, float, float, float], Pyramid]:
    with rasterio.open(path) as src:
        bounds = transform_bounds(src.crs, WGS84, *src.bounds)
        return (bounds[0], bounds[1], bounds[2], bounds[3]), Pyramid.of(src)


def served_rasters(layers: LayerCache) -> dict[str, Raster]:
    """``rasters`` of the served store, read once per store revision (every commit, a new
    record or a changed input, increments it): a tile does not read the registry."""
    return layers.memo("rasters", lambda: rasters(layers.store))


def rasters(store: LayerStore) -> dict[str, Raster]:
    """Every registered raster whose file is in the store's assets directory, by product id."""
    root = store.assets_dir.resolve()
    revisions = store.layer_revisions()
    found = {}
    for record in store.products():
        if record.kind != "raster" or not record.path:
            continue
        path = (root / record.path).resolve()
        # A record names a file below the assets only; a missing file is not served.
        if not path.is_relative_to(root) or not path.is_file():
            continue
        stale = is_stale(record, revisions)
        found[record.id] = Raster(record, path, path.stat().st_mtime_ns, stale)
    return found


def visible_rasters(layers: LayerCache, who: Principal) -> dict[str, Raster]:
    found = served_rasters(layers)
    return {k: r for k, r in found.items() if may_see_raster(r.operator, who)}


def visible_bands(raster: Raster, who: Principal) -> tuple[Band, ...]:
    return tuple(
        b for b in raster.record.bands if who.role == "admin" or b.quantity not in ADMIN_QUANTITIES
    )


def _raster(layers: LayerCache, raster_id: str, who: Principal) -> Raster:
    found = served_rasters(layers).get(raster_id)
    if found is None:
        raise HTTPException(404, f"không có raster / no raster {raster_id!r}")
    if not may_see_raster(found.operator, who):
        raise HTTPException(
            403, f"raster {raster_id!r} thuộc nhà mạng khác / is another operator's"
        )
    return found


def _band(raster: Raster, wanted: str | None, who: Principal) -> Band:
    """The band asked for (by name or index), the first one if none was."""
    band = raster.record.band(wanted) if wanted is not None else raster.record.bands[0]
    if band not in visible_bands(raster, who):
        raise HTTPException(
            403, f"băng {band.name!r} chỉ dành cho quản trị / band {band.name!r} is for admins"
        )
    return band


def _colour_map(raster: Raster, band: Band, name: str | None) -> ColourMap:
    if name is not None:
        if name not in COLOUR_MAPS:
            raise GisPlannerError(f"colormap {name!r}: one of {', '.join(COLOUR_MAPS)}")
        return COLOUR_MAPS[name]
    cmap = colour_map_of_quantity(band.quantity)
    if cmap is None:
        raise GisPlannerError(
            f"băng {band.name!r} của raster {raster.id!r} không có bảng màu / band {band.name!r} "
            f"of raster {raster.id!r} has no colour map of its own: pass colormap= "
            f"({', '.join(COLOUR_MAPS)})"
        )
    return cmap


def _title(raster: Raster, band: Band, lang: Lang) -> str:
    cmap = colour_map_of_quantity(band.quantity)
    return f"{cmap.title(lang)} – {raster.id}" if cmap else f"{band.name} – {raster.id}"


def tiles_url(base: str, raster: Raster, band: Band, cmap: ColourMap) -> str:
    return (
        f"{base}/rasters/{raster.id}/tiles/{{z}}/{{x}}/{{y}}.png"
        f"?band={band.name}&colormap={cmap.name}"
    )


def raster_info(request: Request, raster: Raster, who: Principal, lang: Lang) -> RasterInfo:
    base = public_url(request, "")
    record = raster.record
    bands = visible_bands(raster, who)
    first = bands[0]
    cmap = colour_map_of_quantity(first.quantity)
    described = []
    for band in bands:
        band_cmap = colour_map_of_quantity(band.quantity)
        described.append(
            RasterBand(
                index=band.index,
                name=band.name,
                quantity=band.quantity,
                unit=band.unit,
                description=band.description,
                colormap=band_cmap.name if band_cmap else None,
                legend=f"{base}/legends/{band_cmap.name}" if band_cmap else None,
            )
        )
    return RasterInfo(
        id=raster.id,
        title=_title(raster, first, lang),
        quantity=first.quantity,
        unit=first.unit,
        operator=raster.operator,
        operators=list(record.operators),
        technologies=list(record.technologies),
        job=record.job,
        scope=record.scope or None,
        area_codes=list(record.area.admin_codes),
        area_bbox=list(record.area.bbox) if record.area.bbox else None,
        created_at=record.created_at,
        stale=raster.stale,
        colormap=cmap.name if cmap else None,
        bands=described,
        bounds=list(raster.bounds),
        minzoom=raster.pyramid.min_zoom,
        tilejson=f"{base}/rasters/{raster.id}/tilejson.json",
        legend=f"{base}/legends/{cmap.name}" if cmap else None,
    )


@router.get(
    "/rasters",
    response_model=list[RasterInfo],
    summary="Các raster vùng phủ / Coverage rasters",
    description=(
        "Các raster đã đăng ký người gọi được xem, với các băng, phạm vi và cờ lỗi thời (đầu vào "
        "đã đổi). / The registered rasters the caller may see: bands, area, and whether they are "
        "stale (an input changed since)."
    ),
)
def list_rasters(request: Request, layers: Layers, who: Caller, lang: Language) -> list[RasterInfo]:
    return [raster_info(request, r, who, lang) for r in visible_rasters(layers, who).values()]


@router.get(
    "/rasters/{raster_id}/tiles/{z}/{x}/{y}.png",
    summary="Tile ảnh PNG / PNG tile",
    description=(
        "Tile 256 px của một băng (`band=`: tên như rsrp, sinr, best_server, second_rsrp, "
        "n_servers hoặc số thứ tự; mặc định băng 1), tô màu theo đại lượng của băng (`colormap=` "
        "để đổi), nodata trong suốt; zoom dưới `minzoom` của tilejson bị từ chối (400). / 256 px "
        "tile of one band (`band=`: a name such as rsrp, sinr, best_server, second_rsrp, "
        "n_servers, or an index; band 1 by default) coloured by the band's quantity "
        "(`colormap=` overrides), nodata transparent; zooms below the tilejson's `minzoom` are "
        "refused (400)."
    ),
    responses={200: {"content": {PNG: {}}}},
)
async def raster_tile(
    request: Request,
    raster_id: str,
    z: int,
    x: int,
    y: int,
    layers: Layers,
    who: Caller,
    band: str | None = None,
    colormap: str | None = None,
) -> Response:
    # On the raster threads, not the request pool: GDAL and PROJ set up a context on each
    # thread's first read (about 20 ms), which a few long-lived threads pay once.
    pool: ThreadPoolExecutor = request.app.state.raster_pool
    cache: TileCache = request.app.state.raster_tiles
    draw = partial(_tile, cache, layers, who, raster_id, z, x, y, band, colormap)
    return await asyncio.get_running_loop().run_in_executor(pool, draw)


def _tile(
    cache: TileCache,
    layers: LayerCache,
    who: Principal,
    raster_id: str,
    z: int,
    x: int,
    y: int,
    band: str | None,
    colormap: str | None,
) -> Response:
    revision = layers.revision()
    raster = _raster(layers, raster_id, who)
    chosen = _band(raster, band, who)
    cmap = _colour_map(raster, chosen, colormap)
    # Who may see it was decided above; the picture itself is the same for every caller.
    key = (revision, raster.id, chosen.index, cmap.name, z, x, y)
    png = cache.get(key)
    if png is None:
        try:
            image = read_tile(
                raster.path, raster.pyramid, z, x, y, indexes=chosen.index, name=raster_id
            )
        except TileOutsideBounds:
            raise HTTPException(
                404, f"tile {z}/{x}/{y} ngoài raster / is outside {raster_id!r}"
            ) from None
        png = render_png(image.array[0], cmap)
        cache.put(key, png)
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
    layers: Layers,
    who: Caller,
    lang: Language,
    band: str | None = None,
    colormap: str | None = None,
) -> TileJSON:
    raster = _raster(layers, raster_id, who)
    chosen = _band(raster, band, who)
    cmap = _colour_map(raster, chosen, colormap)
    base = public_url(request, "")
    bounds = list(raster.bounds)
    return TileJSON(
        name=_title(raster, chosen, lang),
        tiles=[tiles_url(base, raster, chosen, cmap)],
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
