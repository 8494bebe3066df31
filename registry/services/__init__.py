"""Use cases: ingest, lookup, search, scan, log, checks and receipts. Each takes a session; the
caller commits."""
