"""The coverage what-if of a planned site: what it would add to its operator's coverage.

The endpoint parses the site, checks who may plan for which operator (as host candidates do:
an operator key for its own operator, an admin key for any, no key refused) and calls
``gis_planner.jobs.whatif``; answers are kept per store revision and site.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from api.deps import Caller, Layers
from api.routers.common import PlannedLat, PlannedLon, PlanningOperator, planning_operator
from gis_planner.jobs import whatif
from gis_planner.jobs.whatif import WhatIfResult, WhatIfSpec

router = APIRouter(prefix="/analysis", tags=["analysis"])


class GainedVillage(BaseModel):
    """Thôn mới được phủ sóng / A village newly covered."""

    code: str
    name: str
    commune_code: str
    commune_name: str | None
    population: int
    share_before: float = Field(description="Tỷ lệ diện tích có sóng trước / Share covered before")
    share_after: float = Field(description="Tỷ lệ diện tích có sóng sau / Share covered after")


class CoverageWhatIf(BaseModel):
    """Vùng phủ tăng thêm của trạm quy hoạch / The coverage a planned site adds."""

    query: str
    lon: float
    lat: float
    operator: str
    technology: str
    height_m: float
    band_mhz: float
    threshold_dbm: float
    resolution_m: float
    existing_cells: int = Field(
        description="Cell hiện có được tính cùng / The operator's cells computed with the site"
    )
    villages_gained: int
    people_gained: int
    area_gained_km2: float
    villages: list[GainedVillage] = Field(description="Thôn mới được phủ / Villages newly covered")
    gained: dict[str, Any] = Field(
        description="Vùng phủ tăng thêm, GeoJSON FeatureCollection (WGS84) / The area gained"
    )


def _answer(result: WhatIfResult) -> CoverageWhatIf:
    spec = result.spec
    rows = result.villages.astype(object).where(result.villages.notna(), None)
    return CoverageWhatIf(
        query=spec.query,
        lon=spec.lon,
        lat=spec.lat,
        operator=spec.operator,
        technology=spec.technology,
        height_m=result.height_m,
        band_mhz=result.cell.band_mhz,
        threshold_dbm=result.threshold_dbm,
        resolution_m=result.grid.resolution_m,
        existing_cells=result.existing_cells,
        villages_gained=len(result.villages),
        people_gained=result.people_gained,
        area_gained_km2=round(result.area_gained_km2, 3),
        villages=[GainedVillage(**row) for row in rows.to_dict("records")],
        gained=json.loads(result.gained.to_json(drop_id=True)),
    )


@router.get(
    "/coverage/what-if",
    response_model=CoverageWhatIf,
    summary="Vùng phủ tăng thêm của trạm quy hoạch / Coverage what-if of a planned site",
    description=(
        "Tính vùng phủ của nhà mạng quanh điểm, có và không có trạm quy hoạch (ba sector), với "
        "các cell hiện có trong tầm với: các thôn mới đạt chỉ tiêu, số dân, diện tích phủ thêm "
        "và đường bao của nó. Điểm ngoài tỉnh bị từ chối. Cần khoá nhà mạng (cho chính nhà mạng "
        "đó) hoặc quản trị. / The operator's coverage around the point with and without the "
        "planned site (three sectors), its cells within reach included: villages newly at "
        "target, people and area gained and the outline of that area. Points outside the "
        "province are refused. Needs an operator key (for that operator) or an admin key."
    ),
)
def coverage_what_if(
    layers: Layers,
    who: Caller,
    response: Response,
    lon: PlannedLon,
    lat: PlannedLat,
    operator_key: PlanningOperator = None,
    technology: Annotated[Literal["4G", "5G"], Query(description="Công nghệ")] = "4G",
    height_m: Annotated[
        float | None, Query(gt=0, le=200, description="Độ cao ăng-ten (m) / Antenna height")
    ] = None,
    band_mhz: Annotated[
        float | None, Query(ge=400, le=6000, description="Băng tần (MHz) / Band")
    ] = None,
    resolution_m: Annotated[
        float, Query(ge=20, le=500, description="Độ phân giải (m) / Resolution")
    ] = 50.0,
) -> CoverageWhatIf:
    planner = planning_operator(who, operator_key, "the what-if needs an operator or admin key")
    for name in ("admin_units", "villages", "cells"):
        if name not in layers.infos():
            raise HTTPException(404, f"không có lớp / the store has no {name!r} layer")
    spec = WhatIfSpec(
        round(lon, 6), round(lat, 6), planner, technology, height_m, band_mhz, resolution_m
    )
    # the answer depends on the key: private, as host candidates are
    response.headers.update({"Cache-Control": "private, max-age=60", "Vary": "X-API-Key"})
    return layers.memo(("what-if", spec), lambda: _answer(whatif.run(spec, layers.store)))
