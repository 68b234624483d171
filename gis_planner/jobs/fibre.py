"""The fibre job: FTTH coverage, backhaul, single points of failure and extensions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gis_planner.crs import metric_crs_of
from gis_planner.fibre.products import FibreParams, FibreProducts, analyse_fibre, proposed_sites
from gis_planner.fibre.report import write_report
from gis_planner.i18n import Lang
from gis_planner.products import input_revisions, layer_record
from gis_planner.store import LayerStore

JOB = "fibre"
SOURCE_LAYERS = ("fibre_routes", "fibre_nodes", "villages", "sites", "admin_units")


@dataclass(frozen=True)
class FibreSpec:
    params: FibreParams = field(default_factory=FibreParams)
    #: Store layer of corridors (roads) extensions should follow.
    corridors: str | None = None
    #: The report workbook; default ``fibre_report.xlsx`` in the store's assets.
    report: Path | None = None
    lang: Lang = "vi"


@dataclass(frozen=True)
class FibreResult:
    layers: tuple[str, ...]
    report: Path
    #: Every layer written, for the figures a caller shows.
    products: FibreProducts


def run(spec: FibreSpec, store: LayerStore) -> FibreResult:
    """Analyse the fibre network; write its layers (one transaction) and the report.

    Sites with status "planned" and, when the store holds them, the siting job's
    ``site_proposals`` are backhauled as proposed sites.
    """
    # The revisions first: a layer written during the run makes the products stale.
    used = (*SOURCE_LAYERS, "site_proposals", *((spec.corridors,) if spec.corridors else ()))
    inputs = input_revisions(store.layer_revisions(), used)
    frames = {name: store.read(name) for name in SOURCE_LAYERS}
    corridors = store.read(spec.corridors) if spec.corridors else None
    proposed = (
        proposed_sites(store.read("site_proposals")) if store.has_layer("site_proposals") else None
    )
    products = analyse_fibre(
        frames["fibre_routes"],
        frames["fibre_nodes"],
        frames["villages"],
        frames["sites"],
        frames["admin_units"],
        proposed=proposed,
        corridors=corridors,
        params=spec.params,
        metric_crs=metric_crs_of(frames["admin_units"]),
    )
    record = {"drop_m": spec.params.drop_m, "snap_m": spec.params.snap_m}
    operators = frames["fibre_routes"]["operator"].dropna()
    parameters = {**record, "near_miss_m": spec.params.near_miss_m, "corridors": spec.corridors}
    with store.transaction() as writer:
        for name, frame in products.layers.items():
            writer.write(name, frame, metadata=record)
            writer.register(layer_record(JOB, name, parameters, inputs, operators=operators))
    report = spec.report or store.assets_dir / "fibre_report.xlsx"
    path = write_report(products, report, spec.lang)
    return FibreResult(tuple(products.layers), path, products)
