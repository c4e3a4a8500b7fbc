"""Messages: send with every parameter, lookup, and THE RULE under real faults — over real HTTP."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from nomi_contract import SANDBOX_KEY, nomi_requests

from nomi_client import NomiClient
from nomi_client.errors import AmbiguousSendError, RateLimitError, ValidationError
from sandbox import FaultConfig, SandboxServer

pytestmark = pytest.mark.integration

TEMPLATE = "Hi [first_name], order [order_id] has shipped."


def only_create_faults(kind: str, when: str, **extra: object) -> FaultConfig:
    return FaultConfig(rate=1.0, kinds=(kind,), when=when, paths=("/messages/create",), limit=1, **extra)


def test_send_message_with_every_parameter_sends_the_rendered_sms(
    client: NomiClient, sandbox: SandboxServer
) -> None:
    contact = client.create_contact(phone="5555555555", custom_variables={"order_id": "#1042"})

    client.send_message(
        contact_id=contact.contact_id,
        message="Hi [first_name], order [order_id]: [link]",
        first_name="Ann",
        last_name="Lee",
        tags=["shipped"],
        number_id=2,
        media_url="https://example.com/logo.png",
        promo_url="https://example.com/track?sub=[code]",
    )

    [sent] = sandbox.state.messages
    assert sent.message.startswith("Hi Ann, order #1042: http")
    assert (sent.number_id, sent.media_url) == (2, "https://example.com/logo.png")
    assert sent.promo_url == "https://example.com/track?sub=[code]"
    updated = client.find_contact(contact_id=contact.contact_id)
    assert (updated.first_name, updated.last_name, updated.tags) == ("Ann", "Lee", ["shipped"])


def test_send_message_by_phone_creates_the_contact(client: NomiClient) -> None:
    client.send_message(phone="(555) 555-0100", message="Welcome!")

    [message] = client.lookup_messages(phone="5555550100").messages
    assert (message.message, message.contact_phone) == ("Welcome!", "+15555550100")


def test_lookup_messages_by_contact_pages_and_parses_created_at(client: NomiClient) -> None:
    contact = client.create_contact(phone="5555555555")
    for n in range(3):
        client.send_message(contact_id=contact.contact_id, message=f"m{n}")

    page = client.lookup_messages(contact_id=contact.contact_id, page=2, amount=2)

    assert (page.current_page, page.per_page, page.total_messages, len(page.messages)) == (2, 2, 3, 1)
    created_at = page.messages[0].created_at
    assert created_at is not None
    assert created_at.utcoffset() == timedelta(0)
    assert sorted(m.message for m in client.iter_messages(contact_id=contact.contact_id, amount=2)) == [
        "m0",
        "m1",
        "m2",
    ]


def test_send_answered_500_after_sending_raises_ambiguous_and_is_not_retried(
    client: NomiClient, sandbox: SandboxServer
) -> None:
    contact = client.create_contact(phone="5555555555")
    sandbox.set_faults(only_create_faults("500", "after"))

    with pytest.raises(AmbiguousSendError):
        client.send_message(contact_id=contact.contact_id, message="Hello")

    assert len(nomi_requests(sandbox, "/messages/create")) == 1
    assert len(sandbox.state.messages) == 1


@pytest.mark.parametrize("kind", ["500", "503", "timeout", "drop"])
def test_safe_send_when_nomi_sent_but_failed_does_not_send_twice(
    make_client, sandbox: SandboxServer, kind: str
) -> None:
    client = make_client(timeout=0.5)
    contact = client.create_contact(phone="5555555555", first_name="Ann", custom_variables={"order_id": "7"})
    sandbox.set_faults(only_create_faults(kind, "after", hang_seconds=2.0))

    outcome = client.send_message_safely(contact_id=contact.contact_id, message=TEMPLATE)

    assert (outcome.status, outcome.attempts) == ("already_sent", 1)
    assert [m.message for m in sandbox.state.messages] == ["Hi Ann, order 7 has shipped."]


@pytest.mark.parametrize("kind", ["500", "timeout", "drop"])
def test_safe_send_when_nomi_failed_before_sending_resends_once(
    make_client, sandbox: SandboxServer, kind: str
) -> None:
    client = make_client(timeout=0.5)
    contact = client.create_contact(phone="5555555555", first_name="Ann", custom_variables={"order_id": "7"})
    sandbox.set_faults(only_create_faults(kind, "before", hang_seconds=2.0))

    outcome = client.send_message_safely(contact_id=contact.contact_id, message=TEMPLATE)

    assert (outcome.status, outcome.attempts) == ("sent", 2)
    assert len(sandbox.state.messages) == 1


def test_safe_send_after_a_crash_checkpoint_finds_the_earlier_send(
    client: NomiClient, sandbox: SandboxServer
) -> None:
    contact = client.create_contact(phone="5555555555", first_name="Ann", custom_variables={"order_id": "7"})
    attempted = datetime.now(UTC)
    client.send_message(contact_id=contact.contact_id, message=TEMPLATE)

    outcome = client.send_message_safely(
        contact_id=contact.contact_id, message=TEMPLATE, attempted_since=attempted
    )

    assert (outcome.status, outcome.attempts) == ("already_sent", 0)
    assert len(sandbox.state.messages) == 1


def test_send_rate_limited_is_retried_honouring_retry_after(
    client: NomiClient, sandbox: SandboxServer, sleeps: list[float]
) -> None:
    contact = client.create_contact(phone="5555555555")
    sandbox.set_faults(only_create_faults("429", "before", retry_after_seconds=3))

    client.send_message(contact_id=contact.contact_id, message="Hello")

    assert sleeps == [3.0]
    assert len(sandbox.state.messages) == 1


def test_rate_limited_until_max_retries_raises_rate_limit_error(
    make_client, sandbox: SandboxServer, sleeps: list[float]
) -> None:
    sandbox.set_faults(
        FaultConfig(rate=1.0, kinds=("429",), paths=("/account/balance",), retry_after_seconds=1)
    )

    with pytest.raises(RateLimitError) as caught:
        make_client(max_retries=2).get_balance()

    assert (caught.value.retry_after, sleeps) == (1.0, [1.0, 1.0])


def test_idempotent_call_survives_transient_server_errors(client: NomiClient, sandbox: SandboxServer) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("503",), paths=("/account/balance",), limit=2))

    assert client.get_balance().balance == sandbox.state.balance
    assert len(nomi_requests(sandbox, "/account/balance")) == 3


def test_real_http_logs_never_contain_the_key(
    client: NomiClient, sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("503",), paths=("/account/balance",), limit=1))

    client.get_balance()

    assert any("apikey=***" in r.getMessage() for r in caplog.records if r.name == "httpx")
    assert all(SANDBOX_KEY not in r.getMessage() for r in caplog.records)


def test_send_to_an_sms_unsubscribed_contact_is_refused_not_ambiguous(
    client: NomiClient, sandbox: SandboxServer
) -> None:
    contact = client.create_contact(phone="5555555555")
    client.unsubscribe(phone="5555555555", type="sms")

    with pytest.raises(ValidationError):
        client.send_message(contact_id=contact.contact_id, message="Hello")

    assert sandbox.state.messages == []
