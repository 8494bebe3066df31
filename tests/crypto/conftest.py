"""Fixtures for the crypto tests: where the shared conformance vectors live, and fixed keys."""

from __future__ import annotations

import os
import pathlib

import pytest

from registry.crypto.keys import PrivateKey

#: ../shared/vectors beside the repository root (see /work/shared/vectors/README.md).
SHARED_VECTORS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
#: Golden vectors owned by this project, made by ``tests/crypto/vectors/regenerate.py``.
LOCAL_VECTORS = pathlib.Path(__file__).resolve().parent / "vectors"

#: RFC 8032 §7.1 TEST 1 secret key; its public key is RFC 8037 Appendix A.2's.
RFC8032_TEST1_SEED = bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
)


def shared_vectors_dir() -> pathlib.Path:
    """Return the shared vectors folder; fail in CI, skip locally, when it is missing."""
    if SHARED_VECTORS.is_dir():
        return SHARED_VECTORS
    message = f"shared test vectors not found at {SHARED_VECTORS}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def shared_vectors() -> pathlib.Path:
    return shared_vectors_dir()


@pytest.fixture
def issuer_key() -> PrivateKey:
    return PrivateKey.from_seed(RFC8032_TEST1_SEED)


@pytest.fixture
def other_key() -> PrivateKey:
    return PrivateKey.from_seed(bytes(range(32)))
