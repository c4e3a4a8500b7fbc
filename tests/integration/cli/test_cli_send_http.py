"""`nomi-gateway send` over real HTTP to a server on 127.0.0.1: what arrives verifies with ingest's code."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cli.main import main
from ingest.verify import verify_shopify, verify_stripe

EVENTS = Path(__file__).resolve().parents[3] / "events"


class Received:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.status = 200


@pytest.fixture
def server() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.requests.append(
                ("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            answer = json.dumps({"status": "queued"}).encode()
            self.send_response(received.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_cli_send_shopify_file_arrives_verifiable(server, monkeypatch, capsys):
    url, received = server
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", "shpss_live,shpss_old")
    assert main(["send", str(EVENTS / "shopify" / "fulfillments-create.json"), "--url", url]) == 0
    (_, path, headers, body) = received.requests[0]
    assert (path, headers["x-shopify-topic"]) == ("/webhooks/shopify", "fulfillments/create")
    verify_shopify(body, headers["x-shopify-hmac-sha256"], ["shpss_live"])
    assert "→ 200" in capsys.readouterr().out


def test_cli_send_stripe_file_arrives_verifiable_now(server, monkeypatch):
    url, received = server
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRETS", "whsec_live")
    assert main(["send", str(EVENTS / "stripe" / "checkout-session-completed.json"), "--url", url]) == 0
    (_, path, headers, body) = received.requests[0]
    assert path == "/webhooks/stripe"
    verify_stripe(body, headers["stripe-signature"], ["whsec_live"], tolerance=300)


def test_cli_send_secret_flag_signs_bare_shopify_body(server):
    url, received = server
    argv = ["send", str(EVENTS / "bodies" / "shopify" / "orders-paid.json"), "--url", url]
    assert main([*argv, "--source", "shopify", "--topic", "orders/paid", "--secret", "shpss_flag"]) == 0
    (_, _, headers, body) = received.requests[0]
    verify_shopify(body, headers["x-shopify-hmac-sha256"], ["shpss_flag"])


def test_cli_send_signup_posts_origin_and_no_signature(server):
    url, received = server
    argv = ["send", str(EVENTS / "signup" / "json.json"), "--url", url, "--origin", "https://www.example.com"]
    assert main(argv) == 0
    (_, path, headers, _) = received.requests[0]
    assert (path, headers["origin"]) == ("/signup", "https://www.example.com")
    assert "x-shopify-hmac-sha256" not in headers


def test_cli_send_non_2xx_answer_exits_1(server, monkeypatch):
    url, received = server
    received.status = 401
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", "shpss_live")
    assert main(["send", str(EVENTS / "shopify" / "orders-paid.json"), "--url", url]) == 1


def test_cli_send_unreachable_gateway_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRETS", "shpss_live")
    assert main(["send", str(EVENTS / "shopify" / "orders-paid.json"), "--url", "http://127.0.0.1:9"]) == 2
    assert "failed" in capsys.readouterr().err
