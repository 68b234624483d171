"""The terrain profile of a microwave hop between two sites, over the server's terrain.

The elevation raster is the one the server is configured with (``GIS_PLANNER_TERRAIN``): a
client never names a file. Sites are read by their public fields (id, operator, height,
position), which every caller sees; the endpoint parses, calls ``gis_planner.jobs.link`` and
shapes the answer. A profile is a few hundred kilobytes at most: it is computed per request
(tens of milliseconds) rather than held in the server's memory.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from api.deps import Caller, Layers, Settings
from api.routers.common import cache_control
from gis_planner.coverage.terrain import TerrainError
from gis_planner.jobs import link as job
from gis_planner.jobs.link import LinkResult, LinkSpec, SiteEnd, UnknownSite
from gis_planner.radio.linkprofile import (
    ANTENNA_HEIGHT_RANGE_M,
    FREQ_GHZ_RANGE,
    K_FACTOR_RANGE,
    LinkParams,
)

router = APIRouter(prefix="/analysis", tags=["analysis"])

SiteId = Annotated[str, Query(min_length=1, max_length=64, description="Mã trạm / Site id")]
AntennaHeight = Annotated[
    float | None,
    Query(
        ge=ANTENNA_HEIGHT_RANGE_M[0],
        le=ANTENNA_HEIGHT_RANGE_M[1],
        description="Độ cao ăng-ten (m), mặc định độ cao trạm / Antenna height, default the site's",
    ),
]


class LinkEnd(BaseModel):
    """Một đầu tuyến / One end of the hop."""

    site_id: str
    operator: str
    lon: float
    lat: float
    antenna_m: float = Field(description="Độ cao ăng-ten trên mặt đất / Antenna above ground")


class LinkObstacle(BaseModel):
    """Vật cản trong miền Fresnel yêu cầu / A run of the profile inside the required zone."""

    distance_m: float = Field(description="Điểm cản nhiều nhất / Its most obstructing point")
    start_m: float
    end_m: float
    terrain_m: float
    clearance_m: float
    clearance_f1: float


class LinkProfileAnswer(BaseModel):
    """Mặt cắt tuyến viba / A microwave hop's terrain profile."""

    site_a: LinkEnd
    site_b: LinkEnd
    freq_ghz: float
    k_factor: float
    clearance_fraction: float
    length_m: float
    step_m: float = Field(description="Bước lấy mẫu / Distance between samples")
    dem_resolution_m: float
    distance_m: list[float] = Field(description="Khoảng cách từ A / Distance from A")
    terrain_m: list[float]
    bulge_m: list[float] = Field(description="Độ cong trái đất với k / Earth bulge for k")
    los_m: list[float] = Field(description="Tầm nhìn thẳng / Line of sight")
    f1_m: list[float] = Field(description="Bán kính miền Fresnel 1 / First Fresnel zone radius")
    clearance_m: list[float]
    clearance_f1: list[float | None] = Field(
        description="Độ thông thoáng theo F1 (không có ở hai đầu) / Clearance in F1 (none at "
        "the ends)"
    )
    min_clearance_f1: float
    min_clearance_m: float
    worst_distance_m: float
    obstacles: list[LinkObstacle]
    free_space_loss_db: float
    bullington_loss_db: float
    knife_edge_loss_db: float = Field(
        description="Vật cản lưỡi dao xấu nhất / The worst point as one knife edge"
    )
    itm_loss_db: float | None = Field(
        description="Suy hao truyền dẫn cơ bản trung vị theo Longley–Rice (ITM 1.2.2); null khi "
        "tuyến nằm quá xa phạm vi của mô hình / Median basic transmission loss by the "
        "Longley–Rice ITM 1.2.2; null where the hop lies too far outside the model's ranges"
    )
    itm_warning: int = Field(
        ge=0,
        le=4,
        description="Cảnh báo của ITM: 0 không, 1 gần giới hạn, 2 đã thay tham số mặc định, 3 tổ "
        "hợp tham số ngoài phạm vi, 4 tham số ngoài phạm vi (trên 20 GHz, ngắn hơn 1 km…) / "
        "ITM's warning: 0 none, 1 near its limits, 2 defaults substituted, 3 a combination out "
        "of range, 4 parameters out of range (past 20 GHz, shorter than 1 km…)",
    )
    verdict: Literal["clear", "marginal", "obstructed"]


def _rounded(values: npt.NDArray[np.float64], digits: int) -> list[float]:
    return [float(v) for v in np.round(values, digits)]


def _end(end: SiteEnd) -> LinkEnd:
    return LinkEnd(
        site_id=end.site_id, operator=end.operator, lon=end.lon, lat=end.lat,
        antenna_m=end.antenna_m,
    )  # fmt: skip


def _answer(result: LinkResult) -> LinkProfileAnswer:
    p = result.profile
    return LinkProfileAnswer(
        site_a=_end(result.a),
        site_b=_end(result.b),
        freq_ghz=p.params.freq_ghz,
        k_factor=p.params.k_factor,
        clearance_fraction=p.params.clearance_fraction,
        length_m=round(p.length_m, 1),
        step_m=round(p.step_m, 3),
        dem_resolution_m=round(result.dem_resolution_m, 3),
        distance_m=_rounded(p.distance_m, 1),
        terrain_m=_rounded(p.terrain_m, 2),
        bulge_m=_rounded(p.bulge_m, 3),
        los_m=_rounded(p.los_m, 2),
        f1_m=_rounded(p.f1_m, 3),
        clearance_m=_rounded(p.clearance_m, 2),
        clearance_f1=[None if math.isnan(v) else v for v in _rounded(p.clearance_f1, 3)],
        min_clearance_f1=round(p.min_clearance_f1, 3),
        min_clearance_m=round(p.min_clearance_m, 2),
        worst_distance_m=round(p.worst_distance_m, 1),
        obstacles=[LinkObstacle(**vars(o)) for o in p.obstacles],
        free_space_loss_db=round(p.free_space_loss_db, 2),
        bullington_loss_db=round(p.bullington_loss_db, 2),
        knife_edge_loss_db=round(p.knife_edge_loss_db, 2),
        itm_loss_db=None if math.isnan(p.itm.basic_loss_db) else round(p.itm.basic_loss_db, 2),
        itm_warning=int(p.itm.warning),
        verdict=p.verdict,
    )


@router.get(
    "/link",
    response_model=LinkProfileAnswer,
    summary="Mặt cắt tuyến viba / Microwave link profile",
    description=(
        "Mặt cắt địa hình giữa hai trạm trên raster độ cao của máy chủ (GIS_PLANNER_TERRAIN): "
        "tầm nhìn thẳng, độ cong trái đất, miền Fresnel thứ nhất, độ thông thoáng, vật cản, "
        "suy hao nhiễu xạ (Bullington, lưỡi dao), không gian tự do và Longley–Rice (ITM), kết "
        "luận; 404 khi máy chủ "
        "không có raster độ cao. / The terrain profile between two sites over the server's "
        "elevation raster (GIS_PLANNER_TERRAIN): line of sight, earth bulge, first Fresnel "
        "zone, clearance, obstacles, diffraction (Bullington, knife edge), free-space and "
        "Longley–Rice (ITM) loss, verdict; 404 when the server has no elevation raster."
    ),
)
def link_profile(
    layers: Layers,
    settings: Settings,
    who: Caller,
    response: Response,
    site_a: SiteId,
    site_b: SiteId,
    freq_ghz: Annotated[
        float,
        Query(ge=FREQ_GHZ_RANGE[0], le=FREQ_GHZ_RANGE[1], description="Tần số / Carrier (GHz)"),
    ] = 15.0,
    k_factor: Annotated[
        float,
        Query(
            ge=K_FACTOR_RANGE[0],
            le=K_FACTOR_RANGE[1],
            description="Hệ số bán kính trái đất / Effective earth radius factor",
        ),
    ] = 4.0 / 3.0,
    clearance_fraction: Annotated[
        float, Query(ge=0.0, le=1.5, description="Phần F1 phải thông / Share of F1 kept clear")
    ] = 0.6,
    height_a_m: AntennaHeight = None,
    height_b_m: AntennaHeight = None,
    operator: Annotated[
        str | None,
        Query(max_length=32, description="Nhà mạng, khi mã trạm trùng / Operator of the sites"),
    ] = None,
) -> LinkProfileAnswer:
    if settings.terrain is None:
        raise HTTPException(
            404,
            "máy chủ chưa có raster độ cao / the server has no elevation raster: set "
            "GIS_PLANNER_TERRAIN",
        )
    if "sites" not in layers.infos():
        raise HTTPException(404, "không có lớp / the store has no 'sites' layer")
    params = LinkParams(freq_ghz, k_factor, clearance_fraction)
    spec = LinkSpec(site_a, site_b, settings.terrain, params, height_a_m, height_b_m, operator)
    try:
        result = job.run(spec, layers.store)
    except UnknownSite as error:
        raise HTTPException(404, str(error)) from None
    except TerrainError:
        # its message names the server's file
        raise HTTPException(
            404, "raster độ cao của máy chủ không đọc được / the server's elevation raster "
            "cannot be read",
        ) from None  # fmt: skip
    response.headers["Cache-Control"] = cache_control(who)
    return _answer(result)
