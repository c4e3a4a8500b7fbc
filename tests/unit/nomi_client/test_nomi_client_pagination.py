"""Iterators walk every page and stop on a short page, an empty page, or the total."""

from __future__ import annotations

import httpx
from nomi_fake import FakeNomi, form_dict, ok

from nomi_client import NomiClient


def contacts_server(total: int, *, echo_per_page: int | None = None):
    """Answers /contacts/lookup from `total` contacts, honouring page and amount."""

    def answer(request: httpx.Request) -> httpx.Response:
        form = form_dict(request)
        page, amount = int(form["page"]), int(form["amount"])
        ids = list(range(1, total + 1))[(page - 1) * amount : page * amount]
        contacts = [{"contact_id": i, "tags": [], "custom_variables": {}} for i in ids]
        per_page = amount if echo_per_page is None else echo_per_page
        return ok({"current_page": page, "per_page": per_page, "total_contacts": total, "contacts": contacts})

    return answer


def test_iter_contacts_yields_every_contact_across_pages(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/lookup", contacts_server(5))

    ids = [c.contact_id for c in client.iter_contacts(amount=2)]

    assert ids == [1, 2, 3, 4, 5]
    assert len(fake.requests) == 3


def test_iter_contacts_stops_at_total_without_an_extra_empty_page(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/lookup", contacts_server(4))

    assert len(list(client.iter_contacts(amount=2))) == 4
    assert len(fake.requests) == 2


def test_iter_contacts_when_per_page_echo_differs_still_walks_every_page(
    client: NomiClient, fake: FakeNomi
) -> None:
    fake.on("/contacts/lookup", contacts_server(3, echo_per_page=10))

    assert [c.contact_id for c in client.iter_contacts(amount=1)] == [1, 2, 3]


def test_iter_contacts_when_server_caps_amount_still_walks_every_page(
    client: NomiClient, fake: FakeNomi
) -> None:
    def capped(request: httpx.Request) -> httpx.Response:
        form = form_dict(request)
        page = int(form["page"])
        ids = list(range(1, 6))[(page - 1) * 2 : page * 2]  # serves 2 per page whatever was asked
        contacts = [{"contact_id": i} for i in ids]
        return ok({"current_page": page, "per_page": 2, "total_contacts": 5, "contacts": contacts})

    fake.on("/contacts/lookup", capped)

    assert len(list(client.iter_contacts(amount=200))) == 5


def test_iter_contacts_with_no_contacts_makes_one_request(client: NomiClient, fake: FakeNomi) -> None:
    fake.on("/contacts/lookup", contacts_server(0))

    assert list(client.iter_contacts()) == []
    assert len(fake.requests) == 1


def test_iter_campaigns_passes_filters_on_every_page(client: NomiClient, fake: FakeNomi) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        form = form_dict(request)
        page = int(form["page"])
        campaigns = [{"campaign_id": page}] if page <= 2 else []
        return ok({"current_page": page, "per_page": 1, "total_campaigns": 2, "campaigns": campaigns})

    fake.on("/campaigns/lookup", answer)

    ids = [c.campaign_id for c in client.iter_campaigns(status="complete", amount=1)]

    assert ids == [1, 2]
    assert all(form_dict(r)["status"] == "complete" for r in fake.requests)


def test_iter_messages_stops_on_a_short_page(client: NomiClient, fake: FakeNomi) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        page = int(form_dict(request)["page"])
        messages = [{"message": f"m{page}-{i}"} for i in range(3 if page == 1 else 1)]
        # total_messages deliberately too high: the short page must end the walk.
        return ok({"current_page": page, "per_page": 3, "total_messages": 99, "messages": messages})

    fake.on("/messages/lookup", answer)

    assert len(list(client.iter_messages(contact_id=1, amount=3))) == 4
    assert len(fake.requests) == 2


def test_find_contact_returns_the_first_match_or_none(client: NomiClient, fake: FakeNomi) -> None:
    fake.on(
        "/contacts/lookup",
        ok({"current_page": 1, "per_page": 1, "total_contacts": 1, "contacts": [{"contact_id": 9}]}),
        ok({"current_page": 1, "per_page": 1, "total_contacts": 0, "contacts": []}),
    )

    assert client.find_contact(email="a@example.com").contact_id == 9
    assert client.find_contact(email="b@example.com") is None
