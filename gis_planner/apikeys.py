"""API keys: ``gp_<key id>_<secret>``; only the key id and a salted scrypt hash are stored.

The id is not secret: it lets the server find the one hash a presented key may match, so a
key whose id is unknown is refused without running scrypt, and a request costs at most one
derivation whatever the number of keys configured.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from gis_planner.errors import GisPlannerError

PREFIX = "gp"
_SCHEME = "scrypt"
#: scrypt cost: 2**14 × 8 × 1 takes tens of milliseconds and 16 MiB, once per key per process.
_N, _R, _P = 2**14, 8, 1
_MIN_SECRET_CHARS = 16
#: Key ids: lower-case letters and digits, so that ``_`` separates them from the secret.
KEY_ID_PATTERN = r"[a-z0-9]{4,32}"
_KEY = re.compile(rf"{PREFIX}_(?P<key_id>{KEY_ID_PATTERN})_(?P<secret>[A-Za-z0-9_-]+)")


def new_key() -> str:
    """A fresh random key: ``gp_`` + a 12-character id + ``_`` + 43 URL-safe characters."""
    return f"{PREFIX}_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


def key_id(key: str) -> str | None:
    """The id part of ``key``; None if ``key`` is not of the form ``gp_<id>_<secret>``."""
    found = _KEY.fullmatch(key)
    if found is None or len(found["secret"]) < _MIN_SECRET_CHARS:
        return None
    return found["key_id"]


def hash_key(key: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``key``, the form settings hold beside the key's id."""
    if key_id(key) is None:
        raise GisPlannerError(
            f"an API key looks like {PREFIX}_<id>_<secret>: an id of 4–32 lower-case letters or"
            f" digits, a secret of at least {_MIN_SECRET_CHARS} URL-safe characters"
        )
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(key.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_key(key: str, hashed: str) -> bool:
    """Whether ``key`` is the key ``hashed`` was made from (constant-time comparison)."""
    parts = hashed.split("$")
    if len(parts) != 6 or parts[0] != _SCHEME:
        raise GisPlannerError("an API key hash must look like scrypt$n$r$p$salt$hash")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, expected = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError:
        raise GisPlannerError("an API key hash has a malformed number or hex field") from None
    digest = hashlib.scrypt(
        key.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=64 * 1024 * 1024
    )
    return hmac.compare_digest(digest, expected)
