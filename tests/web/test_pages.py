"""The public pages through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from registry.app import Registry
from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.domain.schemes import SCHEMES
from registry.domain.status import Status
from registry.services.issuers import mark_compromised, register_issuer
from registry.web.pages import filter_options
from tests.conftest import ISSUER_ID, Clock, record_json
from tests.conftest import push_accepted as push

MakeEnvelope = Callable[..., dict[str, Any]]
NUMBER = "CQC-ASS-2024-000123"
USCC = "91330100MA2H3B4C5X"


def page(client: FlaskClient, url: str, status: int = 200, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found is not None
    return found.group(1)


def verdict(html: str) -> tuple[str, str]:
    """The verdict banner's status class and the word it shows."""
    found = re.search(
        r'class="verdict verdict--(\w+)".*?class="verdict__status">([^<]+)<', html, re.S
    )
    assert found is not None, "no verdict banner"
    return found.group(1), found.group(2)


# -- home --------------------------------------------------------------------------------------


def test_home_has_one_search_box_and_is_cacheable(client: FlaskClient) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('name="q"') == 1
    assert 'action="/search"' in html
    assert response.cache_control.max_age == 60
    assert response.cache_control.public
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


@pytest.mark.parametrize(
    ("url", "cookie", "accept_language", "expected"),
    [
        ("/", None, None, "zh-CN"),
        ("/", None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("/", None, "en-US,en;q=0.9", "en"),
        ("/", None, "en-GB", "en"),
        ("/", None, "fr-FR,de;q=0.5", "zh-CN"),
        ("/", "en", "zh-CN", "en"),
        ("/", "xx", "en", "en"),
        ("/?lang=en", None, "zh-CN", "en"),
        ("/?lang=zh", "en", "en", "zh-CN"),
        ("/?lang=xx", None, "en", "en"),
    ],
)
def test_language_from_query_then_cookie_then_accept_language(
    client: FlaskClient,
    url: str,
    cookie: str | None,
    accept_language: str | None,
    expected: str,
) -> None:
    if cookie is not None:
        client.set_cookie("lang", cookie)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    html = page(client, url, **headers)
    assert html_lang(html) == expected
    assert ("Check a service certificate" in html) == (expected == "en")
    assert ("查询服务认证证书" in html) == (expected == "zh-CN")


def test_lang_query_is_remembered_in_a_cookie_and_not_cached_publicly(
    client: FlaskClient,
) -> None:
    response = client.get("/?lang=en")
    assert "lang=en" in response.headers["Set-Cookie"]
    assert response.cache_control.private
    assert not response.cache_control.public
    # The next page, with no ?lang and a Chinese browser, stays English.
    assert html_lang(page(client, "/", **{"Accept-Language": "zh-CN"})) == "en"


# -- certificate -------------------------------------------------------------------------------


def test_certificate_page_shows_verdict_facts_and_links(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(
        client,
        make_envelope(
            scope="家用电器的销售\n安装、维修及退换货",
            sites=[{"name": "宁波服务中心", "address": "浙江省宁波市", "scope": "维修"}],
            surveillance={"last_audit_date": "2025-02-20", "next_due_date": "2026-06-01"},
        ),
    )
    html = page(client, f"/c/{NUMBER}")
    assert verdict(html) == ("valid", "有效")
    assert "五星级" in html
    assert "售后服务体系卓越" in html
    assert "96 分（满分 100 分）" in html
    assert "家用电器的销售\n安装、维修及退换货" in html
    assert 'class="pre-line"' in html
    assert f'href="/o/{USCC}"' in html
    assert "杭州海川电器有限公司" in html
    assert "测试认证中心" in html
    assert ISSUER_ID in html
    assert "宁波服务中心" in html
    assert "2027-02-28" in html
    assert "2024-03-01" in html
    assert "2021-03-01" in html
    assert "查询时间：2026-03-01 16:00 北京时间" in html  # clock 08:00 UTC, shown in CST
    assert "监督审核已逾期" not in html
    assert f'href="/api/v1/certificates/{NUMBER}"' in html
    assert f'href="/c/{NUMBER}/qr.svg"' in html
    assert 'name="at"' in html


def test_certificate_page_in_english(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    push(client, make_envelope())
    html = page(client, f"/c/{NUMBER}?lang=en")
    assert verdict(html) == ("valid", "Valid")
    assert "Five-star" in html
    assert "leading its industry" in html
    assert "Test Certification Centre" in html
    assert "Checked at 2026-03-01 16:00 China Standard Time" in html


def test_overdue_surveillance_is_marked(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    # record_json's next audit was due 2026-02-28; the clock says 2026-03-01.
    push(client, make_envelope())
    assert "监督审核已逾期" in page(client, f"/c/{NUMBER}")


@pytest.mark.parametrize(
    ("changes", "advance_days", "expected"),
    [
        (
            {
                "status": "suspended",
                "status_reason": "年度监督审核未按期进行",
                "status_effective_date": "2026-02-01",
            },
            0,
            ("suspended", "暂停"),
        ),
        (
            {
                "status": "withdrawn",
                "status_reason": "获证组织不再满足认证要求",
                "status_effective_date": "2026-02-01",
            },
            0,
            ("withdrawn", "撤销"),
        ),
        (
            {
                "status": "cancelled",
                "status_reason": "获证组织申请注销",
                "status_effective_date": "2026-02-01",
            },
            0,
            ("cancelled", "注销"),
        ),
        ({}, 400, ("expired", "过期")),
    ],
    ids=["suspended", "withdrawn", "cancelled", "expired"],
)
def test_verdict_per_status_with_reason_in_banner_and_history(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    clock: Clock,
    changes: dict[str, Any],
    advance_days: int,
    expected: tuple[str, str],
) -> None:
    push(client, make_envelope())
    if changes:
        clock.advance(hours=1)
        push(client, make_envelope(version=2, **changes))
    clock.advance(days=advance_days)
    html = page(client, f"/c/{NUMBER}")
    assert verdict(html) == expected
    if changes:
        reason = changes["status_reason"]
        assert html.count(f"原因：{reason}") == 2  # in the banner and in the timeline
        assert "（自 2026-02-01 起）" in html
        assert html.count('class="timeline__item"') == 2
        assert html.index("第 2 版") < html.index("第 1 版")  # newest first
    assert "有效期至 2027-02-28" not in html or expected[0] == "valid"


def test_status_on_a_date_says_what_the_registry_knew_then(
    client: FlaskClient, make_envelope: MakeEnvelope, clock: Clock
) -> None:
    # Version 1 arrived on 2026-03-01; on 2026-03-05 the issuer pushed a suspension that took
    # effect back on 2025-06-01.
    push(client, make_envelope())
    clock.advance(days=4)
    push(
        client,
        make_envelope(
            version=2,
            status="suspended",
            status_reason="监督审核不合格",
            status_effective_date="2025-06-01",
        ),
    )

    html = page(client, f"/c/{NUMBER}?at=2026-03-01")
    answer = html[html.index("at-answer") :]
    assert "2026-03-01 当天的状态：" in answer
    assert "tag--suspended" in answer.split("</p>")[0]
    assert "依据第 2 版记录（本站于 2026-03-05 16:00 北京时间 收到）" in answer
    assert "本站是在该日之后才得知这一状态的" in answer
    assert "tag--valid" in answer  # what the registry would have answered that day

    answer = page(client, f"/c/{NUMBER}?at=2026-03-05")
    answer = answer[answer.index("at-answer") :]
    assert "tag--suspended" in answer
    assert "本站在当天已掌握这一状态。" in answer

    answer = page(client, f"/c/{NUMBER}?at=2024-06-01")
    answer = answer[answer.index("at-answer") :]
    assert "tag--valid" in answer
    assert "在 2024-06-01 当天，本站尚未收到该证书的任何记录。" in answer

    html = page(client, f"/c/{NUMBER}?at=2020-01-01")
    assert "2020-01-01 时该证书尚未颁发。" in html

    # A day still to come: the record's answer for it, which a later version may change.
    answer = page(client, f"/c/{NUMBER}?at=2026-12-01")
    answer = answer[answer.index("at-answer") :]
    assert "tag--suspended" in answer
    assert "本站在当天已掌握这一状态。" not in answer
    assert "该日期尚未到来" in answer


@pytest.mark.parametrize("at", ["2025-13-01", "yesterday", "2025/06/30", "9999-12-31", "20250630"])
def test_a_malformed_date_is_explained_on_the_page(
    client: FlaskClient, make_envelope: MakeEnvelope, at: str
) -> None:
    push(client, make_envelope())
    html = page(client, f"/c/{NUMBER}?at={at}", status=400)
    assert "请按 年-月-日 格式输入日期" in html
    assert verdict(html) == ("valid", "有效")  # the certificate is still shown


@pytest.mark.parametrize(
    ("compromised_since", "expected"),
    [
        # Received after the reported compromise: it may be forged.
        (-1, ('class="warning" role="alert"', "可能并非认证机构发布")),
        # Received before it: shown, with a note.
        (+1, ('class="warning"><strong>注意：', "本站在报告的泄露时间之前已收到此版本")),
    ],
    ids=["after", "before"],
)
def test_a_compromised_signing_key_is_called_out(
    client: FlaskClient,
    make_envelope: MakeEnvelope,
    state: Registry,
    clock: Clock,
    issuer_key: PrivateKey,
    compromised_since: int,
    expected: tuple[str, str],
) -> None:
    push(client, make_envelope())
    with state.sessions() as session:
        mark_compromised(
            session,
            issuer_key.public_key.thumbprint,
            clock.now + dt.timedelta(hours=compromised_since),
            clock.now,
        )
        session.commit()
    html = page(client, f"/c/{NUMBER}")
    for text in expected:
        assert text in html


def test_a_number_used_by_two_issuers_offers_a_choice(
    client: FlaskClient, make_envelope: MakeEnvelope, state: Registry, clock: Clock
) -> None:
    push(client, make_envelope())
    other_key = PrivateKey.from_seed(b"issuer-two-seed-for-tests-000002")
    with state.sessions() as session:
        register_issuer(
            session,
            "CNCA-R-2003-002",
            "第二认证公司",
            None,
            other_key.public_key,
            clock.now,
            valid_from=clock.now - dt.timedelta(days=1),
        )
        session.commit()
    push(
        client,
        Signer(other_key).envelope(record_json(issuer="CNCA-R-2003-002"), issued_at=1_767_225_600),
    )

    html = page(client, f"/c/{NUMBER}")
    assert f'href="/c/{NUMBER}?issuer={ISSUER_ID}"' in html
    assert f'href="/c/{NUMBER}?issuer=CNCA-R-2003-002"' in html
    assert "第二认证公司" in html

    chosen = page(client, f"/c/{NUMBER}?issuer=CNCA-R-2003-002")
    assert verdict(chosen) == ("valid", "有效")
    assert "第二认证公司" in chosen
    assert 'name="issuer" value="CNCA-R-2003-002"' in chosen  # the ?at form keeps the choice


# -- not found ---------------------------------------------------------------------------------


def test_unknown_number_is_404_and_names_the_publishers(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    html = page(client, "/c/CQC-ASS-2099-999999", status=404)
    assert "本站没有编号为 CQC-ASS-2099-999999 的证书" in html
    assert "证书是伪造的，或者认证机构尚未把它上传到本站" in html
    publishers = html[html.index('class="table publishers"') :]
    assert "测试认证中心" in publishers
    assert ISSUER_ID in publishers
    assert "2026-03-01 16:00 北京时间" in publishers  # when it last pushed
    assert re.search(r">\s*1\s*</td>", publishers)  # how many certificates it publishes


def test_not_found_says_when_an_issuer_never_pushed(client: FlaskClient, signer: Signer) -> None:
    html = page(client, "/c/NOPE-1?lang=en", status=404)
    assert "Test Certification Centre" in html
    assert "Not yet" in html


@pytest.mark.parametrize(
    ("uscc", "expected"),
    [
        ("91330100MA2H3B4C5Y", "第 18 位应为 X"),  # wrong check character
        ("91110000600037341L", "本站没有统一社会信用代码为 91110000600037341L 的组织"),
        ("not-a-code", "这不是一个有效的统一社会信用代码"),
    ],
)
def test_unknown_or_invalid_uscc_is_404(
    client: FlaskClient, make_envelope: MakeEnvelope, uscc: str, expected: str
) -> None:
    push(client, make_envelope())
    html = page(client, f"/o/{uscc}", status=404)
    assert expected in html
    assert "测试认证中心" in html


# -- organisation ------------------------------------------------------------------------------


def test_an_organisation_page_in_lower_case_redirects_to_the_code(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    response = client.get("/o/91330100ma2h3b4c5x?lang=en")
    assert response.status_code == 301
    assert response.headers["Location"] == "/o/91330100MA2H3B4C5X?lang=en"


def test_organisation_page_lists_its_certificates(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(
        client,
        make_envelope(),
        make_envelope(
            certificate_number="CQC-CS-2025-000007",
            scheme="customer-satisfaction",
            standard="GB/T 19039-2009",
            tier="八星级",
            score={"value": 860, "scale": 1000},
            organisation={**record_json()["organisation"], "former_names": ["海川电器厂"]},
        ),
    )
    html = page(client, f"/o/{USCC}")
    assert "<h1>杭州海川电器有限公司</h1>" in html
    assert "海川电器厂" in html  # former name
    assert "证书（2）" in html
    assert f'href="/c/{NUMBER}?issuer={ISSUER_ID}"' in html
    assert f'href="/c/CQC-CS-2025-000007?issuer={ISSUER_ID}"' in html
    assert "顾客满意评价" in html
    assert "八星级" in html
    assert html.count("tag--valid") == 2
    assert "Eight-star" in page(client, f"/o/{USCC}?lang=en")


# -- safety ------------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>"


def test_hostile_text_is_escaped_everywhere(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(
        client,
        make_envelope(
            scope=f"维修 {HOSTILE}",
            organisation={**record_json()["organisation"], "name": f"海川{HOSTILE}\"'公司"},
            status="suspended",
            status_reason=f"原因 {HOSTILE}",
            status_effective_date="2026-02-01",
        ),
    )
    for url in (f"/c/{NUMBER}", f"/o/{USCC}", f"/c/{NUMBER}?at=%3Cscript%3E"):
        html = client.get(url).get_data(as_text=True)
        assert HOSTILE not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get("/c/%3Cscript%3Ealert(1)%3C%2Fscript%3E").get_data(as_text=True)
    assert HOSTILE not in html


@pytest.mark.parametrize(
    "url",
    ["/", f"/c/{NUMBER}", f"/c/{NUMBER}?at=2025-01-01", f"/o/{USCC}", "/c/NOPE", "/no-such-page"],
)
def test_pages_have_no_inline_script_or_style(
    client: FlaskClient, make_envelope: MakeEnvelope, url: str
) -> None:
    push(client, make_envelope())
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no event handler attributes
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_error_pages_are_html_in_the_chosen_language(client: FlaskClient) -> None:
    response: TestResponse = client.get("/no-such-page?lang=en")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert html_lang(html) == "en"
    assert "Page not found" in html
    assert 'href="/no-such-page?lang=zh"' in html


# -- search ------------------------------------------------------------------------------------


def organisation(uscc17: str, name: str) -> dict[str, str]:
    from registry.domain.uscc import check_character

    return {"name": name, "uscc": uscc17 + check_character(uscc17)}


def test_a_name_search_lists_organisations_with_their_certificates(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    html = page(client, "/search?q=海川")
    assert f'href="/o/{USCC}"' in html
    assert f'href="/c/{NUMBER}?issuer={ISSUER_ID}"' in html
    assert "tag--valid" in html
    assert 'value="海川"' in html  # the box keeps the query
    assert "Five-star" in page(client, "/search?q=海川&lang=en")


def test_a_number_search_goes_straight_to_the_certificate(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    response = client.get(f"/search?q={NUMBER}")
    assert response.status_code == 302
    assert response.location == f"/c/{NUMBER}?issuer={ISSUER_ID}"


def test_an_unknown_number_points_to_the_honest_not_found(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    html = page(client, "/search?q=CQC-ASS-2099-000001")
    assert "没有找到与“CQC-ASS-2099-000001”相符的证书。" in html
    assert 'href="/c/CQC-ASS-2099-000001"' in html


@pytest.mark.parametrize(
    ("url", "status", "expected"),
    [
        ("/search", 200, 'name="q"'),
        ("/search?q=", 200, 'name="q"'),
        ("/search?q=海川&status=bogus", 400, "无法按此条件查询。"),
        ("/search?q=海川&tier=十星级", 400, "无法按此条件查询。"),
        (f"/search?q={'海' * 101}", 400, "无法按此条件查询。"),
    ],
    ids=["no-query", "empty-query", "bad-status", "bad-tier", "too-long"],
)
def test_search_without_a_usable_query(
    client: FlaskClient, url: str, status: int, expected: str
) -> None:
    html = page(client, url, status=status)
    assert expected in html
    assert 'class="results"' not in html


def test_a_mistyped_uscc_names_the_check_character(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    html = page(client, "/search?q=91330100MA2H3B4C5Y")
    assert "这不是有效的统一社会信用代码。" in html
    assert "第 18 位应为 X" in html
    # A code, not a certificate number: no link to look it up as a number.
    assert 'href="/c/91330100MA2H3B4C5Y"' not in html


def test_filters_narrow_the_results_and_stay_selected(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(
        client,
        make_envelope(),
        make_envelope(
            certificate_number="CQC-ASS-2024-000124",
            status="suspended",
            status_reason="监督审核不合格",
            status_effective_date="2026-02-01",
        ),
    )
    html = page(client, "/search?q=海川&status=suspended")
    assert "CQC-ASS-2024-000124" in html
    assert f">{NUMBER}<" not in html
    assert '<option value="suspended" selected>' in html
    assert '<details class="filters" open>' in html
    assert f">{NUMBER}<" in page(client, "/search?q=海川&status=valid&scheme=after-sales-service")


def test_the_filter_choices_are_every_status_scheme_and_tier_in_each_language() -> None:
    zh, en = filter_options("zh"), filter_options("en")
    assert [value for value, _ in zh.statuses] == [status.value for status in Status]
    assert dict(zh.statuses)["suspended"] == "暂停"
    assert dict(en.statuses)["suspended"] == "Suspended"
    assert [value for value, _ in en.schemes] == [scheme.id for scheme in SCHEMES]
    assert [[v for v, _ in tiers] for _, tiers in en.tiers] == [
        [tier.name for tier in scheme.tiers] for scheme in SCHEMES
    ]
    assert "Five-star" in dict(en.tiers[0][1]).values()
    assert "五星级" in dict(zh.tiers[0][1]).values()


def test_result_lines_are_in_the_page_language(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    push(client, make_envelope())
    html = page(client, "/search?q=海川&lang=en")
    line = re.search(
        r'<a href="/c/([^"]+)">([^<]+)</a>\s*<span class="tag tag--(\w+)">([^<]+)</span>', html
    )
    assert line is not None
    assert line.groups() == (f"{NUMBER}?issuer={ISSUER_ID}", NUMBER, "valid", "Valid")


def test_results_come_a_page_at_a_time(client: FlaskClient, make_envelope: MakeEnvelope) -> None:
    envelopes = [
        make_envelope(
            certificate_number=f"CQC-ASS-2024-{n:06d}",
            organisation=organisation(f"913301006{n:08d}", f"海川第{n}分公司"),
        )
        for n in range(25)
    ]
    push(client, *envelopes)
    first = page(client, "/search?q=海川&status=valid")
    found = re.search(r'href="(/search\?[^"]+)" rel="next"', first)
    assert found is not None
    next_url = found.group(1).replace("&amp;", "&")
    assert "q=%E6%B5%B7%E5%B7%9D" in next_url
    assert "status=valid" in next_url
    second = page(client, next_url)
    first_orgs = set(re.findall(r'href="/o/(\w+)"', first))
    second_orgs = set(re.findall(r'href="/o/(\w+)"', second))
    assert len(first_orgs) == 20
    assert len(second_orgs) == 5
    assert not first_orgs & second_orgs
    assert 'rel="next"' not in second


def test_a_hostile_query_is_escaped(client: FlaskClient) -> None:
    html = client.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;script&gt;" in html
