"""gunicorn settings for the registry.

Run: `gunicorn -c deploy/gunicorn.conf.py 'registry:create_app()'`.

Every value can be overridden with the usual GUNICORN_* / command-line options; the registry's
own settings come from REGISTRY_* variables (see docs/operations.md).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("REGISTRY_BIND", "127.0.0.1:8000")
# Lookups are short and CPU-bound (JSON, signature checks): one sync worker per core plus one
# keeps the cores busy while a worker waits on the database.
workers = int(os.environ.get("REGISTRY_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# Bulk checks and 1000-envelope pushes take a few seconds at most; anything longer is stuck.
timeout = int(os.environ.get("REGISTRY_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take the service down. Rarely: a new
# worker starts with empty per-process caches (rendered answers, QR images, SQLite's page cache),
# and at ~1,000 requests a second per worker a limit of 20,000 refilled them every 20 seconds.
max_requests = 500_000
max_requests_jitter = 50_000
# The app factory runs once in the master; workers fork with the settings checked.
preload_app = True
accesslog = os.environ.get("REGISTRY_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("REGISTRY_LOG_LEVEL", "info")
# Behind nginx (deploy/nginx.conf) the proxy terminates TLS and sets X-Forwarded-*.
forwarded_allow_ips = os.environ.get("REGISTRY_FORWARDED_ALLOW_IPS", "127.0.0.1")


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """Before each worker is forked, move what the master holds (the preloaded app: modules,
    compiled templates, table metadata) out of the garbage collector's reach (``gc.freeze``).
    A worker's full collections then walk only what it allocated itself, not the whole app
    (on the scan page, whose caches keep objects alive, the collector's share fell from about
    44 to 17 µs a request, in process; docs/operations.md), and
    never write to the app's memory pages, which stay shared with the master instead of
    being copied into every worker."""
    gc.collect()
    gc.freeze()


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    """Each worker opens its own database connections (never share a pool across fork), and
    starts its own scan-count writer (registry/web/scan.py)."""
    app = worker.app.callable
    extensions = getattr(app, "extensions", {})
    registry = extensions.get("registry")
    if registry is not None:
        registry.engine.dispose(close=False)
    if "scan" in extensions:
        from registry.web.scan import start_count_writer

        start_count_writer(app)


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker that stops writes the scan counts it still holds (registry/web/scan.py)."""
    app = worker.app.callable
    if "scan" not in getattr(app, "extensions", {}):
        return
    from registry.web.scan import flush_scan_counts

    try:
        written = flush_scan_counts(app)
    except Exception:
        server.log.exception("Worker %s could not write its scan counts", worker.pid)
    else:
        if written:
            server.log.info("Worker %s wrote %d scan counts", worker.pid, written)
