"""KML and KMZ for Google Earth: any layer or selection as styled placemarks with every attribute.

The reader of the same files is ``io.vector``: what is written here reads back through it (and
through GDAL's KML and LIBKML drivers) with the same columns. Each attribute is a typed
``SimpleField`` of one ``Schema`` (its display name the catalogue's label in the chosen
language) and a ``SimpleData`` of each placemark; sites, cells and fibre are coloured by
operator as the viewer draws them, other layers in their QGIS colours.

Values are data from operators' files: they are written only as XML text or attribute values
(escaped by ``xml.etree``), with the characters XML 1.0 cannot hold removed, and never as markup.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import shapely

from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.spec import LayerSpec
from gis_planner.i18n import Lang, nfc
from gis_planner.io.vector import KMZ_DOCUMENT
from gis_planner.operators import OPERATORS
from gis_planner.qgis import DEFAULT_COLOURS, LAYER_COLOURS

KML_NS = "http://www.opengis.net/kml/2.2"
KML_MEDIA_TYPE = "application/vnd.google-earth.kml+xml"
KMZ_MEDIA_TYPE = "application/vnd.google-earth.kmz"
#: KML's types of the catalogue's field types (``SimpleField``'s ``type``).
KML_TYPES = {"str": "string", "int": "int", "float": "double", "bool": "bool"}
#: Decimal places of longitudes and latitudes (about 1 cm).
COORDINATE_DECIMALS = 7
#: Google Earth's own icon, tinted by each style's colour.
ICON = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
#: Polygons are filled at this opacity (0–255) so that what lies below stays visible.
FILL_ALPHA = 0x55

# Characters XML 1.0 cannot carry (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_ID = re.compile(r"[^A-Za-z0-9_.-]")
_OPERATOR_COLOURS = {op.key: op.colour for op in OPERATORS}


def xml_text(value: object) -> str:
    """``value`` as text XML can hold: NFC, without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", nfc(str(value)))


def kml_colour(rgb: str, alpha: int = 0xFF) -> str:
    """KML's ``aabbggrr`` of a ``#rrggbb`` or QGIS ``r,g,b,a`` colour (``alpha`` for the
    first; the QGIS colour's own alpha for the second)."""
    if rgb.startswith("#"):
        red, green, blue = (int(rgb[i : i + 2], 16) for i in (1, 3, 5))
    else:
        red, green, blue, alpha = (int(part) for part in rgb.split(","))
    return f"{alpha:02x}{blue:02x}{green:02x}{red:02x}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = xml_text(text)
    return element


def _style(document: ET.Element, style_id: str, line: str, fill: str, width: float) -> None:
    style = _sub(document, "Style", id=style_id)
    icon_style = _sub(style, "IconStyle")
    _sub(icon_style, "color", fill)
    _sub(icon_style, "scale", "0.9")
    _sub(_sub(icon_style, "Icon"), "href", ICON)
    _sub(_sub(style, "LabelStyle"), "scale", "0.8")
    line_style = _sub(style, "LineStyle")
    _sub(line_style, "color", line)
    _sub(line_style, "width", f"{width:g}")
    _sub(_sub(style, "PolyStyle"), "color", fill)


def _layer_colours(layer: str, spec: LayerSpec | None) -> tuple[str, str]:
    geometry_type = spec.geometry_type if spec and spec.geometry_type else "Point"
    outline, fill = LAYER_COLOURS.get(layer, DEFAULT_COLOURS[geometry_type])
    if geometry_type == "Point":  # a point's symbol is its fill; its outline is white
        return kml_colour(fill), kml_colour(fill)
    if geometry_type == "LineString":
        return kml_colour(outline), kml_colour(fill)
    red, green, blue, _ = fill.split(",")
    return kml_colour(outline), kml_colour(f"{red},{green},{blue},{FILL_ALPHA}")


def _coordinates(geometry: shapely.Geometry) -> str:
    xy = shapely.get_coordinates(geometry)
    digits = COORDINATE_DECIMALS
    return " ".join(f"{x:.{digits}f},{y:.{digits}f}" for x, y in xy)


def _ring(parent: ET.Element, tag: str, ring: shapely.Geometry) -> None:
    _sub(_sub(_sub(parent, tag), "LinearRing"), "coordinates", _coordinates(ring))


def _geometry(parent: ET.Element, geometry: shapely.Geometry) -> None:
    kind = shapely.get_type_id(geometry)
    if kind == shapely.GeometryType.POINT:
        _sub(_sub(parent, "Point"), "coordinates", _coordinates(geometry))
    elif kind in (shapely.GeometryType.LINESTRING, shapely.GeometryType.LINEARRING):
        line = _sub(parent, "LineString")
        _sub(line, "tessellate", "1")
        _sub(line, "coordinates", _coordinates(geometry))
    elif kind == shapely.GeometryType.POLYGON:
        polygon = _sub(parent, "Polygon")
        _ring(polygon, "outerBoundaryIs", shapely.get_exterior_ring(geometry))
        for index in range(shapely.get_num_interior_rings(geometry)):
            _ring(polygon, "innerBoundaryIs", shapely.get_interior_ring(geometry, index))
    else:  # Multi* and collections
        multi = _sub(parent, "MultiGeometry")
        for part in shapely.get_parts(geometry):
            _geometry(multi, part)


def _value_text(value: object, kml_type: str) -> str | None:
    """A value as ``SimpleData`` text; None for a missing value."""
    if value is None:
        return None
    if kml_type == "bool" or isinstance(value, bool):
        return "1" if bool(value) else "0"
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    return str(value)


def _fields(
    spec: LayerSpec | None, records: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str, str, str]]:
    """(name, KML type, Vietnamese label, English label) of the attributes, in the
    catalogue's order, then any others in the records' order.

    A ``name`` attribute is the placemark's own name, not a field: GDAL would read it twice
    (as ``Name`` and ``name2``).
    """
    present: dict[str, None] = {}
    for record in records:
        present.update(dict.fromkeys(record))
    present.pop("name", None)
    fields = []
    if spec is not None:
        for field in spec.fields:
            if field.name in present:
                unit = f" ({field.unit})" if field.unit else ""
                fields.append(
                    (
                        field.name,
                        KML_TYPES[field.dtype],
                        field.label_vi + unit,
                        field.label_en + unit,
                    )
                )
    known = {name for name, *_ in fields}
    fields.extend((name, "string", name, name) for name in present if name not in known)
    return fields


def _placemark_name(record: Mapping[str, Any], spec: LayerSpec | None, fallback: str) -> str:
    if record.get("name") not in (None, ""):
        return str(record["name"])
    keys = spec.key if spec is not None else ()
    parts = [str(record[k]) for k in keys if record.get(k) not in (None, "")]
    return " – ".join(parts) if parts else fallback


def kml_document(
    layer: str,
    geometries: Iterable[shapely.Geometry | None],
    records: Sequence[Mapping[str, Any]],
    *,
    lang: Lang = "vi",
    title: str | None = None,
) -> bytes:
    """A KML document of one layer's features (WGS84 geometries, one record of attributes
    each); features without a geometry are placemarks without one. ``title`` names the
    document (default: the layer's label)."""
    spec = CATALOGUE.get(layer)
    label = spec.label(lang) if spec is not None else layer
    schema_id = "s_" + _NOT_ID.sub("_", layer)
    fields = _fields(spec, records)

    root = ET.Element("kml", {"xmlns": KML_NS})
    document = _sub(root, "Document", id="gis-planner")
    _sub(document, "name", title or label)
    line, fill = _layer_colours(layer, spec)
    _style(document, "layer", line, fill, 2)
    by_operator = any("operator" in record for record in records)
    if by_operator:
        for key, colour in _OPERATOR_COLOURS.items():
            _style(document, f"op-{key}", kml_colour(colour), kml_colour(colour), 3)
    schema = _sub(document, "Schema", name=schema_id, id=schema_id)
    for name, kml_type, label_vi, label_en in fields:
        simple = _sub(schema, "SimpleField", name=xml_text(name), type=kml_type)
        _sub(simple, "displayName", label_vi if lang == "vi" else label_en)

    folder = _sub(document, "Folder")
    _sub(folder, "name", label)
    for number, (geometry, record) in enumerate(zip(geometries, records, strict=True), start=1):
        placemark = _sub(folder, "Placemark")
        _sub(placemark, "name", _placemark_name(record, spec, f"{layer} {number}"))
        operator = record.get("operator")
        styled = by_operator and isinstance(operator, str) and operator in _OPERATOR_COLOURS
        _sub(placemark, "styleUrl", f"#op-{operator}" if styled else "#layer")
        data = _sub(_sub(placemark, "ExtendedData"), "SchemaData", schemaUrl=f"#{schema_id}")
        for name, kml_type, *_ in fields:
            text = _value_text(record.get(name), kml_type)
            if text is not None:
                _sub(data, "SimpleData", text, name=xml_text(name))
        if geometry is not None and not shapely.is_empty(geometry):
            _geometry(placemark, geometry)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def kmz_archive(kml: bytes) -> bytes:
    """A KMZ: the KML document zipped as ``doc.kml``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(KMZ_DOCUMENT, kml)
    return buffer.getvalue()


def frame_kml(frame: Any, layer: str, *, lang: Lang = "vi", kmz: bool = False) -> bytes:
    """A KML (or KMZ) of a layer as the store reads it (a GeoDataFrame in WGS84, or a table)."""
    from gis_planner.crs import WGS84

    geometry_name = getattr(frame, "_geometry_column_name", None)
    if geometry_name is not None and geometry_name in frame:
        geometries = frame.geometry.to_crs(WGS84).to_numpy()
        attributes = frame.drop(columns=[geometry_name])
    else:
        geometries = [None] * len(frame)
        attributes = frame
    values = attributes.astype(object).where(attributes.notna(), None)
    records = values.to_dict("records")
    kml = kml_document(layer, geometries, records, lang=lang)
    return kmz_archive(kml) if kmz else kml


def write_kml(frame: Any, layer: str, path: Path, *, lang: Lang = "vi") -> Path:
    """Write ``frame`` to ``path``: a KMZ if its name ends in ``.kmz``, else a KML."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame_kml(frame, layer, lang=lang, kmz=path.suffix.lower() == ".kmz"))
    return path


__all__ = [
    "KML_MEDIA_TYPE",
    "KMZ_MEDIA_TYPE",
    "frame_kml",
    "kml_colour",
    "kml_document",
    "kmz_archive",
    "write_kml",
    "xml_text",
]
