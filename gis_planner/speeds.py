"""Speeds against the plan's targets: mobile throughput by village, fixed access by PON.

The plan asks mobile downloads of at least 50 Mb/s and fixed downloads of at least 100 Mb/s
(1 Gb/s by 2030, DOMAIN.md). Mobile: the throughput raster of each operator and technology
(``throughput_raster``, from the coverage's SINR and best server) is counted by village as the
coverage is (``coverage.stats``): a village's people are spread evenly over it, so the share of
its people at the target is the share of its pixels there, and a village is at the target when
that share reaches the coverage rule's 95 %. Fixed: a village with FTTH (``fibre.ftth``) gets
what one subscriber of its best operator's PON gets in the busy hour (``FixedParams``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from gis_planner.coverage.engine import NODATA_DB
from gis_planner.coverage.stats import ANY_OPERATOR, LevelSums, TargetParams, with_any
from gis_planner.errors import GisPlannerError
from gis_planner.radio.throughput import ThroughputParams, downlink_mbps

#: Nodata of the throughput rasters: the coverage rasters' own, below any real value.
NODATA_MBPS = NODATA_DB


@dataclass(frozen=True)
class SpeedTargets:
    """The plan's download targets (DOMAIN.md) and the village rule of the coverage."""

    mobile_mbps: float = 50.0
    fixed_mbps: float = 100.0
    #: Fixed access of 1 Gb/s for every user by 2030 (CTr thực hiện NQ 57).
    fixed_2030_mbps: float = 1000.0
    #: Share of a village's people at the target for the village to count (coverage's 95 %).
    village_share: float = TargetParams().target_share


@dataclass(frozen=True)
class Pon:
    """A passive optical network technology: its downstream line rate and how much of it
    carries data."""

    name: str
    downstream_mbps: float
    #: Net share of the line rate: framing and forward error correction taken off.
    efficiency: float


#: ITU-T G.984.2: 2.48832 Gb/s down (1.24416 Gb/s up); GEM/GTC framing leaves about 92 %.
GPON = Pon("gpon", 2488.32, 0.92)
#: ITU-T G.9807.1: 9.95328 Gb/s down and up; the mandatory RS(248,216) FEC leaves 216/248.
XGS_PON = Pon("xgs-pon", 9953.28, 216 / 248)
PONS = {pon.name: pon for pon in (GPON, XGS_PON)}


@dataclass(frozen=True)
class FixedParams:
    """What one FTTH subscriber gets: the PON's net downstream shared by the subscribers of a
    splitter who download at once in the busy hour (planning assumptions, not measurements)."""

    #: Subscribers on one PON port: 1:32, the split of the ITU-T G.984 reference designs.
    split: int = 32
    #: Share of a PON's subscribers downloading at once in the busy hour (a planning
    #: assumption: 8 of 32).
    busy_share: float = 0.25
    #: PON of each operator's FTTH (``(("viettel", "xgs-pon"),)``); others get ``default_pon``.
    #: The fibre layers do not say which PON a node runs, so this is the planner's to give.
    pon_by_operator: tuple[tuple[str, str], ...] = ()
    default_pon: str = GPON.name

    def __post_init__(self) -> None:
        if self.split < 1 or not 0 < self.busy_share <= 1:
            raise GisPlannerError(
                f"split must be ≥ 1 and busy_share in (0, 1], got {self.split}, {self.busy_share}"
            )
        for name in (self.default_pon, *(pon for _, pon in self.pon_by_operator)):
            if name not in PONS:
                raise GisPlannerError(f"unknown PON {name!r}: one of {', '.join(PONS)}")

    def pon_of(self, operator: str) -> Pon:
        return PONS[dict(self.pon_by_operator).get(operator, self.default_pon)]

    def subscriber_mbps(self, pon: Pon) -> float:
        """A subscriber's busy-hour download: the net rate over the active subscribers (at
        most the whole PON, for a split with fewer than one active)."""
        net = pon.downstream_mbps * pon.efficiency
        return net / max(1.0, self.split * self.busy_share)


def throughput_raster(
    sinr_db: npt.NDArray[np.floating],
    server_index: npt.NDArray[np.integer],
    mbps_per_bit_by_server: npt.NDArray[np.float64],
    technology: str,
    params: ThroughputParams,
) -> npt.NDArray[np.float32]:
    """Downlink throughput (Mb/s) a user gets at each pixel from its best server.

    ``server_index`` is the coverage's best-server raster (1-based, 0 = none) and
    ``mbps_per_bit_by_server[i]`` the worth of one bit per resource element on server ``i``'s
    carrier (``carrier_mbps_per_bit``; entry 0 unused). Nodata where no cell serves.
    """
    served = (server_index > 0) & (sinr_db > NODATA_DB)
    out = np.full(sinr_db.shape, NODATA_MBPS, dtype=np.float32)
    worth = mbps_per_bit_by_server[server_index[served]]
    out[served] = downlink_mbps(sinr_db[served], worth, technology, params)
    return out


@dataclass
class SpeedSums:
    """Per-village sums of one technology's throughput rasters, that add up across windows.

    ``levels`` counts the pixels at or above the mobile target (``LevelSums`` counts in
    whatever unit the rasters are in) and keeps each village's best value; ``total_mbps`` adds
    up each layer's throughput for the mean. Index 0 collects the unlabelled pixels.
    """

    levels: LevelSums
    total_mbps: dict[str, npt.NDArray[np.float64]]

    @classmethod
    def empty(cls, n: int, target_mbps: float) -> SpeedSums:
        return cls(LevelSums.empty(n, target_mbps), {})

    def add(
        self, labels: npt.NDArray[np.int32], mbps_by_layer: Mapping[str, npt.NDArray[np.float32]]
    ) -> None:
        """Add a window: its labels and a throughput raster per layer on the same pixels."""
        self.levels.add(labels, mbps_by_layer)
        flat = labels.ravel()
        labelled = flat > 0
        for layer, raster in mbps_by_layer.items():
            # nodata (no server) is no throughput: 0 Mb/s in the mean
            values = np.maximum(raster.ravel()[labelled], 0.0)
            weighted = np.bincount(flat[labelled], weights=values, minlength=self.levels.n + 1)
            total = weighted.astype(np.float64, copy=False)  # weighted counts are floats
            if layer in self.total_mbps:
                self.total_mbps[layer] += total
            else:
                self.total_mbps[layer] = total


def village_speeds(
    villages: gpd.GeoDataFrame,
    labels: npt.NDArray[np.int32],
    throughput_by_operator: Mapping[str, npt.NDArray[np.float32]],
    technology: str,
    targets: SpeedTargets | None = None,
) -> pd.DataFrame:
    """One row per village × operator (and ``any``, the best operator at each pixel): the share
    of its people at the mobile target, whether the village is at it, its mean and best
    throughput. ``labels`` label the rasters' pixels with villages (``label_pixels``)."""
    targets = targets or SpeedTargets()
    sums = SpeedSums.empty(len(villages), targets.mobile_mbps)
    sums.add(labels, with_any(throughput_by_operator))
    return speeds_table(villages, sums, technology, targets)


def speeds_table(
    villages: gpd.GeoDataFrame,
    sums: SpeedSums,
    technology: str,
    targets: SpeedTargets | None = None,
) -> pd.DataFrame:
    """The rows of ``village_speeds`` from sums gathered over every window of the grid."""
    targets = targets or SpeedTargets()
    levels = sums.levels
    pixels = levels.pixels[1:]
    population = villages["population"].fillna(0).to_numpy(dtype=np.float64)
    frames = []
    for operator, total in sums.total_mbps.items():
        share = levels.share(operator)
        best = levels.best_dbm[operator][1:]
        frames.append(
            pd.DataFrame(
                {
                    "village_code": villages["code"].to_numpy(),
                    "commune_code": villages["commune_code"].to_numpy(),
                    "technology": technology,
                    "operator": operator,
                    "target_mbps": targets.mobile_mbps,
                    "pixels": pixels,
                    "population": population,
                    "population_share": share,
                    "population_at_target": population * share,
                    "at_target": (share >= targets.village_share) & (pixels > 0),
                    "mean_mbps": np.divide(total[1:], pixels, out=np.zeros(len(pixels)),
                                           where=pixels > 0),
                    "max_mbps": np.where(best > NODATA_MBPS, best, np.nan),
                }
            )
        )  # fmt: skip
    rows = pd.concat(frames, ignore_index=True)
    # A village with no pixel in the rasters' area is not measured, never counted as below.
    return rows[rows["pixels"] > 0].reset_index(drop=True)


def speed_summary(village_rows: pd.DataFrame) -> pd.DataFrame:
    """By technology × operator: villages and people at the mobile target, and their shares."""
    grouped = village_rows.groupby(["technology", "operator", "target_mbps"]).agg(
        villages=("village_code", "size"),
        villages_at_target=("at_target", "sum"),
        population=("population", "sum"),
        population_at_target=("population_at_target", "sum"),
    )
    table = grouped.reset_index().astype({"villages_at_target": "int64"})
    table["village_share"] = table["villages_at_target"] / table["villages"]
    table["population_share"] = np.divide(
        table["population_at_target"], table["population"], out=np.zeros(len(table)),
        where=table["population"].to_numpy() > 0,
    )  # fmt: skip
    # "any" last in each technology: the operators first, then the best of them
    order = (table["operator"] == ANY_OPERATOR).to_numpy()
    return table.iloc[np.lexsort((order, table["technology"].to_numpy()))].reset_index(drop=True)


def fixed_speeds(
    ftth: pd.DataFrame,
    params: FixedParams | None = None,
    targets: SpeedTargets | None = None,
    named_pons: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each village's busy-hour FTTH download and whether it meets 100 Mb/s and 1 Gb/s.

    ``ftth`` holds ``ftth_villages``'s columns ``code``, ``commune_code``, ``population``,
    ``covered`` and ``operators`` (comma-separated); a village with several operators' fibre
    gets the best of their PONs, one without FTTH 0 Mb/s. An operator's PON at a village is
    the one the fibre layer names there (``named_pons``: ``code``, ``operator``, ``pon``, from
    ``fibre.ftth.pon_reach``; the best if several), else ``params``'s for the operator.
    """
    params = params or FixedParams()
    targets = targets or SpeedTargets()
    offers = (
        ftth.loc[ftth["covered"], ["code", "operators"]]
        .assign(operator=lambda f: f["operators"].str.split(","))
        .explode("operator")
    )
    pair = ["code", "operator"]
    named = pd.DataFrame(columns=[*pair, "pon"])
    if named_pons is not None and not named_pons.empty:
        unknown = set(named_pons["pon"]) - set(PONS)
        if unknown:
            raise GisPlannerError(f"unknown PON {sorted(unknown)}: one of {', '.join(PONS)}")
        # only where that operator's fibre reaches the village
        named = named_pons.merge(offers[pair], on=pair)
    # The layer's word for an operator at a village, else the run's assumption for it.
    unnamed = offers[~offers.set_index(pair).index.isin(named.set_index(pair).index)]
    assumed_pon = {op: params.pon_of(op).name for op in unnamed["operator"].unique()}
    choices = pd.concat(
        [
            unnamed.assign(pon=unnamed["operator"].map(assumed_pon), pon_from_fibre=False),
            named.assign(pon_from_fibre=True),
        ],
        ignore_index=True,
    )
    choices["subscriber_mbps"] = choices["pon"].map(
        {name: params.subscriber_mbps(pon) for name, pon in PONS.items()}
    )
    best = choices.sort_values("subscriber_mbps", ascending=False, kind="stable")
    best = best.drop_duplicates("code").set_index("code")
    rows = pd.DataFrame(
        {
            "village_code": ftth["code"].to_numpy(),
            "commune_code": ftth["commune_code"].to_numpy(),
            "population": ftth["population"].fillna(0).to_numpy(dtype=np.float64),
            "ftth": ftth["covered"].to_numpy(dtype=bool),
            "operators": ftth["operators"].fillna("").to_numpy(),
        }
    )
    # no PON where there is no FTTH (missing, not an empty name)
    rows["pon"] = rows["village_code"].map(best["pon"])
    rows["pon_from_fibre"] = rows["village_code"].map(best["pon_from_fibre"]).eq(True)
    rows["subscriber_mbps"] = rows["village_code"].map(best["subscriber_mbps"]).fillna(0.0)
    rows["meets_target"] = rows["subscriber_mbps"] >= targets.fixed_mbps
    rows["meets_2030"] = rows["subscriber_mbps"] >= targets.fixed_2030_mbps
    return rows


def fixed_summary(rows: pd.DataFrame, targets: SpeedTargets | None = None) -> pd.DataFrame:
    """Villages and people with FTTH, at 100 Mb/s and at 1 Gb/s (2030), with their shares."""
    targets = targets or SpeedTargets()
    population = rows["population"].to_numpy(dtype=np.float64)
    total = float(population.sum())
    parts = []
    for measure, target_mbps, met in (
        ("ftth", np.nan, rows["ftth"]),
        ("fixed_target", targets.fixed_mbps, rows["meets_target"]),
        ("fixed_2030", targets.fixed_2030_mbps, rows["meets_2030"]),
    ):
        ok = met.to_numpy(dtype=bool)
        people = float(population[ok].sum())
        parts.append(
            {
                "measure": measure,
                "target_mbps": target_mbps,
                "villages": len(rows),
                "villages_at_target": int(ok.sum()),
                "village_share": ok.mean() if len(rows) else 0.0,
                "population": total,
                "population_at_target": people,
                "population_share": people / total if total > 0 else 0.0,
            }
        )
    return pd.DataFrame(parts)
