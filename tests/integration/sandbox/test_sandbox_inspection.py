"""The /_sandbox inspection and control API."""

from __future__ import annotations

import json

import httpx
import pytest
from sandbox_helpers import API_KEY, SMS_OPT_IN, create_contact, post

from sandbox import FaultConfig, SandboxServer


def test_state_lists_every_collection(http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client) -> None:
    create_contact(nomi, **SMS_OPT_IN)
    post(nomi, "/messages/create", {"contact_id": "1", "message": "hi"})

    state = http.get("/_sandbox/state").json()

    assert {
        "contacts",
        "consent_log",
        "messages",
        "conversions",
        "campaigns",
        "short_links",
        "balance",
    } <= set(state)
    assert state["contacts"][0]["sms_consent_status"] == "subscribed"
    assert state["consent_log"][0]["user_agent"] == "Mozilla/5.0"
    assert state["messages"][0]["message"] == "hi"


def test_requests_record_method_path_fields_and_status(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    post(nomi, "/contacts/create", {"phone": "4155552671", "remove_custom_variables[]": ["a", "b"]})

    entry = http.get("/_sandbox/requests").json()["requests"][0]

    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/contacts/create", 200)
    assert entry["form"] == {"phone": "4155552671", "remove_custom_variables[]": ["a", "b"]}
    assert entry["auth"] == "query"


def test_requests_record_json_body(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    nomi.post("/contacts/9/consent", json={"channel": "sms"})

    entry = sandbox.state.request_log()[0]

    assert (entry["json"], entry["status"]) == ({"channel": "sms"}, 404)


def test_requests_redact_the_api_key_everywhere(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    nomi.get("/account/balance")
    http.get("/account/balance", headers={"apikey": API_KEY})
    post(nomi, "/contacts/create", {"phone": "4155552671", "first_name": f"x{API_KEY}x", "apikey": API_KEY})

    raw = http.get("/_sandbox/requests").text

    assert API_KEY not in raw
    assert json.loads(raw)["requests"][0]["query"] == {"apikey": "[REDACTED]"}
    assert json.loads(raw)["requests"][1]["auth"] == "header"


def test_requests_record_fault_and_no_status_for_drop(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("drop",), when="after"))
    with pytest.raises(httpx.TransportError):
        nomi.get("/account/balance")

    entry = sandbox.state.request_log()[0]

    assert entry["fault"] == {"kind": "drop", "when": "after"}
    assert (entry["status"], entry["outcome"], entry["effect_applied"], entry["handler_status"]) == (
        None,
        "dropped",
        True,
        200,
    )


def test_reset_clears_state_and_requests(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    create_contact(nomi)

    response = http.post("/_sandbox/reset")

    assert response.status_code == 200
    assert http.get("/_sandbox/state").json()["contacts"] == []
    assert sandbox.state.request_log() == []


def test_reset_restores_startup_faults(sandbox: SandboxServer) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0))

    sandbox.reset()

    assert sandbox.faults == FaultConfig()


def test_reset_restarts_contact_ids(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    create_contact(nomi)
    sandbox.reset()

    assert create_contact(nomi)["contact_id"] == 1


def test_sandbox_unknown_action_answers_404(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post("/_sandbox/nothing")

    assert response.status_code == 404
