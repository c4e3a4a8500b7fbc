"""messages/create (tokens, short links, contact creation, balance) and messages/lookup."""

from __future__ import annotations

import re

import httpx
from sandbox_helpers import create_contact, post

from sandbox import SandboxServer

PLAIN_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def sent_bodies(nomi: httpx.Client, **who: str) -> list[str]:
    messages = post(nomi, "/messages/lookup", who).json()["data"]["messages"]
    return [m["message"] for m in messages]


def test_send_renders_standard_tokens(nomi: httpx.Client) -> None:
    create_contact(nomi, first_name="John", last_name="Doe")

    response = post(
        nomi,
        "/messages/create",
        {"contact_id": "1", "message": "[name]|[first_name]|[last_name]|[st]|[state]"},
    )

    assert response.json() == {"success": True, "data": [], "message": "Message sent successfully"}
    assert sent_bodies(nomi, contact_id="1") == ["John Doe|John|Doe|CA|California"]


def test_send_renders_custom_variables_and_keeps_unknown_tokens(nomi: httpx.Client) -> None:
    create_contact(nomi, **{"custom_variables[order_id]": "ORD-1"})

    post(nomi, "/messages/create", {"phone": "4155552671", "message": "Order [order_id] [unknown]"})

    assert sent_bodies(nomi, phone="4155552671") == ["Order ORD-1 [unknown]"]


def test_send_link_without_promo_url_stays_verbatim(nomi: httpx.Client) -> None:
    create_contact(nomi)

    post(nomi, "/messages/create", {"contact_id": "1", "message": "Go [link]"})

    assert sent_bodies(nomi, contact_id="1") == ["Go [link]"]


def test_send_promo_url_creates_short_link_to_rendered_url(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi, **{"custom_variables[order_id]": "ORD-1"})

    fields = {
        "contact_id": "1",
        "message": "Track [link]",
        "promo_url": "https://shop.example/o/[order_id]?sub=[code]",
    }
    post(nomi, "/messages/create", fields)

    link = sandbox.state.snapshot()["short_links"][0]
    assert sent_bodies(nomi, contact_id="1") == [f"Track {sandbox.url}/s/{link['id']}"]
    assert link["target_url"] == f"https://shop.example/o/ORD-1?sub={link['id']}"


def test_short_link_redirects_to_target(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi)
    post(
        nomi,
        "/messages/create",
        {"contact_id": "1", "message": "[link]", "promo_url": "https://shop.example/"},
    )
    link_id = sandbox.state.snapshot()["short_links"][0]["id"]

    response = http.get(f"/s/{link_id}")

    assert (response.status_code, response.headers["location"]) == (302, "https://shop.example/")


def test_send_to_unknown_phone_creates_contact(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    post(
        nomi,
        "/messages/create",
        {"phone": "2125551234", "first_name": "Zed", "tags": "new", "message": "Hi [first_name]"},
    )

    contact = sandbox.state.contacts[1]
    assert (contact.phone, contact.first_name, contact.tags) == ("+12125551234", "Zed", ["new"])
    assert sent_bodies(nomi, phone="2125551234") == ["Hi Zed"]


def test_send_to_existing_contact_adds_tags_and_updates_name(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi, first_name="Old", tags="a")

    post(nomi, "/messages/create", {"phone": "4155552671", "first_name": "New", "tags": "b", "message": "x"})

    contact = sandbox.state.contacts[1]
    assert (contact.first_name, contact.tags) == ("New", ["a", "b"])


def test_send_unknown_contact_id_answers_404(nomi: httpx.Client) -> None:
    response = post(nomi, "/messages/create", {"contact_id": "77", "message": "x"})

    assert response.status_code == 404


def test_send_without_message_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/messages/create", {"phone": "4155552671"})

    assert response.status_code == 400


def test_send_to_sms_unsubscribed_contact_answers_400_and_stores_nothing(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "sms"})

    response = post(nomi, "/messages/create", {"contact_id": "1", "message": "x"})

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert sandbox.state.messages == []


def test_send_to_email_unsubscribed_contact_is_sent(nomi: httpx.Client) -> None:
    create_contact(nomi)
    post(nomi, "/contacts/unsubscribe", {"phone": "4155552671", "type": "email"})

    response = post(nomi, "/messages/create", {"contact_id": "1", "message": "x"})

    assert response.status_code == 200


def test_send_decrements_balance_per_segment(nomi: httpx.Client) -> None:
    create_contact(nomi)
    before = nomi.get("/account/balance").json()["data"]["balance"]

    post(nomi, "/messages/create", {"contact_id": "1", "message": "short"})
    post(nomi, "/messages/create", {"contact_id": "1", "message": "x" * 161})

    assert nomi.get("/account/balance").json()["data"]["balance"] == before - 3


def test_send_with_insufficient_balance_answers_402(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi)
    http.post("/_sandbox/balance", json={"balance": 0})

    response = post(nomi, "/messages/create", {"contact_id": "1", "message": "x"})

    assert response.status_code == 402
    assert sandbox.state.messages == []


def test_lookup_messages_answers_documented_fields(nomi: httpx.Client) -> None:
    create_contact(nomi, first_name="John", last_name="Smith")
    post(nomi, "/messages/create", {"contact_id": "1", "message": "hello"})

    body = post(nomi, "/messages/lookup", {"contact_id": "1"}).json()

    assert body["message"] == "Message lookup successful"
    message = body["data"]["messages"][0]
    assert {k: v for k, v in message.items() if k != "created_at"} == {
        "contact_id": 1,
        "contact_first_name": "John",
        "contact_last_name": "Smith",
        "contact_phone": "+14155552671",
        "message": "hello",
        "status": "delivered",
    }
    assert PLAIN_TIME.match(message["created_at"])


def test_lookup_messages_newest_first_with_default_page(nomi: httpx.Client) -> None:
    create_contact(nomi)
    for number in range(12):
        post(nomi, "/messages/create", {"contact_id": "1", "message": f"m{number}"})

    data = post(nomi, "/messages/lookup", {"contact_id": "1"}).json()["data"]

    assert (data["per_page"], data["total_messages"]) == (10, 12)
    assert [m["message"] for m in data["messages"]][:2] == ["m11", "m10"]


def test_lookup_messages_amount_over_maximum_is_clamped(nomi: httpx.Client) -> None:
    create_contact(nomi)

    data = post(nomi, "/messages/lookup", {"contact_id": "1", "amount": "1000"}).json()["data"]

    assert data["per_page"] == 100


def test_lookup_messages_unknown_contact_answers_empty_page(nomi: httpx.Client) -> None:
    data = post(nomi, "/messages/lookup", {"phone": "4155552671"}).json()["data"]

    assert (data["total_messages"], data["messages"]) == (0, [])


def test_lookup_messages_without_contact_id_or_phone_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/messages/lookup", {})

    assert response.status_code == 400


def test_send_non_gsm_text_costs_ucs2_segments(nomi: httpx.Client) -> None:
    create_contact(nomi)
    before = nomi.get("/account/balance").json()["data"]["balance"]

    post(nomi, "/messages/create", {"contact_id": "1", "message": "é" * 10 + "ü" * 60 + "✓"})

    assert nomi.get("/account/balance").json()["data"]["balance"] == before - 2


def test_send_invalid_promo_url_answers_400(nomi: httpx.Client) -> None:
    create_contact(nomi)

    response = post(nomi, "/messages/create", {"contact_id": "1", "message": "[link]", "promo_url": "shop"})

    assert response.status_code == 400
