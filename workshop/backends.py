"""Queries to the real backends, over the HTTP APIs Grafana uses too."""

import base64
import time

import requests


def wait_for(fetch, timeout: float = 90, interval: float = 1.0):
    """Call fetch() until it returns something truthy, or give up after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = fetch()
        except requests.RequestException:
            result = None
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def hex_id(value: str) -> str:
    """Tempo's JSON carries ids base64-encoded (protobuf JSON); Grafana shows hex."""
    if len(value) in (16, 32) and all(c in "0123456789abcdef" for c in value):
        return value
    return base64.b64decode(value).hex()


class Tempo:
    def __init__(self, url: str):
        self.url = url

    def trace(self, trace_id: str) -> list[dict]:
        """The spans of a trace, each with its service, as flat dicts ([] if not found)."""
        response = requests.get(f"{self.url}/api/traces/{trace_id}", timeout=5)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        spans = []
        for batch in response.json().get("batches", []):
            attributes = {a["key"]: a["value"] for a in batch["resource"]["attributes"]}
            service = attributes["service.name"]["stringValue"]
            for scope in batch.get("scopeSpans", []):
                for span in scope["spans"]:
                    spans.append({
                        "service": service,
                        "name": span["name"],
                        "kind": span.get("kind", ""),
                        "id": hex_id(span["spanId"]),
                        "parent": hex_id(span["parentSpanId"]) if span.get("parentSpanId") else "",
                    })  # fmt: skip
        return spans

    def search(self, traceql: str, since_seconds: int = 900) -> list[str]:
        """Trace ids that a TraceQL query finds."""
        end = int(time.time()) + 60
        response = requests.get(
            f"{self.url}/api/search",
            params={"q": traceql, "start": end - since_seconds - 60, "end": end, "limit": 100},
            timeout=10,
        )
        response.raise_for_status()
        return [t["traceID"].rjust(32, "0") for t in response.json().get("traces", [])]


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def query(self, promql: str) -> list[dict]:
        """The result of an instant query: a list of series with their labels."""
        response = requests.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def exemplars(self, promql: str, since_seconds: int = 900) -> list[dict]:
        """The exemplars of the series a query selects (each with its labels)."""
        end = time.time()
        response = requests.get(
            f"{self.url}/api/v1/query_exemplars",
            params={"query": promql, "start": end - since_seconds, "end": end},
            timeout=10,
        )
        response.raise_for_status()
        return [e for series in response.json()["data"] for e in series["exemplars"]]


class Loki:
    def __init__(self, url: str):
        self.url = url

    def query(self, logql: str, since_seconds: int = 900) -> list[dict]:
        """The streams a LogQL query returns, each with its labels and values."""
        end = time.time_ns()
        response = requests.get(
            f"{self.url}/loki/api/v1/query_range",
            params={
                "query": logql,
                "start": end - since_seconds * 10**9,
                "end": end,
                "limit": 1000,
            },
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["data"]["result"]
