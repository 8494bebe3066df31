"""Benchmarks that print ratios to baselines measured in the same run.

Machines are shared and noisy, so absolute times drift; every figure is printed next to a
baseline taken minutes earlier on the same machine (a hello-world Flask app under the same
gunicorn config, and Datasette serving the same data).

Words used here:

dataset
    a registry database filled by :mod:`bench.dataset` (signed records, ingested for real),
    plus a plain copy of the same rows for Datasette; cached under ``bench/out/``.
endpoint
    one kind of URL the benchmark drives (lookup, history, search, page, scan, QR, ...), with a
    list of many realistic URLs that the load generator rotates through.
baseline
    the hello-world app (and Datasette, where a query is comparable).
"""
