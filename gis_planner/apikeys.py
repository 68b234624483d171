"""API keys: only their salted scrypt hashes are ever stored (in settings)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gis_planner.errors import GisPlannerError

_SCHEME = "scrypt"
#: scrypt cost: 2**14 × 8 × 1 takes tens of milliseconds and 16 MiB, once per key per process.
_N, _R, _P = 2**14, 8, 1
_MIN_KEY_CHARS = 16


def new_key() -> str:
    """A fresh random API key (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_key(key: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``key``, the form settings hold."""
    if len(key) < _MIN_KEY_CHARS:
        raise GisPlannerError(f"an API key needs at least {_MIN_KEY_CHARS} characters")
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
