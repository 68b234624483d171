"""5G and IoT in the industrial zones: the stored study of ``gis-planner industry``.

The figures over operators are everyone's, as the coverage's are; an operator key adds its own
rows, an admin key every operator's. The study is computed by the command (it reads the coverage
rasters and runs the covering solver); the endpoint serves what the command stored.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from api.deps import Caller, Layers
from api.routers.common import cache_control, visible_layer

router = APIRouter(prefix="/analysis", tags=["analysis"])


class IndustryAnswer(BaseModel):
    """5G và IoT tại khu công nghiệp / 5G and IoT in the industrial zones."""

    zones: list[dict[str, Any]] = Field(
        description=(
            "Khu × nhà mạng: tỷ lệ phủ 5G ngoài trời, trong nhà, NB-IoT, LTE-M; xếp hạng theo "
            "khoảng cách tới mục tiêu / Zone × operator: 5G outdoor and indoor, NB-IoT and "
            "LTE-M shares; the any-operator rows ranked by their gap to the target"
        )
    )
    additions: dict[str, Any] = Field(
        description="Bổ sung 5G, GeoJSON (WGS84) / The 5G additions closing the gaps"
    )


@router.get(
    "/industry",
    response_model=IndustryAnswer,
    summary="5G và IoT tại khu công nghiệp / 5G and IoT in industrial zones",
    description=(
        "Vùng phủ 5G (ngoài trời, trong nhà), NB-IoT và LTE-M của từng khu công nghiệp, các khu "
        "xa mục tiêu nhất trước, và các phương án bổ sung 5G; 404 trước khi chạy `gis-planner "
        "industry`. / The 5G (outdoor, indoor), NB-IoT and LTE-M coverage of each industrial "
        "zone, furthest from the target first, and the 5G additions; 404 until `gis-planner "
        "industry` has run."
    ),
)
def industry(layers: Layers, who: Caller, response: Response) -> IndustryAnswer:
    if not {"industry_zones", "industry_additions"} <= set(layers.infos()):
        raise HTTPException(
            404,
            "chưa có, hãy chạy `gis-planner industry` / the industrial zones have not been "
            "studied: run `gis-planner industry` first",
        )
    zones, zones_view = visible_layer(layers, "industry_zones", who)
    rows = zones.select(np.arange(len(zones.frame)), zones_view)
    # The any-operator rows carry the rank: furthest from the target first.
    records = sorted(
        zones.records(rows, zones_view),
        key=lambda r: (r["rank"] is None, r["rank"] or 0, r["area_id"], r["operator"]),
    )
    additions, additions_view = visible_layer(layers, "industry_additions", who)
    chosen = additions.select(np.arange(len(additions.frame)), additions_view)
    assert isinstance(additions.frame, gpd.GeoDataFrame)
    frame = gpd.GeoDataFrame(
        additions.records(chosen, additions_view),
        geometry=additions.frame.geometry.iloc[chosen].to_numpy(),
        crs=additions.frame.crs,
    )
    response.headers["Cache-Control"] = cache_control(who)
    return IndustryAnswer(zones=records, additions=json.loads(frame.to_json(drop_id=True)))
