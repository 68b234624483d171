"""Importing into a store: every defect class, nothing lost, idempotent, all-or-nothing."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gis_planner.errors import GisPlannerError
from gis_planner.io import Area, Context, ImportOptions, check_file, import_file
from gis_planner.io.coordinates import province_outline
from gis_planner.io.importer import ReplaceRefused
from gis_planner.store import GeoPackageStore

from .io_files import INSIDE

HEADER = "Mã trạm;Nhà mạng;Kinh độ;Vĩ độ;Độ cao cột;Loại cột"
GOOD_IDS = ["OK-0", "OK-1", "OK-2"]
GOOD = [f"OK-{i};Viettel;{lon};{lat};30;lattice" for i, (lon, lat) in enumerate(INSIDE[:3])]


@pytest.fixture(scope="module")
def area(sample_store: GeoPackageStore) -> Area:
    return Area.from_outline(province_outline(sample_store.read("admin_units")))


@pytest.fixture
def hanam(tmp_path: Path, sample_store: GeoPackageStore) -> GeoPackageStore:
    """A writable copy of the sample store."""
    path = tmp_path / "hanam.gpkg"
    shutil.copyfile(sample_store.path, path)
    return GeoPackageStore(path)


def _csv(tmp_path: Path, rows: list[str], name: str = "tram.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(["DANH SÁCH TRẠM", HEADER, *GOOD, *rows]) + "\n", encoding="utf-8")
    return path


# One row of each defect class, the source row being line 6 (title, header, three good rows).
DEFECTS = {
    "decimal comma": ("D1;Viettel;105,9123;20,5432;30,5;lattice", None, None),
    "dms": ("D2;Viettel;105°54'44\"E;20°32'35.5\"N;30;lattice", None, None),
    "swapped lat/lon": ("D3;Viettel;20.5432;105.9123;30;lattice", None, None),
    "height 45m": ("D4;Viettel;105.91;20.54;45m;lattice", None, None),
    "height 45 m": ("D5;Viettel;105.91;20.54;45 m;lattice", None, None),
    "outside the province": ("D6;Viettel;106.5;20.5;30;lattice", "outside_province", "geometry"),
    "empty coordinate": ("D7;Viettel;;20.54;30;lattice", "required", "lon"),
    "bad DMS": ("D8;Viettel;105°74'E;20.54;30;lattice", "dms", "lon"),
    "out-of-range value": ("D9;Viettel;105.91;20.54;250;lattice", "above_max", "height_m"),
    "negative height": ("D10;Viettel;105.91;20.54;-3;lattice", "below_min", "height_m"),
    "duplicate id": ("OK-1;Viettel;105.91;20.54;30;lattice", "duplicate_key", "site_id+operator"),
    "unknown operator": ("D12;Orange;105.91;20.54;30;lattice", "unknown_operator", "operator"),
    # No height: the tower type's typical one, flagged (a position still counts for sharing).
    "height N/A": ("D13;Viettel;105.91;20.54;N/A;lattice", None, None),
    "height in feet": ("D14;Viettel;105.91;20.54;98 ft;lattice", "unit", "height_m"),
    "not allowed": ("D15;Viettel;105.91;20.54;30;cột bê tông", "not_allowed", "tower_type"),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_each_defect_class(tmp_path: Path, area: Area, defect: str) -> None:
    row, reason, field = DEFECTS[defect]
    checked = check_file(_csv(tmp_path, [row]), "sites", context=Context(area=area))
    result = checked.result
    assert result.read == 4 and result.accepted + result.rejected == result.read
    site_id = row.split(";")[0]
    if reason is None:
        assert result.ok, result.rejects
        site = checked.to_write["sites"].set_index("site_id").loc[site_id]
        assert 105.7 < site.geometry.x < 106.3 and 20.3 < site.geometry.y < 20.8
        assert site["height_m"] in (30.0, 30.5, 45.0, 40.0)
        assert site["height_assumed"] == (site_id == "D13")
    else:
        assert result.rejected == 1
        reject = result.rejects.iloc[0]
        assert (reject["row"], reject["reason"], reject["field"]) == (6, reason, field)
        assert reject["file"] == "tram.csv" and reject["message"]
        column = {"operator": 1, "lon": 2, "height_m": 4, "tower_type": 5}.get(field)
        if column is not None:
            assert (reject["value"] or "") == row.split(";")[column], "the text as in the file"


def test_decimal_comma_and_dms_values(tmp_path: Path, area: Area) -> None:
    rows = [DEFECTS["decimal comma"][0], DEFECTS["dms"][0], DEFECTS["swapped lat/lon"][0]]
    checked = check_file(_csv(tmp_path, rows), "sites", context=Context(area=area))
    sites = checked.to_write["sites"].set_index("site_id")
    assert sites.loc["D1"].geometry.x == 105.9123 and sites.loc["D1", "height_m"] == 30.5
    assert sites.loc["D2"].geometry.x == pytest.approx(105 + 54 / 60 + 44 / 3600)
    assert sites.loc["D2"].geometry.y == pytest.approx(20 + 32 / 60 + 35.5 / 3600)
    assert (sites.loc["D3"].geometry.x, sites.loc["D3"].geometry.y) == (105.9123, 20.5432)
    fixes = checked.result.fixes
    assert checked.result.fixed == 1 and fixes.iloc[0]["row"] == 8
    assert fixes.iloc[0]["reason"] == "swapped_coordinates"


def test_nothing_lost_and_report_written(tmp_path: Path, hanam: GeoPackageStore) -> None:
    rows = [DEFECTS[d][0] for d in DEFECTS]
    path = _csv(tmp_path, rows)
    before = len(hanam.read("sites"))
    result = import_file(path, "sites", hanam, options=ImportOptions(append=True))
    bad = sum(1 for d in DEFECTS.values() if d[1] is not None)
    assert result.read == len(GOOD) + len(DEFECTS)
    assert result.rejected == bad and result.accepted == result.read - bad
    assert len(hanam.read("sites")) == before + result.accepted
    assert result.report_path is not None and result.report_path.parent.parent == hanam.assets_dir
    report = pd.read_csv(result.report_path, encoding="utf-8-sig", dtype=str)
    assert list(report.columns) == ["file", "sheet", "row", "field", "value", "reason", "message"]
    assert report["row"].astype(int).nunique() == bad
    assert report.loc[report["reason"] == "duplicate_key", "message"].iloc[0].endswith("row 4")
    assert result.fixes_path is not None and result.fixes_path.exists()
    by_reason = result.rejected_by_reason()
    assert by_reason["required"] == 1 and by_reason["outside_province"] == 1
    fixes = pd.read_csv(result.fixes_path, encoding="utf-8-sig", dtype=str)
    assert sorted(fixes["reason"]) == ["assumed", "swapped_coordinates"]
    assert "lấy 40 m" in fixes.loc[fixes["reason"] == "assumed", "message"].iloc[0]


def test_commune_code_derived_like_the_sample(tmp_path: Path, hanam: GeoPackageStore) -> None:
    import_file(_csv(tmp_path, []), "sites", hanam, options=ImportOptions(append=True))
    sites = hanam.read("sites").set_index("site_id")
    sample = hanam.read("admin_units")
    communes = sample[(sample["level"] == "commune") & (sample["admin_version"] == "pre2025")]
    for site_id in ("OK-0", "OK-1", "OK-2"):
        code = sites.loc[site_id, "commune_code"]
        outline = communes.set_index("code").loc[code].geometry
        assert outline.covers(sites.loc[site_id].geometry)


def test_reimport_is_idempotent(tmp_path: Path, hanam: GeoPackageStore) -> None:
    path = _csv(tmp_path, [DEFECTS["dms"][0], DEFECTS["swapped lat/lon"][0]])
    options = ImportOptions(append=True)
    first = import_file(path, "sites", hanam, options=options)
    after_first = hanam.read("sites")
    second = import_file(path, "sites", hanam, options=options)
    assert first.written == {"sites": 5} and first.unchanged == 0
    assert first.rows is not None and sorted(first.rows["site_id"]) == ["D2", "D3", *GOOD_IDS]
    assert second.written == {} and second.unchanged == 5 and second.accepted == 5
    pd.testing.assert_frame_equal(hanam.read("sites"), after_first)
    # Replacing the layer with this file would leave the store's cells without their sites.
    with pytest.raises(ReplaceRefused, match="row\\(s\\) of 'cells' would lose the sites"):
        import_file(path, "sites", hanam, options=ImportOptions(append=False))
    pd.testing.assert_frame_equal(hanam.read("sites"), after_first)


def test_a_row_of_a_known_key_updates_the_stored_row(
    tmp_path: Path, hanam: GeoPackageStore
) -> None:
    before = hanam.read("sites")
    known = before.iloc[0]
    row = f"{known['site_id']};{known['operator']};105.91;20.54;33;monopole"
    result = import_file(_csv(tmp_path, [row]), "sites", hanam)
    assert (result.rejected, result.updated, result.written) == (0, 1, {"sites": 4})
    after = hanam.read("sites")
    assert len(after) == len(before) + 3
    stored = after.set_index(["site_id", "operator"]).loc[(known["site_id"], known["operator"])]
    assert (stored["height_m"], stored["tower_type"]) == (33.0, "monopole")
    assert (stored.geometry.x, stored.geometry.y) == (105.91, 20.54)
    # The other rows are the store's own, untouched; the cells still find their sites.
    others = after[after["site_id"] != known["site_id"]].set_index(["site_id", "operator"])
    untouched = before[before["site_id"] != known["site_id"]].set_index(["site_id", "operator"])
    pd.testing.assert_frame_equal(
        others.loc[untouched.index].drop(columns="geometry"), untouched.drop(columns="geometry")
    )


def test_rows_longer_than_the_header_are_rejected_not_lost(tmp_path: Path, area: Area) -> None:
    path = _csv(tmp_path, ["X1;Viettel;105.91;20.54;30;lattice;spare;cells"])
    result = check_file(path, "sites", context=Context(area=area)).result
    assert (result.read, result.rejected) == (4, 1)
    assert result.rejects.iloc[0][["row", "reason"]].tolist() == [6, "extra_cells"]


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from gis_planner.io import ImportOptions, import_file
    from gis_planner.store import GeoPackageStore
    from gis_planner.store.gpkg import GeoPackageFile

    original = GeoPackageFile.write

    def write_then_die(self, name, frame, **kwargs):
        original(self, name, frame, **kwargs)
        print("wrote", name, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    GeoPackageFile.write = write_then_die
    store = GeoPackageStore(sys.argv[1])
    import_file(Path(sys.argv[2]), "cells", store, options=ImportOptions(append=True))
    """
)


def test_kill_mid_import_leaves_store_unchanged(tmp_path: Path, hanam: GeoPackageStore) -> None:
    # An OpenCelliD import writes sites and cells in one transaction: die after the first.
    rng = np.random.default_rng(1)
    lon = rng.uniform(105.88, 105.95, 300)
    lat = rng.uniform(20.52, 20.56, 300)
    lines = [
        f"LTE,452,4,1,{i},0,{x:.6f},{y:.6f},100,1,1,1,2,0"
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    path = tmp_path / "cells.csv"
    path.write_text("\n".join(lines) + "\n")
    before = hanam.path.read_bytes()
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    proc = subprocess.run(
        [sys.executable, str(script), str(hanam.path), str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert proc.stdout.strip() == "wrote sites"
    assert hanam.path.read_bytes() == before
    # And the same import, not killed, goes through; the next writer sweeps the dead copy.
    result = import_file(path, "cells", hanam, options=ImportOptions(append=True))
    assert result.written["cells"] == 300 and result.written["sites"] >= 1
    assert not list(hanam.path.parent.glob(".hanam.*.tmp.gpkg*"))


def test_x_y_columns_in_degrees_are_lon_lat(tmp_path: Path, area: Area) -> None:
    path = tmp_path / "gis.csv"
    path.write_text("id,operator,X,Y,height_m,tower_type\nG1,Gmobile,105.91,20.54,20,monopole\n")
    checked = check_file(path, "sites", context=Context(area=area))
    site = checked.to_write["sites"].iloc[0]
    assert (site.geometry.x, site.geometry.y, site["operator"]) == (105.91, 20.54, "gmobile")


def test_result_refuses_counts_that_lose_rows(tmp_path: Path, area: Area) -> None:
    result = check_file(_csv(tmp_path, [DEFECTS["unknown operator"][0]]), "sites",
                        context=Context(area=area)).result  # fmt: skip
    assert (result.read, result.accepted, result.rejected) == (4, 3, 1)
    with pytest.raises(AssertionError, match="rows read"):
        replace(result, accepted=2, rows=None)
    with pytest.raises(AssertionError, match="reject report"):
        replace(result, rejected=0, accepted=4, rows=None)


def test_row_numbers_count_quoted_line_breaks(tmp_path: Path, area: Area) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(
        "Mã trạm,Nhà mạng,Kinh độ,Vĩ độ,Độ cao cột,Loại cột,Địa chỉ\n"
        'Q1,Viettel,105.91,20.54,30,lattice,"Thôn 1, Xã A"\n'
        'Q2,Viettel,105.92,20.54,30,lattice,"Thôn 2\nXã B"\n'
        "\n"
        "Q3,Viettel,105.93,20.54,abc,lattice,x\n",
        encoding="utf-8",
    )
    result = check_file(path, "sites", context=Context(area=area)).result
    assert (result.read, result.accepted) == (3, 2)
    assert result.rejects.iloc[0][["row", "value"]].tolist() == [6, "abc"]


def test_an_operator_imports_its_own_rows_only(tmp_path: Path, area: Area) -> None:
    rows = ["V1;VNPT;105.91;20.54;30;lattice", "V2;VinaPhone;105.92;20.55;30;lattice"]
    options = ImportOptions(only_operator="viettel")
    checked = check_file(_csv(tmp_path, rows), "sites", options=options, context=Context(area))
    result = checked.result
    assert (result.read, result.accepted, result.rejected) == (5, 3, 2)
    assert list(checked.to_write["sites"]["site_id"]) == GOOD_IDS
    assert list(result.rejects["row"]) == [6, 7]
    assert set(result.rejects["reason"]) == {"other_operator"}
    assert result.rejects.iloc[0]["message"].startswith("operator: only rows of 'viettel'")
    # A layer without operators is nobody's to import row by row.
    villages = tmp_path / "villages.geojson"
    villages.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(GisPlannerError, match="has no operator"):
        check_file(villages, "admin_units", options=options, context=Context(area))


def test_a_cell_on_another_operators_site_is_rejected_as_unknown(
    tmp_path: Path, hanam: GeoPackageStore
) -> None:
    cells = hanam.read("cells")
    mine = cells[cells["operator"] == "vnpt"].head(2).copy()
    mine["cell_id"] = ["NEW-CELL-1", "NEW-CELL-2"]
    mine.iloc[1, mine.columns.get_loc("operator")] = "viettel"  # on a VNPT site
    path = tmp_path / "cells.geojson"
    mine.to_file(path, driver="GeoJSON")
    result = import_file(path, "cells", hanam, options=ImportOptions(append=True))
    assert (result.accepted, result.rejected) == (1, 1)
    # As for a site id nobody has: the answer does not tell that another operator holds it.
    assert result.rejects.iloc[0]["reason"] == "unknown_site"
    assert "NEW-CELL-2" not in set(hanam.read("cells")["cell_id"])


def test_the_store_writes_the_rows_the_check_validated_without_a_second_pass(
    tmp_path: Path, hanam: GeoPackageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows are validated once, by the check, with the catalogue's rules: the store takes them
    as they are (here added to the layer)."""
    from importlib import import_module

    from gis_planner.catalogue import get_spec

    catalogue = import_module("gis_planner.catalogue.validate")

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the store validated rows the check had validated")

    before = len(hanam.read("sites"))
    monkeypatch.setattr(catalogue, "validate", refused)
    rows = [f"N-{i};Viettel;{lon};{lat};30;lattice" for i, (lon, lat) in enumerate(INSIDE)]
    result = import_file(_csv(tmp_path, rows), "sites", hanam)
    monkeypatch.undo()
    assert result.written["sites"] == len(rows) + 3
    stored = hanam.read("sites")
    assert len(stored) == before + len(rows) + 3
    # What the store holds is what validating it gives.
    assert catalogue.validate(stored, get_spec("sites")).ok
