"""``gis-planner serve`` and ``gis-planner hash-key``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gis_planner.apikeys import verify_key
from gis_planner.cli import app

runner = CliRunner()


def test_serve_prints_the_viewer_url(served: tuple[str, Path]) -> None:
    url, log = served
    assert f"viewer {url}/" in log.read_text()


def test_serve_refuses_an_empty_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "empty.gpkg")])
    assert result.exit_code == 2
    assert "gis-planner init" in result.output


def test_hash_key() -> None:
    given = runner.invoke(app, ["hash-key", "an-operator-key-of-some-length"])
    assert given.exit_code == 0
    hashed = given.output.split("hash: ")[1].strip()
    assert verify_key("an-operator-key-of-some-length", hashed)
    fresh = runner.invoke(app, ["hash-key"])
    key = fresh.output.split("key:")[1].split()[0]
    assert verify_key(key, fresh.output.split("hash: ")[1].strip())
    short = runner.invoke(app, ["hash-key", "short"])
    assert short.exit_code != 0


def test_serve_reports_bad_key_settings() -> None:
    result = runner.invoke(app, ["serve"], env={"GIS_PLANNER_API_KEYS": '[{"role": "root"}]'})
    assert result.exit_code == 2
    assert "GIS_PLANNER_" in result.output and "role" in result.output
