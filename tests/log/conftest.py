"""Fixtures for the log tests: where the shared conformance vectors live."""

from __future__ import annotations

import os
import pathlib

import pytest

# ../shared/vectors beside the repository root (see /work/shared/vectors/README.md).
VECTORS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


def require_vectors() -> pathlib.Path:
    """The vectors folder; fail under CI=true when it is missing, else skip the test."""
    if not VECTORS.is_dir():
        reason = f"conformance vectors not found at {VECTORS}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return VECTORS


@pytest.fixture
def vectors() -> pathlib.Path:
    """The shared conformance vectors folder."""
    return require_vectors()


def vector_names(pattern: str) -> list[str]:
    """Vector files matching ``pattern``, relative to :data:`VECTORS`, for parametrize ids.

    When the folder is missing this returns one placeholder, so that the test runs,
    asks for the :func:`vectors` fixture and is failed or skipped there.
    """
    names = sorted(str(path.relative_to(VECTORS)) for path in VECTORS.glob(pattern))
    return names or ["<vectors missing>"]
