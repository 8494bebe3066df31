"""Use cases: ingest, lookup, search, scan, log, receipts. Each takes a session; the caller commits."""
