"""The certificate record: schema, rules, and the JSON round trip."""

import copy
from datetime import date
from typing import Any

import pytest

from registry.domain.problems import ProblemCode, RecordInvalid
from registry.domain.record import Record
from registry.domain.schemes import SCHEMES
from registry.domain.status import PUSHABLE_STATUSES, Status
from registry.sample import records

MINIMAL: dict[str, Any] = {
    "type": "certificate-record/1",
    "certificate_number": "CQC-ASS-2024-000123",
    "issuer": "CNCA-R-2002-001",
    "version": 1,
    "organisation": {"name": "海尔智家股份有限公司", "uscc": "91110000802100433B"},
    "scheme": "after-sales-service",
    "standard": "GB/T 27922-2011",
    "tier": "五星级",
    "score": {"value": 96, "scale": 100},
    "scope": "家用电器的销售及售后服务（安装、维修、退换货）",
    "original_issue_date": "2021-03-01",
    "issue_date": "2024-03-01",
    "expiry_date": "2027-02-28",
    "status": "valid",
}

FULL: dict[str, Any] = {
    **MINIMAL,
    "version": 3,
    "organisation": {
        "name": "海尔智家股份有限公司",
        "uscc": "91110000802100433B",
        "address": "山东省青岛市崂山区海尔路1号",
        "former_names": ["青岛海尔股份有限公司"],
    },
    "scope": "家用电器的销售及售后服务\n（安装、维修、退换货）",
    "status": "suspended",
    "status_reason": "监督审核未按期实施",
    "status_effective_date": "2025-04-01",
    "surveillance": {"last_audit_date": "2024-03-01", "next_due_date": "2025-03-01"},
    "sites": [
        {"name": "青岛服务中心", "address": "山东省青岛市崂山区海尔路1号", "scope": "售后维修"},
        {"name": "Shanghai service centre", "address": "上海市浦东新区", "scope": "安装"},
    ],
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """A copy of MINIMAL with ``path`` (dotted, list indices as ints) set or, for ..., removed."""
    record = copy.deepcopy(MINIMAL)
    *parents, last = path.split(".")
    target: Any = record
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return record


def merged(**changes: Any) -> dict[str, Any]:
    """A copy of MINIMAL with top-level keys replaced (or removed when the value is ...)."""
    record = copy.deepcopy(MINIMAL)
    for key, value in changes.items():
        if value is ...:
            del record[key]
        else:
            record[key] = value
    return record


@pytest.mark.parametrize("obj", [MINIMAL, FULL], ids=["minimal", "full"])
def test_round_trip(obj: dict[str, Any]) -> None:
    record = Record.from_json(obj)
    assert record.to_json() == obj
    assert Record.from_json(record.to_json()) == record


def _stored_cases() -> list[dict[str, Any]]:
    """MINIMAL, FULL, empty optional collections, and sample records of every scheme."""
    empty = merged(sites=[], surveillance={"next_due_date": "2025-03-01"})
    empty["organisation"]["former_names"] = []
    today = date(2026, 3, 1)
    return [MINIMAL, FULL, empty, *records(300, ["CNCA-R-2002-001", "CNCA-R-2009-042"], 5, today)]


def test_from_stored_builds_what_from_json_builds() -> None:
    cases = _stored_cases()
    assert {obj["scheme"] for obj in cases} == {scheme.id for scheme in SCHEMES}
    assert {obj["status"] for obj in cases} == {s.value for s in PUSHABLE_STATUSES}
    for obj in cases:
        record = Record.from_stored(obj)
        assert record == Record.from_json(obj), obj
        assert record.to_json() == obj


def test_from_stored_does_not_validate() -> None:
    # It is for the registry's own store only: a rule broken there is not noticed here.
    record = Record.from_stored(merged(expiry_date="2023-01-01"))
    assert record.expiry_date == date(2023, 1, 1)
    with pytest.raises(RecordInvalid):
        Record.from_json(merged(expiry_date="2023-01-01"))
    with pytest.raises(KeyError):
        Record.from_stored(merged(issuer=...))


def test_parsed_values() -> None:
    record = Record.from_json(FULL)
    assert record.key == ("CNCA-R-2002-001", "CQC-ASS-2024-000123")
    assert record.status is Status.SUSPENDED
    assert record.effective_from == date(2025, 4, 1)
    assert Record.from_json(MINIMAL).effective_from == date(2024, 3, 1)
    assert record.scheme_def.standard == "GB/T 27922-2011"
    assert record.tier_def.code == "5S"
    assert record.organisation.former_names == ("青岛海尔股份有限公司",)
    assert record.sites is not None
    assert record.sites[1].scope == "安装"


def test_round_trip_keeps_empty_optional_collections() -> None:
    obj = merged(sites=[], surveillance={})
    obj["organisation"]["former_names"] = []
    assert Record.from_json(obj).to_json() == obj


# One or more cases per problem code; each names the field the problem must point at.
INVALID: list[tuple[str, dict[str, Any] | object, ProblemCode, str | None]] = [
    ("not an object", ["a list"], ProblemCode.INVALID_FIELD, None),
    ("null", None, ProblemCode.INVALID_FIELD, None),
    ("missing scope", merged(scope=...), ProblemCode.MISSING_FIELD, "scope"),
    ("missing type", merged(type=...), ProblemCode.MISSING_FIELD, "type"),
    (
        "missing uscc",
        changed("organisation.uscc", ...),
        ProblemCode.MISSING_FIELD,
        "organisation.uscc",
    ),
    ("missing score", merged(score=...), ProblemCode.MISSING_FIELD, "score"),
    ("missing score scale", changed("score.scale", ...), ProblemCode.MISSING_FIELD, "score.scale"),
    (
        "suspended without reason",
        merged(status="suspended", status_effective_date="2025-01-01"),
        ProblemCode.MISSING_FIELD,
        "status_reason",
    ),
    (
        "withdrawn without date",
        merged(status="withdrawn", status_reason="违规"),
        ProblemCode.MISSING_FIELD,
        "status_effective_date",
    ),
    ("wrong type marker", merged(type="certificate-record/2"), ProblemCode.INVALID_FIELD, "type"),
    ("version is a bool", merged(version=True), ProblemCode.INVALID_FIELD, "version"),
    ("version is a float", merged(version=1.0), ProblemCode.INVALID_FIELD, "version"),
    ("version zero", merged(version=0), ProblemCode.INVALID_FIELD, "version"),
    ("version a string", merged(version="1"), ProblemCode.INVALID_FIELD, "version"),
    (
        "number starts with dash",
        merged(certificate_number="-CQC-1"),
        ProblemCode.INVALID_FIELD,
        "certificate_number",
    ),
    (
        "number too long",
        merged(certificate_number="A" * 25),
        ProblemCode.INVALID_FIELD,
        "certificate_number",
    ),
    (
        "number with space",
        merged(certificate_number="CQC 1"),
        ProblemCode.INVALID_FIELD,
        "certificate_number",
    ),
    (
        "number with newline",
        merged(certificate_number="CQC1\n"),
        ProblemCode.INVALID_FIELD,
        "certificate_number",
    ),
    ("issuer lower case", merged(issuer="cnca-r-2002-001"), ProblemCode.INVALID_FIELD, "issuer"),
    ("issuer too long", merged(issuer="A" * 17), ProblemCode.INVALID_FIELD, "issuer"),
    (
        "organisation a string",
        merged(organisation="海尔"),
        ProblemCode.INVALID_FIELD,
        "organisation",
    ),
    (
        "name empty",
        changed("organisation.name", ""),
        ProblemCode.INVALID_FIELD,
        "organisation.name",
    ),
    (
        "name blank",
        changed("organisation.name", "   "),
        ProblemCode.INVALID_FIELD,
        "organisation.name",
    ),
    (
        "name too long",
        changed("organisation.name", "海" * 201),
        ProblemCode.INVALID_FIELD,
        "organisation.name",
    ),
    (
        "name a number",
        changed("organisation.name", 42),
        ProblemCode.INVALID_FIELD,
        "organisation.name",
    ),
    (
        "former names a string",
        changed("organisation.former_names", "旧名"),
        ProblemCode.INVALID_FIELD,
        "organisation.former_names",
    ),
    (
        "former name a number",
        changed("organisation.former_names", ["旧名", 3]),
        ProblemCode.INVALID_FIELD,
        "organisation.former_names[1]",
    ),
    (
        "address null",
        changed("organisation.address", None),
        ProblemCode.INVALID_FIELD,
        "organisation.address",
    ),
    (
        "standard mismatch",
        merged(standard="GB/T 19039-2009"),
        ProblemCode.INVALID_FIELD,
        "standard",
    ),
    ("score a number", merged(score=96), ProblemCode.INVALID_FIELD, "score"),
    ("score above scale", changed("score.value", 101), ProblemCode.INVALID_FIELD, "score.value"),
    ("score negative", changed("score.value", -1), ProblemCode.INVALID_FIELD, "score.value"),
    (
        "score scale not in scheme",
        changed("score.scale", 10),
        ProblemCode.INVALID_FIELD,
        "score.scale",
    ),
    ("scope too long", merged(scope="售" * 2001), ProblemCode.INVALID_FIELD, "scope"),
    (
        "date in another form",
        merged(issue_date="20240301"),
        ProblemCode.INVALID_FIELD,
        "issue_date",
    ),
    (
        "date with time",
        merged(issue_date="2024-03-01T00:00:00"),
        ProblemCode.INVALID_FIELD,
        "issue_date",
    ),
    (
        "not a calendar date",
        merged(expiry_date="2027-02-30"),
        ProblemCode.INVALID_FIELD,
        "expiry_date",
    ),
    ("date a number", merged(expiry_date=20270228), ProblemCode.INVALID_FIELD, "expiry_date"),
    ("sites an object", merged(sites={}), ProblemCode.INVALID_FIELD, "sites"),
    ("site a string", merged(sites=["青岛"]), ProblemCode.INVALID_FIELD, "sites[0]"),
    ("surveillance a list", merged(surveillance=[]), ProblemCode.INVALID_FIELD, "surveillance"),
    (
        "site missing scope",
        merged(sites=[{"name": "青岛", "address": "青岛"}]),
        ProblemCode.MISSING_FIELD,
        "sites[0].scope",
    ),
    ("extra key", merged(comment="hi"), ProblemCode.UNKNOWN_FIELD, "comment"),
    (
        "extra org key",
        changed("organisation.legal_person", "张三"),
        ProblemCode.UNKNOWN_FIELD,
        "organisation.legal_person",
    ),
    ("extra score key", changed("score.max", 100), ProblemCode.UNKNOWN_FIELD, "score.max"),
    (
        "extra surveillance key",
        merged(surveillance={"auditor": "李四"}),
        ProblemCode.UNKNOWN_FIELD,
        "surveillance.auditor",
    ),
    (
        "extra site key",
        merged(sites=[{"name": "a", "address": "b", "scope": "c", "tel": "1"}]),
        ProblemCode.UNKNOWN_FIELD,
        "sites[0].tel",
    ),
    (
        "bad check character",
        changed("organisation.uscc", "91110000802100433C"),
        ProblemCode.INVALID_USCC,
        "organisation.uscc",
    ),
    (
        "uscc too short",
        changed("organisation.uscc", "9111000080210043"),
        ProblemCode.INVALID_USCC,
        "organisation.uscc",
    ),
    (
        "uscc a number",
        changed("organisation.uscc", 911100008021004),
        ProblemCode.INVALID_FIELD,
        "organisation.uscc",
    ),
    (
        "original after issue",
        merged(original_issue_date="2024-03-02"),
        ProblemCode.DATE_ORDER,
        "original_issue_date",
    ),
    (
        "expiry on issue day",
        merged(expiry_date="2024-03-01"),
        ProblemCode.DATE_ORDER,
        "expiry_date",
    ),
    (
        "expiry before issue",
        merged(expiry_date="2023-03-01"),
        ProblemCode.DATE_ORDER,
        "expiry_date",
    ),
    (
        "status before original issue",
        merged(status_effective_date="2021-02-28"),
        ProblemCode.DATE_ORDER,
        "status_effective_date",
    ),
    (
        "audit before original issue",
        merged(surveillance={"last_audit_date": "2020-01-01"}),
        ProblemCode.DATE_ORDER,
        "surveillance.last_audit_date",
    ),
    (
        "next audit before last",
        merged(surveillance={"last_audit_date": "2025-01-01", "next_due_date": "2024-12-01"}),
        ProblemCode.DATE_ORDER,
        "surveillance.next_due_date",
    ),
    (
        "validity past anniversary",
        merged(expiry_date="2027-03-02"),
        ProblemCode.VALIDITY_TOO_LONG,
        "expiry_date",
    ),
    (
        "validity four years",
        merged(expiry_date="2028-03-01"),
        ProblemCode.VALIDITY_TOO_LONG,
        "expiry_date",
    ),
    (
        # The last day of the calendar has no end, which "valid on a date" answers need.
        "expiry on the calendar's last day",
        merged(issue_date="9999-01-01", expiry_date="9999-12-31"),
        ProblemCode.INVALID_FIELD,
        "expiry_date",
    ),
    (
        "tier above score",
        merged(tier="五星级", score={"value": 94, "scale": 100}),
        ProblemCode.TIER_SCORE_MISMATCH,
        "tier",
    ),
    (
        "tier below score",
        merged(tier="三星级", score={"value": 960, "scale": 1000}),
        ProblemCode.TIER_SCORE_MISMATCH,
        "tier",
    ),
    (
        "score earns no tier",
        merged(tier="达标级", score={"value": 60, "scale": 100}),
        ProblemCode.TIER_SCORE_MISMATCH,
        "tier",
    ),
    ("unknown scheme", merged(scheme="quality-management"), ProblemCode.UNKNOWN_SCHEME, "scheme"),
    ("scheme a list", merged(scheme=["after-sales-service"]), ProblemCode.INVALID_FIELD, "scheme"),
    ("unknown tier", merged(tier="六星级"), ProblemCode.UNKNOWN_TIER, "tier"),
    ("tier of another scheme", merged(tier="A+"), ProblemCode.UNKNOWN_TIER, "tier"),
    (
        "name not NFC",
        changed("organisation.name", "Cafe\u0301有限公司"),
        ProblemCode.NOT_NFC,
        "organisation.name",
    ),
    ("scope not NFC", merged(scope="e\u0301"), ProblemCode.NOT_NFC, "scope"),
    (
        "bidi override in name",
        changed("organisation.name", "海尔\u202e智家"),
        ProblemCode.FORBIDDEN_CHARACTER,
        "organisation.name",
    ),
    (
        "zero width in former name",
        changed("organisation.former_names", ["海\u200b尔"]),
        ProblemCode.FORBIDDEN_CHARACTER,
        "organisation.former_names[0]",
    ),
    (
        "newline in name",
        changed("organisation.name", "海尔\n智家"),
        ProblemCode.FORBIDDEN_CHARACTER,
        "organisation.name",
    ),
    (
        "control in site scope",
        merged(sites=[{"name": "a", "address": "b", "scope": "c\x07"}]),
        ProblemCode.FORBIDDEN_CHARACTER,
        "sites[0].scope",
    ),
    (
        "control in reason",
        merged(status="suspended", status_reason="a\x1b", status_effective_date="2025-01-01"),
        ProblemCode.FORBIDDEN_CHARACTER,
        "status_reason",
    ),
    ("status expired", merged(status="expired"), ProblemCode.INVALID_STATUS, "status"),
    ("status unknown", merged(status="revoked"), ProblemCode.INVALID_STATUS, "status"),
    ("status capitalised", merged(status="Valid"), ProblemCode.INVALID_STATUS, "status"),
    ("status a number", merged(status=1), ProblemCode.INVALID_FIELD, "status"),
]


@pytest.mark.parametrize(
    ("obj", "code", "field"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_invalid_records(obj: object, code: ProblemCode, field: str | None) -> None:
    with pytest.raises(RecordInvalid) as caught:
        Record.from_json(obj)
    found = [(problem.code, problem.field) for problem in caught.value.problems]
    assert (code, field) in found
    # Messages name their field, so "; "-joined messages stay readable.
    for problem in caught.value.problems:
        if problem.field is not None:
            assert problem.message.startswith(f"{problem.field}: ")


def test_every_record_problem_code_has_a_case() -> None:
    registry_level = {
        ProblemCode.UNKNOWN_ISSUER,
        ProblemCode.UNKNOWN_KEY,
        ProblemCode.BAD_SIGNATURE,
        ProblemCode.KEY_COMPROMISED,
        ProblemCode.STALE_VERSION,
        ProblemCode.BAD_SCAN_TOKEN,
        ProblemCode.SCAN_TOKEN_MISMATCH,
        ProblemCode.MALFORMED_ENVELOPE,
    }
    assert {case[2] for case in INVALID} == set(ProblemCode) - registry_level


@pytest.mark.parametrize(
    ("issue", "expiry"),
    [
        ("2024-03-01", "2027-03-01"),  # the anniversary itself
        ("2024-02-29", "2027-02-28"),  # 29 February falls back to 28 February
        ("2024-01-31", "2024-02-01"),
    ],
)
def test_validity_limits_that_pass(issue: str, expiry: str) -> None:
    Record.from_json(merged(original_issue_date=issue, issue_date=issue, expiry_date=expiry))


def test_a_validity_limit_past_the_calendar_is_no_limit() -> None:
    """Issued in 9998, three years would end in 10001: no expiry in the calendar is after it."""
    Record.from_json(
        merged(original_issue_date="9998-01-01", issue_date="9998-01-01", expiry_date="9999-12-30")
    )


def test_leap_day_anniversary_is_not_extended() -> None:
    obj = merged(
        original_issue_date="2024-02-29", issue_date="2024-02-29", expiry_date="2027-03-01"
    )
    with pytest.raises(RecordInvalid) as caught:
        Record.from_json(obj)
    assert caught.value.codes == {ProblemCode.VALIDITY_TOO_LONG}


def test_all_problems_are_collected() -> None:
    obj = merged(
        version=0,
        issuer="x",
        tier="六星级",
        expiry_date="2020-01-01",
        status="expired",
        extra=1,
    )
    obj["organisation"]["uscc"] = "91110000802100433C"
    with pytest.raises(RecordInvalid) as caught:
        Record.from_json(obj)
    assert caught.value.codes == {
        ProblemCode.INVALID_FIELD,
        ProblemCode.UNKNOWN_FIELD,
        ProblemCode.INVALID_USCC,
        ProblemCode.UNKNOWN_TIER,
        ProblemCode.DATE_ORDER,
        ProblemCode.INVALID_STATUS,
    }
    assert len(caught.value.problems) == 7
    assert "; " in str(caught.value)


def test_tier_mismatch_says_which_tier_the_score_earns() -> None:
    with pytest.raises(RecordInvalid, match="a score of 92 of 100 earns '四星级', not '五星级'"):
        Record.from_json(merged(score={"value": 92, "scale": 100}))


def test_uscc_message_gives_the_expected_check_character() -> None:
    with pytest.raises(RecordInvalid, match="check character should be 'B', not 'C'"):
        Record.from_json(changed("organisation.uscc", "91110000802100433C"))


@pytest.mark.parametrize(
    ("scheme", "standard", "tier", "score"),
    [
        ("good-after-sales-service", "GB/T 27922-2011", "A+", {"value": 91, "scale": 100}),
        ("good-after-sales-service", "GB/T 27922-2011", "A", {"value": 850, "scale": 1000}),
        ("customer-satisfaction", "GB/T 19039-2009", "八星级", {"value": 862, "scale": 1000}),
        ("after-sales-service", "GB/T 27922-2011", "达标级", {"value": 700, "scale": 1000}),
    ],
)
def test_other_schemes_and_tiers(
    scheme: str, standard: str, tier: str, score: dict[str, int]
) -> None:
    obj = merged(scheme=scheme, standard=standard, tier=tier, score=score)
    assert Record.from_json(obj).to_json() == obj


def test_valid_record_may_carry_a_reinstatement_date() -> None:
    obj = merged(status_effective_date="2025-06-01", status_reason="整改完成，恢复证书")
    assert Record.from_json(obj).effective_from == date(2025, 6, 1)


def test_hand_built_record_with_unknown_scheme_raises_on_scheme_def() -> None:
    record = Record.from_json(MINIMAL)
    broken = Record(**{**record.__dict__, "scheme": "nope"})
    with pytest.raises(RecordInvalid):
        _ = broken.scheme_def
    broken_tier = Record(**{**record.__dict__, "tier": "nope"})
    with pytest.raises(RecordInvalid):
        _ = broken_tier.tier_def
