"""The FastAPI application: one router per concern, assembled here."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.access import FailureLimiter, KeyRing
from api.deps import principal
from api.headers import SecurityHeaders, content_security_policy, inline_script_hashes, tile_origin
from api.layercache import LayerCache
from api.routers import (
    analysis,
    editing,
    features,
    imports,
    industry,
    link,
    passive,
    products,
    rasters,
    switchoff,
    tiles,
    viewer,
    whatif,
)
from api.routers.common import COMMON_ERRORS, errors
from api.settings import ApiSettings
from api.tilecache import TileCache
from api.uploads import UploadFolder
from gis_planner import __version__
from gis_planner.errors import GisPlannerError, StoreUnavailable, UnknownLayer
from gis_planner.rastertiles import prepare_thread
from gis_planner.store import LayerStore, open_store

DESCRIPTION = """\
Lớp dữ liệu hạ tầng viễn thông tỉnh Hà Nam theo chuẩn mở: OGC API – Features, vector tile (MVT),
raster tile vùng phủ, các phép phân tích và trình xem bản đồ chạy không cần Internet.

Telecom infrastructure layers of Hà Nam through open standards: OGC API – Features, vector tiles
(MVT), coverage raster tiles, analyses, and a map viewer that needs no internet.

Vai trò / roles: khách (không cần khoá) · nhà mạng (khoá API, header `X-API-Key`) · quản trị.
"""


_SWAGGER = "/static/vendor/swagger-ui-dist"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def raster_threads(workers: int) -> ThreadPoolExecutor:
    """The threads that read raster tiles, each set up and started now, so that no tile waits
    for a thread's set-up."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="raster", initializer=prepare_thread)
    # Each task holds its thread until all have started: the pool starts a thread for each.
    started = threading.Barrier(workers)
    for _ in range(workers):
        pool.submit(started.wait, 10.0)
    return pool


def create_app(store: LayerStore | None = None, settings: ApiSettings | None = None) -> FastAPI:
    """The application over ``store`` (default: the one the settings name)."""
    settings = settings or ApiSettings()
    store = store or open_store(settings.store)
    app = FastAPI(
        title="gis-planner API",
        version=__version__,
        description=DESCRIPTION,
        # /docs is served below from vendored files: a CDN is out of reach on an intranet.
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "OGC API – Features", "description": "Đối tượng GeoJSON / GeoJSON features"},
            {"name": "tiles", "description": "Vector tile MVT / Mapbox Vector Tiles"},
            {"name": "rasters", "description": "Raster tile vùng phủ / Coverage raster tiles"},
            {"name": "analysis", "description": "Phân tích / Analyses"},
            {"name": "imports", "description": "Nhập dữ liệu / Imports (operator or admin key)"},
            {"name": "audit", "description": "Lịch sử thay đổi / Audit history (admin key)"},
            {"name": "viewer", "description": "Trình xem bản đồ / Map viewer"},
        ],
    )
    app.state.settings = settings
    app.state.store = store
    app.state.layers = LayerCache(store, settings.cache_check_s)
    app.state.tiles = TileCache(settings.tile_cache_mib * 1024 * 1024)
    app.state.raster_tiles = TileCache(settings.raster_tile_cache_mib * 1024 * 1024)
    app.state.raster_pool = raster_threads(settings.raster_workers)
    app.state.keyring = KeyRing(settings.api_keys, settings.key_derive_workers)
    app.state.key_failures = FailureLimiter(
        settings.key_failures_max, settings.key_failures_window_s
    )
    basemap = [tile_origin(settings.basemap_url)] if settings.basemap_url else []
    # Inside the security headers, which cached tiles get like every answer.
    app.add_middleware(tiles.CachedTileHits)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(image_origins=basemap))
    # What a killed server left of its uploads goes now.
    app.state.uploads = UploadFolder(settings.upload_dir or store.assets_dir / "uploads")
    app.state.uploads.sweep()
    app.state.import_turns = asyncio.Semaphore(settings.max_imports)

    @app.exception_handler(UnknownLayer)
    async def unknown_layer(request: Request, error: UnknownLayer) -> JSONResponse:
        # The error names the store's path, which is nobody's business over HTTP.
        return _error(404, f"không có lớp / unknown layer {error.name!r}")

    @app.exception_handler(GisPlannerError)
    async def bad_request(request: Request, error: GisPlannerError) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(StoreUnavailable)
    async def unavailable(request: Request, error: StoreUnavailable) -> JSONResponse:
        # Not the client's fault, and worth trying again; the store's address stays private.
        answer = _error(503, "kho dữ liệu tạm thời không truy cập được / the store is unavailable")
        answer.headers["Retry-After"] = "1"
        return answer

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return _error(422, f"tham số không hợp lệ / invalid parameter: {problems}")

    # Layers, rasters and analyses may be unknown (404) or another role's (403).
    guarded = errors(*COMMON_ERRORS, 403, 404)
    # A presented key is checked on every operation, also where the answer is the same for
    # all: a wrong key is refused (and limited) wherever it is sent.
    keyed = [Depends(principal)]
    for router in (
        features,
        tiles,
        rasters,
        analysis,
        whatif,
        switchoff,
        industry,
        passive,
        link,
        products,
        viewer,
    ):
        app.include_router(router.router, responses=guarded, dependencies=keyed)
    app.include_router(imports.router, responses=errors(*COMMON_ERRORS), dependencies=keyed)
    app.include_router(editing.router, responses=errors(*COMMON_ERRORS), dependencies=keyed)

    docs_page = bytes(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="gis-planner API",
            swagger_js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{_SWAGGER}/swagger-ui.css",
            swagger_favicon_url="data:,",
            # No badge from the public validator service.
            swagger_ui_parameters={"validatorUrl": None},
        ).body
    ).decode()
    # The page starts Swagger UI with an inline script: allowed by its hash, no other.
    docs_csp = content_security_policy(script_sources=inline_script_hashes(docs_page))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page, headers={"Content-Security-Policy": docs_csp})

    static = resources.files("gis_planner").joinpath("static/vendor")
    app.mount("/static/vendor", StaticFiles(directory=str(static)), name="vendor")
    viewer_files = resources.files("api").joinpath("static")
    app.mount("/static/viewer", StaticFiles(directory=str(viewer_files)), name="viewer")
    _optional_key_in_openapi(app)
    return app


def _optional_key_in_openapi(app: FastAPI) -> None:
    """The document says the API key is optional: without one the caller is a viewer.

    FastAPI lists a security scheme as required; an empty requirement beside it (OpenAPI's way
    of saying "or none") tells clients and fuzzers that anonymous calls are valid too.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    if operation.get("security") and {} not in operation["security"]:
                        operation["security"].append({})
        return app.openapi_schema if app.openapi_schema is not None else generate()

    app.openapi = openapi  # type: ignore[method-assign]
