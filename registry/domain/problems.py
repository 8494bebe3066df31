"""Validation problems: one exception type, many stable problem codes.

Every rule in the registry that rejects input names its reason with a :class:`ProblemCode`, so
API clients can branch on a code that never changes while people read the English message. All
codes live here, including those raised outside the domain layer (signatures, scan tokens,
envelopes), so there is one list to document and translate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Problem", "ProblemCode", "RecordInvalid"]


class ProblemCode(StrEnum):
    """The stable codes of validation problems (their values appear in API responses)."""

    # Record schema and rules (registry.domain.record and friends).
    MISSING_FIELD = "MissingField"
    INVALID_FIELD = "InvalidField"
    UNKNOWN_FIELD = "UnknownField"
    INVALID_USCC = "InvalidUSCC"
    DATE_ORDER = "DateOrder"
    VALIDITY_TOO_LONG = "ValidityTooLong"
    TIER_SCORE_MISMATCH = "TierScoreMismatch"
    UNKNOWN_SCHEME = "UnknownScheme"
    UNKNOWN_TIER = "UnknownTier"
    NOT_NFC = "NotNFC"
    FORBIDDEN_CHARACTER = "ForbiddenCharacter"
    INVALID_STATUS = "InvalidStatus"
    # Registry-level checks (crypto, services): kept here so all codes live in one place.
    UNKNOWN_ISSUER = "UnknownIssuer"
    UNKNOWN_KEY = "UnknownKey"
    BAD_SIGNATURE = "BadSignature"
    KEY_COMPROMISED = "KeyCompromised"
    STALE_VERSION = "StaleVersion"
    # S105 mistakes "Token" in these names for a password.
    BAD_SCAN_TOKEN = "BadScanToken"  # noqa: S105
    SCAN_TOKEN_MISMATCH = "ScanTokenMismatch"  # noqa: S105
    MALFORMED_ENVELOPE = "MalformedEnvelope"


@dataclass(frozen=True)
class Problem:
    """One reason why input was rejected.

    Attributes:
        code: the stable machine-readable code.
        field: a JSON path into the offending object, e.g. ``"organisation.uscc"`` or
            ``"sites[1].scope"``; ``None`` when the problem concerns the whole object.
        message: a human-readable English sentence; it names the field when there is one.
    """

    code: ProblemCode
    field: str | None
    message: str

    def to_json(self) -> dict[str, str | None]:
        """Return the problem as a JSON object ``{"code", "field", "message"}``."""
        return {"code": self.code.value, "field": self.field, "message": self.message}

    @classmethod
    def from_json(cls, obj: dict[str, str | None]) -> Problem:
        """Build a problem from :meth:`to_json` output.

        Raises:
            ValueError: if the code is unknown or the message missing.
        """
        code = obj.get("code")
        message = obj.get("message")
        if not isinstance(code, str) or not isinstance(message, str):
            raise ValueError("a problem needs a string code and message")
        return cls(ProblemCode(code), obj.get("field"), message)


class RecordInvalid(Exception):
    """Input was rejected; ``problems`` lists every reason found, never just the first.

    ``str(error)`` is the messages joined with ``"; "``.
    """

    problems: tuple[Problem, ...]

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("RecordInvalid needs at least one problem")
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def codes(self) -> frozenset[ProblemCode]:
        """The distinct codes among the problems (convenient for tests and metrics)."""
        return frozenset(p.code for p in self.problems)
