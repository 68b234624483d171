"""QGIS styles of the products, so that QGIS shows them as the viewer does.

A raster opened in QGIS takes the style of the ``.qml`` file of the same name beside it; a
multi-band coverage COG without one opens as a false-colour composite of its first three bands.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from gis_planner.colormaps import ColourMap
from gis_planner.i18n import Lang

#: QGIS version the styles are written for (read by every QGIS 3).
QGIS_VERSION = "3.22.0"


def raster_qml(cmap: ColourMap, band: int = 1, lang: Lang = "vi", opacity: float = 0.75) -> str:
    """A QGIS style drawing ``band`` in the classes of ``cmap`` (a discrete colour ramp: QGIS
    gives each value the colour of the first class whose upper bound it does not exceed)."""
    qgis = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories")
    pipe = ET.SubElement(qgis, "pipe")
    renderer = ET.SubElement(
        pipe, "rasterrenderer", type="singlebandpseudocolor", band=str(band),
        opacity=f"{opacity:g}", alphaBand="-1", nodataColor="",
    )  # fmt: skip
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader")
    classes = sorted(cmap.classes, key=lambda c: c.high)
    finite = [c.high for c in classes if math.isfinite(c.high) and abs(c.high) < 1e9]
    shader.attrib.update(
        colorRampType="DISCRETE", classificationMode="1", clip="0",
        minimumValue=f"{min(finite):g}" if finite else "0",
        maximumValue=f"{max(finite):g}" if finite else "0",
    )  # fmt: skip
    for colour_class in classes:
        red, green, blue, alpha = colour_class.rgba
        upper = colour_class.high if abs(colour_class.high) < 1e9 else math.inf
        ET.SubElement(
            shader, "item", value="inf" if math.isinf(upper) else f"{upper:g}",
            label=colour_class.label(lang), color=f"#{red:02x}{green:02x}{blue:02x}",
            alpha=str(alpha),
        )  # fmt: skip
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0")
    body = ET.tostring(qgis, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


def style_path(raster: Path) -> Path:
    """Where QGIS looks for the default style of ``raster``."""
    return raster.with_suffix(".qml")


def remove_rasters(assets_dir: Path, paths: Iterable[str | None]) -> None:
    """Delete the rasters at ``paths`` (relative to ``assets_dir``) with their QGIS styles."""
    for path in paths:
        if path:
            cog = assets_dir / path
            for part in (cog, style_path(cog)):
                part.unlink(missing_ok=True)


#: Colours of the layers as the viewer draws them (outline, fill); other layers take
#: ``DEFAULT_COLOURS`` of their geometry type.
LAYER_COLOURS: dict[str, tuple[str, str]] = {
    "admin_units": ("51,51,51,255", "255,255,255,0"),
    "villages": ("166,189,219,255", "208,209,230,60"),
    "priority_areas": ("231,41,138,255", "231,41,138,60"),
    "fibre_routes": ("27,158,119,255", "27,158,119,255"),
    "fibre_nodes": ("255,255,255,255", "27,158,119,255"),
    "sites": ("255,255,255,255", "31,120,180,255"),
    "cells": ("68,68,68,255", "255,217,47,255"),
    "positions": ("255,255,255,255", "51,160,44,255"),
}
DEFAULT_COLOURS = {
    "Point": ("255,255,255,255", "227,26,28,255"),
    "LineString": ("255,127,0,255", "255,127,0,255"),
    "MultiPolygon": ("106,61,154,255", "106,61,154,50"),
}
#: QGIS's geometry type numbers and the symbol that draws each.
_SYMBOLS = {
    "Point": ("0", "marker", "SimpleMarker"),
    "LineString": ("1", "line", "SimpleLine"),
    "MultiPolygon": ("2", "fill", "SimpleFill"),
}


def vector_qml(layer: str, geometry_type: str, aliases: dict[str, str]) -> str:
    """A QGIS style of a vector layer: one symbol in the layer's colours, and its fields'
    labels (``aliases``: field → label) as QGIS aliases."""
    if geometry_type not in _SYMBOLS:
        raise ValueError(f"no QGIS symbol for geometry type {geometry_type!r}")
    number, kind, symbol_class = _SYMBOLS[geometry_type]
    outline, fill = LAYER_COLOURS.get(layer, DEFAULT_COLOURS[geometry_type])
    properties = {
        "marker": {"name": "circle", "color": fill, "outline_color": outline, "size": "2.4",
                   "outline_width": "0.3"},
        "line": {"line_color": outline, "line_width": "0.6", "line_style": "solid"},
        "fill": {"color": fill, "outline_color": outline, "outline_width": "0.4",
                 "style": "solid", "outline_style": "solid"},
    }[kind]  # fmt: skip
    qgis = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="Symbology|Fields",
        hasScaleBasedVisibilityFlag="0",
    )
    renderer = ET.SubElement(qgis, "renderer-v2", type="singleSymbol", symbollevels="0",
                             forceraster="0", enableorderby="0")  # fmt: skip
    symbols = ET.SubElement(renderer, "symbols")
    symbol = ET.SubElement(symbols, "symbol", name="0", type=kind, alpha="1",
                           clip_to_extent="1", force_rhr="0")  # fmt: skip
    symbol_layer = ET.SubElement(symbol, "layer", {"class": symbol_class, "enabled": "1",
                                                   "pass": "0", "locked": "0"})  # fmt: skip
    for key, value in properties.items():
        ET.SubElement(symbol_layer, "prop", k=key, v=value)
    alias_element = ET.SubElement(qgis, "aliases")
    for index, (field, label) in enumerate(aliases.items()):
        ET.SubElement(alias_element, "alias", field=field, index=str(index), name=label)
    ET.SubElement(qgis, "layerGeometryType").text = number
    body = ET.tostring(qgis, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
