"""Keys, JCS signing, scan tokens (COSE_Sign1) and JWKS.

The only package that imports ``cryptography.hazmat``. Pure: no Flask, no SQLAlchemy, no I/O.

Glossary:
    kid         RFC 7638 JWK thumbprint of an Ed25519 public key (base64url, 43 chars).
    short kid   the first 8 bytes of the thumbprint digest; the COSE ``kid`` of a scan token.
    signature   ``{"alg": "Ed25519", "kid", "value"}`` over the RFC 8785 bytes of a record.
    scan token  COSE_Sign1 (RFC 9052) of CWT-style claims, in the QR URL as base32.
    JWKS        the issuers' public keys with registry fields (RFC 7517, RFC 8037).
"""
