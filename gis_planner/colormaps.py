"""Colour maps of the coverage and speeds quantities: classes with colours and Vietnamese/English
labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from matplotlib import colors as mcolors

from gis_planner.coverage import OPERATOR_CODES
from gis_planner.i18n import Lang
from gis_planner.operators import operator

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class ColourClass:
    """Values in [low, high) are drawn in ``rgba``."""

    low: float
    high: float
    rgba: RGBA
    label_vi: str
    label_en: str

    def label(self, lang: Lang = "vi") -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class ColourMap:
    """A classed colour map of one quantity (e.g. RSRP in dBm)."""

    name: str
    quantity: str
    unit: str
    title_vi: str
    title_en: str
    classes: tuple[ColourClass, ...]
    #: For categories numbered 1, 2, … (best server): colours repeat every ``cycle`` values,
    #: whose classes are those of 1 … ``cycle``; 0 for a map of the values themselves.
    cycle: int = 0

    def title(self, lang: Lang = "vi") -> str:
        return self.title_vi if lang == "vi" else self.title_en

    def class_indices(self, values: np.ma.MaskedArray) -> npt.NDArray[np.uint8]:
        """Per value, 1 + the index of its class (folded first); 0 where masked or in none."""
        folded = self.fold(values)
        data = np.ma.getdata(folded)
        valid = ~np.ma.getmaskarray(folded)
        indices = np.zeros(data.shape, dtype=np.uint8)
        for number, colour_class in enumerate(self.classes, start=1):
            indices[valid & (data >= colour_class.low) & (data < colour_class.high)] = number
        return indices

    def fold(self, values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """Values as the classes see them: a cyclic map's into 1 … ``cycle``."""
        if not self.cycle:
            return values
        return (values - 1) % self.cycle + 1

    def class_of(self, value: float) -> ColourClass | None:
        """The class holding one value; None where none does (drawn transparent)."""
        folded = float(self.fold(np.asarray(value, dtype=np.float64)))
        return next((c for c in self.classes if c.low <= folded < c.high), None)


_LOW, _HIGH = -1e9, 1e9

# Thresholds of DOMAIN.md: −110 dBm covered, −100 dBm good.
RSRP = ColourMap(
    name="rsrp",
    quantity="rsrp_dbm",
    unit="dBm",
    title_vi="Cường độ tín hiệu (RSRP)",
    title_en="Signal strength (RSRP)",
    classes=(
        ColourClass(-80, _HIGH, (0, 104, 55, 200), "Rất tốt (≥ −80 dBm)", "Excellent (≥ −80 dBm)"),
        ColourClass(-90, -80, (49, 163, 84, 200), "Tốt (−90 … −80 dBm)", "Very good (−90 … −80)"),
        ColourClass(-100, -90, (120, 198, 121, 200), "Khá (−100 … −90 dBm)", "Good (−100 … −90)"),
        ColourClass(
            -110, -100, (254, 217, 118, 200), "Đạt (−110 … −100 dBm)", "Covered (−110 … −100)"
        ),
        ColourClass(
            -120, -110, (253, 141, 60, 200), "Yếu (−120 … −110 dBm)", "Weak (−120 … −110)"
        ),
        ColourClass(
            _LOW, -120, (189, 0, 38, 200), "Không phủ (< −120 dBm)", "No coverage (< −120)"
        ),
    ),
)  # fmt: skip

SINR = ColourMap(
    name="sinr",
    quantity="sinr_db",
    unit="dB",
    title_vi="Tỷ số tín hiệu trên nhiễu (SINR)",
    title_en="Signal to interference and noise (SINR)",
    classes=(
        ColourClass(20, _HIGH, (8, 81, 156, 200), "Rất tốt (≥ 20 dB)", "Excellent (≥ 20 dB)"),
        ColourClass(13, 20, (49, 130, 189, 200), "Tốt (13 … 20 dB)", "Good (13 … 20 dB)"),
        ColourClass(0, 13, (158, 202, 225, 200), "Trung bình (0 … 13 dB)", "Fair (0 … 13 dB)"),
        ColourClass(-5, 0, (253, 141, 60, 200), "Kém (−5 … 0 dB)", "Poor (−5 … 0 dB)"),
        ColourClass(_LOW, -5, (189, 0, 38, 200), "Không dùng được (< −5 dB)", "Unusable (< −5 dB)"),
    ),
)  # fmt: skip


# The plan's download targets (DOMAIN.md): mobile 50 Mb/s, fixed 100 Mb/s; the classes split
# at both, so the map shows where a user is at the mobile target and where at the fixed one.
THROUGHPUT = ColourMap(
    name="throughput",
    quantity="throughput_mbps",
    unit="Mb/s",
    title_vi="Tốc độ tải xuống (ước tính)",
    title_en="Download speed (estimate)",
    classes=(
        ColourClass(300, _HIGH, (37, 52, 148, 200), "Rất nhanh (≥ 300 Mb/s)",
                    "Very fast (≥ 300 Mb/s)"),
        ColourClass(100, 300, (44, 127, 184, 200), "Đạt 100 Mb/s (100 … 300 Mb/s)",
                    "At 100 Mb/s (100 … 300 Mb/s)"),
        ColourClass(50, 100, (65, 182, 196, 200), "Đạt mục tiêu 50 Mb/s (50 … 100 Mb/s)",
                    "At the 50 Mb/s target (50 … 100 Mb/s)"),
        ColourClass(25, 50, (254, 217, 118, 200), "Dưới mục tiêu (25 … 50 Mb/s)",
                    "Below the target (25 … 50 Mb/s)"),
        ColourClass(10, 25, (253, 141, 60, 200), "Chậm (10 … 25 Mb/s)", "Slow (10 … 25 Mb/s)"),
        ColourClass(_LOW, 10, (189, 0, 38, 200), "Rất chậm (< 10 Mb/s)",
                    "Very slow (< 10 Mb/s)"),
    ),
)  # fmt: skip


#: Values of no class of a categorical map: transparent.
_NONE: RGBA = (0, 0, 0, 0)


def _rgba(colour: str) -> RGBA:
    r, g, b, _ = (round(255 * v) for v in mcolors.to_rgba(colour))
    return r, g, b, 200


#: Twelve well-separated colours (ColorBrewer Paired): neighbouring cells rarely share one.
_SERVER_COLOURS = ("#a6cee3", "#1f78b4", "#b2df8a", "#33a02c", "#fb9a99", "#e31a1c",
                   "#fdbf6f", "#ff7f00", "#cab2d6", "#6a3d9a", "#ffff99", "#b15928")  # fmt: skip


def _operator_classes() -> tuple[ColourClass, ...]:
    """One class per operator code of the composite rasters, contiguous over the real line."""
    codes = sorted(OPERATOR_CODES.items(), key=lambda item: item[1])
    classes = [ColourClass(_LOW, codes[0][1], _NONE, "Không nhà mạng nào", "No operator")]
    for i, (key, code) in enumerate(codes):
        high = codes[i + 1][1] if i + 1 < len(codes) else _HIGH
        name = operator(key).name
        classes.append(ColourClass(code, high, _rgba(operator(key).colour), f"{name} tốt nhất",
                                   f"{name} best"))  # fmt: skip
    return tuple(classes)


BEST_SERVER = ColourMap(
    name="best_server",
    quantity="server_index",
    unit="",
    title_vi="Cell phục vụ tốt nhất",
    title_en="Best server",
    classes=(
        ColourClass(_LOW, 1, _NONE, "Không có cell phục vụ", "No server"),
        *(
            ColourClass(
                k, k + 1 if k < len(_SERVER_COLOURS) else _HIGH, _rgba(colour),
                f"Cell số {k}, {k + 12}, {k + 24}…", f"Cell no. {k}, {k + 12}, {k + 24}…",
            )
            for k, colour in enumerate(_SERVER_COLOURS, start=1)
        ),
    ),
    cycle=len(_SERVER_COLOURS),
)  # fmt: skip

SERVER_COUNT = ColourMap(
    name="n_servers",
    quantity="server_count",
    unit="cells",
    title_vi="Số cell đạt ngưỡng",
    title_en="Cells above the threshold",
    classes=(
        ColourClass(_LOW, 1, _NONE, "Không cell nào", "None"),
        ColourClass(1, 2, (254, 229, 217, 200), "1 cell đạt", "1 cell"),
        ColourClass(2, 3, (252, 174, 145, 200), "2 cell đạt", "2 cells"),
        ColourClass(3, 5, (251, 106, 74, 200), "3 – 4 cell đạt", "3 – 4 cells"),
        ColourClass(5, _HIGH, (203, 24, 29, 200), "≥ 5 cell đạt", "≥ 5 cells"),
    ),
)  # fmt: skip

BEST_OPERATOR = ColourMap(
    name="best_operator",
    quantity="operator_code",
    unit="",
    title_vi="Nhà mạng có tín hiệu tốt nhất",
    title_en="Operator of the best signal",
    classes=_operator_classes(),
)

COLOUR_MAPS: dict[str, ColourMap] = {
    cmap.name: cmap for cmap in (RSRP, SINR, BEST_SERVER, SERVER_COUNT, BEST_OPERATOR, THROUGHPUT)
}


def colour_map_of_quantity(quantity: str) -> ColourMap | None:
    """The colour map of a band's quantity (``rsrp_dbm``, ``server_index``…), or None."""
    return next((c for c in COLOUR_MAPS.values() if c.quantity == quantity), None)


def colour_map_for(name: str) -> ColourMap | None:
    """The colour map a raster's name or quantity tag implies ("rsrp…", "sinr…"), or None."""
    folded = name.lower()
    for cmap in COLOUR_MAPS.values():
        if cmap.name in folded:
            return cmap
    return None
