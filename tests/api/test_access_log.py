"""``gis-planner serve --access-log``: uvicorn's text lines (the default, tested with the key
scrubbing in tests/security), JSON lines, or none; no key in any of them."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from pathlib import Path

import httpx
from typer.testing import CliRunner

from api.serving import JsonAccessFormatter, KeyRedactor
from api.settings import ApiSettings
from gis_planner.cli import app
from gis_planner.store import GeoPackageStore

from .conftest import KEYS, key, serving

SECRET = KEYS["vnpt"].split("_", 2)[2]


def requests(url: str) -> None:
    """A request with the key in its header, one with the key in the query string (refused),
    and one with the key in the path; then time for the server to write its lines."""
    assert httpx.get(f"{url}/collections/cells/items?limit=1", headers=key("vnpt")).is_success
    assert httpx.get(f"{url}/collections/cells/items?limit=1&api_key={KEYS['vnpt']}").is_error
    assert httpx.get(f"{url}/collections/{KEYS['vnpt']}").status_code == 404
    time.sleep(0.3)


def test_json_lines(
    sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    with serving(sample_store, api_settings, log, {"GIS_PLANNER_ACCESS_LOG": "json"}) as url:
        requests(url)
    text = log.read_text()
    assert SECRET not in text
    assert "HTTP/1.1" not in text  # no text lines beside the JSON ones
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    items = [line for line in lines if line["path"] == "/collections/cells/items"]
    assert [line["status"] for line in items] == [200, 400]
    first = items[0]
    assert list(first) == ["time", "client", "method", "path", "status", "duration_ms"]
    assert first["method"] == "GET" and first["client"].startswith("127.0.0.1:")
    assert first["duration_ms"] >= 0
    assert datetime.fromisoformat(first["time"]).utcoffset() is not None
    assert "api_key" not in text  # paths only, never the query string
    in_path = [line for line in lines if line["path"].startswith("/collections/gp_vnpt1_")]
    assert [line["status"] for line in in_path] == [404]


def test_off(sample_store: GeoPackageStore, api_settings: ApiSettings, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with serving(sample_store, api_settings, log, {"GIS_PLANNER_ACCESS_LOG": "off"}) as url:
        requests(url)
    text = log.read_text()
    assert "Application startup complete" in text
    assert "/collections" not in text


def test_a_redacted_field_stays_json() -> None:
    """The redactor cuts a key out of a field before the line is encoded: a quote after it
    cannot end the JSON string early."""
    fields = {"path": f'/x/api_key={KEYS["vnpt"]}"/{KEYS["admin"]}', "status": 404}
    record = logging.LogRecord("api.access", logging.INFO, "", 0, "%(path)s", (fields,), None)
    assert KeyRedactor().filter(record)
    line = json.loads(JsonAccessFormatter().format(record))
    assert line["path"] == '/x/api_key=…"/gp_admin1_…' and line["status"] == 404


def test_unknown_format_is_refused() -> None:
    result = CliRunner().invoke(app, ["serve", "--access-log", "xml"])
    assert result.exit_code == 2 and "xml" in result.output
