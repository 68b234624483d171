"""QGIS styles of the products, so that QGIS shows them as the viewer does.

A raster opened in QGIS takes the style of the ``.qml`` file of the same name beside it; a
multi-band coverage COG without one opens as a false-colour composite of its first three bands.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
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
