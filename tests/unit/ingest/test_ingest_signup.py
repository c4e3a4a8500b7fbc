"""Signup body parsing, validation (per field), honeypot and origin rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.signup import (
    MAX_CUSTOM_FIELDS,
    SignupBodyError,
    SignupValidationError,
    build_payload,
    cors_headers,
    is_honeypot_filled,
    new_reference,
    origin_allowed,
    parse_body,
    validate_signup,
)

CONSENT = "I agree to receive automated marketing texts. Consent is not a condition of purchase."


def validate(
    fields: dict, *, consent_texts: tuple[str, ...] = (CONSENT,), email_consent_texts: tuple[str, ...] = ()
):
    return validate_signup(
        fields, default_region="US", consent_texts=consent_texts, email_consent_texts=email_consent_texts
    )


def errors_of(fields: dict, **kwargs) -> list[dict[str, str]]:
    with pytest.raises(SignupValidationError) as caught:
        validate(fields, **kwargs)
    return caught.value.errors


def fields_in_error(fields: dict, **kwargs) -> set[str]:
    return {e["field"] for e in errors_of(fields, **kwargs)}


# --- body parsing -----------------------------------------------------------------------------------


def test_parse_body_json_object_returned() -> None:
    assert parse_body(b'{"email": "a@example.com"}', "application/json; charset=utf-8") == {
        "email": "a@example.com"
    }


def test_parse_body_form_repeated_tags_kept_other_fields_last_wins() -> None:
    body = b"tags=a&tags=b&sms_consent=false&sms_consent=on&email=x%40example.com"
    fields = parse_body(body, "application/x-www-form-urlencoded")
    assert fields == {"tags": ["a", "b"], "sms_consent": "on", "email": "x@example.com"}


def test_parse_body_json_array_raises_400() -> None:
    with pytest.raises(SignupBodyError, match="JSON object") as caught:
        parse_body(b"[1]", "application/json")
    assert caught.value.status == 400


def test_parse_body_invalid_json_raises_400() -> None:
    with pytest.raises(SignupBodyError, match="not valid JSON"):
        parse_body(b"{nope", "application/json")


def test_parse_body_multipart_raises_415() -> None:
    with pytest.raises(SignupBodyError) as caught:
        parse_body(b"--x", "multipart/form-data; boundary=x")
    assert caught.value.status == 415


def test_parse_body_no_content_type_json_sniffed() -> None:
    assert parse_body(b' {"phone": "4155552671", "email": "a@example.com"}', None) == {
        "phone": "4155552671",
        "email": "a@example.com",
    }


# --- validation ---------------------------------------------------------------------------------------


def test_validate_signup_phone_normalised_to_e164() -> None:
    assert validate({"phone": "(415) 555-2671"}).phone == "+14155552671"


def test_validate_signup_checkbox_on_is_true() -> None:
    form = validate(
        {"phone": "4155552671", "sms_consent": "on", "consent_text": CONSENT, "email_consent": ""}
    )
    assert (form.sms_consent, form.email_consent) == (True, False)


def test_validate_signup_json_booleans_accepted() -> None:
    form = validate(
        {"phone": "4155552671", "email": "a@example.com", "email_consent": True, "sms_consent": False}
    )
    assert form.email_consent is True


def test_validate_signup_tags_comma_list_split() -> None:
    assert validate({"phone": "4155552671", "email": "a@example.com", "tags": "vip, popup ,,"}).tags == [
        "vip",
        "popup",
    ]


def test_validate_signup_custom_brackets_and_unknown_fields_become_custom_fields() -> None:
    form = validate(
        {
            "phone": "4155552671",
            "email": "a@example.com",
            "custom[color]": "teal",
            "shoe_size": 38,
            "submit": "Join",
        }
    )
    assert form.custom_fields == {"color": "teal", "shoe_size": "38"}


def test_validate_signup_invalid_phone_reported_on_phone() -> None:
    assert errors_of({"phone": "555-01"}) == [{"field": "phone", "message": "not a valid phone number"}]


def test_validate_signup_invalid_email_reported_on_email() -> None:
    assert fields_in_error({"email": "not-an-email"}) == {"email"}


def test_validate_signup_several_bad_fields_all_reported() -> None:
    bad = {"phone": "12", "email": "nope", "first_name": "A" * 101, "last_name": "B" * 101}
    assert fields_in_error(bad) == {"phone", "email", "first_name", "last_name"}


def test_validate_signup_over_long_consent_text_reported() -> None:
    assert fields_in_error({"phone": "4155552671", "email": "a@example.com", "consent_text": "x" * 1001}) == {
        "consent_text"
    }


def test_validate_signup_neither_phone_nor_email_reported() -> None:
    assert errors_of({"first_name": "Ada"})[0]["field"] == "phone"


def test_validate_signup_email_only_refused_naming_phone() -> None:
    # NOMI keys contacts on the phone: an email alone would be thanked and then dropped.
    assert fields_in_error({"email": "a@example.com", "email_consent": True}) == {"phone"}


def test_validate_signup_sms_consent_without_text_reported() -> None:
    assert fields_in_error({"phone": "4155552671", "sms_consent": "on"}) == {"consent_text"}


def test_validate_signup_unconfigured_consent_text_reported_on_consent_text() -> None:
    fields = {"phone": "4155552671", "sms_consent": "on", "consent_text": "ok"}
    assert errors_of(fields) == [
        {"field": "consent_text", "message": "does not match a consent text this gateway knows"}
    ]


def test_validate_signup_consent_text_matches_after_whitespace_normalisation() -> None:
    posted = "  I agree to receive automated\n   marketing texts.  Consent is not a condition of purchase.\n"
    assert (
        validate({"phone": "4155552671", "sms_consent": "on", "consent_text": posted}).consent_text == CONSENT
    )


def test_validate_signup_no_configured_texts_refuses_every_sms_opt_in() -> None:
    fields = {"phone": "4155552671", "sms_consent": "on", "consent_text": CONSENT}
    with pytest.raises(SignupValidationError):
        validate(fields, consent_texts=())


def test_validate_signup_text_of_unticked_sms_box_not_kept() -> None:
    assert validate({"phone": "4155552671", "consent_text": "anything"}).consent_text is None


def test_validate_signup_email_consent_text_kept_as_posted_when_unconfigured() -> None:
    fields = {
        "phone": "4155552671",
        "email": "a@example.com",
        "email_consent": "on",
        "email_consent_text": "Email me",
    }
    assert validate(fields).email_consent_text == "Email me"


def test_validate_signup_email_consent_text_off_the_configured_list_reported() -> None:
    fields = {
        "phone": "4155552671",
        "email": "a@example.com",
        "email_consent": "on",
        "email_consent_text": "x",
    }
    assert fields_in_error(fields, email_consent_texts=("Email me news",)) == {"email_consent_text"}


def test_validate_signup_sms_consent_without_phone_reported() -> None:
    assert fields_in_error({"email": "a@example.com", "sms_consent": True, "consent_text": CONSENT}) == {
        "phone"
    }


def test_validate_signup_email_consent_without_email_reported() -> None:
    assert fields_in_error({"phone": "4155552671", "email_consent": "on"}) == {"email"}


def test_validate_signup_unknown_checkbox_value_reported() -> None:
    assert fields_in_error({"phone": "4155552671", "email": "a@example.com", "email_consent": "maybe"}) == {
        "email_consent"
    }


def test_validate_signup_too_many_custom_fields_reported() -> None:
    fields = {
        "phone": "4155552671",
        "email": "a@example.com",
        **{f"custom[f{i}]": "v" for i in range(MAX_CUSTOM_FIELDS + 1)},
    }
    assert fields_in_error(fields) == {"custom_fields"}


def test_validate_signup_over_long_custom_value_reported_by_name() -> None:
    assert fields_in_error({"phone": "4155552671", "email": "a@example.com", "custom[bio]": "x" * 501}) == {
        "custom[bio]"
    }


def test_validate_signup_bad_custom_field_name_reported() -> None:
    assert fields_in_error({"phone": "4155552671", "email": "a@example.com", "custom[<script>]": "x"}) == {
        "custom_fields"
    }


def test_validate_signup_over_long_tag_reported() -> None:
    assert fields_in_error({"phone": "4155552671", "email": "a@example.com", "tags": ["t" * 65]}) == {
        "tags.0"
    }


# --- honeypot, payload, references, origins ------------------------------------------------------------


def test_is_honeypot_filled_true_for_text_false_for_blank() -> None:
    assert is_honeypot_filled({"website": "http://spam"}) is True
    assert is_honeypot_filled({"website": " "}) is False


def test_build_payload_server_observations_override_body() -> None:
    form = validate(
        {
            "phone": "4155552671",
            "email": "a@example.com",
            "ip_address": "6.6.6.6",
            "submitted_at": "1999-01-01T00:00:00Z",
        }
    )
    received = datetime(2026, 11, 23, 8, tzinfo=UTC)
    payload = build_payload(
        form,
        reference="r1",
        ip_address="198.51.100.7",
        user_agent="UA",
        origin=None,
        referer=None,
        received_at=received,
    )
    assert (payload.ip_address, payload.submitted_at, payload.user_agent) == ("198.51.100.7", received, "UA")


def test_new_reference_short_url_safe_unique() -> None:
    refs = {new_reference() for _ in range(1000)}
    assert len(refs) == 1000
    assert all(len(r) == 16 and r.replace("-", "").replace("_", "").isalnum() for r in refs)


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        ("https://shop.example.com", ("https://shop.example.com",), True),
        ("https://SHOP.example.com/", ("https://shop.example.com",), True),
        ("https://evil.example.net", ("https://shop.example.com",), False),
        ("https://evil.example.net", ("*",), True),
        (None, ("https://shop.example.com",), False),  # no Origin: a script, not a browser
        (None, ("*",), False),
        ("https://shop.example.com", (), False),
    ],
)
def test_origin_allowed_follows_allowlist(
    origin: str | None, allowed: tuple[str, ...], expected: bool
) -> None:
    assert origin_allowed(origin, allowed) is expected


def test_cors_headers_echo_allowed_origin_only() -> None:
    assert (
        cors_headers("https://shop.example.com", ("https://shop.example.com",))["access-control-allow-origin"]
        == "https://shop.example.com"
    )
    assert cors_headers("https://evil.example.net", ("https://shop.example.com",)) == {}
