"""Folium maps that open with no internet: Leaflet is inlined, no tiles, no CDN."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement, Template

from gis_planner.catalogue import get_spec
from gis_planner.crs import WGS84, metric_crs_of
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import Lang, value_label
from gis_planner.operators import OPERATORS

_LEAFLET = "static/vendor/leaflet/dist"
_REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
OPERATOR_COLOURS = {op.key: op.colour for op in OPERATORS}
Style = Callable[[dict[str, Any]], dict[str, Any]]


def _asset(path: str) -> bytes:
    return resources.files("gis_planner").joinpath(path).read_bytes()


def data_uri(mime: str, payload: bytes) -> str:
    """``payload`` inlined as a data URI, so a page needs no other file or server."""
    return f"data:{mime};base64,{base64.b64encode(payload).decode()}"


@lru_cache(maxsize=1)
def _leaflet_uris() -> tuple[str, str]:
    """Leaflet's JS and CSS as data URIs, the CSS with its icons inlined too."""
    css = _asset(f"{_LEAFLET}/leaflet.css").decode()
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):
        uri = data_uri("image/png", _asset(f"{_LEAFLET}/images/{image}"))
        css = css.replace(f"images/{image}", uri)
    return (
        data_uri("text/javascript", _asset(f"{_LEAFLET}/leaflet.js")),
        data_uri("text/css", css.encode()),
    )


def remote_references(html: str) -> list[str]:
    """Every ``src``/``href`` in ``html`` that would reach the network (empty = offline)."""
    return [m.group(0) for m in _REMOTE.finditer(html)]


def base_map(bounds: Sequence[float]) -> folium.Map:
    """An empty map fitted to (min lon, min lat, max lon, max lat), with Leaflet inlined."""
    js, css = _leaflet_uris()
    fmap = folium.Map(tiles=None, control_scale=False, prefer_canvas=True, zoom_control=True)
    # Instance attributes shadow folium's CDN defaults (jQuery, Bootstrap, icon fonts too).
    fmap.default_js = [("leaflet", js)]
    fmap.default_css = [("leaflet_css", css)]
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    fmap.add_child(_MetricScale())
    return fmap


class _MetricScale(MacroElement):
    """A metric scale bar only (engineers here read kilometres), added in the map's own script
    after the map exists: in the page's script it would run before and leave the map blank."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false, maxWidth: 150}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def simplified(
    frame: gpd.GeoDataFrame, tolerance_m: float, *, metric_crs: str | None = None
) -> gpd.GeoDataFrame:
    """Lines and polygons simplified by ``tolerance_m`` metres in ``metric_crs`` (default: the
    frame's area's), back in WGS84."""
    metric = frame.to_crs(metric_crs or metric_crs_of(frame))
    metric = metric.set_geometry(metric.geometry.simplify(tolerance_m, preserve_topology=True))
    return metric.to_crs(WGS84)


def _tooltip(layer: str, fields: Sequence[str], lang: Lang) -> folium.GeoJsonTooltip:
    spec = get_spec(layer)
    return folium.GeoJsonTooltip(
        fields=list(fields), aliases=[spec.field(f).label(lang) for f in fields], sticky=True
    )


def add_layer(
    fmap: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    layer: str,
    title: str,
    style: Style,
    tooltip_fields: Sequence[str] = (),
    show: bool = True,
    lang: Lang = "vi",
    points_radius: float | None = None,
) -> None:
    """Add ``frame`` as one switchable layer; values in tooltips carry their labels."""
    if frame.empty:
        return
    shown = frame[[*tooltip_fields, "geometry"]].copy()
    spec = get_spec(layer)
    for name in tooltip_fields:
        if spec.field(name).allowed:
            shown[name] = shown[name].map(
                lambda v: value_label(v, lang) if isinstance(v, str) else v
            )
    shown = shown.astype({c: object for c in tooltip_fields}).where(shown.notna(), None)
    marker = folium.CircleMarker(radius=points_radius, fill=True) if points_radius else None
    folium.GeoJson(
        shown,
        name=title,
        style_function=style,
        tooltip=_tooltip(layer, tooltip_fields, lang) if tooltip_fields else None,
        marker=marker,
        show=show,
        smooth_factor=1.0,
    ).add_to(fmap)


class Legend(MacroElement):
    """A fixed box listing colours and what they mean."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div style="position: fixed; bottom: 24px; left: 12px; z-index: 9999; background: white;
             padding: 8px 10px; border: 1px solid #999; border-radius: 4px; font: 12px sans-serif;">
          <b>{{ this.title }}</b><br>
          {% for colour, label in this.entries %}
          <i style="display:inline-block;width:12px;height:12px;margin-right:6px;
             background:{{ colour }};opacity:0.8;vertical-align:middle"></i>{{ label }}<br>
          {% endfor %}
        </div>
        {% endmacro %}
        """
    )

    def __init__(self, title: str, entries: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.entries = list(entries)


def _colour(key: str) -> Style:
    def style(feature: dict[str, Any]) -> dict[str, Any]:
        colour = OPERATOR_COLOURS.get(feature["properties"].get(key), "#555555")
        return {"color": colour, "fillColor": colour, "weight": 2, "fillOpacity": 0.8}

    return style


def _fixed(**style: Any) -> Style:
    return lambda _feature: dict(style)


TITLES: dict[str, tuple[str, str]] = {
    "province": ("Ranh giới tỉnh", "Province boundary"),
    "districts": ("Ranh giới huyện (trước 2025)", "Districts (pre-2025)"),
    "communes": ("Xã, phường, thị trấn (trước 2025)", "Communes (pre-2025)"),
    "communes_2025": ("Xã, phường (từ 01/7/2025)", "Communes (from 1 July 2025)"),
    "villages": ("Thôn, tổ dân phố", "Villages"),
    "priority_areas": ("Khu vực ưu tiên 5G", "5G priority areas"),
    "fibre_routes": ("Tuyến cáp quang", "Fibre routes"),
    "fibre_nodes": ("POP / OLT", "POP / OLT"),
    "sites": ("Trạm BTS", "BTS sites"),
    "legend": ("Nhà mạng", "Operators"),
}


def _title(key: str, lang: Lang) -> str:
    vi, en = TITLES[key]
    return vi if lang == "vi" else en


#: The layers ``overview_map`` draws.
OVERVIEW_LAYERS = (
    "admin_units",
    "villages",
    "sites",
    "fibre_routes",
    "fibre_nodes",
    "priority_areas",
)


def overview_map(layers: Mapping[str, pd.DataFrame], lang: Lang = "vi") -> folium.Map:
    """All sample layers on one offline map: boundaries as the base, everything switchable."""
    missing = set(OVERVIEW_LAYERS) - set(layers)
    if missing:
        raise GisPlannerError(f"overview map needs layers {sorted(missing)}")
    admin = layers["admin_units"]
    assert isinstance(admin, gpd.GeoDataFrame)
    pre = admin[admin["admin_version"] == "pre2025"]
    province = pre[pre["level"] == "province"]
    fmap = base_map(province.total_bounds)
    # One metric CRS, the area's, for every layer the map simplifies.
    crs = metric_crs_of(province)
    boundary = {"fill": False}

    def admin_layer(key: str, frame: pd.DataFrame, style: Style, show: bool) -> None:
        assert isinstance(frame, gpd.GeoDataFrame)
        add_layer(
            fmap, simplified(frame, 10, metric_crs=crs), layer="admin_units",
            title=_title(key, lang), style=style,
            tooltip_fields=("code", "name", "unit_type", "population"), show=show, lang=lang,
        )  # fmt: skip

    admin_layer("province", province, _fixed(color="#222", weight=3, **boundary), True)
    admin_layer(
        "districts",
        pre[pre["level"] == "district"],
        _fixed(color="#444", weight=2, **boundary),
        True,
    )
    admin_layer(
        "communes", pre[pre["level"] == "commune"],
        _fixed(color="#777", weight=1, dashArray="4 3", **boundary), True,
    )  # fmt: skip
    new = admin[(admin["admin_version"] == "2025-07") & (admin["level"] == "commune")]
    admin_layer("communes_2025", new, _fixed(color="#8e44ad", weight=1.5, **boundary), False)

    villages = layers["villages"]
    assert isinstance(villages, gpd.GeoDataFrame)
    add_layer(
        fmap, simplified(villages, 10, metric_crs=crs), layer="villages",
        title=_title("villages", lang),
        style=_fixed(color="#b0a080", weight=0.5, fillColor="#f3e9c6", fillOpacity=0.35),
        tooltip_fields=("code", "name", "population"), show=False, lang=lang,
    )  # fmt: skip
    areas = layers["priority_areas"]
    assert isinstance(areas, gpd.GeoDataFrame)
    add_layer(
        fmap, areas, layer="priority_areas", title=_title("priority_areas", lang),
        style=_fixed(color="#d35400", weight=1.5, fillColor="#f5b041", fillOpacity=0.35),
        tooltip_fields=("name", "category", "target_5g_year"), lang=lang,
    )  # fmt: skip
    routes = layers["fibre_routes"]
    assert isinstance(routes, gpd.GeoDataFrame)
    trunk_or_distribution = routes[routes["route_class"] != "access"]
    add_layer(
        fmap, trunk_or_distribution, layer="fibre_routes", title=_title("fibre_routes", lang),
        style=_colour("operator"), tooltip_fields=("route_id", "operator", "route_class", "cores"),
        show=False, lang=lang,
    )  # fmt: skip
    nodes = layers["fibre_nodes"]
    assert isinstance(nodes, gpd.GeoDataFrame)
    add_layer(
        fmap, nodes[nodes["node_type"].isin(["pop", "olt"])], layer="fibre_nodes",
        title=_title("fibre_nodes", lang), style=_colour("operator"),
        tooltip_fields=("node_id", "operator", "node_type", "name"), show=False, lang=lang,
        points_radius=5,
    )  # fmt: skip
    sites = layers["sites"]
    assert isinstance(sites, gpd.GeoDataFrame)
    for op in OPERATORS:
        mine = sites[sites["operator"] == op.key]
        add_layer(
            fmap, mine, layer="sites", title=f"{_title('sites', lang)} – {op.name}",
            style=_colour("operator"),
            tooltip_fields=("site_id", "operator", "tower_type", "height_m", "status", "address"),
            lang=lang, points_radius=3.5,
        )  # fmt: skip
    present = sorted(set(sites["operator"]) | set(routes["operator"]))
    entries = [
        (OPERATOR_COLOURS[k], next(o.name for o in OPERATORS if o.key == k)) for k in present
    ]
    Legend(_title("legend", lang), entries).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def save_map(fmap: folium.Map, path: Path) -> Path:
    """Write the map's HTML; refuse if anything in it would reach the network."""
    html = fmap.get_root().render()
    remote = remote_references(html)
    if remote:
        raise GisPlannerError(f"map would load remote resources: {remote[:3]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
