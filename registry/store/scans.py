"""Models of the scan feature: reports about labels, and scan counts per certificate and day.

Neither table holds an IP address or anything else that identifies the person who scanned or
reported: a count is a number per certificate per day, a report only what the form asked.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models import Base, UTCDateTime


class LabelReport(Base):
    """A consumer's report about a scanned label, for the issuer the label names.

    ``issuer_id`` and ``certificate_number`` are what the token *claims*: a counterfeit label
    is exactly what an issuer wants to hear about, so reports are kept whatever the verdict.
    """

    __tablename__ = "label_report"
    __table_args__ = (Index("ix_label_report_issuer", "issuer_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(ForeignKey("issuer.id"))
    certificate_number: Mapped[str] = mapped_column(String(64))
    #: The scan token as Base32 text, verbatim, so the issuer can check it themselves.
    token: Mapped[str] = mapped_column(Text)
    #: The scan page's verdict when the report was made (registry.services.scan.Verdict).
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    details: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ScanCount(Base):
    """How many times the scan page identified a certificate on one day (China Standard Time)."""

    __tablename__ = "scan_count"

    issuer_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    certificate_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
