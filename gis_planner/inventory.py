"""What a store holds: per layer, its count and the breakdown an engineer looks for first."""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd

from gis_planner.catalogue.layers import ADMIN_VERSIONS
from gis_planner.crs import metric_crs_of
from gis_planner.i18n import Lang, value_label
from gis_planner.operators import operator


def _counts(series: pd.Series, lang: Lang, label: Callable[[str], str] | None = None) -> str:
    counts = series.value_counts(sort=False).sort_index()
    name = label or (lambda value: value_label(value, lang))
    return " · ".join(f"{name(str(k))} {v:,}" for k, v in counts.items())


def _admin(frame: pd.DataFrame, lang: Lang) -> str:
    parts = []
    for version in ADMIN_VERSIONS:
        rows = frame[frame["admin_version"] == version]
        if rows.empty:
            continue
        levels = rows["level"].value_counts()
        text = ", ".join(
            f"{levels[level]} {value_label(level, lang).lower()}"
            for level in ("province", "district", "commune")
            if level in levels
        )
        parts.append(f"{value_label(version, lang)}: {text}")
    return "; ".join(parts)


def _villages(frame: pd.DataFrame, lang: Lang) -> str:
    people = "người" if lang == "vi" else "people"
    return f"{_counts(frame['village_type'], lang)}; {int(frame['population'].sum()):,} {people}"


def _positions(frame: pd.DataFrame, lang: Lang) -> str:
    """The positions product as made (its tolerance is in its record): never clustered here."""
    shared = int(frame["shared"].astype(bool).sum())
    shared_word = "dùng chung" if lang == "vi" else "shared"
    sites_word = "trạm" if lang == "vi" else "sites"
    return f"{shared:,} {shared_word}; {int(frame['n_sites'].sum()):,} {sites_word}"


def _routes(frame: pd.DataFrame, lang: Lang) -> str:
    assert isinstance(frame, gpd.GeoDataFrame)
    length_km = frame.geometry.to_crs(metric_crs_of(frame)).length.sum() / 1000
    return f"{length_km:,.0f} km; {_counts(frame['route_class'], lang)}"


DESCRIBERS: dict[str, Callable[[pd.DataFrame, Lang], str]] = {
    "admin_units": _admin,
    "villages": _villages,
    "sites": lambda f, lang: _counts(f["operator"], lang, lambda key: operator(key).name),
    "positions": _positions,
    "cells": lambda f, lang: _counts(f["technology"], lang),
    "fibre_routes": _routes,
    "fibre_nodes": lambda f, lang: _counts(f["node_type"], lang),
    "priority_areas": lambda f, lang: _counts(f["category"], lang),
    "admin_crosswalk": lambda f, lang: _counts(f["relation"], lang),
}


def describe(name: str, frame: pd.DataFrame, lang: Lang = "vi") -> str:
    """A one-line breakdown of a layer ("" for layers without a describer)."""
    describer = DESCRIBERS.get(name)
    return describer(frame, lang) if describer and not frame.empty else ""
