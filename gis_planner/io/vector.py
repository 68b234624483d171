"""Vector files: KML/KMZ, GeoJSON, Shapefile (plain or zipped), GeoPackage, through GDAL.

A KML's attributes may be in its ``ExtendedData`` (read by GDAL, names kept as written, accents
included) or, as Google Earth and ArcGIS export them, in an HTML table of two columns (name,
value) in each placemark's description: those rows become columns, where ``ExtendedData`` has
no value. The HTML is parsed by the standard library's tokenizer, which fetches nothing.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError, ProjError

from gis_planner.crs import WGS84
from gis_planner.errors import GisPlannerError
from gis_planner.io.archives import Inflation
from gis_planner.io.gdal_guard import require_safe_gdal
from gis_planner.io.sheets import MAX_SHEET_COLUMNS
from gis_planner.io.tabular import SourceTable

#: The GDAL drivers a file may be opened with, by its extension; never by its content alone
#: (see ``gdal_guard``). A KMZ is read as the KML inside it, a zip as the shapefile inside it.
DRIVERS: dict[str, tuple[str, ...]] = {
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
    ".kml": ("LIBKML", "KML"),
    ".kmz": ("LIBKML", "KML"),
    ".shp": ("ESRI Shapefile",),
    ".zip": ("ESRI Shapefile",),
    ".gpkg": ("GPKG",),
}
VECTOR_SUFFIXES = tuple(DRIVERS)
#: Bytes a KMZ's KML or a zipped shapefile may inflate to: GDAL holds a KML's placemarks at
#: some twelve times the KML's size, and a national list of sites is some 150 MB of KML.
MAX_INFLATED_BYTES = 512 << 20
#: What GDAL raises on a file it opened but cannot read (pyogrio's errors).
_READ_ERRORS = (
    pyogrio.errors.DataLayerError, pyogrio.errors.FeatureError, pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError, pyogrio.errors.CRSError,
)  # fmt: skip
#: A KMZ's main document, at the archive's root (KML 2.2, 10.1.2).
KMZ_DOCUMENT = "doc.kml"
# LIBKML would otherwise turn "Nhà mạng" into "Nh___m___ng" (shapefile-safe names).
pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
# Columns GDAL's KML drivers add to every placemark; dropped when they hold nothing (an empty
# "id" would otherwise claim the layer's id field from the placemark names).
_KML_NOISE = (
    "id", "description", "Description", "timestamp", "begin", "end", "altitudeMode",
    "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet",
)  # fmt: skip


def _member(path: Path, suffixes: tuple[str, ...]) -> str:
    """The one member of a zip archive with one of ``suffixes`` (a .shp, a .kml).

    Members are names inside the archive only: an absolute name, a ``..`` part or a symbolic
    link would point GDAL outside it.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise GisPlannerError(f"{path}: not a readable zip archive") from None
    for info in infos:
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        is_link = stat.S_ISLNK(info.external_attr >> 16)
        if is_link or info.filename.startswith(("/", "\\")) or ".." in parts:
            raise GisPlannerError(
                f"{path}: the archive member {info.filename!r} points outside the archive"
            )
    members = [i.filename for i in infos if i.filename.lower().endswith(suffixes)]
    if not members:
        raise GisPlannerError(f"{path}: no {'/'.join(suffixes)} file inside the archive")
    if len(members) > 1:
        if suffixes == (".kml",) and KMZ_DOCUMENT in members:
            return KMZ_DOCUMENT
        kind = "shapefiles" if suffixes == (".shp",) else "KML documents"
        raise GisPlannerError(
            f"{path}: several {kind} inside ({', '.join(members)}); unzip and pick one"
        )
    return members[0]


@contextmanager
def gdal_path(path: Path) -> Iterator[str]:
    """The path GDAL opens, for the duration of the ``with`` block: absolute (so that no
    ``DRIVER:`` prefix is read in a name), never a ``/vsi`` path of the user's. A zipped
    shapefile or a KMZ is inflated here first, its shapefile (with the files beside it) or its
    KML counted against ``MAX_INFLATED_BYTES`` into a temporary folder (``archives``): GDAL
    reads the bytes that were counted, not its own reading of the zip."""
    if str(path).replace("\\", "/").lower().startswith("/vsi"):
        raise GisPlannerError(f"{path}: not a local file; GDAL virtual file systems are not read")
    path = path.resolve()
    suffix = path.suffix.lower()
    if suffix not in (".zip", ".kmz"):
        yield str(path)
        return
    member = _member(path, (".shp",) if suffix == ".zip" else (".kml",))
    stem = PurePosixPath(member).with_suffix("").as_posix().lower()
    inflation = Inflation(path, MAX_INFLATED_BYTES)
    with (
        tempfile.TemporaryDirectory(prefix="gis-planner-") as folder,
        zipfile.ZipFile(path) as archive,
    ):
        try:
            for info in archive.infolist():
                name = info.filename
                if name == member or (
                    suffix == ".zip"
                    and PurePosixPath(name).with_suffix("").as_posix().lower() == stem
                ):
                    # the shapefile's own files, named flat: its stem and their extensions
                    out = Path(folder) / f"source{PurePosixPath(name).suffix.lower()}"
                    with out.open("wb") as target:
                        for chunk in inflation.chunks(archive, info):
                            target.write(chunk)
        except (NotImplementedError, RuntimeError, EOFError, zlib.error,
                zipfile.BadZipFile) as error:  # fmt: skip
            raise GisPlannerError(f"{path}: {member} could not be inflated ({error})") from None
        yield str(Path(folder) / f"source{PurePosixPath(member).suffix.lower()}")


def _open_layers(path: Path, source: str) -> list[str]:
    """The layers of ``source``, after checking GDAL opened it with a driver its name allows."""
    require_safe_gdal()
    allowed = DRIVERS.get(path.suffix.lower())
    if allowed is None:
        raise GisPlannerError(f"{path}: {path.suffix!r} is not a vector file type")
    kind = allowed[-1]
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
        driver = pyogrio.read_info(source, layer=layers[0])["driver"] if layers else kind
    except pyogrio.errors.DataSourceError as error:
        raise GisPlannerError(f"{path}: not a readable {kind} file ({error})") from None
    if driver not in allowed:
        raise GisPlannerError(f"{path}: the content is {driver}, not {kind} as the file name says")
    return layers


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
    with gdal_path(path) as source:
        return _read_layers(path, source, layer, crs)


def _read_layers(path: Path, source: str, layer: str | None, crs: str | None) -> list[SourceTable]:
    layers = _open_layers(path, source)
    if layer is not None:
        if layer not in layers:
            raise GisPlannerError(f"{path}: no layer {layer!r} (layers: {', '.join(layers)})")
        layers = [layer]
    tables = []
    for name in layers:
        try:
            fields = len(pyogrio.read_info(source, layer=name)["fields"])
            if fields > MAX_SHEET_COLUMNS:
                raise GisPlannerError(
                    f"{path}: layer {name!r} has {fields:,} attributes (at most "
                    f"{MAX_SHEET_COLUMNS:,}, as a sheet's columns)"
                )
            frame = _in_wgs84(path, pyogrio.read_dataframe(source, layer=name), name, crs)
        except (*_READ_ERRORS, ProjError, CRSError) as error:
            # a database error inside a GeoPackage, a CRS PROJ cannot use (a LOCAL_CS .prj)
            raise GisPlannerError(f"{path}: layer {name!r} is not readable ({error})") from None
        geometry = shapely.force_2d(frame.geometry.to_numpy())
        attributes = frame.drop(columns=[frame.geometry.name])
        if path.suffix.lower() in (".kml", ".kmz"):
            attributes = _with_description_tables(path, attributes)
            attributes = attributes.drop(
                columns=[c for c in _KML_NOISE if c in attributes and _is_blank(attributes[c])]
            )
        table = gpd.GeoDataFrame(attributes.reset_index(drop=True), geometry=geometry, crs=WGS84)
        rows = np.arange(1, len(table) + 1, dtype=np.int64)
        tables.append(SourceTable(table, rows, name if len(layers) > 1 else None, 0))
    return tables


def _in_wgs84(path: Path, frame: gpd.GeoDataFrame, name: str, crs: str | None) -> gpd.GeoDataFrame:
    """``frame`` (layer ``name`` of ``path``) in WGS84, from its CRS or ``crs``."""
    if frame.crs is None:
        if crs is None:
            raise GisPlannerError(
                f"{path}: layer {name!r} has no coordinate reference system (no .prj); "
                "give one with --crs, e.g. --crs EPSG:5897"
            )
        frame = frame.set_crs(crs)
    elif crs is not None and not frame.crs.equals(CRS.from_user_input(crs)):
        said = frame.crs.to_string()
        raise GisPlannerError(f"{path}: the file says its CRS is {said}, not {crs}")
    return frame.to_crs(WGS84)


class _TableRows(HTMLParser):
    """The two-cell rows (name, value) of the innermost tables of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pairs: dict[str, str] = {}
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th") and self._rows:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._rows:
            row = self._rows.pop()
            if len(row) == 2 and row[0]:
                self.pairs.setdefault(row[0].rstrip(":"), row[1])

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def description_table(html: str) -> dict[str, str]:
    """Name → value of the two-cell rows of the tables in a placemark's description."""
    parser = _TableRows()
    parser.feed(html)
    parser.close()
    return parser.pairs


def _with_description_tables(path: Path, attributes: pd.DataFrame) -> pd.DataFrame:
    """Attributes with the description tables' rows as columns (where ``ExtendedData`` gave no
    value); the description itself dropped once read. At most ``MAX_SHEET_COLUMNS`` names in
    all: each placemark may name its own, and 2,000 placemarks naming five each took 79 s."""
    if "description" not in attributes:
        return attributes
    text = attributes["description"]
    tabled = text.astype("string").str.contains("<table", case=False, regex=False)
    tabled = tabled.fillna(False).astype(bool)
    if not tabled.any():
        return attributes
    # One parse per placemark: the descriptions differ by their values.
    rows = text[tabled].map(lambda html: description_table(str(html)))
    names = set().union(*rows.tolist())
    if len(names) > MAX_SHEET_COLUMNS:
        raise GisPlannerError(
            f"{path}: the placemarks' description tables name {len(names):,} attributes (at "
            f"most {MAX_SHEET_COLUMNS:,}, as a sheet's columns)"
        )
    table = pd.DataFrame(rows.tolist(), index=rows.index).reindex(attributes.index)
    out = attributes.drop(columns="description")
    for column in table.columns:
        out[column] = out[column].fillna(table[column]) if column in out else table[column]
    return out


def _is_blank(column: pd.Series) -> bool:
    """Nothing but missing values, or the KML drivers' placeholders for them (0/-1 flags)."""
    if column.isna().all():
        return True
    return column.name in ("tessellate", "extrude", "visibility", "altitudeMode")


def is_vector(path: Path) -> bool:
    return path.suffix.lower() in VECTOR_SUFFIXES


__all__ = ["is_vector", "read_vector"]
