"""Vietnamese-first labels and accent-insensitive text matching."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Lang = Literal["vi", "en"]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case ``text`` and strip Vietnamese diacritics, for searching and matching.

    ``đ``/``Đ`` is not a combining mark in Unicode, so it is mapped by hand.

    >>> fold("Phường Lê Hồng Phong")
    'phuong le hong phong'
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def fold_key(text: str) -> str:
    """``fold`` with every non-alphanumeric character removed ("Vina-Phone" → "vinaphone")."""
    return _NON_ALNUM.sub("", fold(text))


def nfc(text: str) -> str:
    """Normalise to NFC so that the same word typed two ways compares equal."""
    return unicodedata.normalize("NFC", text)


def value_label(value: str, lang: Lang = "vi") -> str:
    """The label of a catalogue value in ``lang``; the value itself when it has none."""
    # The labels are the catalogue's (``catalogue.values``), which imports this module.
    from gis_planner.catalogue.values import VALUE_LABELS

    labels = VALUE_LABELS.get(value)
    if labels is None:
        return value
    return labels[0] if lang == "vi" else labels[1]


def __getattr__(name: str) -> dict[str, tuple[str, str]]:
    """``VALUE_LABELS``, kept importable from here for the viewer and the maps."""
    if name == "VALUE_LABELS":
        from gis_planner.catalogue.values import VALUE_LABELS

        return VALUE_LABELS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
