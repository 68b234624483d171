"""Values of enumerated fields as files write them, resolved to the catalogue's keys.

A spelling is compared word by word, without case. A word written without any accent matches
the accented word ("Cot tu dung" is "Cột tự đứng"); a word written with accents must carry the
same ones: "Cột tụ đứng" is not "Cột tự đứng" ("tụ" and "tự" are two words), and like any text
close to a known spelling it is not guessed but reported with the nearest spelling as a
suggestion. Each distinct text of a column is resolved once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from gis_planner.catalogue import FieldSpec
from gis_planner.catalogue.values import NAMED_NUMBERS, Value, values_of
from gis_planner.errors import GisPlannerError
from gis_planner.i18n import fold, nfc
from gis_planner.operators import OPERATORS

_WORD = re.compile(r"[^\W_]+")
#: How alike (difflib's ratio, on the texts without accents) a text must be to a spelling for
#: that spelling to be suggested.
SUGGEST_RATIO = 0.8

Words = tuple[str, ...]


def words(text: str) -> Words:
    """The words of ``text``, lower case, accents kept: "Cột tự-đứng" → ("cột", "tự", "đứng")."""
    return tuple(_WORD.findall(nfc(text).casefold()))


def _bare(items: Words) -> Words:
    return tuple(fold(w) for w in items)


def _same_word(written: str, known: str) -> bool:
    """A word as written is the known word: the same, or the same without any accent."""
    return written == known or written == fold(written) == fold(known)


@dataclass(frozen=True)
class Resolved:
    """A column's values resolved: catalogue keys where known, the text elsewhere."""

    values: pd.Series
    #: Per row, a near known spelling of a text that is not one (``<NA>`` elsewhere).
    suggestion: pd.Series
    keys: frozenset[str]

    @property
    def unknown(self) -> pd.Series:
        """Texts that are no spelling of the field (a near miss or not)."""
        return self.values.notna() & ~self.values.isin(self.keys)


class Vocabulary:
    """The spellings of one field's values."""

    def __init__(self, entries: Iterable[tuple[str, str]], field: str) -> None:
        """``entries`` are (spelling, key) pairs; a spelling naming two keys is an error."""
        self.field = field
        self.entries = list(entries)
        self.exact: dict[Words, str] = {}
        self.by_bare: dict[Words, list[tuple[Words, str, str]]] = {}
        self.shown: dict[str, str] = {}
        for spelling, key in self.entries:
            written = words(spelling)
            if not written:
                continue
            known = self.exact.setdefault(written, key)
            if known != key:
                raise GisPlannerError(
                    f"{field}: {spelling!r} would mean both {known!r} and {key!r}"
                )
            bare = _bare(written)
            self.by_bare.setdefault(bare, []).append((written, key, spelling))
            self.shown.setdefault(" ".join(bare), spelling)
        self.keys = frozenset(self.exact.values())

    def resolve_one(self, text: str) -> tuple[str | None, str | None]:
        """The key ``text`` spells, or None and the nearest spelling (None if none is near)."""
        written = words(text)
        if not written:
            return None, None
        if written in self.exact:
            return self.exact[written], None
        bare = _bare(written)
        same_letters = self.by_bare.get(bare, [])
        keys = {
            key
            for known, key, _ in same_letters
            if all(_same_word(w, k) for w, k in zip(written, known, strict=True))
        }
        if len(keys) == 1:
            return keys.pop(), None
        if same_letters:
            # Other accents than a known spelling's, or no accents where two keys differ by them.
            return None, " / ".join(dict.fromkeys(s for _, _, s in same_letters))
        near = difflib.get_close_matches(" ".join(bare), self.shown, n=1, cutoff=SUGGEST_RATIO)
        return None, (self.shown[near[0]] if near else None)

    def resolve(self, text: pd.Series) -> Resolved:
        """``resolve_one`` over a column of texts (``<NA>`` for empty cells), once for each
        distinct text."""
        codes, uniques = pd.factorize(text)
        found = [self.resolve_one(str(u)) for u in uniques]
        keys = [k if k is not None else u for u, (k, _) in zip(uniques, found, strict=True)]
        hints = [s if k is None else None for k, s in found]
        return Resolved(
            by_code(keys, codes, text.index), by_code(hints, codes, text.index), self.keys
        )


def by_code(values: Sequence[object], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The value of each row's code (missing for the code -1 of a missing value): text
    (``str``, taken in Arrow) when every value is a text, else objects."""
    if all(v is None or isinstance(v, str) for v in values):
        table = pa.array([*values, None], type=pa.large_string())
        taken = table.take(np.where(codes < 0, len(values), codes))
        return pd.Series(pd.array(taken, dtype="str"), index=index)
    table = np.empty(len(values) + 1, dtype=object)
    table[: len(values)] = values
    return pd.Series(table[codes], index=index, dtype=object)


def _entries(values: Iterable[Value]) -> list[tuple[str, str]]:
    return [(spelling, v.key) for v in values for spelling in v.every_spelling]


@lru_cache(maxsize=64)
def _catalogue_vocabulary(spec: FieldSpec) -> Vocabulary:
    if spec.name in NAMED_NUMBERS:
        return Vocabulary(_entries(NAMED_NUMBERS[spec.name]), spec.name)
    assert spec.allowed is not None
    return Vocabulary(_entries(values_of(spec.allowed)), spec.name)


def field_vocabulary(spec: FieldSpec, extra: Mapping[str, str] | None = None) -> Vocabulary:
    """The spellings of an enumerated field (or a field with named numbers), with ``extra``
    spellings (text → key, from a mapping file) first."""
    base = _catalogue_vocabulary(spec)
    if not extra:
        return base
    given = {words(text) for text in extra}
    rest = [(s, k) for s, k in base.entries if words(s) not in given]
    return Vocabulary([*extra.items(), *rest], spec.name)


def has_vocabulary(spec: FieldSpec) -> bool:
    return spec.allowed is not None or spec.name in NAMED_NUMBERS


@lru_cache(maxsize=1)
def _operator_names() -> dict[str, str]:
    """Operator spellings without accents → the registry's name, for suggestions."""
    return {
        " ".join(_bare(words(spelling))): op.name
        for op in OPERATORS
        for spelling in (op.name, op.key, *op.aliases)
    }


def suggest_operator(text: str) -> str | None:
    """The registry name nearest to an operator name the registry does not know."""
    shown = _operator_names()
    near = difflib.get_close_matches(" ".join(_bare(words(text))), shown, n=1, cutoff=0.75)
    return shown[near[0]] if near else None
