"""Import templates and the columns documentation, both written from the catalogue.

A template is an Excel workbook for one layer: Vietnamese headers with the English ones below
(the importer reads both rows as the header), drop-down lists of the allowed values, an example
row, and a sheet that explains every column with its unit. ``columns_markdown`` writes the same
explanations as the README's section on the layers' columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from gis_planner.catalogue import FieldSpec, LayerSpec, get_spec
from gis_planner.catalogue.values import NAMED_NUMBERS, values_of
from gis_planner.defaults import TEMPLATE_LAYERS
from gis_planner.errors import GisPlannerError
from gis_planner.operators import OPERATORS

#: Fields an import fills in itself: where a row comes from, and a site's commune (by location).
_FILLED_BY_IMPORT = {"source", "commune_code"}

#: One example row per layer, as an operator would fill it in (Vietnamese values).
EXAMPLES: dict[str, dict[str, object]] = {
    "sites": {
        "site_id": "HNM-0001", "operator": "Viettel", "tower_type": "Cột tự đứng",
        "height_m": 42, "structure_id": "HT-PL-001", "max_tenants": 3,
        "address": "Số 12 Lê Hồng Phong, phường Minh Khai, Phủ Lý", "status": "Đang phát sóng",
        "lon": 105.9123, "lat": 20.5432,
    },
    "cells": {
        "cell_id": "HNM-0001-L18-1", "site_id": "HNM-0001", "operator": "Viettel",
        "technology": "4G", "band_mhz": "1800 MHz (B3)", "bandwidth_mhz": 20, "azimuth_deg": 120,
        "mech_tilt_deg": 2, "elec_tilt_deg": 4, "height_m": 38, "tx_power_dbm": 46,
        "antenna_gain_dbi": 17.5, "feeder_loss_db": 0.5, "h_beamwidth_deg": 65,
        "v_beamwidth_deg": 7, "status": "Đang phát sóng", "lon": 105.9123, "lat": 20.5432,
    },
    "fibre_routes": {
        "route_id": "VNPT-TR-001", "operator": "VNPT-VinaPhone", "route_class": "Trục",
        "cores": 96, "laying": "Treo", "name": "Phủ Lý – Duy Tiên",
        "wkt": "LINESTRING (105.9123 20.5432, 105.9712 20.6301)",
    },
    "fibre_nodes": {
        "node_id": "VNPT-OLT-001", "operator": "VNPT-VinaPhone", "node_type": "Thiết bị OLT",
        "name": "OLT Phủ Lý", "capacity_ports": 1024, "lon": 105.9123, "lat": 20.5432,
    },
}  # fmt: skip


@dataclass(frozen=True)
class Column:
    """One column of a template: a field, or where the geometry goes."""

    name: str
    label_vi: str
    label_en: str
    unit: str | None
    rule_vi: str
    rule_en: str
    #: Values a drop-down offers (Vietnamese labels); ``strict`` when no other is accepted.
    choices: tuple[str, ...] = ()
    strict: bool = True
    description: str = ""

    def header(self, lang: str) -> str:
        label = self.label_vi if lang == "vi" else self.label_en
        return f"{label} ({self.unit})" if self.unit else label


def _choices(spec: LayerSpec, fs: FieldSpec) -> tuple[tuple[str, ...], bool]:
    if fs.name == "operator" and fs.allowed is not None:
        return tuple(op.name for op in OPERATORS if op.key in fs.allowed), True
    if fs.allowed is not None:
        return tuple(v.label_vi for v in values_of(fs.allowed)), True
    if fs.name in NAMED_NUMBERS:
        return tuple(v.label_vi for v in NAMED_NUMBERS[fs.name]), False
    return (), True


def _rule(spec: LayerSpec, fs: FieldSpec) -> tuple[str, str]:
    assumed = spec.assumption(fs.name)
    if assumed is not None:
        typical = ", ".join(f"{k} {v:g}" for k, v in assumed.values)
        return (
            f"nên có; nếu trống lấy theo {assumed.by} ({typical}), đánh dấu {assumed.flag}",
            f"should be given; if empty, taken by {assumed.by} ({typical}), flagged {assumed.flag}",
        )
    if fs.default is not None:
        return f"mặc định {fs.default}", f"default {fs.default}"
    return ("bắt buộc", "required") if fs.required else ("tuỳ chọn", "optional")


def template_columns(spec: LayerSpec) -> list[Column]:
    """The columns of ``spec``'s template, in catalogue order, geometry last."""
    flags = {a.flag for a in spec.assumptions}
    columns = []
    for fs in spec.fields:
        if fs.name in _FILLED_BY_IMPORT or fs.name in flags:
            continue
        choices, strict = _choices(spec, fs)
        rule_vi, rule_en = _rule(spec, fs)
        bounds = _bounds(fs)
        column = Column(
            fs.name, fs.label_vi, fs.label_en, fs.unit, rule_vi, rule_en + bounds,
            choices, strict, fs.description,
        )  # fmt: skip
        columns.append(column)
    if spec.geometry_type == "Point":
        columns += [
            Column("lon", "Kinh độ", "Longitude", "°", "bắt buộc", "required (WGS84; or X/Y "
                   "VN-2000, or WKT)"),
            Column("lat", "Vĩ độ", "Latitude", "°", "bắt buộc", "required (WGS84)"),
        ]  # fmt: skip
    elif spec.geometry_type is not None:
        columns.append(
            Column("wkt", "Hình học (WKT)", "Geometry (WKT)", None, "bắt buộc",
                   f"required ({spec.geometry_type}, WGS84 longitude latitude)")
        )  # fmt: skip
    return columns


def _bounds(fs: FieldSpec) -> str:
    if fs.min is None and fs.max is None:
        return ""
    low = "" if fs.min is None else f"{fs.min:g}"
    high = "" if fs.max is None else f"{fs.max:g}"
    return f"; {low}–{high}"


_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def write_template(layer: str, path: Path) -> Path:
    """Write the Excel template of ``layer`` (one of ``TEMPLATE_LAYERS``) to ``path``."""
    if layer not in TEMPLATE_LAYERS:
        raise GisPlannerError(
            f"no template for layer {layer!r} (templates: {', '.join(TEMPLATE_LAYERS)})"
        )
    spec = get_spec(layer)
    columns = template_columns(spec)
    book = Workbook()
    sheet = book.active
    sheet.title = "Dữ liệu"
    lists = book.create_sheet("Danh mục")
    lists.sheet_state = "hidden"
    notes = book.create_sheet("Giải thích")
    sheet.append([c.header("vi") for c in columns])
    sheet.append([c.header("en") for c in columns])
    example = EXAMPLES[layer]
    sheet.append([example.get(c.name) for c in columns])
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet[f"{letter}1"].fill = _HEADER_FILL
        sheet[f"{letter}2"].font = Font(italic=True, color="666666")
        sheet.column_dimensions[letter].width = max(14, len(column.header("vi")) + 4)
        if column.choices:
            lists.cell(1, index, column.name)
            for row, choice in enumerate(column.choices, start=2):
                lists.cell(row, index, choice)
            last = len(column.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"'Danh mục'!${letter}$2:${letter}${last}",
                allow_blank=True,
                errorStyle="stop" if column.strict else "warning",
                error="Chọn một giá trị trong danh sách / pick a value of the list",
                showErrorMessage=True,
            )
            sheet.add_data_validation(validation)
            validation.add(f"{letter}3:{letter}5000")
    sheet.freeze_panes = "A3"
    notes.append(["Cột", "Column", "Tên trường / field", "Đơn vị / unit", "Bắt buộc?",
                  "Required?", "Giá trị / values", "Ghi chú / notes"])  # fmt: skip
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append([column.label_vi, column.label_en, column.name, column.unit or "",
                      column.rule_vi, column.rule_en, ", ".join(column.choices),
                      column.description])  # fmt: skip
    for letter, width in zip("ABCDEFGH", (28, 28, 18, 12, 30, 40, 50, 60), strict=True):
        notes.column_dimensions[letter].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def columns_markdown() -> str:
    """The README's section on the columns of each template layer, from the catalogue."""
    parts = []
    for layer in TEMPLATE_LAYERS:
        spec = get_spec(layer)
        parts.append(f"#### `{layer}` — {spec.label_vi} / {spec.label_en}\n")
        parts.append("| column (vi) | column (en) | field | unit | rule | values |")
        parts.append("|---|---|---|---|---|---|")
        for column in template_columns(spec):
            values = (
                ", ".join(column.choices)
                if column.strict
                else ("a number, or " + ", ".join(column.choices) if column.choices else "")
            )
            parts.append(
                f"| {column.label_vi} | {column.label_en} | `{column.name}` | "
                f"{column.unit or ''} | {column.rule_en} | {values} |"
            )
        parts.append("")
    return "\n".join(parts)


#: The markers around the generated section of the README.
README_START = "<!-- columns: generated by `gis-planner columns --readme README.md` -->"
README_END = "<!-- columns: end -->"


def update_readme(path: Path) -> bool:
    """Rewrite the generated columns section of the README at ``path``; whether it changed."""
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise GisPlannerError(f"{path}: no section between {README_START} and {README_END}")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    new = f"{head}{README_START}\n{columns_markdown()}{README_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
