"""Ingest: verify pushed envelopes, keep every version, append them to the log.

A push is processed in two phases. Phase 1, without locks, does the expensive and pure work for
each envelope: shape, issuer key, Ed25519 signature, record rules and the scan token (in two
passes over the batch: the record rules of all, then the signatures of all). Phase 2
takes the log's sequencer lock, decides each survivor against what is stored (new version,
duplicate or stale) and writes history, state and log leaves together. The caller commits once;
nothing is acknowledged before that commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from registry import collector
from registry.crypto.envelope import envelope_bytes_from, verify_record
from registry.crypto.errors import VerificationError
from registry.crypto.keys import PublicKey
from registry.crypto.scantoken import RECORD_HASH_SIZE, ScanClaims, ScanToken
from registry.domain.calendar import china_today
from registry.domain.problems import Problem, ProblemCode, RecordInvalid
from registry.domain.record import Record
from registry.log.tiles import MAX_ENTRY_SIZE
from registry.services import search_cards, search_index, transparency
from registry.services.issuers import key_unusable
from registry.store.bulk import insert_rows
from registry.store.models import (
    Certificate,
    Issuer,
    IssuerKey,
    Organisation,
    RecordVersion,
    table_of,
)

ENVELOPE_FIELDS = frozenset({"record", "signature", "qr"})

Outcome = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True)
class ItemResult:
    """What happened to one pushed envelope."""

    position: int
    outcome: Outcome
    issuer: str | None = None
    certificate_number: str | None = None
    version: int | None = None
    log_index: int | None = None
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The item as it appears in the ingest API's ``results``."""
        out: dict[str, object] = {"position": self.position, "outcome": self.outcome}
        if self.issuer is not None:
            out["issuer"] = self.issuer
        if self.certificate_number is not None:
            out["certificate_number"] = self.certificate_number
        if self.version is not None:
            out["version"] = self.version
        if self.log_index is not None:
            out["log_index"] = self.log_index
        if self.problems:
            out["errors"] = [p.to_json() for p in self.problems]
        return out


@dataclass
class _Verified:
    """An envelope that passed phase 1."""

    position: int
    record: Record
    kid: str
    data: bytes
    digest: bytes


@dataclass
class IngestReport:
    """Per-item results of one push, in the order pushed."""

    results: list[ItemResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    def to_json(self) -> dict[str, object]:
        return {
            "accepted": self.count("accepted"),
            "duplicate": self.count("duplicate"),
            "rejected": self.count("rejected"),
            "results": [r.to_json() for r in self.results],
        }


def ingest(session: Session, envelopes: Sequence[object], now: dt.datetime) -> IngestReport:
    """Verify and store a batch of envelopes; the caller commits.

    Args:
        session: the request's session; this function writes through it and flushes.
        envelopes: parsed JSON values, each expected to be an envelope object.
        now: the time of receipt (aware UTC); keys are checked as valid at this time.

    Returns:
        One :class:`ItemResult` per envelope, in order.

    The cyclic garbage collector is paused for the batch (:mod:`registry.collector`).
    """
    with collector.paused():
        return _ingest(session, envelopes, now)


def _ingest(session: Session, envelopes: Sequence[object], now: dt.datetime) -> IngestReport:
    kids = {
        e["signature"].get("kid")
        for e in envelopes
        if isinstance(e, Mapping) and isinstance(e.get("signature"), Mapping)
    }
    keys = _prepare_keys(_load_keys(session, {k for k in kids if isinstance(k, str)}), now)
    issuers = set(session.execute(select(Issuer.id)).scalars())
    results: dict[int, ItemResult] = {}
    # Phase 1 in two passes over the batch: the record rules of every envelope, then the
    # signature checks of every envelope. Interleaved per envelope, the same work measured
    # 5-20% slower (likely each evicting what the other keeps in the CPU's caches; see
    # docs/benchmarks.md, "Ingest against signature checks").
    parsed: list[_Parsed] = []
    for position, envelope in enumerate(envelopes):
        read = _parse(position, envelope, keys, issuers)
        if isinstance(read, ItemResult):
            results[position] = read
        else:
            parsed.append(read)
    verified: list[_Verified] = []
    for item in parsed:
        checked = _verify(item)
        if isinstance(checked, ItemResult):
            results[item.position] = checked
        else:
            verified.append(checked)
    if verified:
        for stored in _store(session, verified, now):
            results[stored.position] = stored
    return IngestReport([results[i] for i in range(len(envelopes))])


def _load_keys(session: Session, kids: set[str]) -> dict[str, IssuerKey]:
    if not kids:
        return {}
    rows = session.execute(select(IssuerKey).where(IssuerKey.kid.in_(kids))).scalars()
    return {k.kid: k for k in rows}


@dataclass(frozen=True)
class _KeyUse:
    """A registered key as one batch uses it: read, judged at ``now`` and parsed once."""

    kid: str
    issuer_id: str
    unusable: tuple[str, str] | None
    public_key: PublicKey


def _prepare_keys(keys: Mapping[str, IssuerKey], now: dt.datetime) -> dict[str, _KeyUse]:
    return {
        kid: _KeyUse(kid, key.issuer_id, key_unusable(key, now), _public_key(key))
        for kid, key in keys.items()
    }


def _reject(
    position: int,
    code: ProblemCode,
    message: str,
    field_: str | None = None,
    record: Mapping[str, object] | None = None,
) -> ItemResult:
    issuer = record.get("issuer") if record else None
    number = record.get("certificate_number") if record else None
    version = record.get("version") if record else None
    return ItemResult(
        position,
        "rejected",
        issuer if isinstance(issuer, str) else None,
        number if isinstance(number, str) else None,
        version if isinstance(version, int) and not isinstance(version, bool) else None,
        problems=(Problem(code, field_, message),),
    )


@dataclass
class _Parsed:
    """An envelope of the right shape, from a registered issuer, under a usable key; its
    record read by the record rules (the record, or why it is invalid), its signatures not yet
    checked."""

    position: int
    raw_record: Mapping[str, object]
    signature: Mapping[str, object]
    qr: object
    key: _KeyUse
    #: The record, or the problems the record rules found in it.
    record: Record | tuple[Problem, ...]


def _parse(
    position: int,
    envelope: object,
    keys: Mapping[str, _KeyUse],
    issuers: set[str],
) -> _Parsed | ItemResult:
    """Phase 1, first pass: shape, issuer, key, and the record rules (whose verdict waits for
    the signature check: a bad signature is what an envelope is rejected for first)."""
    if not isinstance(envelope, Mapping) or set(envelope) != ENVELOPE_FIELDS:
        return _reject(
            position,
            ProblemCode.MALFORMED_ENVELOPE,
            'an envelope is an object with exactly "record", "signature" and "qr"',
        )
    raw_record, signature, qr = envelope["record"], envelope["signature"], envelope["qr"]
    if not isinstance(raw_record, Mapping):
        return _reject(
            position, ProblemCode.MALFORMED_ENVELOPE, "record must be an object", "record"
        )
    if not isinstance(signature, Mapping):
        return _reject(
            position,
            ProblemCode.MALFORMED_ENVELOPE,
            "signature must be an object",
            "signature",
            raw_record,
        )
    issuer_id = raw_record.get("issuer")
    if issuer_id not in issuers:
        return _reject(
            position,
            ProblemCode.UNKNOWN_ISSUER,
            f"issuer {issuer_id!r} is not registered with this registry",
            "record.issuer",
            raw_record,
        )
    kid = signature.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None or key.issuer_id != issuer_id:
        return _reject(
            position,
            ProblemCode.UNKNOWN_KEY,
            f"kid {kid!r} is not a registered key of issuer {issuer_id}",
            "signature.kid",
            raw_record,
        )
    unusable = key.unusable
    if unusable is not None:
        return _reject(position, ProblemCode(unusable[0]), unusable[1], "signature.kid", raw_record)
    record: Record | tuple[Problem, ...]
    try:
        record = Record.from_json(raw_record)
    except RecordInvalid as exc:
        # The problems, not the exception: its traceback would hold this frame, which holds
        # it, a cycle only the garbage collector frees (and a push pauses the collector).
        record = tuple(exc.problems)
    return _Parsed(position, raw_record, signature, qr, key, record)


def _verify(item: _Parsed) -> _Verified | ItemResult:
    """Phase 1, second pass: the record signature, then the record rules' verdict, the scan
    token and the stored size. Returns the verified item or its rejection."""
    position, raw_record, signature = item.position, item.raw_record, item.signature
    public_key = item.key.public_key
    try:
        record_bytes = verify_record(raw_record, signature, public_key)
    except VerificationError as exc:
        return _reject(position, ProblemCode.BAD_SIGNATURE, exc.reason, "signature", raw_record)
    record = item.record
    if isinstance(record, tuple):
        return ItemResult(
            position,
            "rejected",
            str(raw_record.get("issuer")),
            _str_or_none(raw_record.get("certificate_number")),
            problems=record,
        )
    digest = hashlib.sha256(record_bytes).digest()
    token_problem = _check_token(item.qr, record, public_key, digest)
    if token_problem is not None:
        return ItemResult(
            position,
            "rejected",
            record.issuer,
            record.certificate_number,
            record.version,
            problems=(token_problem,),
        )
    data = envelope_bytes_from(record_bytes, signature, item.qr)
    if len(data) > MAX_ENTRY_SIZE:
        return _reject(
            position,
            ProblemCode.MALFORMED_ENVELOPE,
            f"the envelope is {len(data)} bytes as stored; a log entry holds at most "
            f"{MAX_ENTRY_SIZE} (the C2SP tlog-tiles entry bundle limit)",
            None,
            raw_record,
        )
    return _Verified(position, record, item.key.kid, data, digest)


@functools.lru_cache(maxsize=256)
def _parsed_key(raw: bytes) -> PublicKey:
    return PublicKey(raw)


def _public_key(key: IssuerKey) -> PublicKey:
    """The key ready to verify; parsed once per process, since ingest verifies thousands."""
    return _parsed_key(key.public_key)


def _check_token(qr: object, record: Record, key: PublicKey, digest: bytes) -> Problem | None:
    """The scan token must verify under the record's key and agree with the record."""
    if not isinstance(qr, str):
        return Problem(ProblemCode.BAD_SCAN_TOKEN, "qr", "qr must be the scan token as Base32 text")
    try:
        claims = ScanToken.from_text(qr).verify(key)
    except VerificationError as exc:
        return Problem(ProblemCode.BAD_SCAN_TOKEN, "qr", f"scan token: {exc.reason}")
    wrong = token_disagreements(claims, record, digest)
    if wrong:
        return Problem(
            ProblemCode.SCAN_TOKEN_MISMATCH,
            "qr",
            f"scan token claims disagree with the record: {', '.join(wrong)}",
        )
    return None


def token_disagreements(claims: ScanClaims, record: Record, digest: bytes) -> list[str]:
    """The claims of a scan token that disagree with the record it should be of (``digest``:
    the SHA-256 of the record's JCS bytes), sorted; empty when they agree."""
    expected = {
        "issuer": record.issuer,
        "certificate_number": record.certificate_number,
        "scheme": record.scheme_def.code,
        "tier": record.tier_def.code,
        "expiry": record.expiry_date,
        "record_hash": digest[:RECORD_HASH_SIZE],
    }
    return sorted(name for name, value in expected.items() if getattr(claims, name) != value)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _store(session: Session, items: list[_Verified], now: dt.datetime) -> list[ItemResult]:
    """Phase 2: under the sequencer lock, decide each item against the store and write."""
    log_size = transparency.lock(session)
    # A key may have been marked compromised since phase 1 read it; that event took the lock.
    keys = _prepare_keys(_load_keys(session, {i.kid for i in items}), now)
    current = _current_versions(session, {i.record.key for i in items})
    # Versions are stored only of certificates with a row: a first push asks nothing more.
    stored = _stored_versions(
        session, {(*i.record.key, i.record.version) for i in items if i.record.key in current}
    )

    results: list[ItemResult] = []
    accepted: list[_Verified] = []
    for item in items:
        rec = item.record
        unusable = keys[item.kid].unusable
        if unusable is not None:
            results.append(
                ItemResult(
                    item.position,
                    "rejected",
                    rec.issuer,
                    rec.certificate_number,
                    rec.version,
                    problems=(Problem(ProblemCode(unusable[0]), "signature.kid", unusable[1]),),
                )
            )
            continue
        same = stored.get((*rec.key, rec.version))
        if same is not None:
            if same[0] == item.data:
                results.append(
                    ItemResult(
                        item.position,
                        "duplicate",
                        rec.issuer,
                        rec.certificate_number,
                        rec.version,
                        same[1],
                    )
                )
            else:
                results.append(
                    _stale(
                        item,
                        f"version {rec.version} is stored already with other "
                        "content; push a higher version to change it",
                    )
                )
            continue
        known = current.get(rec.key)
        if known is not None and rec.version < known[0]:
            results.append(
                _stale(item, f"version {rec.version} is older than the stored version {known[0]}")
            )
            continue
        accepted.append(item)
        stored[(*rec.key, rec.version)] = (item.data, -1)
        current[rec.key] = (rec.version, known[1] if known else -1)

    if not accepted:
        return results
    indices = transparency.append(
        session, log_size, [(transparency.RECORD, i.data) for i in accepted], now
    )
    insert_rows(
        session,
        table_of(RecordVersion),
        [
            {
                "issuer_id": i.record.issuer,
                "certificate_number": i.record.certificate_number,
                "version": i.record.version,
                "envelope": i.data,
                "record_hash": i.digest,
                "kid": i.kid,
                "received_at": now,
                "log_index": index,
                "status": i.record.status,
                "effective_from": i.record.effective_from,
                "flagged": False,
            }
            for i, index in zip(accepted, indices, strict=True)
        ],
    )
    latest: dict[tuple[str, str], tuple[_Verified, int]] = {}
    for item, index in zip(accepted, indices, strict=True):
        latest[item.record.key] = (item, index)  # later items in a batch carry higher versions
        results.append(
            ItemResult(
                item.position,
                "accepted",
                item.record.issuer,
                item.record.certificate_number,
                item.record.version,
                index,
            )
        )
    _update_state(session, latest, current, now)
    return results


#: Most certificate numbers in one ``IN`` list (bound parameters stay far below any limit).
_LOOKUP_CHUNK = 500


def _by_issuer(keys: Iterable[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    """Certificate numbers grouped by issuer, sorted, in chunks of at most _LOOKUP_CHUNK.

    Lookups ask ``issuer_id = ? AND certificate_number IN (...)``: an index search on both
    backends, where a row-value ``IN`` of (issuer, number) pairs makes SQLite scan the table
    (seconds a batch at a million certificates).
    """
    numbers: dict[str, list[str]] = {}
    for issuer_id, number in sorted(keys):
        numbers.setdefault(issuer_id, []).append(number)
    return [
        (issuer_id, chunk[start : start + _LOOKUP_CHUNK])
        for issuer_id, chunk in numbers.items()
        for start in range(0, len(chunk), _LOOKUP_CHUNK)
    ]


def _current_versions(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(issuer, number) -> (stored version, certificate id) for the certificates stored."""
    current: dict[tuple[str, str], tuple[int, int]] = {}
    for issuer_id, numbers in _by_issuer(keys):
        for number, version, cert_id in session.execute(
            select(Certificate.certificate_number, Certificate.version, Certificate.id).where(
                Certificate.issuer_id == issuer_id, Certificate.certificate_number.in_(numbers)
            )
        ):
            current[(issuer_id, number)] = (version, cert_id)
    return current


def _stored_versions(
    session: Session, wanted: set[tuple[str, str, int]]
) -> dict[tuple[str, str, int], tuple[bytes, int]]:
    """(issuer, number, version) -> (stored envelope, log index) for the wanted versions stored."""
    if not wanted:
        return {}
    versions = sorted({version for _, _, version in wanted})
    stored: dict[tuple[str, str, int], tuple[bytes, int]] = {}
    for issuer_id, numbers in _by_issuer({(i, n) for i, n, _ in wanted}):
        for number, version, data, index in session.execute(
            select(
                RecordVersion.certificate_number,
                RecordVersion.version,
                RecordVersion.envelope,
                RecordVersion.log_index,
            ).where(
                RecordVersion.issuer_id == issuer_id,
                RecordVersion.certificate_number.in_(numbers),
                RecordVersion.version.in_(versions),
            )
        ):
            if (issuer_id, number, version) in wanted:  # the IN lists also match other pairs
                stored[(issuer_id, number, version)] = (data, index)
    return stored


def _stale(item: _Verified, message: str) -> ItemResult:
    rec = item.record
    return ItemResult(
        item.position,
        "rejected",
        rec.issuer,
        rec.certificate_number,
        rec.version,
        problems=(Problem(ProblemCode.STALE_VERSION, "record.version", message),),
    )


def _update_state(
    session: Session,
    latest: Mapping[tuple[str, str], tuple[_Verified, int]],
    current: Mapping[tuple[str, str], tuple[int, int]],
    now: dt.datetime,
) -> None:
    """Bring the derived tables (certificate, organisation, search index) up to date."""
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    for key, (item, index) in latest.items():
        rec = item.record
        row: dict[str, object] = {
            "issuer_id": rec.issuer,
            "certificate_number": rec.certificate_number,
            "version": rec.version,
            "log_index": index,
            "organisation_name": rec.organisation.name,
            "uscc": rec.organisation.uscc,
            "scheme": rec.scheme,
            "tier": rec.tier,
            "status": rec.status,
            "issue_date": rec.issue_date,
            "expiry_date": rec.expiry_date,
            "received_at": now,
        }
        cert_id = current[key][1]
        if cert_id == -1:
            inserts.append(row)
        else:
            updates.append({"id": cert_id, **row})
    # Organisations whose search cards change: those of the records, and those a new version
    # took a certificate away from.
    touched = {str(row["uscc"]) for row in (*inserts, *updates)}
    if updates:
        certificate = table_of(Certificate)
        ids = [row["id"] for row in updates]
        for start in range(0, len(ids), 500):
            touched.update(
                session.execute(
                    select(certificate.c.uscc).where(certificate.c.id.in_(ids[start : start + 500]))
                ).scalars()
            )
    if inserts:
        insert_rows(session, table_of(Certificate), inserts)
    if updates:
        session.execute(update(Certificate), updates)

    organisations: dict[str, Record] = {}
    for item, _ in latest.values():
        organisations[item.record.organisation.uscc] = item.record
    organisation = table_of(Organisation)
    existing: dict[str, tuple[str, str]] = {}
    usccs = list(organisations)
    for start in range(0, len(usccs), 500):
        for uscc, name, former in session.execute(
            select(organisation.c.uscc, organisation.c.name, organisation.c.former_names).where(
                organisation.c.uscc.in_(usccs[start : start + 500])
            )
        ):
            existing[uscc] = (name, former)
    changed: list[tuple[str, str, tuple[str, ...]]] = []
    new_rows: list[dict[str, object]] = []
    changed_rows: list[dict[str, object]] = []
    for uscc, rec in organisations.items():
        org = rec.organisation
        former_names = org.former_names or ()
        former = "\n".join(former_names)
        row_org = existing.get(uscc)
        if row_org is None:
            new_rows.append(
                {"uscc": uscc, "name": org.name, "former_names": former, "updated_at": now}
            )
        elif row_org == (org.name, former):
            continue
        else:
            changed_rows.append(
                {"key": uscc, "name": org.name, "former_names": former, "updated_at": now}
            )
        changed.append((uscc, org.name, former_names))
    if new_rows:
        insert_rows(session, organisation, new_rows)
    if changed_rows:
        session.execute(
            update(organisation).where(organisation.c.uscc == bindparam("key")), changed_rows
        )
    indexed = search_index.index_organisations(session, changed)
    search_cards.refresh(session, touched, china_today(now), indexed)
    issuers = {item.record.issuer for item, _ in latest.values()}
    session.execute(update(Issuer).where(Issuer.id.in_(issuers)).values(last_push_at=now))
    added = Counter(str(row["issuer_id"]) for row in inserts)
    for issuer_id, count in sorted(added.items()):
        session.execute(
            update(Issuer)
            .where(Issuer.id == issuer_id)
            .values(certificates=Issuer.certificates + count)
        )
