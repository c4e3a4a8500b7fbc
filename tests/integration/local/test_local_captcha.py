"""With CaptchaProvider set, the local stack verifies tokens against its loopback fake, never the internet."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from local.captcha import PASS_TOKEN
from local.env import LocalSettings
from local.report import EventLog
from local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[3]
TEXT = "Text me offers. Reply STOP to cancel."


@pytest.fixture(scope="module")
def stack():
    settings = LocalSettings(port=0, signup_consent_texts=(TEXT,))
    overrides = {"CaptchaProvider": "turnstile"}
    with LocalStack(settings, root=ROOT, log=EventLog(quiet=True), parameter_overrides=overrides) as running:
        yield running


def _post(stack: LocalStack, **extra: str) -> httpx.Response:
    form = {"phone": "4155552690", "sms_consent": "on", "consent_text": TEXT, **extra}
    return httpx.post(
        f"{stack.url}/signup", data=form, headers={"origin": "https://shop.example.com"}, timeout=30
    )


def test_local_captcha_verify_url_is_the_loopback_fake(stack) -> None:
    # The local functions share this process's environment while the stack runs.
    assert os.environ["SIGNUP_CAPTCHA_VERIFY_URL"] == stack.captcha.url
    assert stack.captcha.url.startswith("http://127.0.0.1:")


def test_local_captcha_solved_token_accepted_other_refused(stack) -> None:
    assert _post(stack, **{"cf-turnstile-response": PASS_TOKEN}).status_code == 202
    refused = _post(stack, **{"cf-turnstile-response": "forged"})
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (400, "captcha")
