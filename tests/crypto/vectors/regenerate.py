"""Regenerate the golden vectors in this folder: `python tests/crypto/vectors/regenerate.py`.

Source: computed with libraries independent of registry.crypto, so the vectors check our code
rather than echo it: PyNaCl (libsodium Ed25519, deterministic per RFC 8032) signs, the `rfc8785`
package canonicalizes, hashlib makes the RFC 7638 thumbprint. The key is RFC 8032 §7.1 TEST 1.
Needs the test extras (pynacl, rfc8785).
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
from typing import Any

import nacl.signing
import rfc8785

HERE = pathlib.Path(__file__).resolve().parent
SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

RECORDS: dict[str, dict[str, Any]] = {
    "after-sales-five-star": {
        "certificate_number": "CNCA-R-2002-001-SV-2024-000123",
        "issuer": "CNCA-R-2002-001",
        "organisation": {"name": "杭州示例电器有限公司", "uscc": "91330100MA2XXXXX0X"},
        "scheme": "GB/T 27922-2011",
        "tier": "五星级",
        "status": "valid",
        "valid_from": "2024-03-01",
        "valid_until": "2027-02-28",
        "version": 1,
        "scope": ["家用电器的安装、维修", "客户投诉处理"],
    },
    "numbers-and-escapes": {"z": 1.5, "a": [1e21, 1e-7, 0, -0.0], "\u20ac": '"quoted"\n\u000f'},
    "key-rollover-statement": {
        "type": "key-rollover",
        "issuer": "CNCA-R-2002-001",
        "new_key": {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
        },
        "valid_from": "2025-01-01T00:00:00Z",
        "issued_at": "2024-12-01T08:00:00Z",
    },
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def main() -> None:
    signing_key = nacl.signing.SigningKey(bytes.fromhex(SEED_HEX))
    public = bytes(signing_key.verify_key)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(public)}
    kid = b64url(hashlib.sha256(rfc8785.dumps(jwk)).digest())
    cases = []
    for name, record in RECORDS.items():
        canonical = rfc8785.dumps(record)
        signature = signing_key.sign(canonical).signature
        cases.append(
            {
                "name": name,
                "record": record,
                "canonical_hex": canonical.hex(),
                "record_hash_hex": hashlib.sha256(canonical).hexdigest(),
                "signature": {"alg": "Ed25519", "kid": kid, "value": b64url(signature)},
            }
        )
    document = {
        "source": "tests/crypto/vectors/regenerate.py (PyNaCl + rfc8785, RFC 8032 TEST 1 key)",
        "seed_hex": SEED_HEX,
        "public_jwk": jwk,
        "kid": kid,
        "cases": cases,
    }
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    (HERE / "record-signatures.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
