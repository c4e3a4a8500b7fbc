"""The example form of docs/signup-form.md, as a site owner meets it: served from a page origin,
driven in headless Chromium (Playwright's driver, Debian's chromium) against the local stack, with
what NOMI (the sandbox) received asserted for each case.

`make test` installs the browser (`make browser`); where none can be installed these tests are
skipped with the reason.
"""

from __future__ import annotations

import io
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.env import LocalSettings
from local.report import EventLog
from local.stack import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (make install)"
)
if CHROMIUM is None:
    pytest.skip("no chromium on this machine (make browser installs Debian's)", allow_module_level=True)

# Playwright adds --headless and a fresh temporary --user-data-dir of its own on every launch.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SMS_TEXT = (
    "By checking this box, you agree to receive recurring automated marketing text messages from Example "
    "Store at the number provided. Consent is not a condition of purchase. Msg frequency varies. Msg & data "
    "rates may apply. Reply HELP for help and STOP to cancel. See our Terms and Privacy Policy."
)
EMAIL_TEXT = "Email me news and offers from Example Store. Unsubscribe at any time."
DOC_ACTION = "https://abc123.execute-api.us-east-1.amazonaws.com/signup"


def example_form() -> str:
    """The docs' own example, exactly as a site owner would copy it."""
    doc = (ROOT / "docs" / "signup-form.md").read_text(encoding="utf-8")
    example = doc[doc.index("## Example") :]
    return re.search(r"```html\n(.*?)```", example, re.S).group(1)


class PageServer:
    """Serves one page at every path, from its own origin (http://127.0.0.1:PORT)."""

    def __init__(self) -> None:
        self.html = b""
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(page.html)))
                self.end_headers()
                self.wfile.write(page.html)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve(self, form_html: str, action: str) -> None:
        assert DOC_ACTION in form_html, "the docs' example form posts elsewhere: update DOC_ACTION"
        body = form_html.replace(DOC_ACTION, action)
        self.html = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Join</title></head><body>{body}</body></html>'.encode()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[PageServer, PageServer]]:
    shop, foreign = PageServer(), PageServer()
    yield shop, foreign
    shop.stop()
    foreign.stop()


@pytest.fixture(scope="module")
def log() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def stack(pages: tuple[PageServer, PageServer], log: io.StringIO) -> Iterator[LocalStack]:
    shop, foreign = pages
    settings = LocalSettings(port=0, signup_allowed_origins=(shop.origin,))
    with LocalStack(
        settings, root=ROOT, log=EventLog(log), visibility_timeout=1, poll_wait_seconds=0
    ) as running:
        for page in (shop, foreign):
            page.serve(example_form(), f"{running.url}/signup")
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def submit(page: Any, origin: str, *, json: bool = False, **fields: str | bool) -> str:
    """Open the form, fill it as a person would, click Join; the status line once it settled."""
    page.goto(f"{origin}/pages/join")
    if json:
        page.eval_on_selector("#nomi-signup", "form => form.dataset.encoding = 'json'")
    for name, value in fields.items():
        if value is True:
            page.check(f"input[name={name}]")
        elif name == "website":
            page.eval_on_selector("input[name=website]", "(el, v) => el.value = v", value)  # as a bot would
        else:
            page.fill(f"input[name={name}]", str(value))
    page.click("button[type=submit]")
    page.wait_for_function(
        "() => !document.querySelector('#nomi-signup button').disabled"
        " && !['', 'Sending…'].includes(document.getElementById('nomi-signup-result').textContent)"
    )
    return page.text_content("#nomi-signup-result")


def nomi(stack: LocalStack, phone: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """What the sandbox holds for one phone: its contact and its consent log."""
    assert stack.wait_until_drained()
    snapshot = stack.sandbox.state.snapshot()
    contact = next((c for c in snapshot["contacts"] if c["phone"] == phone), None)
    log = [e for e in snapshot["consent_log"] if contact and e["contact_id"] == contact["contact_id"]]
    return contact, log


def receipts(stack: LocalStack, phone: str) -> list[Any]:
    """The consent receipts the stack keeps for one phone (as `nomi-gateway consent show` finds them)."""
    from processor.receipts import ReceiptStore

    secret = stack.aws.client("secretsmanager").get_secret_value(
        SecretId=stack.resources.secrets["IdentityHashKey"]
    )
    key = secret["SecretString"].strip().encode()
    bucket = stack.resources.buckets["ConsentReceiptsBucket"]
    return ReceiptStore(bucket, key=lambda: key, s3=stack.aws.client("s3")).find("phone", phone)


def test_browser_form_sms_opt_in_reaches_nomi_with_the_sms_words(stack, pages, page) -> None:
    shown = submit(page, pages[0].origin, first_name="Ada", phone="(415) 555-2601", sms_consent=True)
    contact, log = nomi(stack, "+14155552601")
    assert shown == "Thanks for signing up!"
    assert contact["first_name"] == "Ada"
    assert [(e["channel"], e["status"], e["consent_text"]) for e in log] == [("sms", "subscribed", SMS_TEXT)]


def test_browser_form_opt_in_leaves_a_receipt_naming_the_page(stack, pages, page) -> None:
    submit(page, pages[0].origin, phone="4155552606", sms_consent=True)
    nomi(stack, "+14155552606")
    [receipt] = receipts(stack, "+14155552606")
    assert (receipt.page_url, receipt.consent_text) == (f"{pages[0].origin}/pages/join", SMS_TEXT)
    assert "HeadlessChrome" in (receipt.user_agent or "")
    assert receipt.raw_request_sha256 is not None


def test_browser_form_both_boxes_each_channel_gets_its_own_words(stack, pages, page) -> None:
    shown = submit(
        page,
        pages[0].origin,
        phone="4155552602",
        email="grace@example.com",
        sms_consent=True,
        email_consent=True,
    )
    _, log = nomi(stack, "+14155552602")
    assert shown == "Thanks for signing up!"
    assert {e["channel"]: e["consent_text"] for e in log} == {"sms": SMS_TEXT, "email": EMAIL_TEXT}


def test_browser_form_json_variant_preflighted_and_accepted(stack, pages, page) -> None:
    shown = submit(page, pages[0].origin, json=True, phone="4155552603", sms_consent=True)
    _, log = nomi(stack, "+14155552603")
    assert shown == "Thanks for signing up!"
    assert [e["consent_text"] for e in log] == [SMS_TEXT]


def test_browser_form_invalid_phone_shows_the_field_error(stack, pages, page) -> None:
    shown = submit(page, pages[0].origin, phone="12", sms_consent=True)
    assert shown == "phone: not a valid phone number"
    assert nomi(stack, "12") == (None, [])


def test_browser_form_email_only_refused_naming_phone(stack, pages, page) -> None:
    shown = submit(page, pages[0].origin, email="only@example.com", email_consent=True)
    assert shown == "phone: a phone number is required"
    assert stack.wait_until_drained()
    assert not any(c.get("email") == "only@example.com" for c in stack.sandbox.state.snapshot()["contacts"])


def test_browser_form_honeypot_thanks_the_bot_and_sends_nothing(stack, pages, page) -> None:
    shown = submit(page, pages[0].origin, phone="4155552604", sms_consent=True, website="http://spam.example")
    assert shown == "Thanks for signing up!"
    assert nomi(stack, "+14155552604") == (None, [])


def test_browser_form_foreign_origin_refused_and_named_in_the_log(stack, pages, page, log) -> None:
    shown = submit(page, pages[1].origin, phone="4155552605", sms_consent=True)
    assert shown == "Please try again in a moment."  # the 403 carries no CORS headers: fetch fails
    assert nomi(stack, "+14155552605") == (None, [])
    assert f"origin {pages[1].origin} is not allowed: add it to SIGNUP_ALLOWED_ORIGINS" in log.getvalue()
