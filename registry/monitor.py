"""The log monitor and the offline bundle verifier: the registry's claims, checked from outside.

A monitor keeps a small state (the last checkpoint it verified, the O(log n) frontier hashes of
that tree, the issuer keys the log has announced, and the latest version of every certificate)
and on each run:

1. fetches ``/log/checkpoint`` and verifies its signature with the pinned log key;
2. checks the new tree against the old one: it must not shrink, must not differ at the same
   size, and must pass the log's RFC 9162 consistency proof;
3. fetches the new entries from the C2SP entry bundles (``/log/tile/entries/…``), hashes them onto
   the saved frontier and requires the recomputed root to equal the checkpoint's;
4. replays the entries: key registrations add trusted keys, rollovers must be signed by a current
   key of that issuer, compromises are noted, and every envelope's record signature and scan token
   must verify under a key the log announced for that issuer;
5. reports new, changed and revoked certificates.

Any breach raises :class:`Alarm` (and the state is not advanced, so the next run alarms again).
:class:`MonitorUnavailable` means the check could not be completed (network, 503), not that the
log misbehaved. HTTP is the standard library's; hashing and signatures come from the pure layers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.crypto.envelope import verify_json, verify_record
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize, parse_json
from registry.crypto.keys import PublicKey
from registry.crypto.scantoken import ScanToken
from registry.domain.calendar import parse_rfc3339, rfc3339
from registry.log import BUNDLE_TYPE, merkle
from registry.log.checkpoint import Checkpoint, open_checkpoint
from registry.log.note import NoteVerifier
from registry.log.tiles import TILE_WIDTH, TileRef, parse_entry_bundle

#: Statuses that end a certificate for good (withdrawn 撤销, cancelled 注销).
REVOKED = frozenset({"withdrawn", "cancelled"})

STATE_VERSION = 1


class Alarm(Exception):
    """The log broke a promise: a bad signature, a rewritten history, a root its entries do not
    produce, or an entry the registry must never have accepted.

    Attributes:
        code: a stable name, e.g. ``InconsistentTree``.
        message: what was seen, in a sentence.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class MonitorUnavailable(Exception):
    """The check could not be completed (network error, the registry busy); nothing is proven."""


# --- state -------------------------------------------------------------------------------------


@dataclass
class KnownKey:
    """An issuer key the log has announced."""

    issuer: str
    public_key: PublicKey
    status: str = "active"  # active, retired, compromised
    compromised_from: str | None = None
    #: The compromise was logged at or after ``compromised_from``: every record the log holds
    #: after that entry was pushed after the compromise, which the registry must refuse.
    compromise_in_force: bool = False


@dataclass
class KnownCertificate:
    """The latest version of a certificate the monitor has seen."""

    version: int
    status: str
    log_index: int


@dataclass
class MonitorState:
    """What a monitor remembers between runs (a JSON file).

    Attributes:
        log_key: the pinned C2SP verifier key of the log.
        size: the size of the last verified checkpoint (0 before the first run).
        root: its root hash.
        checkpoint: its signed note.
        frontier: the stored hashes ``merkle.root_nodes(size)``, enough to extend the tree.
        keys: issuer keys by kid.
        certificates: by ``"<issuer> <number>"``.
    """

    log_key: str
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoint: str = ""
    frontier: dict[merkle.NodeId, bytes] = field(default_factory=dict)
    keys: dict[str, KnownKey] = field(default_factory=dict)
    certificates: dict[str, KnownCertificate] = field(default_factory=dict)

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_verifier_key(self.log_key)

    def to_json(self) -> dict[str, Any]:
        """The state file's JSON; the inverse of :meth:`from_json`."""
        return {
            "version": STATE_VERSION,
            "log_key": self.log_key,
            "size": self.size,
            "root": _b64(self.root),
            "checkpoint": self.checkpoint,
            "frontier": [
                [level, idx, _b64(h)] for (level, idx), h in sorted(self.frontier.items())
            ],
            "keys": {
                kid: {
                    "issuer": k.issuer,
                    "x": k.public_key.to_jwk()["x"],
                    "status": k.status,
                    "compromised_from": k.compromised_from,
                    "compromise_in_force": k.compromise_in_force,
                }
                for kid, k in self.keys.items()
            },
            "certificates": {
                name: [c.version, c.status, c.log_index] for name, c in self.certificates.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MonitorState:
        """Load a state file.

        Raises:
            ValueError: the file is not a monitor state of this version, or one that cannot
                be (a damaged file must not be taken for a log that broke its promises).
        """
        if not isinstance(data, Mapping):
            raise ValueError("malformed monitor state: not a JSON object")
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"not a monitor state file of version {STATE_VERSION}")
        try:
            state = cls._from_fields(data)
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as exc:
            raise ValueError(f"malformed monitor state: {exc}") from exc
        size = state.size
        if type(size) is not int or size < 0:
            raise ValueError(f"malformed monitor state: size {size!r}")
        if (
            (size > 0 and len(state.root) != 32)
            or set(state.frontier) != set(merkle.root_nodes(size))
            or any(len(h) != 32 for h in state.frontier.values())
        ):
            raise ValueError("malformed monitor state: its root or hashes do not fit its size")
        try:
            NoteVerifier.from_verifier_key(state.log_key)
        except ValueError as exc:
            raise ValueError(f"malformed monitor state: log_key: {exc}") from exc
        return state

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any]) -> MonitorState:
        """The state the fields of ``data`` describe, converted but not yet checked."""
        keys = {
            kid: KnownKey(
                k["issuer"],
                PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": k["x"]}),
                k["status"],
                k["compromised_from"],
                # State files written before this field: warn, as those monitors did.
                bool(k.get("compromise_in_force", False)),
            )
            for kid, k in data["keys"].items()
        }
        return cls(
            log_key=data["log_key"],
            size=data["size"],
            root=base64.b64decode(data["root"], validate=True),
            checkpoint=data["checkpoint"],
            frontier={
                (int(level), int(idx)): base64.b64decode(h, validate=True)
                for level, idx, h in data["frontier"]
            },
            keys=keys,
            certificates={
                name: KnownCertificate(int(v), str(s), int(i))
                for name, (v, s, i) in data["certificates"].items()
            },
        )


# --- the log, over HTTP ------------------------------------------------------------------------


class HttpLog:
    """Reads a registry's log resources with urllib.

    Args:
        base_url: the registry's origin, e.g. ``https://registry.example.cn``.
        timeout: seconds per request.
    """

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def get(self, path: str, *, covered: bool = False) -> bytes:
        """GET ``path``.

        Args:
            covered: the resource is covered by a verified checkpoint, so a refusal (any 4xx or
                5xx but 429/503) is the log withholding it: an :class:`Alarm`.

        Raises:
            Alarm: ``EntriesWithheld`` (see ``covered``).
            MonitorUnavailable: a network error or another HTTP error.
        """
        url = self.base_url + path
        request = urllib.request.Request(url, headers={"User-Agent": "registry-monitor/1"})  # noqa: S310 - the URL is the user's registry
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            if covered and exc.code not in (429, 503):
                raise Alarm(
                    "EntriesWithheld",
                    f"{url} is covered by a signed checkpoint but answered HTTP {exc.code}: "
                    f"{detail}",
                ) from exc
            raise MonitorUnavailable(f"{url}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise MonitorUnavailable(f"{url}: {exc}") from exc

    def checkpoint(self) -> str:
        return self.get("/log/checkpoint").decode()

    def verifier_key(self) -> str:
        return self.get("/log/key").decode().strip()

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        data = self.get(f"/api/v1/log/proof/consistency?size1={size1}&size2={size2}", covered=True)
        try:
            return [base64.b64decode(h, validate=True) for h in json.loads(data)["proof"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise Alarm("InconsistentTree", f"malformed consistency proof: {exc}") from exc

    def entries(self, start: int, end: int) -> Iterator[bytes]:
        """Entries ``start <= i < end`` from the entry bundles of the tree of ``end`` entries."""
        for tile_index in range(start // TILE_WIDTH, -(-end // TILE_WIDTH)):
            first = tile_index * TILE_WIDTH
            width = min(TILE_WIDTH, end - first)
            ref = TileRef(0, tile_index, width, is_entries=True)
            data = self.get("/log/" + ref.to_path(), covered=True)
            try:
                bundle = parse_entry_bundle(data, width)
            except ValueError as exc:
                raise Alarm("EntriesWithheld", f"{ref.to_path()}: {exc}") from exc
            yield from bundle[max(0, start - first) :]


# --- the check ---------------------------------------------------------------------------------


@dataclass
class Report:
    """What one run saw."""

    old_size: int
    new_size: int
    root: bytes
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    key_events: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "root": _b64(self.root),
            "new": self.new,
            "changed": self.changed,
            "revoked": self.revoked,
            "key_events": self.key_events,
            "warnings": self.warnings,
        }


def check(log: HttpLog, state: MonitorState) -> tuple[MonitorState, Report]:
    """Run one monitoring round against ``log`` from ``state``.

    Returns:
        The new state (to save) and the report. ``state`` itself is not modified.

    Raises:
        Alarm: the log misbehaved (see the module docstring).
        MonitorUnavailable: the round could not be completed.
    """
    verifier = state.verifier
    note = log.checkpoint()
    try:
        checkpoint = open_checkpoint(note, verifier, verifier.name)
    except VerificationError as exc:
        raise Alarm(
            "BadCheckpointSignature", f"the checkpoint does not verify: {exc.reason}"
        ) from exc
    _check_growth(log, state, checkpoint)

    hashes = dict(state.frontier)
    leaves = []
    new_entries = []
    for entry in log.entries(state.size, checkpoint.size):
        leaves.append(merkle.leaf_hash(entry))
        new_entries.append(entry)
    for level, idx, digest in merkle.append_hashes(state.size, leaves, hashes):
        hashes[(level, idx)] = digest
    root = merkle.root_hash(checkpoint.size, hashes)
    if root != checkpoint.root_hash:
        raise Alarm(
            "RootMismatch",
            f"the entries served for the tree of {checkpoint.size} hash to root {_b64(root)}, "
            f"but the signed checkpoint says {_b64(checkpoint.root_hash)}",
        )

    new_state = MonitorState(
        log_key=state.log_key,
        size=checkpoint.size,
        root=checkpoint.root_hash,
        checkpoint=note,
        frontier={node: hashes[node] for node in merkle.root_nodes(checkpoint.size)},
        keys={kid: KnownKey(**vars(k)) for kid, k in state.keys.items()},
        certificates=dict(state.certificates),
    )
    report = Report(state.size, checkpoint.size, checkpoint.root_hash)
    for offset, entry in enumerate(new_entries):
        _replay(state.size + offset, entry, new_state, report)
    return new_state, report


def _check_growth(log: HttpLog, state: MonitorState, checkpoint: Checkpoint) -> None:
    if checkpoint.size < state.size:
        raise Alarm(
            "LogShrank",
            f"the log now has {checkpoint.size} entries; it had {state.size} in a checkpoint "
            "it signed before",
        )
    if checkpoint.size == state.size:
        if checkpoint.root_hash != state.root:
            raise Alarm(
                "Fork",
                f"two signed checkpoints of size {state.size} have different roots "
                f"({_b64(state.root)} before, {_b64(checkpoint.root_hash)} now)",
            )
        return
    if state.size == 0:
        return
    proof = log.consistency(state.size, checkpoint.size)
    try:
        merkle.verify_consistency(
            state.size, checkpoint.size, proof, state.root, checkpoint.root_hash
        )
    except VerificationError as exc:
        raise Alarm(
            "InconsistentTree",
            f"the tree of {checkpoint.size} entries does not extend the tree of {state.size} "
            f"it signed before (history rewritten or forked): {exc.reason}",
        ) from exc


def _replay(index: int, entry: bytes, state: MonitorState, report: Report) -> None:
    """Check one entry and fold it into ``state``; raise :class:`Alarm` if it is unacceptable."""
    try:
        value = parse_json(entry)
    except ValueError as exc:
        raise Alarm("MalformedEntry", f"entry {index} is not JSON: {exc}") from exc
    if not isinstance(value, dict) or canonicalize(value) != entry:
        raise Alarm("MalformedEntry", f"entry {index} is not the canonical JSON of an object")
    if set(value) == {"record", "signature", "qr"}:
        _replay_record(index, value, state, report)
    elif "event" in value and set(value) <= {"event", "signature"}:
        _replay_key_event(index, value, state, report)
    else:
        raise Alarm("MalformedEntry", f"entry {index} is neither an envelope nor a key event")


def _replay_record(
    index: int, envelope: dict[str, Any], state: MonitorState, report: Report
) -> None:
    record, signature = envelope["record"], envelope["signature"]
    if not isinstance(record, dict) or not isinstance(signature, dict):
        raise Alarm("MalformedEntry", f"entry {index}: record and signature must be objects")
    issuer, number, version = (
        record.get("issuer"),
        record.get("certificate_number"),
        record.get("version"),
    )
    if not (isinstance(issuer, str) and isinstance(number, str) and isinstance(version, int)):
        raise Alarm("MalformedEntry", f"entry {index}: record lacks issuer, number or version")
    kid = signature.get("kid")
    key = state.keys.get(kid) if isinstance(kid, str) else None
    if key is None or key.issuer != issuer:
        raise Alarm(
            "UnknownKey",
            f"entry {index} ({issuer} {number} v{version}) is signed by key {kid!r}, which the "
            f"log never announced for {issuer}",
        )
    try:
        verify_record(record, signature, key.public_key)
        ScanToken.from_text(str(envelope["qr"])).verify(key.public_key)
    except VerificationError as exc:
        raise Alarm(
            "BadEntrySignature",
            f"entry {index} ({issuer} {number} v{version}) does not verify: {exc.reason}",
        ) from exc
    if key.compromise_in_force:
        raise Alarm(
            "CompromisedKeyUsed",
            f"entry {index} ({issuer} {number} v{version}) is signed by key {kid}, logged after "
            f"the key was marked compromised from {key.compromised_from}; the registry must "
            "refuse it",
        )
    if key.status == "compromised":
        report.warnings.append(
            f"{issuer} {number} v{version} (entry {index}) is signed by key {kid}, marked "
            f"compromised from {key.compromised_from}"
        )
    status = str(record.get("status"))
    name = f"{issuer} {number}"
    previous = state.certificates.get(name)
    if previous is not None and version <= previous.version:
        raise Alarm(
            "VersionRegression",
            f"entry {index} logs {name} v{version} after v{previous.version} (entry "
            f"{previous.log_index}); the registry must refuse it",
        )
    state.certificates[name] = KnownCertificate(version, status, index)
    if previous is None:
        report.new.append(f"{name} v{version} ({status})")
    else:
        report.changed.append(
            f"{name} v{previous.version} -> v{version} ({previous.status} -> {status})"
        )
    if status in REVOKED and (previous is None or previous.status not in REVOKED):
        report.revoked.append(f"{name} v{version} ({status})")


def _replay_key_event(
    index: int, value: dict[str, Any], state: MonitorState, report: Report
) -> None:
    event = value["event"]
    if not isinstance(event, dict):
        raise Alarm("MalformedEntry", f"entry {index}: event must be an object")
    kind = event.get("type")
    issuer = event.get("issuer")
    if not isinstance(issuer, str):
        raise Alarm("MalformedEntry", f"entry {index}: key event without an issuer")
    if kind == "key-registration" and "signature" not in value:
        key = _jwk_key(index, event.get("key"))
        if event.get("kid") != key.thumbprint:
            raise Alarm("MalformedEntry", f"entry {index}: kid is not the key's thumbprint")
        _add_key(index, state, issuer, key)
        report.key_events.append(f"entry {index}: {issuer} registered key {key.thumbprint}")
    elif kind == "key-rollover" and "signature" in value:
        signature = value["signature"]
        kid = signature.get("kid") if isinstance(signature, dict) else None
        signer = state.keys.get(kid) if isinstance(kid, str) else None
        if signer is None or signer.issuer != issuer or signer.status != "active":
            raise Alarm(
                "BadRollover",
                f"entry {index}: rollover for {issuer} is signed by {kid!r}, not a current key "
                "of that issuer",
            )
        try:
            verify_json(event, signature, signer.public_key)
        except VerificationError as exc:
            raise Alarm("BadRollover", f"entry {index}: rollover signature: {exc.reason}") from exc
        key = _jwk_key(index, event.get("new_key"))
        for known in state.keys.values():
            if known.issuer == issuer and known.status == "active":
                known.status = "retired"
        _add_key(index, state, issuer, key)
        report.key_events.append(
            f"entry {index}: {issuer} rolled over from {kid} to {key.thumbprint}"
        )
    elif kind == "key-compromise" and "signature" not in value:
        kid = event.get("kid")
        known_key = state.keys.get(kid) if isinstance(kid, str) else None
        if known_key is None or known_key.issuer != issuer:
            raise Alarm("MalformedEntry", f"entry {index}: compromise of unknown key {kid!r}")
        since = _event_time(index, event, "compromised_from")
        if known_key.compromised_from is not None:
            before = parse_rfc3339(known_key.compromised_from, "compromised_from")
            if since > before:  # the registry itself refuses this (issuers.mark_compromised)
                raise Alarm(
                    "CompromiseWithdrawn",
                    f"entry {index}: {issuer} key {kid} was compromised from "
                    f"{known_key.compromised_from}, now only from {event.get('compromised_from')}:"
                    " records signed in between would read as trusted again",
                )
        known_key.status = "compromised"
        known_key.compromised_from = str(event.get("compromised_from"))
        known_key.compromise_in_force = since <= _event_time(index, event, "recorded_at")
        report.key_events.append(
            f"entry {index}: {issuer} key {kid} compromised from {known_key.compromised_from}"
        )
    else:
        raise Alarm("MalformedEntry", f"entry {index}: unknown key event {kind!r}")


def _event_time(index: int, event: Mapping[str, Any], name: str) -> dt.datetime:
    try:
        return parse_rfc3339(event.get(name), name)
    except ValueError as exc:
        raise Alarm("MalformedEntry", f"entry {index}: {exc}") from exc


def _jwk_key(index: int, jwk: object) -> PublicKey:
    try:
        if not isinstance(jwk, Mapping):
            raise ValueError("not a JWK object")
        return PublicKey.from_jwk(jwk)
    except ValueError as exc:
        raise Alarm("MalformedEntry", f"entry {index}: bad key: {exc}") from exc


def _add_key(index: int, state: MonitorState, issuer: str, key: PublicKey) -> None:
    if key.thumbprint in state.keys:
        raise Alarm("MalformedEntry", f"entry {index}: key {key.thumbprint} announced twice")
    state.keys[key.thumbprint] = KnownKey(issuer, key)


# --- offline proof bundles ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedVersion:
    """One version proven by a bundle."""

    version: int
    log_index: int
    record: dict[str, Any]
    #: Set when its key was reported compromised after the version was signed: genuine, but
    #: worth checking with the issuer (as ``registry verify`` says of such a scan token).
    warning: str | None = None


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose every claim checked out."""

    issuer: str
    certificate_number: str
    checkpoint: Checkpoint
    versions: tuple[VerifiedVersion, ...]


def verify_bundle(bundle: Mapping[str, Any], log_key: str | None = None) -> VerifiedBundle:
    """Verify an offline proof bundle (``GET /c/<number>/proof.json``; docs/formats.md §5.9).

    Args:
        bundle: the parsed bundle.
        log_key: the log's verifier key obtained independently; if None, the key in the bundle
            is used (which proves only that the bundle is self-consistent).

    Raises:
        VerificationError: with the reason; codes from the pure layers, or ``BadBundle``.
    """
    if bundle.get("type") != BUNDLE_TYPE:
        raise VerificationError(f"not a bundle of type {BUNDLE_TYPE!r}", "BadBundle")
    try:
        log = bundle["log"]
        key_text = log_key or log["verifier_key"]
        verifier = NoteVerifier.from_verifier_key(key_text)
        checkpoint = open_checkpoint(log["checkpoint"], verifier, verifier.name)
        issuer, number = bundle["issuer"], bundle["certificate_number"]
        keys = {
            jwk["kid"]: PublicKey.from_jwk(jwk)
            for jwk in bundle["issuer_keys"]
            if jwk.get("issuer") == issuer
        }
        compromised = {
            jwk["kid"]: parse_rfc3339(jwk["compromised_from"], "compromised_from")
            for jwk in bundle["issuer_keys"]
            if jwk.get("issuer") == issuer and jwk.get("compromised_from") is not None
        }
        for kid, key in keys.items():
            if key.thumbprint != kid:
                raise VerificationError(f"issuer key {kid} is not its thumbprint", "BadBundle")
        versions: list[VerifiedVersion] = []
        for item in bundle["versions"]:
            entry = base64.b64decode(item["entry"], validate=True)
            proof = [base64.b64decode(h, validate=True) for h in item["proof"]]
            index = item["log_index"]
            if type(index) is not int or index < 0:
                raise VerificationError(f"log_index {index!r} is not an entry's index", "BadBundle")
            merkle.verify_inclusion(
                merkle.leaf_hash(entry), index, checkpoint.size, proof, checkpoint.root_hash
            )
            envelope = parse_json(entry)
            if not isinstance(envelope, dict) or set(envelope) != {"record", "signature", "qr"}:
                raise VerificationError(f"entry {index} is not an envelope", "BadBundle")
            record, signature = envelope["record"], envelope["signature"]
            signer = keys.get(signature.get("kid"))
            if signer is None:
                raise VerificationError(
                    f"entry {index} is signed by a key not in the bundle", "BadBundle"
                )
            verify_record(record, signature, signer)
            claims = ScanToken.from_text(envelope["qr"]).verify(signer)
            warning = None
            since = compromised.get(signature.get("kid"))
            if since is not None:
                signed = dt.datetime.fromtimestamp(claims.issued_at, dt.UTC)
                if signed >= since:
                    raise VerificationError(
                        f"entry {index} was signed at {rfc3339(signed)}, after its key was "
                        f"reported compromised (from {rfc3339(since)})",
                        "KeyCompromised",
                    )
                warning = (
                    f"signed before its key was reported compromised from {rfc3339(since)}; "
                    "check with the issuer"
                )
            if (record.get("issuer"), record.get("certificate_number")) != (issuer, number) or (
                record.get("version") != item["version"]
            ):
                raise VerificationError(f"entry {index} is another certificate", "BadBundle")
            if any(v.version == item["version"] for v in versions):
                raise VerificationError(f"version {item['version']} is there twice", "BadBundle")
            versions.append(VerifiedVersion(int(item["version"]), index, record, warning))
    except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as exc:
        if isinstance(exc, VerificationError):
            raise
        raise VerificationError(f"malformed bundle: {exc!r}", "BadBundle") from exc
    if not versions:
        raise VerificationError("the bundle proves no version", "BadBundle")
    return VerifiedBundle(issuer, number, checkpoint, tuple(versions))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def load_state(data: bytes) -> MonitorState:
    """Parse a state file's bytes (see :meth:`MonitorState.from_json`)."""
    return MonitorState.from_json(json.loads(data))


def dump_state(state: MonitorState) -> str:
    """Serialise a state for its file."""
    return json.dumps(state.to_json(), indent=1, ensure_ascii=False) + "\n"


__all__: Sequence[str] = [
    "Alarm",
    "HttpLog",
    "MonitorState",
    "MonitorUnavailable",
    "Report",
    "check",
    "dump_state",
    "load_state",
    "verify_bundle",
]
