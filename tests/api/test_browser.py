"""The viewer in a real Chromium: switcher, legend, layer toggle, popup, search, offline."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

from api.routers.rasters import rasters
from gis_planner.store import GeoPackageStore
from tests.api.conftest import KEYS, coverage_raster

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
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert "Tên đơn vị" in text or "Tên thôn, tổ dân phố" in text, text
    assert "Chưa tính vùng phủ" in text

    # Search, accent-insensitive, zooms to the hit.
    page.locator("#search-input").fill("phu ly")
    hit = page.locator("#search-results li", has_text="Phủ Lý").first
    hit.wait_for(timeout=10_000)
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
    page.locator(".swagger-ui .info .title", has_text="gis-planner API").wait_for(timeout=10_000)
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
        legend.get_by_text(words).wait_for(timeout=10_000)

    page.locator("#search-input").fill("thanh pho phu ly")
    page.locator("#search-results li", has_text="Thành phố Phủ Lý").first.click()
    page.wait_for_load_state("networkidle")
    page.locator("#map").click(position={"x": 490, "y": 400})
    popup = page.locator(".leaflet-popup-content")
    popup.get_by_text("Vùng phủ tại điểm").wait_for(timeout=10_000)
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
