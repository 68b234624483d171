"""Vietnamese-first labels and accent-insensitive text matching."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from functools import cache
from pathlib import Path
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


#: The Vietnamese of the command line's English texts (help, table headers, messages), keyed by
#: the English text.
CLI_TEXTS = Path(__file__).parent / "data" / "cli_vi.json"


def env_lang(environ: dict[str, str] | None = None) -> Lang | None:
    """The language the environment asks for: ``GIS_PLANNER_LANG`` (vi or en), else a
    Vietnamese locale (``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` = ``vi_VN…``); None otherwise."""
    env = os.environ if environ is None else environ
    chosen = env.get("GIS_PLANNER_LANG", "").strip().lower()
    if chosen in ("vi", "en"):
        return "vi" if chosen == "vi" else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "vi" if value.lower().startswith("vi") else None
    return None


@cache
def cli_texts() -> dict[str, str]:
    """English → Vietnamese texts of the command line."""
    texts: dict[str, str] = json.loads(CLI_TEXTS.read_text(encoding="utf-8"))
    return texts


def translate(text: str, lang: Lang) -> str:
    """``text`` (English) in ``lang``: its Vietnamese where the catalogue has it."""
    if lang == "en":
        return text
    return cli_texts().get(text, text)


def __getattr__(name: str) -> dict[str, tuple[str, str]]:
    """``VALUE_LABELS``, kept importable from here for the viewer and the maps."""
    if name == "VALUE_LABELS":
        from gis_planner.catalogue.values import VALUE_LABELS

        return VALUE_LABELS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
