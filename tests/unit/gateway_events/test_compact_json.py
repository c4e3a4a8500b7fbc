"""The writers built once render what json.dumps renders."""

from __future__ import annotations

import json
from datetime import date

import pytest

from gateway_events.compact_json import compact_string, compact_writer

VALUES = [
    {"a": [1, 2.5, None, True, False], "b": {"c": "café ☕", "d": 'q"\\\n'}},
    [],
    {},
    "text ☕",
    3,
    float("inf"),
    None,
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_compact_writer_any_json_value_equals_json_dumps(value: object, ensure_ascii: bool) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii)
    assert compact_writer(ensure_ascii=ensure_ascii)(value) == expected


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_compact_string_text_equals_json_dumps(ensure_ascii: bool) -> None:
    text = 'a "b" \\ c\té ☕ \u2028'
    assert compact_string(ensure_ascii=ensure_ascii)(text) == json.dumps(text, ensure_ascii=ensure_ascii)


def test_compact_writer_default_renders_other_objects() -> None:
    assert compact_writer(default=str)({"day": date(2026, 12, 3)}) == '{"day":"2026-12-03"}'


def test_compact_writer_no_default_unserialisable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact_writer()({"x": object()})


def test_compact_writer_after_a_failure_still_writes() -> None:
    write = compact_writer()
    with pytest.raises(TypeError):
        write([object()])
    assert write([1, {"a": 2}]) == '[1,{"a":2}]'
