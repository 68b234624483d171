"""Settings of the API server, from ``GIS_PLANNER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from gis_planner.operators import OPERATOR_KEYS
from gis_planner.settings import Settings

Role = Literal["viewer", "operator", "admin"]


class ApiKey(BaseModel):
    """One API key: who holds it, with which role, and the scrypt hash of the key itself."""

    name: str = Field(description="Holder (e.g. 'Viettel Hà Nam').")
    role: Literal["operator", "admin"]
    operator: str | None = Field(None, description="Operator key, required for role operator.")
    hash: str = Field(description="Output of `gis-planner hash-key`; the key is never stored.")

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
    #: Largest file accepted by ``POST /imports/{layer}`` (MiB); larger uploads get HTTP 413.
    max_upload_mib: float = 200.0
    #: Largest page of features (OGC ``limit``); larger requests are served this many.
    max_items: int = 10_000
    #: Folder uploads are streamed to while they are imported (default: ``uploads`` in the
    #: store's assets). The server owns it: each process works in its own ``pid-<id>``
    #: sub-folder, and a starting server removes those of processes that are gone.
    upload_dir: Path | None = None
