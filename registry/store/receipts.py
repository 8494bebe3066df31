"""Stored check receipts: the registry keeps every receipt it signs, so a receipt's URL can be
cited in a tender file and fetched by anyone later."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.store.models import Base, UTCDateTime


class CheckReceipt(Base):
    """A signed receipt of a bulk check: the exact bytes served at /api/v1/receipts/<id>."""

    __tablename__ = "check_receipt"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: RFC 8785 bytes of ``{"receipt": {...}, "signature": {...}}``.
    document: Mapped[bytes] = mapped_column(LargeBinary)
