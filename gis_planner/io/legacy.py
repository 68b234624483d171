"""Vietnamese text typed in the legacy font encodings, TCVN3 (ABC, ".VnTime") and VNI
("VNI-Times"), converted to Unicode.

Both encodings put Vietnamese letters on the upper half of a Western code page, so a file typed
in them reads as Western text: "Cét tù ®øng" (TCVN3) or "Coät töï ñöùng" (VNI) for "Cột tự
đứng". TCVN3 gives each lower-case letter one code (capitals with tones have none: the ".VnTimeH"
fonts draw the same codes as capitals); VNI writes a letter as its base letter followed by a
mark code. Which one a file uses is told by which reading gives Vietnamese syllables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Names ``--encoding`` accepts for each legacy encoding.
LEGACY_NAMES = {
    "tcvn3": "tcvn3", "tcvn": "tcvn3", "abc": "tcvn3", "vntime": "tcvn3",
    "vni": "vni", "vni-windows": "vni", "vnitimes": "vni",
}  # fmt: skip

# TCVN3 (TCVN 5712:1993 VN3): per vowel, the codes of the letter with no tone (where it has
# its own code) and then with huyền, hỏi, ngã, sắc, nặng.
_TCVN3_GROUPS = {
    "aàảãáạ": "aµ¶·¸¹",
    "ăằẳẵắặ": "¨»¼½¾Æ",
    "âầẩẫấậ": "©ÇÈÉÊË",
    "eèẻẽéẹ": "eÌÎÏÐÑ",
    "êềểễếệ": "ªÒÓÔÕÖ",
    "iìỉĩíị": "i×ØÜÝÞ",
    "oòỏõóọ": "oßáâãä",
    "ôồổỗốộ": "«åæçèé",
    "ơờởỡớợ": "¬êëìíî",
    "uùủũúụ": "uïñòóô",
    "ưừửữứự": "\xadõö÷øù",
    "yỳỷỹýỵ": "yúûüýþ",
    "đĂÂÊÔƠƯĐ": "®¡¢£¤¥¦§",
}
TCVN3_TO_UNICODE: dict[int, str] = {
    ord(code): letter
    for letters, codes in _TCVN3_GROUPS.items()
    for letter, code in zip(letters, codes, strict=True)
    if letter != code
}

# VNI: the mark codes after a base letter (lower-case forms; capitals are their upper case).
_TONES = {"\u0300": "ø", "\u0301": "ù", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_CIRCUMFLEX = {"": "â", "\u0300": "à", "\u0301": "á", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_BREVE = {"": "ê", "\u0300": "è", "\u0301": "é", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
# Letters with a code of their own: i with a tone, ỵ, ơ and ư (before any tone mark), đ.
_VNI_SINGLE = {"ì": "ì", "í": "í", "ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î", "ơ": "ô", "ư": "ö",
               "đ": "ñ"}  # fmt: skip


def _vni_code(letter: str) -> str | None:
    """The VNI spelling of a lower-case Vietnamese letter (None for a plain ASCII letter)."""
    if letter in _VNI_SINGLE:
        return _VNI_SINGLE[letter]
    parts = unicodedata.normalize("NFD", letter)
    base, marks = parts[0], parts[1:]
    tone = next((m for m in marks if m in _TONES), "")
    shape = marks.replace(tone, "")
    if shape == "\u031b":  # horn: ơ, ư then the tone
        return _VNI_SINGLE[unicodedata.normalize("NFC", base + shape)] + _TONES[tone]
    if shape == "\u0302":
        return base + _CIRCUMFLEX[tone]
    if shape == "\u0306":
        return base + _BREVE[tone]
    return base + _TONES[tone] if tone else None


# The vowel shapes Vietnamese has: a ă â, e ê, o ô ơ, u ư, i, y.
_SHAPES = {"a": ("", "\u0306", "\u0302"), "e": ("", "\u0302"), "o": ("", "\u0302", "\u031b"),
           "u": ("", "\u031b"), "i": ("",), "y": ("",)}  # fmt: skip


def _vni_table() -> dict[str, str]:
    letters = [
        unicodedata.normalize("NFC", base + shape + tone)
        for base, shapes in _SHAPES.items()
        for shape in shapes
        for tone in ("", *_TONES)
    ]
    table = {}
    for letter in [*letters, "đ"]:
        code = _vni_code(letter)
        if code is not None:
            table[code] = letter
            table[code.upper()] = letter.upper()
    return table


VNI_TO_UNICODE = _vni_table()
# Longest codes first: "ôù" (ớ) before "ô" (ơ).
_VNI_CODE = re.compile(
    "|".join(re.escape(code) for code in sorted(VNI_TO_UNICODE, key=len, reverse=True))
)

_TONE_MARKS = set(_TONES)
# The vowel groups of Vietnamese syllables (tones left out), longest first.
_NUCLEI = sorted(
    ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu",
     "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "ua", "uâ", "uê",
     "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê", "iêu", "oai", "oao", "oay", "oeo",
     "uây", "uôi", "uya", "uyê", "uyu", "ươi", "ươu", "yêu"),
    key=len,
    reverse=True,
)  # fmt: skip
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    rf"(?:{'|'.join(_NUCLEI)})(?:ch|ng|nh|[cmnpt])?"
)


# Words of text in any of the readings: legacy codes (®, ©, the soft hyphen…) are letters there.
_WORD = re.compile(r"[^\s\d!-/:-@\[-`{-~]+")


def to_unicode(text: str, encoding: str) -> str:
    """``text`` (read as Western text) in the legacy ``encoding`` ("tcvn3" or "vni"), in
    Unicode."""
    if encoding == "tcvn3":
        return text.translate(TCVN3_TO_UNICODE)
    return _VNI_CODE.sub(lambda match: VNI_TO_UNICODE[match.group()], text)


def is_syllable(word: str) -> bool:
    """Whether ``word`` is shaped as a Vietnamese syllable: at most one tone, an initial, a
    vowel nucleus and a final that Vietnamese allows."""
    parts = unicodedata.normalize("NFD", word.lower())
    if sum(c in _TONE_MARKS for c in parts) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
    return _SYLLABLE.fullmatch(bare) is not None


def vietnamese_words(texts: Iterable[str]) -> int:
    """How many words with a letter beyond ASCII are Vietnamese syllables."""
    return sum(
        is_syllable(word) for text in texts for word in _WORD.findall(text) if not word.isascii()
    )


def _western(text: str) -> bool:
    """Whether ``text`` has letters beyond ASCII but none beyond Latin-1: how text typed in a
    legacy font reads."""
    return not text.isascii() and max(text) < "\u0100"


def detect(texts: Iterable[str]) -> str | None:
    """The legacy encoding ("tcvn3" or "vni") in which ``texts`` (Western-looking texts) read
    as more Vietnamese words than as they are; None when none does."""
    sample = [t for t in texts if _western(t)]
    if not sample:
        return None
    as_they_are = vietnamese_words(sample)
    scores = {e: vietnamese_words(to_unicode(t, e) for t in sample) for e in ("tcvn3", "vni")}
    best = max(scores, key=lambda e: scores[e])
    return best if scores[best] > as_they_are else None


def legacy_name(encoding: str | None) -> str | None:
    """The legacy encoding ``encoding`` names ("tcvn3", "vni"), or None for any other."""
    if encoding is None:
        return None
    return LEGACY_NAMES.get(encoding.strip().lower().replace("_", "-"))


def legacy_mapping(texts: Iterable[str], encoding: str | None) -> tuple[dict[str, str], str | None]:
    """Each Western-looking text of ``texts`` → its Unicode reading, in ``encoding`` when given
    (tcvn3, vni), else in the legacy encoding the texts are detected in; and that encoding
    (None, with no texts to convert, when the texts are not legacy)."""
    texts = [t for t in dict.fromkeys(texts) if isinstance(t, str)]
    if encoding is None:
        encoding = detect(texts)
    if encoding is None:
        return {}, None
    convert = [t for t in texts if _western(t)]
    return {t: to_unicode(t, encoding) for t in convert}, encoding
