"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

The document is written here as data, next to the views it describes, and checked against
their behaviour by ``tests/web/test_openapi.py`` (schemathesis: every documented GET is called
with generated parameters, and every answer must match a documented status, content type and
schema). Schemas list the members clients may rely on as ``required`` and allow additional
members, so adding a field is not a breaking change.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from registry.domain.problems import ProblemCode
from registry.domain.record import CERTIFICATE_NUMBER_MAX, ISSUER_ID_MAX
from registry.domain.status import Status
from registry.services.search import MAX_QUERY_LENGTH

bp = Blueprint("openapi", __name__)

Schema = dict[str, Any]

#: Certificate numbers and issuer ids as docs/formats.md defines them.
CERTIFICATE_NUMBER = rf"^[A-Za-z0-9][A-Za-z0-9._-]{{0,{CERTIFICATE_NUMBER_MAX - 1}}}$"
ISSUER_ID = rf"^[A-Z0-9-]{{1,{ISSUER_ID_MAX}}}$"
USCC = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object schema; every listed property is required unless ``required`` says which."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


_STRING: Schema = {"type": "string"}
_NULLABLE_STRING: Schema = {"type": ["string", "null"]}
_DATE: Schema = {"type": "string", "format": "date"}
_TIME: Schema = {"type": "string", "format": "date-time"}
#: How the issuers' signed API refuses a request; a key of another issuer, or an issuer
#: unknown here, is an unknown key (the answer does not tell which issuers exist).
_ISSUER_AUTH_ERRORS = (
    "MissingSignature, MalformedSignature, StaleSignature, UnknownKey, BadSignature"
)
_NULLABLE_TIME: Schema = {"type": ["string", "null"], "format": "date-time"}
_INT: Schema = {"type": "integer"}

SCHEMAS: dict[str, Schema] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {**_STRING, "description": "stable machine-readable code"},
                    "message": {**_STRING, "description": "for people; may change"},
                    "details": {"description": "code-specific facts (see docs/api.md)"},
                },
                required=["code", "message"],
            )
        }
    ),
    "Status": _object(
        {
            "code": {"enum": [s.value for s in Status]},
            "zh": _STRING,
            "en": _STRING,
        }
    ),
    "Issuer": _object(
        {
            "id": _STRING,
            "name": _STRING,
            "name_en": _NULLABLE_STRING,
            "last_push_at": _NULLABLE_TIME,
        }
    ),
    "Publisher": {
        "allOf": [_ref("Issuer"), _object({"certificates": {**_INT, "minimum": 0}})],
    },
    "Signature": _object({"alg": {"const": "Ed25519"}, "kid": _STRING, "value": _STRING}),
    "Envelope": _object(
        {
            "record": {"type": "object", "description": "the signed record (docs/formats.md §1)"},
            "signature": _ref("Signature"),
            "qr": {**_STRING, "description": "the scan token, Base32"},
        }
    ),
    "Scheme": _object(
        {
            "id": _STRING,
            "code": _STRING,
            "name_zh": _STRING,
            "name_en": _STRING,
            "standard": _STRING,
        }
    ),
    "Tier": _object(
        {
            "name": _STRING,
            "code": _STRING,
            "name_en": _STRING,
            "meaning_zh": _STRING,
            "meaning_en": _STRING,
        }
    ),
    "Version": _object(
        {
            "version": {**_INT, "minimum": 1},
            "received_at": _TIME,
            "log_index": {**_INT, "minimum": 0},
            "kid": _STRING,
            "key_compromised": {"type": "boolean"},
            "flagged": {"type": "boolean"},
        }
    ),
    "Certificate": {
        "allOf": [
            _ref("Version"),
            _object(
                {
                    "certificate_number": _STRING,
                    "issuer": _ref("Issuer"),
                    "organisation": _object(
                        {
                            "name": _STRING,
                            "uscc": _STRING,
                            "address": _STRING,
                            "former_names": {"type": "array", "items": _STRING},
                        },
                        required=["name", "uscc"],
                    ),
                    "scheme": _ref("Scheme"),
                    "tier": _ref("Tier"),
                    "score": _object({"value": _INT, "scale": {"enum": [100, 1000]}}),
                    "scope": _STRING,
                    "original_issue_date": _DATE,
                    "issue_date": _DATE,
                    "expiry_date": _DATE,
                    "status": _ref("Status"),
                    "signed_status": {"enum": ["valid", "suspended", "withdrawn", "cancelled"]},
                    "status_reason": _STRING,
                    "status_effective_date": _DATE,
                    "surveillance": {"type": "object"},
                    "sites": {"type": "array", "items": {"type": "object"}},
                    "checked_at": _TIME,
                    "envelope": _ref("Envelope"),
                    "log": _ref("InclusionProof"),
                    "at": _object(
                        {
                            "date": _DATE,
                            "status": {"anyOf": [_ref("Status"), {"type": "null"}]},
                            "version": {"type": ["integer", "null"]},
                            "known_since": _NULLABLE_TIME,
                            "status_as_known_then": {"anyOf": [_ref("Status"), {"type": "null"}]},
                            "note": _STRING,
                        }
                    ),
                },
                required=[
                    "certificate_number",
                    "issuer",
                    "organisation",
                    "scheme",
                    "tier",
                    "scope",
                    "original_issue_date",
                    "issue_date",
                    "expiry_date",
                    "status",
                    "signed_status",
                    "checked_at",
                    "envelope",
                ],
            ),
        ],
    },
    "History": _object(
        {
            "certificate_number": _STRING,
            "issuer": _ref("Issuer"),
            "versions": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "allOf": [
                        _ref("Version"),
                        _object(
                            {
                                "status": {
                                    "enum": ["valid", "suspended", "withdrawn", "cancelled"]
                                },
                                "status_reason": _NULLABLE_STRING,
                                "status_effective_date": {
                                    "type": ["string", "null"],
                                    "format": "date",
                                },
                                "effective_from": _DATE,
                                "tier": _STRING,
                                "issue_date": _DATE,
                                "expiry_date": _DATE,
                                "envelope": _ref("Envelope"),
                            }
                        ),
                    ]
                },
            },
        }
    ),
    "Organisation": _object(
        {
            "uscc": _STRING,
            "name": _STRING,
            "former_names": {"type": "array", "items": _STRING},
            "certificates": {
                "type": "array",
                "items": _object(
                    {
                        "certificate_number": _STRING,
                        "issuer": _STRING,
                        "scheme": _STRING,
                        "tier": _STRING,
                        "status": _ref("Status"),
                        "expiry_date": _DATE,
                        "version": _INT,
                    }
                ),
            },
            "checked_at": _TIME,
        }
    ),
    "Issuers": _object({"issuers": {"type": "array", "items": _ref("Publisher")}}),
    "Schemes": _object(
        {
            "schemes": {
                "type": "array",
                "items": {
                    "allOf": [
                        _ref("Scheme"),
                        _object(
                            {
                                "scales": {"type": "array", "items": {"enum": [100, 1000]}},
                                "max_validity_years": _INT,
                                "surveillance_months": _INT,
                                "score_required": {"type": "boolean"},
                                "tiers": {
                                    "type": "array",
                                    "items": {
                                        "allOf": [
                                            _ref("Tier"),
                                            _object(
                                                {
                                                    "min_score": {
                                                        "type": "object",
                                                        "additionalProperties": _INT,
                                                        "description": "threshold per scale",
                                                    }
                                                }
                                            ),
                                        ]
                                    },
                                },
                            }
                        ),
                    ]
                },
            }
        }
    ),
    "Problem": _object(
        {
            "code": {"enum": [c.value for c in ProblemCode]},
            "field": _NULLABLE_STRING,
            "message": _STRING,
        }
    ),
    "IngestReport": _object(
        {
            "accepted": _INT,
            "duplicate": _INT,
            "rejected": _INT,
            "results": {
                "type": "array",
                "items": _object(
                    {
                        "position": _INT,
                        "outcome": {"enum": ["accepted", "duplicate", "rejected"]},
                        "issuer": _STRING,
                        "certificate_number": _STRING,
                        "version": _INT,
                        "log_index": _INT,
                        "errors": {"type": "array", "items": _ref("Problem")},
                    },
                    required=["position", "outcome"],
                ),
            },
        }
    ),
    "Rollover": _object(
        {
            "statement": _object(
                {
                    "type": {"const": "key-rollover"},
                    "issuer": _STRING,
                    "new_key": {"type": "object", "description": "RFC 8037 OKP JWK"},
                    "valid_from": _TIME,
                    "issued_at": _TIME,
                }
            ),
            "signature": _ref("Signature"),
        }
    ),
    "KeyEvent": _object({"kid": _STRING, "log_index": _INT}),
    "SearchResult": _object(
        {
            "query": _STRING,
            "kind": {"enum": ["number", "uscc", "name", "empty"]},
            "results": {
                "type": "array",
                "items": _object(
                    {
                        "organisation": _object(
                            {
                                "uscc": _STRING,
                                "name": _STRING,
                                "former_names": {"type": "array", "items": _STRING},
                                "matched_former_name": _NULLABLE_STRING,
                            }
                        ),
                        "certificates": {
                            "type": "array",
                            "items": _object(
                                {
                                    "certificate_number": _STRING,
                                    "issuer": _STRING,
                                    "scheme": _STRING,
                                    "tier": _STRING,
                                    "status": _ref("Status"),
                                    "expiry_date": _DATE,
                                    "url": _STRING,
                                }
                            ),
                        },
                    }
                ),
            },
            "next_cursor": _NULLABLE_STRING,
            "uscc_problem": {
                "anyOf": [
                    {"type": "null"},
                    _object(
                        {
                            "message": _STRING,
                            "expected_check_character": _NULLABLE_STRING,
                            "suggestion": _NULLABLE_STRING,
                        }
                    ),
                ]
            },
        }
    ),
    "JWK": _object(
        {
            "kty": {"const": "OKP"},
            "crv": {"const": "Ed25519"},
            "x": _STRING,
            "kid": _STRING,
            "use": {"const": "sig"},
            "alg": _STRING,
            "issuer": _STRING,
            "status": {"enum": ["active", "retired", "compromised"]},
        },
        required=["kty", "crv", "x", "kid"],
    ),
    "CheckRequest": _object(
        {
            "queries": {
                "type": "array",
                "items": _STRING,
                "description": "certificate numbers, USCCs or exact organisation names",
            },
            "as_of": {**_DATE, "description": "the tender date (default: today)"},
        },
        required=["queries"],
    ),
    "Receipt": _object(
        {
            "receipt": {
                "type": "object",
                "description": "`check-receipt/1`: what was asked and answered, and when",
            },
            "signature": _ref("Signature"),
        }
    ),
    "InclusionProof": _object(
        {
            "index": {**_INT, "minimum": 0},
            "tree_size": {**_INT, "minimum": 1},
            "leaf_hash": {**_STRING, "description": "base64 (RFC 4648 §4)"},
            "proof": {"type": "array", "items": _STRING},
            "checkpoint": {**_STRING, "description": "the C2SP signed note the proof is against"},
        }
    ),
    "ConsistencyProof": _object(
        {"size1": _INT, "size2": _INT, "proof": {"type": "array", "items": _STRING}}
    ),
    "Entries": _object(
        {
            "tree_size": _INT,
            "entries": {
                "type": "array",
                "items": _object(
                    {
                        "index": _INT,
                        "kind": {"enum": ["record", "key"]},
                        "appended_at": _TIME,
                        "data": {**_STRING, "description": "the exact bytes, base64"},
                    }
                ),
            },
        }
    ),
}


def _json(schema: Schema, description: str, headers: dict[str, Schema] | None = None) -> Schema:
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> Schema:
    return _json(_ref("Error"), description)


_CACHED: dict[str, Schema] = {
    "ETag": {"schema": _STRING, "description": "strong validator; send it as If-None-Match"},
    "Cache-Control": {"schema": _STRING},
}
_NOT_MODIFIED: Schema = {"description": "Not modified (If-None-Match matched the ETag)"}
_NUMBER: Schema = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "certificate number",
    "schema": {"type": "string", "pattern": CERTIFICATE_NUMBER},
}
_ISSUER: Schema = {
    "name": "issuer",
    "in": "query",
    "required": False,
    "description": "issuer id; needed only when several issuers use the number (409)",
    "schema": {"type": "string", "pattern": ISSUER_ID},
}
#: Non-negative decimal integers as the log API parses them (at most 20 digits).
_COUNT: Schema = {"type": "string", "pattern": r"^[0-9]{1,20}$"}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_ISSUER_PATH: Schema = {
    "name": "issuer_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": ISSUER_ID},
}
_UNAVAILABLE = _error("The database is busy; nothing happened, retry after Retry-After")

PATHS: dict[str, Schema] = {
    "/api/v1/certificates/{number}": {
        "get": {
            "operationId": "getCertificate",
            "summary": "A certificate's current state, optionally its status on a date",
            "parameters": [
                _NUMBER,
                _ISSUER,
                {
                    "name": "at",
                    "in": "query",
                    "required": False,
                    "description": "also answer the status on this day (China Standard Time)",
                    "schema": {"type": "string", "format": "date"},
                },
                {
                    "name": "proof",
                    "in": "query",
                    "required": False,
                    "description": "`1` or `true`: add `log`, the inclusion proof of the version",
                    "schema": {"enum": ["1", "true", "0", "false"]},
                },
            ],
            "responses": {
                "200": _json(_ref("Certificate"), "The certificate", _CACHED),
                "304": _NOT_MODIFIED,
                "400": _error("InvalidDate: `at` is not YYYY-MM-DD"),
                "404": _error("CertificateNotFound; details.publishers says who publishes here"),
                "409": _error("AmbiguousNumber; details.issuers lists who uses the number"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/certificates/{number}/history": {
        "get": {
            "operationId": "getCertificateHistory",
            "summary": "Every version of a certificate, oldest first",
            "parameters": [_NUMBER, _ISSUER],
            "responses": {
                "200": _json(_ref("History"), "The versions", _CACHED),
                "304": _NOT_MODIFIED,
                "404": _error("CertificateNotFound"),
                "409": _error("AmbiguousNumber"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/organisations/{uscc}": {
        "get": {
            "operationId": "getOrganisation",
            "summary": "An organisation by unified social credit code, with its certificates",
            "parameters": [
                {
                    "name": "uscc",
                    "in": "path",
                    "required": True,
                    "description": "18-character USCC (GB 32100-2015)",
                    "schema": {"type": "string", "pattern": USCC},
                }
            ],
            "responses": {
                "200": _json(_ref("Organisation"), "The organisation", _CACHED),
                "304": _NOT_MODIFIED,
                "400": _error(
                    "InvalidUSCC; details.expected_check_character when only it is wrong"
                ),
                "404": _error("OrganisationNotFound"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/issuers": {
        "get": {
            "operationId": "getIssuers",
            "summary": "Every issuer publishing here, when each last pushed, how many certificates",
            "responses": {
                "200": _json(_ref("Issuers"), "The issuers", _CACHED),
                "304": _NOT_MODIFIED,
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/schemes": {
        "get": {
            "operationId": "getSchemes",
            "summary": "The schemes and tiers this registry knows, with score thresholds",
            "responses": {
                "200": _json(_ref("Schemes"), "The schemes", _CACHED),
                "304": _NOT_MODIFIED,
            },
        }
    },
    "/api/v1/search": {
        "get": {
            "operationId": "search",
            "summary": "Certificates by number, USCC or any part of an organisation's names",
            "parameters": [
                {
                    **_query(
                        "q",
                        {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                        f"the query, at most {MAX_QUERY_LENGTH} characters once trimmed",
                    ),
                    "required": True,
                },
                _query(
                    "status",
                    {"enum": [s.value for s in Status]},
                    "only certificates with this status",
                ),
                _query("scheme", _STRING, "only this scheme (its id, e.g. after-sales-service)"),
                _query("tier", _STRING, "only this tier (its name, e.g. 五星级)"),
                _query("issuer", {"type": "string", "pattern": ISSUER_ID}, "only this issuer"),
                _query("cursor", _STRING, "next_cursor of the previous page"),
                _query("limit", {"type": "string", "pattern": r"^[0-9]{1,3}$"}, "1-100 (20)"),
            ],
            "responses": {
                "200": _json(_ref("SearchResult"), "One page of results, by organisation"),
                "400": _error(
                    "EmptyQuery, InvalidLimit, UnknownStatus, UnknownScheme, UnknownTier, "
                    "InvalidIssuer, InvalidCursor, ..."
                ),
                "429": _error("RateLimited: see Retry-After"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/checks": {
        "post": {
            "operationId": "bulkCheck",
            "summary": "Check a list of bidders as of a date; answers a registry-signed receipt",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("CheckRequest")}},
            },
            "responses": {
                "201": _json(
                    {
                        "allOf": [
                            _object({"id": _STRING, "url": _STRING}),
                            _ref("Receipt"),
                        ]
                    },
                    "The stored receipt",
                ),
                "400": _error("MalformedCheck, InvalidDate, MalformedJSON, ..."),
                "415": _error("UnsupportedMediaType"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/receipts/{receipt_id}": {
        "get": {
            "operationId": "getReceipt",
            "summary": "A stored bulk-check receipt",
            "parameters": [
                {
                    "name": "receipt_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": r"^[A-Za-z2-7]{1,32}$"},
                }
            ],
            "responses": {
                "200": _json(_ref("Receipt"), "The receipt"),
                "404": _error("ReceiptNotFound"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/receipts/key": {
        "get": {
            "operationId": "getReceiptKey",
            "summary": "The registry's receipt-signing public key (JWK)",
            "responses": {"200": _json(_ref("JWK"), "The key")},
        }
    },
    "/api/v1/issuers/{issuer_id}/reports": {
        "get": {
            "operationId": "getLabelReports",
            "summary": "Consumers' reports about an issuer's labels (signed requests only)",
            "description": "Authorization: Registry-Signature kid=…, created=…, signature=… "
            "(docs/api-scan.md).",
            "parameters": [
                _ISSUER_PATH,
                _query("since", _TIME, "only reports from this time"),
                _query(
                    "after", {"type": "string", "pattern": r"^[0-9]{1,18}$"}, "the last id seen"
                ),
            ],
            "responses": {
                "200": _json({"type": "object"}, "The reports"),
                "400": _error("InvalidParameter"),
                "401": _error(_ISSUER_AUTH_ERRORS),
            },
        }
    },
    "/api/v1/issuers/{issuer_id}/scans": {
        "get": {
            "operationId": "getScanCounts",
            "summary": "Scan counts of an issuer's labels (signed requests only)",
            "parameters": [
                _ISSUER_PATH,
                _query("since", _DATE, "the first day (China Standard Time; default 30 days ago)"),
            ],
            "responses": {
                "200": _json({"type": "object"}, "The counts"),
                "400": _error("InvalidParameter"),
                "401": _error(_ISSUER_AUTH_ERRORS),
            },
        }
    },
    "/.well-known/jwks.json": {
        "get": {
            "operationId": "getJWKS",
            "summary": "Every issuer key the registry trusts or trusted (RFC 7517 JWKS)",
            "responses": {
                "200": {
                    "description": "The key set",
                    "content": {
                        "application/jwk-set+json": {
                            "schema": _object({"keys": {"type": "array", "items": _ref("JWK")}})
                        }
                    },
                    "headers": _CACHED,
                },
                "304": _NOT_MODIFIED,
            },
        }
    },
    "/api/v1/records": {
        "post": {
            "operationId": "pushRecords",
            "summary": "Push one envelope, or a batch of up to REGISTRY_MAX_BATCH envelopes",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                _ref("Envelope"),
                                {"type": "array", "items": _ref("Envelope"), "minItems": 1},
                            ]
                        }
                    }
                },
            },
            "responses": {
                "200": _json(_ref("IngestReport"), "A batch (per-item results), or a duplicate"),
                "201": _json(_ref("IngestReport"), "The one envelope was accepted"),
                "400": _error("MalformedJSON, MalformedEnvelope or EmptyBatch"),
                "413": _error("PayloadTooLarge or BatchTooLarge"),
                "415": _error("UnsupportedMediaType: send application/json"),
                "422": _json(_ref("IngestReport"), "The one envelope was rejected"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/keys/rollover": {
        "post": {
            "operationId": "rolloverKey",
            "summary": "An issuer's key-rollover statement, signed by a current key",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Rollover")}},
            },
            "responses": {
                "201": _json(_ref("KeyEvent"), "The new key and its log entry"),
                "400": _error("MalformedJSON or MalformedEnvelope"),
                "415": _error("UnsupportedMediaType"),
                "422": _error("UnknownKey, BadSignature, KeyCompromised, InvalidField, ..."),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/log/proof/inclusion": {
        "get": {
            "operationId": "getInclusionProof",
            "summary": "Inclusion proof by ?index, or by ?certificate (&issuer, &version)",
            "parameters": [
                _query("index", _COUNT, "log index of the entry"),
                _query(
                    "certificate",
                    {"type": "string", "pattern": CERTIFICATE_NUMBER},
                    "certificate number (instead of index)",
                ),
                _ISSUER,
                _query("version", _COUNT, "with certificate: this version (default current)"),
                _query("tree_size", _COUNT, "size of a published checkpoint (default latest)"),
            ],
            "responses": {
                "200": _json(_ref("InclusionProof"), "The proof"),
                "400": _error("InvalidParameter or OutOfRange"),
                "404": _error("CertificateNotFound, VersionNotFound or CheckpointNotFound"),
                "409": _error("AmbiguousNumber"),
                "500": _error("LogIncomplete: the store lacks rows a checkpoint covers"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/log/proof/consistency": {
        "get": {
            "operationId": "getConsistencyProof",
            "summary": "Consistency proof between tree sizes ?size1 and ?size2",
            "parameters": [
                {**_query("size1", _COUNT, "the older tree size"), "required": True},
                _query("size2", _COUNT, "the newer tree size (default: latest checkpoint)"),
            ],
            "responses": {
                "200": _json(_ref("ConsistencyProof"), "The proof"),
                "400": _error("InvalidParameter or OutOfRange"),
                "500": _error("LogIncomplete"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/v1/log/entries": {
        "get": {
            "operationId": "getLogEntries",
            "summary": "Entries start <= index < end (at most 1000), bounded by the checkpoint",
            "parameters": [
                {**_query("start", _COUNT, "first index"), "required": True},
                _query("end", _COUNT, "one past the last index"),
            ],
            "responses": {
                "200": _json(_ref("Entries"), "The entries"),
                "400": _error("InvalidParameter or OutOfRange"),
                "500": _error("LogIncomplete"),
                "503": _UNAVAILABLE,
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "getOpenAPI",
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "The OpenAPI 3.1 document")},
        }
    },
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict each call; callers may modify it)."""
    import copy

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Certificate Registry API",
            "version": "1",
            "description": "Look up service certificates and push signed records. Human guide: "
            "docs/api.md; signed formats: docs/formats.md.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": copy.deepcopy(PATHS),
        "components": {"schemas": copy.deepcopy(SCHEMAS)},
    }


@bp.get("/api/openapi.json")
def get_openapi() -> Response:
    """The document, cacheable for an hour and open to any origin (it is public)."""
    response = jsonify(document())
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
