"""The chaos workload: people with stories told by every source, and the NOMI effects each must leave.

Each person gets one story (a Shopify order, a Stripe checkout, a website signup, a consent flip-flop
told out of order, a producer's canonical shipment and reminder, an EventBridge relay). Every event
knows the effects it promises, keyed so that the sandbox state can be counted against them:
`contact:<phone>`, `consent:<phone>:<channel>:<status>:<UTC time>`, `final:<phone>:<channel>:<status>`
(the newest consent must win), `message:<marker>` (one SMS whose text holds the marker),
`conversion:<click id>`.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

SHOP_DOMAIN = "chaos-store.myshopify.com"
SIGNUP_ORIGIN = "https://shop.example.com"
# The SMS consent text the chaos forms show (the harness configures it as the stack's only one).
SIGNUP_CONSENT_TEXT = "Text me offers. Reply STOP to cancel."
AREA_CODES = ("212", "312", "415", "617", "718", "646", "213", "305")
STORIES = ("shopify", "stripe", "signup", "consent", "canonical", "eventbridge")


@dataclass
class ChaosEvent:
    """One event as its sender delivers it, and the NOMI effects it promises."""

    key: str
    """The harness's name for it; also how the DLQ and the answers are matched back to it."""
    source: str
    topic: str
    channel: Literal["http", "queue"]
    body: bytes
    route: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    effects: tuple[str, ...] = ()
    event_id: str = ""
    """The envelope's event id (known up front except for signups: the answer gives the reference)."""


def phone_for(index: int) -> str:
    """A distinct, possible NANP number per person (555 exchange: fictional)."""
    area = AREA_CODES[index % len(AREA_CODES)]
    return f"+1{area}555{index // len(AREA_CODES):04d}"


def email_for(index: int) -> str:
    return f"person.{index}@chaos.example.com"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


class Workload:
    """Builds the events of `people` stories, deterministically from `seed`."""

    def __init__(
        self, *, seed: int = 1, start: datetime | None = None, run_id: str = "c", first_person: int = 0
    ) -> None:
        self.random = random.Random(seed)
        self.start = start or datetime.now(UTC) - timedelta(days=1)
        self.run_id = run_id
        self.click_ids: list[str] = []
        self._serial = 0
        self.first_person = first_person
        """People are numbered from here: workloads sharing one stack must not share phones."""

    def serial(self) -> int:
        self._serial += 1
        return self._serial

    def moment(self, index: int, minutes: int) -> datetime:
        return (self.start + timedelta(seconds=index * 7, minutes=minutes)).replace(microsecond=0)

    def build(self, target_events: int) -> list[ChaosEvent]:
        """About `target_events` events (at least), every story in turn, shuffled as senders interleave."""
        events: list[ChaosEvent] = []
        person = self.first_person
        while len(events) < target_events:
            events.extend(self.story(STORIES[person % len(STORIES)], person))
            person += 1
        self.random.shuffle(events)
        return events

    def story(self, kind: str, person: int) -> list[ChaosEvent]:
        """The events of one person's story of `kind` (one of STORIES)."""
        return list(getattr(self, f"story_{kind}")(person))

    # --- Shopify --------------------------------------------------------------------------------

    def shopify(self, topic: str, payload: dict[str, Any], key: str, effects: tuple[str, ...]) -> ChaosEvent:
        webhook_id = f"{self.run_id}-wh-{self.serial()}"
        headers = {
            "content-type": "application/json",
            "x-shopify-topic": topic,
            "x-shopify-webhook-id": webhook_id,
            "x-shopify-event-id": f"{self.run_id}-ev-{self.serial()}",
            "x-shopify-shop-domain": SHOP_DOMAIN,
            "x-shopify-api-version": "2026-07",
            "x-shopify-triggered-at": _iso(self.start),
        }
        return ChaosEvent(
            key=key,
            source="shopify",
            topic=topic,
            channel="http",
            route="/webhooks/shopify",
            body=_compact(payload),
            headers=headers,
            effects=effects,
            event_id=webhook_id,
        )

    def story_shopify(self, i: int) -> list[ChaosEvent]:
        """Checkout (SMS opt-in) → order created → paid (click-through) → fulfilled with tracking."""
        phone, order_id, click = phone_for(i), 7_000_000 + i, self.click(i)
        name, created = f"#C{i}", self.moment(i, 0)
        customer = {"id": 9_000_000 + i, "phone": phone, "first_name": "Ann", "last_name": f"S{i}"}
        checkout = {
            "id": 8_000_000 + i,
            "token": f"tok{self.run_id}{i}",
            "phone": phone,
            "sms_marketing_phone": phone,
            "buyer_accepts_sms_marketing": True,
            "created_at": _iso(created),
            "updated_at": _iso(created),
            "currency": "USD",
            "total_price": "10.00",
            "customer": customer,
        }
        order = {
            "id": order_id,
            "name": name,
            "phone": phone,
            "created_at": _iso(created + timedelta(minutes=1)),
            "currency": "USD",
            "total_price": "42.50",
            "current_total_price": "42.50",
            "landing_site": f"/?sub={click}",
            "customer": customer,
        }
        track = f"1ZCHAOS{i:08d}"
        fulfillment = {
            "id": 6_000_000 + i,
            "order_id": order_id,
            "name": f"{name}.1",
            "status": "success",
            "created_at": _iso(created + timedelta(hours=1)),
            "updated_at": _iso(created + timedelta(hours=1)),
            "tracking_company": "UPS",
            "tracking_number": track,
            "tracking_url": f"https://track.example.com/{track}",
            "destination": {"phone": phone, "first_name": "Ann", "last_name": f"S{i}", "country_code": "US"},
        }
        customer_body = {**customer, "created_at": _iso(created), "updated_at": _iso(created)}
        events = []
        if i % 3 == 0:
            # A second parcel of the same order: its own SMS, whose text differs only in the values.
            second = f"1ZCHAOT{i:08d}"
            parcel = {
                **fulfillment,
                "id": 6_500_000 + i,
                "name": f"{name}.2",
                "tracking_number": second,
                "tracking_url": f"https://track.example.com/{second}",
            }
            events.append(
                self.shopify("fulfillments/create", parcel, f"shopify-ship2-{i}", (f"message:{second}",))
            )
        sms = f"consent:{phone}:sms:subscribed:{_iso(created)}"
        return [
            *events,
            self.shopify("checkouts/create", checkout, f"shopify-checkout-{i}", (f"contact:{phone}", sms)),
            self.shopify("orders/create", order, f"shopify-order-{i}", (f"contact:{phone}",)),
            self.shopify("orders/paid", order, f"shopify-paid-{i}", (f"conversion:{click}",)),
            self.shopify("fulfillments/create", fulfillment, f"shopify-ship-{i}", (f"message:{track}",)),
            self.shopify("customers/update", customer_body, f"shopify-customer-{i}", (f"contact:{phone}",)),
        ]

    def story_consent(self, i: int) -> list[ChaosEvent]:
        """SMS subscribed, then unsubscribed, then email subscribed: delivered in any order, newest wins."""
        phone, base = phone_for(i), self.moment(i, 0)
        customer = {"id": 9_000_000 + i, "phone": phone, "first_name": "Cy", "last_name": f"S{i}"}
        signup = {**customer, "created_at": _iso(base), "updated_at": _iso(base)}

        def sms(state: str, at: datetime) -> dict[str, Any]:
            return {
                "id": 9_000_000 + i,
                "phone": phone,
                "sms_marketing_consent": {
                    "state": state,
                    "opt_in_level": "single_opt_in",
                    "consent_updated_at": _iso(at),
                    "consent_collected_from": "OTHER",
                },
            }

        subscribed, unsubscribed = base + timedelta(minutes=5), base + timedelta(minutes=9)
        return [
            self.shopify("customers/create", signup, f"consent-customer-{i}", (f"contact:{phone}",)),
            self.shopify(
                "customers_marketing_consent/update",
                sms("subscribed", subscribed),
                f"consent-sub-{i}",
                (f"final:{phone}:sms:unsubscribed",),
            ),
            self.shopify(
                "customers_marketing_consent/update",
                sms("unsubscribed", unsubscribed),
                f"consent-unsub-{i}",
                (f"final:{phone}:sms:unsubscribed",),
            ),
        ]

    # --- Stripe ---------------------------------------------------------------------------------

    def stripe_event(self, event_type: str, obj: dict[str, Any], created: datetime) -> dict[str, Any]:
        return {
            "id": f"evt_{self.run_id}{self.serial()}",
            "object": "event",
            "api_version": "2026-03-25.dahlia",
            "created": int(created.timestamp()),
            "type": event_type,
            "livemode": False,
            "data": {"object": obj},
        }

    def stripe(self, event: dict[str, Any], key: str, effects: tuple[str, ...]) -> ChaosEvent:
        return ChaosEvent(
            key=key,
            source="stripe",
            topic=event["type"],
            channel="http",
            route="/webhooks/stripe",
            body=_compact(event),
            headers={"content-type": "application/json"},
            effects=effects,
            event_id=event["id"],
        )

    def story_stripe(self, i: int) -> list[ChaosEvent]:
        """A customer, a delayed-payment checkout (placed), then its async success (paid, one conversion)."""
        phone, click, created = phone_for(i), self.click(i), self.moment(i, 0)
        details = {"email": None, "name": f"Bo S{i}", "phone": phone, "address": {"country": "US"}}
        session = {
            "id": f"cs_{self.run_id}_{i}",
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "unpaid",
            "amount_total": 2599,
            "currency": "usd",
            "client_reference_id": click,
            "consent": {"promotions": None},
            "customer_details": details,
            "metadata": {},
        }
        customer = {"id": f"cus_{self.run_id}_{i}", "object": "customer", "phone": phone, "name": f"Bo S{i}"}
        paid = {**session, "payment_status": "paid"}
        completed = self.stripe_event("checkout.session.completed", session, created)
        succeeded = self.stripe_event("checkout.session.async_payment_succeeded", paid, created)
        new_customer = self.stripe_event("customer.created", customer, created)
        return [
            self.stripe(new_customer, f"stripe-customer-{i}", (f"contact:{phone}",)),
            self.stripe(completed, f"stripe-placed-{i}", (f"contact:{phone}",)),
            self.stripe(succeeded, f"stripe-paid-{i}", (f"conversion:{click}",)),
        ]

    # --- signup ---------------------------------------------------------------------------------

    def story_signup(self, i: int) -> list[ChaosEvent]:
        phone = phone_for(i)
        form = {
            "phone": phone,
            "first_name": "Di",
            "last_name": f"S{i}",
            "email": email_for(i),
            "sms_consent": True,
            "consent_text": SIGNUP_CONSENT_TEXT,
            "tags": ["chaos"],
            "website": "",
        }
        return [
            ChaosEvent(
                key=f"signup-{i}",
                source="signup",
                topic="signup",
                channel="http",
                route="/signup",
                body=_compact(form),
                headers={
                    "content-type": "application/json",
                    "origin": SIGNUP_ORIGIN,
                    "user-agent": "Mozilla/5.0 (chaos)",
                },
                effects=(f"contact:{phone}", f"webform:{phone}:sms"),
            )
        ]

    # --- producers on the queue -----------------------------------------------------------------

    def queued(
        self, key: str, data: dict[str, Any], source: str, topic: str, event_id: str, effects: tuple[str, ...]
    ) -> ChaosEvent:
        return ChaosEvent(
            key=key,
            source=source,
            topic=topic,
            channel="queue",
            body=_compact(data),
            effects=effects,
            event_id=event_id,
        )

    def story_canonical(self, i: int) -> list[ChaosEvent]:
        """A producer's contact, order paid (click), shipment (SMS) and a transactional reminder."""
        phone, click, at = phone_for(i), self.click(i), self.moment(i, 0)
        person = {
            "phone": phone,
            "email": email_for(i),
            "first_name": "Ed",
            "last_name": f"S{i}",
            "country": "US",
        }
        track = f"CANON{i:08d}"
        upsert = {
            "schema_version": 1,
            "type": "contact.upsert",
            "event_id": f"crm:{self.run_id}:{i}",
            "occurred_at": _iso(at),
            "person": person,
            "email_consent": {"status": "subscribed", "timestamp": _iso(at), "source": "api"},
        }
        paid = {
            "schema_version": 1,
            "type": "order.paid",
            "event_id": f"pos:{self.run_id}:{i}:paid",
            "occurred_at": _iso(at),
            "order_id": f"POS-{self.run_id}-{i}",
            "person": person,
            "amount": "12.34",
            "currency": "USD",
            "click_id": click,
        }
        shipped = {
            "schema_version": 1,
            "type": "order.shipped",
            "event_id": f"wms:{self.run_id}:{i}",
            "occurred_at": _iso(at),
            "order_id": f"POS-{self.run_id}-{i}",
            "order_name": f"#P{i}",
            "shipment_id": f"SHP-{self.run_id}-{i}",
            "person": person,
            "tracking_numbers": [track],
            "tracking_urls": [f"https://track.example.com/{track}"],
            "carrier": "DHL",
        }
        marker = f"R{self.run_id}{i:07d}"
        reminder = {
            "schema_version": 1,
            "type": "message.transactional",
            "event_id": f"booking:{self.run_id}:{i}",
            "occurred_at": _iso(at),
            "person": person,
            "message": f"Hi [first_name], your appointment {marker} is tomorrow.",
            "dedupe_key": f"appt:{self.run_id}:{i}",
        }
        email = f"consent:{phone}:email:subscribed:{_iso(at)}"
        return [
            self.queued(
                f"canon-upsert-{i}",
                upsert,
                "canonical",
                "contact.upsert",
                upsert["event_id"],
                (f"contact:{phone}", email),
            ),
            self.queued(
                f"canon-paid-{i}", paid, "canonical", "order.paid", paid["event_id"], (f"conversion:{click}",)
            ),
            self.queued(
                f"canon-ship-{i}",
                shipped,
                "canonical",
                "order.shipped",
                shipped["event_id"],
                (f"message:{track}",),
            ),
            self.queued(
                f"canon-remind-{i}",
                reminder,
                "canonical",
                "message.transactional",
                reminder["event_id"],
                (f"message:{marker}",),
            ),
        ]

    def story_eventbridge(self, i: int) -> list[ChaosEvent]:
        """Shopify orders/paid and a Stripe paid checkout relayed by EventBridge partner buses."""
        phone, at = phone_for(i), self.moment(i, 0)
        click_shopify, click_stripe = self.click(i, "a"), self.click(i, "b")
        order = {
            "id": 5_000_000 + i,
            "name": f"#E{i}",
            "phone": phone,
            "created_at": _iso(at),
            "currency": "USD",
            "total_price": "20.00",
            "landing_site": f"/?sub={click_shopify}",
        }
        webhook_id = f"{self.run_id}-ebwh-{i}"
        shopify = {
            "version": "0",
            "id": f"{self.run_id}-eb-s-{i}",
            "detail-type": "shopifyWebhook",
            "source": "aws.partner/shopify.com/1/chaos",
            "account": "123456789012",
            "time": _iso(at),
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "payload": order,
                "metadata": {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/paid",
                    "X-Shopify-Webhook-Id": webhook_id,
                    "X-Shopify-Triggered-At": _iso(at),
                    "X-Shopify-Shop-Domain": SHOP_DOMAIN,
                    "X-Shopify-API-Version": "2026-07",
                },
            },
        }
        session = {
            "id": f"cs_eb_{self.run_id}_{i}",
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            # Charged in the customer's currency (Adaptive Pricing): the conversion is the merchant's USD.
            "amount_total": 1500,
            "currency": "eur",
            "currency_conversion": {"amount_total": 1620, "source_currency": "usd", "fx_rate": "0.926"},
            "metadata": {"nomi_click_id": click_stripe},
            "customer_details": {"phone": phone, "name": f"Fi S{i}", "address": {"country": "US"}},
        }
        stripe_event = self.stripe_event("checkout.session.completed", session, at)
        stripe = {
            "version": "0",
            "id": f"{self.run_id}-eb-t-{i}",
            "detail-type": "checkout.session.completed",
            "source": "aws.partner/stripe.com/ed_chaos",
            "account": "123456789012",
            "time": _iso(at),
            "region": "us-east-1",
            "resources": [],
            "detail": stripe_event,
        }
        return [
            self.queued(
                f"eb-shopify-{i}",
                shopify,
                "eventbridge",
                "orders/paid",
                shopify["id"],
                (f"contact:{phone}", f"conversion:{click_shopify}"),
            ),
            self.queued(
                f"eb-stripe-{i}",
                stripe,
                "eventbridge",
                "checkout.session.completed",
                stripe["id"],
                (f"contact:{phone}", f"conversion:{click_stripe}"),
            ),
        ]

    # --- the conversion policy phase -------------------------------------------------------------

    def paid_orders(self, count: int, tag: str) -> list[ChaosEvent]:
        """`count` paid orders from a producer, one click id each and no phone: only the conversion."""
        events = []
        for n in range(count):
            click = self.click(n, f"{tag}")
            paid = {
                "schema_version": 1,
                "type": "order.paid",
                "event_id": f"pos:{self.run_id}:{tag}:{n}:paid",
                "occurred_at": _iso(self.moment(n, 0)),
                "order_id": f"POS-{self.run_id}-{tag}-{n}",
                "person": {"email": email_for(n)},
                "amount": "9.99",
                "currency": "USD",
                "click_id": click,
            }
            events.append(
                self.queued(
                    f"policy-{tag}-{n}",
                    paid,
                    "canonical",
                    "order.paid",
                    paid["event_id"],
                    (f"conversion:{click}",),
                )
            )
        return events

    # --- helpers --------------------------------------------------------------------------------

    def click(self, i: int, suffix: str = "") -> str:
        """A click id that is also a seeded campaign's short-link id (so /conversion attributes it)."""
        click = f"k{self.run_id}{i}{suffix}"
        self.click_ids.append(click)
        return click
