"""Settings of the library, the CLI and the API, from ``GIS_PLANNER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPOSITORY = Path(__file__).resolve().parents[1]
SampleName = Literal["ninhbinh", "hanam"]
#: The bundled samples' layer folders: the whole new Ninh Bình province (July 2025) and the
#: former Hà Nam province (quicker, and the test suite's).
SAMPLE_DIRS: dict[str, Path] = {
    "ninhbinh": REPOSITORY / "layers" / "ninhbinh",
    "hanam": REPOSITORY / "layers" / "hanam",
}


class Settings(BaseSettings):
    """Where things are. Every field can be set as ``GIS_PLANNER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GIS_PLANNER_", extra="ignore")

    #: The layer store (a .gpkg path; relative paths from the current directory, never from
    #: the installed package).
    store: Path = Path("output") / "ninhbinh.gpkg"
    #: The bundled sample ``init`` loads: "ninhbinh" (the whole new province) or "hanam" (the
    #: former Hà Nam province alone: quicker runs, and the tests' and benchmarks' default).
    sample: SampleName = "ninhbinh"
    #: The sample's layer files (default: the folder of ``sample``).
    sample_dir: Path = SAMPLE_DIRS["ninhbinh"]
    #: Where maps, reports and exports go when no store says (outputs go beside the store).
    output_dir: Path = Path("output")
    #: Language of labels in products: "vi" (default) or "en".
    lang: str = "vi"
    #: The elevation raster (GeoTIFF/COG, SRTM ``.hgt``, VRT) of terrain profiles: the
    #: ``link`` command's default and the API's only one (the API has none without it).
    terrain: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _sample_dir_of_sample(cls, data: Any) -> Any:
        """Without an explicit ``sample_dir``, the folder of the named ``sample``."""
        if (
            isinstance(data, dict)
            and "sample_dir" not in data
            and data.get("sample") in SAMPLE_DIRS
        ):
            return {**data, "sample_dir": SAMPLE_DIRS[data["sample"]]}
        return data


def get_settings() -> Settings:
    return Settings()
