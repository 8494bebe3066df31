"""Serve a WSGI app on a real socket for the duration of a ``with`` block.

Browser tests and anything else that needs a real HTTP client (not Flask's test client) use it::

    with serve(app) as base_url:
        page.goto(base_url + "/")
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from wsgiref.types import WSGIApplication

from werkzeug.serving import make_server


@contextmanager
def serve(app: WSGIApplication) -> Iterator[str]:
    """Run ``app`` threaded on 127.0.0.1 at a free port; yield its base URL, no trailing slash.

    The server stops, and its socket closes, when the block exits, on errors too.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # so shutdown() returns promptly
        name=f"live-server-{server.server_port}",
        daemon=True,
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
