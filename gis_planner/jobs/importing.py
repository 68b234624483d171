"""The import job: a file checked into a layer, every rejected row in the reject report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from gis_planner.io import (
    Area,
    ImportOptions,
    ImportResult,
    check_file,
    context_from_store,
    import_file,
    save_reports,
)
from gis_planner.io.coordinates import DEFAULT_TOLERANCE_M, province_outline
from gis_planner.sample import read_sample_layer
from gis_planner.settings import get_settings
from gis_planner.store import LayerStore


@dataclass(frozen=True)
class ImportSpec:
    """One file into one layer."""

    file: Path
    layer: str
    options: ImportOptions = field(default_factory=ImportOptions)
    #: How far outside the province rows may lie.
    tolerance_m: float = DEFAULT_TOLERANCE_M
    #: Where the reject report goes; default ``<store assets>/rejects`` for an import and
    #: ``<output>/rejects`` for a validation (which writes nothing to the store).
    report_dir: Path | None = None


def run(spec: ImportSpec, store: LayerStore) -> ImportResult:
    """Check the file and write its accepted rows to ``store`` in one transaction."""
    return import_file(
        spec.file,
        spec.layer,
        store,
        options=spec.options,
        area=province_area(store, spec.tolerance_m),
        report_dir=spec.report_dir,
    )


def validate(spec: ImportSpec, store: LayerStore) -> ImportResult:
    """Check the file as ``run`` would, writing only the reject report."""
    layers = ("sites", "cells") if spec.layer in ("sites", "cells") else (spec.layer,)
    checked = check_file(
        spec.file,
        spec.layer,
        options=spec.options,
        context=context_from_store(store, province_area(store, spec.tolerance_m), layers),
    )
    return save_reports(checked.result, spec.report_dir or get_settings().output_dir / "rejects")


def province_area(store: LayerStore, tolerance_m: float) -> Area:
    """The province from the store's admin units, else from the bundled sample's (a store
    being built from scratch has none yet)."""
    if store.has_layer("admin_units"):
        units = store.read("admin_units")
    else:
        units = read_sample_layer(get_settings().sample_dir / "admin_units.geojson")
    assert isinstance(units, gpd.GeoDataFrame)
    return Area.from_outline(province_outline(units), tolerance_m)
