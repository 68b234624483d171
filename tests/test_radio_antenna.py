"""Antenna patterns: the 3GPP sector by hand, tilts, omni, and MSI files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gis_planner.radio.antenna import (
    AntennaFileError,
    omni_pattern,
    read_msi,
    sector_attenuation_db,
    sector_pattern,
)


def test_sector_boresight_half_power_and_back_lobe() -> None:
    pattern = sector_pattern(17.0, 65.0, 10.0, front_to_back_db=25.0, side_lobe_db=20.0)
    gains = pattern.gain_towards_dbi(np.array([0.0, 32.5, -32.5, 180.0]), 0.0)
    np.testing.assert_allclose(gains, [17.0, 14.0, 14.0, 17.0 - 25.0], atol=1e-6)
    # vertical: 5° off the beam is −3 dB, far off is capped at the side-lobe level
    assert pattern.gain_towards_dbi(0.0, 5.0) == pytest.approx(14.0, abs=1e-6)
    assert pattern.gain_towards_dbi(0.0, 60.0) == pytest.approx(17.0 - 20.0, abs=1e-6)


def test_sector_attenuation_by_hand() -> None:
    # φ = 40°, θ = 3°: 12(40/65)² + 12(3/10)² = 4.5444 + 1.08
    value = sector_attenuation_db(40.0, 3.0, 65.0, 10.0, 30.0, 30.0)
    assert value == pytest.approx(12 * (40 / 65) ** 2 + 12 * 0.3**2)
    # the total is capped at the front-to-back ratio
    assert sector_attenuation_db(120.0, 20.0, 65.0, 10.0, 25.0, 20.0) == pytest.approx(25.0)
    # tables interpolate to the formula within 0.01 dB
    pattern = sector_pattern(0.0, 65.0, 7.0)
    phi = np.linspace(-179.0, 179.0, 301)
    theta = np.linspace(-30.0, 30.0, 301)
    np.testing.assert_allclose(
        pattern.attenuation_db(phi, theta), sector_attenuation_db(phi, theta, 65.0, 7.0), atol=0.01
    )


def test_tilts_and_azimuth() -> None:
    pattern = sector_pattern(18.0, 65.0, 10.0)
    # azimuth 90°, electrical tilt 6°: maximum towards east, 6° below the horizon
    assert pattern.gain_towards_dbi(90.0, 6.0, 90.0, 0.0, 6.0) == pytest.approx(18.0, abs=1e-6)
    # mechanical tilt 4° points the front down and the back up
    front = pattern.gain_towards_dbi(90.0, 4.0, 90.0, 4.0, 0.0)
    assert front == pytest.approx(18.0, abs=1e-6)
    side = pattern.gain_towards_dbi(180.0, 0.0, 90.0, 4.0, 0.0)  # at 90° off, no tilt effect
    assert side == pytest.approx(18.0 - min(12 * (90 / 65) ** 2, 30.0), abs=0.01)


def test_omni_has_no_horizontal_attenuation() -> None:
    pattern = omni_pattern(11.0, v_beamwidth_deg=8.0)
    gains = pattern.gain_towards_dbi(np.arange(0.0, 360.0, 15.0), 0.0)
    np.testing.assert_allclose(gains, 11.0)
    assert pattern.gain_towards_dbi(0.0, 4.0) == pytest.approx(8.0, abs=1e-6)


def _write_msi(path: Path, gain: str = "15.85 dBd", h_count: int = 360, bad_row: str = "") -> Path:
    lines = ["NAME TEST-ANT-65", "FREQUENCY 1800", f"GAIN {gain}", "TILT ELECTRICAL 6"]
    lines.append(f"HORIZONTAL {h_count}")
    for angle in range(h_count):
        off = min(angle, 360 - angle)
        lines.append(f"{angle} {min(12 * (off / 65) ** 2, 25):.2f}")
    lines.append("VERTICAL 360")
    for angle in range(360):
        off = min(abs(angle - 6), 360 - abs(angle - 6))
        lines.append(
            bad_row if (bad_row and angle == 10) else f"{angle} {min(12 * (off / 7) ** 2, 20):.2f}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_msi(tmp_path: Path) -> None:
    msi = read_msi(_write_msi(tmp_path / "ant.msi"))
    assert msi.name == "TEST-ANT-65"
    assert msi.frequency_mhz == 1800.0
    assert msi.gain_dbi == pytest.approx(18.0)  # 15.85 dBd + 2.15
    assert msi.electrical_tilt_deg == 6.0
    pattern = msi.pattern(max_attenuation_db=25.0)
    # the file's 6° tilt is in its vertical table: maximum 6° below the horizon
    assert pattern.gain_towards_dbi(0.0, 6.0) == pytest.approx(18.0, abs=1e-6)
    # 1° samples of 12(θ/7)², interpolated: −3 dB at 3.5° within 0.1 dB
    assert pattern.gain_towards_dbi(0.0, 6.0 + 3.5) == pytest.approx(15.0, abs=0.1)
    assert pattern.gain_towards_dbi(180.0, 6.0) == pytest.approx(18.0 - 25.0)
    assert read_msi(_write_msi(tmp_path / "dbi.msi", gain="18 dBi")).gain_dbi == 18.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gain": "high"}, "GAIN: 'high' is not a number"),
        ({"gain": "17 dBm"}, "GAIN unit"),
        ({"h_count": 180}, "HORIZONTAL must announce 360 values"),
        ({"bad_row": "10 x"}, "line 377: VERTICAL loss: 'x' is not a number"),
    ],
)
def test_bad_msi_files_name_the_problem(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = _write_msi(tmp_path / "bad.msi", **kwargs)
    with pytest.raises(AntennaFileError, match=message) as error:
        read_msi(path)
    assert "bad.msi" in str(error.value)


def test_msi_missing_sections(tmp_path: Path) -> None:
    path = tmp_path / "short.msi"
    path.write_text("NAME X\nGAIN 10\n", encoding="utf-8")
    with pytest.raises(AntennaFileError, match="no HORIZONTAL 360 section"):
        read_msi(path)
    with pytest.raises(AntennaFileError, match="cannot read"):
        read_msi(tmp_path / "absent.msi")
