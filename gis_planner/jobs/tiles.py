"""The tiles job: layers of the store as one vector tile archive (PMTiles or MBTiles)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from gis_planner.errors import GisPlannerError
from gis_planner.store import LayerStore
from gis_planner.tilearchive import ArchiveFormat, ArchiveSummary, write_archive


@dataclass(frozen=True)
class TilesSpec:
    layers: tuple[str, ...]
    out: Path
    format: ArchiveFormat = "pmtiles"
    minzoom: int = 0
    maxzoom: int = 14


def run(spec: TilesSpec, store: LayerStore) -> ArchiveSummary:
    frames = {}
    for name in spec.layers:
        frame = store.read(name)
        if not isinstance(frame, gpd.GeoDataFrame):
            raise GisPlannerError(f"layer {name!r} is a table without geometry: it has no tiles")
        frames[name] = frame
    return write_archive(
        spec.out, frames, spec.format, spec.minzoom, spec.maxzoom, description=store.uri
    )
