"""Product records of a coverage run: one per COG and per layer it writes.

The bands of a record come from what the COG says of itself (its band descriptions and its
``operator``/``technology`` tags), so that the records follow the writer, not a file-name
pattern.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import rasterio

from gis_planner.coverage.products import coverage_tags
from gis_planner.coverage.scene import CoverageParams
from gis_planner.i18n import Lang
from gis_planner.products import Band, ProductArea, ProductRecord, Scope

JOB = "coverage"
#: Layers a coverage run reads: a record is stale once one of them is rewritten. Cells sit
#: on sites, so a change of the sites layer makes the coverage stale too. The terrain files
#: are not layers: the records' parameters name them (``terrain``: path, size, mtime).
INPUT_LAYERS = ("cells", "sites", "admin_units", "villages", "priority_areas")
#: Band description written by the coverage writer → (name, quantity, unit, description).
BAND_KINDS: dict[str, tuple[str, str, str, str]] = {
    "best_rsrp_dbm": ("rsrp", "rsrp_dbm", "dBm", "RSRP of the best server"),
    "second_rsrp_dbm": ("second_rsrp", "rsrp_dbm", "dBm", "RSRP of the second-best server"),
    "sinr_db": ("sinr", "sinr_db", "dB", "SINR of the best server"),
    "best_server_index": (
        "best_server", "server_index", "",
        "Best server: 1-based server_index of coverage_servers for this operator/technology",
    ),
    "servers_above_threshold": (
        "n_servers", "server_count", "cells", "Cells at or above the technology's threshold"
    ),
    "best_operator_code": (
        "best_operator", "operator_code", "", "Operator of the best RSRP (see operator_codes)"
    ),
}  # fmt: skip


def product_id(scope: Scope, name: str) -> str:
    """``coverage.{scope}.{name}``; the province's scope is called ``province``."""
    return f"{JOB}.{scope.key or 'province'}.{name}"


def raster_bands(path: Path) -> tuple[Band, ...]:
    """The bands of a coverage COG, from its band descriptions."""
    with rasterio.open(path) as dataset:
        descriptions = dataset.descriptions
    bands = []
    for index, description in enumerate(descriptions, start=1):
        text = description or f"band_{index}"
        name, quantity, unit, meaning = BAND_KINDS.get(text, (text, text, "", text))
        bands.append(Band(index, name, quantity, unit, meaning))
    return tuple(bands)


def coverage_records(
    *,
    scope: Scope,
    params: CoverageParams,
    area: ProductArea,
    inputs: Mapping[str, int],
    rasters: Sequence[Path],
    assets_dir: Path,
    layers: Mapping[str, str],
    operators_by_technology: Mapping[str, Sequence[str]],
) -> list[ProductRecord]:
    """The records of a run's rasters (at their final paths below ``assets_dir``) and layers
    (catalogue name → store layer). ``operators_by_technology`` lists the operators computed
    for each technology: the operators of an any-operator composite."""
    parameters: dict[str, Any] = json.loads(coverage_tags(params)["coverage_params"])
    technologies = tuple(sorted(operators_by_technology))
    every_operator = tuple(sorted({o for ops in operators_by_technology.values() for o in ops}))
    records = []
    for path in rasters:
        with rasterio.open(path) as dataset:
            tags = dataset.tags()
        technology = tags.get("technology", "")
        operator = tags.get("operator", "")
        operators = (
            tuple(sorted(operators_by_technology.get(technology, ())))
            if operator == "any"
            else (operator,)
        )
        records.append(
            ProductRecord(
                id=product_id(scope, path.stem),
                kind="raster",
                job=JOB,
                parameters=parameters,
                area=area,
                operators=operators,
                technologies=(technology,),
                inputs=inputs,
                scope=scope.key,
                bands=raster_bands(path),
                path=path.relative_to(assets_dir).as_posix(),
            )
        )
    for name, layer in layers.items():
        records.append(
            ProductRecord(
                id=product_id(scope, name),
                kind="layer",
                job=JOB,
                parameters=parameters,
                area=area,
                operators=every_operator,
                technologies=technologies,
                inputs=inputs,
                scope=scope.key,
                layer=layer,
            )
        )
    return records


def terrain_text(parameters: Mapping[str, Any], lang: Lang) -> str:
    """What a coverage product was computed over, for people: the elevation model and land
    cover by file name with k, or level ground (its record's ``terrain`` parameter)."""
    terrain = parameters.get("terrain")
    if not terrain:
        return (
            "mặt đất phẳng (không có mô hình địa hình)"
            if lang == "vi"
            else "level ground (no terrain model)"
        )
    dem, k = Path(terrain["dem"]["path"]).name, float(terrain["k_factor"])
    clutter = terrain.get("clutter")
    if lang == "vi":
        text = f"mô hình độ cao {dem} (hệ số bán kính Trái Đất k = {k:.2f})"
        return text + (f", lớp phủ mặt đất {Path(clutter['path']).name}" if clutter else "")
    text = f"the elevation model {dem} (effective earth radius factor k = {k:.2f})"
    return text + (f", land cover {Path(clutter['path']).name}" if clutter else "")
