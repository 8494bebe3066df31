"""/.well-known/jwks.json: every issuer key, parseable by a strict JWKS reader, cacheable."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient

from registry.app import Registry
from registry.client import Signer
from registry.crypto.jwks import parse_jwks
from registry.crypto.keys import PrivateKey
from registry.services.issuers import mark_compromised, register_issuer, rollover
from tests.conftest import ISSUER_ID, Clock


def test_lists_every_key_with_the_registrys_fields(
    client: FlaskClient, signer: Signer, state: Registry, clock: Clock, issuer_key: PrivateKey
) -> None:
    new_key = PrivateKey.from_seed(b"issuer-one-seed-for-tests-000002")
    other = PrivateKey.from_seed(b"second-issuer-key-00000000000000")
    with state.sessions() as session:
        rollover(
            session,
            **signer.rollover(ISSUER_ID, new_key.public_key, clock.now, clock.now),
            now=clock.now,
        )
        register_issuer(
            session, "CNCA-R-2003-002", "另一认证机构", None, other.public_key, clock.now
        )
        mark_compromised(session, other.public_key.thumbprint, clock.now, clock.now)
        session.commit()
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    parsed = {key.thumbprint: fields for key, fields in parse_jwks(response.get_json())}
    assert parsed[issuer_key.public_key.thumbprint] == {
        "issuer": ISSUER_ID,
        "status": "retired",
        "valid_from": "2026-02-28T08:00:00Z",
        "valid_until": "2026-03-01T08:00:00Z",
    }
    assert parsed[new_key.public_key.thumbprint]["status"] == "active"
    assert parsed[other.public_key.thumbprint] == {
        "issuer": "CNCA-R-2003-002",
        "status": "compromised",
        "valid_from": "2026-03-01T08:00:00Z",
        "compromised_from": "2026-03-01T08:00:00Z",
    }
    for entry in response.get_json()["keys"]:
        assert (entry["use"], entry["alg"], entry["kty"], entry["crv"]) == (
            "sig",
            "EdDSA",
            "OKP",
            "Ed25519",
        )
        assert "d" not in entry


def test_open_to_every_origin_and_cacheable(client: FlaskClient, signer: Signer) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    again = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    weak = client.get("/.well-known/jwks.json", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304  # If-None-Match compares weakly (RFC 9110, 13.1.2)


def test_etag_changes_when_a_key_does(
    client: FlaskClient, signer: Signer, state: Registry, clock: Clock, issuer_key: PrivateKey
) -> None:
    etag = client.get("/.well-known/jwks.json").headers["ETag"]
    with state.sessions() as session:
        mark_compromised(
            session, issuer_key.public_key.thumbprint, clock.now - dt.timedelta(hours=1), clock.now
        )
        session.commit()
    response = client.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_empty_registry_has_an_empty_key_set(client: FlaskClient) -> None:
    assert client.get("/.well-known/jwks.json").get_json() == {"keys": []}
