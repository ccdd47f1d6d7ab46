"""The public edge (webapp/edge.py): the frontend starts its own trace for each request,
links the client's, drops the client's baggage and ignores the client's budget."""

import re

import pytest
from flask import Flask, request
from opentelemetry.trace import SpanKind

from tests.fakes import GATEWAY_ANSWER
from webapp import create_app

CLIENT_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CLIENT_SPAN_ID = "b7ad6b7169203331"
CLIENT_BAGGAGE = "user.id=alice," + ",".join(f"k{n}={'v' * 20}" for n in range(120))  # ~3 kB


def traceparent(flags: str = "01") -> str:
    return f"00-{CLIENT_TRACE_ID}-{CLIENT_SPAN_ID}-{flags}"


@pytest.fixture
def gateway(serve):
    """A stand-in gateway that answers and remembers the headers of each call."""
    seen = []
    app = Flask("gateway_that_remembers")

    @app.get("/")
    def remember():
        seen.append(dict(request.headers))
        return GATEWAY_ANSWER

    return serve(app), seen


def submit(gateway_url: str, headers: dict, **config):
    app = create_app({"GATEWAY_URL": gateway_url, "REQUEST_BUDGET_SECONDS": 3, **config})
    response = app.test_client().post("/", data={"location": "Nairobi"}, headers=headers)
    assert response.status_code == 200
    return re.search(r'<code id="trace-id">([0-9a-f]{32})</code>', response.text)[1]


def server_span(telemetry):
    (span,) = [span for span in telemetry.spans() if span.kind == SpanKind.SERVER]
    return span


def test_a_public_request_starts_a_new_trace_linked_to_the_clients(telemetry, gateway):
    url, seen = gateway

    trace_id = submit(url, {"traceparent": traceparent(), "tracestate": "client=1"})

    assert trace_id != CLIENT_TRACE_ID
    span = server_span(telemetry)
    assert span.parent is None
    assert format(span.context.trace_id, "032x") == trace_id
    (link,) = span.links
    assert format(link.context.trace_id, "032x") == CLIENT_TRACE_ID
    assert format(link.context.span_id, "016x") == CLIENT_SPAN_ID
    # The gateway continues the frontend's trace, not the client's.
    assert seen[0]["Traceparent"].split("-")[1] == trace_id


def test_a_00_flag_does_not_hide_the_request_from_tracing(telemetry, gateway):
    url, seen = gateway

    trace_id = submit(url, {"traceparent": traceparent("00")})

    assert server_span(telemetry).context.trace_flags.sampled
    _, sent_trace_id, _, sent_flags = seen[0]["Traceparent"].split("-")
    assert sent_trace_id == trace_id
    assert int(sent_flags, 16) & 1  # the gateway is told to sample it too


@pytest.mark.parametrize(
    "header", ["nonsense", f"00-{'0' * 32}-{CLIENT_SPAN_ID}-01", f"ff-{CLIENT_TRACE_ID}-x-01"]
)
def test_an_invalid_client_context_is_not_linked(telemetry, gateway, header):
    url, _ = gateway

    submit(url, {"traceparent": header})

    assert server_span(telemetry).links == ()


def test_client_baggage_never_reaches_the_backends(gateway):
    url, seen = gateway

    submit(url, {"baggage": CLIENT_BAGGAGE, "traceparent": traceparent()})

    assert "Baggage" not in seen[0]
    assert "alice" not in str(seen[0])


def test_a_public_client_cannot_set_the_budget(gateway):
    url, seen = gateway

    submit(url, {"X-Request-Budget-Ms": "0"})

    # The frontend's own 3 s, less its margins: the client's 0 was ignored.
    assert 2000 < int(seen[0]["X-Request-Budget-Ms"]) <= 2600


def test_behind_a_trusted_proxy_the_trace_and_baggage_continue(telemetry, gateway):
    url, seen = gateway
    headers = {"traceparent": traceparent(), "baggage": "user.id=alice", "X-Request-Budget-Ms": "0"}

    trace_id = submit(url, headers, TRUST_INCOMING_TRACE_CONTEXT=True)

    assert trace_id == CLIENT_TRACE_ID
    assert format(server_span(telemetry).parent.span_id, "016x") == CLIENT_SPAN_ID
    assert server_span(telemetry).links == ()
    assert seen[0]["Baggage"] == "user.id=alice"
    assert int(seen[0]["X-Request-Budget-Ms"]) > 2000  # a budget is never trusted


@pytest.mark.parametrize(("value", "trusted"), [("true", True), ("false", False), ("", False)])
def test_the_setting_comes_from_the_environment(monkeypatch, value, trusted):
    monkeypatch.setenv("TRUST_INCOMING_TRACE_CONTEXT", value)

    assert create_app().config["TRUST_INCOMING_TRACE_CONTEXT"] is trusted
