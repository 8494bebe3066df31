"""Demo data: fictitious issuers and a few hundred realistic certificates, pushed through the
real ingest API (the Flask test client drives the same view an issuing system calls)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from registry.app import Registry
from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.sample import records
from registry.services.issuers import register_issuer
from registry.store.models import Certificate, Issuer

#: Fictitious certification bodies (the ids follow the CNCA approval-number pattern).
DEMO_ISSUERS = (
    ("CNCA-R-2099-001", "华信服务认证中心（演示）", "Huaxin Service Certification Centre (demo)"),
    ("CNCA-R-2099-002", "正衡认证有限公司（演示）", "Zhengheng Certification Co. (demo)"),
)


def demo_key(keys_path: Path, issuer_id: str) -> PrivateKey:
    """The demo issuer's private key in ``keys/``, created on first use (mode 0600)."""
    from registry.cli import write_private_key

    path = keys_path / f"demo-{issuer_id}.pem"
    if path.exists():
        return PrivateKey.from_pem(path.read_bytes())
    key = PrivateKey.generate()
    write_private_key(path, key, None)
    return key


def load_demo(app: Flask, count: int, today: dt.date, seed: int = 2026) -> str:
    """Register the demo issuers and push ``count`` records unless they are there already.

    Returns:
        A one-line summary for the console.
    """
    state: Registry = app.extensions["registry"]
    signers: dict[str, Signer] = {}
    with state.sessions() as session:
        for issuer_id, name, name_en in DEMO_ISSUERS:
            key = demo_key(state.settings.keys_path, issuer_id)
            signers[issuer_id] = Signer(key)
            if session.get(Issuer, issuer_id) is None:
                register_issuer(session, issuer_id, name, name_en, key.public_key, state.clock())
                session.commit()
        existing = session.execute(select(func.count()).select_from(Certificate)).scalar_one()
    if existing:
        return f"demo data present: {existing} certificates"
    envelopes = [
        signers[str(record["issuer"])].envelope(record)
        for record in records(count, [i[0] for i in DEMO_ISSUERS], seed, today)
    ]
    client = app.test_client()
    totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for start in range(0, len(envelopes), 200):
        response = client.post("/api/v1/records", json=envelopes[start : start + 200])
        report = response.get_json()
        if response.status_code != 200:
            raise RuntimeError(f"demo push failed: {response.status_code} {report}")
        for outcome in totals:
            totals[outcome] += report[outcome]
        for item in report["results"]:
            if item["outcome"] == "rejected":
                raise RuntimeError(f"demo record rejected: {item}")
    return f"demo data loaded: {totals['accepted']} records accepted"
