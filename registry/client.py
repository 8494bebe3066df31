"""The issuer's side: sign records into envelopes, push them to a registry, and read the
label reports and scan counts the registry keeps for the issuer.

Issuing systems can use this module as a library, or through ``registry sign``,
``registry push`` and ``registry reports``. Only the standard library is used for HTTP, so it
installs anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.crypto.encoding import b64url_encode
from registry.crypto.envelope import record_hash, sign_json, sign_record
from registry.crypto.keys import PrivateKey, PublicKey
from registry.crypto.scantoken import RECORD_HASH_SIZE, ScanClaims, sign_token
from registry.domain.calendar import rfc3339
from registry.domain.record import Record


def nfc(value: Any) -> Any:
    """Return ``value`` with every string NFC-normalised (the registry rejects other forms)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(v) for v in value]
    return value


@dataclass(frozen=True)
class Signer:
    """Signs records with an issuer's key."""

    key: PrivateKey

    def envelope(
        self, record: Mapping[str, object], issued_at: int | None = None
    ) -> dict[str, object]:
        """Sign ``record`` and make its scan token; return the envelope to push.

        The record is NFC-normalised first and checked with the registry's own rules, so a
        mistake is found here rather than at push time.

        Raises:
            registry.domain.problems.RecordInvalid: the record breaks a rule.
        """
        normalised: dict[str, object] = nfc(dict(record))
        parsed = Record.from_json(normalised)
        claims = ScanClaims(
            issuer=parsed.issuer,
            certificate_number=parsed.certificate_number,
            scheme=parsed.scheme_def.code,
            tier=parsed.tier_def.code,
            expiry=parsed.expiry_date,
            issued_at=int(time.time()) if issued_at is None else issued_at,
            record_hash=record_hash(normalised)[:RECORD_HASH_SIZE],
        )
        return {
            "record": normalised,
            "signature": sign_record(normalised, self.key),
            "qr": sign_token(claims, self.key).to_text(),
        }

    def rollover(
        self,
        issuer: str,
        new_key: PublicKey,
        valid_from: dt.datetime,
        issued_at: dt.datetime | None = None,
    ) -> dict[str, object]:
        """A key-rollover statement for ``new_key``, signed with this (current) key."""

        statement: dict[str, object] = {
            "type": "key-rollover",
            "issuer": issuer,
            "new_key": new_key.to_jwk(),
            "valid_from": rfc3339(valid_from),
            "issued_at": rfc3339(issued_at or dt.datetime.now(dt.UTC)),
        }
        return {"statement": statement, "signature": sign_json(statement, self.key)}


def _segment(text: str) -> str:
    """``text`` as one path segment ("../x" or "a?b" must not reach another path)."""
    return urllib.parse.quote(text, safe="")


def _excerpt(payload: bytes, limit: int = 300) -> str:
    """The start of an answer's body, for a message (an HTML error page can be long)."""
    text = " ".join(payload.decode(errors="replace").split())
    return text if len(text) <= limit else text[:limit] + "…"


def _json_object(url: str, status: int, payload: bytes) -> dict[str, Any]:
    """The registry's answer, a JSON object.

    Raises:
        RequestFailed: it is something else (a proxy's or captive portal's HTML page, say).
    """
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise RequestFailed(
            f"{url}: HTTP {status}, but the answer is not the registry's JSON: {_excerpt(payload)}"
        )
    return answer


class RequestFailed(Exception):
    """A request to the registry failed for good (a 4xx other than 429, or retries
    exhausted)."""


#: The name issuing systems already catch around pushes.
PushError = RequestFailed


#: The Authorization scheme of the issuers' signed API (docs/api-scan.md).
AUTH_SCHEME = "Registry-Signature"


def signed_message(method: str, path_with_query: str, created: int) -> bytes:
    """The bytes an issuer signs to call its API: ``METHOD\nPATH?QUERY\nCREATED``."""
    return f"{method}\n{path_with_query}\n{created}".encode()


def authorization(key: PrivateKey, method: str, path_with_query: str, created: int) -> str:
    """The Authorization header value for a request signed with ``key`` at ``created``."""
    signature = b64url_encode(key.sign(signed_message(method, path_with_query, created)))
    kid = key.public_key.thumbprint
    return f'{AUTH_SCHEME} kid="{kid}", created="{created}", signature="{signature}"'


@dataclass(frozen=True)
class RegistryClient:
    """Talks to a registry over HTTP: pushes envelopes (retrying safely: pushes are
    idempotent) and reads the issuer's label reports and scan counts (signed requests)."""

    base_url: str
    retries: int = 5
    backoff: float = 0.5
    timeout: float = 60.0
    #: Unix time for signed requests' ``created`` (tests pass the registry's clock).
    clock: Callable[[], float] = time.time

    def push(
        self, envelopes: Sequence[Mapping[str, object]], batch_size: int = 500
    ) -> Iterator[dict[str, Any]]:
        """Push in batches; yield each batch's report (``accepted``, ``duplicate``, ``rejected``,
        ``results``). Positions in results are relative to the batch.

        Raises:
            PushError: a batch could not be delivered.
        """
        for start in range(0, len(envelopes), batch_size):
            yield self.post("/api/v1/records", list(envelopes[start : start + batch_size]))

    def post(self, path: str, body: object) -> dict[str, Any]:
        """POST JSON, retrying on connection errors, 429 and 5xx with exponential backoff."""
        data = json.dumps(body, ensure_ascii=False).encode()
        return self._send(
            "POST", path, data, {"Content-Type": "application/json"}, push=path == "/api/v1/records"
        )

    def reports(
        self, issuer_id: str, key: PrivateKey, since: dt.datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every label report about ``issuer_id``'s labels (since ``since``), oldest first,
        paging through the signed reports API.

        Raises:
            RequestFailed: a request failed (e.g. 401 when ``key`` is not a current key).
        """
        query: dict[str, str] = {"since": rfc3339(since)} if since is not None else {}
        while True:
            page = self.signed_get(f"/api/v1/issuers/{_segment(issuer_id)}/reports", query, key)
            yield from page["reports"]
            if not page["more"]:
                return
            query["after"] = str(page["last_id"])

    def scans(
        self, issuer_id: str, key: PrivateKey, since: dt.date | None = None
    ) -> list[dict[str, Any]]:
        """Scan counts of ``issuer_id``'s certificates per day from ``since`` (the registry's
        default: the last 30 days)."""
        query = {"since": since.isoformat()} if since is not None else {}
        page = self.signed_get(f"/api/v1/issuers/{_segment(issuer_id)}/scans", query, key)
        found: list[dict[str, Any]] = page["scans"]
        return found

    def signed_get(self, path: str, query: Mapping[str, str], key: PrivateKey) -> dict[str, Any]:
        """GET ``path?query`` signed with ``key`` (a fresh signature on every attempt)."""
        target = path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return self._send("GET", target, None, {}, sign_with=key)

    def _send(
        self,
        method: str,
        path: str,
        data: bytes | None,
        headers: Mapping[str, str],
        push: bool = False,
        sign_with: PrivateKey | None = None,
    ) -> dict[str, Any]:
        """Send a request, retrying on connection errors, 429 and 5xx with exponential
        backoff; a push's 422 (every item rejected) is an answer, not a failure."""
        url = self.base_url.rstrip("/") + path
        for attempt in range(self.retries + 1):
            sent = dict(headers)
            if sign_with is not None:
                sent["Authorization"] = authorization(sign_with, method, path, int(self.clock()))
            request = urllib.request.Request(  # noqa: S310 - the URL is the operator's registry
                url, data=data, method=method, headers=sent
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return _json_object(url, response.status, response.read())
            except urllib.error.HTTPError as exc:
                payload = exc.read()
                if exc.code == 422 and push:
                    return _json_object(url, exc.code, payload)
                if exc.code != 429 and exc.code < 500:
                    raise RequestFailed(f"{url}: HTTP {exc.code}: {_excerpt(payload)}") from exc
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = str(exc)
            if attempt == self.retries:
                raise RequestFailed(f"{url}: gave up after {self.retries + 1} attempts ({reason})")
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


#: The columns of a CSV for ``registry sign`` (docs/formats.md section 3).
CSV_COLUMNS = frozenset(
    {
        "certificate_number",
        "issuer",
        "version",
        "organisation_name",
        "uscc",
        "address",
        "former_names",
        "scheme",
        "standard",
        "tier",
        "score",
        "score_scale",
        "scope",
        "original_issue_date",
        "issue_date",
        "expiry_date",
        "status",
        "status_reason",
        "status_effective_date",
        "last_audit_date",
        "next_due_date",
    }
)


def records_from_csv(rows: Iterable[Mapping[str, str]]) -> Iterator[dict[str, object]]:
    """Build record objects from CSV rows (columns: docs/formats.md, "CSV for registry sign")."""
    from registry.domain.schemes import scheme_by_id

    for row in rows:
        get = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        record: dict[str, object] = {
            "type": "certificate-record/1",
            "certificate_number": get["certificate_number"],
            "issuer": get["issuer"],
            "version": int(get.get("version") or 1),
            "organisation": {"name": get["organisation_name"], "uscc": get["uscc"]},
            "scheme": get["scheme"],
            "standard": get.get("standard") or scheme_by_id(get["scheme"]).standard,
            "tier": get["tier"],
            "scope": get["scope"],
            "original_issue_date": get.get("original_issue_date") or get["issue_date"],
            "issue_date": get["issue_date"],
            "expiry_date": get["expiry_date"],
            "status": get.get("status") or "valid",
        }
        organisation: dict[str, object] = {"name": get["organisation_name"], "uscc": get["uscc"]}
        record["organisation"] = organisation
        if get.get("address"):
            organisation["address"] = get["address"]
        if get.get("former_names"):
            organisation["former_names"] = [
                n.strip() for n in get["former_names"].split(";") if n.strip()
            ]
        if get.get("score"):
            record["score"] = {
                "value": int(get["score"]),
                "scale": int(get.get("score_scale") or 100),
            }
        for name in ("status_reason", "status_effective_date"):
            if get.get(name):
                record[name] = get[name]
        surveillance = {k: get[k] for k in ("last_audit_date", "next_due_date") if get.get(k)}
        if surveillance:
            record["surveillance"] = surveillance
        yield record
