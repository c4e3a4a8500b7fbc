"""Compact JSON writers built once, for code that renders a few small documents per request.

`json.JSONEncoder.encode` builds a new C encoder on every call, about a third of the cost of
rendering an envelope's fields or a log line. These writers build it once. They do not check for
circular references (nor does anything that renders only what `json.loads` or our own code built);
without the C accelerator they fall back to `json.JSONEncoder`, which renders the same text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any


def compact_writer(
    *, ensure_ascii: bool = True, default: Callable[[Any], Any] | None = None
) -> Callable[[Any], str]:
    """`json.dumps(value, separators=(",", ":"), ensure_ascii=..., default=...)`, as a fast function."""
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the accelerator
        return json.JSONEncoder(ensure_ascii=ensure_ascii, default=default, separators=(",", ":")).encode
    strings = _encoder.encode_basestring_ascii if ensure_ascii else _encoder.encode_basestring
    fallback = default if default is not None else _refuse
    # make_encoder(markers, default, encoder, indent, key_separator, item_separator, sort_keys,
    #              skipkeys, allow_nan)
    chunks = make(None, fallback, strings, None, ":", ",", False, False, True)

    def write(value: Any) -> str:
        return "".join(chunks(value, 0))

    return write


def compact_string(*, ensure_ascii: bool = True) -> Callable[[str], str]:
    """A str as JSON text, as the writers above render it (`json.dumps(text, ensure_ascii=...)`)."""
    return _encoder.encode_basestring_ascii if ensure_ascii else _encoder.encode_basestring


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
