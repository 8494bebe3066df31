"""Schemes and tiers."""

import pytest

from registry.domain.problems import ProblemCode, RecordInvalid
from registry.domain.schemes import (
    SCHEMES,
    Scheme,
    find_scheme,
    scheme_by_code,
    scheme_by_id,
    tier_for_score,
)


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda scheme: scheme.id)
def test_scheme_table_is_consistent(scheme: Scheme) -> None:
    assert scheme_by_id(scheme.id) is scheme
    assert scheme_by_code(scheme.code) is scheme
    assert len(scheme.code) <= 8
    assert scheme.code.isascii()
    assert len({tier.name for tier in scheme.tiers}) == len(scheme.tiers)
    assert len({tier.code for tier in scheme.tiers}) == len(scheme.tiers)
    for tier in scheme.tiers:
        assert len(tier.code) <= 4
        assert tier.code.isascii()
        assert tier.meaning_zh
        assert tier.meaning_en
        assert scheme.tier_named(tier.name) is tier
        assert scheme.tier_by_code(tier.code) is tier
    # Tiers go from low to high: thresholds rise strictly on every scale.
    for scale in scheme.scales:
        thresholds = [tier.min_score[scale] for tier in scheme.tiers if tier.min_score]
        assert thresholds == sorted(set(thresholds))
        assert all(0 < threshold <= scale for threshold in thresholds)


def test_scheme_codes_and_ids_are_unique() -> None:
    assert len({scheme.id for scheme in SCHEMES}) == len(SCHEMES)
    assert len({scheme.code for scheme in SCHEMES}) == len(SCHEMES)


@pytest.mark.parametrize(
    ("scheme_id", "score", "scale", "tier"),
    [
        ("after-sales-service", 100, 100, "五星级"),
        ("after-sales-service", 95, 100, "五星级"),
        ("after-sales-service", 94, 100, "四星级"),
        ("after-sales-service", 90, 100, "四星级"),
        ("after-sales-service", 89, 100, "三星级"),
        ("after-sales-service", 80, 100, "三星级"),
        ("after-sales-service", 79, 100, "达标级"),
        ("after-sales-service", 70, 100, "达标级"),
        ("after-sales-service", 69, 100, None),
        ("after-sales-service", 950, 1000, "五星级"),
        ("after-sales-service", 949, 1000, "四星级"),
        ("after-sales-service", 0, 1000, None),
        ("good-after-sales-service", 90, 100, "A+"),
        ("good-after-sales-service", 89, 100, "A"),
        ("good-after-sales-service", 800, 1000, "A"),
        ("good-after-sales-service", 79, 100, None),
        ("customer-satisfaction", 1000, 1000, "九星级"),
        ("customer-satisfaction", 900, 1000, "九星级"),
        ("customer-satisfaction", 899, 1000, "八星级"),
        ("customer-satisfaction", 850, 1000, "八星级"),
        ("customer-satisfaction", 800, 1000, "七星级"),
        ("customer-satisfaction", 700, 1000, "五星级"),
        ("customer-satisfaction", 500, 1000, "一星级"),
        ("customer-satisfaction", 499, 1000, None),
        ("customer-satisfaction", 70, 100, "五星级"),
        ("after-sales-service", 96, 10, None),  # no thresholds on an unknown scale
    ],
)
def test_tier_for_score(scheme_id: str, score: int, scale: int, tier: str | None) -> None:
    earned = tier_for_score(scheme_by_id(scheme_id), score, scale)
    assert (earned.name if earned else None) == tier


def test_unknown_scheme_is_a_domain_error() -> None:
    with pytest.raises(RecordInvalid, match="unknown scheme 'no-such-scheme'") as caught:
        scheme_by_id("no-such-scheme")
    assert caught.value.codes == {ProblemCode.UNKNOWN_SCHEME}
    assert caught.value.problems[0].field == "scheme"
    with pytest.raises(RecordInvalid):
        scheme_by_code("NOPE")
    assert find_scheme("no-such-scheme") is None


def test_after_sales_service_matches_the_standard() -> None:
    scheme = scheme_by_id("after-sales-service")
    assert scheme.standard == "GB/T 27922-2011"
    assert [tier.name for tier in scheme.tiers] == ["达标级", "三星级", "四星级", "五星级"]
    assert scheme.max_validity_years == 3
    assert scheme.surveillance_months == 12
    assert scheme.tier_named("五星级") is not None
    five = scheme.tier_named("五星级")
    assert five is not None
    assert five.min_score == {100: 95, 1000: 950}
    assert five.code == "5S"
    assert five.name_en == "Five-star"


def test_scan_token_codes_are_short_enough_for_qr_version_10() -> None:
    """Scheme codes <= 4 and tier codes <= 2 characters are what keeps the worst-case scan token
    inside QR version 10-M (registry.crypto.scantoken.MAX_TOKEN_BYTES)."""
    from registry.domain.schemes import SCHEMES

    for scheme in SCHEMES:
        assert 1 <= len(scheme.code) <= 4, scheme.id
        for tier in scheme.tiers:
            assert 1 <= len(tier.code) <= 2, (scheme.id, tier.name)
