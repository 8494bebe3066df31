"""Flask's JSON provider on orjson (:mod:`registry.fastjson`): ``jsonify``, ``request.get_json``
and the ``tojson`` filter all use it."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.json.provider import JSONProvider

from registry.fastjson import dumps_bytes, loads


class OrjsonProvider(JSONProvider):
    """Compact UTF-8 JSON in insertion order; see :mod:`registry.fastjson`."""

    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps_bytes(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = dumps_bytes(self._prepare_response_obj(args, kwargs))
        return Response(body, mimetype=self.mimetype)
