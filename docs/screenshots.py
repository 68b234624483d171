"""The README's pictures: the viewer (desktop, phone, a planned site's coverage what-if) and the
HTML report, taken in Debian's chromium from ``gis-planner serve`` on a store.

    python -m docs.screenshots --store output/hanam.gpkg [--out docs/img]

The store needs the products the pictures show: ``make screenshots`` builds them first (the
bundled sample, 4G/5G coverage, sharing, fibre, the report). The PNGs are reduced to a palette
of 256 colours so that each stays small (about 100–300 KB).
"""

from __future__ import annotations

import argparse
import io
import math
import os
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from api.settings import ApiKey, ApiSettings
from gis_planner.apikeys import hash_key, key_id, new_key
from gis_planner.store import GeoPackageStore
from tests.api.conftest import serving

CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: Where the pictures look: Phủ Lý, and a VNPT 4G gap of the sample for the what-if.
PHU_LY = "#12/20.545/105.925"
VNPT_GAP = (106.10591, 20.61290)
#: The layers shown on the desktop picture besides the default ones.
DESKTOP_LAYERS = ("raster.coverage.province.any_4G_rsrp.rsrp", "coverage_gaps.4G")
#: The largest a picture may be once optimised.
MAX_BYTES = 300_000


def settings_with(key: str) -> ApiSettings:
    """Server settings holding one VNPT operator ``key``."""
    entry = ApiKey(name="VNPT", role="operator", operator="vnpt", key_id=key_id(key) or "",
                   hash=hash_key(key))  # fmt: skip
    return ApiSettings(api_keys=[entry])


def save(png: bytes, path: Path) -> None:
    """``png`` reduced to 256 colours and written optimised; refuses a picture past
    ``MAX_BYTES``."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size:,} bytes (at most {MAX_BYTES:,})")
    print(f"{path} {size // 1000} KB")


def _open(browser: Browser, url: str, viewport: dict[str, int], key: str | None = None) -> Page:
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    if key:
        page.add_init_script(f"sessionStorage.setItem('gis-planner-api-key', '{key}')")
    page.goto(url, wait_until="networkidle")
    page.locator("#layers fieldset.group").first.wait_for(state="attached", timeout=20_000)
    return page


def _settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1_000)  # zoom animations, canvases drawn after their tiles


def take(browser: Browser, url: str, key: str, report: Path | None, out: Path) -> None:
    page = _open(browser, f"{url}/{PHU_LY}", DESKTOP)
    for layer in DESKTOP_LAYERS:
        box = page.locator(f'input[data-layer="{layer}"]')
        if box.count():
            box.check()
    _settle(page)
    save(page.screenshot(), out / "viewer_desktop.png")
    page.close()

    page = _open(browser, f"{url}/{PHU_LY}", PHONE)
    _settle(page)
    save(page.screenshot(), out / "viewer_phone.png")
    page.close()

    lon, lat = VNPT_GAP
    page = _open(browser, f"{url}/#12/{lat - 0.03}/{lon}", DESKTOP, key)
    page.locator("#planned-site").click()
    # the gap, a little above the middle of the map (the view is centred below it)
    box = page.locator("#map").bounding_box()
    assert box is not None
    below_px = 0.03 / (360 / 2**12 / 256) / math.cos(math.radians(lat))
    page.locator("#map").click(position={"x": box["width"] / 2, "y": box["height"] / 2 - below_px})
    page.locator(".leaflet-popup-content").get_by_text("Dân số được phủ thêm").wait_for(
        timeout=120_000
    )
    # the popup shows its what-if part, over the area it draws
    page.locator(".leaflet-popup-content h4", has_text="Vùng phủ tăng thêm").evaluate(
        "h => h.parentElement.scrollTop = h.offsetTop - 8"
    )
    _settle(page)
    save(page.screenshot(), out / "viewer_whatif.png")
    page.close()

    if report is not None:
        page = browser.new_page(viewport={"width": 1100, "height": 1200})
        page.goto(report.resolve().as_uri(), wait_until="networkidle")
        _settle(page)
        save(page.screenshot(), out / "report.png")
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("output/hanam.gpkg"))
    parser.add_argument("--report", type=Path, help="default: report_vi.html beside the store")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "img")
    args = parser.parse_args()
    if not args.store.exists():
        raise SystemExit(f"no store {args.store}: run `make screenshots` (it builds it)")
    report = args.report or args.store.parent / "report_vi.html"
    args.out.mkdir(parents=True, exist_ok=True)
    key = new_key()
    launch = ["--no-sandbox"] if os.geteuid() == 0 else []
    log = args.out / "serve.log"
    store = GeoPackageStore(args.store)
    with serving(store, settings_with(key), log) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=launch)
        try:
            take(browser, url, key, report if report.exists() else None, args.out)
        finally:
            browser.close()
    log.unlink()


if __name__ == "__main__":
    main()
