"""Settings of the library, the CLI and the API, from ``GIS_PLANNER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Where things are. Every field can be set as ``GIS_PLANNER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GIS_PLANNER_", extra="ignore")

    #: The layer store (a .gpkg path).
    store: Path = REPOSITORY / "output" / "hanam.gpkg"
    #: The bundled sample's layer files.
    sample_dir: Path = REPOSITORY / "layers" / "hanam"
    #: Where maps, reports and exports go.
    output_dir: Path = REPOSITORY / "output"
    #: Language of labels in products: "vi" (default) or "en".
    lang: str = "vi"


def get_settings() -> Settings:
    return Settings()
