"""The report's sections of the studies: the sample's figures as the studies stored them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.report_studies import study_sections
from gis_planner.store import GeoPackageStore


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output


def test_no_study_no_section(sample_store: GeoPackageStore) -> None:
    assert study_sections(sample_store, "en") == []


@pytest.mark.slow
def test_the_sections_show_what_the_studies_stored(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    path = tmp_path / "hanam.gpkg"
    shutil.copy(sample_store.path, path)
    store, out = str(path), str(tmp_path)
    techs = [arg for tech in ("2G", "3G", "4G", "5G") for arg in ("--tech", tech)]
    _run("coverage", "--store", store, *techs, "--resolution-m", "400", "--replace",
         "--workers", "1", "--out", out)  # fmt: skip
    _run("switch-off", "--store", store, "--operator", "vietnamobile", "--technology", "2G",
         "--out", out, "--time-limit-s", "30")  # fmt: skip
    _run("industry", "--store", store, "--out", out, "--time-limit-s", "30")
    _run("passive", "--store", store, "--out", out)
    _run("report", "--store", store, "--out", out, "--lang", "en")
    stored = GeoPackageStore(path)
    sections = {s.key: s for s in study_sections(stored, "en")}
    assert list(sections) == ["switchoff", "industry", "passive"]

    villages = stored.read("switchoff_villages")
    assert sections["switchoff"].title == "2G switch-off: Vietnamobile"
    rows = {row[0]: row for row in sections["switchoff"].tables[0].rows}
    other = villages[villages["status"] == "other_operator_only"]
    assert rows["Only other operators left"][1:3] == [
        f"{len(other):,}",
        f"{int(other['population'].sum()):,}",
    ]
    restoration = stored.read("switchoff_restoration")
    assert sections["switchoff"].notes[0].startswith(f"{len(restoration)} 4G cells proposed")

    zones = stored.read("industry_zones")
    names = [row[0] for row in sections["industry"].tables[0].rows]
    ranked = zones[zones["operator"] == "any"].sort_values("rank")
    assert names == ranked["name"].tolist()

    checks = stored.read("site_compliance")
    counts = sections["passive"].tables[0].rows[0]
    by_status = checks[checks["subject"] == "site"]["status"].value_counts()
    assert counts == ["Existing sites"] + [
        f"{by_status.get(s, 0):,}" for s in ("compliant", "permit_needed", "forbidden")
    ]

    html = (tmp_path / "report_en.html").read_text(encoding="utf-8")
    for key in ("switchoff", "industry", "passive"):
        assert f'<h2 id="{key}">' in html
    assert "Inside the exclusion area" in html
