"""Optional CAPTCHA check of the signup route: Cloudflare Turnstile, hCaptcha or reCAPTCHA.

All three take the same siteverify call (form `secret`, `response`, `remoteip`; JSON `success`), so
one function serves them; the provider picks the URL and the form field its widget posts. The
secret is read from Secrets Manager; `verify_url` replaces the provider's URL (the local stack's
fake verifier, so that nothing local reaches the internet). Imported on the first signup only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

SITEVERIFY_URLS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
    "recaptcha": "https://www.google.com/recaptcha/api/siteverify",
}
# The field each provider's widget adds to the form; `captcha_token` is accepted from JSON posts.
# (ingest.signup.CAPTCHA_FIELDS lists the same names, so that they never become custom fields.)
TOKEN_FIELDS = {
    "turnstile": "cf-turnstile-response",
    "hcaptcha": "h-captcha-response",
    "recaptcha": "g-recaptcha-response",
}
GENERIC_TOKEN_FIELD = "captcha_token"  # noqa: S105 - a form field's name
TIMEOUT = httpx.Timeout(3.0, connect=1.0)  # the visitor waits for this; Lambda's timeout is 10 s


class CaptchaRejectedError(ValueError):
    """No token, or the provider says the token is not a solved challenge (400, field `captcha`)."""


class CaptchaUnavailableError(RuntimeError):
    """The provider could not be asked (the visitor is asked to retry: 503)."""


def token_from(fields: Mapping[str, Any], provider: str) -> str | None:
    for name in (TOKEN_FIELDS.get(provider), GENERIC_TOKEN_FIELD):
        value = fields.get(name) if name else None
        if isinstance(value, str) and value.strip():
            return value.strip()[:2048]
    return None


def verify(
    fields: Mapping[str, Any],
    *,
    provider: str,
    secret: str,
    remote_ip: str | None,
    verify_url: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Raise unless the form carries a token the provider accepts."""
    token = token_from(fields, provider)
    if token is None:
        raise CaptchaRejectedError("the CAPTCHA was not solved")
    form = {"secret": secret, "response": token}
    if remote_ip:
        form["remoteip"] = remote_ip
    url = verify_url or SITEVERIFY_URLS[provider]
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport) as client:
            answer = client.post(url, data=form)
        answer.raise_for_status()
        verdict = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise CaptchaUnavailableError(f"CAPTCHA verification failed: {type(exc).__name__}") from exc
    if not isinstance(verdict, dict) or verdict.get("success") is not True:
        raise CaptchaRejectedError("the CAPTCHA was not accepted")
