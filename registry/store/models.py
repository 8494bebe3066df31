"""SQLAlchemy 2 models.

Two kinds of table: the *history* (``record``, ``log_entry``, ``log_hash``, ``checkpoint``,
``issuer_key``) is append-only and holds the exact signed bytes; the *state* (``certificate``,
``organisation``) is derived from the history for fast lookups and can be rebuilt from it.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """The Core table behind ``model``: bulk inserts through it skip the ORM's per-row work,
    which matters on the ingest path (thousands of rows a second)."""
    return cast(Table, model.__table__)


class Issuer(Base):
    """A certification body registered by the operator."""

    __tablename__ = "issuer"

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_push_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: How many certificate numbers it has here; ingest keeps it in the push's transaction.
    certificates: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class IssuerKey(Base):
    """One Ed25519 public key of an issuer; ``kid`` is its RFC 7638 thumbprint."""

    __tablename__ = "issuer_key"

    kid: Mapped[str] = mapped_column(String(43), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuer.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    short_kid: Mapped[bytes] = mapped_column(LargeBinary(8), index=True)
    #: ``active``, ``retired`` (superseded by a rollover) or ``compromised``.
    status: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    compromised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class RecordVersion(Base):
    """One accepted record: the verbatim envelope bytes plus columns extracted for queries."""

    __tablename__ = "record"
    __table_args__ = (UniqueConstraint("issuer_id", "certificate_number", "version"),)

    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuer.id"))
    certificate_number: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    #: The RFC 8785 bytes of the envelope as pushed; the log leaf is exactly these bytes.
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    record_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kid: Mapped[str] = mapped_column(ForeignKey("issuer_key.kid"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: The key: the version's place in the transparency log, assigned once under the sequencer
    #: lock. On SQLite it is the rowid, so a join from ``certificate.log_index`` is one search.
    log_index: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    status: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    #: Set when the signing key was later marked compromised from a time before receipt.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)


class Certificate(Base):
    """The current state of one certificate number of one issuer (its highest version)."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("issuer_id", "certificate_number"),
        # Covering for the lookup: a number's issuers and current versions without the rows.
        Index("ix_certificate_number", "certificate_number", "issuer_id", "log_index"),
        Index("ix_certificate_uscc", "uscc"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuer.id"))
    certificate_number: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    #: The log index of the record version this state comes from.
    log_index: Mapped[int] = mapped_column(BigInteger, ForeignKey("record.log_index"))
    organisation_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18))
    scheme: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(20))
    #: The status as signed (never ``expired``: that is derived from ``expiry_date``).
    status: Mapped[str] = mapped_column(String(16))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    expiry_date: Mapped[dt.date] = mapped_column(Date)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Organisation(Base):
    """An organisation by USCC, with the latest name any of its certificates carries."""

    __tablename__ = "organisation"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Former names, newline-separated (names cannot contain newlines).
    former_names: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LogEntry(Base):
    """One leaf of the transparency log: the exact bytes of an envelope or key event."""

    __tablename__ = "log_entry"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: ``record`` or ``key`` (a key registration, rollover or compromise statement).
    kind: Mapped[str] = mapped_column(String(8))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    appended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class LogHash(Base):
    """The hash of a complete subtree: level 0 are leaf hashes (RFC 9162 §2.1.1)."""

    __tablename__ = "log_hash"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogState(Base):
    """The one row that sequences appends: writers lock it, so indices have no gaps."""

    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class Checkpoint(Base):
    """A signed tree head (C2SP tlog-checkpoint note) the registry has published."""

    __tablename__ = "checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
