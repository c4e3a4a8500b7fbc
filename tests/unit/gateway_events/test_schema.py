import json
from pathlib import Path
from typing import Any

from gateway_events.schema import render_schema

SCHEMA_FILE = Path(__file__).parents[3] / "schemas" / "queue-message.schema.json"
# pydantic releases differ only in the regex they publish for decimals; that is not our contract.
_DECIMAL_PATTERN_PREFIX = "^(?!^[-+.]*$)"


def _contract(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _contract(value)
            for key, value in node.items()
            if not (key == "pattern" and str(value).startswith(_DECIMAL_PATTERN_PREFIX))
        }
    if isinstance(node, list):
        return [_contract(item) for item in node]
    return node


def test_schema_file_matches_models_regenerate_with_make_schema():
    assert _contract(json.loads(SCHEMA_FILE.read_text())) == _contract(json.loads(render_schema()))


def test_schema_lists_every_canonical_type():
    defs = json.loads(render_schema())["$defs"]
    for name in (
        "ContactUpsert",
        "ConsentChange",
        "Order",
        "OrderShipped",
        "TransactionalMessage",
        "Envelope",
    ):
        assert name in defs
