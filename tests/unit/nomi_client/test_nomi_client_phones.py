"""Phones become E.164 before any call; impossible numbers fail clearly and early."""

from __future__ import annotations

import pytest
from nomi_fake import FakeNomi, form_dict, ok

from nomi_client import NomiClient
from nomi_client.errors import NomiError
from nomi_client.phones import PhoneNumberError, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("5555555555", "US", "+15555555555"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "GB", "+14155552671"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 1234567", "de", "+49301234567"),
    ],
)
def test_normalize_phone_returns_e164(raw: str, region: str, expected: str) -> None:
    assert normalize_phone(raw, default_region=region) == expected


@pytest.mark.parametrize("raw", ["", "   ", "12", "not a phone", "555555555555555555", "+999 1234"])
def test_normalize_phone_rejects_impossible_numbers(raw: str) -> None:
    with pytest.raises(PhoneNumberError):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", ["555-555-SHIP", "1-800-FLOWERS", "call me 4155552671", "415555267l"])
def test_normalize_phone_text_with_letters_is_not_a_phone(raw: str) -> None:
    with pytest.raises(PhoneNumberError, match="letters"):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", ["(415) 555-2671 ext. 12", "415-555-2671 x9", "+1 415 555 2671 #204"])
def test_normalize_phone_extension_marker_may_carry_letters(raw: str) -> None:
    assert normalize_phone(raw) == "+14155552671"


def test_phone_number_error_is_a_value_error_and_a_nomi_error() -> None:
    with pytest.raises(PhoneNumberError) as caught:
        normalize_phone("12")

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, NomiError)
    assert "too short" in str(caught.value)


def test_phone_number_error_message_does_not_echo_the_number() -> None:
    with pytest.raises(PhoneNumberError) as caught:
        normalize_phone("+1 999 99")

    assert "999" not in str(caught.value).replace("+1", "")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_contact(phone="12"),
        lambda c: c.update_contact(phone="12"),
        lambda c: c.lookup_contacts(phone="12"),
        lambda c: c.iter_contacts(phone="12"),
        lambda c: c.find_contact(phone="12"),
        lambda c: c.unsubscribe(phone="12"),
        lambda c: c.lookup_messages(phone="12"),
        lambda c: c.iter_messages(phone="12"),
        lambda c: c.send_message(phone="12", message="hi"),
        lambda c: c.send_message_safely(phone="12", message="hi"),
    ],
)
def test_every_method_taking_a_phone_fails_before_any_http_call(
    client: NomiClient, fake: FakeNomi, call
) -> None:
    with pytest.raises(PhoneNumberError):
        call(client)

    assert fake.requests == []


def test_client_default_region_applies_to_national_numbers(make_client, fake: FakeNomi) -> None:
    fake.on("/messages/create", ok())

    make_client(default_region="GB").send_message(phone="020 7946 0958", message="hi")

    assert form_dict(fake.requests[0])["phone"] == "+442079460958"
