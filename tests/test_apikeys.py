"""API keys: gp_<id>_<secret>, salted scrypt hashes verified in constant time."""

from __future__ import annotations

import pytest

from gis_planner.apikeys import hash_key, key_id, new_key, verify_key
from gis_planner.errors import GisPlannerError


def test_hash_and_verify() -> None:
    key = new_key()
    hashed = hash_key(key)
    assert key not in hashed and hashed.startswith("scrypt$16384$8$1$")
    assert verify_key(key, hashed)
    assert not verify_key(key + "x", hashed)
    assert hash_key(key) != hashed  # a new salt each time


def test_key_ids() -> None:
    key = new_key()
    assert key.startswith("gp_") and key_id(key) == key.split("_")[1]
    assert new_key() != key and key_id(new_key()) != key_id(key)
    # The secret may hold underscores: only the first two separate the parts.
    assert key_id("gp_abcd_secret_with_underscores") == "abcd"
    for malformed in ("abcd-no-prefix-0123456789", "gp_ABCD_0123456789abcdef", "gp_abcd_short",
                      "gp_ab_0123456789abcdef", "gp_abcd_0123456789abcde$", ""):  # fmt: skip
        assert key_id(malformed) is None, malformed


def test_bad_keys_and_hashes() -> None:
    with pytest.raises(GisPlannerError, match="at least 16"):
        hash_key("gp_abcd_short")
    with pytest.raises(GisPlannerError, match="gp_<id>_<secret>"):
        hash_key("an-old-style-key-without-id")
    with pytest.raises(GisPlannerError, match="must look like"):
        verify_key("whatever-key-long", "sha1$abc")
    with pytest.raises(GisPlannerError, match="malformed"):
        verify_key("whatever-key-long", "scrypt$x$8$1$00$00")
