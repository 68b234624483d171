"""The viewer in a real Chromium: switcher, legend, layer toggle, popup, search, offline."""

from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import shapely
from playwright.sync_api import Browser, ConsoleMessage, FloatRect, Page, Request, sync_playwright
from pypdf import PdfReader
from typer.testing import CliRunner

from api.routers.rasters import rasters
from api.settings import ApiSettings
from gis_planner.cli import app as cli
from gis_planner.store import GeoPackageStore
from tests.api.conftest import KEYS, coverage_raster, serving

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium "
            "(apt-get install chromium chromium-driver)"
        )
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield found
        found.close()


def test_viewer_in_chromium(browser: Browser, live_server: str, tmp_path: Path) -> None:
    page: Page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    outside: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_request(request: Request) -> None:
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob") and url.hostname not in LOCAL_HOSTS:
            outside.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", on_request)

    page.goto(f"{live_server}/", wait_until="networkidle")

    # The layer switcher, grouped, and the legend of what is shown.
    groups = page.locator("#layers fieldset.group legend").all_inner_texts()
    assert groups[:2] == ["Đơn vị hành chính", "Trạm BTS theo nhà mạng"]
    assert "Khu vực ưu tiên" in groups
    legend = page.locator("#legend-items")
    assert legend.locator('[data-layer="sites.viettel"]').count() == 1

    # Toggle layers: Viettel's sites off, villages on (their tiles are fetched).
    page.locator('input[data-layer="sites.viettel"]').uncheck()
    assert legend.locator('[data-layer="sites.viettel"]').count() == 0
    with page.expect_response(lambda r: "/tiles/villages/" in r.url and r.status == 200):
        page.locator('input[data-layer="villages"]').check()
    assert legend.locator('[data-layer="villages"]').count() == 1
    page.wait_for_load_state("networkidle")

    # A click on the map opens a popup with Vietnamese labels of what is there.
    page.locator("#map").click(position={"x": 490, "y": 400})
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=30_000)
    text = popup.inner_text()
    assert "Tên đơn vị" in text or "Tên thôn, tổ dân phố" in text, text
    assert "Chưa tính vùng phủ" in text

    # Search, accent-insensitive, zooms to the hit.
    page.locator("#search-input").fill("phu ly")
    hit = page.locator("#search-results li", has_text="Phủ Lý").first
    hit.wait_for(timeout=30_000)
    hit.click()
    page.wait_for_load_state("networkidle")

    page.wait_for_timeout(600)  # let the zoom animation end before the picture
    page.screenshot(path=str(tmp_path / "viewer.png"))
    assert (tmp_path / "viewer.png").stat().st_size > 10_000
    assert errors == []
    assert outside == []
    page.close()


def test_chromium_is_debian_s() -> None:
    assert shutil.which("chromium") == CHROMIUM or Path(CHROMIUM).exists()


def test_api_docs_render_offline(browser: Browser, live_server: str) -> None:
    page: Page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if urlparse(r.url).scheme not in ("data", "blob")
            and urlparse(r.url).hostname not in LOCAL_HOSTS
            else None
        ),
    )
    page.goto(f"{live_server}/docs", wait_until="networkidle")
    page.locator(".swagger-ui .info .title", has_text="gis-planner API").wait_for(timeout=30_000)
    assert page.locator(".opblock-summary-path", has_text="/collections").count() >= 1
    assert errors == [] and outside == []
    page.close()


def test_operator_sees_coverage_and_its_cells(
    browser: Browser, coverage_server: str, coverage_store: GeoPackageStore, tmp_path: Path
) -> None:
    minzoom = min(
        r.pyramid.min_zoom for r in rasters(coverage_store).values() if r.operator == "viettel"
    )
    page: Page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    urls: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda r: urls.append(r.url))
    page.goto(f"{coverage_server}/", wait_until="networkidle")
    assert page.locator("#role").text_content() == "Vai trò: viewer"
    page.locator("#key-box summary").click()
    page.locator("#api-key").fill(KEYS["viettel"])
    with page.expect_navigation(wait_until="networkidle"):
        page.locator("#api-key-save").click()
    assert page.locator("#role").text_content() == "Vai trò: operator (viettel)"
    groups = page.locator("#layers fieldset.group legend").all_inner_texts()
    assert "Cell" in groups and "Vùng phủ sóng" in groups
    mine = coverage_raster(coverage_store, "viettel", "rsrp")
    theirs = coverage_raster(coverage_store, "vnpt", "rsrp")
    assert page.locator(f'input[data-layer="raster.{mine}.rsrp"]').count() == 1
    assert page.locator(f'input[data-layer="raster.{theirs}.rsrp"]').count() == 0

    # The SINR and best-server layers really render: their tiles answer 200 with a PNG.
    for band, words in (("sinr", "Tốt (13 … 20 dB)"), ("rsrp", "Rất tốt (≥ −80 dBm)")):
        with page.expect_response(
            lambda r, b=band: f"/rasters/{mine}/tiles/" in r.url and f"band={b}" in r.url
        ) as answer:
            page.locator(f'input[data-layer="raster.{mine}.{band}"]').check()
        assert answer.value.status == 200
        legend = page.locator(f'#legend-items [data-layer="raster.{mine}.{band}"]')
        legend.get_by_text(words).wait_for(timeout=30_000)

    page.locator("#search-input").fill("thanh pho phu ly")
    page.locator("#search-results li", has_text="Thành phố Phủ Lý").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("#map").click(position={"x": 490, "y": 400})
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("Vùng phủ tại điểm").wait_for(timeout=30_000)
    text = popup.inner_text()
    assert "dBm" in text
    assert "Vị trí có thể dùng chung cho trạm mới" in text
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(600)  # let the zoom animation end before the picture
    page.screenshot(path=str(tmp_path / "operator.png"))
    assert errors == []
    # The key travels in the X-API-Key header only, raster tiles included: never in a URL.
    assert any(f"/rasters/{mine}/tiles/" in url for url in urls)
    # Leaflet asks no tile below a raster's minimum zoom (the server would answer 400).
    assert not [url for url in urls if "/rasters/" in url and "/tiles/" in url
                and int(url.split("/tiles/")[1].split("/")[0]) < minzoom]  # fmt: skip
    assert not [url for url in urls if KEYS["viettel"] in url or "api_key" in url]
    page.close()


# --- What map users see (issue 15): layout, styles, words, search, labels, tools, print ---

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def styled_store(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    """A copy of the sample with what `coverage` (4G and 5G, coarse), `fibre`, `speeds` and
    `sharing` write: FTTH villages, throughput rasters, positions, gap villages."""
    target = tmp_path_factory.mktemp("styled") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    out = tmp_path_factory.mktemp("styled_out")
    for command in (
        ["coverage", "--tech", "4G", "--tech", "5G", "--resolution-m", "400", "--replace",
         "--workers", "1", "--out", str(out)],
        ["fibre", "--report", str(out / "fibre.xlsx")],
        ["speeds", "--out", str(out)],
        ["sharing", "--out", str(out)],
    ):  # fmt: skip
        result = CliRunner().invoke(cli, [*command, "--store", str(target)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
    return GeoPackageStore(target)


@pytest.fixture(scope="session")
def styled_server(
    styled_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    with serving(styled_store, api_settings, tmp_path_factory.mktemp("styled_log") / "log") as url:
        yield url


def _open(browser: Browser, url: str, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    """A new page (its own context: storage, language) on ``url``, its errors collected."""
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=30_000)
    return page, errors


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the canvases are drawn after their tiles arrive


#: Counts a layer's drawn pixels by the nearest of the given colours (within a distance).
_COUNT_COLOURS = """([selector, colours]) => {
  const counts = colours.map(() => 0);
  document.querySelectorAll(selector + " canvas").forEach((canvas) => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 40) continue;
      let best = -1, distance = 1e9;
      colours.forEach((c, k) => {
        const d = (data[i] - c[0]) ** 2 + (data[i + 1] - c[1]) ** 2 + (data[i + 2] - c[2]) ** 2;
        if (d < distance) { distance = d; best = k; }
      });
      if (distance < 40 * 40) counts[best]++;
    }
  });
  return counts;
}"""


def _rgb(hex_colour: str) -> list[int]:
    return [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]


def _colour_counts(page: Page, layer_id: str, colours: list[str], least: int) -> list[int]:
    """How many of a layer's pixels are drawn in each colour, once each reaches ``least`` (the
    canvases are drawn as their tiles arrive) or after thirty seconds (tiles computed on first
    request arrive late on a loaded machine)."""
    selector = ".gp-layer-" + layer_id.replace(".", "_")
    deadline = time.monotonic() + 30
    while True:
        counts: list[int] = page.evaluate(_COUNT_COLOURS, [selector, [_rgb(c) for c in colours]])
        if min(counts) >= least or time.monotonic() > deadline:
            return counts
        page.wait_for_timeout(250)


def _inside(box: FloatRect | None, viewport: dict[str, int]) -> bool:
    return (
        box is not None and box["x"] >= 0 and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
        and box["y"] + box["height"] <= viewport["height"]
    )  # fmt: skip


def test_phone_layout_gives_the_map_the_screen(browser: Browser, live_server: str) -> None:
    page, errors = _open(browser, f"{live_server}/", PHONE)
    box = page.locator("#map").bounding_box()
    assert box is not None
    assert box["width"] >= 0.8 * PHONE["width"] and box["height"] >= 0.7 * PHONE["height"]
    # The panel is a bottom sheet: closed, then opened by its bar, then closed again.
    layers = page.locator("#layers")
    assert not layers.is_visible()
    page.locator("#panel-toggle").click()
    assert layers.is_visible() and page.locator("#search-input").is_visible()
    assert page.locator("#panel-toggle").get_attribute("aria-expanded") == "true"
    page.locator("#panel-toggle").click()
    assert not layers.is_visible()
    # A popup opens whole inside the screen.
    page.locator("#map").click(position={"x": 195, "y": 420})
    popup = page.locator(".leaflet-popup")
    popup.locator(".leaflet-popup-content h4").first.wait_for(timeout=30_000)
    page.wait_for_timeout(400)  # the pan that brings the popup into view
    assert _inside(popup.bounding_box(), PHONE), popup.bounding_box()
    assert errors == []
    page.close()


def test_desktop_legend_and_data_driven_styles(
    browser: Browser, styled_server: str, styled_store: GeoPackageStore
) -> None:
    ftth = styled_store.read("ftth_villages")
    without = ftth[~ftth["covered"].astype(bool)].geometry.iloc[0].representative_point()
    page, errors = _open(browser, f"{styled_server}/#14/{without.y}/{without.x}", DESKTOP)
    # The legend is in sight without scrolling, with the layers shown.
    legend_row = page.locator('#legend-items [data-layer="sites.viettel"]')
    assert _inside(legend_row.bounding_box(), DESKTOP)
    assert _inside(page.locator("#legend").bounding_box(), DESKTOP)

    # FTTH villages in two classes: green with fibre, red without (around one without).
    page.locator('input[data-layer="ftth_villages"]').check()
    _settle(page)
    with_fibre, without_fibre = _colour_counts(page, "ftth_villages", ["#1a9850", "#d73027"], 200)
    assert with_fibre > 200 and without_fibre > 200, (with_fibre, without_fibre)
    classes = page.locator('#legend-items .class[data-layer="ftth_villages"]').all_inner_texts()
    assert classes == ["Có cáp quang FTTH", "Chưa có cáp quang FTTH"]
    page.locator('input[data-layer="ftth_villages"]').uncheck()

    # Positions: shared ones apart from single-operator ones.
    positions = styled_store.read("positions")
    shared = positions[positions["shared"].astype(bool)].geometry.iloc[0]
    page.evaluate("([lat, lon]) => gisPlanner.map.setView([lat, lon], 12)", [shared.y, shared.x])
    page.locator('input[data-layer="positions"]').check()
    _settle(page)
    shared_px, single_px = _colour_counts(page, "positions", ["#f16913", "#6a6a9f"], 50)
    assert shared_px > 50 and single_px > 50, (shared_px, single_px)

    # Gap villages: one layer a technology, each in its own colour.
    gaps = styled_store.read("coverage_gaps")
    techs = sorted(set(gaps["technology"]))
    switcher = [page.locator(f'input[data-layer="coverage_gaps.{t}"]') for t in techs]
    assert all(box.count() == 1 for box in switcher)
    gap = gaps.geometry.iloc[0].representative_point()
    page.evaluate("([lat, lon]) => gisPlanner.map.setView([lat, lon], 13)", [gap.y, gap.x])
    tech = gaps["technology"].iloc[0]
    page.locator(f'input[data-layer="coverage_gaps.{tech}"]').check()
    _settle(page)
    colours = page.evaluate(
        """() => ["2G", "3G", "4G", "5G"].map((t) => GP.styles.layerStyle(
             {source: "coverage_gaps", filters: {technology: t}}).style.fillColor)"""
    )
    assert len(set(colours)) == 4
    (drawn,) = _colour_counts(page, f"coverage_gaps.{tech}", [colours[int(tech[0]) - 2]], 200)
    assert drawn > 200
    assert errors == []
    page.close()


def test_names_units_and_titles_in_two_languages(
    browser: Browser, styled_server: str, styled_store: GeoPackageStore
) -> None:
    site = styled_store.read("sites").iloc[0]
    village = styled_store.read("villages").iloc[0]
    units = styled_store.read("admin_units", filters={"admin_version": "pre2025"})
    commune = units.loc[units["code"] == village["commune_code"], "name"].iloc[0]
    at = f"#17/{site.geometry.y}/{site.geometry.x}"
    page, errors = _open(browser, f"{styled_server}/{at}", DESKTOP)
    switcher = page.locator("#layers").inner_text()
    assert "Vùng phủ 4G — RSRP · mọi nhà mạng" in switcher
    assert "Vùng phủ 5G — SS-RSRP · mọi nhà mạng" in switcher
    assert "coverage." not in switcher and "_rsrp" not in switcher
    # A site's popup: its height with its unit, names of values, its commune by name.
    page.locator("#map").click(position={"x": 480, "y": 400})
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("Độ cao cột").wait_for(timeout=30_000)
    text = popup.inner_text()
    assert re.search(r"Độ cao cột\t\d+(,\d+)? m\n", text), text
    assert page.locator("path.gp-highlight").count() >= 1  # the clicked site outlined
    # Search: a village's commune by name beside its code.
    page.locator("#search-input").fill(village["name"])
    hits = page.locator("#search-results li")
    hits.first.wait_for(timeout=30_000)
    assert any(f"{commune} · {village['commune_code']}" in h for h in hits.all_inner_texts())
    assert errors == []
    # English on demand, kept for the next visit.
    with page.expect_navigation(wait_until="networkidle"):
        page.locator("#lang-switch").click()
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=30_000)
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Coverage 4G — RSRP · all operators" in page.locator("#layers").inner_text()
    assert page.locator("#search-input").get_attribute("placeholder", timeout=1000) == (
        "Find a commune, village, site code…"
    )
    assert page.locator("#lang-switch").inner_text() == "Tiếng Việt"
    page.close()


def test_download_speeds_with_their_legend(browser: Browser, styled_server: str) -> None:
    page, errors = _open(browser, f"{styled_server}/#13/20.54/105.92", DESKTOP)
    groups = page.locator("#layers fieldset.group legend").all_inner_texts()
    assert "Tốc độ tải xuống" in groups
    assert "Tốc độ tải xuống 4G · mọi nhà mạng" in page.locator("#layers").inner_text()
    raster = "speeds.province.any_4G_throughput"
    layer = f"raster.{raster}.throughput"
    with page.expect_response(lambda r: f"/rasters/{raster}/tiles/" in r.url) as answer:
        page.locator(f'input[data-layer="{layer}"]').check()
    assert answer.value.status == 200
    legend = page.locator(f'#legend-items [data-layer="{layer}"]')
    legend.get_by_text("Đạt mục tiêu 50 Mb/s (50 … 100 Mb/s)").wait_for(timeout=30_000)
    assert errors == []
    page.close()


def test_search_from_the_keyboard_highlights_the_hit(browser: Browser, live_server: str) -> None:
    page, errors = _open(browser, f"{live_server}/", DESKTOP)
    search = page.locator("#search-input")
    status = page.locator("#search-status")
    search.focus()
    page.keyboard.type("zzqqxx")
    status.get_by_text("Không tìm thấy kết quả").wait_for(timeout=30_000)
    assert page.locator("#search-results li").count() == 0
    search.fill("")
    page.keyboard.type("phu ly")
    page.locator("#search-results li").first.wait_for(timeout=30_000)
    assert search.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = page.locator('#search-results li[aria-selected="true"]')
    assert chosen.count() == 1 and chosen.get_attribute("id") == "search-hit-1"
    label = chosen.inner_text()
    page.keyboard.press("Enter")
    highlight = page.locator("path.gp-highlight")
    highlight.first.wait_for(timeout=30_000)
    _settle(page)
    box = highlight.first.bounding_box()
    assert box is not None and box["width"] > 20 and box["height"] > 20
    assert status.inner_text() == label
    assert page.locator("#search-results li").count() == 0
    page.keyboard.press("Escape")
    assert errors == []
    page.close()


def test_labels_by_zoom_and_opacity(
    browser: Browser, live_server: str, sample_store: GeoPackageStore
) -> None:
    page, errors = _open(browser, f"{live_server}/#10/20.54/105.95", DESKTOP)
    # The map opens on the communes of July 2025: the abolished districts are labelled only
    # once their layer is ticked.
    page.wait_for_load_state("networkidle")
    districts = page.locator(".gp-label.district")
    assert districts.count() == 0
    page.locator('input[data-layer="admin_units.district.pre2025"]').check()
    districts.first.wait_for(timeout=30_000)
    assert "Thành phố Phủ Lý" in districts.all_text_contents()
    assert page.locator(".gp-label.site").count() == 0
    page.evaluate("() => gisPlanner.map.setZoom(12)")
    communes = page.locator(".gp-label.commune")
    communes.first.wait_for(timeout=30_000)
    names_2025 = set(
        sample_store.read("admin_units", filters={"admin_version": "2025-07", "level": "commune"})[
            "name"
        ]
    )
    assert set(communes.all_text_contents()) & names_2025
    # Site codes and village names at street level.
    site = sample_store.read("sites", filters={"site_id": "VTL-HNM-0001"}).geometry.iloc[0]
    page.evaluate("([lat, lon]) => gisPlanner.map.setView([lat, lon], 16)", [site.y, site.x])
    page.locator('input[data-layer="villages"]').check()
    page.locator(".gp-label.site", has_text="VTL-HNM-0001").wait_for(timeout=30_000)
    page.locator(".gp-label.village").first.wait_for(timeout=30_000)
    # Labels do not cover one another.
    boxes = [b for b in (label.bounding_box() for label in page.locator(".gp-label").all()) if b]
    overlaps = [
        (a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]
        if a["x"] + 4 < b["x"] + b["width"] and b["x"] + 4 < a["x"] + a["width"]
        and a["y"] + 4 < b["y"] + b["height"] and b["y"] + 4 < a["y"] + a["height"]
    ]  # fmt: skip
    assert len(boxes) >= 3 and overlaps == []
    # Opacity per layer.
    slider = page.locator('input[data-opacity="sites.viettel"]')
    slider.fill("30")
    opacity = page.evaluate(
        "() => getComputedStyle(document.querySelector('.gp-layer-sites_viettel')).opacity"
    )
    assert opacity == "0.3"
    assert errors == []
    page.close()


def test_attribute_table_csv_and_measurement(
    browser: Browser, live_server: str, sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    villages = sample_store.read("villages")
    units = sample_store.read("admin_units", filters={"admin_version": "pre2025"})
    names = dict(zip(units["code"], units["name"], strict=True))
    commune_code = villages["commune_code"].iloc[0]
    in_commune = int((villages["commune_code"] == commune_code).sum())
    page, errors = _open(browser, f"{live_server}/", DESKTOP)
    page.locator("#table-layer").select_option("villages")
    page.locator("#table-open").click()
    count = page.locator("#table-count")
    count.get_by_text(f"{len(villages)} dòng").wait_for(timeout=20_000)
    # The map's scale bar and attribution stay under the table, at its corners too.
    for corner in ("r.left + 20, r.bottom - 8", "r.right - 20, r.bottom - 8"):
        assert page.evaluate(
            "() => { const r = document.getElementById('table-panel').getBoundingClientRect();"
            f" return document.elementFromPoint({corner}).closest('#table-panel') !== null; }}"
        ), corner
    # The filter ignores accents: the commune's name without them finds its villages.
    plain = names[commune_code].replace("đ", "d").replace("Đ", "D")
    plain = "".join(c for c in unicodedata.normalize("NFD", plain) if not unicodedata.combining(c))
    page.locator("#table-filter").fill(f"{plain} ({commune_code})")
    count.get_by_text(f"{in_commune} dòng").wait_for(timeout=5_000)
    with page.expect_download() as download:
        page.locator("#table-export").click()
    path = tmp_path / "villages.csv"
    download.value.save_as(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith('Mã thôn,"Tên thôn, tổ dân phố"'), lines[0]
    assert len(lines) == in_commune + 1
    assert all(f"{names[commune_code]} ({commune_code})" in line for line in lines[1:])
    page.locator("#attribute-table tbody tr").first.click()
    page.locator("path.gp-highlight").first.wait_for(timeout=30_000)
    page.locator("#table-close").click()

    # Distance between two clicked points, as the map measures it.
    page.locator("#measure-distance").click()
    page.locator("#map").click(position={"x": 300, "y": 300})
    page.locator("#map").click(position={"x": 700, "y": 300})
    expected = page.evaluate(
        """() => { const m = gisPlanner.map;
             return m.distance(m.containerPointToLatLng([300, 300]),
                               m.containerPointToLatLng([700, 300])); }"""
    )
    text = page.locator("#measure-result").inner_text()
    found = re.fullmatch(r"Khoảng cách: ([\d.]+(?:,\d+)?) (k?m)", text)
    assert found, text
    value = float(found.group(1).replace(".", "").replace(",", "."))  # Vietnamese: 1.234,5
    assert value * (1000 if found.group(2) == "km" else 1) == pytest.approx(expected, abs=10)
    assert page.locator(".leaflet-popup").count() == 0  # measuring clicks open no popup
    # An area: three corners of a triangle.
    page.locator("#measure-area").click()
    for x, y in ((300, 300), (700, 300), (300, 600)):
        page.locator("#map").click(position={"x": x, "y": y})
    area = page.locator("#measure-result").inner_text()
    assert re.fullmatch(r"Diện tích: [\d.]+(,\d+)? (km²|ha)", area), area
    page.locator("#measure-clear").click()
    assert page.locator("path.gp-measure").count() == 0
    assert errors == []
    page.close()


def test_print_to_pdf_with_legend_scale_and_north(
    browser: Browser, live_server: str, tmp_path: Path
) -> None:
    page, errors = _open(browser, f"{live_server}/", DESKTOP)
    page.evaluate("() => { window.print = () => { window.printed = true; }; }")
    page.locator("#print-box summary").click()
    page.locator("#print-title").fill("Trạm BTS tỉnh Hà Nam")
    page.locator("#print-paper").select_option("A3")
    page.locator("#print-go").click()
    page.wait_for_function("() => window.printed === true", timeout=30_000)
    _settle(page)
    pdf = tmp_path / "map.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (1191, 842)  # A3 landscape, in points
    text = reader.pages[0].extract_text()
    for words in ("Trạm BTS tỉnh Hà Nam", "Ngày in", "Chú giải", "Viettel", "VNPT-VinaPhone",
                  "Đơn vị hành chính: Cấp xã (từ 7/2025)", "Nguồn:", "km"):  # fmt: skip
        assert words in text, (words, text)
    assert page.locator(".north-arrow").is_visible()
    assert errors == []
    page.close()


def test_planned_site_gets_hosts_and_coverage(browser: Browser, styled_server: str) -> None:
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(f"sessionStorage.setItem('gis-planner-api-key', '{KEYS['viettel']}')")
    page.goto(f"{styled_server}/#14/20.54/105.92", wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=30_000)
    page.locator("#planned-site").click()
    assert page.locator("#planned-site").get_attribute("aria-pressed") == "true"
    page.locator("#map").click(position={"x": 480, "y": 400})
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("Trạm dự kiến").wait_for(timeout=15_000)
    text = popup.inner_text()
    assert "Vị trí có thể dùng chung cho trạm mới" in text and "Vùng phủ tại điểm" in text
    assert page.locator("path.gp-planned").count() == 1
    assert errors == []
    page.close()


@pytest.mark.slow
def test_the_new_province_opens_whole_and_its_former_provinces_are_picked(
    browser: Browser, api_settings: ApiSettings, tmp_path: Path
) -> None:
    """On the bundled whole new Ninh Bình, the viewer opens on the whole province, and picking a
    former province brings the map to it."""
    from gis_planner.sample import bundled_sample_dir, load_sample

    store = GeoPackageStore(tmp_path / "ninhbinh.gpkg")
    load_sample(store, bundled_sample_dir("ninhbinh"))
    admin = store.read("admin_units")
    provinces = admin[admin["level"] == "province"]
    whole = provinces[provinces["admin_version"] == "2025-07"].geometry.iloc[0]
    former = provinces[provinces["admin_version"] == "pre2025"].set_index("code").geometry
    with serving(store, api_settings, tmp_path / "log") as url:
        page, errors = _open(browser, f"{url}/", DESKTOP)
        assert page.locator("#area-pick").is_visible()
        options = page.locator("#area-select option").all_inner_texts()
        former_names = provinces[provinces["admin_version"] == "pre2025"].sort_values("code")
        assert options == ["Tỉnh Ninh Bình", *(f"{n} (cũ)" for n in former_names["name"])]
        assert page.locator("#title").inner_text().startswith("gis-planner · Tỉnh Ninh Bình — ")

        def view() -> tuple[int, float, float]:
            """The map's zoom and centre, from the view the viewer keeps in the URL."""
            page.wait_for_timeout(800)
            zoom, lat, lon = page.evaluate("() => location.hash.slice(1)").split("/")
            return int(zoom), float(lat), float(lon)

        zoom, lat, lon = view()
        assert whole.contains(shapely.Point(lon, lat))
        # Nam Định, the former province furthest east: the map moves there, closer in.
        page.locator("#area-select").select_option("pre2025:36")
        picked_zoom, lat, lon = view()
        assert former.loc["36"].envelope.contains(shapely.Point(lon, lat))
        assert picked_zoom >= zoom
        assert errors == []
        page.close()


def test_passive_plan_group_and_outcome_colours(browser: Browser, live_server: str) -> None:
    page, errors = _open(browser, live_server, DESKTOP)
    groups = page.locator("#layers fieldset.group legend").all_inner_texts()
    assert "Hạ tầng thụ động: vùng quy hoạch, khu vực cấm" in groups
    assert page.locator('input[data-layer="military_areas"]').count() == 0
    classes = page.evaluate(
        """() => GP.styles.layerStyle({source: "site_compliance", geometry_type: "Point"})
             .classes.map((c) => [c.label, c.style.fillColor])"""
    )
    assert classes == [
        ["Phù hợp quy hoạch", "#1a9850"],
        ["Cần giấy phép xây dựng", "#fdae61"],
        ["Không được phép", "#d73027"],
    ]
    page.locator('input[data-layer="planning_zones"]').check()
    _settle(page)
    assert errors == []
    page.close()
