"""The indicators report: HTML (Vietnamese first, English available) and the same tables as XLSX.

Everything the HTML shows is inside the file (charts and maps as PNG data URIs), so it opens
offline. Layers an analysis has not written yet are named in the report, never guessed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke

from gis_planner.admin import FORMER, place_name, unit_name, units
from gis_planner.catalogue.speeds import SPEEDS_VILLAGES
from gis_planner.coverage.registry import JOB as COVERAGE_JOB
from gis_planner.coverage.registry import terrain_text
from gis_planner.coverage.stats import ANY_OPERATOR
from gis_planner.crs import metric_crs_of
from gis_planner.i18n import Lang
from gis_planner.indicators import (
    NO_PLAN,
    IndicatorInputs,
    PlanTargets,
    area_units,
    entered_figures,
    indicators,
    plan_targets,
    point_places,
    village_places,
)
from gis_planner.maps import data_uri
from gis_planner.operators import operator
from gis_planner.report_studies import Section, study_sections
from gis_planner.speeds import SpeedTargets, fixed_summary, speed_summary
from gis_planner.speeds_product import PRODUCER as SPEEDS_PRODUCER
from gis_planner.speeds_product import NoSpeeds, SpeedFigures, read_figures
from gis_planner.store import LayerStore
from gis_planner.tables import write_xlsx

#: Layers read for the report, and the command that writes each analysis's layers.
ANALYSIS_LAYERS = {
    "coverage_villages": "gis-planner coverage",
    "coverage_areas": "gis-planner coverage",
    "ftth_villages": "gis-planner fibre",
    "positions": "gis-planner sharing",
}
#: Besides them, the speeds the report reads (through ``speeds_product``): named when missing.
REPORT_LAYERS = {**ANALYSIS_LAYERS, SPEEDS_VILLAGES.name: SPEEDS_PRODUCER}
STATUS_COLOURS = {
    "met": "#1a9850", "in range": "#91cf60", "not met": "#d73027", "no data": "#999",
    NO_PLAN: "#bdbdbd",
}  # fmt: skip

TEXT: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo chỉ tiêu hạ tầng số", "Digital infrastructure indicators report"),
    "subtitle": ("Đo từ các lớp dữ liệu của", "Measured from the layers of"),
    "summary": ("Tổng hợp cấp tỉnh", "Province summary"),
    "indicator": ("Chỉ tiêu", "Indicator"),
    "value": ("Giá trị", "Value"),
    "target": ("Mục tiêu", "Target"),
    "year": ("Năm", "Year"),
    "status": ("Đánh giá", "Status"),
    "document": ("Văn bản", "Document"),
    "unit": ("Đơn vị", "Unit"),
    "name": ("Đơn vị hành chính", "Administrative unit"),
    "entered": ("Chỉ tiêu nhập số liệu", "Indicators entered as figures"),
    "as_of": ("Thời điểm", "As of"),
    "source": ("Nguồn", "Source"),
    "by_district": ("Theo huyện (trước 01/7/2025)", "By district (before 1 July 2025)"),
    "by_commune_2025": ("Theo xã, phường (từ 01/7/2025)", "By commune (from 1 July 2025)"),
    "by_commune": ("Theo xã (trước 01/7/2025)", "By commune (before 1 July 2025)"),
    "maps": ("Bản đồ", "Maps"),
    "missing": (
        "Chưa có lớp dữ liệu, chạy lệnh tương ứng trước:",
        "Layers not written yet; run the command first:",
    ),
    "met": ("Đạt", "Met"),
    "in range": ("Trong khoảng mục tiêu", "Within the target range"),
    "not met": ("Chưa đạt", "Not met"),
    "no data": ("Chưa có số liệu", "No data"),
    NO_PLAN: (
        "Chưa có quy hoạch cho khu vực này",
        "No plan loaded for this area",
    ),
    "map_mobile": ("Thôn có vùng phủ 4G (mọi nhà mạng)", "Villages with 4G (any operator)"),
    "map_ftth": ("Thôn có cáp quang FTTH", "Villages with FTTH"),
    "map_positions": ("Vị trí trạm BTS: dùng chung và riêng", "BTS positions: shared and single"),
    "yes": ("Có", "Yes"),
    "no": ("Chưa", "No"),
    "shared": ("Dùng chung", "Shared"),
    "single": ("Một nhà mạng", "Single operator"),
    "generated": ("Lập ngày", "Generated on"),
    "speeds": ("Tốc độ", "Speeds"),
    "speeds_mobile": (
        "Tải xuống di động ≥ {target} Mb/s, theo nhà mạng và công nghệ",
        "Mobile downloads ≥ {target} Mb/s, by operator and technology",
    ),
    "speeds_fixed": ("Truy nhập cố định (FTTH, giờ cao điểm)", "Fixed access (FTTH, busy hour)"),
    "technology": ("Công nghệ", "Technology"),
    "operator": ("Nhà mạng", "Operator"),
    "any_operator": ("Tốt nhất của mọi nhà mạng", "Best of any operator"),
    "villages_at": ("Thôn đạt", "Villages at the target"),
    "people_at": ("Dân số đạt", "People at the target"),
    "ftth_available": ("Có FTTH", "FTTH available"),
    "at_rate": ("Đạt ≥ {rate}", "At ≥ {rate}"),
    "speeds_note": (
        "Ước tính từ SINR của vùng phủ và từ mạng PON, không phải số đo; tỷ lệ dân số theo diện "
        "tích thôn. Giả định: mỗi người dùng được {user_share:.0%} tài nguyên của cell; PON "
        "chia 1:{split}, {busy_share:.0%} thuê bao cùng tải giờ cao điểm.",
        "Estimated from the coverage's SINR and the PONs, not measured; people shares by "
        "village area. Assumptions: a user gets {user_share:.0%} of a cell's resources; PON "
        "split 1:{split}, {busy_share:.0%} of subscribers downloading at once in the busy hour.",
    ),
    "terrain": ("Vùng phủ tính trên", "Coverage computed over"),
    "speeds_stale": (
        "Đầu vào đã thay đổi từ khi tính tốc độ: chạy lại gis-planner speeds.",
        "Inputs changed since the speeds were computed: run gis-planner speeds again.",
    ),
}


def text(key: str, lang: Lang) -> str:
    vi, en = TEXT[key]
    return vi if lang == "vi" else en


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    xlsx: Path


def stored_speeds(store: LayerStore) -> SpeedFigures | None:
    """The province's speeds as ``gis-planner speeds`` stored them; None before it has run."""
    try:
        return read_figures(store)
    except NoSpeeds:
        return None


def report_inputs(store: LayerStore) -> tuple[IndicatorInputs, list[str]]:
    """The layers the indicators need, and the analysis layers the store does not have yet."""

    def optional(name: str) -> pd.DataFrame | None:
        return store.read(name) if store.has_layer(name) else None

    inputs = IndicatorInputs(
        villages=store.read("villages"),
        admin_units=store.read("admin_units"),
        crosswalk=store.read("admin_crosswalk"),
        coverage_villages=optional("coverage_villages"),
        coverage_areas=optional("coverage_areas"),
        ftth_villages=optional("ftth_villages"),
        positions=optional("positions"),
        priority_areas=optional("priority_areas"),
    )
    missing = [name for name in ANALYSIS_LAYERS if not store.has_layer(name)]
    return inputs, missing


def render_report(
    inputs: IndicatorInputs,
    *,
    lang: Lang = "vi",
    figures: pd.DataFrame | None = None,
    targets: PlanTargets | None = None,
    missing: list[str] | None = None,
    place: str | None = None,
    metric_crs: str | None = None,
    area: tuple[str, str] | None = None,
    speeds: SpeedFigures | None = None,
    terrain: str | None = None,
    studies: list[Section] | None = None,
) -> tuple[str, dict[str, pd.DataFrame]]:
    """The HTML of the report and its tables (for the XLSX).

    ``area`` (admin version, code) restricts the report to one unit's area (``area_units``):
    a former province, a 2025 commune… ``place`` defaults to the area's name, else to the
    provinces of the admin units (``place_name``); the maps are drawn in ``metric_crs``
    (default: the admin units' area's). ``speeds`` (``stored_speeds``) adds the speeds
    section, counted over the report's villages; ``terrain`` (``coverage_terrain``) says what
    the coverage was computed over; ``studies`` (``report_studies.study_sections``) are the
    sections of the plan's studies, over the whole store.
    """
    targets = targets or plan_targets()
    table = indicators(inputs, targets)
    if area is not None:
        shown = area_units(inputs.admin_units, inputs.crosswalk, *area)
        keys = pd.MultiIndex.from_arrays([table["admin_version"], table["code"].astype(str)])
        table = table[keys.isin(list(shown))].reset_index(drop=True)
        if place is None:
            place = unit_name(inputs.admin_units, *area, lang=lang)
        inputs = _inputs_within(inputs, shown)
    entered = entered_figures(figures, targets)
    # Labels, units and the charts' target line from each indicator's first plan.
    labels = targets.table.drop_duplicates("key").set_index("key")
    label_column = "label_vi" if lang == "vi" else "label_en"
    table["label"] = table["indicator"].map(labels[label_column])

    province = table[table["level"] == "province"].copy()
    # The former provinces are named as such: the province is the new one.
    former = province["admin_version"] == "pre2025"
    province.loc[former, "name"] = province.loc[former, "name"] + f" ({FORMER[lang]})"
    # Every measured indicator appears in the summary, as "no data" until its layers exist.
    absent = sorted(set(targets.measured["key"]) - set(province["indicator"]))
    if absent:
        empty = pd.DataFrame(
            {
                "indicator": absent,
                "admin_version": "pre2025",
                "level": "province",
                "code": "",
                "name": "",
                "value": np.nan,
                "target": [float(labels.loc[k, "target"]) for k in absent],
                "target_high": [float(labels.loc[k, "target_high"]) for k in absent],
                "year": [int(labels.loc[k, "year"]) for k in absent],
                "status": "no data",
                "label": [labels.loc[k, label_column] for k in absent],
                "document": [labels.loc[k, "document"] for k in absent],
            }
        )
        province = pd.concat([province, empty], ignore_index=True)
    province = province.sort_values(["indicator", "admin_version"])
    sections = []
    for key in targets.measured["key"]:
        rows = table[table["indicator"] == key]
        if rows.empty:
            continue
        sections.append(
            {
                "key": key,
                "label": labels.loc[key, label_column],
                "target": _target_text(labels.loc[key], lang),
                "chart": _district_chart(rows, labels.loc[key], lang),
                "districts": _records(rows[(rows["level"] == "district")]),
                "communes_2025": _records(
                    rows[(rows["level"] == "commune") & (rows["admin_version"] == "2025-07")]
                ),
                "communes": _records(
                    rows[(rows["level"] == "commune") & (rows["admin_version"] == "pre2025")]
                ),
            }
        )
    speed_tables = _speed_tables(speeds, inputs.villages) if speeds is not None else None
    speeds_section = (
        _speeds_section(speeds, speed_tables, lang) if speeds is not None and speed_tables else None
    )
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            lang=lang,
            t=lambda key: text(key, lang),
            place=place_name(inputs.admin_units, lang) if place is None else place,
            today=date.today().isoformat(),
            province=_records(province),
            sections=sections,
            entered=entered.assign(label=entered[label_column]).to_dict("records"),
            maps=_maps(inputs, lang, metric_crs or metric_crs_of(inputs.admin_units)),
            speeds=speeds_section,
            studies=studies or [],
            terrain=terrain,
            missing=[(name, REPORT_LAYERS[name]) for name in missing or []],
            colours=STATUS_COLOURS,
            unit_text=lambda unit: unit_text(unit, lang),
        )
    )
    tables = {
        "indicators": table.drop(columns=["label"]),
        "entered": entered,
        "targets": targets.table,
    }
    if speed_tables:
        tables["speeds"], tables["fixed_speeds"] = speed_tables
    return html, tables


def coverage_terrain(store: LayerStore, lang: Lang) -> str | None:
    """What the province's coverage was computed over (a terrain model or level ground), from
    its product record; None before the coverage has run."""
    record = next(
        (r for r in store.products() if r.job == COVERAGE_JOB and r.layer == "coverage_villages"),
        None,
    )
    return None if record is None else terrain_text(record.parameters, lang)


def write_report(
    store: LayerStore,
    folder: Path,
    *,
    lang: Lang = "vi",
    figures: pd.DataFrame | None = None,
    area: tuple[str, str] | None = None,
) -> ReportFiles:
    """Writes ``report_<lang>.html`` and ``indicators.xlsx`` into ``folder`` (of the area of
    one unit, ``area``: admin version and code, when given)."""
    inputs, missing = report_inputs(store)
    speeds = stored_speeds(store)
    if speeds is None:
        missing.append(SPEEDS_VILLAGES.name)
    html, tables = render_report(
        inputs,
        lang=lang,
        figures=figures,
        missing=missing,
        area=area,
        speeds=speeds,
        terrain=coverage_terrain(store, lang),
        studies=study_sections(store, lang),
    )
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / f"report_{lang}.html"
    html_path.write_text(html, encoding="utf-8")
    xlsx = write_xlsx(
        folder / "indicators.xlsx", {name: (frame, None) for name, frame in tables.items()}, lang
    )
    return ReportFiles(html_path, xlsx)


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("gis_planner", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def unit_text(unit: str, lang: Lang) -> str:
    """A target's unit as the report prints it."""
    if unit == "per 100 people":
        return "/100 dân" if lang == "vi" else "per 100 people"
    return unit


def _target_text(row: pd.Series, lang: Lang = "vi") -> str:
    unit = "%" if row["unit"] == "%" else f" {unit_text(str(row['unit']), lang)}"
    high = row.get("target_high")
    if high is not None and pd.notna(high):
        return f"{row['target']:g}–{high:g}{unit} ({int(row['year'])})"
    return f"≥ {row['target']:g}{unit} ({int(row['year'])})"


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    shown = frame.sort_values(["admin_version", "code"]).copy()
    shown["value_text"] = [f"{v:.1f} %" if pd.notna(v) else "–" for v in shown["value"]]
    return shown.to_dict("records")


def _png(fig: Figure) -> str:
    # A bare Figure (no pyplot): no global state, safe in a server's threads.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return data_uri("image/png", buffer.getvalue())


def _district_chart(rows: pd.DataFrame, target: pd.Series, lang: Lang) -> str | None:
    """Bars of the districts' values with the target as a line."""
    districts = rows[(rows["level"] == "district")].sort_values("code")
    if districts.empty:
        return None
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.subplots()
    colours = [STATUS_COLOURS[s] for s in districts["status"]]
    ax.barh(districts["name"], districts["value"].fillna(0), color=colours)
    ax.axvline(float(target["target"]), color="#333", linestyle="--", linewidth=1)
    if pd.notna(target.get("target_high")):
        ax.axvline(float(target["target_high"]), color="#333", linestyle=":", linewidth=1)
    ax.set_xlim(0, max(100.0, float(districts["value"].max() or 0)))
    ax.set_xlabel("%")
    ax.set_title(str(target["label_vi" if lang == "vi" else "label_en"]), fontsize=10)
    ax.invert_yaxis()
    return _png(fig)


def _speed_tables(
    speeds: SpeedFigures, villages: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The mobile and fixed summaries of the stored speeds over ``villages`` (the report's);
    None when the speeds measure none of them."""
    codes = villages["code"]
    rows = speeds.villages[speeds.villages["village_code"].isin(codes)]
    if rows.empty:
        return None
    fixed = speeds.fixed[speeds.fixed["village_code"].isin(codes)]
    targets = SpeedTargets(**speeds.parameters["targets"])
    return speed_summary(rows), fixed_summary(fixed, targets)


def _speeds_section(
    speeds: SpeedFigures, tables: tuple[pd.DataFrame, pd.DataFrame], lang: Lang
) -> dict[str, object]:
    """The speeds section: shares at the mobile target by operator and technology, the FTTH
    against the fixed targets, what the estimate assumes."""
    mobile, fixed = tables

    def shares(row: pd.Series) -> dict[str, str]:
        return {
            "villages": f"{int(row['villages_at_target']):,}/{int(row['villages']):,} "
            f"({row['village_share']:.1%})",
            "people": f"{row['population_share']:.1%}",
        }

    def who(key: str) -> str:
        return text("any_operator", lang) if key == ANY_OPERATOR else operator(key).name

    def measure(row: pd.Series) -> str:
        if row["measure"] == "ftth":
            return text("ftth_available", lang)
        label = text("at_rate", lang).format(rate=_rate_text(float(row["target_mbps"])))
        return label + (" (2030)" if row["measure"] == "fixed_2030" else "")

    targets = speeds.parameters["targets"]
    throughput, access = speeds.parameters["throughput"], speeds.parameters["fixed"]
    note = text("speeds_note", lang).format(
        user_share=throughput["user_share"], split=access["split"],
        busy_share=access["busy_share"],
    )  # fmt: skip
    return {
        "mobile_title": text("speeds_mobile", lang).format(target=f"{targets['mobile_mbps']:g}"),
        "mobile": [
            {"technology": r["technology"], "operator": who(str(r["operator"])), **shares(r)}
            for _, r in mobile.iterrows()
        ],
        "fixed": [{"measure": measure(r), **shares(r)} for _, r in fixed.iterrows()],
        "note": note,
        "stale": text("speeds_stale", lang) if speeds.stale else None,
    }


def _rate_text(mbps: float) -> str:
    """A download rate as the plans write it: "100 Mb/s", "1 Gb/s"."""
    return f"{mbps / 1000:g} Gb/s" if mbps >= 1000 else f"{mbps:g} Mb/s"


def _inputs_within(inputs: IndicatorInputs, shown: set[tuple[str, str]]) -> IndicatorInputs:
    """``inputs`` with the villages, positions and district outlines of the units ``shown``
    only (for the maps of a report on one area)."""
    codes = {code for _, code in shown}

    def inside(places: pd.DataFrame) -> npt.NDArray[np.bool_]:
        columns = ["commune_pre2025", "commune_2025"]
        return places[columns].isin(codes).any(axis=1).to_numpy()

    villages = inputs.villages[
        inside(village_places(inputs.villages, inputs.admin_units, inputs.crosswalk))
    ]
    positions = inputs.positions
    if positions is not None:
        positions = positions[inside(point_places(positions.geometry, inputs.admin_units))]
    admin = inputs.admin_units
    keys = pd.MultiIndex.from_arrays([admin["admin_version"], admin["code"].astype(str)])
    within = admin[(admin["level"] != "district") | keys.isin(list(shown))]
    return replace(inputs, villages=villages, positions=positions, admin_units=within)


def _maps(inputs: IndicatorInputs, lang: Lang, crs: str) -> list[dict[str, str]]:
    """Static maps of villages by coverage and by FTTH, and of positions by sharing, drawn in
    the metric CRS ``crs`` (so they are not stretched as plate carrée would be)."""
    districts = units(inputs.admin_units, "district").to_crs(crs)
    villages = inputs.villages.set_index("code").to_crs(crs)
    maps = []
    if inputs.coverage_villages is not None:
        rows = inputs.coverage_villages
        rows = rows[(rows["operator"] == "any") & (rows["technology"] == "4G")]
        covered = rows.set_index("village_code")["covered"].astype(bool)
        png = _status_map(villages, covered, districts, lang)
        maps.append({"title": text("map_mobile", lang), "png": png})
    if inputs.ftth_villages is not None:
        covered = inputs.ftth_villages.set_index("code")["covered"].astype(bool)
        png = _status_map(villages, covered, districts, lang)
        maps.append({"title": text("map_ftth", lang), "png": png})
    if inputs.positions is not None:
        fig, ax = _base(districts)
        points = inputs.positions.to_crs(crs)
        shared = points["shared"].astype(bool).to_numpy()
        points[~shared].plot(ax=ax, markersize=4, color="#fc8d59", label=text("single", lang))
        points[shared].plot(ax=ax, markersize=9, color="#1a9850", label=text("shared", lang))
        ax.legend(loc="lower left", fontsize=8)
        maps.append({"title": text("map_positions", lang), "png": _png(fig)})
    return maps


def _base(districts: gpd.GeoDataFrame) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(6.5, 6.5))
    ax = fig.subplots()
    districts.boundary.plot(ax=ax, color="#333", linewidth=0.8)
    for row in districts.itertuples():  # six labels
        point = row.geometry.representative_point()
        ax.annotate(
            row.name,
            (point.x, point.y),
            fontsize=7,
            ha="center",
            color="#222",
            path_effects=[withStroke(linewidth=2.5, foreground="white")],
        )
    ax.set_axis_off()
    return fig, ax


def _status_map(
    villages: gpd.GeoDataFrame, covered: pd.Series, districts: gpd.GeoDataFrame, lang: Lang
) -> str:
    fig, ax = _base(districts)
    status = covered.reindex(villages.index)
    colours = np.where(status.fillna(False).to_numpy(dtype=bool), "#1a9850", "#d73027")
    colours = np.where(status.isna().to_numpy(), "#cccccc", colours)
    villages.plot(ax=ax, color=colours, linewidth=0)
    handles = [
        Patch(color="#1a9850", label=text("yes", lang)),
        Patch(color="#d73027", label=text("no", lang)),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    return _png(fig)
