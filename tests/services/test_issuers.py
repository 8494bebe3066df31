"""Issuer key events: a compromise is only ever moved earlier."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.crypto.keys import PrivateKey
from registry.services.issuers import KeyEventRejected, mark_compromised, register_issuer
from registry.store.models import IssuerKey, LogEntry
from tests.conftest import ISSUER_ID, Clock

KEY = PrivateKey.from_seed(b"issuer-key-events-seed-000000000")
KID = KEY.public_key.thumbprint


@pytest.fixture
def registered(session: Session, clock: Clock) -> Session:
    register_issuer(session, ISSUER_ID, "测试认证", None, KEY.public_key, clock.now)
    session.commit()
    return session


def entries(session: Session) -> int:
    return session.execute(select(func.count()).select_from(LogEntry)).scalar_one()


def test_a_later_compromise_does_not_take_back_an_earlier_one(
    registered: Session, clock: Clock
) -> None:
    early = clock.now - dt.timedelta(days=30)
    mark_compromised(registered, KID, early, clock.now)
    registered.commit()
    logged = entries(registered)
    for later in (early, early + dt.timedelta(days=1), clock.now):
        with pytest.raises(KeyEventRejected, match="compromised since"):
            mark_compromised(registered, KID, later, clock.now)
        registered.rollback()
    assert registered.get(IssuerKey, KID).compromised_at == early
    assert entries(registered) == logged  # no event for a change that was refused
    earlier = early - dt.timedelta(days=30)
    mark_compromised(registered, KID, earlier, clock.now)  # moved earlier: taken, and logged
    registered.commit()
    assert registered.get(IssuerKey, KID).compromised_at == earlier
    assert entries(registered) == logged + 1


@pytest.mark.parametrize(
    ("name", "name_en"),
    [
        ("", None),
        ("   ", None),
        ("某认证\u202e中心", None),  # a bidi override reorders what every reader sees
        ("某认证\x07中心", None),
        ("某" * 201, None),
        ("某认证中心", "Cert\ncentre"),
        ("某认证中心", "e\u0301"),  # not NFC: the same name would have two spellings
    ],
)
def test_an_issuer_name_follows_the_records_text_rules(
    session: Session, clock: Clock, name: str, name_en: str | None
) -> None:
    """An issuer's names go into the append-only log for good, and every lookup shows them."""
    with pytest.raises(KeyEventRejected, match="name"):
        register_issuer(session, ISSUER_ID, name, name_en, KEY.public_key, clock.now)
