"""Balance, campaigns lookup, and conversions credited to campaigns."""

from __future__ import annotations

import httpx
from sandbox_helpers import create_contact, post

from sandbox import SandboxServer
from sandbox.state import DEFAULT_BALANCE


def test_balance_answers_envelope_with_integer(nomi: httpx.Client) -> None:
    response = nomi.get("/account/balance")

    assert response.json() == {
        "success": True,
        "data": {"balance": DEFAULT_BALANCE},
        "message": "Account balance retrieved",
    }


def test_seed_campaign_over_http_answers_campaign_with_link(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    response = http.post("/_sandbox/campaigns", json={"name": "Spring", "short_link_id": "AAAAAA"})

    assert response.status_code == 200
    assert (response.json()["campaign_id"], response.json()["short_link_id"]) == (100, "AAAAAA")


def test_seed_campaign_duplicate_link_answers_409(http: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.seed_campaign(short_link_id="AAAAAA")

    response = http.post("/_sandbox/campaigns", json={"short_link_id": "AAAAAA"})

    assert response.status_code == 409


def test_lookup_campaigns_answers_documented_fields(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.seed_campaign(campaign_id=100, name="The Best Product", send_at="2024-03-22T17:18:00Z")

    body = post(nomi, "/campaigns/lookup", {"campaign_id": "100"}).json()

    campaign = body["data"]["campaigns"][0]
    assert body["message"] == "Campaign lookup successful"
    assert (body["data"]["current_page"], body["data"]["per_page"], body["data"]["total_campaigns"]) == (
        1,
        10,
        1,
    )
    assert campaign["send_at"] == "2024-03-22 17:18:00"
    assert campaign["sent_at"] is None
    assert set(campaign) == {
        "campaign_id", "name", "status", "number", "url", "message", "media", "revenue", "conversions", "sent",
        "filtered", "unsubscribed", "send_at", "sent_at", "completed_at", "failed", "delivered", "updated_at",
        "created_at",
    }  # fmt: skip


def test_lookup_campaigns_filters_by_name_substring_and_status(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    sandbox.seed_campaign(name="Home Defense Product", status="complete")
    sandbox.seed_campaign(name="Product draft", status="draft")
    sandbox.seed_campaign(name="Other", status="complete")

    campaigns = post(nomi, "/campaigns/lookup", {"name": "product", "status": "complete"}).json()["data"][
        "campaigns"
    ]

    assert [c["name"] for c in campaigns] == ["Home Defense Product"]


def test_lookup_campaigns_invalid_status_answers_400(nomi: httpx.Client) -> None:
    response = post(nomi, "/campaigns/lookup", {"status": "sent"})

    assert response.status_code == 400


def test_lookup_campaigns_pages_and_clamps_amount(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    for number in range(3):
        sandbox.seed_campaign(name=f"c{number}")

    data = post(nomi, "/campaigns/lookup", {"page": "2", "amount": "2"}).json()["data"]
    clamped = post(nomi, "/campaigns/lookup", {"amount": "101"}).json()["data"]

    assert [c["name"] for c in data["campaigns"]] == ["c2"]
    assert clamped["per_page"] == 100


def test_conversion_adds_revenue_and_count_to_campaign(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    sandbox.seed_campaign(campaign_id=100, short_link_id="AAAAAA", revenue=1000, conversions=22)

    first = http.post("/conversion", files={"id": (None, "AAAAAA"), "amount": (None, "100")})
    http.post("/conversion", data={"id": "AAAAAA", "amount": "19.99"})

    campaign = post(nomi, "/campaigns/lookup", {"campaign_id": "100"}).json()["data"]["campaigns"][0]
    assert first.json() == {"success": True, "data": [], "message": "Conversion Succesful"}
    assert "access-control-allow-origin" not in first.headers
    assert (campaign["revenue"], campaign["conversions"]) == (1119.99, 24)


def test_conversion_unknown_id_answers_404_and_records_nothing(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    response = http.post("/conversion", data={"id": "NOPE", "amount": "10"})

    assert response.status_code == 404
    assert sandbox.state.conversions == []


def test_conversion_invalid_amount_answers_400(http: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.seed_campaign(short_link_id="AAAAAA")

    response = http.post("/conversion", data={"id": "AAAAAA", "amount": "ten"})

    assert response.status_code == 400


def test_conversion_on_message_short_link_is_recorded_without_campaign(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi)
    post(
        nomi,
        "/messages/create",
        {"contact_id": "1", "message": "[link]", "promo_url": "https://shop.example/"},
    )
    link_id = sandbox.state.messages[0].short_link_id

    response = http.post("/conversion", data={"id": link_id, "amount": "5"})

    assert response.status_code == 200
    assert (sandbox.state.conversions[0].campaign_id, sandbox.state.conversions[0].message_id) == (None, 1)
