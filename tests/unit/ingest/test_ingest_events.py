"""Every file under events/ (ours) through the handler answers what events/index.json promises."""

from __future__ import annotations

import html
import json
import re

import pytest
from ingest_helpers import EVENTS, AwsFakes, FakeContext, load_event

from gateway_events import parse_queue_message
from ingest import app

INDEX = json.loads((EVENTS / "index.json").read_text(encoding="utf-8"))
HTTP_FILES = sorted(name for name, entry in INDEX["files"].items() if entry["route"] != "queue")
QUEUE_FILES = sorted(name for name, entry in INDEX["files"].items() if entry["route"] == "queue")
# Folders other parts own, and the bodies the signed files are made from.
NOT_OURS = ("bodies", "canonical", "processor")


@pytest.fixture(autouse=True)
def signing_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "wall_clock", lambda: float(INDEX["stripe_timestamp"] + 1))


@pytest.fixture(autouse=True)
def example_consent_texts(env: pytest.MonkeyPatch) -> None:
    """The signup events post the example form's consent text, as a configured deployment knows it."""
    env.setenv("SIGNUP_CONSENT_TEXTS", json.dumps(INDEX["signup_consent_texts"]))
    app.get_config.cache_clear()


@pytest.mark.parametrize("name", HTTP_FILES)
def test_event_file_answers_expected_status(aws: AwsFakes, name: str) -> None:
    entry = INDEX["files"][name]
    answer = app.lambda_handler(load_event(name), FakeContext())
    assert answer["statusCode"] == entry["expect_status"], answer["body"]
    assert len(aws.messages()) == (1 if entry["expect_queued"] else 0)


@pytest.mark.parametrize("name", QUEUE_FILES)
def test_eventbridge_file_is_a_valid_queue_message(name: str) -> None:
    envelope = parse_queue_message((EVENTS / name).read_text(encoding="utf-8"))
    assert envelope.source == "eventbridge"
    assert envelope.headers["eventbridge-source"].startswith(
        ("aws.partner/shopify.com/", "aws.partner/stripe.com/")
    )


def test_every_event_file_is_indexed() -> None:
    files = {
        str(path.relative_to(EVENTS))
        for path in EVENTS.rglob("*.json")
        if path.relative_to(EVENTS).parts[0] not in NOT_OURS and path.name not in ("index.json", "env.json")
    }
    assert files == set(INDEX["files"])


def test_stripe_event_file_outside_tolerance_is_refused(
    aws: AwsFakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "wall_clock", lambda: float(INDEX["stripe_timestamp"] + 301))
    answer = app.lambda_handler(load_event("stripe/customer-created.json"), FakeContext())
    assert answer["statusCode"] == 401


def _docs_sms_consent_text() -> str:
    doc = (EVENTS.parent / "docs" / "signup-form.md").read_text(encoding="utf-8")
    span = re.search(r'<span id="sms-consent-text">(.*?)</span>\s*</label>', doc, re.S).group(1)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", span)).split())


def test_example_consent_text_is_the_docs_form_text_and_the_template_default() -> None:
    template = (EVENTS.parent / "template.yaml").read_text(encoding="utf-8")
    default = re.search(r"  SignupConsentTexts:\n(?:    .*\n)*?    Default: '(.*)'\n", template).group(1)
    assert INDEX["signup_consent_texts"] == [_docs_sms_consent_text()] == json.loads(default)
