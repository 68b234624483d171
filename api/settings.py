"""Settings of the API server, from ``GIS_PLANNER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from gis_planner.apikeys import KEY_ID_PATTERN
from gis_planner.operators import OPERATOR_KEYS
from gis_planner.settings import Settings

Role = Literal["viewer", "operator", "admin"]


class ApiKey(BaseModel):
    """One API key: who holds it, with which role, the key's id and the scrypt hash of the key
    itself (both printed by ``gis-planner hash-key``)."""

    name: str = Field(description="Holder (e.g. 'Viettel Hà Nam').")
    role: Literal["operator", "admin"]
    operator: str | None = Field(None, description="Operator key, required for role operator.")
    key_id: str = Field(
        pattern=f"^{KEY_ID_PATTERN}$", description="The <id> of a key gp_<id>_<secret>."
    )
    hash: str = Field(description="Output of `gis-planner hash-key`; the key is never stored.")

    @model_validator(mode="before")
    @classmethod
    def _has_key_id(cls, data: object) -> object:
        # Keys from before key ids would each cost a derivation per wrong key: they are
        # refused at start rather than tried one after the other.
        if isinstance(data, dict) and "key_id" not in data:
            raise ValueError(
                f"API key {data.get('name')!r} has no key_id: keys made before key ids must be "
                "issued again with `gis-planner hash-key` (gp_<id>_<secret>)"
            )
        return data

    @field_validator("operator")
    @classmethod
    def _known_operator(cls, value: str | None) -> str | None:
        if value is not None and value not in OPERATOR_KEYS:
            raise ValueError(f"unknown operator {value!r}; one of {', '.join(OPERATOR_KEYS)}")
        return value

    def model_post_init(self, context: object) -> None:
        if self.role == "operator" and self.operator is None:
            raise ValueError(f"API key {self.name!r}: role operator needs an operator")


class ApiSettings(Settings):
    """The library's settings plus the server's. ``GIS_PLANNER_API_KEYS`` is a JSON list."""

    model_config = SettingsConfigDict(env_prefix="GIS_PLANNER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    #: Hashed API keys; anonymous requests get the viewer role.
    api_keys: list[ApiKey] = Field(default_factory=list)
    #: A tile URL template (``{z}/{x}/{y}``) for a basemap; none by default, so the viewer
    #: needs no internet and draws the boundaries as its base.
    basemap_url: str | None = None
    basemap_attribution: str = ""
    #: Seconds a layer cached in memory is trusted before the store is asked whether it changed.
    cache_check_s: float = 2.0
    #: Memory for encoded vector tiles (MiB); 0 computes every tile on every request (what a
    #: benchmark of computed tiles measures).
    tile_cache_mib: int = Field(default=64, ge=0)
    #: Memory for rendered raster tiles (MiB), kept until the store's revision moves.
    raster_tile_cache_mib: int = Field(default=32, ge=0)
    #: Threads that read and draw raster tiles (reads beyond the cores only wait on each other).
    raster_workers: int = Field(default=2, ge=1)
    #: Largest file accepted by ``POST /imports/{layer}`` (MiB); larger uploads get HTTP 413.
    max_upload_mib: float = 200.0
    #: What one import's child process may take: CPU seconds, memory (MiB, beyond what it
    #: holds when it starts) and seconds from its start; past any of them it is stopped and
    #: the upload refused. A 100,000-row station list takes about 5 s and 1 GiB.
    import_cpu_s: int = Field(default=300, ge=1)
    import_memory_mib: int = Field(default=4096, ge=64)
    import_timeout_s: float = Field(default=600.0, gt=0)
    #: Imports run at once; more wait for their turn.
    max_imports: int = Field(default=2, ge=1)
    #: Largest page of features (OGC ``limit``); larger requests are served this many.
    max_items: int = 10_000
    #: Folder uploads are streamed to while they are imported (default: ``uploads`` in the
    #: store's assets). The server owns it: each process works in its own ``pid-<id>``
    #: sub-folder, and a starting server removes those of processes that are gone.
    upload_dir: Path | None = None
    #: Base of every absolute link the API writes (``https://gis.example.vn/planner``), as
    #: clients reach it through a proxy; unset, links are relative to the server's root and
    #: never built from the request's Host header.
    public_url: str | None = None
    #: Wrong API keys a client (IP address) may present per window before it gets HTTP 429.
    key_failures_max: int = Field(default=10, ge=1)
    key_failures_window_s: float = Field(default=60.0, gt=0)
    #: Seconds a limited client's key request is held before its HTTP 429: a flood of wrong
    #: keys then waits on idle connections instead of keeping the server busy.
    key_failures_delay_s: float = Field(default=1.0, ge=0)
    #: Threads deriving scrypt hashes of presented keys, apart from the request thread pool.
    key_derive_workers: int = Field(default=2, ge=1)
    #: Seconds a client has to send a request's headers (from connecting, or from the first
    #: byte of a later request on the connection) before the connection is closed.
    header_timeout_s: float = Field(default=10.0, gt=0)
    #: Seconds an idle keep-alive connection is kept open.
    keep_alive_timeout_s: int = Field(default=5, ge=1)
    #: Open connections beyond which new requests get HTTP 503.
    max_connections: int = Field(default=1000, ge=1)
    #: Seconds running requests get to finish when the server stops.
    graceful_shutdown_s: int = Field(default=10, ge=0)

    @field_validator("api_keys")
    @classmethod
    def _unique_key_ids(cls, keys: list[ApiKey]) -> list[ApiKey]:
        ids = [k.key_id for k in keys]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"API key ids must be unique: {', '.join(repeated)} repeated")
        return keys
