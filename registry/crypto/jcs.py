"""RFC 8785 JSON Canonicalization Scheme (JCS) and a strict I-JSON (RFC 7493) parser.

Every signature in the registry covers ``canonicalize(value)``: the one place where signed JSON
bytes are made (STYLE rule 4). ``parse_json`` is the one way untrusted JSON enters the system; it
rejects what RFC 7493 forbids so that what we verify is what we canonicalize.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MAX_SAFE_INTEGER", "canonicalize", "parse_json"]

#: The largest integer an IEEE 754 double holds exactly (RFC 7493 §2.2, RFC 8785 §3.2.2.3).
MAX_SAFE_INTEGER = 2**53 - 1

# json.dumps already escapes exactly as RFC 8785 §3.2.2.2 requires when ensure_ascii=False:
# '"' and '\\' escaped, \b \t \n \f \r as short escapes, other C0 controls as lowercase \u00xx,
# everything else (including U+007F and non-ASCII) literally.
_encode_string: Callable[[str], str] = json.encoder.py_encode_basestring
try:  # the C accelerator gives identical output, just faster
    from _json import encode_basestring as _c_encode_basestring

    _encode_string = _c_encode_basestring
except ImportError:  # pragma: no cover - CPython always has _json
    pass

_SURROGATE = re.compile("[\ud800-\udfff]")


def _format_float(value: float) -> str:
    """Serialize a finite double per ECMAScript Number.prototype.toString (RFC 8785 §3.2.2.3).

    Python's ``repr`` yields the shortest digit string that round-trips (the same digits that
    ECMA-262 §7.1.12.1 asks for); only the layout of those digits differs, so we re-lay them.
    """
    if value == 0:
        return "0"  # covers -0.0 too: ECMAScript prints both as "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp_text = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    raw = int_part + frac_part
    # n is the decimal point position: abs(value) = 0.<digits> * 10**n
    n = len(int_part) + (int(exp_text) if exp_text else 0)
    significant = raw.lstrip("0")
    n -= len(raw) - len(significant)
    digits = significant.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        exp = ("+" if e >= 0 else "-") + str(abs(e))
        body = digits + "e" + exp if k == 1 else digits[0] + "." + digits[1:] + "e" + exp
    return sign + body


def _write(value: object, out: list[str]) -> None:
    # bool before int: bool is a subclass of int in Python.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        if _SURROGATE.search(value):
            raise ValueError("string contains a lone surrogate; it has no UTF-8 form")
        out.append(_encode_string(value))
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is beyond ±(2**53-1) and has no exact JSON form")
        out.append(str(int(value)))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("NaN and Infinity have no JSON form (RFC 8785 §3.2.2.3)")
        out.append(_format_float(value))
    elif isinstance(value, Mapping):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        # RFC 8785 §3.2.3: sort by the UTF-16 code units of the keys.
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        out.append("{")
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            _write(key, out)
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonicalize(value: object) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value.

    Args:
        value: ``None``, ``bool``, ``int``, ``float``, ``str``, a ``Mapping`` with ``str`` keys, or
            a ``list``/``tuple`` of such values.
    Returns:
        UTF-8 bytes: no whitespace, object members sorted by UTF-16 code units (§3.2.3), strings
        escaped per §3.2.2.2, numbers per ECMAScript (§3.2.2.3).
    Raises:
        ValueError: NaN or ±Infinity, an int beyond ±(2**53-1), or a lone surrogate in a string.
        TypeError: a value or key that is not JSON (e.g. bytes, a non-str key).
    """
    if _plain(value):
        try:
            return json.dumps(
                value, ensure_ascii=False, separators=(",", ":"), sort_keys=True
            ).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the general writer below raises the proper ValueError
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8")


def _plain(value: object) -> bool:
    """Whether the C JSON encoder already writes RFC 8785 bytes for ``value``.

    It does for dicts with ASCII keys (code-point order is UTF-16 order there), lists, strings
    (it escapes exactly ``"``, ``\\`` and U+0000-U+001F, with the short forms and lowercase hex
    of RFC 8785 §3.2.2.2), safe integers, booleans and null. Floats are the exception
    (ECMAScript number formatting), so anything else takes the general writer. Records are
    float-free, which makes ingest's canonicalisation run at C speed.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            for key, member in item.items():  # type: ignore[attr-defined]
                if type(key) is not str or not key.isascii():
                    return False
                stack.append(member)
        elif kind is list:
            stack.extend(item)  # type: ignore[arg-type]
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:  # type: ignore[operator]
                return False
        else:
            return False
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (RFC 7493 §2.2)")


def _parse_int(text: str) -> int:
    # Length first: refuse to build huge ints at all (and dodge int-parsing cost on hostile input).
    if len(text.lstrip("-")) > 16 or abs(number := int(text)) > MAX_SAFE_INTEGER:
        raise ValueError(f"integer {text[:40]} is beyond ±(2**53-1) (RFC 7493 §2.2)")
    return number


def _parse_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:40]} overflows an IEEE 754 double (RFC 7493 §2.2)")
    return number


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate object key {key!r} (RFC 7493 §2.3)")
            seen.add(key)
    return result


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_constant=_reject_constant,
    parse_int=_parse_int,
    parse_float=_parse_float,
)

# A lone surrogate can only come from a \uD800-\uDFFF escape (strict UTF-8 decoding refuses
# encoded surrogates), so only texts containing such an escape need the full walk below.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _check_surrogates(value: object) -> None:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ValueError("string contains a lone surrogate (RFC 7493 §2.1)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_surrogates(key)
            _check_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _check_surrogates(item)


def parse_json(data: bytes | str) -> object:
    """Parse untrusted JSON strictly as I-JSON (RFC 7493).

    Args:
        data: UTF-8 bytes (no BOM) or a str holding one JSON text.
    Returns:
        the value: dicts, lists, str, int, float, bool, None.
    Raises:
        ValueError: invalid UTF-8, invalid JSON, duplicate object keys, NaN/Infinity literals,
            numbers that overflow a double, ints beyond ±(2**53-1), or lone surrogates. The message
            says which.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"JSON text is not valid UTF-8: {exc.reason} at byte {exc.start}"
            ) from exc
    elif isinstance(data, str):
        text = data
    else:
        raise ValueError(f"JSON text must be bytes or str, not {type(data).__name__}")
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ValueError("invalid JSON: nested too deeply") from exc
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value)
    return value
