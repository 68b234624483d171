"""The report's sections of the plan's studies, read from the layers their commands stored.

Each section is a title, tables (a caption, headers and rows of text) and notes, so one block of
the report's template draws them all. A study that has not run gives no section; one whose
inputs changed since says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from gis_planner.admin import unit_names
from gis_planner.catalogue.industry import MEASURES
from gis_planner.catalogue.passive import COMPLIANCE_STATUSES, JOB, PASSIVE_LAYERS, PRODUCER
from gis_planner.catalogue.switchoff import SWITCHOFF_STATUSES
from gis_planner.i18n import Lang, value_label
from gis_planner.operators import operator
from gis_planner.products import ProductRecord, is_stale
from gis_planner.store import LayerStore

#: Rows of a list of sites shown in the report; the workbook of the command has them all.
MAX_ROWS = 20

TEXT: dict[str, tuple[str, str]] = {
    "passive": ("Hạ tầng viễn thông thụ động", "Passive infrastructure"),
    "passive_counts": (
        "Trạm và công trình theo quy hoạch hạ tầng thụ động",
        "Sites and structures against the passive infrastructure plan",
    ),
    "checked": ("Đối tượng", "Checked"),
    "site": ("Trạm hiện có", "Existing sites"),
    "planned_site": ("Trạm quy hoạch", "Planned sites"),
    "proposal": ("Cột mới đề xuất", "Proposed new towers"),
    "host_structure": ("Công trình ngành khác (vị trí lắp anten)", "Other sectors' structures"),
    "not_allowed_list": (
        "Trạm không được phép (tối đa {n} dòng)",
        "Sites not allowed (at most {n} rows)",
    ),
    "site_id": ("Mã trạm", "Site"),
    "operator": ("Nhà mạng", "Operator"),
    "reason": ("Lý do", "Reason"),
    "cable": (
        "Cáp ngầm theo xã (thấp nhất trước, tối đa {n} dòng)",
        "Underground cable by commune (lowest first, at most {n} rows)",
    ),
    "unit": ("Đơn vị", "Unit"),
    "cable_km": ("Cáp (km)", "Cable (km)"),
    "underground": ("Tỷ lệ ngầm", "Underground share"),
    "duct_km": ("Cống bể (km)", "Ducts (km)"),
    "goal": ("Mục tiêu", "Goal"),
    "province": ("Toàn tỉnh", "Province"),
    "no_goal": (
        "Chưa có mục tiêu ngầm hóa: dữ liệu quy hoạch hiện có không nêu con số; chạy "
        "gis-planner passive --underground-target để so sánh.",
        "No under-grounding goal: the plan data held names no figure; run gis-planner passive "
        "--underground-target to compare.",
    ),
    "passive_note": (
        "Cột mới đề xuất được kiểm tra như {tower}; cột điện, cột đèn như cột ngụy trang, nóc "
        "nhà công cộng như cột trên nóc nhà. Vùng quy hoạch, khu vực cấm và công trình của mẫu "
        "dữ liệu là giả lập.",
        "Proposed new towers are checked as a {tower}; power and lighting poles as street "
        "poles, public roofs as rooftop poles. The sample's zones, exclusion areas and "
        "structures are synthetic.",
    ),
    "switchoff": ("Tắt sóng {technologies}: {operator}", "{technologies} switch-off: {operator}"),
    "loses_all_service": ("Mất hoàn toàn sóng di động", "Loses all mobile service"),
    "other_operator_only": ("Chỉ còn sóng nhà mạng khác", "Only other operators left"),
    "loses_voice": ("Chỉ còn 4G/5G: thoại cần máy VoLTE", "Only 4G/5G left: voice needs VoLTE"),
    "keeps_service": ("Vẫn còn 2G/3G", "Keeps 2G/3G"),
    "restore_coverage": ("Khôi phục vùng phủ", "Restore coverage"),
    "volte_handsets": ("Cấp máy hỗ trợ VoLTE", "VoLTE handsets"),
    "switchoff_status": ("Thôn bị ảnh hưởng theo tình trạng", "Affected villages by status"),
    "status": ("Tình trạng", "Status"),
    "villages": ("Số thôn", "Villages"),
    "people": ("Dân số", "People"),
    "restored": ("Khôi phục bởi 4G đề xuất", "Restored by the proposed 4G"),
    "switchoff_actions": (
        "Thôn cần xử lý trước khi tắt sóng (đông dân nhất trước, tối đa {n} dòng)",
        "Villages needing action before the switch-off (most people first, at most {n} rows)",
    ),
    "village": ("Thôn", "Village"),
    "commune": ("Xã", "Commune"),
    "action": ("Việc cần làm", "Action"),
    "restored_by": ("Khôi phục bởi", "Restored by"),
    "switchoff_note": (
        "{n} cell 4G đề xuất (trên vị trí của nhà mạng: {own}, thuê chung: {share}, cột mới: "
        "{new}), chi phí tương đối {cost:.1f}.",
        "{n} 4G cells proposed (on the operator's own positions: {own}, tenancies: {share}, "
        "new towers: {new}), relative cost {cost:.1f}.",
    ),
    "industry": ("5G và IoT tại khu công nghiệp", "5G and IoT in industrial zones"),
    "industry_zones": (
        "Các khu, xa mục tiêu 5G trong nhà nhất trước (mọi nhà mạng)",
        "Zones, furthest from the 5G indoor target first (any operator)",
    ),
    "zone": ("Khu", "Zone"),
    "gap": ("Khoảng cách tới mục tiêu", "Gap to target"),
    "industry_note": (
        "{n} phương án bổ sung 5G (thêm 5G trên vị trí có sẵn: {add}, cột mới: {new}), chi "
        "phí tương đối {cost:.1f}; mục tiêu: {target:.0%} diện tích khu có 5G trong nhà.",
        "{n} 5G additions (5G on existing positions: {add}, new towers: {new}), relative cost "
        "{cost:.1f}; target: {target:.0%} of a zone's area with 5G indoors.",
    ),
    "stale": (
        "Đầu vào đã thay đổi từ khi chạy {command}: hãy chạy lại.",
        "Inputs changed since {command} ran: run it again.",
    ),
}


def text(key: str, lang: Lang) -> str:
    vi, en = TEXT[key]
    return vi if lang == "vi" else en


@dataclass(frozen=True)
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    #: Columns of numbers (right-aligned), by index.
    numeric: tuple[int, ...] = ()


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    tables: list[Table]
    notes: list[str] = field(default_factory=list)


def study_sections(store: LayerStore, lang: Lang = "vi") -> list[Section]:
    """The sections of the studies the store holds, in the report's order."""
    sections = [
        switchoff_section(store, lang),
        industry_section(store, lang),
        passive_section(store, lang),
    ]
    return [s for s in sections if s is not None]


def _stale_note(store: LayerStore, job: str, command: str, lang: Lang) -> list[str]:
    revisions = store.layer_revisions()
    stale = any(is_stale(r, revisions) for r in store.products() if r.job == job)
    return [text("stale", lang).format(command=command)] if stale else []


def _record(store: LayerStore, layer: str) -> ProductRecord | None:
    """The record of a study's layer; None when the study has not run."""
    if not store.has_layer(layer):
        return None
    return next((r for r in store.products() if r.layer == layer), None)


def _share(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.1%}"


def passive_section(store: LayerStore, lang: Lang = "vi") -> Section | None:
    """Sites and structures by outcome, the sites not allowed, the underground share of cable
    by commune; None before ``gis-planner passive`` has run."""
    if not all(store.has_layer(spec.name) for spec in PASSIVE_LAYERS):
        return None
    checks = store.read("site_compliance")
    hosts = store.read("passive_hosts").assign(subject="host_structure")
    both = pd.concat([checks[["subject", "status"]], hosts[["subject", "status"]]])
    counts = both.groupby(["subject", "status"]).size().unstack(fill_value=0)
    subjects = ("site", "planned_site", "proposal", "host_structure")
    counts = counts.reindex(index=list(subjects), columns=list(COMPLIANCE_STATUSES), fill_value=0)
    by_status = Table(
        text("passive_counts", lang),
        [text("checked", lang), *(value_label(s, lang) for s in COMPLIANCE_STATUSES)],
        [[text(s, lang), *(f"{int(n):,}" for n in counts.loc[s])] for s in subjects],
        numeric=(1, 2, 3),
    )
    forbidden = checks[checks["status"] == "forbidden"].sort_values("check_id").head(MAX_ROWS)
    reason = "rule_vi" if lang == "vi" else "rule_en"
    not_allowed = Table(
        text("not_allowed_list", lang).format(n=MAX_ROWS),
        [text("site_id", lang), text("operator", lang), text("reason", lang)],
        [
            [str(r.site_id), "" if pd.isna(r.operator) else operator(r.operator).name, r[reason]]
            for _, r in forbidden.iterrows()
        ],
    )
    cables = store.read("cable_shares")
    province = cables[cables["level"] == "province"]
    communes = cables[(cables["level"] == "commune") & (cables["total_m"] > 0)]
    communes = communes.sort_values(["underground_share", "code"]).head(MAX_ROWS)
    names = unit_names(
        store.read("admin_units", columns=["code", "name", "level", "admin_version"])
    )
    rows = [
        [
            text("province", lang) if r.level == "province" else names.get(r.code, r.code),
            f"{r.total_m / 1000:,.1f}",
            _share(r.underground_share),
            f"{r.duct_m / 1000:,.1f}",
            _share(r.target_share),
        ]
        for r in pd.concat([province, communes]).itertuples()
    ]
    cable = Table(
        text("cable", lang).format(n=MAX_ROWS),
        [text(k, lang) for k in ("unit", "cable_km", "underground", "duct_km", "goal")],
        rows,
        numeric=(1, 2, 3, 4),
    )
    record = next(r for r in store.products() if r.job == JOB and r.layer == "site_compliance")
    tower = value_label(str(record.parameters["new_build_tower_type"]), lang).lower()
    notes = [text("passive_note", lang).format(tower=tower)]
    if record.parameters.get("underground_target") is None:
        notes.append(text("no_goal", lang))
    notes += _stale_note(store, JOB, PRODUCER, lang)
    return Section("passive", text("passive", lang), [by_status, not_allowed, cable], notes)


def switchoff_section(store: LayerStore, lang: Lang = "vi") -> Section | None:
    """The villages a switch-off affects by status, those needing action, the restoring 4G
    cells; None before ``gis-planner switch-off`` has run."""
    record = _record(store, "switchoff_villages")
    if record is None or not store.has_layer("switchoff_restoration"):
        return None
    villages = store.read("switchoff_villages")
    proposals = store.read("switchoff_restoration")
    restored = villages["restored_by"].notna()
    by_status = villages.groupby("status")["population"].agg(["size", "sum"])
    by_status = by_status.reindex(list(SWITCHOFF_STATUSES), fill_value=0)
    back = villages[restored].groupby("status")["population"].agg(["size", "sum"])
    back = back.reindex(list(SWITCHOFF_STATUSES), fill_value=0)
    statuses = Table(
        text("switchoff_status", lang),
        [text(k, lang) for k in ("status", "villages", "people", "restored")],
        [
            [
                text(status, lang),
                f"{int(by_status.loc[status, 'size']):,}",
                f"{int(by_status.loc[status, 'sum']):,}",
                f"{int(back.loc[status, 'size']):,} / {int(back.loc[status, 'sum']):,}",
            ]
            for status in SWITCHOFF_STATUSES
        ],
        numeric=(1, 2, 3),
    )
    acting = villages[villages["action"] != "none"]
    acting = acting.sort_values(["population", "village_code"], ascending=[False, True])
    names = _unit_names(store)
    village_names = _village_names(store)
    actions = Table(
        text("switchoff_actions", lang).format(n=MAX_ROWS),
        [text(k, lang) for k in ("village", "commune", "people", "action", "restored_by")],
        [
            [
                village_names.get(r.village_code, r.village_code),
                names.get(r.commune_code, r.commune_code) if isinstance(r.commune_code, str)
                else "",
                f"{int(r.population):,}",
                text(r.action, lang),
                r.restored_by if isinstance(r.restored_by, str) else "",
            ]
            for r in acting.head(MAX_ROWS).itertuples()
        ],
        numeric=(2,),
    )  # fmt: skip
    kinds = proposals["kind"].value_counts()
    note = text("switchoff_note", lang).format(
        n=len(proposals),
        own=int(kinds.get("upgrade", 0)),
        share=int(kinds.get("share", 0)),
        new=int(kinds.get("new_build", 0)),
        cost=float(proposals["cost"].sum()),
    )
    title = text("switchoff", lang).format(
        technologies="/".join(record.technologies),
        operator=", ".join(operator(o).name for o in record.operators),
    )
    notes = [note, *_stale_note(store, "switchoff", "gis-planner switch-off", lang)]
    return Section("switchoff", title, [statuses, actions], notes)


def industry_section(store: LayerStore, lang: Lang = "vi") -> Section | None:
    """The industrial zones' 5G, NB-IoT and LTE-M shares, furthest from the target first, and
    the additions closing the gaps; None before ``gis-planner industry`` has run."""
    record = _record(store, "industry_zones")
    if record is None or not store.has_layer("industry_additions"):
        return None
    zones = store.read("industry_zones")
    zones = zones[zones["operator"] == "any"].sort_values(["rank", "area_id"])
    measures = ("5g_outdoor", "5g_indoor", "nbiot_indoor", "ltem_indoor")
    position = 0 if lang == "vi" else 1
    table = Table(
        text("industry_zones", lang),
        [
            text("zone", lang),
            *(MEASURES[m][position] for m in measures),
            text("gap", lang),
        ],
        [
            [str(r["name"]), *(_share(r[f"{m}_share"]) for m in measures), _share(r["gap"])]
            for _, r in zones.iterrows()
        ],
        numeric=(1, 2, 3, 4, 5),
    )
    additions = store.read("industry_additions")
    kinds = additions["kind"].value_counts()
    note = text("industry_note", lang).format(
        n=len(additions),
        add=int(kinds.get("add_5g", 0)),
        new=int(kinds.get("new_build", 0)),
        cost=float(additions["cost"].sum()),
        target=float(record.parameters["target_share"]),
    )
    notes = [note, *_stale_note(store, "industry", "gis-planner industry", lang)]
    return Section("industry", text("industry", lang), [table], notes)


def _unit_names(store: LayerStore) -> dict[str, str]:
    return unit_names(store.read("admin_units", columns=["code", "name", "level", "admin_version"]))


def _village_names(store: LayerStore) -> dict[str, str]:
    villages = store.read("villages", columns=["code", "name"])
    return dict(zip(villages["code"].astype(str), villages["name"].astype(str), strict=True))
