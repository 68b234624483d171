"""Vector files: KML/KMZ, GeoJSON, Shapefile (plain or zipped), GeoPackage, through GDAL."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.io.tabular import SourceTable

VECTOR_SUFFIXES = (".kml", ".kmz", ".geojson", ".json", ".shp", ".zip", ".gpkg")
# Columns GDAL's KML drivers add to every placemark; dropped when they hold nothing (an empty
# "id" would otherwise claim the layer's id field from the placemark names).
_KML_NOISE = (
    "id", "description", "Description", "timestamp", "begin", "end", "altitudeMode",
    "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet",
)  # fmt: skip


def _member(path: Path, suffixes: tuple[str, ...]) -> str:
    """The one member of a zip archive with one of ``suffixes`` (a .shp, a .kml)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if n.lower().endswith(suffixes)]
    except zipfile.BadZipFile:
        raise GisPlannerError(f"{path}: not a readable zip archive") from None
    if not members:
        raise GisPlannerError(f"{path}: no {'/'.join(suffixes)} file inside the archive")
    if len(members) > 1 and suffixes == (".shp",):
        raise GisPlannerError(
            f"{path}: several shapefiles inside ({', '.join(members)}); unzip and pick one"
        )
    return members[0]


def gdal_path(path: Path) -> str:
    """The path GDAL opens: zipped shapefiles and KMZ through ``/vsizip/``."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return f"/vsizip/{path}/{_member(path, ('.shp',))}"
    if suffix == ".kmz":
        return f"/vsizip/{path}/{_member(path, ('.kml',))}"
    return str(path)


def read_vector(
    path: Path, *, layer: str | None = None, crs: str | None = None
) -> list[SourceTable]:
    """The features of a vector file in WGS84, one table per layer read.

    ``layer`` picks one layer (a GeoPackage layer, a KML folder); by default every layer is
    read. A file without a CRS (a shapefile with no ``.prj``) needs ``crs``; a file with one
    must agree with ``crs`` when both are given. Row numbers are feature numbers from 1.
    """
    if not path.exists():
        raise GisPlannerError(f"{path}: file not found")
    source = gdal_path(path)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    except pyogrio.errors.DataSourceError as error:
        raise GisPlannerError(f"{path}: not a readable vector file ({error})") from None
    if layer is not None:
        if layer not in layers:
            raise GisPlannerError(f"{path}: no layer {layer!r} (layers: {', '.join(layers)})")
        layers = [layer]
    tables = []
    for name in layers:
        frame = pyogrio.read_dataframe(source, layer=name)
        if frame.crs is None:
            if crs is None:
                raise GisPlannerError(
                    f"{path}: layer {name!r} has no coordinate reference system (no .prj); "
                    "give one with --crs, e.g. --crs EPSG:5897"
                )
            frame = frame.set_crs(crs)
        elif crs is not None and not frame.crs.equals(CRS.from_user_input(crs)):
            raise GisPlannerError(
                f"{path}: the file says its CRS is {frame.crs.to_string()}, not {crs}"
            )
        frame = frame.to_crs(WGS84)
        geometry = shapely.force_2d(frame.geometry.to_numpy())
        attributes = frame.drop(columns=[frame.geometry.name])
        if path.suffix.lower() in (".kml", ".kmz"):
            attributes = attributes.drop(
                columns=[c for c in _KML_NOISE if c in attributes and _is_blank(attributes[c])]
            )
        table = gpd.GeoDataFrame(attributes.reset_index(drop=True), geometry=geometry, crs=WGS84)
        rows = np.arange(1, len(table) + 1, dtype=np.int64)
        tables.append(SourceTable(table, rows, name if len(layers) > 1 else None, 0))
    return tables


def _is_blank(column: pd.Series) -> bool:
    """Nothing but missing values, or the KML drivers' placeholders for them (0/-1 flags)."""
    if column.isna().all():
        return True
    return column.name in ("tessellate", "extrude", "visibility", "altitudeMode")


def is_vector(path: Path) -> bool:
    return path.suffix.lower() in VECTOR_SUFFIXES


__all__ = ["is_vector", "read_vector"]
