"""A fake CAPTCHA siteverify endpoint on 127.0.0.1, so that the local stack never reaches the internet.

It answers the one call Turnstile, hCaptcha and reCAPTCHA share (form `secret`, `response`) with
`{"success": true}` for the token `PASS_TOKEN` and `{"success": false, ...}` for anything else. The
local stack points SIGNUP_CAPTCHA_VERIFY_URL at it whenever the template's CaptchaProvider is set.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PASS_TOKEN = "local-captcha-pass"  # noqa: S105 - the fake's one accepted token, not a secret


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        ok = form.get("response", [""])[0] == PASS_TOKEN and bool(form.get("secret", [""])[0])
        verdict = {"success": True} if ok else {"success": False, "error-codes": ["invalid-input-response"]}
        body = json.dumps(verdict).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FakeCaptchaVerifier:
    """The fake siteverify server; `url` once started. Use as a context manager or start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-captcha", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/siteverify"

    def start(self) -> FakeCaptchaVerifier:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeCaptchaVerifier:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
