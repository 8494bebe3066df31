"""The log over HTTP: checkpoint, key, tiles, proofs, entries and bundles, on both databases."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from registry.app import Registry
from registry.client import Signer
from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey
from registry.log import merkle
from registry.log.checkpoint import Checkpoint, open_checkpoint
from registry.log.note import NoteSigner, NoteVerifier
from registry.log.tiles import parse_entry_bundle, parse_tile
from registry.monitor import verify_bundle
from registry.services import transparency
from tests.conftest import ISSUER_ID, Clock

MakeEnvelope = Callable[..., dict[str, Any]]
ORIGIN = "registry.example.cn/log"


def verifier(client: FlaskClient) -> NoteVerifier:
    return NoteVerifier.from_verifier_key(client.get("/log/key").text.strip())


def checkpoint(client: FlaskClient) -> Checkpoint:
    return open_checkpoint(client.get("/log/checkpoint").text, verifier(client), ORIGIN)


def push_many(client: FlaskClient, make_envelope: MakeEnvelope, count: int) -> None:
    batch = [make_envelope(certificate_number=f"CQC-ASS-2024-{n:06d}") for n in range(count)]
    for start in range(0, count, 1000):
        response = client.post("/api/v1/records", json=batch[start : start + 1000])
        assert response.status_code == 200, response.text


def all_entries(state: Registry) -> list[bytes]:
    with state.sessions() as session:
        size = transparency.size(session)
        return [row.data for row in transparency.entries(session, 0, size)]


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def test_key_and_checkpoint_verify_with_the_published_key(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    key = client.get("/log/key")
    assert key.mimetype == "text/plain"
    assert key.text == state.log_signer.verifier_key + "\n"
    assert key.text.startswith(ORIGIN + "+")
    response = client.get("/log/checkpoint")
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-cache"
    head = open_checkpoint(response.text, verifier(client), ORIGIN)
    assert head.size == 2  # the issuer's key registration and the record
    assert head.root_hash == merkle.MemoryTree.from_entries(all_entries(state)).root_hash()


@pytest.mark.parametrize(
    ("pushed_ago", "covered"),
    [
        (0.0, False),  # pushed just now, after a checkpoint of the same instant
        (0.5, False),  # younger than the interval: the old checkpoint may still stand
        (1.0, True),  # exactly the interval: must be covered
        (30.0, True),
    ],
)
def test_checkpoint_covers_entries_older_than_the_interval(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    pushed_ago: float,
    covered: bool,
) -> None:
    client.post("/api/v1/records", json=make_envelope())  # signs checkpoint of size 2
    assert checkpoint(client).size == 2
    client.post("/api/v1/records", json=make_envelope(certificate_number="CQC-ASS-2024-000999"))
    clock.advance(seconds=pushed_ago)
    size = checkpoint(client).size
    assert size == (3 if covered else 2)


def test_a_log_without_checkpoints_gets_one_on_first_read(client: FlaskClient) -> None:
    head = checkpoint(client)
    assert (head.size, head.root_hash) == (0, merkle.EMPTY_ROOT)


def test_inclusion_proof_by_index_verifies(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    push_many(client, make_envelope, 20)
    entries = all_entries(state)
    for index in (0, 7, 20):
        body = client.get(f"/api/v1/log/proof/inclusion?index={index}").get_json()
        head = open_checkpoint(body["checkpoint"], verifier(client), ORIGIN)
        assert (body["index"], body["tree_size"]) == (index, head.size) == (index, 21)
        assert b64decode(body["leaf_hash"]) == merkle.leaf_hash(entries[index])
        merkle.verify_inclusion(
            merkle.leaf_hash(entries[index]),
            index,
            head.size,
            [b64decode(h) for h in body["proof"]],
            head.root_hash,
        )


def test_inclusion_proof_against_an_older_checkpoint(
    client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    old = checkpoint(client)
    clock.advance(seconds=5)
    push_many(client, make_envelope, 5)
    assert checkpoint(client).size == 7
    body = client.get(f"/api/v1/log/proof/inclusion?index=1&tree_size={old.size}").get_json()
    assert body["tree_size"] == old.size
    assert Checkpoint.from_text(body["checkpoint"].split("\n\n")[0] + "\n") == old


def test_inclusion_proof_by_certificate_covers_a_just_pushed_version(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    client.post(
        "/api/v1/records",
        json=make_envelope(
            version=2,
            status="suspended",
            status_reason="监督审核未通过",
            status_effective_date="2026-02-01",
        ),
    )  # within the interval: no checkpoint covers it yet
    body = client.get("/api/v1/log/proof/inclusion?certificate=CQC-ASS-2024-000123").get_json()
    assert (body["index"], body["tree_size"]) == (2, 3)
    first = client.get(
        f"/api/v1/log/proof/inclusion?certificate=CQC-ASS-2024-000123&issuer={ISSUER_ID}&version=1"
    ).get_json()
    assert first["index"] == 1


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("index=5", 400, "OutOfRange"),
        ("index=0&tree_size=9", 400, "OutOfRange"),
        ("index=0&tree_size=1", 404, "CheckpointNotFound"),
        ("index=-1", 400, "InvalidParameter"),
        ("index=x", 400, "InvalidParameter"),
        ("", 400, "InvalidParameter"),
        ("certificate=NOPE-1", 404, "CertificateNotFound"),
        ("certificate=CQC-ASS-2024-000123&version=3", 404, "VersionNotFound"),
    ],
)
def test_inclusion_proof_errors(
    client: FlaskClient, make_envelope: MakeEnvelope, query: str, status: int, code: str
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    response = client.get(f"/api/v1/log/proof/inclusion?{query}")
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_consistency_proof_between_checkpoints_verifies(
    client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    old = checkpoint(client)
    clock.advance(seconds=2)
    push_many(client, make_envelope, 9)
    new = checkpoint(client)
    body = client.get(f"/api/v1/log/proof/consistency?size1={old.size}").get_json()
    assert (body["size1"], body["size2"]) == (old.size, new.size)
    merkle.verify_consistency(
        old.size, new.size, [b64decode(h) for h in body["proof"]], old.root_hash, new.root_hash
    )


@pytest.mark.parametrize(
    "query", ["size1=0&size2=2", "size1=3&size2=2", "size1=1&size2=3", "size2=2"]
)
def test_consistency_proof_rejects_bad_sizes(
    client: FlaskClient, make_envelope: MakeEnvelope, query: str
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    response = client.get(f"/api/v1/log/proof/consistency?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("OutOfRange", "InvalidParameter")


def test_entries_by_range(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    push_many(client, make_envelope, 4)
    body = client.get("/api/v1/log/entries?start=1&end=4").get_json()
    assert body["tree_size"] == 5
    assert [e["index"] for e in body["entries"]] == [1, 2, 3]
    assert [e["kind"] for e in body["entries"]] == ["record"] * 3
    assert [b64decode(e["data"]) for e in body["entries"]] == all_entries(state)[1:4]
    assert body["entries"][0]["appended_at"] == "2026-03-01T08:00:00Z"
    assert client.get("/api/v1/log/entries?start=0").get_json()["entries"][0]["kind"] == "key"


@pytest.mark.parametrize("query", ["start=5", "start=2&end=2", "start=0&end=6", "start=0&end=1001"])
def test_entries_out_of_range(client: FlaskClient, make_envelope: MakeEnvelope, query: str) -> None:
    push_many(client, make_envelope, 4)
    response = client.get(f"/api/v1/log/entries?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "OutOfRange"


def test_tiles_and_entry_bundles(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    push_many(client, make_envelope, 299)  # 300 entries: one full tile, a partial of 44
    entries = all_entries(state)
    tree = merkle.MemoryTree.from_entries(entries)
    assert checkpoint(client).size == 300

    full = client.get("/log/tile/0/000")
    assert full.status_code == 200
    assert full.mimetype == "application/octet-stream"
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full.headers["Access-Control-Allow-Origin"] == "*"
    assert parse_tile(full.data) == [tree.hashes[(0, i)] for i in range(256)]

    partial = client.get("/log/tile/0/001.p/44")
    assert partial.headers["Cache-Control"] == "public, max-age=60"
    assert parse_tile(partial.data, 44) == [tree.hashes[(0, 256 + i)] for i in range(44)]
    level1 = client.get("/log/tile/1/000.p/1")
    assert parse_tile(level1.data, 1) == [tree.hashes[(8, 0)]]

    bundle = client.get("/log/tile/entries/000")
    assert parse_entry_bundle(bundle.data, 256) == entries[:256]
    older_partial = client.get("/log/tile/entries/001.p/10")  # of an older tree: still valid
    assert parse_entry_bundle(older_partial.data, 10) == entries[256:266]


@pytest.mark.parametrize(
    "path",
    [
        "0/001",  # full tile not complete yet
        "0/001.p/45",  # wider than the tree
        "entries/002",
        "1/000",
        "0/1",  # not canonical
        "0/001.p/256",
        "x/000",
    ],
)
def test_unavailable_tiles_are_404(
    client: FlaskClient, make_envelope: MakeEnvelope, path: str
) -> None:
    push_many(client, make_envelope, 299)
    response = client.get(f"/log/tile/{path}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "TileNotFound"


def test_certificate_lookup_with_proof(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    push_many(client, make_envelope, 3)
    plain = client.get("/api/v1/certificates/CQC-ASS-2024-000002").get_json()
    assert "log" not in plain
    body = client.get("/api/v1/certificates/CQC-ASS-2024-000002?proof=1").get_json()
    log = body["log"]
    assert set(log) == {"index", "tree_size", "leaf_hash", "proof", "checkpoint"}
    assert log["index"] == body["log_index"] == 3
    head = open_checkpoint(log["checkpoint"], verifier(client), ORIGIN)
    merkle.verify_inclusion(
        merkle.leaf_hash(all_entries(state)[3]),
        3,
        head.size,
        [b64decode(h) for h in log["proof"]],
        head.root_hash,
    )


def test_proof_bundle_verifies_offline(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    client.post(
        "/api/v1/records",
        json=make_envelope(
            version=2,
            status="withdrawn",
            status_reason="证书持有者申请撤销",
            status_effective_date="2026-02-01",
        ),
    )
    response = client.get("/c/CQC-ASS-2024-000123/proof.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    bundle = response.get_json()
    verified = verify_bundle(bundle, state.log_signer.verifier_key)
    assert [v.version for v in verified.versions] == [1, 2]
    assert verified.checkpoint.size == 3


def tamper_entry(bundle: dict[str, Any]) -> None:
    entry = b64decode(bundle["versions"][0]["entry"]).replace("五星级".encode(), "四星级".encode())
    bundle["versions"][0]["entry"] = base64.b64encode(entry).decode()


def tamper_proof(bundle: dict[str, Any]) -> None:
    bundle["versions"][0]["proof"] = bundle["versions"][0]["proof"][:-1]


def tamper_checkpoint(bundle: dict[str, Any]) -> None:
    bundle["log"]["checkpoint"] = bundle["log"]["checkpoint"].replace("\n2\n", "\n3\n")


def tamper_keys(bundle: dict[str, Any]) -> None:
    other = PrivateKey.from_seed(b"someone-else-entirely-0000000000").public_key
    bundle["issuer_keys"] = [{**bundle["issuer_keys"][0], "x": other.to_jwk()["x"]}]


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (tamper_entry, "InclusionProofInvalid"),
        (tamper_proof, "InclusionProofInvalid"),
        (tamper_checkpoint, "BadNoteSignature"),
        (tamper_keys, "BadBundle"),
    ],
)
def test_tampered_bundles_fail(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    state: Registry,
    tamper: Callable[[dict[str, Any]], None],
    code: str,
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    bundle = client.get("/c/CQC-ASS-2024-000123/proof.json").get_json()
    verify_bundle(bundle, state.log_signer.verifier_key)
    tamper(bundle)
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle, state.log_signer.verifier_key)
    assert caught.value.code == code


def test_bundle_with_another_log_key_fails(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    client.post("/api/v1/records", json=make_envelope())
    bundle = client.get("/c/CQC-ASS-2024-000123/proof.json").get_json()
    impostor = NoteSigner(ORIGIN, PrivateKey.from_seed(b"not-the-log-key-0000000000000000"))
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle, impostor.verifier_key)
    assert caught.value.code == "UnknownNoteKey"


def test_proof_bundle_of_unknown_certificate_is_404(client: FlaskClient, signer: Signer) -> None:
    response = client.get("/c/NOPE-1/proof.json", headers={"Accept": "application/json"})
    assert response.status_code == 404
