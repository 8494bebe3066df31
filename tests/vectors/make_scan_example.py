"""Write scan-token-example.json: the worked example of docs/formats.md, section 4.

Deterministic: an Ed25519 key from a fixed seed (RFC 8032 signatures are deterministic) and
fixed claims, so running it again must give the same bytes; tests/test_qr_cli.py checks that,
and verifies the token with our code and with `registry verify`. Run from the checkout:

    .venv/bin/python tests/vectors/make_scan_example.py
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import cbor2

from registry.crypto.jwks import jwk_for
from registry.crypto.keys import PrivateKey
from registry.crypto.scantoken import ScanClaims, scan_url, sig_structure, sign_token

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "scan-token-example.json"
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC_URL = "https://registry.example.cn"


def example() -> dict[str, object]:
    """The example as a JSON-ready dict (every byte string in lowercase hex)."""
    key = PrivateKey.from_seed(SEED)
    claims = ScanClaims(
        issuer="CNCA-R-2002-001",
        certificate_number="CQC-ASS-2024-000123",
        scheme="ASS",
        tier="5S",
        expiry=dt.date(2027, 2, 28),
        issued_at=1_767_225_600,  # 2026-01-01T00:00:00Z
        record_hash=bytes.fromhex("0123456789abcdef"),
    )
    token = sign_token(claims, key)
    return {
        "source": "tests/vectors/make_scan_example.py (Ed25519 seed: RFC 8032 test 1)",
        "seed": SEED.hex(),
        "public_jwk": jwk_for(key.public_key),
        "kid": key.public_key.thumbprint,
        "short_kid": token.short_kid.hex(),
        "claims": {
            "1 (iss)": claims.issuer,
            "6 (iat)": claims.issued_at,
            "-1 (certificate number)": claims.certificate_number,
            "-2 (scheme code)": claims.scheme,
            "-3 (tier code)": claims.tier,
            "-4 (record hash, first 8 bytes)": claims.record_hash.hex(),
            "-5 (expiry YYYYMMDD)": 20270228,
        },
        "protected": token.protected.hex(),
        "payload": token.payload.hex(),
        "sig_structure": sig_structure(token.protected, token.payload).hex(),
        "signature": token.signature.hex(),
        "token": token.encoded.hex(),
        "token_diagnostic": _diagnostic(token.encoded),
        "token_base32": token.to_text(),
        "url": scan_url(PUBLIC_URL, token),
    }


def _diagnostic(data: bytes) -> str:
    """A short RFC 8949 §8 diagnostic rendering of the COSE_Sign1."""
    tag = cbor2.loads(data)
    protected, unprotected, payload, signature = tag.value
    return (
        f"18([h'{protected.hex()}', {{4: h'{unprotected[4].hex()}'}}, "
        f"h'{payload.hex()}', h'{signature.hex()}'])"
    )


def main() -> None:
    OUTPUT.write_text(json.dumps(example(), ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
