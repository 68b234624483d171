"""The browser viewer: its page, its configuration for the caller, and the search."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

import numpy as np
import pandas as pd
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.access import Principal
from api.cachedlayer import Indices
from api.deps import Caller, Language, Layers, Settings, Store
from api.layercache import LayerCache
from api.models import (
    Identified,
    IdentifiedFeature,
    SearchHit,
    SearchResults,
    ViewerArea,
    ViewerConfig,
    ViewerLayer,
)
from api.routers.common import public_url, visible_layer, visible_names
from api.routers.rasters import Raster, tiles_url, visible_bands, visible_rasters
from gis_planner.admin import place_name, unit_name, unit_names
from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.layers import ADMIN_VERSIONS
from gis_planner.colormaps import colour_map_of_quantity
from gis_planner.coverage.registry import JOB as COVERAGE_JOB
from gis_planner.coverage.registry import terrain_text
from gis_planner.i18n import VALUE_LABELS, Lang, fold, value_label
from gis_planner.operators import MOBILE_OPERATORS, operator

router = APIRouter(tags=["viewer"])

#: The layer switcher's groups, in order, with their labels (vi, en).
GROUPS: dict[str, tuple[str, str]] = {
    "admin": ("Đơn vị hành chính", "Administrative units"),
    "sites": ("Trạm BTS theo nhà mạng", "Sites by operator"),
    "cells": ("Cell", "Cells"),
    "fibre": ("Cáp quang", "Fibre"),
    "coverage": ("Vùng phủ sóng", "Coverage"),
    "speeds": ("Tốc độ tải xuống", "Download speeds"),
    "gaps": ("Vùng lõm sóng", "Coverage gaps"),
    "planning": ("Khu vực ưu tiên", "Priority areas"),
    "sharing": ("Dùng chung hạ tầng", "Infrastructure sharing"),
    "passive": ("Hạ tầng thụ động: vùng quy hoạch, khu vực cấm", "Passive infrastructure plan"),
    "studies": (
        "Tắt sóng 2G/3G, khu công nghiệp, hạ tầng thụ động",
        "2G/3G switch-off, industrial zones, passive infrastructure",
    ),
}
#: Catalogue groups shown under another switcher group.
_GROUP_OF = {"radio": "cells"}
#: Layers shown in a switcher group other than their catalogue group's.
_LAYER_GROUP = {
    "coverage_gaps": "gaps",
    "switchoff_villages": "studies",
    "switchoff_restoration": "studies",
    "industry_additions": "studies",
    "site_compliance": "studies",
    "passive_hosts": "studies",
}
#: Sub-layers of the administrative units (one layer, two versions, three levels).
_ADMIN_PARTS = (
    ("district", "pre2025", "Cấp huyện (trước 2025)", "Districts (before 2025)"),
    ("commune", "pre2025", "Cấp xã (trước 7/2025)", "Communes (before 7/2025)"),
    ("commune", "2025-07", "Cấp xã (từ 7/2025)", "Communes (from 7/2025)"),
)
#: The units of July 2025, shown at first where the store holds them: the districts they
#: abolished are then one tick away, not labelled on the map as if they still were.
_CURRENT_UNITS = ADMIN_VERSIONS[-1]
#: Bands of a raster the switcher offers, as layers of their own.
VIEWER_BANDS = ("rsrp", "sinr", "best_server", "throughput")
#: Switcher group of the bands that are not the coverage's own.
_BAND_GROUP = {"throughput": "speeds"}
#: The field drawn as a layer's label on the map (from a zoom the viewer chooses).
LABEL_FIELDS = {
    "admin_units": "name", "villages": "name", "sites": "site_id", "priority_areas": "name",
    "ftth_villages": "name", "coverage_gaps": "name", "fibre_nodes": "name",
    "planning_zones": "name", "exclusion_areas": "name",
}  # fmt: skip
#: What a signal-level band measures on each technology: RxLev on 2G, RSCP on 3G…
LEVEL_WORDS = {"2G": "RxLev", "3G": "RSCP", "4G": "RSRP", "5G": "SS-RSRP"}
#: What the other bands the viewer offers are called (vi, en).
BAND_WORDS = {"sinr": ("SINR", "SINR"), "best_server": ("Cell phục vụ", "Best server")}
#: Fields searched in each layer, and what a hit is called.
SEARCH_FIELDS = (
    ("admin_units", "name", "admin_unit"),
    ("villages", "name", "village"),
    ("sites", "site_id", "site"),
    ("priority_areas", "name", "priority_area"),
)


def viewer_page() -> HTMLResponse:
    page = resources.files("api").joinpath("static/viewer.html").read_text(encoding="utf-8")
    return HTMLResponse(page)


def _popup(layers: LayerCache, name: str, who: Principal, lang: Lang) -> dict[str, str]:
    _, view = visible_layer(layers, name, who)
    spec = CATALOGUE.get(name)
    labels = {fs.name: fs.label(lang) for fs in spec.fields} if spec else {}
    return {f: labels.get(f, f) for f in view.fields if f != "source"}


def _units(name: str) -> dict[str, str]:
    spec = CATALOGUE.get(name)
    return {fs.name: fs.unit for fs in spec.fields if fs.unit} if spec else {}


def raster_title(raster: Raster, band: str, lang: Lang) -> str:
    """A raster layer's title for people: "Vùng phủ 4G — RSRP · Viettel", RxLev on 2G; a
    throughput raster's "Tốc độ tải xuống 4G · Viettel"."""
    techs = raster.record.technologies
    if band == "rsrp":
        word = "/".join(dict.fromkeys(LEVEL_WORDS.get(t, "RSRP") for t in techs)) or "RSRP"
    else:
        vi, en = BAND_WORDS.get(band, (band, band))
        word = vi if lang == "vi" else en
    who = (
        operator(raster.operator).name if raster.operator in MOBILE_OPERATORS
        else ("mọi nhà mạng" if lang == "vi" else "all operators")
    )  # fmt: skip
    if band == "throughput":
        what = "Tốc độ tải xuống" if lang == "vi" else "Download speed"
        return f"{what} {'/'.join(techs)} · {who}"
    what = "Vùng phủ" if lang == "vi" else "Coverage"
    return f"{what} {'/'.join(techs)} — {word} · {who}".replace("  ", " ")


def _computed_over(raster: Raster, lang: Lang) -> str | None:
    """What a coverage raster was computed over (terrain or level ground); None for others."""
    if raster.record.job != COVERAGE_JOB:
        return None
    label = "Tính trên" if lang == "vi" else "Computed over"
    return f"{label}: {terrain_text(raster.record.parameters, lang)}"


def _place_names(layers: LayerCache, who: Principal) -> dict[str, str]:
    """District and commune names by code, for popups and tables: the pre-2025 units' where
    both versions use a code (the villages' ``commune_code`` is pre-2025)."""
    if "admin_units" not in visible_names(layers, who):
        return {}
    return unit_names(layers.layer("admin_units").frame)


def _vector_layers(base: str, layers: LayerCache, who: Principal, lang: Lang) -> list[ViewerLayer]:
    out: list[ViewerLayer] = []
    for name in visible_names(layers, who):
        spec = CATALOGUE.get(name)
        info = layers.info(name)
        if spec is None or info.geometry_type is None or info.count == 0:
            continue
        tiles = f"{base}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt"
        popup = _popup(layers, name, who, lang)
        units = _units(name)
        label_field = LABEL_FIELDS.get(name)
        if name == "admin_units":
            held = layers.layer(name)
            current = bool(
                (
                    (held.column("level") == "commune")
                    & (held.column("admin_version") == _CURRENT_UNITS)
                ).any()
            )
            for level, version, vi, en in _ADMIN_PARTS:
                shown = version == (_CURRENT_UNITS if current else "pre2025")
                out.append(
                    ViewerLayer(
                        id=f"admin_units.{level}.{version}",
                        title=vi if lang == "vi" else en,
                        group="admin",
                        tiles=f"{tiles}?level={level}&admin_version={version}",
                        source=name,
                        filters={"level": level, "admin_version": version},
                        visible=shown,
                        geometry_type=info.geometry_type,
                        popup_fields=popup,
                        units=units,
                        label_field=label_field,
                    )
                )
        elif name == "sites":
            present = set(layers.layer(name).frame["operator"].dropna().unique())
            for key in (k for k in MOBILE_OPERATORS if k in present):
                out.append(
                    ViewerLayer(
                        id=f"sites.{key}",
                        title=operator(key).name,
                        group="sites",
                        tiles=f"{tiles}?operator={key}",
                        source=name,
                        filters={"operator": key},
                        colour=operator(key).colour,
                        visible=True,
                        geometry_type=info.geometry_type,
                        popup_fields=popup,
                        units=units,
                        label_field=label_field,
                    )
                )
        elif name == "coverage_gaps":
            # One layer a technology: the 5G gaps and the 3G gaps are different plans.
            techs = sorted(set(layers.layer(name).frame["technology"].dropna().astype(str)))
            for tech in reversed(techs):
                out.append(
                    ViewerLayer(
                        id=f"coverage_gaps.{tech}",
                        title=f"{spec.label(lang)} · {tech}",
                        group="gaps",
                        tiles=f"{tiles}?technology={tech}",
                        source=name,
                        filters={"technology": tech},
                        geometry_type=info.geometry_type,
                        popup_fields=popup,
                        units=units,
                        label_field=label_field,
                    )
                )
        else:
            group = _LAYER_GROUP.get(name) or _GROUP_OF.get(spec.group, spec.group)
            out.append(
                ViewerLayer(
                    id=name,
                    title=spec.label(lang),
                    group=group,
                    tiles=tiles,
                    source=name,
                    visible=name == "priority_areas",
                    geometry_type=info.geometry_type,
                    popup_fields=popup,
                    units=units,
                    label_field=label_field,
                )
            )
    return out


@router.get(
    "/viewer/config.json",
    response_model=ViewerConfig,
    summary="Cấu hình trình xem / Viewer configuration",
    description="Các lớp người gọi được xem, theo nhóm / The caller's layers, grouped.",
)
def viewer_config(
    request: Request, layers: Layers, store: Store, who: Caller, lang: Language, settings: Settings
) -> ViewerConfig:
    base = public_url(request, "")
    entries = _vector_layers(base, layers, who, lang)
    coverage = False
    for raster in visible_rasters(layers, who).values():
        for band in visible_bands(raster, who):
            cmap = colour_map_of_quantity(band.quantity)
            if band.name not in VIEWER_BANDS or cmap is None:
                continue
            coverage = True
            stale = (" (cũ)" if lang == "vi" else " (stale)") if raster.stale else ""
            entries.append(
                ViewerLayer(
                    id=f"raster.{raster.id}.{band.name}",
                    title=raster_title(raster, band.name, lang) + stale,
                    group=_BAND_GROUP.get(band.name, "coverage"),
                    kind="raster",
                    tiles=tiles_url(base, raster, band, cmap),
                    legend=f"{base}/legends/{cmap.name}?lang={lang}",
                    description=_computed_over(raster, lang),
                    bounds=list(raster.bounds),
                    # Leaflet asks no tile below it: the server would refuse them (400).
                    minzoom=raster.pyramid.min_zoom,
                )
            )
    infos = [i for i in layers.infos().values() if i.bounds is not None]
    bounds = (
        [min(i.bounds[0] for i in infos if i.bounds), min(i.bounds[1] for i in infos if i.bounds),
         max(i.bounds[2] for i in infos if i.bounds), max(i.bounds[3] for i in infos if i.bounds)]
        if infos else [105.75, 20.35, 106.2, 20.72]
    )  # fmt: skip
    used = {e.group for e in entries}
    groups = {g: (vi if lang == "vi" else en) for g, (vi, en) in GROUPS.items() if g in used}
    groups.update({g: g for g in sorted(used - set(groups))})
    admin = layers.layer("admin_units").frame if "admin_units" in layers.infos() else None
    return ViewerConfig(
        title="gis-planner" + (f" · {place_name(admin, lang)}" if admin is not None else ""),
        lang=lang,
        role=who.role,
        operator=who.operator,
        bounds=bounds,
        basemap_url=settings.basemap_url,
        basemap_attribution=settings.basemap_attribution,
        groups=groups,
        layers=entries,
        coverage=coverage,
        link_profile=settings.terrain is not None and "sites" in layers.infos(),
        value_labels={k: value_label(k, lang) for k in VALUE_LABELS}
        | {k: operator(k).name for k in MOBILE_OPERATORS},
        place_names=_place_names(layers, who),
        areas=_areas(admin, lang) if admin is not None else [],
    )


def _areas(admin_units: pd.DataFrame, lang: Lang) -> list[ViewerArea]:
    """The provinces of the newest version, then the former provinces (named so) unless they
    came through unchanged: the areas a user picks in the viewer."""
    provinces = admin_units[admin_units["level"] == "province"].sort_values("code")
    current = provinces[provinces["admin_version"] == "2025-07"]
    former = provinces[provinces["admin_version"] == "pre2025"]
    if list(former["name"]) == list(current["name"]):
        former = former.iloc[:0]
    areas = []
    for version, rows in (("2025-07", current), ("pre2025", former)):
        for code, geometry in zip(rows["code"], rows.geometry, strict=True):
            areas.append(
                ViewerArea(
                    id=f"{version}:{code}",
                    name=unit_name(admin_units, version, str(code), lang),
                    bounds=[round(v, 6) for v in geometry.bounds],
                )
            )
    return areas


@router.get(
    "/viewer/identify",
    response_model=Identified,
    summary="Đối tượng tại điểm / Features at a point",
    description=(
        "Các đối tượng của các lớp đã chọn trong bán kính quanh điểm bấm, gần nhất trước "
        "(tối đa 5 mỗi lớp). / Features of the given layers within a radius of the clicked "
        "point, nearest first (at most 5 a layer)."
    ),
)
def identify(
    layers: Layers,
    who: Caller,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-85, le=85)],
    layer: Annotated[list[str], Query(description="Lớp / Store layers", max_length=20)],
    radius_m: Annotated[float, Query(gt=0, le=5000, description="Bán kính (m) / Radius")] = 50,
) -> Identified:
    found: list[IdentifiedFeature] = []
    for name in dict.fromkeys(layer):
        cached, view = visible_layer(layers, name, who)
        rows = cached.select(cached.nearest_lonlat(lon, lat, radius_m), view)[:5]
        records = cached.records(rows, view)
        found.extend(
            IdentifiedFeature(layer=name, id=str(fid), properties=props)
            for fid, props in zip(cached.fids[rows], records, strict=True)
        )
    return Identified(lon=lon, lat=lat, features=found)


@router.get(
    "/search",
    response_model=SearchResults,
    summary="Tìm xã, thôn, mã trạm / Search communes, villages, site codes",
    description=(
        "Không phân biệt dấu và hoa thường: 'phu ly' tìm thấy 'Phủ Lý'. / Accent- and "
        "case-insensitive: 'phu ly' finds 'Phủ Lý'."
    ),
)
def search(
    layers: Layers,
    who: Caller,
    q: Annotated[str, Query(min_length=2, max_length=100, description="Từ khoá / Text")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResults:
    needle = fold(q)
    hits: list[SearchHit] = []
    available = set(visible_names(layers, who))
    communes = _place_names(layers, who)
    for name, field, kind in SEARCH_FIELDS:
        if name not in available or len(hits) >= limit:
            continue
        layer, view = visible_layer(layers, name, who)
        if field not in view.filterable:
            continue
        folded = layer.folded(field)
        matches = folded.str.contains(needle, regex=False).to_numpy()
        # Exact and prefix matches first, then the rest, each in row order.
        rank = np.where(
            folded.to_numpy() == needle, 0, np.where(folded.str.startswith(needle), 1, 2)
        )
        rows = np.flatnonzero(matches)
        rows = layer.select(rows[np.argsort(rank[rows], kind="stable")], view)[: limit - len(hits)]
        boxes = shapely.bounds(layer.frame.geometry.to_numpy()[rows])
        labels = layer.frame[field].astype(str).to_numpy()[rows]
        extra = _hit_detail(layer.frame, name, rows, communes)
        for fid, label, box, detail in zip(layer.fids[rows], labels, boxes, extra, strict=True):
            hits.append(
                SearchHit(
                    layer=name,
                    id=str(fid),
                    label=f"{label} ({detail})" if detail else str(label),
                    kind=kind,
                    bbox=[float(v) for v in box],
                )
            )
    return SearchResults(query=q, hits=hits)


def _hit_detail(
    frame: pd.DataFrame, name: str, rows: Indices, communes: dict[str, str]
) -> list[str]:
    """What tells two hits of the same name apart: a unit's version, a village's commune (its
    name beside its code), a site's operator."""
    if name == "villages":
        codes = frame["commune_code"].astype(str).to_numpy()[rows]
        return [f"{communes[c]} · {c}" if c in communes else c for c in codes]
    if name == "admin_units":
        return [value_label(v) for v in frame["admin_version"].astype(str).to_numpy()[rows]]
    if name == "sites":
        return [operator(v).name for v in frame["operator"].astype(str).to_numpy()[rows]]
    return [""] * len(rows)
