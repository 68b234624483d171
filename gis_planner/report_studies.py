"""The report's sections of the plan's studies, read from the layers their commands stored.

Each section is a title, tables (a caption, headers and rows of text) and notes, so one block of
the report's template draws them all. A study that has not run gives no section; one whose
inputs changed since says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from gis_planner.admin import unit_names
from gis_planner.catalogue.passive import COMPLIANCE_STATUSES, JOB, PASSIVE_LAYERS, PRODUCER
from gis_planner.i18n import Lang, value_label
from gis_planner.operators import operator
from gis_planner.products import is_stale
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
    sections = [passive_section(store, lang)]
    return [s for s in sections if s is not None]


def _stale_note(store: LayerStore, job: str, command: str, lang: Lang) -> list[str]:
    revisions = store.layer_revisions()
    stale = any(is_stale(r, revisions) for r in store.products() if r.job == job)
    return [text("stale", lang).format(command=command)] if stale else []


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
