"""The signup route's abuse defences: per-phone and per-IP limits (DynamoDB on moto) and the CAPTCHA."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from ingest_helpers import AwsFakes, FakeContext, http_event

from ingest import app, captcha, ratelimit
from ingest.config import clear_caches
from local.captcha import PASS_TOKEN, FakeCaptchaVerifier

CONSENT = "I agree to receive automated marketing texts. Consent is not a condition of purchase."
IDENTITY_KEY = "k" * 48
NOW = 1_795_420_800.0  # a window boundary for 3600-second windows


def signup(phone: str = "(415) 555-2671", *, ip: str = "198.51.100.7", **extra: Any) -> dict[str, Any]:
    body = json.dumps({"phone": phone, "sms_consent": True, "consent_text": CONSENT, **extra})
    headers = {"content-type": "application/json", "origin": "https://shop.example.com"}
    return http_event("/signup", body, headers, source_ip=ip)


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return app.lambda_handler(event, FakeContext())


@pytest.fixture
def limits(aws: AwsFakes, env: pytest.MonkeyPatch) -> Iterator[Any]:
    """A moto counter table and the identity key; 2 per phone, 3 per IP per hour."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(
        TableName="signup-limits",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    aws.secretsmanager.create_secret(Name="nomi-gateway/identity", SecretString=IDENTITY_KEY)
    env.setenv("SIGNUP_LIMIT_TABLE", "signup-limits")
    env.setenv("IDENTITY_HASH_SECRET_NAME", "nomi-gateway/identity")
    env.setenv("SIGNUP_LIMIT_PER_PHONE", "2")
    env.setenv("SIGNUP_LIMIT_PER_IP", "3")
    env.setattr(app, "wall_clock", lambda: NOW + 10)
    clear_caches()
    return dynamodb


def test_signup_limit_per_phone_exceeded_answers_429_with_retry_after(aws: AwsFakes, limits: Any) -> None:
    statuses = [invoke(signup(ip=f"198.51.100.{i}"))["statusCode"] for i in range(3)]
    answer = invoke(signup(ip="198.51.100.99"))
    assert statuses == [202, 202, 429]
    assert (answer["statusCode"], answer["headers"]["retry-after"]) == (429, "3590")
    assert answer["headers"]["access-control-allow-origin"] == "https://shop.example.com"
    assert len(aws.messages()) == 2


def test_signup_limit_per_ip_exceeded_answers_429(aws: AwsFakes, limits: Any) -> None:
    phones = ["4155550101", "4155550102", "4155550103", "4155550104"]
    assert [invoke(signup(p))["statusCode"] for p in phones] == [202, 202, 202, 429]


def test_signup_refused_for_ip_leaves_phone_allowance(aws: AwsFakes, limits: Any) -> None:
    for phone in ("4155550101", "4155550102", "4155550103"):
        invoke(signup(phone))
    assert invoke(signup("4155550109"))["statusCode"] == 429  # the IP is full
    # The refused signup did not count against 4155550109: it still has both of its own.
    assert invoke(signup("4155550109", ip="203.0.113.1"))["statusCode"] == 202
    assert invoke(signup("4155550109", ip="203.0.113.2"))["statusCode"] == 202


def test_signup_limit_window_rolls_over(aws: AwsFakes, limits: Any, env: pytest.MonkeyPatch) -> None:
    for _ in range(2):
        invoke(signup())
    env.setattr(app, "wall_clock", lambda: NOW + 3600 + 1)
    assert invoke(signup())["statusCode"] == 202


def test_signup_invalid_or_honeypot_counts_nothing(aws: AwsFakes, limits: Any) -> None:
    for _ in range(3):
        invoke(signup(consent_text="ok"))
        invoke(signup(website="spam"))
    assert invoke(signup())["statusCode"] == 202


def test_signup_counter_keys_hold_no_phone_or_ip(aws: AwsFakes, limits: Any) -> None:
    invoke(signup())
    items = limits.scan(TableName="signup-limits")["Items"]
    stored = json.dumps(items)
    assert len(items) == 2
    assert "4155552671" not in stored
    assert "198.51.100.7" not in stored
    assert all(int(item["expiration"]["N"]) > NOW for item in items)


def test_signup_counters_unavailable_answers_503(aws: AwsFakes, limits: Any) -> None:
    limits.delete_table(TableName="signup-limits")
    assert invoke(signup())["statusCode"] == 503
    assert aws.messages() == []


def test_ratelimit_take_without_active_limits_makes_no_call() -> None:
    class Refuses:
        def transact_write_items(self, **_: Any) -> None:
            raise AssertionError("no call expected")

    limits = [ratelimit.Limit("phone", "+14155552671", 0), ratelimit.Limit("ip", "", 5)]
    assert (
        ratelimit.take(limits, table="t", window_seconds=60, now=NOW, key=b"k" * 32, client=Refuses()) is None
    )


# --- CAPTCHA ------------------------------------------------------------------------------------------


@pytest.fixture
def verifier(aws: AwsFakes, env: pytest.MonkeyPatch) -> Iterator[FakeCaptchaVerifier]:
    aws.secretsmanager.create_secret(Name="nomi-gateway/captcha", SecretString="captcha-secret")
    with FakeCaptchaVerifier() as fake:
        env.setenv("SIGNUP_CAPTCHA_PROVIDER", "turnstile")
        env.setenv("SIGNUP_CAPTCHA_SECRET_NAME", "nomi-gateway/captcha")
        env.setenv("SIGNUP_CAPTCHA_VERIFY_URL", fake.url)
        clear_caches()
        yield fake


def test_signup_captcha_solved_accepted(aws: AwsFakes, verifier: FakeCaptchaVerifier) -> None:
    assert invoke(signup(**{"cf-turnstile-response": PASS_TOKEN}))["statusCode"] == 202
    assert "cf-turnstile-response" not in aws.messages()[0]["Body"]  # a token is no custom field


@pytest.mark.parametrize("token", [None, "forged"])
def test_signup_captcha_missing_or_rejected_answers_400_naming_captcha(
    aws: AwsFakes, verifier: FakeCaptchaVerifier, token: str | None
) -> None:
    extra = {} if token is None else {"cf-turnstile-response": token}
    answer = invoke(signup(**extra))
    assert (answer["statusCode"], json.loads(answer["body"])["errors"][0]["field"]) == (400, "captcha")
    assert aws.messages() == []


def test_signup_captcha_provider_unreachable_answers_503(
    aws: AwsFakes, verifier: FakeCaptchaVerifier, env: pytest.MonkeyPatch
) -> None:
    env.setenv("SIGNUP_CAPTCHA_VERIFY_URL", "http://127.0.0.1:9/siteverify")  # discard port: refused
    clear_caches()
    assert invoke(signup(captcha_token=PASS_TOKEN))["statusCode"] == 503


def test_captcha_verify_posts_secret_token_and_ip_to_provider_url() -> None:
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True})

    captcha.verify(
        {"h-captcha-response": "tok"},
        provider="hcaptcha",
        secret="s3",
        remote_ip="198.51.100.7",
        transport=httpx.MockTransport(provider),
    )
    assert str(seen[0].url) == captcha.SITEVERIFY_URLS["hcaptcha"]
    assert seen[0].content.decode() == "secret=s3&response=tok&remoteip=198.51.100.7"


def test_ratelimit_take_both_limits_in_one_round_trip() -> None:
    class Counting:
        calls: list[int] = []

        def transact_write_items(self, TransactItems: list[Any]) -> None:
            self.calls.append(len(TransactItems))

    client = Counting()
    limits = [ratelimit.Limit("phone", "+14155552671", 3), ratelimit.Limit("ip", "198.51.100.7", 20)]
    ratelimit.take(limits, table="t", window_seconds=3600, now=NOW, key=b"k" * 32, client=client)
    assert client.calls == [2]


def test_webhook_routes_do_not_import_the_signup_defences() -> None:
    import subprocess
    import sys

    probe = "import ingest.app, sys; print(sorted(m for m in ('ingest.ratelimit', 'ingest.captcha', 'httpx') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
