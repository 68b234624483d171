"""Which source column is which field: Vietnamese and English synonyms, and mapping files.

Headers are matched accent-, case- and punctuation-insensitively (``i18n.fold_key``), with a unit
in brackets ignored ("Độ cao cột (m)" is "Độ cao cột"). Besides the catalogue fields, a table may
carry coordinates: ``lon``/``lat`` in degrees, or ``x``/``y`` as in Vietnamese survey lists
(X = northing, Y = easting). A mapping file (YAML, JSON or CSV: source column → field) overrides
the synonyms, and may say what a field's texts mean (text → catalogue value) where the
catalogue's spellings of the values do not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from gis_planner.catalogue import LayerSpec
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import fold_key

#: Coordinate columns of tables without geometry.
COORDINATE_ROLES = ("lon", "lat", "x", "y")
#: A column of geometries as WKT ("POINT (105.91 20.54)", "LINESTRING (…)"), for any layer
#: with geometries.
WKT_ROLE = "wkt"

#: Synonyms of fields and coordinate roles, beyond each field's own name and labels.
SYNONYMS: dict[str, tuple[str, ...]] = {
    WKT_ROLE: ("WKT", "Geometry", "geom", "the_geom", "Hình học", "Tọa độ WKT", "shape",
               "geometry wkt"),
    "lon": ("Kinh độ", "Kinh do", "lon", "long", "lng", "longitude", "Kinh tuyến", "KD",
            "Tọa độ kinh độ", "Kinh độ (E)", "E"),
    "lat": ("Vĩ độ", "Vi do", "lat", "latitude", "Vĩ tuyến", "VD", "Tọa độ vĩ độ", "N"),
    "x": ("X", "Tọa độ X", "X (m)", "northing", "X VN2000", "X VN-2000", "Bắc"),
    "y": ("Y", "Tọa độ Y", "Y (m)", "easting", "Y VN2000", "Y VN-2000", "Đông"),
    "site_id": ("id", "Mã trạm", "Ma tram", "Mã BTS", "Tên trạm", "Site", "Site ID", "Site code",
                "Site name", "BTS", "BTS ID", "Mã vị trí", "Trạm"),
    "cell_id": ("id", "Mã cell", "Cell", "Cell ID", "Cell name", "CI", "Tên cell"),
    "operator": ("Nhà mạng", "Doanh nghiệp", "DN", "Nhà cung cấp", "Mạng", "Nhà khai thác",
                 "operator", "network", "carrier", "provider", "owner", "Đơn vị"),
    "height_m": ("Độ cao cột", "Chiều cao", "Chiều cao cột", "Độ cao", "Cao độ cột", "height",
                 "tower height", "Height (m)", "Độ cao anten", "Độ cao ăng-ten", "Antenna height",
                 "h"),
    "tower_type": ("Loại cột", "Loại trạm", "Kiểu cột", "tower type", "structure type"),
    "structure_id": ("Mã cột", "Mã hạ tầng", "Mã cột dùng chung", "structure", "tower id"),
    "max_tenants": ("Số nhà mạng tối đa", "Khả năng dùng chung", "capacity", "tenants"),
    "address": ("Địa chỉ", "Địa chỉ trạm", "Vị trí", "address", "location"),
    "commune_code": ("Mã xã", "commune code"),
    "status": ("Trạng thái", "Tình trạng", "status"),
    "technology": ("Công nghệ", "Công nghệ (2G/3G/4G/5G)", "tech", "technology", "RAT",
                   "radio"),
    "band_mhz": ("Băng tần", "Tần số", "band", "frequency", "freq", "Băng tần (MHz)"),
    "bandwidth_mhz": ("Độ rộng băng", "Độ rộng kênh", "bandwidth", "BW"),
    "azimuth_deg": ("Góc phương vị", "Hướng", "Phương vị", "azimuth", "azi", "Az"),
    "mech_tilt_deg": ("Góc ngẩng cơ", "Góc nghiêng cơ", "Tilt cơ", "mech tilt",
                      "mechanical tilt", "M-tilt"),
    "elec_tilt_deg": ("Góc ngẩng điện", "Góc nghiêng điện", "Tilt điện", "elec tilt",
                      "electrical tilt", "E-tilt", "RET"),
    "tx_power_dbm": ("Công suất phát", "Công suất", "power", "tx power", "EIRP"),
    "antenna_gain_dbi": ("Tăng ích ăng-ten", "Tăng ích", "Độ lợi", "gain", "antenna gain"),
    "feeder_loss_db": ("Suy hao feeder", "Suy hao", "feeder loss", "loss"),
    "h_beamwidth_deg": ("Độ rộng búp ngang", "HBW", "horizontal beamwidth"),
    "v_beamwidth_deg": ("Độ rộng búp đứng", "VBW", "vertical beamwidth"),
    "code": ("Mã", "Mã đơn vị", "Mã ĐVHC", "Ma DVHC", "id", "code", "GSO code", "ma"),
    "name": ("Tên", "Tên đơn vị", "ten", "name", "Tên tuyến", "Tên khu vực", "Tên nút"),
    "level": ("Cấp", "Cấp hành chính", "level"),
    "unit_type": ("Loại đơn vị", "Loại", "type"),
    "parent_code": ("Mã cấp trên", "Mã đơn vị cấp trên", "parent", "parent code"),
    "population": ("Dân số", "Số dân", "pop", "population"),
    "households": ("Số hộ", "Hộ", "households"),
    "route_id": ("id", "Mã tuyến", "route", "route id", "cable id"),
    "cores": ("Số sợi", "Dung lượng", "Số FO", "fibre count", "cores"),
    "laying": ("Hình thức", "Hình thức lắp đặt", "Treo/Ngầm", "laying"),
    "route_class": ("Cấp tuyến", "Loại tuyến", "class"),
    "node_id": ("id", "Mã nút", "node", "node id"),
    "node_type": ("Loại nút", "Loại thiết bị", "node type"),
    "source": ("Nguồn", "Nguồn dữ liệu", "source"),
}  # fmt: skip

_BRACKETS = re.compile(r"[(\[].*?[)\]]")


def header_key(text: object) -> str:
    """The comparison key of a header: folded, bracketed units dropped, punctuation removed."""
    raw = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    stripped = _BRACKETS.sub(" ", raw)
    return fold_key(stripped) or fold_key(raw)


@lru_cache(maxsize=32)
def _targets(spec: LayerSpec) -> dict[str, str]:
    """Header key → field (or coordinate role) for one layer; own names and labels win."""
    table: dict[str, str] = {}
    for target in (*spec.field_names, *_roles(spec)):
        for synonym in SYNONYMS.get(target, ()):
            table.setdefault(header_key(synonym), target)
    for fs in spec.fields:
        for text in (fs.name, fs.label_vi, fs.label_en):
            table[header_key(text)] = fs.name
    return table


def _roles(spec: LayerSpec) -> tuple[str, ...]:
    """The geometry columns a table for ``spec`` may have besides its fields."""
    if spec.geometry_type is None:
        return ()
    return (*COORDINATE_ROLES, WKT_ROLE) if spec.geometry_type == "Point" else (WKT_ROLE,)


def expected_columns(spec: LayerSpec) -> str:
    """The columns a list for ``spec`` must have, as an error names them: the fields a file
    must give (Vietnamese label, then name), then where the geometry is."""
    names = [
        f"{fs.label_vi} ({fs.name})"
        for fs in spec.fields
        if fs.required and fs.default is None and spec.assumption(fs.name) is None
    ]
    if spec.geometry_type == "Point":
        names.append("Kinh độ (lon), Vĩ độ (lat) or X, Y (VN-2000) or WKT")
    elif spec.geometry_type is not None:
        names.append(f"WKT ({spec.geometry_type})")
    return ", ".join(names)


@dataclass(frozen=True)
class ColumnMapping:
    """Source column → field or coordinate role, and the columns left unused."""

    columns: dict[str, str]
    unused: tuple[str, ...]

    def source_of(self, target: str) -> str | None:
        for source, mapped in self.columns.items():
            if mapped == target:
                return source
        return None

    @property
    def targets(self) -> set[str]:
        return set(self.columns.values())


def count_matches(headers: Iterable[object], spec: LayerSpec) -> int:
    """How many cells of a candidate header row name a field or coordinate of ``spec``."""
    table = _targets(spec)
    return len({table[k] for k in map(header_key, headers) if k in table})


def match_columns(
    headers: Iterable[object],
    spec: LayerSpec,
    overrides: Mapping[str, str] | None = None,
) -> ColumnMapping:
    """Map ``headers`` to the fields of ``spec``; the first column naming a field wins.

    ``overrides`` (source column → field) comes first; a field it names is not matched again.
    """
    names = [str(h) for h in headers]
    allowed = {*spec.field_names, *_roles(spec)}
    columns: dict[str, str] = {}
    for source, target in (overrides or {}).items():
        if target not in allowed:
            raise GisPlannerError(
                f"mapping: {target!r} is not a field of layer {spec.name!r} "
                f"(fields: {', '.join(sorted(allowed))})"
            )
        if source not in names:
            raise GisPlannerError(f"mapping: the file has no column {source!r}")
        columns[source] = target
    table = _targets(spec)
    taken = set(columns.values())
    for name in names:
        if name in columns:
            continue
        found = table.get(header_key(name))
        if found is not None and found not in taken:
            columns[name] = found
            taken.add(found)
    unused = tuple(n for n in names if n not in columns)
    return ColumnMapping(columns, unused)


@dataclass(frozen=True)
class MappingFile:
    """What a mapping file says: source column → field, and per field, text → value."""

    columns: dict[str, str]
    values: dict[str, dict[str, str]]


def read_mapping(path: Path) -> MappingFile:
    """A mapping file. YAML or JSON: either flat ``source column: field`` pairs, or the sections
    ``columns`` (the same pairs) and ``values`` (``field: {text in the file: catalogue value}``).
    CSV: the columns ``source,field`` and, optionally, ``value``: a row with a value says what
    a text of that field means, a row without one maps a column.
    """
    if not path.exists():
        raise GisPlannerError(f"{path}: mapping file not found")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8-sig")
    data: object
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".csv":
            return _csv_mapping(path)
        else:
            raise GisPlannerError(f"{path}: a mapping file is .yaml, .yml, .json or .csv")
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise GisPlannerError(f"{path}: not a readable mapping ({error})") from None
    if isinstance(data, dict) and any(isinstance(v, dict) for v in data.values()):
        unknown = set(data) - {"columns", "values"}
        columns, values = data.get("columns") or {}, data.get("values") or {}
        if unknown or not isinstance(columns, dict) or not isinstance(values, dict):
            raise GisPlannerError(f"{path}: a mapping has the sections 'columns' and 'values'")
        if not all(isinstance(v, dict) and _pairs(v) for v in values.values()):
            raise GisPlannerError(f"{path}: 'values' is 'field: {{text: value}}' pairs")
    else:
        columns, values = data, {}
    if not isinstance(columns, dict) or not _pairs(columns):
        raise GisPlannerError(f"{path}: a mapping is 'source column: field' pairs")
    return MappingFile(
        {str(k): str(v) for k, v in columns.items()},
        {str(f): {str(k): str(v) for k, v in texts.items()} for f, texts in values.items()},
    )


def _pairs(data: dict[object, object]) -> bool:
    """Text (or number) keys and values: YAML reads a code such as 2 or 2025 as a number."""
    return all(isinstance(x, str | int | float) for pair in data.items() for x in pair)


def _csv_mapping(path: Path) -> MappingFile:
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    if list(table.columns[:2]) != ["source", "field"]:
        raise GisPlannerError(f"{path}: a CSV mapping needs the columns source,field(,value)")
    if "value" not in table:
        table["value"] = ""
    columns = table[table["value"] == ""]
    values: dict[str, dict[str, str]] = {}
    meanings = table.loc[table["value"] != "", ["source", "field", "value"]]
    for source, field, meaning in meanings.itertuples(index=False):
        values.setdefault(field, {})[source] = meaning
    return MappingFile(dict(zip(columns["source"], columns["field"], strict=True)), values)
