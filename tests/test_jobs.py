"""The jobs: picklable specs, the CLI's products from ``run(spec, store)``, a store-free library."""

from __future__ import annotations

import ast
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.errors import GisPlannerError
from gis_planner.fibre.products import FibreParams
from gis_planner.hosting import PlannedSite
from gis_planner.io import ImportOptions
from gis_planner.jobs import fibre, hosting, importing, indicators, report, sharing, siting
from gis_planner.jobs.coverage import CoverageSpec
from gis_planner.jobs.fibre import FibreSpec
from gis_planner.jobs.hosting import HostingSpec
from gis_planner.jobs.importing import ImportSpec
from gis_planner.jobs.indicators import IndicatorsSpec
from gis_planner.jobs.overview import InventorySpec, MapSpec
from gis_planner.jobs.report import ReportSpec
from gis_planner.jobs.sharing import SharingSpec
from gis_planner.jobs.siting import SitingSpec
from gis_planner.store import GeoPackageStore

from .io_files import INSIDE

runner = CliRunner()
LIBRARY = Path(__file__).parents[1] / "gis_planner"
PHU_LY = PlannedSite(105.9130, 20.5410, "vietnamobile", 30.0)

#: The modules that may import the store, each with its reason; every other module under
#: gis_planner/ (the analyses above all) works on frames and arrays handed to it.
STORE_USERS = {
    "gis_planner/jobs": "jobs read their inputs and write their products",
    "gis_planner/cli": "commands open the store named by --store",
    "gis_planner/io": "importers write the accepted rows and check against the stored ones",
    "gis_planner/store": "the store itself",
    "gis_planner/sample.py": "builds a store from the bundled sample",
    "gis_planner/positions_product.py": "product reader: the positions layer and its record",
    "gis_planner/speeds_product.py": "product reader: the speeds layers and their records",
    "gis_planner/report.py": "product reader: the analysis layers the report measures",
    "gis_planner/report_studies.py": "product reader: the studies' layers the report shows",
}


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def copy(store: Path, name: str) -> Path:
    target = store.parent / name
    shutil.copyfile(store, target)
    return target


def assert_same_layers(job: Path, command: Path, names: tuple[str, ...]) -> None:
    for name in names:
        made, expected = GeoPackageStore(job).read(name), GeoPackageStore(command).read(name)
        assert len(made) > 0, name
        pd.testing.assert_frame_equal(made, expected, obj=name)


@pytest.mark.parametrize(
    "spec",
    [
        ImportSpec(Path("sites.csv"), "sites", ImportOptions(append=True, mapping={"a": "b"})),
        SharingSpec(Path("out"), tolerance_m=40.0, admin_version="2025-07", lang="en"),
        HostingSpec(PHU_LY, Path("out"), radius_m=500.0),
        SitingSpec("vietnamobile", Path("out"), budget=3.0),
        FibreSpec(FibreParams(drop_m=300.0), corridors="roads", report=Path("f.xlsx")),
        IndicatorsSpec(Path("targets.csv")),
        ReportSpec(Path("out"), ("en",), Path("figures.csv")),
        CoverageSpec(50.0, ("viettel",), ("4G",), ("347",), bbox=(105.8, 20.4, 106.0, 20.6)),
        InventorySpec("en"),
        MapSpec(Path("map.html"), "en"),
    ],
    ids=lambda spec: type(spec).__name__,
)
def test_specs_pickle(spec: object) -> None:
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_import_job_writes_what_import_writes(sample_copy: Path, tmp_path: Path) -> None:
    rows = ["Mã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao cột;Loại cột"]
    rows += [f"C{i};Vina;{lon};{lat};36m;monopole" for i, (lon, lat) in enumerate(INSIDE)]
    rows.append("FAR;Vina;106.6;20.5;36;x")  # outside the province
    path = tmp_path / "vnpt.csv"
    path.write_text("\n".join(rows), encoding="utf-8-sig")
    command = copy(sample_copy, "command.gpkg")
    spec = ImportSpec(path, "sites", ImportOptions(append=True), report_dir=tmp_path / "job")
    result = importing.run(spec, GeoPackageStore(sample_copy))
    assert (result.accepted, result.rejected) == (len(INSIDE), 1)
    assert result.written == {"sites": len(INSIDE)}
    assert result.report_path.parent == tmp_path / "job"
    args = ["import", "sites", str(path), "--store", str(command), "--append"]
    runner.invoke(app, [*args, "--report-dir", str(tmp_path / "cli")])
    assert_same_layers(sample_copy, command, ("sites",))

    checked = importing.validate(spec, GeoPackageStore(command))
    assert (checked.unchanged, checked.rejected) == (len(INSIDE), 1)


def test_sharing_hosting_and_indicators_jobs(sample_copy: Path, tmp_path: Path) -> None:
    command = copy(sample_copy, "command.gpkg")
    store = GeoPackageStore(sample_copy)
    before = indicators.run(IndicatorsSpec(), store)
    assert "positions" in before.missing

    result = sharing.run(SharingSpec(tmp_path / "job", tolerance_m=40.0), store)
    cli("sharing", "--store", str(command), "--tolerance-m", "40", "--out", str(tmp_path / "cli"))
    assert_same_layers(sample_copy, command, result.layers)
    assert result.report == tmp_path / "job" / "sharing.xlsx" and result.report.exists()
    assert result.ratios_csv.read_bytes() == (tmp_path / "cli" / "sharing_ratios.csv").read_bytes()
    assert store.metadata("positions")["tolerance_m"] == 40.0

    found = hosting.run(HostingSpec(PHU_LY, tmp_path / "job"), store)
    assert found.positions.stored and found.positions.tolerance_m == 40.0
    assert len(found.candidates) > 0 and found.table.exists()
    lon, lat = str(PHU_LY.lon), str(PHU_LY.lat)
    cli("candidates", "--store", str(command), "--operator", "vietnamobile",
        "--lon", lon, "--lat", lat, "--out", str(tmp_path / "cli"))  # fmt: skip
    assert_same_layers(sample_copy, command, (hosting.LAYER,))

    after = indicators.run(IndicatorsSpec(), store)
    assert "positions" not in after.missing
    table = after.table
    province = table[
        (table["indicator"] == "bts_position_sharing")
        & (table["level"] == "province")
        & (table["admin_version"] == "pre2025")
    ].iloc[0]
    positions = store.read("positions")
    assert (province["denominator"], province["numerator"]) == (
        len(positions),
        int(positions["shared"].sum()),
    )


def test_siting_job_after_the_coverage_command(sample_copy: Path, tmp_path: Path) -> None:
    store = GeoPackageStore(sample_copy)
    spec = SitingSpec("vietnamobile", tmp_path / "job", budget=3.0)
    with pytest.raises(GisPlannerError, match="gis-planner coverage"):
        siting.run(spec, store)
    cli("coverage", "--store", str(sample_copy), "--operator", "vietnamobile", "--tech", "4G",
        "--resolution-m", "400", "--replace", "--out", str(tmp_path))  # fmt: skip
    command = copy(sample_copy, "command.gpkg")

    plan = siting.run(spec, store)
    output = cli("plan-sites", "--store", str(command), "--operator", "vietnamobile",
                 "--budget", "3", "--out", str(tmp_path / "cli"))  # fmt: skip
    assert_same_layers(sample_copy, command, plan.layers)
    assert plan.report == tmp_path / "job" / "site_plan_vietnamobile_4G.xlsx"
    figures = dict(zip(plan.summary["figure"], plan.summary["value"], strict=True))
    assert figures["method"] == "milp" and figures["sites proposed"] > 0
    assert "Site plan for vietnamobile 4G" in output
    assert plan.positions.notice() is not None  # no positions product: computed, and said


def test_fibre_job_writes_what_fibre_writes(sample_copy: Path, tmp_path: Path) -> None:
    command = copy(sample_copy, "command.gpkg")
    spec = FibreSpec(FibreParams(drop_m=300.0), report=tmp_path / "job.xlsx")
    result = fibre.run(spec, GeoPackageStore(sample_copy))
    cli("fibre", "--store", str(command), "--drop-m", "300", "--report", str(tmp_path / "cli.xlsx"))
    assert result.report == tmp_path / "job.xlsx" and result.report.exists()
    assert "ftth_villages" in result.layers
    assert_same_layers(sample_copy, command, result.layers)
    assert GeoPackageStore(sample_copy).metadata("ftth_villages")["drop_m"] == 300.0


def test_report_job_writes_what_report_writes(sample_copy: Path, tmp_path: Path) -> None:
    result = report.run(ReportSpec(tmp_path / "job", ("en",)), GeoPackageStore(sample_copy))
    cli("report", "--store", str(sample_copy), "--lang", "en", "--out", str(tmp_path / "cli"))
    assert result.html == (tmp_path / "job" / "report_en.html",)
    assert result.xlsx == tmp_path / "job" / "indicators.xlsx"
    assert sorted(p.name for p in (tmp_path / "job").iterdir()) == sorted(
        p.name for p in (tmp_path / "cli").iterdir()
    )
    job = pd.read_excel(result.xlsx, sheet_name=None, engine="openpyxl")
    command = pd.read_excel(
        tmp_path / "cli" / "indicators.xlsx", sheet_name=None, engine="openpyxl"
    )
    assert job.keys() == command.keys()
    for name in job:
        pd.testing.assert_frame_equal(job[name], command[name], obj=name)


def _imports_store(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(
            name == "gis_planner.store" or name.startswith("gis_planner.store.") for name in names
        ):
            return True
    return False


def test_only_jobs_io_and_product_readers_import_the_store() -> None:
    root = LIBRARY.parent
    users = {
        path.relative_to(root).as_posix() for path in LIBRARY.rglob("*.py") if _imports_store(path)
    }
    allowed = {u for u in users if any(u == a or u.startswith(f"{a}/") for a in STORE_USERS)}
    assert users - allowed == set()
    # Every allowance is still used: an entry no module needs would hide a new one.
    assert {a for a in STORE_USERS if any(u == a or u.startswith(f"{a}/") for u in users)} == set(
        STORE_USERS
    )


def test_every_job_registers_the_layers_it_writes(
    sample_store: GeoPackageStore, tmp_path: Path
) -> None:
    target = copy(sample_store.path, "registered.gpkg")
    cli("sharing", "--store", str(target), "--out", str(tmp_path))
    cli("candidates", "--store", str(target), "--operator", "vietnamobile",
        "--lon", str(PHU_LY.lon), "--lat", str(PHU_LY.lat), "--out", str(tmp_path))  # fmt: skip
    cli("fibre", "--store", str(target), "--report", str(tmp_path / "fibre.xlsx"))
    store = GeoPackageStore(target)
    records = {r.layer: r for r in store.products() if r.kind == "layer"}
    derived = {"positions", "sharing_ratios", "consolidation_moves", "host_candidates"}
    derived |= {name for name in store.layer_revisions() if name.startswith(("ftth", "backhaul"))}
    assert derived <= set(records)
    for name in derived:
        assert records[name].inputs and not store.stale(records[name]), name
    assert records["host_candidates"].operators == ("vietnamobile",)
    # a new fibre route makes the fibre products stale, not the sharing ones
    store.write("fibre_routes", store.read("fibre_routes"))
    assert store.stale(records["ftth_villages"]) and not store.stale(records["positions"])
