"""The registry of telecom operators and the normalisation of their many spellings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gis_planner.i18n import fold_key

if TYPE_CHECKING:  # annotations only: the command line imports this module, and starts fast
    import pandas as pd


@dataclass(frozen=True)
class Operator:
    """A licensed operator: mobile (with its MNC under MCC 452) and/or fixed (FTTH)."""

    key: str
    name: str
    mnc: str | None
    mobile: bool
    fixed: bool
    colour: str
    aliases: tuple[str, ...] = ()


OPERATORS: tuple[Operator, ...] = (
    Operator(
        "viettel", "Viettel", "04", True, True, "#e4002b",
        ("viettel", "vtl", "vt", "viettelmobile", "viettelnetwork", "tapdoanviettel",
         "vietteltelecom", "tapdoancongnghiepvienthongquandoi", "vienthongquandoi",
         "evntelecom"),
    ),
    Operator(
        "vnpt", "VNPT-VinaPhone", "02", True, True, "#0072bc",
        ("vnpt", "vinaphone", "vina", "vinafone", "vnptvinaphone", "vnp", "gpc", "vinaphon",
         "tapdoanbuuchinhvienthongvietnam", "buuchinhvienthongvietnam", "tongcongtyvinaphone"),
    ),
    Operator(
        "mobifone", "MobiFone", "01", True, True, "#1a4d9c",
        ("mobifone", "mobi", "mobiphone", "mbf", "vms", "mobifon", "tongcongtyvienthongmobifone",
         "congtythongtindidong", "vmsmobifone"),
    ),
    Operator(
        "vietnamobile", "Vietnamobile", "05", True, False, "#f7a700",
        ("vietnamobile", "vnmobile", "vnm", "vietnammobile", "htmobile", "hutchison",
         "hanoitelecom"),
    ),
    Operator(
        "gmobile", "Gmobile", "07", True, False, "#00a651",
        ("gmobile", "gtel", "gtelmobile", "beeline", "gtelmobilejsc"),
    ),
    Operator(
        "fpt", "FPT Telecom", None, False, True, "#f37021",
        ("fpt", "fpttelecom", "vienthongfpt", "congtycophanvienthongfpt"),
    ),
    Operator("cmc", "CMC Telecom", None, False, True, "#6d2077", ("cmc", "cmctelecom", "cmcti")),
)  # fmt: skip

OPERATOR_KEYS: tuple[str, ...] = tuple(op.key for op in OPERATORS)
MOBILE_OPERATORS: tuple[str, ...] = tuple(op.key for op in OPERATORS if op.mobile)
FIXED_OPERATORS: tuple[str, ...] = tuple(op.key for op in OPERATORS if op.fixed)

_BY_KEY = {op.key: op for op in OPERATORS}
_ALIASES: dict[str, str] = {alias: op.key for op in OPERATORS for alias in (op.key, *op.aliases)}
_BY_MNC: dict[str, str] = {op.mnc: op.key for op in OPERATORS if op.mnc}
# Longer aliases first so that "vnptvinaphone" wins over "vnpt" in prefix matching.
_PREFIXES = sorted((a for a in _ALIASES if len(a) >= 4), key=len, reverse=True)


def operator(key: str) -> Operator:
    """The registry entry of an operator key (``KeyError`` if unknown)."""
    return _BY_KEY[key]


def normalise_operator_name(raw: str) -> str | None:
    """The registry key of one spelling ("VIETTEL", "Vina", "VNPT-VinaPhone"), or None.

    Matching is accent-, case- and punctuation-insensitive; a name that starts with a known
    alias ("Viettel Hà Nam") is accepted too.
    """
    folded = fold_key(raw)
    if not folded:
        return None
    if folded in _ALIASES:
        return _ALIASES[folded]
    for alias in _PREFIXES:
        if folded.startswith(alias):
            return _ALIASES[alias]
    return None


def normalise_operators(values: pd.Series) -> pd.Series:
    """Vectorised ``normalise_operator_name``: registry keys, ``<NA>`` where unknown or empty.

    Each distinct spelling is resolved once, so a column of 100,000 rows costs a handful of
    lookups.
    """
    import pandas as pd

    text = values.astype("string")
    codes, uniques = pd.factorize(text)
    keys = pd.array([normalise_operator_name(u) for u in uniques] + [None], dtype="string")
    return pd.Series(keys.take(codes), index=values.index, dtype="string")


def operator_from_mnc(mnc: int | str) -> str | None:
    """The operator key of a Vietnamese MNC (MCC 452), e.g. 4 → "viettel"."""
    return _BY_MNC.get(f"{int(mnc):02d}")
