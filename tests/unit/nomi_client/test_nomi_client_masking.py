from nomi_client.masking import mask, mask_email, mask_phone, mask_text


def test_mask_phone_keeps_country_prefix_and_last_three_digits():
    assert mask_phone("+14155550199") == "+1*******199"


def test_mask_email_keeps_first_letter_and_domain():
    assert mask_email("grace.hopper@example.com") == "g***@example.com"


def test_mask_email_without_domain_hides_all():
    assert mask_email("nobody") == "***"


def test_mask_text_masks_phones_and_emails_inside_keys():
    text = mask_text("consent:+15555550100:sms and ada.l@example.com")
    assert text == "consent:+1*******100:sms and a***@example.com"


def test_mask_text_masks_spaced_phone_numbers():
    text = mask_text("call +1 415 555 0199 or write grace@example.com")
    assert "555 0199" not in text
    assert "grace@" not in text


def test_mask_text_leaves_dates_and_short_ids_alone():
    assert mask_text("at 2026-11-23 order 1042") == "at 2026-11-23 order 1042"


def test_mask_walks_nested_outcomes():
    masked = mask({"steps": [{"key": "contact:+442079460958"}], "calls": 2})
    assert masked == {"steps": [{"key": "contact:+4********958"}], "calls": 2}


def test_mask_text_leaves_uuids_alone():
    event_id = "9f3986b3-0f79-4715-8a0b-123456789012"
    assert mask_text(f"event {event_id} queued") == f"event {event_id} queued"
