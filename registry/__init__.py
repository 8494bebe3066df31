"""Certificate Registry: a public, verifiable registry of service certificates.

Glossary (the words used in code, API and docs):

issuer
    A certification body (认证机构), e.g. ``CNCA-R-2002-001``, with one or more Ed25519 keys.
record
    One signed version of one certificate, as pushed by its issuer.
envelope
    ``{"record": {...}, "signature": {...}, "qr": "<token>"}`` as pushed.
certificate
    The current state of a certificate number, derived from its records.
status
    ``valid`` 有效, ``suspended`` 暂停, ``withdrawn`` 撤销, ``cancelled`` 注销, and
    ``expired`` 过期,
    which is derived from the dates and never trusted from input.
scheme
    The certification programme and its standard, e.g. after-sales service GB/T 27922-2011.
tier
    The grade within a scheme (达标级, 三星级, 四星级, 五星级; star tiers for satisfaction schemes).
scan token
    The COSE_Sign1 carried in the QR URL ``https://<host>/v/<TOKEN>``.
log
    The append-only Merkle log (RFC 9162) of accepted envelopes and key events.
checkpoint
    The registry-signed tree head (C2SP tlog-checkpoint, a signed note).
receipt
    A registry-signed statement of what a lookup or bulk check answered, and when.

Layers: ``domain``, ``crypto`` and ``log`` are pure (no Flask, no SQLAlchemy, no I/O);
``store`` holds the SQLAlchemy models and queries; ``services`` do a request's work in one
transaction; ``web`` translates HTTP to services and back; ``cli`` is the ``registry`` command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Flask:
    """Create the registry's Flask app (see :func:`registry.app.create_app`).

    Importing it lazily keeps ``import registry.domain`` free of Flask and SQLAlchemy.
    """
    from registry.app import create_app as factory

    return factory(overrides, environ)
