"""Passive infrastructure: the stored study of ``gis-planner passive``.

The counts of sites by outcome and the cable shares by commune are everyone's (aggregated, as
the sharing ratios are); the checked sites are each operator's own (an admin's all), the host
structures admins' only (the utilities' registers are not public). The endpoint serves what the
command stored, with the assumptions recorded with it.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from api.access import layer_view
from api.deps import Caller, Layers, Store
from api.routers.common import cache_control, visible_layer
from gis_planner.catalogue import CATALOGUE
from gis_planner.catalogue.passive import JOB, PASSIVE_LAYERS

LAYERS = tuple(spec.name for spec in PASSIVE_LAYERS)

router = APIRouter(prefix="/analysis", tags=["analysis"])


class PassiveAnswer(BaseModel):
    """Hạ tầng viễn thông thụ động / Passive infrastructure."""

    counts: list[dict[str, Any]] = Field(
        description=(
            "Số trạm theo đối tượng và kết quả / Sites by subject (site, planned_site, "
            "proposal, host_structure) and outcome (compliant, permit_needed, forbidden)"
        )
    )
    cables: list[dict[str, Any]] = Field(
        description=(
            "Cáp treo, cáp ngầm và cống bể theo xã và toàn tỉnh / Aerial and underground "
            "cable and ducts by commune and for the province, the underground share and goal"
        )
    )
    sites: dict[str, Any] | None = Field(
        description=(
            "Trạm đã kiểm tra mà người gọi được xem, GeoJSON / The checked sites the caller "
            "may see (an operator its own, an admin all), with the deciding rule; null for "
            "anonymous callers"
        )
    )
    hosts: dict[str, Any] | None = Field(
        description=(
            "Công trình ngành khác làm vị trí lắp anten, GeoJSON; chỉ quản trị / Other "
            "sectors' structures as hosts, checked; null but for admins"
        )
    )
    assumptions: dict[str, Any] = Field(
        description="Giả định của nghiên cứu / The study's recorded assumptions"
    )


@router.get(
    "/passive",
    response_model=PassiveAnswer,
    summary="Hạ tầng viễn thông thụ động / Passive infrastructure",
    description=(
        "Trạm hiện có, quy hoạch và đề xuất so với vùng quy hoạch và khu vực cấm, công trình "
        "ngành khác làm vị trí lắp anten, tỷ lệ cáp ngầm theo xã; 404 trước khi chạy "
        "`gis-planner passive`. / Existing, planned and proposed sites against the planning "
        "zones and exclusion areas, other sectors' structures as hosts, the underground "
        "share of cable by commune; 404 until `gis-planner passive` has run."
    ),
)
def passive(layers: Layers, store: Store, who: Caller, response: Response) -> PassiveAnswer:
    if not set(LAYERS) <= set(layers.infos()):
        raise HTTPException(
            404,
            "chưa có, hãy chạy `gis-planner passive` / the passive infrastructure has not "
            "been studied: run `gis-planner passive` first",
        )
    checks = layers.layer("site_compliance").frame
    hosts = layers.layer("passive_hosts").frame
    counts = [
        {"subject": subject, "status": status, "count": int(count)}
        for (subject, status), count in checks.groupby(["subject", "status"]).size().items()
    ]
    counts += [
        {"subject": "host_structure", "status": status, "count": int(count)}
        for status, count in hosts["status"].value_counts().sort_index().items()
    ]
    cables, cables_view = visible_layer(layers, "cable_shares", who)
    rows = cables.records(cables.select(np.arange(len(cables.frame)), cables_view), cables_view)
    record = layers.memo(
        ("passive-record",),
        lambda: next(r for r in store.products() if r.job == JOB and r.layer == "site_compliance"),
    )
    response.headers["Cache-Control"] = cache_control(who)
    return PassiveAnswer(
        counts=counts,
        cables=rows,
        sites=_features(layers, "site_compliance", who),
        hosts=_features(layers, "passive_hosts", who),
        assumptions=dict(record.parameters),
    )


def _features(layers: Layers, name: str, who: Caller) -> dict[str, Any] | None:
    """The rows of ``name`` the caller may see as GeoJSON; None when it may see none."""
    if layer_view(name, CATALOGUE[name].field_names, who) is None:
        return None
    layer, view = visible_layer(layers, name, who)
    chosen = layer.select(np.arange(len(layer.frame)), view)
    assert isinstance(layer.frame, gpd.GeoDataFrame)
    frame = gpd.GeoDataFrame(
        layer.records(chosen, view),
        geometry=layer.frame.geometry.iloc[chosen].to_numpy(),
        crs=layer.frame.crs,
    )
    answer: dict[str, Any] = json.loads(frame.to_json(drop_id=True))
    return answer
