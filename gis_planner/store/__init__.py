"""Layer stores: where the catalogued layers live."""

from __future__ import annotations

from pathlib import Path

from gis_planner.errors import StoreError
from gis_planner.store.base import BBox, Filters, LayerInfo, LayerStore, LayerWriter, WriteMode
from gis_planner.store.gpkg import GeoPackageStore


def open_store(uri: str | Path) -> LayerStore:
    """The store at ``uri``: a ``.gpkg`` path (created on first write)."""
    text = str(uri)
    if text.startswith(("postgresql://", "postgres://")):
        raise StoreError(f"{text}: a PostGIS store is not available in this version")
    return GeoPackageStore(text)


__all__ = [
    "BBox",
    "Filters",
    "GeoPackageStore",
    "LayerInfo",
    "LayerStore",
    "LayerWriter",
    "WriteMode",
    "open_store",
]
