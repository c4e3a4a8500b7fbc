from pathlib import Path

from gateway_events.schema import render_schema

SCHEMA_FILE = Path(__file__).parents[3] / "schemas" / "queue-message.schema.json"


def test_schema_file_matches_models_regenerate_with_make_schema():
    assert SCHEMA_FILE.read_text() == render_schema()


def test_schema_lists_every_canonical_type():
    text = render_schema()
    for name in (
        "ContactUpsert",
        "ConsentChange",
        "Order",
        "OrderShipped",
        "TransactionalMessage",
        "Envelope",
    ):
        assert f'"{name}"' in text
