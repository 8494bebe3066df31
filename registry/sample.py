"""Realistic sample data for the demo and the benchmark.

Everything here is deterministic given a seed: each generator owns a ``random.Random(seed)``
and never touches the global one. The data is made up but shaped like the real thing: Chinese
company names (place + 字号 + industry + legal form), unified social credit codes with correct
check characters (and GB 11714 check digits inside), division codes of real districts,
records across every scheme, tier and status, and version histories.

Uniqueness: organisation names and USCCs are unique within one ``organisations`` stream (the
names by a seen-set, the codes by construction: the organisation-code part is an affine
permutation of a counter). Certificate numbers are unique per issuer (one counter per issuer).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice
from typing import Any

from registry.domain.record import RECORD_TYPE
from registry.domain.schemes import SCHEMES, Scheme, Tier
from registry.domain.uscc import ALPHABET, check_character, organisation_code_check_digit

__all__ = ["SampleOrganisation", "certificate_prefix", "organisations", "records"]


@dataclass(frozen=True)
class SampleOrganisation:
    """A made-up organisation: unique name and USCC, an address, perhaps former names."""

    name: str
    uscc: str
    address: str
    former_names: tuple[str, ...]


# (province, city as used in names, division code of a district, district, roads)
_PLACES: tuple[tuple[str, str, str, str], ...] = (
    ("北京市", "北京", "110105", "朝阳区"),
    ("北京市", "北京", "110108", "海淀区"),
    ("上海市", "上海", "310115", "浦东新区"),
    ("上海市", "上海", "310104", "徐汇区"),
    ("天津市", "天津", "120116", "滨海新区"),
    ("重庆市", "重庆", "500103", "渝中区"),
    ("广东省", "深圳市", "440305", "南山区"),
    ("广东省", "深圳市", "440306", "宝安区"),
    ("广东省", "广州市", "440106", "天河区"),
    ("广东省", "佛山市", "440606", "顺德区"),
    ("广东省", "东莞市", "441900", "南城街道"),
    ("浙江省", "杭州市", "330106", "西湖区"),
    ("浙江省", "宁波市", "330212", "鄞州区"),
    ("浙江省", "温州市", "330302", "鹿城区"),
    ("江苏省", "南京市", "320106", "鼓楼区"),
    ("江苏省", "苏州市", "320505", "虎丘区"),
    ("江苏省", "无锡市", "320214", "新吴区"),
    ("山东省", "青岛市", "370212", "崂山区"),
    ("山东省", "济南市", "370102", "历下区"),
    ("四川省", "成都市", "510107", "武侯区"),
    ("湖北省", "武汉市", "420106", "武昌区"),
    ("湖南省", "长沙市", "430104", "岳麓区"),
    ("河南省", "郑州市", "410105", "金水区"),
    ("福建省", "厦门市", "350206", "湖里区"),
    ("福建省", "福州市", "350102", "鼓楼区"),
    ("安徽省", "合肥市", "340104", "蜀山区"),
    ("陕西省", "西安市", "610113", "雁塔区"),
    ("辽宁省", "沈阳市", "210102", "和平区"),
    ("辽宁省", "大连市", "210204", "沙河口区"),
    ("河北省", "石家庄市", "130102", "长安区"),
    ("江西省", "南昌市", "360111", "青山湖区"),
    ("云南省", "昆明市", "530102", "五华区"),
)
_ROADS = (
    "建设路", "人民路", "中山路", "解放路", "科技园路", "工业大道", "高新大道", "长江路",
    "黄河路", "和平路", "新华路", "创业路", "世纪大道", "文化路", "滨江路", "学府路",
)  # fmt: skip
_TRADE_CHARS = (
    "华信联达美创新鑫盛泰恒瑞祥安康宏伟博嘉源通海天中金宇邦德兴隆丰顺利和佳益众诚永辉鸿远方"
    "正明光启航睿智优尚卓越骏腾飞星辰晨阳云峰川江林森松禾谷品汇聚合融润泽洋蓝青凯乐欣悦万"
    "千亿宝捷迅力仁惠家福瀚锦铭晟昊格菲豪雅"
)
# (industry word, scope texts for it)
_INDUSTRIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("电器", ("家用电器的销售及售后服务（安装、维修、退换货）", "小家电的销售、配送及维修服务")),
    ("家电", ("家用电器的销售及售后服务（安装、维修、退换货）", "厨房电器的销售、安装及维修服务")),
    ("家居", ("家具的销售、配送、安装及售后维修服务", "定制家居产品的设计、安装及售后服务")),
    ("汽车服务", ("汽车的销售及售后服务（维修、保养、配件供应）", "二手车交易及售后保障服务")),
    ("物流", ("道路普通货物运输、仓储及配送服务", "城市配送及大件物流安装服务")),
    ("科技", ("计算机软件及信息系统集成产品的售后技术服务", "智能终端产品的销售及维修服务")),
    ("电梯", ("电梯的安装、改造、维修及维护保养服务",)),
    ("空调", ("空调器的销售、安装、维修及保养服务", "中央空调系统的安装调试及维保服务")),
    ("通信", ("通信设备的销售、安装调试及维修服务", "移动通信终端的销售及售后服务")),
    ("餐饮管理", ("团体膳食及餐饮管理服务", "中式快餐连锁经营服务")),
    ("物业服务", ("住宅及商业物业的物业管理服务", "写字楼物业管理及设施设备维护服务")),
    ("厨具", ("商用厨房设备的销售、安装及维修服务",)),
    ("照明", ("照明电器的销售、安装及售后服务",)),
    ("医疗器械", ("医疗器械的销售、安装调试及维修服务",)),
    ("办公设备", ("办公设备（打印机、复印机）的销售及维修服务",)),
    ("电子商务", ("网络零售商品的销售、配送及退换货服务",)),
)  # fmt: skip
_LEGAL_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "集团有限公司")
_SITE_KINDS = ("服务中心", "分公司", "维修站", "配送中心")

_SUSPEND_REASONS: tuple[str, ...] = (
    "未按期接受监督审核",
    "获证组织主动申请暂停",
    "监督审核发现严重不符合项，限期整改",
    "发生重大服务质量投诉，正在调查",
)
_WITHDRAW_REASONS: tuple[str, ...] = (
    "暂停期满未完成整改",
    "获证组织提供虚假材料",
    "重大服务质量投诉查证属实",
)
_CANCEL_REASONS: tuple[str, ...] = (
    "获证组织申请注销证书",
    "获证组织已注销营业执照",
    "获证组织不再提供认证范围内服务",
)
_REINSTATE_REASONS = ("完成整改，经审核恢复证书", "监督审核通过，恢复证书")

# Affine permutation of 0..10^8-1 (multiplier coprime to 10) gives unique organisation codes.
_CODE_SPACE = 10**8
_CODE_MULTIPLIER = 48_271_171
_LETTER_ALPHABET = ALPHABET  # the "MA…" style codes use the USCC alphabet


def organisations(n: int, seed: int) -> Iterator[SampleOrganisation]:
    """Yield ``n`` organisations with unique names and USCCs, deterministic for ``seed``.

    About 5% have former names. Any prefix of the stream is the same for a larger ``n``.

    Raises:
        ValueError: if ``n`` is negative or more than 10^8.
    """
    if not 0 <= n <= _CODE_SPACE:
        raise ValueError(f"n must be between 0 and {_CODE_SPACE}, not {n}")
    return islice(_organisation_stream(seed), n)


def _organisation_stream(seed: int) -> Iterator[SampleOrganisation]:
    rng = random.Random(seed)  # noqa: S311 -- sample data, not cryptography
    seen: set[str] = set()
    offset = rng.randrange(_CODE_SPACE)
    for index in range(_CODE_SPACE):
        place = rng.choice(_PLACES)
        while True:
            name, industry = _company_name(rng, place)
            if name not in seen:
                break
        seen.add(name)
        number = (index * _CODE_MULTIPLIER + offset) % _CODE_SPACE
        address = f"{place[0]}{'' if place[1] == place[0][:2] else place[1]}{place[3]}"
        address += f"{rng.choice(_ROADS)}{rng.randint(1, 999)}号"
        former: tuple[str, ...] = ()
        if rng.random() < 0.05:
            trade = name.removeprefix(place[1])[:2]
            former = (f"{place[1]}{trade}{industry}{rng.choice(('厂', '经营部', '有限公司'))}",)
            if former[0] == name:
                former = ()
        yield SampleOrganisation(name, _uscc(place[2], number, rng), address, former)


def _company_name(rng: random.Random, place: tuple[str, str, str, str]) -> tuple[str, str]:
    """A name like 深圳市华信电器有限公司, and its industry word."""
    length = rng.choices((2, 3, 4), weights=(80, 17, 3))[0]
    trade = "".join(rng.choice(_TRADE_CHARS) for _ in range(length))
    industry = rng.choice(_INDUSTRIES)[0]
    return f"{place[1]}{trade}{industry}{rng.choice(_LEGAL_FORMS)}", industry


def _uscc(division: str, number: int, rng: random.Random) -> str:
    """A USCC for a company (91) in ``division`` whose organisation code encodes ``number``."""
    if rng.random() < 0.4:
        # Newer codes look like "MA5DC8C6"; encode the number in 6 alphabet characters.
        chars = []
        for _ in range(6):
            number, digit = divmod(number, len(_LETTER_ALPHABET))
            chars.append(_LETTER_ALPHABET[digit])
        body = "MA" + "".join(reversed(chars))
    else:
        body = f"{number:08d}"
    first17 = f"91{division}{body}{organisation_code_check_digit(body)}"
    return first17 + check_character(first17)


def certificate_prefix(issuer: str) -> str:
    """The issuer's short form in certificate numbers: ``CNCA-R-2002-001`` -> ``R02001``.

    A leading ``CNCA`` part is dropped, a four-digit year keeps its last two digits, and the
    rest is joined and cut to 6 characters, so that ``<prefix>-GASS-2024-1234567`` stays within
    the 24 characters a certificate number may have.
    """
    parts = [part for part in issuer.split("-") if part]
    if len(parts) > 1 and parts[0] == "CNCA":
        parts = parts[1:]
    short = [part[2:] if len(part) == 4 and part.isdigit() else part for part in parts]
    return "".join(short)[:6] or "X"


def records(n: int, issuers: Sequence[str], seed: int, today: date) -> Iterator[dict[str, Any]]:
    """Yield ``n`` record JSON objects, each valid for ``Record.from_json``.

    Certificates spread over all schemes, tiers and issuers, with scores that earn their tier,
    mostly valid and some suspended, withdrawn or cancelled (with Chinese reasons), some
    expired by date, surveillance dates, sites, and about 10% with several versions, yielded in
    version order. On average about 1.6 records per organisation; the organisations are those
    of ``organisations(..., seed)``. Certificate numbers (``<prefix>-<scheme>-<year>-<serial>``)
    are unique per issuer.

    Args:
        n: how many records (versions, not certificates) to yield.
        issuers: issuer ids to spread certificates over (at least one).
        seed: the seed; the same arguments give the same records.
        today: the day the data is "as of"; no date in a record lies after it, except expiry
            dates and next surveillance due dates.

    Raises:
        ValueError: if ``issuers`` is empty or ``n`` negative.
    """
    if not issuers:
        raise ValueError("records need at least one issuer")
    if n < 0:
        raise ValueError(f"n must not be negative, not {n}")
    return islice(_record_stream(issuers, seed, today), n)


def _record_stream(issuers: Sequence[str], seed: int, today: date) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed ^ 0x5EED)  # noqa: S311 -- sample data, not cryptography
    serials = dict.fromkeys(issuers, 0)
    prefixes = {issuer: certificate_prefix(issuer) for issuer in issuers}
    for organisation in _organisation_stream(seed):
        certificates = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
        for _ in range(certificates):
            issuer = rng.choice(issuers)
            serials[issuer] += 1
            yield from _certificate(
                rng, organisation, issuer, prefixes[issuer], serials[issuer], today
            )


_SCHEME_WEIGHTS = (60, 15, 25)


def _certificate(
    rng: random.Random,
    organisation: SampleOrganisation,
    issuer: str,
    prefix: str,
    serial: int,
    today: date,
) -> Iterator[dict[str, Any]]:
    """The versions of one certificate, in version order."""
    scheme = rng.choices(SCHEMES, weights=_SCHEME_WEIGHTS)[0]
    tier_index = _tier_index(rng, scheme)
    tier = scheme.tiers[tier_index]
    scale = scheme.scales[0] if rng.random() < 0.8 else scheme.scales[-1]
    issue, expiry, original = _cycle(rng, scheme, today)
    industry_scopes = next(
        (scopes for word, scopes in _INDUSTRIES if word in organisation.name), _INDUSTRIES[0][1]
    )
    base: dict[str, Any] = {
        "type": RECORD_TYPE,
        "certificate_number": f"{prefix}-{scheme.code}-{original.year}-{serial:06d}",
        "issuer": issuer,
        "version": 1,
        "organisation": _organisation_json(organisation),
        "scheme": scheme.id,
        "standard": scheme.standard,
        "tier": tier.name,
        "score": {"value": _score(rng, scheme, tier_index, scale), "scale": scale},
        "scope": rng.choice(industry_scopes),
        "original_issue_date": original.isoformat(),
        "issue_date": issue.isoformat(),
        "expiry_date": expiry.isoformat(),
        "status": "valid",
    }
    last_day = min(today, expiry)
    audit = _surveillance(rng, scheme, issue, last_day)
    if audit is not None:
        base["surveillance"] = audit
    if rng.random() < 0.15:
        base["sites"] = _sites(rng, organisation, industry_scopes)
    span = (last_day - issue).days
    if rng.random() < 0.10 and span >= 60:
        yield from _history(rng, base, issue, span)
        return
    roll = rng.random()
    if roll < 0.88 or span < 2:
        yield base
        return
    if roll < 0.93:
        status, reasons = "suspended", _SUSPEND_REASONS
    elif roll < 0.97:
        status, reasons = "withdrawn", _WITHDRAW_REASONS
    else:
        status, reasons = "cancelled", _CANCEL_REASONS
    yield {
        **base,
        "status": status,
        "status_reason": rng.choice(reasons),
        "status_effective_date": (issue + timedelta(days=rng.randint(1, span))).isoformat(),
    }


def _history(
    rng: random.Random, base: dict[str, Any], issue: date, span: int
) -> Iterator[dict[str, Any]]:
    """Several versions: v1 valid, then a suspension and its outcome, or a correction."""
    yield base
    pattern = rng.choice(("correction", "reinstated", "withdrawn", "reinstated-cancelled"))
    if pattern == "correction":
        yield {**base, "version": 2, "scope": base["scope"] + "（含上门服务）"}
        return
    # Effective dates in order within the cycle, none after today.
    days = sorted(rng.sample(range(1, span + 1), 3))
    suspended = {
        **base,
        "version": 2,
        "status": "suspended",
        "status_reason": rng.choice(_SUSPEND_REASONS),
        "status_effective_date": (issue + timedelta(days=days[0])).isoformat(),
    }
    yield suspended
    if pattern == "withdrawn":
        yield {
            **base,
            "version": 3,
            "status": "withdrawn",
            "status_reason": rng.choice(_WITHDRAW_REASONS),
            "status_effective_date": (issue + timedelta(days=days[1])).isoformat(),
        }
        return
    yield {
        **base,
        "version": 3,
        "status": "valid",
        "status_reason": rng.choice(_REINSTATE_REASONS),
        "status_effective_date": (issue + timedelta(days=days[1])).isoformat(),
    }
    if pattern == "reinstated-cancelled":
        yield {
            **base,
            "version": 4,
            "status": "cancelled",
            "status_reason": rng.choice(_CANCEL_REASONS),
            "status_effective_date": (issue + timedelta(days=days[2])).isoformat(),
        }


def _organisation_json(organisation: SampleOrganisation) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "name": organisation.name,
        "uscc": organisation.uscc,
        "address": organisation.address,
    }
    if organisation.former_names:
        obj["former_names"] = list(organisation.former_names)
    return obj


def _tier_index(rng: random.Random, scheme: Scheme) -> int:
    """A tier, the middle ones most common (a triangular spread over the ladder)."""
    count = len(scheme.tiers)
    return min(count - 1, int(rng.triangular(0, count, count * 0.6)))


def _score(rng: random.Random, scheme: Scheme, index: int, scale: int) -> int:
    """A score on ``scale`` that earns exactly tier ``index`` of ``scheme``."""
    low = _threshold(scheme.tiers[index], scale)
    if index + 1 < len(scheme.tiers):
        high = _threshold(scheme.tiers[index + 1], scale) - 1
    else:
        high = scale
    return rng.randint(low, high)


def _threshold(tier: Tier, scale: int) -> int:
    if tier.min_score is None:
        return 0
    return tier.min_score[scale]


def _anniversary(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _cycle(rng: random.Random, scheme: Scheme, today: date) -> tuple[date, date, date]:
    """``(issue_date, expiry_date, original_issue_date)`` of the current (or last) cycle.

    About 8% of certificates expired within the last two years; the others are in their
    current cycle. The expiry date is the day before the anniversary. Renewed certificates
    have an original issue date one or two cycles earlier.
    """
    years = scheme.max_validity_years
    cycle_days = 365 * years
    if rng.random() < 0.08:
        issue = today - timedelta(days=cycle_days + rng.randint(1, 700))
    else:
        issue = today - timedelta(days=rng.randint(0, cycle_days - 2))
    expiry = _anniversary(issue, years) - timedelta(days=1)
    renewals = rng.choices((0, 1, 2), weights=(65, 25, 10))[0]
    original = _anniversary(issue, -years * renewals)
    return issue, expiry, original


def _surveillance(
    rng: random.Random, scheme: Scheme, issue: date, last_day: date
) -> dict[str, str] | None:
    """Last and next surveillance audit, for about 70% of certificates."""
    if rng.random() >= 0.7:
        return None
    interval = timedelta(days=round(scheme.surveillance_months * 30.44))
    audits = (last_day - issue) // interval
    if audits < 1:
        return {"next_due_date": (issue + interval).isoformat()}
    last = issue + interval * audits - timedelta(days=rng.randint(0, 20))
    return {"last_audit_date": last.isoformat(), "next_due_date": (last + interval).isoformat()}


def _sites(
    rng: random.Random, organisation: SampleOrganisation, scopes: Sequence[str]
) -> list[dict[str, str]]:
    sites = []
    for place in rng.sample(_PLACES, rng.randint(1, 3)):
        city = place[1].removesuffix("市")
        sites.append(
            {
                "name": f"{city}{rng.choice(_SITE_KINDS)}",
                "address": f"{place[0]}{place[3]}{rng.choice(_ROADS)}{rng.randint(1, 999)}号",
                "scope": rng.choice(scopes),
            }
        )
    return sites
