"""Certification schemes and their tiers, as data.

A scheme is a certification programme with its standard; a tier is a grade within it. Each
tier may carry a minimum score per scoring scale, and a record's tier must be exactly the
highest tier its score reaches. Adding a scheme means adding a :class:`Scheme` to
:data:`SCHEMES`, nothing else.

Sources and defaults:

- ``after-sales-service``: GB/T 27922-2011 商品售后服务评价体系. The star thresholds on the
  100-point scale (达标级 70, 三星级 80, 四星级 90, 五星级 95) are those used by certification
  bodies for this standard; the 1000-point scale is the same ladder times ten.
- ``good-after-sales-service``: a graded "good after-sales service" programme on the same
  standard with tiers A and A+. Its thresholds (A 80, A+ 90 of 100) are **this registry's
  default**, not taken from a published rule.
- ``customer-satisfaction``: GB/T 19039-2009 顾客满意评价通则. The standard sets out how to
  measure satisfaction, not a star ladder; the nine-star ladder (一星级 500 ... 九星级 900 of
  1000, in steps of 50) is **this registry's default table**.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from registry.domain.problems import Problem, ProblemCode, RecordInvalid

__all__ = [
    "SCHEMES",
    "Scheme",
    "Tier",
    "find_scheme",
    "scheme_by_code",
    "scheme_by_id",
    "tier_for_score",
    "unknown_scheme_problem",
]


@dataclass(frozen=True)
class Tier:
    """A grade within a scheme.

    Attributes:
        name: the Chinese name, exactly as records carry it, e.g. ``"五星级"``.
        code: a short ASCII code (at most 2 characters) for scan tokens, e.g. ``"5S"``.
        name_en: the English name, e.g. ``"Five-star"``.
        meaning_zh: one sentence for the certificate page, in Chinese.
        meaning_en: the same sentence in English.
        min_score: the lowest score that earns this tier, per scale (``{100: 95, 1000: 950}``);
            ``None`` when the scheme grades without score thresholds.
    """

    name: str
    code: str
    name_en: str
    meaning_zh: str
    meaning_en: str
    # Excluded from the hash because a mapping is not hashable; equality still compares it.
    min_score: Mapping[int, int] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Scheme:
    """A certification programme and its standard.

    Attributes:
        id: the identifier used in records, e.g. ``"after-sales-service"``.
        code: a short ASCII code (at most 4 characters) for scan tokens, e.g. ``"ASS"``.
        name_zh: the Chinese name.
        name_en: the English name.
        standard: the standard records must cite, e.g. ``"GB/T 27922-2011"``.
        tiers: the tiers, ordered from lowest to highest.
        scales: the scoring scales a record may use, e.g. ``(100, 1000)``.
        max_validity_years: the longest allowed span from issue date to expiry date.
        surveillance_months: the interval between surveillance audits.
        score_required: whether every record must carry a score.
    """

    id: str
    code: str
    name_zh: str
    name_en: str
    standard: str
    tiers: tuple[Tier, ...]
    scales: tuple[int, ...]
    max_validity_years: int
    surveillance_months: int
    score_required: bool

    def tier_named(self, name: str) -> Tier | None:
        """Return the tier whose Chinese ``name`` matches, or ``None``."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        return None

    def tier_by_code(self, code: str) -> Tier | None:
        """Return the tier whose short ``code`` matches, or ``None``."""
        for tier in self.tiers:
            if tier.code == code:
                return tier
        return None


def _scores(per_hundred: int) -> Mapping[int, int]:
    """Thresholds on the 100- and 1000-point scales from the 100-point one."""
    return MappingProxyType({100: per_hundred, 1000: per_hundred * 10})


_CHINESE_NUMERALS = "一二三四五六七八九"
_ENGLISH_NUMERALS = ("One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine")


def _satisfaction_tier(stars: int) -> Tier:
    """One star tier of the customer-satisfaction ladder (500 + 50 per star above one)."""
    threshold = 450 + 50 * stars
    numeral = _CHINESE_NUMERALS[stars - 1]
    return Tier(
        name=f"{numeral}星级",
        code=f"{stars}S",
        name_en=f"{_ENGLISH_NUMERALS[stars - 1]}-star",
        meaning_zh=f"顾客满意度测评得分不低于{threshold}分（千分制）。",
        meaning_en=f"Measured customer satisfaction of at least {threshold} of 1000 points.",
        min_score=MappingProxyType({100: threshold // 10, 1000: threshold}),
    )


AFTER_SALES_SERVICE = Scheme(
    id="after-sales-service",
    code="ASS",
    name_zh="商品售后服务评价",
    name_en="After-sales service",
    standard="GB/T 27922-2011",
    tiers=(
        Tier(
            "达标级",
            "DB",
            "Compliant",
            "售后服务体系符合标准要求。",
            "The after-sales service system meets the standard.",
            _scores(70),
        ),
        Tier(
            "三星级",
            "3S",
            "Three-star",
            "售后服务体系完善，服务水平良好。",
            "A complete after-sales service system with a good level of service.",
            _scores(80),
        ),
        Tier(
            "四星级",
            "4S",
            "Four-star",
            "售后服务体系健全，服务水平优秀。",
            "A sound after-sales service system with an excellent level of service.",
            _scores(90),
        ),
        Tier(
            "五星级",
            "5S",
            "Five-star",
            "售后服务体系卓越，服务水平处于行业领先。",
            "An outstanding after-sales service system, leading its industry.",
            _scores(95),
        ),
    ),
    scales=(100, 1000),
    max_validity_years=3,
    surveillance_months=12,
    score_required=True,
)

GOOD_AFTER_SALES_SERVICE = Scheme(
    id="good-after-sales-service",
    code="GASS",
    name_zh="良好售后服务评价",
    name_en="Good after-sales service",
    standard="GB/T 27922-2011",
    tiers=(
        Tier(
            "A",
            "A",
            "A",
            "售后服务良好，满足良好售后服务评价要求。",
            "Good after-sales service that meets the graded requirements.",
            _scores(80),
        ),
        Tier(
            "A+",
            "AP",
            "A+",
            "售后服务优秀，超出良好售后服务评价要求。",
            "Excellent after-sales service beyond the graded requirements.",
            _scores(90),
        ),
    ),
    scales=(100, 1000),
    max_validity_years=3,
    surveillance_months=12,
    score_required=True,
)

CUSTOMER_SATISFACTION = Scheme(
    id="customer-satisfaction",
    code="CS",
    name_zh="顾客满意评价",
    name_en="Customer satisfaction",
    standard="GB/T 19039-2009",
    tiers=tuple(_satisfaction_tier(stars) for stars in range(1, 10)),
    scales=(1000, 100),
    max_validity_years=3,
    surveillance_months=12,
    score_required=True,
)

SCHEMES: tuple[Scheme, ...] = (AFTER_SALES_SERVICE, GOOD_AFTER_SALES_SERVICE, CUSTOMER_SATISFACTION)

_BY_ID = {scheme.id: scheme for scheme in SCHEMES}
_BY_CODE = {scheme.code: scheme for scheme in SCHEMES}


def find_scheme(scheme_id: str) -> Scheme | None:
    """Return the scheme with this id, or ``None``."""
    return _BY_ID.get(scheme_id)


def scheme_by_id(scheme_id: str) -> Scheme:
    """Return the scheme with this id.

    Raises:
        RecordInvalid: with an ``UnknownScheme`` problem on field ``"scheme"``.
    """
    scheme = _BY_ID.get(scheme_id)
    if scheme is None:
        raise RecordInvalid([unknown_scheme_problem(scheme_id)])
    return scheme


def scheme_by_code(code: str) -> Scheme:
    """Return the scheme with this short code (as carried in scan tokens).

    Raises:
        RecordInvalid: with an ``UnknownScheme`` problem on field ``"scheme"``.
    """
    scheme = _BY_CODE.get(code)
    if scheme is None:
        raise RecordInvalid(
            [Problem(ProblemCode.UNKNOWN_SCHEME, "scheme", f"unknown scheme code {code!r}")]
        )
    return scheme


def unknown_scheme_problem(scheme_id: str) -> Problem:
    """The problem reported for a scheme id not in :data:`SCHEMES`, listing the known ones."""
    known = ", ".join(scheme.id for scheme in SCHEMES)
    return Problem(
        ProblemCode.UNKNOWN_SCHEME,
        "scheme",
        f"scheme: unknown scheme {scheme_id!r} (known: {known})",
    )


def tier_for_score(scheme: Scheme, score: int, scale: int) -> Tier | None:
    """Return the highest tier of ``scheme`` whose threshold on ``scale`` the score reaches.

    Args:
        scheme: the scheme.
        score: the score, ``0 <= score <= scale``.
        scale: one of ``scheme.scales``.

    Returns:
        The tier, or ``None`` if the score earns no tier, or the scheme's tiers have no
        thresholds on this scale.
    """
    earned: Tier | None = None
    for tier in scheme.tiers:
        if tier.min_score is None:
            continue
        threshold = tier.min_score.get(scale)
        if threshold is not None and score >= threshold:
            earned = tier
    return earned
