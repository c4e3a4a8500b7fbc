"""Every NOMI answer and transport failure maps to one error class, with the right `retryable`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from nomi_fake import FakeNomi, fail, ok

from nomi_client import NomiClient
from nomi_client.errors import (
    AmbiguousSendError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    CoolingOffError,
    NomiAPIError,
    NomiError,
    NotFoundError,
    PermissionDeniedError,
    PhoneNumberError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)

BALANCE = "/account/balance"


@pytest.fixture
def once(make_client: Callable[..., NomiClient]) -> NomiClient:
    return make_client(max_retries=0)


@pytest.mark.parametrize(
    ("answer", "error_type", "retryable"),
    [
        (httpx.Response(401), AuthenticationError, False),
        (fail(403, "missing ability"), PermissionDeniedError, False),
        (fail(404, "not found"), NotFoundError, False),
        (fail(400, "phone is required"), ValidationError, False),
        (fail(422, "email is invalid"), ValidationError, False),
        (fail(200, "could not create"), ValidationError, False),
        (fail(429, "too many"), RateLimitError, True),
        (fail(500, "boom"), ServerError, True),
        (httpx.Response(503, text="<html>unavailable</html>"), ServerError, True),
        (httpx.Response(200, text="<html>proxy page</html>"), ServerError, True),
    ],
    ids=["401", "403", "404", "400", "422-plain", "200-success-false", "429", "500", "503", "200-not-json"],
)
def test_status_maps_to_error_type(
    once: NomiClient,
    fake: FakeNomi,
    answer: httpx.Response,
    error_type: type[NomiAPIError],
    retryable: bool,
) -> None:
    fake.on(BALANCE, answer)

    with pytest.raises(error_type) as caught:
        once.get_balance()

    assert type(caught.value) is error_type
    assert caught.value.retryable is retryable
    assert caught.value.status_code == answer.status_code


def test_error_message_carries_nomis_message_and_the_body(once: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/create", fail(400, "The phone field is required.", data={"phone": ["required"]}))

    with pytest.raises(ValidationError) as caught:
        once.create_contact(phone="5555555555")

    assert "The phone field is required." in str(caught.value)
    assert caught.value.body["data"] == {"phone": ["required"]}


def test_422_with_hours_remaining_is_cooling_off_error(once: NomiClient, fake: FakeNomi) -> None:
    message = "Contact is within the cooling-off period. Re-opt-in blocked for approximately 47 more hours."
    fake.on("/contacts/178/consent", fail(422, message, data={"hours_remaining": 47}))

    with pytest.raises(CoolingOffError) as caught:
        once.record_consent(
            178,
            channel="sms",
            status="subscribed",
            source="webform",
            timestamp="2026-01-15T10:30:00Z",
            consent_text="Yes",
        )

    assert (caught.value.hours_remaining, caught.value.retryable) == (47, False)
    assert isinstance(caught.value, NomiAPIError)


def test_timeout_maps_to_api_timeout_error(once: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, httpx.ReadTimeout("timed out"))

    with pytest.raises(APITimeoutError) as caught:
        once.get_balance()

    assert isinstance(caught.value, TransportError | TimeoutError)
    assert caught.value.retryable is True


def test_connect_error_maps_to_api_connection_error(once: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, httpx.ConnectError("connection refused"))

    with pytest.raises(APIConnectionError) as caught:
        once.get_balance()

    assert isinstance(caught.value, TransportError | ConnectionError)
    assert caught.value.retryable is True


def test_reset_mid_answer_maps_to_api_connection_error(once: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, httpx.RemoteProtocolError("Server disconnected without sending a response."))

    with pytest.raises(APIConnectionError):
        once.get_balance()


def test_error_hierarchy_matches_the_contract() -> None:
    assert issubclass(PhoneNumberError, NomiError)
    assert issubclass(PhoneNumberError, ValueError)
    assert issubclass(AmbiguousSendError, NomiError)
    assert AmbiguousSendError.retryable is False
    assert issubclass(TransportError, NomiError)
    assert not issubclass(TransportError, NomiAPIError)
    for api_error in (AuthenticationError, PermissionDeniedError, NotFoundError, CoolingOffError):
        assert issubclass(api_error, NomiAPIError)
    assert issubclass(ConfigurationError, NomiError)


def test_success_answer_returns_data(once: NomiClient, fake: FakeNomi) -> None:
    fake.on(BALANCE, ok({"balance": 0}, "Account balance retrieved"))

    assert once.get_balance().balance == 0
