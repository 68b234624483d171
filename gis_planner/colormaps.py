"""Colour maps of the coverage quantities: classes with colours and Vietnamese/English labels."""

from __future__ import annotations

from dataclasses import dataclass

from gis_planner.i18n import Lang

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

    def title(self, lang: Lang = "vi") -> str:
        return self.title_vi if lang == "vi" else self.title_en

    def intervals(self) -> list[tuple[tuple[float, float], RGBA]]:
        """The classes as rio-tiler's interval colour map."""
        return [((c.low, c.high), c.rgba) for c in self.classes]


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

COLOUR_MAPS: dict[str, ColourMap] = {cmap.name: cmap for cmap in (RSRP, SINR)}


def colour_map_for(name: str) -> ColourMap | None:
    """The colour map a raster's name or quantity tag implies ("rsrp…", "sinr…"), or None."""
    folded = name.lower()
    for cmap in COLOUR_MAPS.values():
        if cmap.name in folded:
            return cmap
    return None
