"""The passive infrastructure job: every existing, planned and proposed site against the
planning zones and exclusion areas, other sectors' structures as antenna hosts, and the
underground share of cable by commune.

Its three layers are written in one transaction, each recorded with every assumption of the
study (``parameters``): the tower type taken for a proposed new tower, the tower type each
structure kind amounts to, the types each zone rule keeps, a structure's relative cost and the
under-grounding goal (none unless given: the plan data held names no figure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_planner.admin import locate, unit_names, units
from gis_planner.catalogue.passive import (
    CABLE_SHARES,
    COMPLIANCE_STATUSES,
    JOB,
    PASSIVE_HOSTS,
    PASSIVE_LAYERS,
    SITE_COMPLIANCE,
)
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang
from gis_planner.passive import (
    RULE_TOWER_TYPES,
    STRUCTURE_TOWER_TYPES,
    cable_shares,
    check,
    exclusions,
)
from gis_planner.products import input_revisions, layer_record
from gis_planner.siting import NEW_BUILD_HEIGHT_M, STRUCTURE_COST, structure_candidates
from gis_planner.store import LayerStore
from gis_planner.tables import write_xlsx

#: The layers the job writes (one transaction).
LAYERS = tuple(spec.name for spec in PASSIVE_LAYERS)
#: The plan's layers a check reads; at least one must be in the store.
PLAN_LAYERS = ("planning_zones", "exclusion_areas", "exclusion_points", "military_areas")
#: Layers of new towers other studies proposed (their ``new_build`` rows are checked).
PROPOSAL_LAYERS = ("site_proposals", "switchoff_restoration", "industry_additions")
#: Every layer the study reads: a later write of one makes its products stale.
INPUT_LAYERS = (
    *PLAN_LAYERS, "sites", "host_structures", "ducts", "fibre_routes", "admin_units",
    *PROPOSAL_LAYERS,
)  # fmt: skip


@dataclass(frozen=True)
class PassiveParams:
    #: The tower type a proposed new tower is checked as: the siting's new tower is
    #: ``NEW_BUILD_HEIGHT_M`` (30 m) tall, a monopole's typical height (``TOWER_HEIGHTS_M``).
    new_build_tower_type: str = "monopole"
    #: The plan's under-grounding goal (share of cable length underground). None: no goal;
    #: the plan data held (``DOMAIN.md``) names no figure, so none is assumed.
    underground_target: float | None = None


@dataclass(frozen=True)
class PassiveSpec:
    params: PassiveParams = field(default_factory=PassiveParams)
    lang: Lang = "vi"


@dataclass(frozen=True)
class PassiveStudy:
    #: Every site and proposed new tower checked: status, deciding rule and its text.
    compliance: gpd.GeoDataFrame
    #: Other sectors' structures as candidate hosts, each checked.
    hosts: gpd.GeoDataFrame
    #: Aerial and underground cable, and ducts, by commune and for the province.
    cables: pd.DataFrame
    #: Figure → value, as in the workbook's summary sheet.
    summary: pd.DataFrame
    inputs: dict[str, int]


def parameters(params: PassiveParams) -> dict[str, Any]:
    """Every assumption of a study, as recorded with its products."""
    return {
        "new_build_tower_type": params.new_build_tower_type,
        "new_build_height_m": NEW_BUILD_HEIGHT_M,
        "structure_tower_types": dict(STRUCTURE_TOWER_TYPES),
        "rule_tower_types": {rule: list(types) for rule, types in RULE_TOWER_TYPES.items()},
        "structure_cost": STRUCTURE_COST,
        "underground_target": params.underground_target,
        "underground_target_source": (
            "given to the run" if params.underground_target is not None
            else "none: the plan data held names no under-grounding figure"
        ),
    }  # fmt: skip


class _Plan:
    """The plan's zones and exclusions of a store, and its metric CRS and communes."""

    def __init__(self, store: LayerStore) -> None:
        if not any(store.has_layer(name) for name in PLAN_LAYERS):
            raise GisPlannerError(
                "the store has none of the plan's layers (planning_zones, exclusion_areas, "
                "exclusion_points, military_areas): import them first"
            )
        admin = store.read("admin_units")
        assert isinstance(admin, gpd.GeoDataFrame)
        self.crs = metric_crs_of(admin)
        self.communes = units(admin, "commune")
        zones = _optional(store, "planning_zones")
        self.zones = zones if zones is not None else gpd.GeoDataFrame(geometry=[], crs=WGS84)
        self.excluded = exclusions(
            _optional(store, "exclusion_areas"),
            _optional(store, "exclusion_points"),
            _optional(store, "military_areas"),
        )

    def checked(self, frame: gpd.GeoDataFrame) -> pd.DataFrame:
        """``frame`` (``tower_type``, ``height_m``, points) with its decision and commune."""
        decision = check(
            frame.geometry,
            frame["tower_type"].to_numpy(dtype=object),
            frame["height_m"].to_numpy(dtype=np.float64),
            self.zones,
            self.excluded,
            metric_crs=self.crs,
        )
        commune = locate(frame.geometry, self.communes)
        return pd.concat([frame, decision.frame(frame.index)], axis=1).assign(commune_code=commune)


def _optional(store: LayerStore, name: str) -> gpd.GeoDataFrame | None:
    if not store.has_layer(name):
        return None
    frame = store.read(name)
    assert isinstance(frame, gpd.GeoDataFrame)
    return frame


def study(spec: PassiveSpec, store: LayerStore) -> PassiveStudy:
    """The study of ``spec``, computed from the store and not written."""
    inputs = input_revisions(store.layer_revisions(), INPUT_LAYERS)
    plan = _Plan(store)
    subjects = _subjects(store, spec.params)
    compliance = plan.checked(subjects)
    compliance = compliance[[f.name for f in SITE_COMPLIANCE.fields] + ["geometry"]]
    hosts = host_candidates(store, plan)
    routes = _optional(store, "fibre_routes")
    cables = cable_shares(
        routes if routes is not None else gpd.GeoDataFrame({"laying": []}, geometry=[], crs=WGS84),
        plan.communes,
        _optional(store, "ducts"),
        metric_crs=plan.crs,
        target_share=spec.params.underground_target,
    )
    summary = _summary(compliance, hosts, cables)
    return PassiveStudy(
        gpd.GeoDataFrame(compliance, geometry="geometry", crs=WGS84),
        hosts,
        cables[[f.name for f in CABLE_SHARES.fields]],
        summary,
        inputs,
    )


def host_candidates(store: LayerStore, plan: _Plan) -> gpd.GeoDataFrame:
    """Other sectors' structures of the store as candidate hosts (``siting``'s candidates of
    kind ``structure``), each checked against the plan as the tower type it amounts to."""
    columns = [f.name for f in PASSIVE_HOSTS.fields]
    structures = _optional(store, "host_structures")
    if structures is None or structures.empty:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs=WGS84)
    candidates = structure_candidates(structures).assign(
        structure_kind=structures["kind"].to_numpy(dtype=object),
        owner=structures["owner"].to_numpy(dtype=object),
        tower_type=structures["kind"].map(STRUCTURE_TOWER_TYPES).to_numpy(dtype=object),
    )
    checked = plan.checked(candidates)
    return gpd.GeoDataFrame(checked[[*columns, "geometry"]], geometry="geometry", crs=WGS84)


def permitted_structures(store: LayerStore) -> gpd.GeoDataFrame | None:
    """The store's other-sector structures (``host_structures``) the plan does not forbid as
    antenna hosts, for the site plan's candidates; all of them when the store has none of the
    plan's layers, None when it has no structures."""
    structures = _optional(store, "host_structures")
    if structures is None or not any(store.has_layer(name) for name in PLAN_LAYERS):
        return structures
    as_towers = structures.assign(tower_type=structures["kind"].map(STRUCTURE_TOWER_TYPES))
    status = _Plan(store).checked(as_towers)["status"]
    return structures[(status != "forbidden").to_numpy()].reset_index(drop=True)


def _subjects(store: LayerStore, params: PassiveParams) -> gpd.GeoDataFrame:
    """The sites and the proposed new towers to check, with a check id and a subject."""
    sites = store.read("sites", columns=["site_id", "operator", "tower_type", "height_m", "status"])
    parts = [
        sites.assign(
            subject=np.where(sites["status"] == "planned", "planned_site", "site"),
            layer="sites",
        ).drop(columns="status")
    ]
    for name in PROPOSAL_LAYERS:
        proposals = _optional(store, name)
        if proposals is None:
            continue
        new = proposals[proposals["kind"] == "new_build"]
        operator = new["operator"] if "operator" in new else pd.Series(pd.NA, index=new.index)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "site_id": new["candidate_id"].to_numpy(dtype=object),
                    "operator": operator.to_numpy(dtype=object),
                    "tower_type": params.new_build_tower_type,
                    "height_m": new["height_m"].to_numpy(dtype=np.float64),
                    "subject": "proposal",
                    "layer": name,
                },
                geometry=new.geometry.to_crs(WGS84).to_numpy(),
                crs=WGS84,
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    who = frame["operator"].fillna("-").astype(str)
    frame["check_id"] = frame["layer"] + ":" + who + ":" + frame["site_id"].astype(str)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WGS84)


def _summary(compliance: pd.DataFrame, hosts: pd.DataFrame, cables: pd.DataFrame) -> pd.DataFrame:
    figures: list[tuple[str, object]] = []
    for subject in ("site", "planned_site", "proposal"):
        rows = compliance[compliance["subject"] == subject]
        counts = rows["status"].value_counts()
        figures += [(f"{subject}s checked", len(rows))]
        figures += [(f"{subject}s {s}", int(counts.get(s, 0))) for s in COMPLIANCE_STATUSES]
    host_counts = hosts["status"].value_counts()
    figures += [("host structures", len(hosts))]
    figures += [(f"host structures {s}", int(host_counts.get(s, 0))) for s in COMPLIANCE_STATUSES]
    province = cables[cables["level"] == "province"].iloc[0]
    share = province["underground_share"]
    figures += [
        ("cable km", round(float(province["total_m"]) / 1000, 1)),
        ("underground cable km", round(float(province["underground_m"]) / 1000, 1)),
        ("underground share", None if pd.isna(share) else round(float(share), 4)),
        ("duct km", round(float(province["duct_m"]) / 1000, 1)),
    ]
    names, values = zip(*figures, strict=True)
    return pd.DataFrame({"figure": names, "value": pd.Series(values, dtype=object)})


def run(spec: PassiveSpec, store: LayerStore, out_dir: Path) -> tuple[PassiveStudy, Path]:
    """The study of ``spec`` written to the store's passive layers (replacing an earlier study)
    and to a workbook in ``out_dir``."""
    result = study(spec, store)
    recorded = parameters(spec.params)
    frames = {
        "site_compliance": result.compliance,
        "passive_hosts": result.hosts,
        "cable_shares": result.cables,
    }
    with store.transaction() as tx:
        for name, frame in frames.items():
            tx.write(name, frame)
            tx.register(layer_record(JOB, name, recorded, result.inputs))
    names = unit_names(store.read("admin_units"))
    report = write_xlsx(
        out_dir / "passive_infrastructure.xlsx",
        {
            "summary": (result.summary, None),
            "sites": (pd.DataFrame(result.compliance.drop(columns="geometry")), "site_compliance"),
            "hosts": (pd.DataFrame(result.hosts.drop(columns="geometry")), "passive_hosts"),
            "cable": (result.cables, "cable_shares"),
        },
        spec.lang,
        names,
    )
    return result, report
