"""Balance, campaigns and conversions (the one request without a key) — over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nomi_contract import nomi_requests

from nomi_client import NomiClient
from sandbox import SandboxServer

pytestmark = pytest.mark.integration


def test_get_balance_returns_the_account_balance(client: NomiClient, sandbox: SandboxServer) -> None:
    assert client.get_balance().balance == sandbox.state.balance


def test_lookup_campaigns_filters_by_id_name_and_status(client: NomiClient, sandbox: SandboxServer) -> None:
    sandbox.seed_campaign(campaign_id=100, name="The Best Product for Home Defense", status="complete")
    sandbox.seed_campaign(campaign_id=101, name="Spring sale", status="draft")

    def ids(**filters: object) -> list[int]:
        return [c.campaign_id for c in client.lookup_campaigns(**filters).campaigns]

    assert ids(campaign_id=101) == [101]
    assert ids(name="product") == [100]
    assert ids(status="draft") == [101]
    assert ids() == [100, 101]


def test_lookup_campaigns_parses_every_field(client: NomiClient, sandbox: SandboxServer) -> None:
    sandbox.seed_campaign(
        campaign_id=100,
        sent=10,
        delivered=9,
        send_at="2024-03-22T17:18:00Z",
        sent_at="2024-03-22T17:18:02Z",
        completed_at="2024-03-22T18:06:44Z",
    )

    [campaign] = client.lookup_campaigns(campaign_id=100).campaigns

    assert (campaign.sent, campaign.delivered, campaign.failed) == (10, 9, False)
    assert campaign.send_at is not None
    assert campaign.send_at.isoformat() == "2024-03-22T17:18:00+00:00"
    assert campaign.created_at is not None
    assert campaign.created_at.tzinfo is not None


def test_lookup_campaigns_pages_and_iter_campaigns_walks_them(
    client: NomiClient, sandbox: SandboxServer
) -> None:
    for n in range(5):
        sandbox.seed_campaign(campaign_id=100 + n)

    page = client.lookup_campaigns(page=3, amount=2)

    assert (page.current_page, page.per_page, page.total_campaigns) == (3, 2, 5)
    assert [c.campaign_id for c in page.campaigns] == [104]
    assert [c.campaign_id for c in client.iter_campaigns(amount=2)] == [100, 101, 102, 103, 104]


def test_record_conversion_without_key_credits_the_campaign(
    make_client, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOMI_API_KEY", raising=False)
    seeded = sandbox.seed_campaign(campaign_id=100, short_link_id="AAAAAA")
    keyless = make_client(api_key=None)

    assert keyless.record_conversion(id=seeded["short_link_id"], amount=Decimal("100.50")) is None

    [request] = nomi_requests(sandbox, "/conversion")
    assert request["auth"] is None
    assert request["form"] == {"id": "AAAAAA", "amount": "100.50"}
    [campaign] = make_client().lookup_campaigns(campaign_id=100).campaigns
    assert (campaign.revenue, campaign.conversions) == (Decimal("100.5"), 1)
