"""The baseline: the smallest Flask app, served exactly like the registry.

``gunicorn -c deploy/gunicorn.conf.py bench.hello:app`` answers ``GET /`` with a short text;
every ratio the HTTP benchmark prints is relative to this app's throughput in the same run.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
