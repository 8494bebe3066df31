"""The search service on SQLite and PostgreSQL: every way of reading a query, filters, cursors
walked to the end against a brute-force search, and the index kept right by ingest and rebuild."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from registry.app import Registry
from registry.client import Signer
from registry.domain.status import Status
from registry.fastjson import dumps_bytes, loads
from registry.sample import organisations, records
from registry.services import search as search_service
from registry.services import search_cards, search_index
from registry.services.ingest import ingest
from registry.services.lookup import derived_status
from registry.services.search import SearchError, SearchQuery, SearchResult, search
from registry.store.models import Certificate, Organisation
from registry.store.search import GramCount, NameGram, SearchCard, SearchOrganisation
from registry.web.search import cards_body, result_json
from tests.conftest import ISSUER_ID, SECOND_ISSUER_ID, Clock, record_json

TODAY = dt.date(2026, 3, 1)
OTHER_ISSUER = SECOND_ISSUER_ID

#: Valid USCCs with correct check characters, from the sample generator.
USCC = [o.uscc for o in organisations(8, seed=11)]

#: ASCII letters, digits and "-" to their full-width forms, as an input method types them.
_FULL = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def certificate(
    number: str,
    name: str,
    uscc: str,
    *,
    former: Sequence[str] = (),
    tier: str = "五星级",
    score: int = 96,
    status: str = "valid",
    issue: str = "2024-03-01",
    expiry: str = "2027-02-28",
    issuer: str = ISSUER_ID,
    version: int = 1,
) -> dict[str, Any]:
    """An after-sales-service record for ``name``."""
    organisation: dict[str, Any] = {"name": name, "uscc": uscc}
    if former:
        organisation["former_names"] = list(former)
    extra: dict[str, Any] = {}
    if status != "valid":
        extra = {"status_reason": "监督审核未通过", "status_effective_date": "2025-06-01"}
    return record_json(
        certificate_number=number,
        issuer=issuer,
        version=version,
        organisation=organisation,
        tier=tier,
        score={"value": score, "scale": 100},
        status=status,
        original_issue_date=issue,
        issue_date=issue,
        expiry_date=expiry,
        **extra,
    )


#: The hand-made registry most tests search: (record, signed by the other issuer?).
CATALOGUE: list[tuple[dict[str, Any], bool]] = [
    (certificate("ASS-0001", "杭州海川电器有限公司", USCC[0], former=["杭州海川电器厂"]), False),
    # The organisation's names are those of the latest record pushed for it.
    (
        certificate(
            "ASS-0002",
            "杭州海川电器有限公司",
            USCC[0],
            former=["杭州海川电器厂"],
            tier="达标级",
            score=75,
        ),
        True,
    ),
    (certificate("ASS-0003", "深圳市华信科技有限公司", USCC[1]), False),
    (
        certificate(
            "ASS-0004", "深圳市华信物流有限公司", USCC[2], issue="2022-03-01", expiry="2025-02-28"
        ),
        False,
    ),
    (certificate("ASS-0005", "100%_纯\\净水有限公司", USCC[3], status="suspended"), False),
    (certificate("ASS-0006", "ABC电子商务有限公司", USCC[4], status="withdrawn"), False),
    (certificate("GASS-0100", "北京京东方家电服务部", USCC[5], tier="四星级", score=91), True),
]


Push = Callable[[Iterable[dict[str, Any]], bool], None]


@pytest.fixture
def push(state: Registry, signer: Signer, second_signer: Signer, clock: Clock) -> Push:
    """Sign records (by the test issuer, or the second one) and ingest them in one commit."""

    def push(rows: Iterable[dict[str, Any]], by_other: bool = False) -> None:
        envelopes = []
        for row in rows:
            if by_other:
                row = {**row, "issuer": OTHER_ISSUER}
            envelopes.append((second_signer if by_other else signer).envelope(row, issued_at=1))
        with state.sessions() as session:
            report = ingest(session, envelopes, clock.now)
            assert report.count("accepted") == len(envelopes), report.to_json()
            session.commit()

    return push


@pytest.fixture
def catalogue(push: Push) -> None:
    for row, by_other in CATALOGUE:
        push([row], by_other)


def find(session: Session, text: str, **options: Any) -> SearchResult:
    return search(session, SearchQuery(text, **options), TODAY)


def names(result: SearchResult) -> list[str]:
    return [group.name for group in result.groups]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # one character, two characters, longer, anywhere in the name
        ("海", ["杭州海川电器有限公司"]),
        ("华", ["深圳市华信科技有限公司", "深圳市华信物流有限公司"]),
        ("华信", ["深圳市华信科技有限公司", "深圳市华信物流有限公司"]),
        ("华信物流", ["深圳市华信物流有限公司"]),
        ("京东方家电", ["北京京东方家电服务部"]),
        ("市华信科技有限公司", ["深圳市华信科技有限公司"]),
        # the whole name
        ("杭州海川电器有限公司", ["杭州海川电器有限公司"]),
        # NFKC and case folding: fullwidth and lower case find ASCII names
        ("abc", ["ABC电子商务有限公司"]),
        ("ＡＢＣ电子", ["ABC电子商务有限公司"]),
        # LIKE wildcards and the escape character are literal
        ("%", ["100%_纯\\净水有限公司"]),
        ("_", ["100%_纯\\净水有限公司"]),
        ("\\", ["100%_纯\\净水有限公司"]),
        ("0%_纯\\净", ["100%_纯\\净水有限公司"]),
        ("纯_净", []),
        ("%纯", []),
        ("100%%", []),
        # no match, short and long
        ("鑫", []),
        ("不存在的公司", []),
        ("华信电器", []),
    ],
)
def test_name_search_finds_substrings(session: Session, text: str, expected: list[str]) -> None:
    result = find(session, text)
    assert sorted(names(result)) == sorted(expected)
    assert result.kind == ("name" if expected else "empty")
    assert result.next_cursor is None


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("text", ["电器厂", "器厂", "厂"])
def test_a_former_name_finds_the_organisation_and_says_which(session: Session, text: str) -> None:
    result = find(session, text)
    [group] = result.groups
    assert (group.name, group.matched_former_name) == ("杭州海川电器有限公司", "杭州海川电器厂")
    assert group.former_names == ("杭州海川电器厂",)


@pytest.mark.usefixtures("catalogue")
def test_matching_the_current_name_names_no_former_name(session: Session) -> None:
    [group] = find(session, "海川电器").groups
    assert group.matched_former_name is None


@pytest.mark.usefixtures("catalogue")
def test_results_are_grouped_by_organisation_with_every_certificate(session: Session) -> None:
    [group] = find(session, "海川").groups
    assert group.uscc == USCC[0]
    assert [(c.certificate_number, c.issuer_id, c.tier) for c in group.certificates] == [
        ("ASS-0001", ISSUER_ID, "五星级"),
        ("ASS-0002", OTHER_ISSUER, "达标级"),
    ]
    assert all(c.status is Status.VALID for c in group.certificates)


@pytest.mark.usefixtures("catalogue")
def test_status_is_derived_on_the_day_asked(session: Session) -> None:
    [group] = find(session, "华信物流").groups
    [cert] = group.certificates
    assert cert.expiry_date == dt.date(2025, 2, 28)
    assert cert.status is Status.EXPIRED
    [before] = search(session, SearchQuery("华信物流"), dt.date(2025, 2, 28)).groups
    assert before.certificates[0].status is Status.VALID


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"status": "valid"},
            {"杭州海川电器有限公司", "深圳市华信科技有限公司", "北京京东方家电服务部"},
        ),
        ({"status": "expired"}, {"深圳市华信物流有限公司"}),
        ({"status": "suspended"}, {"100%_纯\\净水有限公司"}),
        ({"status": "withdrawn"}, {"ABC电子商务有限公司"}),
        ({"status": "cancelled"}, set()),
        ({"tier": "达标级"}, {"杭州海川电器有限公司"}),
        ({"tier": "四星级", "scheme": "after-sales-service"}, {"北京京东方家电服务部"}),
        ({"scheme": "customer-satisfaction"}, set()),
        ({"issuer": OTHER_ISSUER}, {"杭州海川电器有限公司", "北京京东方家电服务部"}),
        ({"issuer": OTHER_ISSUER, "tier": "五星级"}, set()),
    ],
)
def test_filters_apply_to_certificates(
    session: Session, options: dict[str, str], expected: set[str]
) -> None:
    # 有 is in every name but one; 公 and 服务 cover the rest.
    found: set[str] = set()
    for text in ("有", "服务部"):
        result = find(session, text, **options)
        found |= set(names(result))
        for group in result.groups:
            for cert in group.certificates:
                if "tier" in options:
                    assert cert.tier == options["tier"]
                if "issuer" in options:
                    assert cert.issuer_id == options["issuer"]
                if "status" in options:
                    assert cert.status.value == options["status"]
    assert found == expected


@pytest.mark.usefixtures("catalogue")
# A Chinese input method in full-width mode types "ＡＳＳ－０００３".
@pytest.mark.parametrize("text", ["ASS-0003", "ass-0003", "  ASS-0003 ", "ＡＳＳ－０００３"])
def test_a_certificate_number_finds_its_certificate(session: Session, text: str) -> None:
    result = find(session, text)
    assert result.kind == "number"
    [group] = result.groups
    assert group.name == "深圳市华信科技有限公司"
    assert [c.certificate_number for c in group.certificates] == ["ASS-0003"]


@pytest.mark.usefixtures("catalogue")
def test_a_number_prefix_pages_through_numbers_in_order(session: Session) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        result = find(session, "ASS-000", limit=2, cursor=cursor)
        assert result.kind == "number"
        seen += [c.certificate_number for g in result.groups for c in g.certificates]
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == [f"ASS-000{i}" for i in range(1, 7)]
    assert pages == 3


@pytest.mark.usefixtures("catalogue")
def test_a_number_prefix_is_not_a_substring_search(session: Session) -> None:
    assert find(session, "SS-0001").kind == "empty"
    assert [c.certificate_number for c in find(session, "GASS").groups[0].certificates] == [
        "GASS-0100"
    ]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    "text", [USCC[1], USCC[1].lower(), unicodedata.normalize("NFKC", USCC[1]).translate(_FULL)]
)
def test_a_uscc_finds_its_organisation(session: Session, text: str) -> None:
    result = find(session, text)
    assert result.kind == "uscc"
    assert result.uscc_problem is None
    assert names(result) == ["深圳市华信科技有限公司"]


def wrong_check(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:17] + alphabet[(alphabet.index(code[17]) + 1) % 31]


@pytest.mark.usefixtures("catalogue")
def test_a_uscc_with_a_wrong_check_character_suggests_the_right_code(session: Session) -> None:
    typo = wrong_check(USCC[1])
    result = find(session, typo)
    assert (result.kind, result.groups, result.next_cursor) == ("uscc", [], None)
    problem = result.uscc_problem
    assert problem is not None
    assert problem.expected_check_character == USCC[1][17]
    assert problem.suggestion == USCC[1]
    assert "深圳市华信科技有限公司" in problem.message
    assert f"should be {USCC[1][17]}" in problem.message


@pytest.mark.usefixtures("catalogue")
def test_a_corrected_code_that_nobody_holds_is_said_so(session: Session) -> None:
    typo = wrong_check(USCC[7])
    problem = find(session, typo).uscc_problem
    assert problem is not None
    assert problem.suggestion == USCC[7]
    assert "not registered here" in problem.message


@pytest.mark.usefixtures("catalogue")
def test_an_unregistered_valid_uscc_answers_no_organisation(session: Session) -> None:
    result = find(session, USCC[7])
    assert (result.kind, result.groups, result.uscc_problem) == ("uscc", [], None)


@pytest.mark.usefixtures("catalogue")
def test_a_code_shaped_query_with_bad_division_digits_is_a_problem_without_suggestion(
    session: Session,
) -> None:
    problem = find(session, "91AB0100MA2H3B4C5X").uscc_problem
    assert problem is not None
    assert (problem.expected_check_character, problem.suggestion) == (None, None)


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"text": ""}, "EmptyQuery"),
        ({"text": " \u3000 "}, "EmptyQuery"),
        ({"text": "华" * 101}, "QueryTooLong"),
        ({"text": "x" * 100_000}, "QueryTooLong"),
        ({"text": "华\x00信"}, "InvalidQuery"),
        ({"text": "华\n信"}, "InvalidQuery"),
        ({"text": "华\u202e信"}, "InvalidQuery"),
        ({"text": "华\u200b信"}, "InvalidQuery"),
        ({"text": "华", "limit": 0}, "InvalidLimit"),
        ({"text": "华", "limit": 101}, "InvalidLimit"),
        ({"text": "华", "status": "active"}, "UnknownStatus"),
        ({"text": "华", "scheme": "iso-9001"}, "UnknownScheme"),
        ({"text": "华", "tier": "白金级"}, "UnknownTier"),
        ({"text": "华", "tier": "九星级", "scheme": "after-sales-service"}, "UnknownTier"),
        ({"text": "华", "issuer": "cnca-r-2002-001"}, "InvalidIssuer"),
        ({"text": "华", "cursor": "!!"}, "InvalidCursor"),
        ({"text": "华", "cursor": "e30"}, "InvalidCursor"),  # "{}"
        ({"text": "华", "cursor": "WyJuYW1lIiwxLCJ4Il0"}, "InvalidCursor"),  # wrong query tag
        ({"text": "华", "cursor": "A" * 500}, "InvalidCursor"),
        ({"text": "华", "cursor": "_w"}, "InvalidCursor"),  # not JSON
    ],
)
def test_invalid_queries_raise_search_error(
    session: Session, options: dict[str, Any], code: str
) -> None:
    options = dict(options)  # the table is shared by both backends' runs
    text = options.pop("text")
    with pytest.raises(SearchError) as raised:
        find(session, text, **options)
    assert raised.value.code == code


@pytest.mark.usefixtures("catalogue")
def test_a_cursor_continues_only_its_own_query(session: Session) -> None:
    cursor = find(session, "有", limit=1).next_cursor
    assert cursor is not None
    assert find(session, "有", limit=1, cursor=cursor).groups
    with pytest.raises(SearchError, match="cursor"):
        find(session, "公", limit=1, cursor=cursor)
    with pytest.raises(SearchError, match="cursor"):
        find(session, "有", limit=1, cursor=cursor, status="valid")
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    with pytest.raises(SearchError):
        find(session, "有", limit=1, cursor=tampered)


# --- pagination against brute force ----------------------------------------------------------


def brute_force(session: Session, text: str, options: dict[str, str]) -> set[str]:
    """USCCs whose names contain ``text`` and that have a certificate passing ``options``."""
    query = search_index.normalise(text)
    matching = {
        org.uscc
        for org in session.execute(select(Organisation)).scalars()
        if any(
            query in search_index.normalise(n)
            for n in [org.name, *org.former_names.split("\n")]
            if n
        )
    }
    passing = set()
    for cert in session.execute(select(Certificate)).scalars():
        if options.get("status") and derived_status(cert, TODAY).value != options["status"]:
            continue
        if options.get("scheme") and cert.scheme != options["scheme"]:
            continue
        if options.get("tier") and cert.tier != options["tier"]:
            continue
        passing.add(cert.uscc)
    return matching & passing


def walk(session: Session, text: str, limit: int, options: dict[str, str]) -> list[str]:
    """Every USCC on every page of a search, in page order."""
    found: list[str] = []
    cursor = None
    for _ in range(1000):
        result = find(session, text, limit=limit, cursor=cursor, **options)
        assert len(result.groups) <= limit
        found += [group.uscc for group in result.groups]
        cursor = result.next_cursor
        if cursor is None:
            return found
    raise AssertionError("pagination did not end")


@pytest.fixture
def sample(push: Push, state: Registry) -> list[str]:
    """A few hundred sample certificates; returns query texts drawn from their names."""
    push(records(320, [ISSUER_ID], seed=5, today=TODAY), False)
    with state.sessions() as session:
        org_names = sorted(session.execute(select(Organisation.name)).scalars())
        former = [f for f in session.execute(select(Organisation.former_names)).scalars() if f]
    assert len(org_names) > 150
    assert former
    common = org_names[0][-2:]  # e.g. 公司
    return [
        "有",
        "科",
        org_names[3][2],
        common,
        org_names[7][2:4],
        org_names[11][1:5],
        org_names[19][:6],
        former[0].split("\n")[0][-3:],
        former[0].split("\n")[0][:4],
        "有限公司",
        "不存在",
    ]


@pytest.mark.parametrize(
    ("limit", "budget", "first", "options"),
    [
        (7, search_service.SCAN_BUDGET, search_service.SCAN_FIRST, {}),
        (20, search_service.SCAN_BUDGET, search_service.SCAN_FIRST, {"status": "valid"}),
        (5, 3, 3, {}),
        (3, 4, 4, {"status": "expired"}),
        (9, 5, 5, {"scheme": "after-sales-service", "tier": "五星级"}),
        (4, 9, 2, {}),
        (6, 7, 3, {"status": "valid"}),
    ],
)
def test_walking_every_page_finds_exactly_the_brute_force_answer(
    session: Session,
    sample: list[str],
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    budget: int,
    first: int,
    options: dict[str, str],
) -> None:
    # A small scan budget forces short pages that continue the scan: they must still add up,
    # also when a page walks a first short stretch and then the rest of its budget.
    monkeypatch.setattr(search_service, "SCAN_BUDGET", budget)
    monkeypatch.setattr(search_service, "SCAN_FIRST", first)
    for text in sample:
        walked = walk(session, text, limit, options)
        assert len(walked) == len(set(walked)), f"duplicates for {text!r}"
        assert set(walked) == brute_force(session, text, options), text
        keys = key_map(session)
        assert [keys[u] for u in walked] == sorted(keys[u] for u in walked), "not in key order"


def pages(session: Session, text: str, limit: int, options: dict[str, str]) -> list[Any]:
    """Every page of a search: its USCCs and the cursor after it."""
    out: list[Any] = []
    cursor = None
    while len(out) < 1000:
        result = find(session, text, limit=limit, cursor=cursor, **options)
        out.append(([group.uscc for group in result.groups], result.next_cursor))
        cursor = result.next_cursor
        if cursor is None:
            break
    return out


@pytest.mark.parametrize("options", [{}, {"status": "valid"}, {"status": "withdrawn"}])
def test_a_page_walked_in_two_stretches_is_the_page_walked_in_one(
    session: Session, sample: list[str], monkeypatch: pytest.MonkeyPatch, options: dict[str, str]
) -> None:
    monkeypatch.setattr(search_service, "SCAN_BUDGET", 8)
    for text in sample:
        monkeypatch.setattr(search_service, "SCAN_FIRST", 8)
        whole = pages(session, text, 3, options)
        monkeypatch.setattr(search_service, "SCAN_FIRST", 3)
        assert pages(session, text, 3, options) == whole, text


def key_map(session: Session) -> dict[str, int]:
    return {
        u: k for u, k in session.execute(select(SearchOrganisation.uscc, SearchOrganisation.key))
    }


# --- the index --------------------------------------------------------------------------------


def index_state(session: Session) -> tuple[dict[str, set[int]], dict[str, int]]:
    postings: dict[str, set[int]] = {}
    for gram, key in session.execute(select(NameGram.gram, NameGram.org_key)):
        postings.setdefault(gram, set()).add(key)
    counts = {g: n for g, n in session.execute(select(GramCount.gram, GramCount.count)) if n}
    return postings, counts


def expected_postings(session: Session) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for key, hay in session.execute(select(SearchOrganisation.key, SearchOrganisation.haystack)):
        for gram in search_index.grams(hay):
            out.setdefault(gram, set()).add(key)
    return out


@pytest.mark.usefixtures("catalogue")
def test_a_rename_moves_the_organisation_to_its_new_grams(push: Push, session: Session) -> None:
    push(
        [
            certificate(
                "ASS-0003",
                "深圳市鸿蒙智行有限公司",
                USCC[1],
                former=["深圳市华信科技有限公司"],
                version=2,
            )
        ],
        False,
    )
    assert names(find(session, "鸿蒙")) == ["深圳市鸿蒙智行有限公司"]
    [group] = find(session, "华信科技").groups
    assert group.matched_former_name == "深圳市华信科技有限公司"
    push(
        [certificate("ASS-0003", "深圳市鸿蒙智行有限公司", USCC[1], version=3)],
        False,
    )
    assert find(session, "华信科技").kind == "empty"
    postings, counts = index_state(session)
    assert postings == expected_postings(session)
    assert counts == {g: len(keys) for g, keys in postings.items()}


def test_postings_are_written_in_gram_then_key_order() -> None:
    postings, gains = search_index._by_gram([(7, {"b", "ab"}), (3, {"ab", "a"}), (5, set())])
    assert postings == [("a", 3), ("ab", 3), ("ab", 7), ("b", 7)]
    assert gains == {"a": 1, "ab": 2, "b": 1}


def test_rebuild_restores_the_index_and_keeps_keys(
    push: Push, state: Registry, session: Session
) -> None:
    push(records(60, [ISSUER_ID], seed=9, today=TODAY), False)
    before = key_map(session)
    incremental = index_state(session)
    with state.sessions() as writer:
        writer.execute(NameGram.__table__.delete())
        writer.execute(GramCount.__table__.delete())
        # An organisation the index never saw gets a key after all the others.
        writer.execute(
            SearchOrganisation.__table__.delete().where(SearchOrganisation.uscc == min(before))
        )
        writer.commit()
    assert find(session, "有").kind == "empty"
    session.rollback()  # end the read transaction: on PostgreSQL the rebuild truncates
    with state.sessions() as writer:
        report = search_index.rebuild(writer)
        writer.commit()
    after = key_map(session)
    assert {u: k for u, k in after.items() if u != min(before)} == {
        u: k for u, k in before.items() if u != min(before)
    }
    assert after[min(before)] > max(before.values())
    postings, counts = index_state(session)
    assert postings == expected_postings(session)
    assert counts == {g: len(keys) for g, keys in postings.items()}
    assert sum(len(v) for v in incremental[0].values()) == report.postings
    assert report.organisations == len(after)
    assert session.execute(select(func.count()).select_from(NameGram)).scalar() == report.postings


# --- search cards ------------------------------------------------------------------------------


def as_api(session: Session, state: Registry, text: str, day: dt.date, **options: Any) -> bytes:
    """The search API's body for a query, from the certificate rows (:func:`search`)."""
    query = SearchQuery(text, **options)
    return dumps_bytes(result_json(query.text.strip(), search(session, query, day)))


def from_cards(state: Registry, text: str, day: dt.date, **options: Any) -> bytes | None:
    """The same body from the search cards, or None where they cannot answer."""
    return cards_body(state.engine, SearchQuery(text, **options), day)


def next_cursor(body: bytes) -> str | None:
    cursor: str | None = loads(body)["next_cursor"]
    return cursor


@pytest.mark.parametrize(
    ("limit", "budget", "first"),
    [(20, search_service.SCAN_BUDGET, search_service.SCAN_FIRST), (4, 3, 3), (3, 8, 2)],
)
def test_every_page_from_the_cards_is_the_page_from_the_certificates(
    session: Session,
    state: Registry,
    sample: list[str],
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    budget: int,
    first: int,
) -> None:
    monkeypatch.setattr(search_service, "SCAN_BUDGET", budget)
    monkeypatch.setattr(search_service, "SCAN_FIRST", first)
    pages = 0
    for text in [*sample, "  科 ", "ＡＢＣ科"]:  # full-width, not only ASCII: a name
        cursor = None
        for _ in range(200):
            expected = as_api(session, state, text, TODAY, limit=limit, cursor=cursor)
            assert from_cards(state, text, TODAY, limit=limit, cursor=cursor) == expected, text
            pages += 1
            cursor = next_cursor(expected)
            if cursor is None:
                break
    assert pages > 40


@pytest.mark.usefixtures("catalogue")
def test_cards_name_the_former_name_that_matched(session: Session, state: Registry) -> None:
    body = from_cards(state, "电器厂", TODAY)
    assert body == as_api(session, state, "电器厂", TODAY)
    [result] = loads(body or b"{}")["results"]
    assert result["organisation"]["matched_former_name"] == "杭州海川电器厂"
    assert [c["certificate_number"] for c in result["certificates"]] == ["ASS-0001", "ASS-0002"]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("华信", {"status": "valid"}),
        ("华信", {"scheme": "after-sales-service"}),
        ("华信", {"tier": "五星级"}),
        ("华信", {"issuer": ISSUER_ID}),
        ("ASS-0001", {}),  # shaped like a number: tried as one first
        (USCC[1], {}),
    ],
)
def test_filtered_number_and_code_searches_are_not_answered_from_cards(
    state: Registry, text: str, options: dict[str, str]
) -> None:
    assert from_cards(state, text, TODAY, **options) is None


@pytest.mark.usefixtures("catalogue")
def test_invalid_queries_raise_from_the_cards_too(state: Registry) -> None:
    with pytest.raises(SearchError) as raised:
        from_cards(state, "华信", TODAY, cursor="not-a-cursor")
    assert raised.value.code == "InvalidCursor"


def card_rows(session: Session) -> dict[str, tuple[Any, ...]]:
    session.rollback()  # see the latest commits
    return {
        row[0]: tuple(row[1:])
        for row in session.execute(
            select(
                SearchOrganisation.uscc,
                SearchCard.card,
                SearchCard.holds_from,
                SearchCard.holds_until,
            ).join(SearchCard, SearchCard.key == SearchOrganisation.key)
        )
    }


def rendered_afresh(session: Session, day: dt.date) -> dict[str, tuple[Any, ...]]:
    usccs = sorted(session.execute(select(SearchOrganisation.uscc)).scalars())
    return {
        c.uscc: (c.text, c.holds_from, c.holds_until)
        for c in search_service.render_cards(session.connection(), usccs, day)
    }


@pytest.mark.usefixtures("catalogue")
def test_ingest_keeps_every_card_as_it_would_be_rendered_afresh(
    push: Push, session: Session, state: Registry, clock: Clock
) -> None:
    day = clock.now.date()
    assert card_rows(session) == rendered_afresh(session, day)
    # A rename, a suspension, and a certificate moving to another organisation.
    push(
        [
            certificate("ASS-0003", "深圳市鸿蒙智行有限公司", USCC[1], version=2),
            certificate("ASS-0001", "杭州海川电器有限公司", USCC[0], status="suspended", version=2),
            certificate("ASS-0004", "深圳市华信科技有限公司", USCC[1], version=2),
        ],
        False,
    )
    rows = card_rows(session)
    assert rows == rendered_afresh(session, day)
    # The organisation left without certificates is no result, and says so in its card.
    assert rows[USCC[2]] == ("", None, None)
    body = from_cards(state, "华信物流", TODAY)
    assert body == as_api(session, state, "华信物流", TODAY)
    assert loads(body or b"{}")["kind"] == "empty"


@pytest.mark.usefixtures("catalogue")
def test_a_card_is_used_only_on_the_days_its_statuses_hold(
    session: Session, state: Registry
) -> None:
    # 深圳市华信科技 holds one valid certificate expiring 2027-02-28; 华信物流 one that
    # expired on 2025-02-28 (rendered on 2026-03-01: it reads "expired").
    rows = card_rows(session)
    assert rows[USCC[1]][1:] == (None, dt.date(2027, 2, 28))
    assert rows[USCC[2]][1:] == (dt.date(2025, 3, 1), None)
    assert from_cards(state, "华信科技", dt.date(2027, 2, 28)) is not None
    later = dt.date(2027, 3, 1)
    assert from_cards(state, "华信科技", later) is None  # the certificate has expired since
    assert from_cards(state, "华信物流", dt.date(2025, 2, 28)) is None  # not expired yet then
    with state.sessions() as writer:
        # Every organisation with a valid or suspended certificate expiring on 2027-02-28.
        assert search_cards.refresh_all(writer, later, stale_only=True) == 4
        writer.commit()
    body = from_cards(state, "华信科技", later)
    assert body == as_api(session, state, "华信科技", later)
    assert b'"code":"expired"' in (body or b"")
    with state.sessions() as writer:
        assert search_cards.refresh_all(writer, later, stale_only=True) == 0
        assert search_cards.refresh_all(writer, later) == len(rows)
        writer.commit()


@pytest.mark.usefixtures("catalogue")
def test_a_missing_card_leaves_the_page_to_the_certificate_rows(
    session: Session, state: Registry
) -> None:
    with state.sessions() as writer:
        key = writer.execute(
            select(SearchOrganisation.key).where(SearchOrganisation.uscc == USCC[1])
        ).scalar_one()
        writer.execute(delete(SearchCard).where(SearchCard.key == key))
        writer.commit()
    assert from_cards(state, "华信", TODAY) is None
    assert from_cards(state, "海川", TODAY) == as_api(session, state, "海川", TODAY)
    with state.sessions() as writer:
        assert search_cards.refresh_all(writer, TODAY, stale_only=True) == 1
        writer.commit()
    assert from_cards(state, "华信", TODAY) == as_api(session, state, "华信", TODAY)


@pytest.mark.usefixtures("catalogue")
def test_refresh_renders_an_organisation_named_twice_once(state: Registry) -> None:
    """One card a call and organisation: a bulk upsert must not meet one key twice (on
    PostgreSQL one statement cannot update a row twice)."""
    with state.sessions() as writer:
        assert search_cards.refresh(writer, [USCC[1], USCC[0], USCC[1]], TODAY) == 2
        writer.commit()
