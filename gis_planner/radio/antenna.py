"""Base-station antennas: the 3GPP sector pattern, omni antennas and MSI/Planet pattern files.

A pattern is held as two attenuation tables (dB, ≥ 0) sampled every 0.1°: horizontal over the
angle φ off boresight in [0°, 360°), vertical over the angle below the tilted boresight in
[−90°, 90°] (positive downwards). The attenuation towards a direction is
min(A_H(φ) + A_V(θ), A_max), as in 3GPP TR 36.814 Table A.2.1.1-2 / TR 38.901 Table 7.3-1,
where A_max is the front-to-back ratio.

Tilt: the electrical tilt tilts the beam in every direction; a mechanical tilt tilts the
antenna, so its effect on the vertical angle follows the horizontal direction:
tilt(φ) = electrical + mechanical·cos φ (full downtilt at boresight, uptilt behind).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gis_planner.catalogue.layers import is_pattern_name
from gis_planner.errors import GisPlannerError

FloatArray = npt.NDArray[np.float64]

#: Sampling step of the pattern tables.
STEP_DEG = 0.1
_H_ANGLES = np.arange(0.0, 360.0, STEP_DEG)
_V_ANGLES = np.linspace(-90.0, 90.0, round(180.0 / STEP_DEG) + 1)
#: dBi = dBd + 2.15 (gain of a half-wave dipole over an isotropic radiator).
DIPOLE_GAIN_DBI = 2.15


class AntennaFileError(GisPlannerError, ValueError):
    """An antenna pattern file that cannot be read; names the file, line and problem."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def sector_attenuation_db(
    phi_deg: npt.ArrayLike,
    theta_deg: npt.ArrayLike,
    h_beamwidth_deg: float = 65.0,
    v_beamwidth_deg: float = 10.0,
    front_to_back_db: float = 30.0,
    side_lobe_db: float = 30.0,
) -> FloatArray:
    """3GPP sector attenuation (dB, ≥ 0) at φ off boresight and θ below the tilted boresight.

    A_H = min(12(φ/φ_3dB)², A_m), A_V = min(12(θ/θ_3dB)², SLA_V), A = min(A_H + A_V, A_m).
    A horizontal beamwidth of 360° is an omni antenna (A_H = 0).
    """
    phi = (np.asarray(phi_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0
    theta = np.asarray(theta_deg, dtype=np.float64)
    if h_beamwidth_deg >= 360.0:
        a_h = np.zeros_like(phi)
    else:
        a_h = np.minimum(12.0 * (phi / h_beamwidth_deg) ** 2, front_to_back_db)
    a_v = np.minimum(12.0 * (theta / v_beamwidth_deg) ** 2, side_lobe_db)
    return np.asarray(np.minimum(a_h + a_v, front_to_back_db), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class AntennaPattern:
    """An antenna's gain and attenuation tables (see the module docstring)."""

    name: str
    gain_dbi: float
    #: Attenuation at φ = 0, 0.1, … 359.9° off boresight.
    horizontal_db: FloatArray
    #: Attenuation at θ = −90, −89.9, … 90° below the tilted boresight.
    vertical_db: FloatArray
    #: Cap of the total attenuation (front-to-back ratio).
    max_attenuation_db: float
    #: Electrical tilt built into ``vertical_db`` (MSI files); the parametric patterns have 0.
    built_in_tilt_deg: float = 0.0

    def attenuation_db(self, phi_deg: npt.ArrayLike, theta_deg: npt.ArrayLike) -> FloatArray:
        """Attenuation at φ off boresight and θ below the (tilted) boresight, interpolated."""
        phi = np.asarray(phi_deg, dtype=np.float64) % 360.0
        a_h = np.interp(phi, _H_ANGLES, self.horizontal_db, period=360.0)
        theta = np.clip(np.asarray(theta_deg, dtype=np.float64), -90.0, 90.0)
        a_v = np.interp(theta, _V_ANGLES, self.vertical_db)
        return np.asarray(np.minimum(a_h + a_v, self.max_attenuation_db), dtype=np.float64)

    def gain_towards_dbi(
        self,
        bearing_deg: npt.ArrayLike,
        depression_deg: npt.ArrayLike,
        azimuth_deg: float = 0.0,
        mech_tilt_deg: float = 0.0,
        elec_tilt_deg: float = 0.0,
    ) -> FloatArray:
        """Gain towards a bearing (clockwise from north) and an angle below the horizon.

        ``elec_tilt_deg`` is added to the pattern's built-in tilt; leave it 0 for MSI patterns
        whose vertical table already carries the electrical tilt.
        """
        phi = (np.asarray(bearing_deg, dtype=np.float64) - azimuth_deg) % 360.0
        tilt = elec_tilt_deg + mech_tilt_deg * np.cos(np.radians(phi))
        theta = np.asarray(depression_deg, dtype=np.float64) - tilt
        return self.gain_dbi - self.attenuation_db(phi, theta)


def sector_pattern(
    gain_dbi: float,
    h_beamwidth_deg: float = 65.0,
    v_beamwidth_deg: float = 10.0,
    front_to_back_db: float = 30.0,
    side_lobe_db: float = 30.0,
) -> AntennaPattern:
    """The 3GPP parametric sector pattern (omni when ``h_beamwidth_deg`` is 360)."""
    if not 0.0 < h_beamwidth_deg <= 360.0 or not 0.0 < v_beamwidth_deg <= 180.0:
        raise GisPlannerError(
            f"beamwidths must be in (0, 360] and (0, 180] degrees, got "
            f"{h_beamwidth_deg}° / {v_beamwidth_deg}°"
        )
    horizontal = sector_attenuation_db(
        _H_ANGLES, 0.0, h_beamwidth_deg, v_beamwidth_deg, front_to_back_db, side_lobe_db
    )
    vertical = np.minimum(12.0 * (_V_ANGLES / v_beamwidth_deg) ** 2, side_lobe_db)
    kind = "omni" if h_beamwidth_deg >= 360.0 else "sector"
    return AntennaPattern(
        f"3gpp-{kind}-{h_beamwidth_deg:g}/{v_beamwidth_deg:g}",
        gain_dbi,
        horizontal,
        vertical,
        front_to_back_db,
    )


def omni_pattern(
    gain_dbi: float, v_beamwidth_deg: float = 10.0, side_lobe_db: float = 30.0
) -> AntennaPattern:
    """An omni antenna: no horizontal attenuation, the 3GPP vertical pattern."""
    return sector_pattern(gain_dbi, 360.0, v_beamwidth_deg, side_lobe_db, side_lobe_db)


@dataclass(frozen=True, eq=False)
class MsiFile:
    """The content of an MSI/Planet antenna file; attenuations in dB at 0…359°."""

    name: str
    frequency_mhz: float | None
    gain_dbi: float
    electrical_tilt_deg: float
    horizontal_db: FloatArray
    #: MSI vertical angles run downwards from the front horizon: 90° is the nadir.
    vertical_db: FloatArray

    def pattern(self, max_attenuation_db: float = 40.0) -> AntennaPattern:
        """The pattern, resampled every 0.1°; the vertical cut is the front half (−90…90°)."""
        degrees = np.arange(361.0)
        horizontal = np.interp(
            _H_ANGLES, degrees, np.append(self.horizontal_db, self.horizontal_db[0])
        )
        vertical_full = np.append(self.vertical_db, self.vertical_db[0])
        # θ below the horizon maps to MSI angle θ mod 360 (−10° → 350°); no tilt to remove: the
        # table is used as the file gives it and the cell's electrical tilt is not added again.
        vertical = np.interp(_V_ANGLES % 360.0, degrees, vertical_full)
        return AntennaPattern(
            self.name, self.gain_dbi, horizontal, vertical, max_attenuation_db,
            built_in_tilt_deg=self.electrical_tilt_deg,
        )  # fmt: skip


def _parse_float(text: str, path: Path, line: int, what: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise AntennaFileError(path, line, f"{what}: {text!r} is not a number") from None
    if not np.isfinite(value):
        raise AntennaFileError(path, line, f"{what}: {text!r} is not finite")
    return value


def _read_cut(
    lines: list[tuple[int, str]], start: int, path: Path, keyword: str
) -> tuple[FloatArray, int]:
    """The 360 ``angle loss`` lines after a HORIZONTAL/VERTICAL header at ``lines[start]``."""
    number, header = lines[start]
    parts = header.split()
    count = int(_parse_float(parts[1], path, number, f"{keyword} count")) if len(parts) > 1 else 0
    if count != 360:
        raise AntennaFileError(path, number, f"{keyword} must announce 360 values, got {count}")
    rows = lines[start + 1 : start + 1 + count]
    if len(rows) < count:
        raise AntennaFileError(path, number, f"{keyword}: {len(rows)} of 360 values present")
    values = np.full(360, np.nan)
    for row_number, row in rows:
        fields = row.split()
        if len(fields) < 2:
            raise AntennaFileError(path, row_number, f"{keyword}: expected 'angle loss'")
        angle = _parse_float(fields[0], path, row_number, f"{keyword} angle")
        loss = _parse_float(fields[1], path, row_number, f"{keyword} loss")
        if not 0 <= angle < 360 or angle != int(angle):
            raise AntennaFileError(path, row_number, f"{keyword}: angle {angle} not in 0…359")
        if loss < 0:
            raise AntennaFileError(path, row_number, f"{keyword}: negative loss {loss}")
        values[int(angle)] = loss
    if np.isnan(values).any():
        missing = int(np.flatnonzero(np.isnan(values))[0])
        raise AntennaFileError(path, number, f"{keyword}: no value for {missing}°")
    return values, start + 1 + count


def read_msi(path: str | Path) -> MsiFile:
    """Read an MSI/Planet antenna file (NAME, FREQUENCY, GAIN, TILT, HORIZONTAL, VERTICAL).

    GAIN without a unit is taken in dBd, the MSI convention; "dBi" is honoured. TILT takes
    the electrical tilt in degrees ("TILT ELECTRICAL 6" or "TILT 6"). Other keywords are ignored.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise AntennaFileError(path, None, f"cannot read: {exc.strerror}") from None
    lines = [(i + 1, s.strip()) for i, s in enumerate(text.splitlines()) if s.strip()]
    name = path.stem
    frequency: float | None = None
    gain: float | None = None
    tilt = 0.0
    cuts: dict[str, FloatArray] = {}
    i = 0
    while i < len(lines):
        number, line = lines[i]
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword in ("HORIZONTAL", "VERTICAL"):
            cuts[keyword], i = _read_cut(lines, i, path, keyword)
            continue
        if keyword == "NAME":
            name = rest or name
        elif keyword == "FREQUENCY":
            frequency = _parse_float(rest.split()[0] if rest else "", path, number, "FREQUENCY")
        elif keyword == "GAIN":
            fields = rest.split()
            if not fields:
                raise AntennaFileError(path, number, "GAIN has no value")
            value = fields[0]
            unit = fields[1] if len(fields) > 1 else "dBd"
            if value.lower().endswith(("dbi", "dbd")):
                value, unit = value[:-3], value[-3:]
            gain = _parse_float(value, path, number, "GAIN")
            if unit.lower() == "dbd":
                gain += DIPOLE_GAIN_DBI
            elif unit.lower() != "dbi":
                raise AntennaFileError(path, number, f"GAIN unit {unit!r} is not dBd or dBi")
        elif keyword == "TILT":
            numbers = [f for f in rest.split() if f.upper() not in ("ELECTRICAL", "MECHANICAL")]
            if numbers:
                tilt = _parse_float(numbers[0], path, number, "TILT")
        i += 1
    if gain is None:
        raise AntennaFileError(path, None, "no GAIN line")
    for keyword in ("HORIZONTAL", "VERTICAL"):
        if keyword not in cuts:
            raise AntennaFileError(path, None, f"no {keyword} 360 section")
    return MsiFile(name, frequency, gain, tilt, cuts["HORIZONTAL"], cuts["VERTICAL"])


def load_patterns(
    directory: Path | None, names: Iterable[str]
) -> tuple[dict[str, AntennaPattern], dict[str, str]]:
    """The patterns of the files ``names`` in ``directory``, and why each other name has none.

    A name is a file name resolved inside the folder: a path, a name that is not a pattern
    name, a link leading out of the folder, a missing or unreadable file are each a reason,
    never an error, so that one operator's reference cannot stop a run for everyone.
    """
    patterns: dict[str, AntennaPattern] = {}
    problems: dict[str, str] = {}
    root = directory.resolve() if directory is not None else None
    for name in sorted(set(names)):
        if root is None:
            problems[name] = "no patterns folder was given"
        elif not is_pattern_name(name):
            problems[name] = "not a pattern file name"
        elif (path := (root / name).resolve()).parent != root:
            problems[name] = "resolves outside the patterns folder"
        elif not path.is_file():
            problems[name] = "no such file in the patterns folder"
        else:
            try:
                patterns[name] = read_msi(path).pattern()
            except AntennaFileError as exc:
                problems[name] = str(exc)
    return patterns, problems
