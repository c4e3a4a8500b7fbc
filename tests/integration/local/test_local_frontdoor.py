"""The front door: API Gateway v2 events, response mapping, routing and CORS (no server needed)."""

import base64
import json

from local.frontdoor import (
    FrontDoor,
    HttpRequest,
    HttpResponse,
    RouteTable,
    apply_cors,
    build_http_event,
    http_response_from_lambda,
    preflight_response,
)
from local.template import CorsSpec, RouteSpec

CORS = CorsSpec(
    allow_origins=("https://shop.example.com",),
    allow_methods=("POST",),
    allow_headers=("content-type",),
    max_age=600,
)


def _request(method="POST", target="/signup", headers=(), body=b""):
    return HttpRequest(method=method, target=target, headers=list(headers), body=body, source_ip="127.0.0.1")


def _route(path, method="POST", function="Fn"):
    return RouteSpec(function_id=function, api_id="HttpApi", method=method, path=path)


def test_build_http_event_lower_cases_and_combines_headers():
    request = _request(headers=[("X-Custom", "a"), ("x-custom", "b"), ("Content-Type", "application/json")])
    event = build_http_event(request, route_key="POST /signup")
    assert event["headers"]["x-custom"] == "a,b"
    assert event["headers"]["content-type"] == "application/json"


def test_build_http_event_sets_request_context_http():
    request = _request(headers=[("User-Agent", "curl/8")])
    event = build_http_event(request, route_key="POST /signup", request_id="r1")
    http = event["requestContext"]["http"]
    assert http == {
        "method": "POST",
        "path": "/signup",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8",
    }
    assert event["requestContext"]["requestId"] == "r1"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /signup"
    assert event["version"] == "2.0"


def test_build_http_event_splits_query_string():
    event = build_http_event(_request(target="/signup?a=1&a=2&b="), route_key="POST /signup")
    assert event["rawPath"] == "/signup"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}


def test_build_http_event_without_query_has_no_parameters():
    event = build_http_event(_request(), route_key="POST /signup")
    assert "queryStringParameters" not in event
    assert event["rawQueryString"] == ""


def test_build_http_event_moves_cookies_out_of_headers():
    event = build_http_event(_request(headers=[("Cookie", "a=1; b=2")]), route_key="POST /signup")
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]


def test_build_http_event_json_body_is_text():
    request = _request(headers=[("Content-Type", "application/json")], body=b'{"a":"\xc3\xa9"}')
    event = build_http_event(request, route_key="POST /signup")
    assert (event["body"], event["isBase64Encoded"]) == ('{"a":"é"}', False)


def test_build_http_event_form_body_is_base64():
    request = _request(headers=[("Content-Type", "application/x-www-form-urlencoded")], body=b"phone=%2B1")
    event = build_http_event(request, route_key="POST /signup")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"phone=%2B1"


def test_build_http_event_without_body_has_no_body():
    event = build_http_event(_request(method="GET"), route_key="GET /signup")
    assert "body" not in event


def test_http_response_from_lambda_maps_status_headers_cookies():
    response = http_response_from_lambda(
        {"statusCode": 201, "headers": {"X-A": "1"}, "cookies": ["c=1"], "body": "hi"}
    )
    assert response.status == 201
    assert ("x-a", "1") in response.headers
    assert ("set-cookie", "c=1") in response.headers
    assert response.body == b"hi"


def test_http_response_from_lambda_decodes_base64_body():
    response = http_response_from_lambda(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert response.body == b"\x00\x01"


def test_http_response_from_lambda_without_status_code_infers_json_200():
    response = http_response_from_lambda({"hello": "world"})
    assert (response.status, response.header("content-type")) == (200, "application/json")
    assert json.loads(response.body) == {"hello": "world"}


def test_route_table_matches_exact_path_and_method():
    table = RouteTable([_route("/webhooks/shopify"), _route("/webhooks/stripe")])
    match = table.match("POST", "/webhooks/stripe")
    assert match is not None
    assert match.route.path == "/webhooks/stripe"


def test_route_table_other_method_does_not_match():
    assert RouteTable([_route("/signup")]).match("GET", "/signup") is None


def test_route_table_path_parameters_and_greedy():
    table = RouteTable([_route("/items/{id}", "GET"), _route("/files/{proxy+}", "ANY")])
    assert table.match("GET", "/items/42").path_parameters == {"id": "42"}
    assert table.match("DELETE", "/files/a/b").path_parameters == {"proxy": "a/b"}


def test_route_table_prefers_specific_over_default():
    table = RouteTable([_route("$default", "ANY", "Default"), _route("/signup", "POST", "Signup")])
    assert table.match("POST", "/signup").route.function_id == "Signup"
    assert table.match("GET", "/other").route.function_id == "Default"


def test_preflight_response_allowed_origin_gets_cors_headers():
    response = preflight_response(CORS, {"origin": "https://shop.example.com"})
    assert response.status == 204
    assert response.header("access-control-allow-origin") == "https://shop.example.com"
    assert response.header("access-control-allow-methods") == "POST"
    assert response.header("access-control-max-age") == "600"


def test_preflight_response_other_origin_gets_no_cors_headers():
    response = preflight_response(CORS, {"origin": "https://evil.example.net"})
    assert response.status == 204
    assert response.header("access-control-allow-origin") is None


def test_apply_cors_replaces_the_integration_cors_headers():
    response = HttpResponse(200, [("access-control-allow-origin", "*")])
    apply_cors(CORS, "https://shop.example.com", response)
    assert [v for k, v in response.headers if k == "access-control-allow-origin"] == [
        "https://shop.example.com"
    ]


def test_front_door_unknown_route_is_404_without_invoking():
    calls = []
    door = FrontDoor(routes=[_route("/signup")], cors={}, invoke=lambda f, _e: calls.append(f))
    try:
        response = door.handle(_request(target="/nope"))
    finally:
        door.stop()
    assert (response.status, json.loads(response.body), calls) == (404, {"message": "Not Found"}, [])


def test_front_door_invokes_the_route_function_with_its_event():
    seen = []

    def invoke(function_id, event):
        seen.append((function_id, event["routeKey"], event["pathParameters"]))
        return {"statusCode": 202, "body": ""}

    door = FrontDoor(routes=[_route("/items/{id}", "POST", "Items")], cors={}, invoke=invoke)
    try:
        response = door.handle(_request(target="/items/7"))
    finally:
        door.stop()
    assert response.status == 202
    assert seen == [("Items", "POST /items/{id}", {"id": "7"})]


def test_front_door_handler_exception_is_500():
    def invoke(function_id, event):
        raise RuntimeError("boom")

    door = FrontDoor(routes=[_route("/signup")], cors={}, invoke=invoke)
    try:
        response = door.handle(_request())
    finally:
        door.stop()
    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


def test_front_door_preflight_is_answered_without_invoking():
    calls = []
    door = FrontDoor(routes=[_route("/signup")], cors={"HttpApi": CORS}, invoke=lambda f, _e: calls.append(f))
    headers = [("Origin", "https://shop.example.com"), ("Access-Control-Request-Method", "POST")]
    try:
        response = door.handle(_request(method="OPTIONS", headers=headers))
    finally:
        door.stop()
    assert (response.status, calls) == (204, [])
