"""The API key never reaches a log line (ours or httpx's), an exception text, or a repr."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import httpx
import pytest
from nomi_fake import API_KEY, FakeNomi, fail, ok

from nomi_client import NomiClient
from nomi_client._transport import redact
from nomi_client.errors import AmbiguousSendError, APIConnectionError, ServerError, ValidationError


def full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error)


def test_client_repr_and_str_hide_the_key(client: NomiClient) -> None:
    assert API_KEY not in repr(client)
    assert API_KEY not in str(client)
    assert "***" in repr(client)


def test_logs_at_debug_never_contain_the_key(
    client: NomiClient, fake: FakeNomi, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on("/account/balance", fail(503), ok({"balance": 1}))
    caplog.set_level(logging.DEBUG)

    client.get_balance()

    assert caplog.records, "expected the client and httpx to log"
    assert all(API_KEY not in record.getMessage() for record in caplog.records)


def test_httpx_request_line_is_logged_with_the_key_redacted(
    client: NomiClient, fake: FakeNomi, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on("/account/balance", ok({"balance": 1}))
    caplog.set_level(logging.INFO, logger="httpx")

    client.get_balance()

    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("apikey=***" in line for line in lines)
    assert all(API_KEY not in line for line in lines)


def test_retry_warning_names_the_path_not_the_key(
    client: NomiClient, fake: FakeNomi, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on(
        "/account/balance",
        httpx.ConnectError(f"cannot reach https://nomi.test/?apikey={API_KEY}"),
        ok({"balance": 1}),
    )
    caplog.set_level(logging.WARNING, logger="nomi_client")

    client.get_balance()

    [warning] = [r.getMessage() for r in caplog.records if r.name == "nomi_client"]
    assert "/account/balance" in warning
    assert API_KEY not in warning


def test_transport_error_and_its_chained_cause_hide_a_key_in_httpx_text(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    fake.on(
        "/account/balance",
        httpx.ConnectError(f"failed GET https://nomi.test/account/balance?apikey={API_KEY}"),
    )

    with pytest.raises(APIConnectionError) as caught:
        make_client(max_retries=0).get_balance()

    assert API_KEY not in full_text(caught.value)
    assert "apikey=***" in str(caught.value.__cause__)


def test_api_error_text_and_repr_hide_the_key(make_client: Callable[..., NomiClient], fake: FakeNomi) -> None:
    fake.on("/account/balance", fail(500, "internal error"))

    with pytest.raises(ServerError) as caught:
        make_client(max_retries=0).get_balance()

    assert API_KEY not in full_text(caught.value)


def test_ambiguous_send_error_chain_hides_the_key(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/messages/create", httpx.ReadTimeout(f"read timed out: apikey={API_KEY}"))

    with pytest.raises(AmbiguousSendError) as caught:
        client.send_message(contact_id=1, message="hi")

    assert API_KEY not in full_text(caught.value)


def test_header_auth_puts_the_key_in_a_header_not_the_url(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    fake.on("/account/balance", ok({"balance": 1}))

    make_client(auth="header").get_balance()

    request = fake.requests[0]
    assert request.headers["apikey"] == API_KEY
    assert "apikey" not in request.url.params


def test_redact_replaces_query_value_and_literal_secret() -> None:
    text = f"GET https://x/y?page=1&apikey={API_KEY}&z=2 header {API_KEY}"

    assert redact(text, API_KEY) == "GET https://x/y?page=1&apikey=***&z=2 header ***"


def test_api_error_text_masks_phones_and_emails_nomi_echoes(
    make_client: Callable[..., NomiClient], fake: FakeNomi
) -> None:
    message = "Contact +15555550123 / john.doe@example.com already exists since 2026-01-15"
    fake.on("/contacts/create", fail(409, message))

    with pytest.raises(ValidationError) as caught:
        make_client(max_retries=0).create_contact(phone="+15555550123", update=False)

    text = str(caught.value)
    assert "5555550123" not in text
    assert "john.doe@" not in text
    assert "+1*******123" in text
    assert "2026-01-15" in text
    assert caught.value.body["message"] == message  # the raw answer stays available to code
