"""The overview jobs: what the store holds (layers, counts, breakdowns) and its overview map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gis_planner.catalogue import CATALOGUE
from gis_planner.i18n import Lang
from gis_planner.inventory import describe
from gis_planner.maps import OVERVIEW_LAYERS, overview_map, save_map
from gis_planner.store import LayerInfo, LayerStore


@dataclass(frozen=True)
class InventorySpec:
    lang: Lang = "vi"


@dataclass(frozen=True)
class LayerSummary:
    info: LayerInfo
    #: The catalogue's label of the layer ("" for a layer it does not describe).
    label: str
    #: Counts by the layer's main categories (operators, technologies…), one line.
    breakdown: str


def inventory(spec: InventorySpec, store: LayerStore) -> list[LayerSummary]:
    summaries = []
    for info in store.list_layers():
        spec_of_layer = CATALOGUE.get(info.name)
        label = spec_of_layer.label(spec.lang) if spec_of_layer else ""
        breakdown = describe(info.name, store.read(info.name), spec.lang)
        summaries.append(LayerSummary(info, label, breakdown))
    return summaries


@dataclass(frozen=True)
class MapSpec:
    out: Path
    lang: Lang = "vi"


def write_map(spec: MapSpec, store: LayerStore) -> Path:
    """The overview map of the store's layers, as HTML that opens with no internet."""
    frames = {name: store.read(name) for name in OVERVIEW_LAYERS}
    return save_map(overview_map(frames, spec.lang), spec.out)
