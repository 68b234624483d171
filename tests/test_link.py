"""Microwave link profiles: the earth's bulge, the first Fresnel zone, a ridge's clearance and
knife-edge loss, verdicts, batches with rejected rows, the command. Synthetic DEMs are real
GeoTIFFs in ``tmp_path`` laid over two sites of the bundled sample."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import rasterio
from affine import Affine
from typer.testing import CliRunner

from gis_planner.cli import app
from gis_planner.crs import lonlat_to_metric
from gis_planner.jobs import link as job
from gis_planner.jobs.link import LinkError, LinkSpec
from gis_planner.radio.diffraction import (
    EARTH_RADIUS_M,
    knife_edge_loss_db,
    knife_edge_nu,
    wavelength_m,
)
from gis_planner.radio.itm import ItmParams, ItmWarning, itm_point_to_point
from gis_planner.radio.linkprofile import (
    MAX_PROFILE_SAMPLES,
    LinkParams,
    LinkParamsError,
    analyse_profile,
    sample_distances,
)
from gis_planner.store import GeoPackageStore

#: Two Mobifone sites of the sample 12.3 km apart, both 22 m high.
SITE_A, SITE_B = "MBF-HNM-0001", "MBF-HNM-0025"
HEIGHT_M = 22.0
GROUND_M = 10.0
CRS = "EPSG:32648"
RES = 30.0
K = 4.0 / 3.0


def bulge_m(d1: npt.ArrayLike, d2: npt.ArrayLike, k: float = K) -> npt.NDArray[np.float64]:
    return np.asarray(d1) * np.asarray(d2) / (2.0 * k * EARTH_RADIUS_M)


def f1_m(d1: float, d2: float, freq_ghz: float) -> float:
    return math.sqrt(float(wavelength_m(freq_ghz * 1000)) * d1 * d2 / (d1 + d2))


# --- the profile alone --------------------------------------------------------------------


def test_flat_profile_bulge_and_fresnel_at_midpath() -> None:
    distance = np.linspace(0.0, 20_000.0, 401)
    profile = analyse_profile(distance, np.full(401, GROUND_M), 30.0, 30.0, LinkParams(15.0))
    mid = 200
    assert profile.bulge_m[mid] == pytest.approx(10_000.0**2 / (2 * K * EARTH_RADIUS_M))
    assert profile.f1_m[mid] == pytest.approx(f1_m(10_000.0, 10_000.0, 15.0))
    assert profile.clearance_m[mid] == pytest.approx(30.0 - profile.bulge_m[mid])
    assert profile.min_clearance_m == pytest.approx(profile.clearance_m[mid])
    assert profile.verdict == "clear" and not profile.obstacles
    assert profile.knife_edge_loss_db == 0.0 and profile.bullington_loss_db == 0.0
    # P.525 at 20 km and 15 GHz
    assert profile.free_space_loss_db == pytest.approx(
        20 * math.log10(4 * math.pi * 20_000 / float(wavelength_m(15_000))), abs=1e-9
    )


def test_a_lower_k_raises_the_bulge() -> None:
    distance = np.linspace(0.0, 20_000.0, 401)
    flat = np.full(401, GROUND_M)
    median = analyse_profile(distance, flat, 30.0, 30.0, LinkParams(k_factor=K))
    low = analyse_profile(distance, flat, 30.0, 30.0, LinkParams(k_factor=2 / 3))
    assert low.bulge_m[200] == pytest.approx(2 * median.bulge_m[200])


def test_ridge_clearance_and_knife_edge() -> None:
    distance = np.linspace(0.0, 10_000.0, 201)
    terrain = np.zeros(201)
    terrain[80] = 40.0  # a knife edge 4 km from A
    profile = analyse_profile(distance, terrain, 30.0, 30.0, LinkParams(8.0))
    height = 40.0 + bulge_m(4000.0, 6000.0) - 30.0
    assert profile.min_clearance_m == pytest.approx(-height)
    assert profile.worst_distance_m == 4000.0
    nu = knife_edge_nu(height, 4000.0, 6000.0, float(wavelength_m(8000.0)))
    assert profile.knife_edge_loss_db == pytest.approx(knife_edge_loss_db(nu))
    # one edge in the line of sight: Bullington's edge is that one
    assert profile.bullington_loss_db == pytest.approx(profile.knife_edge_loss_db, abs=1e-6)
    assert profile.verdict == "obstructed"
    (obstacle,) = profile.obstacles
    assert (obstacle.distance_m, obstacle.terrain_m) == (4000.0, 40.0)
    assert obstacle.clearance_f1 == pytest.approx(-height / profile.f1_m[80])


def test_the_hop_carries_the_longley_rice_loss() -> None:
    distance = np.linspace(0.0, 10_000.0, 201)
    flat = analyse_profile(distance, np.zeros(201), 30.0, 30.0, LinkParams(8.0))
    assert flat.itm.mode == "line_of_sight" and flat.itm.warning is ItmWarning.NONE
    assert abs(flat.itm.basic_loss_db - flat.free_space_loss_db) < 3.0
    terrain = np.zeros(201)
    terrain[70:91] = 60.0  # a ridge 1 km wide 3.5–4.5 km from A, 30 m above the line
    ridge = analyse_profile(distance, terrain, 30.0, 30.0, LinkParams(8.0))
    assert ridge.itm == itm_point_to_point(terrain, 50.0, 30.0, 30.0, ItmParams(8000.0))
    assert ridge.itm.mode == "diffraction"
    assert ridge.itm.basic_loss_db > ridge.free_space_loss_db + 10.0
    # past 20 GHz ITM still answers, and says it is out of its range
    high = analyse_profile(distance, terrain, 30.0, 30.0, LinkParams(38.0))
    assert high.itm.warning is ItmWarning.OUT_OF_RANGE
    assert math.isfinite(high.itm.basic_loss_db)


def test_a_ridge_in_the_zone_below_the_line_is_marginal() -> None:
    distance = np.linspace(0.0, 10_000.0, 201)
    terrain = np.zeros(201)
    f1 = f1_m(5000.0, 5000.0, 15.0)
    terrain[100] = 30.0 - bulge_m(5000.0, 5000.0) - 0.3 * f1  # 0.3 F1 below the line
    profile = analyse_profile(distance, terrain, 30.0, 30.0, LinkParams(15.0))
    assert profile.min_clearance_f1 == pytest.approx(0.3)
    assert profile.verdict == "marginal" and len(profile.obstacles) == 1
    assert profile.knife_edge_loss_db > 0.0  # ν = −0.42: the zone's edge already costs


def test_sampling_is_bounded() -> None:
    distance, step = sample_distances(12_000.0, 30.0)
    assert step <= 30.0 and distance[-1] == 12_000.0
    distance, step = sample_distances(150_000.0, 1.0)  # a 1 m DEM on a 150 km hop
    assert len(distance) == MAX_PROFILE_SAMPLES and step > 1.0
    with pytest.raises(LinkParamsError, match="hop of"):
        sample_distances(500_000.0, 30.0)
    with pytest.raises(LinkParamsError, match="frequency"):
        LinkParams(freq_ghz=1e6)


# --- the job over the sample's sites -----------------------------------------------------


def _metric(store: GeoPackageStore, site_id: str) -> tuple[float, float]:
    site = store.read("sites", filters={"site_id": site_id})
    x, y = lonlat_to_metric(site.geometry.x, site.geometry.y, CRS)
    return float(x[0]), float(y[0])


def write_dem(
    path: Path, store: GeoPackageStore, ridge_m: float | None = None, width_m: float = 300.0
) -> Path:
    """A DEM at ``GROUND_M`` over both sites (2 km around them) at 30 m in UTM 48N; with a
    ridge of ``ridge_m`` across the hop's middle, ``width_m`` wide."""
    (xa, ya), (xb, yb) = _metric(store, SITE_A), _metric(store, SITE_B)
    x0 = math.floor(min(xa, xb) / RES) * RES - 2000.0
    y1 = math.ceil(max(ya, yb) / RES) * RES + 2000.0
    cols = math.ceil((max(xa, xb) + 2000.0 - x0) / RES)
    rows = math.ceil((y1 - min(ya, yb) + 2000.0) / RES)
    heights = np.full((rows, cols), GROUND_M, dtype=np.float32)
    if ridge_m is not None:
        xs = x0 + (np.arange(cols) + 0.5) * RES
        ys = y1 - (np.arange(rows) + 0.5) * RES
        gx, gy = np.meshgrid(xs, ys)
        length = math.hypot(xb - xa, yb - ya)
        along = ((gx - xa) * (xb - xa) + (gy - ya) * (yb - ya)) / length
        heights[np.abs(along - length / 2) < width_m / 2] = ridge_m
    with rasterio.open(
        path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="float32",
        crs=CRS, transform=Affine(RES, 0.0, x0, 0.0, -RES, y1), nodata=-32768,
    ) as dataset:  # fmt: skip
        dataset.write(heights, 1)
    return path


def hop_length_m(store: GeoPackageStore) -> float:
    (xa, ya), (xb, yb) = _metric(store, SITE_A), _metric(store, SITE_B)
    return math.hypot(xb - xa, yb - ya)


def test_flat_dem_gives_the_bulge(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "flat.tif", sample_store)
    result = job.run(LinkSpec(SITE_A, SITE_B, dem), sample_store)
    p = result.profile
    length = hop_length_m(sample_store)
    assert p.length_m == pytest.approx(length, rel=1e-9)
    assert p.step_m <= RES and result.dem_resolution_m == pytest.approx(RES)
    np.testing.assert_allclose(p.terrain_m, GROUND_M, atol=1e-4)
    half = length / 2
    assert np.interp(half, p.distance_m, p.bulge_m) == pytest.approx(
        float(bulge_m(half, half)), abs=1e-3
    )
    assert np.interp(half, p.distance_m, p.f1_m) == pytest.approx(f1_m(half, half, 15.0), abs=1e-3)
    assert p.min_clearance_m == pytest.approx(HEIGHT_M - float(bulge_m(half, half)), abs=1e-3)
    assert (result.a.antenna_m, result.b.antenna_m) == (HEIGHT_M, HEIGHT_M)
    assert p.verdict == "clear"


def test_ridge_under_the_hop(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "ridge.tif", sample_store, ridge_m=40.0)
    result = job.run(LinkSpec(SITE_A, SITE_B, dem, LinkParams(freq_ghz=8.0)), sample_store)
    p = result.profile
    length = hop_length_m(sample_store)
    d = p.worst_distance_m
    assert abs(d - length / 2) < 150.0  # on the ridge
    height = 40.0 + float(bulge_m(d, length - d)) - (GROUND_M + HEIGHT_M)
    assert p.min_clearance_m == pytest.approx(-height, abs=1e-3)
    nu = knife_edge_nu(height, d, length - d, float(wavelength_m(8000.0)))
    assert p.knife_edge_loss_db == pytest.approx(knife_edge_loss_db(nu), abs=1e-6)
    assert p.verdict == "obstructed"
    (obstacle,) = p.obstacles
    assert obstacle.terrain_m == pytest.approx(40.0)
    assert obstacle.end_m - obstacle.start_m == pytest.approx(300.0, abs=2 * p.step_m)
    # the ridge's flat top makes two edges of one: Bullington's loss is no less
    assert p.knife_edge_loss_db - 1e-6 <= p.bullington_loss_db < p.knife_edge_loss_db + 3.0


def test_a_higher_mast_clears_the_ridge(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "ridge.tif", sample_store, ridge_m=40.0)
    spec = LinkSpec(SITE_A, SITE_B, dem, height_a_m=60.0, height_b_m=60.0)
    assert job.run(spec, sample_store).profile.verdict == "clear"


def test_bad_hops_are_refused(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "flat.tif", sample_store)
    with pytest.raises(LinkError, match="no site 'NOPE'"):
        job.run(LinkSpec(SITE_A, "NOPE", dem), sample_store)
    with pytest.raises(LinkError, match="twice"):
        job.run(LinkSpec(SITE_A, SITE_A, dem), sample_store)
    with pytest.raises(LinkError, match="of viettel"):
        job.run(LinkSpec(SITE_A, SITE_B, dem, operator="viettel"), sample_store)
    far = sample_store.read("sites", filters={"site_id": "MBF-HNM-0016"})
    assert not far.empty
    with pytest.raises(LinkError, match="does not cover"):
        job.run(LinkSpec(SITE_A, "MBF-HNM-0016", dem), sample_store)


def test_batch_keeps_the_valid_rows(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    dem = write_dem(tmp_path / "ridge.tif", sample_store, ridge_m=40.0)
    hops = tmp_path / "hops.csv"
    hops.write_text(
        "site_a,site_b,freq_ghz,height_a_m,height_b_m\n"
        f"{SITE_A},{SITE_B},,,\n"
        f"{SITE_A},{SITE_B},18,60,60\n"
        f"{SITE_A},NOPE,,,\n"
        f"{SITE_A},{SITE_B},fast,,\n"
        f",{SITE_B},,,\n"
        f"{SITE_A},{SITE_B},1000,,\n"
        f"{SITE_A},{SITE_B},,-5,\n",
        encoding="utf-8",
    )
    found = job.run_batch(job.read_hops(hops), dem, sample_store, LinkSpec("", "", dem))
    assert found.verdicts["row"].tolist() == [2, 3]
    assert found.verdicts["verdict"].tolist() == ["obstructed", "clear"]
    assert found.verdicts["freq_ghz"].tolist() == [15.0, 18.0]
    # ITM: the ridge costs, the cleared hop is near free space; 15 and 18 GHz are past ITM's
    # 10 GHz caution
    excess = found.verdicts["itm_loss_db"] - found.verdicts["free_space_loss_db"]
    assert excess[0] > 10.0 and abs(excess[1]) < 3.0
    assert found.verdicts["itm_warning"].tolist() == [1, 1]
    reasons = dict(zip(found.rejects["row"], found.rejects["reason"], strict=True))
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert "no site 'NOPE'" in reasons[4] and "not a number" in reasons[5]
    assert "both needed" in reasons[6] or "no site ''" in reasons[6]
    assert "frequency" in reasons[7] and "antenna A" in reasons[8]


@pytest.mark.parametrize(
    "text",
    ["", "a,b\n1,2\n", b"\xff\xfe\x00garbage".decode("latin-1"), "site_a\n" + "x\n" * 10],
)
def test_batch_files_that_are_not_hops(tmp_path: Path, text: str) -> None:
    hops = tmp_path / "hops.csv"
    hops.write_text(text, encoding="latin-1")
    with pytest.raises(LinkError):
        job.read_hops(hops)


def test_a_missing_batch_file(tmp_path: Path) -> None:
    with pytest.raises(LinkError, match=r"hops\.csv"):
        job.read_hops(tmp_path / "hops.csv")


def test_batch_is_bounded(tmp_path: Path) -> None:
    hops = tmp_path / "hops.csv"
    hops.write_text("site_a,site_b\n" + "A,B\n" * (job.MAX_BATCH_ROWS + 1), encoding="utf-8")
    with pytest.raises(LinkError, match="more than"):
        job.read_hops(hops)


# --- the command ----------------------------------------------------------------------


def test_link_command(sample_copy: Path, tmp_path: Path) -> None:
    store = GeoPackageStore(sample_copy)
    dem = write_dem(tmp_path / "ridge.tif", store, ridge_m=40.0)
    png, csv = tmp_path / "hop.png", tmp_path / "hop.csv"
    args = ["link", SITE_A, SITE_B, "--terrain", str(dem), "--store", str(sample_copy),
            "--freq-ghz", "8", "--k-factor", "4/3", "--png", str(png), "--csv", str(csv),
            "--lang", "en"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "obstructed" in result.output and "Obstacles" in result.output
    assert "Longley–Rice ITM" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = pd.read_csv(csv, encoding="utf-8-sig")
    assert samples["terrain_m"].max() == pytest.approx(40.0)


def test_link_command_batch(sample_copy: Path, tmp_path: Path) -> None:
    store = GeoPackageStore(sample_copy)
    dem = write_dem(tmp_path / "flat.tif", store)
    hops = tmp_path / "hops.csv"
    # a site id that would be markup in the terminal is shown as it is
    hops.write_text(f"site_a,site_b\n{SITE_A},{SITE_B}\n{SITE_A},[/NOPE]\n", encoding="utf-8")
    out = tmp_path / "verdicts.xlsx"
    args = ["link", "--batch", str(hops), "--terrain", str(dem), "--store", str(sample_copy),
            "--out", str(out), "--lang", "en"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "1 hops: 1 clear" in result.output and "[/NOPE]" in result.output
    assert len(pd.read_excel(out, engine="openpyxl")) == 1
    rejects = pd.read_csv(tmp_path / "verdicts.rejects.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == [3]


def test_link_command_needs_a_terrain(sample_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIS_PLANNER_TERRAIN", raising=False)
    result = CliRunner().invoke(app, ["link", SITE_A, SITE_B, "--store", str(sample_copy)])
    assert result.exit_code == 2
    assert "GIS_PLANNER_TERRAIN" in result.output


def test_a_shared_site_id_needs_its_operator(sample_copy: Path, tmp_path: Path) -> None:
    store = GeoPackageStore(sample_copy)
    twin = store.read("sites", filters={"site_id": SITE_B})
    twin["operator"] = "viettel"
    store.write("sites", twin, mode="append")
    dem = write_dem(tmp_path / "flat.tif", store)
    with pytest.raises(LinkError, match="mobifone, viettel: name the operator"):
        job.run(LinkSpec(SITE_A, SITE_B, dem), store)
    result = job.run(LinkSpec(SITE_A, SITE_B, dem, operator="mobifone"), store)
    assert (result.a.operator, result.b.operator) == ("mobifone", "mobifone")


def test_a_dem_in_degrees(sample_store: GeoPackageStore, tmp_path: Path) -> None:
    """SRTM-like: one arc-second pixels in WGS84; the step stays within the pixel in metres."""
    sites = sample_store.read("sites", filters={"site_id": [SITE_A, SITE_B]})
    assert len(sites) == 2
    west, south, east, north = sites.total_bounds
    arc = 1.0 / 3600.0
    x0, y1 = west - 0.02, north + 0.02
    cols, rows = math.ceil((east + 0.02 - x0) / arc), math.ceil((y1 - south + 0.02) / arc)
    dem = tmp_path / "srtm.tif"
    with rasterio.open(
        dem, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="int16",
        crs="EPSG:4326", transform=Affine(arc, 0.0, x0, 0.0, -arc, y1), nodata=-32768,
    ) as dataset:  # fmt: skip
        dataset.write(np.full((rows, cols), 10, dtype=np.int16), 1)
    result = job.run(LinkSpec(SITE_A, SITE_B, dem), sample_store)
    # 1″ of longitude at 20.5° N is 29.0 m, of latitude 30.7 m
    assert result.dem_resolution_m == pytest.approx(29.0, abs=0.3)
    assert result.profile.step_m <= result.dem_resolution_m
    np.testing.assert_allclose(result.profile.terrain_m, 10.0, atol=1e-4)
    assert result.profile.verdict == "clear"


def test_a_profile_needs_equal_steps() -> None:
    with pytest.raises(LinkParamsError, match="equally spaced"):
        analyse_profile([0.0, 1.0, 3.0, 4.0], [0.0] * 4, 10.0, 10.0, LinkParams())
