from __future__ import annotations

from typing import Any

import pytest

from registry.crypto.jcs import canonicalize, parse_json
from registry.crypto.jwks import jwk_for, parse_jwks
from registry.crypto.keys import PrivateKey

KEY_A = PrivateKey.from_seed(bytes(32)).public_key
KEY_B = PrivateKey.from_seed(bytes(range(32))).public_key
FIELDS_A = {"issuer": "CNCA-R-2002-001", "status": "active", "valid_from": "2024-01-01T00:00:00Z"}
FIELDS_B = {"issuer": "CNCA-R-2002-001", "status": "retired", "valid_until": "2025-01-01T00:00:00Z"}


def test_jwk_for() -> None:
    jwk = jwk_for(KEY_A, **FIELDS_A)
    assert jwk == {
        **KEY_A.to_jwk(),
        "kid": KEY_A.thumbprint,
        "use": "sig",
        "alg": "EdDSA",
        **FIELDS_A,
    }
    assert jwk_for(KEY_A) == {
        **KEY_A.to_jwk(),
        "kid": KEY_A.thumbprint,
        "use": "sig",
        "alg": "EdDSA",
    }


def test_round_trip_through_json() -> None:
    doc = {"keys": [jwk_for(KEY_A, **FIELDS_A), jwk_for(KEY_B, **FIELDS_B)]}
    parsed = parse_jwks(parse_json(canonicalize(doc)))  # type: ignore[arg-type]
    assert parsed == [(KEY_A, FIELDS_A), (KEY_B, FIELDS_B)]
    assert {"keys": [jwk_for(k, **f) for k, f in parsed]} == doc


@pytest.mark.parametrize("field", ["kid", "x", "alg", "use", "kty", "crv", "d"])
def test_jwk_for_refuses_overriding_members(field: str) -> None:
    with pytest.raises(ValueError, match="may not set"):
        jwk_for(KEY_A, **{field: "x"})


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = dict(jwk_for(KEY_A, **FIELDS_A))
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], '"keys" array'),
        ({}, '"keys" array'),
        ({"keys": {}}, '"keys" array'),
        ({"keys": ["x"]}, "JSON object"),
        ({"keys": [_entry(kid=None)]}, "thumbprint"),
        ({"keys": [_entry(kid=KEY_B.thumbprint)]}, "thumbprint"),
        ({"keys": [_entry(x=KEY_B.to_jwk()["x"])]}, "thumbprint"),
        ({"keys": [_entry(use="enc")]}, "use"),
        ({"keys": [_entry(alg="ES256")]}, "alg"),
        ({"keys": [_entry(crv="Ed448")]}, "crv"),
        ({"keys": [_entry(d="AAAA")]}, "private"),
        ({"keys": [_entry(status=1)]}, "must be a string"),
        ({"keys": [_entry(), _entry()]}, "duplicate kid"),
    ],
)
def test_parse_jwks_rejects(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_jwks(doc)


def test_use_and_alg_are_optional() -> None:
    assert parse_jwks({"keys": [_entry(use=None, alg=None)]}) == [(KEY_A, FIELDS_A)]
