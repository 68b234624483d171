"""API key hashing: salted scrypt, verified in constant time."""

from __future__ import annotations

import pytest

from gis_planner.apikeys import hash_key, new_key, verify_key
from gis_planner.errors import GisPlannerError


def test_hash_and_verify() -> None:
    key = new_key()
    hashed = hash_key(key)
    assert key not in hashed and hashed.startswith("scrypt$16384$8$1$")
    assert verify_key(key, hashed)
    assert not verify_key(key + "x", hashed)
    assert hash_key(key) != hashed  # a new salt each time


def test_bad_keys_and_hashes() -> None:
    with pytest.raises(GisPlannerError, match="at least 16"):
        hash_key("short")
    with pytest.raises(GisPlannerError, match="must look like"):
        verify_key("whatever-key-long", "sha1$abc")
    with pytest.raises(GisPlannerError, match="malformed"):
        verify_key("whatever-key-long", "scrypt$x$8$1$00$00")
