"""messages/create is not idempotent: THE RULE (no blind retry) and the safe path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nomi_fake import FakeNomi, Sleeps, fail, form_dict, ok

from nomi_client import NomiClient, message_matches_template
from nomi_client.errors import (
    AmbiguousSendError,
    APIConnectionError,
    AuthenticationError,
    ServerError,
    ValidationError,
)

CREATE = "/messages/create"
LOOKUP = "/messages/lookup"
TEMPLATE = "Hi [first_name], your order [order_id] has shipped. Track it: [tracking_url]"
RENDERED = "Hi Ann, your order #1042 has shipped. Track it: https://t.example/1Z999"


def nomi_time(moment: datetime) -> str:
    """messages/lookup's created_at format: no zone, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def messages_page(*bodies_and_times: tuple[str, datetime]) -> httpx.Response:
    messages = [
        {"contact_id": 7, "message": body, "status": "delivered", "created_at": nomi_time(at)}
        for body, at in bodies_and_times
    ]
    return ok({"current_page": 1, "per_page": 100, "total_messages": len(messages), "messages": messages})


def send(client: NomiClient) -> None:
    client.send_message(contact_id=7, message=TEMPLATE)


@pytest.mark.parametrize(
    "failure",
    [
        fail(500),
        fail(503),
        httpx.ReadTimeout("timed out"),
        httpx.WriteTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
    ],
    ids=["500", "503", "read-timeout", "write-timeout", "disconnect", "reset"],
)
def test_send_with_unknown_outcome_raises_ambiguous_without_retry(
    client: NomiClient, fake: FakeNomi, sleeps: Sleeps, failure: httpx.Response | Exception
) -> None:
    fake.on(CREATE, failure, ok())
    before = datetime.now(UTC)

    with pytest.raises(AmbiguousSendError) as caught:
        send(client)

    assert len(fake.calls(CREATE)) == 1
    assert sleeps.delays == []
    assert before <= caught.value.attempted_at <= datetime.now(UTC)
    assert caught.value.retryable is False


def test_send_after_connect_error_is_retried(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(CREATE, httpx.ConnectError("refused"), ok(message="Message sent successfully"))

    send(client)

    assert len(fake.calls(CREATE)) == 2


def test_send_after_429_is_retried_honouring_retry_after(
    client: NomiClient, fake: FakeNomi, sleeps: Sleeps
) -> None:
    fake.on(CREATE, fail(429, **{"Retry-After": "1"}), ok())

    send(client)

    assert (len(fake.calls(CREATE)), sleeps.delays) == (2, [1.0])


def test_send_with_only_connect_errors_gives_up_with_connection_error(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on(CREATE, httpx.ConnectError("refused"))

    with pytest.raises(APIConnectionError):
        send(client)

    assert len(fake.calls(CREATE)) == 4


def test_send_ambiguous_after_connect_retry_keeps_the_first_attempt_time(
    client: NomiClient, fake: FakeNomi
) -> None:
    before = datetime.now(UTC)
    fake.on(CREATE, httpx.ConnectError("refused"), fail(502))

    with pytest.raises(AmbiguousSendError) as caught:
        send(client)

    assert isinstance(caught.value.__cause__, ServerError)
    assert caught.value.attempted_at >= before


def test_safe_send_when_message_is_present_does_not_resend(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(CREATE, fail(500))
    fake.on(LOOKUP, lambda _request: messages_page((RENDERED, datetime.now(UTC))))

    outcome = client.send_message_safely(contact_id=7, message=TEMPLATE)

    assert (outcome.status, outcome.attempts) == ("already_sent", 1)
    assert len(fake.calls(CREATE)) == 1


def test_safe_send_when_message_is_absent_resends_once(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(CREATE, httpx.ReadTimeout("timed out"), ok())
    fake.on(LOOKUP, messages_page())

    outcome = client.send_message_safely(contact_id=7, message=TEMPLATE)

    assert (outcome.status, outcome.attempts) == ("sent", 2)
    assert len(fake.calls(CREATE)) == 2


def test_safe_send_ignores_a_matching_message_older_than_the_window(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on(CREATE, fail(500), ok())
    fake.on(LOOKUP, lambda _request: messages_page((RENDERED, datetime.now(UTC) - timedelta(hours=2))))

    outcome = client.send_message_safely(contact_id=7, message=TEMPLATE)

    assert outcome.status == "sent"


def test_safe_send_counts_a_message_within_the_clock_skew(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(CREATE, fail(500), ok())
    # NOMI's clock runs 60 s behind ours: still inside the default 120 s allowance.
    fake.on(LOOKUP, lambda _request: messages_page((RENDERED, datetime.now(UTC) - timedelta(seconds=60))))

    outcome = client.send_message_safely(contact_id=7, message=TEMPLATE)

    assert outcome.status == "already_sent"


def test_safe_send_ignores_a_different_message_in_the_window(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(CREATE, fail(500), ok())
    fake.on(LOOKUP, lambda _request: messages_page(("Your code is 1234", datetime.now(UTC))))

    assert client.send_message_safely(contact_id=7, message=TEMPLATE).status == "sent"


def test_safe_send_that_stays_ambiguous_gives_up_after_max_retries(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    fake.on(CREATE, fail(503))
    fake.on(LOOKUP, messages_page())

    with pytest.raises(AmbiguousSendError):
        make_client(max_retries=1).send_message_safely(contact_id=7, message=TEMPLATE)

    assert len(fake.calls(CREATE)) == 2


def test_safe_send_when_the_lookup_fails_does_not_resend(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    fake.on(CREATE, fail(500), ok())
    fake.on(LOOKUP, fail(503))

    with pytest.raises(ServerError):
        make_client(max_retries=0).send_message_safely(contact_id=7, message=TEMPLATE)

    assert len(fake.calls(CREATE)) == 1


def test_safe_send_with_attempted_since_and_message_present_sends_nothing(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on(LOOKUP, lambda _request: messages_page((RENDERED, datetime.now(UTC))))

    outcome = client.send_message_safely(
        contact_id=7, message=TEMPLATE, attempted_since=datetime.now(UTC) - timedelta(minutes=5)
    )

    assert (outcome.status, outcome.attempts) == ("already_sent", 0)
    assert fake.calls(CREATE) == []


def test_safe_send_with_attempted_since_and_message_absent_sends(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(LOOKUP, messages_page())
    fake.on(CREATE, ok())

    outcome = client.send_message_safely(
        contact_id=7, message=TEMPLATE, attempted_since=datetime.now(UTC) - timedelta(minutes=5)
    )

    assert (outcome.status, outcome.attempts) == ("sent", 1)


def test_safe_send_by_phone_looks_messages_up_by_the_normalised_phone(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on(CREATE, fail(500))
    fake.on(LOOKUP, lambda _request: messages_page((RENDERED, datetime.now(UTC))))

    client.send_message_safely(phone="(555) 555-0100", message=TEMPLATE)

    assert form_dict(fake.calls(LOOKUP)[0])["phone"] == "+15555550100"


@pytest.mark.parametrize(
    ("body", "matches"),
    [
        (RENDERED, True),
        (TEMPLATE, True),  # NOMI may store the unrendered template (the collection's example does)
        ("Hi Ann,\n your order  #1042 has shipped.\tTrack it: https://t.example/1Z999", True),
        ("Hi , your order #1042 has shipped. Track it: x", True),  # a token may render empty
        ("Hi Ann, your order #1042 has been cancelled.", False),
        ("Hi Ann, your order #1042 has shipped. Track it: https://t.example/1Z999 PS", True),
        ("PS Hi Ann, your order #1042 has shipped. Track it: x", False),
    ],
)
def test_message_matches_template(body: str, matches: bool) -> None:
    assert message_matches_template(body, TEMPLATE) is matches


def test_template_whitespace_next_to_an_empty_token_may_vanish() -> None:
    assert message_matches_template("Hi Doe, thanks", "Hi [first_name] [last_name], thanks")


def test_template_literal_text_must_match_exactly() -> None:
    assert not message_matches_template("Hi Ann, thanks!", "Hello [first_name], thanks!")


@pytest.mark.parametrize(
    ("answer", "error_type"),
    [
        (fail(400, "The message field is required."), ValidationError),
        (httpx.Response(401), AuthenticationError),
    ],
    ids=["400", "401"],
)
def test_send_refused_with_4xx_raises_that_error_not_ambiguous(
    client: NomiClient, fake: FakeNomi, answer: httpx.Response, error_type: type[Exception]
) -> None:
    fake.on(CREATE, answer)

    with pytest.raises(error_type):
        send(client)

    assert len(fake.calls(CREATE)) == 1
