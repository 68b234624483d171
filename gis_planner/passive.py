"""Passive infrastructure: sites and host structures against the planning zones and exclusion
areas, and the underground share of cable by commune.

Everything is measured in a metric CRS given by the caller (the area's, ``crs.metric_crs_of``),
never in degrees. A check decides, for each point with a tower type and a height:

* inside an exclusion area or its buffer (``exclusion_areas``, ``exclusion_points``,
  ``military_areas``): **forbidden** (rules ``exclusion``, ``military``; a military area is not
  named in the text, as its layer is not public);
* inside a planning zone whose allowed tower types (its list, narrowed by its rule: rooftop poles
  only, camouflaged poles only) exclude the point's: **forbidden** (``zone_tower_type``);
  taller than the zone's height limit: **forbidden** (``zone_height``); a zone needing a
  building permit: **permit_needed** (``zone_permit``); otherwise **compliant**
  (``zone_allows``);
* outside every zone and exclusion: **compliant** (``outside_zones``).

Where several apply, the most severe decides; among equally severe ones, exclusions before zone
rules, then the order above. Other sectors' structures are checked as the tower type they would
be (``STRUCTURE_TOWER_TYPES``).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis_planner.catalogue.layers import TOWER_TYPES, listed_types
from gis_planner.catalogue.passive import COMPLIANCE_STATUSES
from gis_planner.crs import WGS84
from gis_planner.i18n import Lang, value_label

#: The tower type an antenna on another sector's structure amounts to, for the zone rules: a
#: pole carries a street pole's small mast, a public roof a rooftop pole.
STRUCTURE_TOWER_TYPES = {
    "power_pole": "street_pole",
    "lighting_pole": "street_pole",
    "public_rooftop": "rooftop",
}
#: The tower types each zone rule keeps.
RULE_TOWER_TYPES = {
    "no_rule": TOWER_TYPES,
    "rooftop_only": ("rooftop",),
    "camouflaged_only": ("street_pole",),
}
#: Severity of each rule's outcome (index into ``COMPLIANCE_STATUSES``).
RULE_STATUS = {
    "outside_zones": "compliant",
    "zone_allows": "compliant",
    "zone_permit": "permit_needed",
    "zone_height": "forbidden",
    "zone_tower_type": "forbidden",
    "exclusion": "forbidden",
    "military": "forbidden",
}
#: Each rule's text, Vietnamese and English; ``{zone}``, ``{type}``, ``{allowed}``,
#: ``{height}``, ``{limit}``, ``{area}``, ``{kind}`` and ``{buffer}`` filled in.
RULE_TEXTS = {
    "outside_zones": ("Ngoài các vùng quy hoạch", "Outside every planning zone"),
    "zone_allows": ("Vùng {zone}: phù hợp quy hoạch", "Zone {zone}: allowed"),
    "zone_permit": (
        "Vùng {zone}: phải xin giấy phép xây dựng",
        "Zone {zone}: a building permit is required",
    ),
    "zone_height": (
        "Vùng {zone}: cao {height} m, vượt giới hạn {limit} m",
        "Zone {zone}: {height} m tall, above the {limit} m limit",
    ),
    "zone_tower_type": (
        "Vùng {zone}: không cho phép {type} (cho phép: {allowed})",
        "Zone {zone}: {type} not allowed (allowed: {allowed})",
    ),
    "exclusion": (
        "Trong khu vực cấm {area} ({kind}, vùng đệm {buffer} m)",
        "Inside the exclusion area {area} ({kind}, {buffer} m buffer)",
    ),
    "military": (
        "Trong khu vực quân sự (vùng đệm {buffer} m)",
        "Inside a military area ({buffer} m buffer)",
    ),
}
_SEVERITY = {rule: COMPLIANCE_STATUSES.index(status) for rule, status in RULE_STATUS.items()}
#: Among rules of one severity, the lower decides first.
_PRECEDENCE = {
    rule: i
    for i, rule in enumerate(
        ("military", "exclusion", "zone_tower_type", "zone_height", "zone_permit", "zone_allows",
         "outside_zones")
    )
}  # fmt: skip


@dataclass(frozen=True)
class Checked:
    """The decision on each point checked, in the points' order."""

    status: npt.NDArray[np.object_]
    rule: npt.NDArray[np.object_]
    rule_vi: npt.NDArray[np.object_]
    rule_en: npt.NDArray[np.object_]
    zone_id: npt.NDArray[np.object_]
    exclusion_id: npt.NDArray[np.object_]

    def frame(self, index: pd.Index) -> pd.DataFrame:
        return pd.DataFrame(vars(self), index=index)


def exclusions(
    areas: gpd.GeoDataFrame | None,
    points: gpd.GeoDataFrame | None,
    military: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """The three exclusion layers as one frame (``area_id``, ``name``, ``kind``,
    ``buffer_m``); military areas take the kind ``military``. Any may be None (not imported)."""
    parts = []
    for frame, kind in ((areas, None), (points, None), (military, "military")):
        if frame is None or frame.empty:
            continue
        part = frame.to_crs(WGS84)[["area_id", "name", "buffer_m", "geometry"]].assign(
            kind=kind if kind else frame["kind"].to_numpy()
        )
        parts.append(part)
    if not parts:
        return gpd.GeoDataFrame(
            columns=["area_id", "name", "buffer_m", "kind"], geometry=[], crs=WGS84
        )
    joined = pd.concat(parts, ignore_index=True)
    joined["buffer_m"] = joined["buffer_m"].astype("float64").fillna(0.0)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=WGS84)


def check(
    points: gpd.GeoSeries,
    tower_type: npt.ArrayLike,
    height_m: npt.ArrayLike,
    zones: gpd.GeoDataFrame,
    excluded: gpd.GeoDataFrame,
    *,
    metric_crs: str,
) -> Checked:
    """Each point (a tower of ``tower_type`` and ``height_m``) against the planning ``zones``
    (the ``planning_zones`` layer) and the ``excluded`` areas (``exclusions``), measured in
    ``metric_crs``."""
    types = np.asarray(tower_type, dtype=object)
    heights = np.asarray(height_m, dtype=np.float64)
    xy = points.to_crs(metric_crs).to_numpy()
    pairs = [_zone_pairs(xy, types, heights, zones, metric_crs)]
    pairs.append(_exclusion_pairs(xy, excluded, metric_crs))
    found = pd.concat([p for p in pairs if not p.empty] or [pairs[0]], ignore_index=True)
    found["point"] = found["point"].astype(np.int64)
    severity = found["rule"].map(_SEVERITY).to_numpy()
    precedence = found["rule"].map(_PRECEDENCE).to_numpy()
    # The most severe pair of each point, the first rule among equals: last after this sort.
    order = np.lexsort((-precedence, severity, found["point"].to_numpy()))
    decided = found.iloc[order].drop_duplicates("point", keep="last").set_index("point")
    decided = decided.reindex(np.arange(len(xy)))
    for name in ("zone_id", "exclusion_id"):  # from pairs there may be none of
        if name not in decided:
            decided[name] = None
    decided["rule"] = decided["rule"].fillna("outside_zones")
    decided["type"] = types
    decided["height"] = heights
    vi, en = _texts(decided)
    rule = decided["rule"].to_numpy(dtype=object)
    return Checked(
        status=decided["rule"].map(RULE_STATUS).to_numpy(dtype=object),
        rule=rule,
        rule_vi=vi,
        rule_en=en,
        zone_id=_or_none(decided["zone_id"]),
        exclusion_id=_or_none(decided["exclusion_id"]),
    )


def _zone_pairs(
    xy: npt.NDArray[np.object_],
    types: npt.NDArray[np.object_],
    heights: npt.NDArray[np.float64],
    zones: gpd.GeoDataFrame,
    metric_crs: str,
) -> pd.DataFrame:
    """A row per (point, zone holding it): the rule it meets there."""
    if zones.empty:
        return pd.DataFrame(columns=["point", "rule", "zone_id", "zone", "limit"])
    zones = zones.reset_index(drop=True)
    tree = shapely.STRtree(zones.geometry.to_crs(metric_crs).to_numpy())
    point, zone = tree.query(xy, predicate="intersects")
    allowed = _allowed(zones)
    type_index = pd.Index(TOWER_TYPES).get_indexer(types[point])
    type_ok = allowed.to_numpy()[zone, np.maximum(type_index, 0)] & (type_index >= 0)
    limit = zones["max_height_m"].astype("float64").to_numpy()[zone]
    height_ok = ~(heights[point] > limit)  # no limit (NaN) never fails
    permit = zones["permit_required"].fillna(False).astype(bool).to_numpy()[zone]
    rule = np.select(
        [~type_ok, ~height_ok, permit],
        ["zone_tower_type", "zone_height", "zone_permit"],
        "zone_allows",
    )
    names = allowed.columns.map(lambda key: value_label(key, "vi"))
    names_en = allowed.columns.map(lambda key: value_label(key, "en"))
    listing = allowed.to_numpy()
    allowed_vi = [", ".join(names[row]) or "—" for row in listing]
    allowed_en = [", ".join(names_en[row]) or "—" for row in listing]
    return pd.DataFrame(
        {
            "point": point,
            "rule": rule,
            "zone_id": zones["zone_id"].to_numpy(dtype=object)[zone],
            "zone": zones["name"].to_numpy(dtype=object)[zone],
            "limit": limit,
            "allowed_vi": np.asarray(allowed_vi, dtype=object)[zone],
            "allowed_en": np.asarray(allowed_en, dtype=object)[zone],
        }
    )


def _allowed(zones: gpd.GeoDataFrame) -> pd.DataFrame:
    """Each zone's allowed tower types (a boolean column per type): its list and its rule's."""
    listed = listed_types(zones["tower_types"])
    rules = zones["zone_rule"].fillna("no_rule")
    by_rule = pd.DataFrame(
        {t: rules.map(lambda r, t=t: t in RULE_TOWER_TYPES[r]) for t in TOWER_TYPES},
        index=zones.index,
    )
    return listed & by_rule


def _exclusion_pairs(
    xy: npt.NDArray[np.object_], excluded: gpd.GeoDataFrame, metric_crs: str
) -> pd.DataFrame:
    """A row per (point, exclusion area or buffer holding it)."""
    if excluded.empty:
        return pd.DataFrame(columns=["point", "rule", "exclusion_id", "area", "kind", "buffer"])
    buffer_m = excluded["buffer_m"].to_numpy(dtype=np.float64)
    metric = excluded.geometry.to_crs(metric_crs).to_numpy()
    # A polygon without buffer is itself; a point always has one (the catalogue requires it).
    reach = np.where(buffer_m > 0, shapely.buffer(metric, buffer_m, quad_segs=16), metric)
    point, area = shapely.STRtree(reach).query(xy, predicate="intersects")
    kind = excluded["kind"].to_numpy(dtype=object)[area]
    return pd.DataFrame(
        {
            "point": point,
            "rule": np.where(kind == "military", "military", "exclusion"),
            "exclusion_id": excluded["area_id"].to_numpy(dtype=object)[area],
            "area": excluded["name"].to_numpy(dtype=object)[area],
            "kind": kind,
            "buffer": buffer_m[area],
        }
    )


def _number(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{v:g}")


def _texts(decided: pd.DataFrame) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """The Vietnamese and English text of each decided rule, its blanks filled in."""
    return _text_in(decided, "vi"), _text_in(decided, "en")


def _text_in(decided: pd.DataFrame, lang: Lang) -> npt.NDArray[np.object_]:
    """The text of each decided rule in ``lang``, each distinct one formatted once."""

    def column(name: str) -> pd.Series:
        return decided[name] if name in decided else pd.Series(None, decided.index, object)

    def label(key: object) -> str:
        return "" if pd.isna(key) else value_label(str(key), lang)

    words = pd.DataFrame(
        {
            "rule": decided["rule"],
            "zone": column("zone"),
            "area": column("area"),
            "height": _number(decided["height"]),
            "limit": _number(column("limit")),
            "buffer": _number(column("buffer")),
            "type": decided["type"].map(label),
            "kind": column("kind").map(label),
            "allowed": column(f"allowed_{lang}"),
        }
    )
    words = words.astype(object).where(words.notna(), "")
    position = 0 if lang == "vi" else 1
    # Only the blanks a rule's text has tell its texts apart: the others are emptied, so that
    # each distinct text is formatted once however many sites share it.
    for rule, both in RULE_TEXTS.items():
        unused = [c for c in words.columns if c != "rule" and f"{{{c}}}" not in both[position]]
        words.loc[words["rule"] == rule, unused] = ""
    distinct = words.drop_duplicates()
    texts = distinct.apply(lambda w: RULE_TEXTS[w["rule"]][position].format(**w), axis=1)
    found = words.merge(distinct.assign(text=texts), on=list(words.columns), how="left")
    return found["text"].to_numpy(dtype=object)


def _or_none(values: pd.Series) -> npt.NDArray[np.object_]:
    return values.astype(object).where(values.notna(), None).to_numpy(dtype=object)


def lengths_by_unit(
    lines: gpd.GeoSeries, units: gpd.GeoDataFrame, *, metric_crs: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The pieces of ``lines`` inside each unit: (line index, unit index, length in metres),
    measured in ``metric_crs``; a line crossing a border is split at it."""
    geometry = lines.to_crs(metric_crs).to_numpy()
    areas = units.geometry.to_crs(metric_crs).to_numpy()
    line, unit = shapely.STRtree(areas).query(geometry, predicate="intersects")
    length = shapely.length(shapely.intersection(geometry[line], areas[unit]))
    return line, unit, length


def cable_shares(
    routes: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    ducts: gpd.GeoDataFrame | None = None,
    *,
    metric_crs: str,
    target_share: float | None = None,
) -> pd.DataFrame:
    """Aerial and underground cable length (``routes.laying``) and duct length in each commune
    (``communes.code``) and in all of them (the ``province`` row), the underground share, and
    whether it reaches ``target_share`` (left empty without one). Cable outside every commune
    is not counted."""
    communes = communes.reset_index(drop=True)
    n = len(communes)
    line, unit, length = lengths_by_unit(routes.geometry, communes, metric_crs=metric_crs)
    underground = routes["laying"].to_numpy(dtype=object)[line] == "underground"
    under_m = np.bincount(unit, weights=length * underground, minlength=n)
    aerial_m = np.bincount(unit, weights=length * ~underground, minlength=n)
    duct_m = np.zeros(n, dtype=np.float64)
    if ducts is not None and not ducts.empty:
        _, duct_unit, duct_length = lengths_by_unit(ducts.geometry, communes, metric_crs=metric_crs)
        duct_m = np.bincount(duct_unit, weights=duct_length, minlength=n).astype(np.float64)
    table = pd.DataFrame(
        {
            "level": "commune",
            "code": communes["code"].to_numpy(dtype=object),
            "aerial_m": aerial_m,
            "underground_m": under_m,
            "duct_m": duct_m,
        }
    )
    province = pd.DataFrame(
        {"level": ["province"], "code": ["all"], "aerial_m": [aerial_m.sum()],
         "underground_m": [under_m.sum()], "duct_m": [duct_m.sum()]}
    )  # fmt: skip
    table = pd.concat([province, table], ignore_index=True)
    table["total_m"] = table["aerial_m"] + table["underground_m"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = table["underground_m"] / table["total_m"]
    table["underground_share"] = share.where(table["total_m"] > 0)
    table["target_share"] = np.nan if target_share is None else float(target_share)
    meets = table["underground_share"] >= table["target_share"]
    table["meets_target"] = meets.astype("boolean").where(
        table["underground_share"].notna() & table["target_share"].notna()
    )
    columns = ["level", "code", "aerial_m", "underground_m", "total_m", "underground_share",
               "duct_m", "target_share", "meets_target"]  # fmt: skip
    return table[columns]
