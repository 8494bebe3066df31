"""The registry's published key set: RFC 7517 JWKS of RFC 8037 OKP Ed25519 keys.

Each entry is the minimal public JWK (``kty``, ``crv``, ``x``) plus ``kid`` (the RFC 7638
thumbprint, so anyone can recompute it), ``use: "sig"``, ``alg: "EdDSA"`` (RFC 8037 §3.1) and the
registry's own string fields (issuer, status, valid_from, valid_until, ...). RFC 7517 §4 allows
additional members and asks consumers to ignore the ones they do not understand.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry.crypto.keys import PublicKey

__all__ = ["JWK_ALG", "jwk_for", "parse_jwks"]

#: The JOSE algorithm name for Ed25519 signatures (RFC 8037 §3.1).
JWK_ALG = "EdDSA"
_CORE_MEMBERS = frozenset({"kty", "crv", "x", "kid", "use", "alg"})


def jwk_for(key: PublicKey, **registry_fields: str) -> dict[str, str]:
    """Return the published JWK for ``key`` with the caller's registry fields.

    Args:
        key: the issuer's public key.
        registry_fields: extra string members, e.g. ``issuer``, ``status``, ``valid_from``.
    Returns:
        ``{"kty", "crv", "x", "kid", "use": "sig", "alg": "EdDSA", **registry_fields}``.
    Raises:
        ValueError: a registry field would override a JWK member or is not a string.
    """
    clashes = _CORE_MEMBERS.intersection(registry_fields) | {"d"}.intersection(registry_fields)
    if clashes:
        raise ValueError(f"registry fields may not set JWK members: {sorted(clashes)}")
    for name, value in registry_fields.items():
        if not isinstance(value, str):
            raise ValueError(f"registry field {name!r} must be a string")
    return {**key.to_jwk(), "kid": key.thumbprint, "use": "sig", "alg": JWK_ALG, **registry_fields}


def signing_key(jwk: Mapping[str, object]) -> PublicKey:
    """The Ed25519 signing key of one JWK: an RFC 8037 OKP key whose ``kid``, ``use`` and
    ``alg``, where present, say what this registry means by them.

    Raises:
        ValueError: not an Ed25519 OKP JWK, a ``kid`` that is not the key's RFC 7638
            thumbprint, ``use`` other than "sig", or ``alg`` other than "EdDSA".
    """
    key = PublicKey.from_jwk(jwk)
    if "kid" in jwk and jwk["kid"] != key.thumbprint:
        raise ValueError(f"kid must be the RFC 7638 thumbprint {key.thumbprint}")
    if jwk.get("use", "sig") != "sig":
        raise ValueError("use must be 'sig'")
    if jwk.get("alg", JWK_ALG) != JWK_ALG:
        raise ValueError("alg must be 'EdDSA'")
    return key


def parse_jwks(doc: Mapping[str, object]) -> list[tuple[PublicKey, dict[str, str]]]:
    """Parse and check a JWKS document published by a registry (ours or a mirror).

    Args:
        doc: the parsed JSON document ``{"keys": [...]}``.
    Returns:
        for each entry, the key and its registry fields (every member except the JWK members
        ``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg``), in document order.
    Raises:
        ValueError: not ``{"keys": [...]}``, an entry that is not an Ed25519 OKP JWK, a missing
            ``kid`` or one that is not the key's RFC 7638 thumbprint, ``use`` other than "sig",
            ``alg`` other than "EdDSA", a duplicate ``kid``, or a non-string registry field.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("keys"), list):
        raise ValueError('a JWKS must be an object with a "keys" array (RFC 7517 §5)')
    entries: list[object] = doc["keys"]  # type: ignore[assignment]
    result: list[tuple[PublicKey, dict[str, str]]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"JWKS key {index}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: must be a JSON object")
        try:
            key = signing_key(entry)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if entry.get("kid") != key.thumbprint:  # here the kid is required
            raise ValueError(f"{where}: kid must be the RFC 7638 thumbprint {key.thumbprint}")
        if key.thumbprint in seen:
            raise ValueError(f"{where}: duplicate kid {key.thumbprint}")
        seen.add(key.thumbprint)
        fields: dict[str, str] = {}
        for name, value in entry.items():
            if name in _CORE_MEMBERS:
                continue
            if not isinstance(name, str) or not isinstance(value, str):
                raise ValueError(f"{where}: registry field {name!r} must be a string")
            fields[name] = value
        result.append((key, fields))
    return result
