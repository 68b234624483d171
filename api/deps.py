"""Request dependencies: the caller's role, the layer cache, the language.

They are coroutines: a synchronous dependency would cost a thread hop per request each.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from api.access import VIEWER, KeyRing, Principal
from api.layercache import LayerCache
from api.settings import ApiSettings
from gis_planner.i18n import Lang
from gis_planner.store import LayerStore

API_KEY_HEADER = "X-API-Key"


async def principal(
    request: Request,
    x_api_key: Annotated[
        str | None,
        Header(
            description="Khoá API của nhà mạng hoặc quản trị / Operator or admin API key.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        Query(
            description=(
                "Khoá API trong URL, cho ảnh tile (thẻ <img> không gửi header) / API key in "
                "the URL, for image tiles."
            ),
        ),
    ] = None,
) -> Principal:
    key = x_api_key or api_key
    if not key:
        return VIEWER
    keyring: KeyRing = request.app.state.keyring
    # The first use of a key runs scrypt: off the event loop.
    found = await run_in_threadpool(keyring.principal, key)
    if found is None:
        raise HTTPException(401, "khoá API không hợp lệ / invalid API key")
    return found


async def lang(
    request: Request,
    lang: Annotated[
        Literal["vi", "en"] | None,
        Query(description="Ngôn ngữ nhãn / Language of labels (vi, en)."),
    ] = None,
) -> Lang:
    settings: ApiSettings = request.app.state.settings
    chosen = lang or settings.lang
    return "en" if chosen == "en" else "vi"


async def cache(request: Request) -> LayerCache:
    layers: LayerCache = request.app.state.layers
    return layers


async def store(request: Request) -> LayerStore:
    found: LayerStore = request.app.state.store
    return found


async def settings(request: Request) -> ApiSettings:
    found: ApiSettings = request.app.state.settings
    return found


Caller = Annotated[Principal, Depends(principal)]
Language = Annotated[Lang, Depends(lang)]
Layers = Annotated[LayerCache, Depends(cache)]
Store = Annotated[LayerStore, Depends(store)]
Settings = Annotated[ApiSettings, Depends(settings)]
