"""The 2G/3G switch-off study of an operator: who loses its service, and the 4G cells that
restore it.

The endpoint checks who may ask for which operator (as the planning endpoints do: an operator
key for its own operator, an admin key for any, no key refused), calls
``gis_planner.jobs.switchoff.study`` (computed, not written: ``gis-planner switch-off`` writes
the layers) and shapes its answer; answers are kept per store revision and plan.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from api.deps import Caller, Layers
from api.routers.common import PlanningOperator, planning_operator
from gis_planner.admin import unit_names
from gis_planner.jobs import switchoff
from gis_planner.jobs.switchoff import SwitchOffSpec, SwitchOffStudy
from gis_planner.products import scoped_layer

router = APIRouter(prefix="/analysis", tags=["analysis"])


class AffectedVillage(BaseModel):
    """Thôn bị ảnh hưởng / A village the switch-off affects."""

    village_code: str
    village_name: str | None
    commune_code: str | None
    commune_name: str | None
    population: float | None
    before: str = Field(description="Công nghệ phủ trước / Technologies covering before")
    after: str = Field(description="Công nghệ phủ sau / Technologies covering after")
    status: str = Field(
        description="loses_all_service | other_operator_only | loses_voice | keeps_service"
    )
    action: str = Field(description="restore_coverage | volte_handsets | none")
    restored_by: str | None = Field(description="Cell 4G khôi phục / The restoring candidate")


class SwitchOffAnswer(BaseModel):
    """Tác động của việc tắt sóng 2G/3G / The impact of a 2G/3G switch-off."""

    operator: str
    technologies: list[str]
    summary: dict[str, Any] = Field(description="Chỉ số / Figures")
    villages: list[AffectedVillage] = Field(
        description="Thôn bị ảnh hưởng, cấp bách nhất trước / Affected villages, most urgent first"
    )
    communes: list[dict[str, Any]] = Field(description="Trước và sau theo xã / By commune")
    restoration: dict[str, Any] = Field(
        description="Cell 4G khôi phục, GeoJSON (WGS84) / The restoring 4G cells"
    )


def _answer(
    study: SwitchOffStudy, unit_names: dict[str, str], village_names: dict[str, str]
) -> SwitchOffAnswer:
    villages = pd.DataFrame(study.villages.drop(columns="geometry"))
    villages["village_name"] = villages["village_code"].map(village_names)
    villages["commune_name"] = villages["commune_code"].map(unit_names)
    rows = villages.astype(object).where(villages.notna(), None).to_dict("records")
    communes = study.communes.astype(object).where(study.communes.notna(), None)
    figures = zip(study.summary["figure"], study.summary["value"], strict=True)
    return SwitchOffAnswer(
        operator=study.plan.operator,
        technologies=list(study.plan.technologies),
        summary={str(figure): value for figure, value in figures},
        villages=[AffectedVillage(**row) for row in rows],
        communes=communes.to_dict("records"),
        restoration=json.loads(study.restoration.to_json(drop_id=True)),
    )


@router.get(
    "/switch-off",
    response_model=SwitchOffAnswer,
    summary="Tác động của việc tắt sóng 2G/3G / Impact of a 2G/3G switch-off",
    description=(
        "Các thôn mất dịch vụ của nhà mạng (hoàn toàn, hoặc chỉ còn nhà mạng khác), các thôn chỉ "
        "còn 4G/5G (thoại cần máy VoLTE), trước và sau theo xã, và các cell 4G khôi phục dịch vụ "
        "(thêm 4G trên vị trí của nhà mạng, thuê chung, cột mới). Từ vùng phủ theo thôn "
        "(`gis-planner coverage`); 404 khi chưa có. Cần khoá nhà mạng (cho chính nhà mạng đó) "
        "hoặc quản trị. / The villages losing the operator's service (all of it, or all but "
        "other operators'), those keeping only 4G/5G (voice on VoLTE handsets), before and "
        "after by commune, and the 4G cells restoring service (a carrier on the operator's own "
        "positions, tenancies, new towers). From the village coverage (`gis-planner coverage`); "
        "404 without it. Needs an operator key (for that operator) or an admin key."
    ),
)
def switch_off(
    layers: Layers,
    who: Caller,
    response: Response,
    operator_key: PlanningOperator = None,
    technology: Annotated[
        list[Literal["2G", "3G"]] | None,
        Query(description="Công nghệ tắt (lặp lại được) / Technologies switched off"),
    ] = None,
    scope: Annotated[
        str,
        Query(
            pattern="^[a-z0-9_]{0,120}$",
            description=(
                "Lần tính vùng phủ được đọc (mặc định: cả tỉnh) / The coverage run read: a "
                "narrowed run's scope (default: the province's)"
            ),
        ),
    ] = "",
) -> SwitchOffAnswer:
    planner = planning_operator(who, operator_key, "the switch-off study needs a key")
    coverage = scoped_layer("coverage_villages", scope)
    for name in ("admin_units", "villages", "sites", "cells", coverage):
        if name not in layers.infos():
            raise HTTPException(
                404, f"không có lớp / the store has no {name!r} layer (run gis-planner coverage)"
            )
    technologies = tuple(sorted(set(technology or ["2G"])))
    spec = SwitchOffSpec(planner, technologies, scope)
    response.headers.update({"Cache-Control": "private, max-age=60", "Vary": "X-API-Key"})

    def compute() -> SwitchOffAnswer:
        villages = layers.store.read("villages", columns=["code", "name"])
        return _answer(
            switchoff.study(spec, layers.store),
            unit_names(layers.store.read("admin_units")),
            dict(zip(villages["code"], villages["name"], strict=True)),
        )

    return layers.memo(("switch-off", planner, technologies, scope), compute)
