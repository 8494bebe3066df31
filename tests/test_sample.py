"""The sample data generator: valid, unique and deterministic."""

from collections import Counter
from datetime import date
from itertools import islice

import pytest

from registry.domain.record import Record
from registry.domain.status import Status, status_of
from registry.domain.uscc import is_valid_uscc
from registry.sample import certificate_prefix, organisations, records

ISSUERS = ("CNCA-R-2002-001", "CNCA-R-2003-117", "CNCA-R-2016-210")
TODAY = date(2025, 6, 1)


@pytest.fixture(scope="module")
def sample() -> list[dict[str, object]]:
    return list(records(2000, ISSUERS, seed=11, today=TODAY))


def test_every_sample_record_is_valid_and_round_trips(sample: list[dict[str, object]]) -> None:
    assert len(sample) == 2000
    for obj in sample:
        assert Record.from_json(obj).to_json() == obj


def test_certificate_numbers_are_unique_per_issuer(sample: list[dict[str, object]]) -> None:
    parsed = [Record.from_json(obj) for obj in sample]
    firsts = [record.key for record in parsed if record.version == 1]
    assert len(firsts) == len(set(firsts))
    # Versions of one certificate come together and in order.
    versions: dict[tuple[str, str], list[int]] = {}
    for record in parsed:
        versions.setdefault(record.key, []).append(record.version)
    for numbers in versions.values():
        assert numbers == list(range(1, len(numbers) + 1))


def test_sample_covers_schemes_tiers_and_statuses(sample: list[dict[str, object]]) -> None:
    parsed = [Record.from_json(obj) for obj in sample]
    assert {(record.scheme, record.tier) for record in parsed} >= {
        ("after-sales-service", "五星级"),
        ("after-sales-service", "达标级"),
        ("good-after-sales-service", "A+"),
        ("customer-satisfaction", "八星级"),
    }
    statuses = Counter(status_of(record, TODAY) for record in parsed)
    assert set(statuses) == set(Status)
    assert statuses[Status.VALID] > len(parsed) / 2
    assert any(record.sites for record in parsed)
    assert any(record.organisation.former_names for record in parsed)
    multi = {record.key for record in parsed if record.version > 1}
    certificates = {record.key for record in parsed}
    assert 0.05 < len(multi) / len(certificates) < 0.2
    assert 1.4 < len(parsed) / len({r.organisation.uscc for r in parsed}) < 1.9


def test_no_date_after_today_except_expiry_and_due(sample: list[dict[str, object]]) -> None:
    for record in map(Record.from_json, sample):
        assert record.issue_date <= TODAY
        assert record.effective_from <= TODAY


def test_records_are_deterministic() -> None:
    first = list(records(300, ISSUERS, seed=5, today=TODAY))
    assert first == list(records(300, ISSUERS, seed=5, today=TODAY))
    assert first != list(records(300, ISSUERS, seed=6, today=TODAY))


def test_organisations_are_unique_valid_and_deterministic() -> None:
    orgs = list(organisations(20_000, seed=3))
    assert len({org.name for org in orgs}) == len(orgs)
    assert len({org.uscc for org in orgs}) == len(orgs)
    assert all(is_valid_uscc(org.uscc) for org in orgs)
    assert 0.03 < sum(bool(org.former_names) for org in orgs) / len(orgs) < 0.07
    assert list(islice(organisations(100, seed=3), 10)) == orgs[:10]
    assert orgs[:50] != list(organisations(50, seed=4))


def test_names_look_like_chinese_companies() -> None:
    for org in organisations(200, seed=1):
        assert org.name.endswith("公司")
        assert org.address.endswith("号")


@pytest.mark.parametrize(
    ("issuer", "prefix"),
    [
        ("CNCA-R-2002-001", "R02001"),
        ("CQC", "CQC"),
        ("A-B", "AB"),
        ("CNCA", "CNCA"),
        ("CNCA-R-2016-210", "R16210"),
    ],
)
def test_certificate_prefix(issuer: str, prefix: str) -> None:
    assert certificate_prefix(issuer) == prefix


def test_records_need_an_issuer() -> None:
    with pytest.raises(ValueError, match="at least one issuer"):
        records(1, [], seed=1, today=TODAY)
