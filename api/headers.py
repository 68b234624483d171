"""Security headers on every answer: what a page of this server may load, no framing, no
MIME sniffing, no referrer sent elsewhere."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def inline_script_hashes(html: str) -> list[str]:
    """CSP sources (``'sha256-…'``) allowing exactly the inline scripts of ``html``."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    ]


def tile_origin(url_template: str) -> str:
    """The CSP source of a tile URL template's server (``{s}`` subdomains as a wildcard)."""
    parts = urlsplit(url_template)
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def content_security_policy(
    *, image_origins: Iterable[str] = (), script_sources: Iterable[str] = ()
) -> str:
    """Scripts, data and styles from this server only (styles also inline: the viewer's
    legend and Leaflet set them); images also from ``data:``/``blob:`` (raster tiles are
    fetched with the key header and shown from blob URLs) and a basemap's server."""
    images = " ".join(("'self'", "data:", "blob:", *image_origins))
    scripts = " ".join(("'self'", *script_sources))
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware adding the security headers to answers that do not set their own.

    Plain ASGI rather than ``BaseHTTPMiddleware``: it adds no task per request to the tiles.
    """

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
