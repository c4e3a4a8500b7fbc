"""Fault injection at the socket level, before or after the request's effect."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sandbox_helpers import API_KEY, create_contact, loopback_client, multipart, post

from sandbox import FaultConfig, SandboxServer

SEND = {"phone": "4155552671", "message": "hello"}


def send(client: httpx.Client) -> httpx.Response:
    return post(client, "/messages/create", SEND)


@pytest.mark.parametrize(("kind", "status"), [("429", 429), ("500", 500), ("503", 503)])
def test_fault_status_before_answers_status_without_effect(
    sandbox: SandboxServer, nomi: httpx.Client, kind: str, status: int
) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=(kind,), when="before"))

    response = send(nomi)

    assert response.status_code == status
    assert response.json()["success"] is False
    assert sandbox.state.messages == []


def test_fault_429_carries_retry_after(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("429",), retry_after_seconds=3))

    response = nomi.get("/account/balance")

    assert response.headers["retry-after"] == "3"


def test_fault_429_with_when_after_still_applies_nothing(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("429",), when="after"))

    send(nomi)

    assert sandbox.state.messages == []


@pytest.mark.parametrize("kind", ["500", "503"])
def test_fault_status_after_applies_effect_then_fails(
    sandbox: SandboxServer, nomi: httpx.Client, kind: str
) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=(kind,), when="after"))

    response = send(nomi)

    assert response.status_code == int(kind)
    assert [m.message for m in sandbox.state.messages] == ["hello"]


def test_fault_timeout_before_hangs_without_effect(sandbox: SandboxServer) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("timeout",), when="before", hang_seconds=5))

    with (
        loopback_client(sandbox.url, params={"apikey": API_KEY}, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        send(client)

    assert sandbox.state.messages == []


def test_fault_timeout_after_sends_although_client_timed_out(sandbox: SandboxServer) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("timeout",), when="after", hang_seconds=5))

    with (
        loopback_client(sandbox.url, params={"apikey": API_KEY}, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        send(client)

    assert [m.message for m in sandbox.state.messages] == ["hello"]


def test_fault_timeout_hang_ends_closing_without_answer(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("timeout",), hang_seconds=0.05))

    with pytest.raises(httpx.RemoteProtocolError):
        nomi.get("/account/balance")


def test_fault_drop_before_closes_without_answer_or_effect(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("drop",), when="before"))

    with pytest.raises(httpx.TransportError):
        send(nomi)

    assert sandbox.state.messages == []


def test_fault_drop_after_sends_although_connection_dropped(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("drop",), when="after"))

    with pytest.raises(httpx.TransportError):
        send(nomi)

    assert [m.message for m in sandbox.state.messages] == ["hello"]


def test_fault_slow_answers_normally_after_delay(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("slow",), slow_seconds=0.05))

    response = send(nomi)

    assert response.status_code == 200
    assert sandbox.state.request_log()[-1]["fault"] == {"kind": "slow", "when": "before"}


def test_fault_slow_after_applies_effect_before_client_gives_up(sandbox: SandboxServer) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("slow",), when="after", slow_seconds=5))

    with (
        loopback_client(sandbox.url, params={"apikey": API_KEY}, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        send(client)

    assert len(sandbox.state.messages) == 1


def test_fault_latency_delays_every_answer_at_least_that_long(
    sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    sandbox.set_faults(FaultConfig(latency_ms=100))

    started = time.monotonic()
    response = nomi.get("/account/balance")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.1


def test_fault_same_seed_repeats_the_same_faults(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    config = FaultConfig(rate=0.5, kinds=("429", "500", "503"), when="mixed", seed=3)

    def run() -> list[int]:
        sandbox.set_faults(config)
        return [nomi.get("/account/balance").status_code for _ in range(20)]

    first, second = run(), run()

    assert first == second
    assert {200, 429} <= set(first)


def test_fault_paths_limit_to_listed_paths(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("500",), paths=("/messages/create",)))

    assert nomi.get("/account/balance").status_code == 200
    assert send(nomi).status_code == 500


def test_fault_limit_stops_after_that_many(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("503",), limit=1))

    statuses = [nomi.get("/account/balance").status_code for _ in range(3)]

    assert statuses == [503, 200, 200]


def test_fault_never_hits_sandbox_endpoints(http: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("drop",)))

    response = http.get("/_sandbox/state")

    assert response.status_code == 200


def test_fault_config_over_http_applies(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    response = http.post("/_sandbox/faults", json={"rate": 1, "kinds": ["503"]})

    assert response.status_code == 200
    assert nomi.get("/account/balance").status_code == 503


def test_fault_config_over_http_invalid_answers_400(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post("/_sandbox/faults", json={"rate": 2, "kinds": ["teapot"]})

    assert response.status_code == 400


def test_fault_config_at_start_applies() -> None:
    with (
        SandboxServer(api_key=API_KEY, faults=FaultConfig(rate=1.0, kinds=("500",))) as server,
        loopback_client(server.url, params={"apikey": API_KEY}) as client,
    ):
        response = client.get("/account/balance")

    assert response.status_code == 500


def test_server_stop_with_hanging_request_returns_and_cuts_it() -> None:
    server = SandboxServer(api_key=API_KEY, faults=FaultConfig(rate=1.0, kinds=("timeout",), hang_seconds=60))
    errors: list[Exception] = []

    def call() -> None:
        try:
            with loopback_client(server.url, params={"apikey": API_KEY}, timeout=60) as client:
                client.get("/account/balance")
        except httpx.TransportError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.state.request_log():
        time.sleep(0.01)

    server.stop()
    caller.join()

    assert len(errors) == 1


def test_server_concurrent_creates_of_one_phone_make_one_contact(
    http: httpx.Client, sandbox: SandboxServer
) -> None:
    def create() -> None:
        http.post("/contacts/create", params={"apikey": API_KEY}, files=multipart({"phone": "4155552671"}))

    threads = [threading.Thread(target=create) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(sandbox.state.contacts) == 1


def test_fault_after_create_contact_exists_after_500(sandbox: SandboxServer, nomi: httpx.Client) -> None:
    sandbox.set_faults(FaultConfig(rate=1.0, kinds=("500",), when="after"))

    post(nomi, "/contacts/create", {"phone": "4155552671"})
    sandbox.set_faults(FaultConfig())

    assert create_contact(nomi)["contact_id"] == 1
