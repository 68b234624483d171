"""Fixtures of the API tests: the app over the sample, API keys, a live server, coverage."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.settings import ApiKey, ApiSettings
from gis_planner.apikeys import hash_key
from gis_planner.cli import app as cli
from gis_planner.products import owner
from gis_planner.store import GeoPackageStore

KEYS = {
    "viettel": "gp_viettel1_viettel-test-key-0123456789",
    "vnpt": "gp_vnpt1_vnpt-test-key-0123456789abc",
    "admin": "gp_admin1_admin-test-key-0123456789ab",
}
#: Centre of Phủ Lý, where the test rasters lie.
PHU_LY = (105.92, 20.54)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


PHU_LY_TILE_12 = tile_of(*PHU_LY, 12)
CLI = str(Path(sys.executable).with_name("gis-planner"))


@pytest.fixture(scope="session")
def api_settings() -> ApiSettings:
    return ApiSettings(
        api_keys=[
            ApiKey(
                name="Viettel",
                role="operator",
                operator="viettel",
                key_id="viettel1",
                hash=hash_key(KEYS["viettel"]),
            ),
            ApiKey(
                name="VNPT",
                role="operator",
                operator="vnpt",
                key_id="vnpt1",
                hash=hash_key(KEYS["vnpt"]),
            ),
            ApiKey(name="Sở TT&TT", role="admin", key_id="admin1", hash=hash_key(KEYS["admin"])),
        ],
        # Tests send wrong keys on purpose; the hold of limited clients is tested on its own.
        key_failures_delay_s=0.0,
    )


@pytest.fixture(scope="session")
def app(sample_store: GeoPackageStore, api_settings: ApiSettings) -> FastAPI:
    return create_app(sample_store, api_settings)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def key(who: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[who]}


#: Around Phủ Lý: the area of the API tests' coverage run (a scoped product).
COVERAGE_BBOX = "105.80,20.42,106.06,20.66"


def coverage_raster(store: GeoPackageStore, operator: str | None, band: str) -> str:
    """The id of the 4G raster product of ``operator`` (None: aggregated over operators) that
    has ``band``, found by its record."""
    found = [
        r.id
        for r in store.products()
        if r.kind == "raster" and r.technologies == ("4G",) and owner(r) == operator
        and any(b.name == band for b in r.bands)
    ]  # fmt: skip
    assert len(found) == 1, (operator, band, found)
    return found[0]


@pytest.fixture(scope="session")
def coverage_store(
    sample_store: GeoPackageStore, tmp_path_factory: pytest.TempPathFactory
) -> GeoPackageStore:
    """A copy of the sample with the products of the real ``gis-planner coverage`` job: 4G of
    every operator around Phủ Lý at 200 m."""
    target = tmp_path_factory.mktemp("coverage") / "hanam.gpkg"
    shutil.copyfile(sample_store.path, target)
    args = ["coverage", "--store", str(target), "--resolution-m", "200", "--bbox", COVERAGE_BBOX,
            "--tech", "4G", "--workers", "1", "--out", str(target.parent / "tables")]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return GeoPackageStore(target)


@pytest.fixture(scope="session")
def coverage_client(coverage_store: GeoPackageStore, api_settings: ApiSettings) -> TestClient:
    return TestClient(create_app(coverage_store, api_settings))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    store: GeoPackageStore,
    settings: ApiSettings,
    log: Path,
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """``gis-planner serve`` on ``store`` on ``port`` (a free one by default), in a child
    process writing to ``log`` (appended to; with more ``GIS_PLANNER_*`` settings in ``env``);
    the process and its URL once it answers.

    A process, not a thread: GDAL's HTTP client holds the GIL while it waits for the answer.
    """
    port = port or _free_port()
    keys = json.dumps([k.model_dump() for k in settings.api_keys])
    with log.open("ab") as out:
        process = subprocess.Popen(
            [CLI, "serve", "--store", str(store.path), "--port", str(port)],
            env={
                **os.environ,
                "GIS_PLANNER_API_KEYS": keys,
                "GIS_PLANNER_KEY_FAILURES_DELAY_S": str(settings.key_failures_delay_s),
                **(env or {}),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    # Generous: a loaded machine takes a while to import the stack.
    deadline = time.monotonic() + 90
    while True:
        try:
            httpx.get(f"{url}/conformance", timeout=1).raise_for_status()
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"the test server did not start: {log.read_text()}") from None
            time.sleep(0.1)


@contextmanager
def serving(
    store: GeoPackageStore, settings: ApiSettings, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``start_server``'s server for the block; yields its URL."""
    log.unlink(missing_ok=True)
    process, url = start_server(store, settings, log, env)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def served(
    sample_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path]]:
    """The server on the sample: its URL and the file its output goes to."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with serving(sample_store, api_settings, log) as url:
        yield url, log


@pytest.fixture(scope="session")
def coverage_server(
    coverage_store: GeoPackageStore,
    api_settings: ApiSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """The server on the sample with coverage rasters."""
    with serving(coverage_store, api_settings, tmp_path_factory.mktemp("cov") / "log") as url:
        yield url


@pytest.fixture(scope="session")
def live_server(served: tuple[str, Path]) -> str:
    return served[0]
