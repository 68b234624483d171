"""The export job: one layer of the store, or a selection of it, as a KML or KMZ file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis_planner.i18n import Lang
from gis_planner.io.kml import write_kml
from gis_planner.store import LayerStore


@dataclass(frozen=True)
class ExportSpec:
    layer: str
    #: A ``.kml`` or ``.kmz`` file.
    out: Path
    #: (west, south, east, north) in degrees.
    bbox: tuple[float, float, float, float] | None = None
    #: Field → accepted values, as the store reads them.
    filters: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    lang: Lang = "vi"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    features: int


def run(spec: ExportSpec, store: LayerStore) -> ExportResult:
    filters = {name: list(values) for name, values in spec.filters.items()}
    frame = store.read(spec.layer, bbox=spec.bbox, filters=filters or None)
    path = write_kml(frame, spec.layer, spec.out, lang=spec.lang)
    return ExportResult(path, len(frame))
