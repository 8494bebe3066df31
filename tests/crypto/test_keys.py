from __future__ import annotations

import pytest

from registry.crypto.encoding import b64url_decode
from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey, PublicKey
from tests.crypto.conftest import RFC8032_TEST1_SEED

# RFC 8037 Appendix A.2 (public key), A.3 (thumbprint), A.4 (signature of the JWS signing input).
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_SIGNING_INPUT = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
RFC8037_SIGNATURE = (
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def test_rfc8037_appendix_a() -> None:
    private = PrivateKey.from_seed(RFC8032_TEST1_SEED)
    public = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    assert private.public_key == public
    assert public.thumbprint == RFC8037_THUMBPRINT
    assert public.thumbprint_bytes == b64url_decode(RFC8037_THUMBPRINT)
    assert public.short_kid == public.thumbprint_bytes[:8]
    assert private.sign(RFC8037_SIGNING_INPUT) == b64url_decode(RFC8037_SIGNATURE)
    public.verify(b64url_decode(RFC8037_SIGNATURE), RFC8037_SIGNING_INPUT)


def test_jwk_round_trip(issuer_key: PrivateKey) -> None:
    public = issuer_key.public_key
    assert public.to_jwk() == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    assert PublicKey.from_jwk(public.to_jwk()) == public
    assert PublicKey.from_raw(public.raw) == public


def test_public_pem_round_trip(issuer_key: PrivateKey) -> None:
    public = issuer_key.public_key
    assert public.to_pem().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert PublicKey.from_pem(public.to_pem()) == public


@pytest.mark.parametrize("passphrase", [None, b"correct horse"])
def test_private_pem_round_trip(issuer_key: PrivateKey, passphrase: bytes | None) -> None:
    pem = issuer_key.to_pem(passphrase)
    marker = b"ENCRYPTED PRIVATE KEY" if passphrase else b"BEGIN PRIVATE KEY"
    assert marker in pem
    loaded = PrivateKey.from_pem(pem, passphrase)
    assert loaded.public_key == issuer_key.public_key
    assert loaded.sign(b"m") == issuer_key.sign(b"m")


@pytest.mark.parametrize(
    ("encrypt_with", "load_with", "message"),
    [
        (b"secret", None, "passphrase is required"),
        (b"secret", b"wrong", "wrong passphrase"),
        (None, b"secret", "not encrypted"),
    ],
)
def test_private_pem_passphrase_errors(
    issuer_key: PrivateKey, encrypt_with: bytes | None, load_with: bytes | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        PrivateKey.from_pem(issuer_key.to_pem(encrypt_with), load_with)


# An EC P-256 key (generated once with `openssl genpkey -algorithm EC -pkeyopt
# ec_paramgen_curve:P-256`), to prove non-Ed25519 PEM is refused with a clear message.
P256_PRIVATE_PEM = b"""-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/1zppFuZcdooet6K
/eh08lMxjizF2NACUK1eUdfeZWKhRANCAAT+OWhdvJvHn+xCO87R0zMki67lxWg7
OZEXlz0q3AVlXGSoAASAVC3VQkQlNmTHy9ZrV+tneZWfI2LkEXu5GqPZ
-----END PRIVATE KEY-----
"""
P256_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/jloXbybx5/sQjvO0dMzJIuu5cVo
OzmRF5c9KtwFZVxkqAAEgFQt1UJEJTZkx8vWa1frZ3mVnyNi5BF7uRqj2Q==
-----END PUBLIC KEY-----
"""


@pytest.mark.parametrize(
    ("data", "message"),
    [(P256_PRIVATE_PEM, "not Ed25519"), (b"not a pem", "cannot load private key")],
)
def test_private_pem_rejects(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrivateKey.from_pem(data)


@pytest.mark.parametrize(
    ("data", "message"), [(P256_PUBLIC_PEM, "not Ed25519"), (b"garbage", "not a PEM")]
)
def test_public_pem_rejects(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PublicKey.from_pem(data)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "EC", "crv": "Ed25519", "x": RFC8037_X}, "kty"),
        ({"crv": "Ed25519", "x": RFC8037_X}, "kty"),
        ({"kty": "OKP", "crv": "Ed448", "x": RFC8037_X}, "crv"),
        ({"kty": "OKP", "crv": "X25519", "x": RFC8037_X}, "crv"),
        ({"kty": "OKP", "crv": "Ed25519"}, "x must be"),
        ({"kty": "OKP", "crv": "Ed25519", "x": 5}, "x must be"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "="}, "base64url"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X[:-3]}, "32 bytes"),
        (
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": RFC8037_X,
                "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
            },
            "private",
        ),
        ("not a mapping", "JSON object"),
    ],
)
def test_from_jwk_rejects(jwk: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PublicKey.from_jwk(jwk)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [b"", b"\x00" * 31, b"\x00" * 33])
def test_from_raw_rejects_wrong_length(raw: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        PublicKey.from_raw(raw)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (b"\x00" * 64, b"m"),
        (b"\x00" * 63, b"m"),
        (b"", b"m"),
    ],
)
def test_verify_raises_bad_signature(
    issuer_key: PrivateKey, signature: bytes, message: bytes
) -> None:
    with pytest.raises(VerificationError) as info:
        issuer_key.public_key.verify(signature, message)
    assert info.value.code == "BadSignature"


def test_verify_wrong_key(issuer_key: PrivateKey, other_key: PrivateKey) -> None:
    with pytest.raises(VerificationError, match="does not verify"):
        other_key.public_key.verify(issuer_key.sign(b"m"), b"m")


def test_private_key_repr_hides_secret(issuer_key: PrivateKey) -> None:
    assert RFC8032_TEST1_SEED.hex() not in repr(issuer_key)
    assert RFC8037_THUMBPRINT in repr(issuer_key)


def test_public_key_is_a_hashable_value(issuer_key: PrivateKey) -> None:
    again = PrivateKey.from_seed(RFC8032_TEST1_SEED).public_key
    assert {issuer_key.public_key, again} == {again}


def test_generate_makes_distinct_keys() -> None:
    assert PrivateKey.generate().public_key != PrivateKey.generate().public_key


def test_error_str_is_reason() -> None:
    error = VerificationError("the reason", "SomeCode")
    assert (str(error), error.reason, error.code) == ("the reason", "the reason", "SomeCode")
    assert VerificationError("x").code == "VerificationError"
