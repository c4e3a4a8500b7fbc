"""API-key auth: query parameter or header; 401 otherwise; /conversion needs none."""

from __future__ import annotations

import socket

import httpx
from sandbox_helpers import API_KEY, create_contact, multipart

from sandbox import SandboxServer


def test_auth_key_as_query_parameter_answers_200(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.get("/account/balance", params={"apikey": API_KEY})

    assert response.status_code == 200


def test_auth_key_as_header_answers_200(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.get("/account/balance", headers={"apikey": API_KEY})

    assert response.status_code == 200


def test_auth_missing_key_answers_401_envelope(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.get("/account/balance")

    assert response.status_code == 401
    assert response.json() == {"success": False, "data": [], "message": "Unauthenticated."}


def test_auth_wrong_key_answers_401(http: httpx.Client, sandbox: SandboxServer) -> None:
    response = http.post(
        "/contacts/create", params={"apikey": "wrong"}, files=multipart({"phone": "4155552671"})
    )

    assert response.status_code == 401


def test_auth_wrong_key_creates_nothing(http: httpx.Client, sandbox: SandboxServer) -> None:
    http.post("/contacts/create", params={"apikey": "wrong"}, files=multipart({"phone": "4155552671"}))

    assert sandbox.state.contacts == {}


def test_auth_conversion_without_key_answers_200(
    http: httpx.Client, sandbox: SandboxServer, nomi: httpx.Client
) -> None:
    campaign = sandbox.seed_campaign(short_link_id="AAAAAA")
    create_contact(nomi)

    response = http.post("/conversion", files=multipart({"id": campaign["short_link_id"], "amount": "5"}))

    assert response.status_code == 200


def test_auth_unknown_path_answers_404_envelope(nomi: httpx.Client) -> None:
    response = nomi.get("/nope")

    assert response.status_code == 404
    assert response.json()["success"] is False


def test_auth_wrong_method_answers_405(nomi: httpx.Client) -> None:
    response = nomi.post("/account/balance")

    assert response.status_code == 405


def test_headers_answer_carries_nomi_headers(nomi: httpx.Client) -> None:
    response = nomi.get("/account/balance")

    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache, private"
    assert response.headers["access-control-allow-origin"] == "*"


def test_body_malformed_content_length_answers_400(sandbox: SandboxServer) -> None:
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"POST /contacts/create HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
        answer = raw.recv(4096)

    assert answer.startswith(b"HTTP/1.1 400")
