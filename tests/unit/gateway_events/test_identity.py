import pytest

from gateway_events.identity import IdentityKeyError, pseudonym

KEY = b"k" * 32


def test_pseudonym_same_email_any_case_same_value():
    assert pseudonym("email", " Ada@Example.COM ", key=KEY) == pseudonym("email", "ada@example.com", key=KEY)


def test_pseudonym_other_key_other_value():
    assert pseudonym("phone", "+14155550100", key=KEY) != pseudonym("phone", "+14155550100", key=b"x" * 32)


def test_pseudonym_phone_and_email_kinds_never_collide():
    assert pseudonym("phone", "a@b.c", key=KEY) != pseudonym("email", "a@b.c", key=KEY)


def test_pseudonym_output_names_no_part_of_the_value():
    value = pseudonym("phone", "+14155550100", key=KEY)
    assert value.startswith("phone:")
    assert "4155550100" not in value
    assert len(value) == len("phone:") + 64


def test_pseudonym_short_key_refused():
    with pytest.raises(IdentityKeyError):
        pseudonym("phone", "+14155550100", key=b"short")
