"""Request dependencies: the caller's role, the layer cache, the language.

They are coroutines: a synchronous dependency would cost a thread hop per request each.
"""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader

from api.access import VIEWER, FailureLimiter, KeyRing, Principal
from api.layercache import LayerCache
from api.settings import ApiSettings
from gis_planner.i18n import Lang
from gis_planner.store import LayerStore

API_KEY_HEADER = "X-API-Key"
#: Declared as the API's security scheme (not a parameter of each operation), so that clients
#: and the docs' "Authorize" button send it with every request.
_API_KEY = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    description=(
        "Khoá API của nhà mạng hoặc quản trị; không có khoá: vai trò khách / Operator or admin "
        "API key; without one, the caller is a viewer."
    ),
    auto_error=False,
)


async def principal(
    request: Request, x_api_key: Annotated[str | None, Depends(_API_KEY)] = None
) -> Principal:
    # A key in the URL lands in access logs, proxies' logs and browser histories.
    if "api_key" in request.query_params:
        raise HTTPException(
            400,
            f"khoá API chỉ gửi trong header {API_KEY_HEADER}, không trong URL / send the API key "
            f"in the {API_KEY_HEADER} header, never in the URL (api_key=)",
        )
    found = known_principal(request)
    if found is not None:
        return found
    assert x_api_key  # without a key, the caller is known: a viewer
    keyring: KeyRing = request.app.state.keyring
    limiter: FailureLimiter = request.app.state.key_failures
    client = request.client.host if request.client else ""
    wait_s = limiter.retry_after_s(client)
    if wait_s is not None:
        # Held on the event loop (no thread, no CPU): the client's next wrong key comes later.
        settings: ApiSettings = request.app.state.settings
        await asyncio.sleep(min(wait_s, settings.key_failures_delay_s))
        raise HTTPException(
            429,
            f"quá nhiều khoá API sai, thử lại sau {math.ceil(wait_s)} giây / too many wrong API "
            f"keys, retry in {math.ceil(wait_s)} s",
            headers={"Retry-After": str(math.ceil(wait_s))},
        )
    found = await keyring.verify(x_api_key)
    if found is None:
        limiter.failed(client)
        raise HTTPException(401, "khoá API không hợp lệ / invalid API key")
    return found


def known_principal(request: Request) -> Principal | None:
    """The caller when known at once: a viewer without a key, or the principal of a key verified
    before; None when ``principal`` must answer (a key in the URL, a key not verified yet)."""
    if "api_key" in request.query_params:
        return None
    key = request.headers.get(API_KEY_HEADER)
    if not key:
        return VIEWER
    keyring: KeyRing = request.app.state.keyring
    return keyring.cached(key)


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
