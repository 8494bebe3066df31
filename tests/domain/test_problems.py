"""Problems and RecordInvalid."""

import pytest

from registry.domain.problems import Problem, ProblemCode, RecordInvalid


def test_record_invalid_joins_messages() -> None:
    error = RecordInvalid(
        [
            Problem(ProblemCode.MISSING_FIELD, "scope", "scope: required field is missing"),
            Problem(ProblemCode.INVALID_USCC, "organisation.uscc", "organisation.uscc: bad"),
        ]
    )
    assert str(error) == "scope: required field is missing; organisation.uscc: bad"
    assert error.codes == {ProblemCode.MISSING_FIELD, ProblemCode.INVALID_USCC}


def test_record_invalid_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="at least one problem"):
        RecordInvalid([])


@pytest.mark.parametrize("code", list(ProblemCode))
def test_problem_json_round_trip(code: ProblemCode) -> None:
    problem = Problem(code, "sites[1].scope", "sites[1].scope: something")
    assert Problem.from_json(problem.to_json()) == problem
    assert problem.to_json()["code"] == code.value


def test_codes_are_stable_strings() -> None:
    # API clients branch on these values; changing one is a breaking change.
    assert [code.value for code in ProblemCode] == [
        "MissingField",
        "InvalidField",
        "UnknownField",
        "InvalidUSCC",
        "DateOrder",
        "ValidityTooLong",
        "TierScoreMismatch",
        "UnknownScheme",
        "UnknownTier",
        "NotNFC",
        "ForbiddenCharacter",
        "InvalidStatus",
        "UnknownIssuer",
        "UnknownKey",
        "BadSignature",
        "KeyCompromised",
        "StaleVersion",
        "BadScanToken",
        "ScanTokenMismatch",
        "MalformedEnvelope",
    ]


def test_problem_from_json_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="code and message"):
        Problem.from_json({"code": None, "field": None, "message": "x"})
    with pytest.raises(ValueError, match="NoSuchCode"):
        Problem.from_json({"code": "NoSuchCode", "field": None, "message": "x"})
