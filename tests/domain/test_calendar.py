"""China's civil dates and the one timestamp form."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.domain.calendar import china_today, end_of_day, parse_day, parse_rfc3339, rfc3339

UTC = dt.UTC


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (dt.datetime(2026, 5, 4, 15, 59, 59, tzinfo=UTC), dt.date(2026, 5, 4)),
        (dt.datetime(2026, 5, 4, 16, 0, 0, tzinfo=UTC), dt.date(2026, 5, 5)),
    ],
)
def test_china_today_turns_at_midnight_beijing_time(instant: dt.datetime, day: dt.date) -> None:
    assert china_today(instant) == day


def test_a_day_ends_at_midnight_beijing_time() -> None:
    assert end_of_day(dt.date(2026, 5, 5)) == dt.datetime(2026, 5, 5, 16, 0, tzinfo=UTC)
    assert china_today(end_of_day(dt.date(2026, 5, 5))) == dt.date(2026, 5, 6)


def test_rfc3339_is_utc_whole_seconds_with_z() -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    moment = dt.datetime(2026, 3, 1, 16, 0, 5, 999_999, tzinfo=beijing)
    assert rfc3339(moment) == "2026-03-01T08:00:05Z"


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 3, 1, 8, 0, 5, tzinfo=UTC),
        dt.datetime(1999, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
        dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        dt.datetime(2026, 1, 1, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(2026, 6, 30, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    ],
)
def test_rfc3339_agrees_with_isoformat(moment: dt.datetime) -> None:
    utc = moment.astimezone(UTC).replace(microsecond=0)
    assert rfc3339(moment) == utc.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_an_instant_outside_the_calendar_in_utc_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="valid_from"):
        parse_rfc3339(text, "valid_from")


def test_a_day_is_read_in_the_one_form_yyyy_mm_dd() -> None:
    assert parse_day("2026-05-05", "at") == dt.date(2026, 5, 5)
    assert parse_day("9999-12-30", "at") == dt.date(9999, 12, 30)
    refused = ["20260505", "2026-W19-2", "2026-5-5", "２０２６-05-05", "9999-12-31", " 2026-05-05"]
    for text in refused:
        with pytest.raises(ValueError, match="at"):
            parse_day(text, "at")
