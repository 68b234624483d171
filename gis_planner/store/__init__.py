"""Layer stores: where the catalogued layers live."""

from __future__ import annotations

from pathlib import Path

from gis_planner.store.base import BBox, Filters, LayerInfo, LayerStore, LayerWriter, WriteMode
from gis_planner.store.gpkg import GeoPackageStore
from gis_planner.store.postgis import PostGISStore

_POSTGIS_SCHEMES = ("postgresql://", "postgres://")


def is_postgis_url(uri: str | Path) -> bool:
    """Whether ``uri`` names a PostGIS store. A URL that went through ``pathlib.Path`` (the
    CLI's ``--store``, the ``store`` setting) has lost a slash: it counts too."""
    text = str(uri)
    return text.startswith(_POSTGIS_SCHEMES) or (
        isinstance(uri, Path) and text.startswith(tuple(s[:-1] for s in _POSTGIS_SCHEMES))
    )


def open_store(uri: str | Path) -> LayerStore:
    """The store at ``uri``: a ``postgresql://`` URL of a database made by ``gis-planner db
    init``, or a ``.gpkg`` path (created on first write)."""
    text = str(uri)
    if not is_postgis_url(uri):
        return GeoPackageStore(text)
    if isinstance(uri, Path):  # give the URL its slash back (so it must name a host)
        scheme, rest = text.split(":", 1)
        text = f"{scheme}://{rest.lstrip('/')}"
    return PostGISStore(text)


__all__ = [
    "BBox",
    "Filters",
    "GeoPackageStore",
    "LayerInfo",
    "LayerStore",
    "LayerWriter",
    "PostGISStore",
    "WriteMode",
    "open_store",
]
