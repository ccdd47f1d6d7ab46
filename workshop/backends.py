"""Queries to the real backends of the native platform, over their HTTP APIs.

Prometheus answers the same PromQL under Docker and natively. Traces and logs are
in Jaeger and VictoriaLogs natively (Tempo and Loki under Docker, whose source
licence keeps them out of the native platform); these clients speak their APIs.
"""

import json
import time

import requests


class Prometheus:
    def __init__(self, url: str):
        self.url = url

    def query(self, promql: str) -> list[dict]:
        """The result of an instant query: a list of series with their labels."""
        response = requests.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def label_values(self, label: str, since_seconds: int = 900) -> list[str]:
        """The values a label has had on any series in the last `since_seconds`."""
        response = requests.get(
            f"{self.url}/api/v1/label/{label}/values",
            params={"start": time.time() - since_seconds},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["data"]

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

    def alerts(self) -> list[dict]:
        """The alerts that are pending or firing now, each with its labels and state."""
        response = requests.get(f"{self.url}/api/v1/alerts", timeout=10)
        response.raise_for_status()
        return response.json()["data"]["alerts"]

    def alerting_rules(self) -> list[str]:
        """The names of the alerting rules that Prometheus has loaded."""
        response = requests.get(f"{self.url}/api/v1/rules", params={"type": "alert"}, timeout=10)
        response.raise_for_status()
        groups = response.json()["data"]["groups"]
        return [rule["name"] for group in groups for rule in group["rules"]]


class Jaeger:
    """Jaeger v2's query API (the one its UI uses), on port 16686."""

    def __init__(self, url: str):
        self.url = url

    def trace(self, trace_id: str) -> list[dict]:
        """The spans of a trace, each with its service, as flat dicts ([] if not found).

        Each span's events (Jaeger calls them logs) are dicts of their fields, the
        event's name under "event"; its duration is in seconds.
        """
        response = requests.get(f"{self.url}/api/traces/{trace_id}", timeout=5)
        if response.status_code == 404:
            return []
        response.raise_for_status()
        spans = []
        for trace in response.json()["data"]:
            for span in trace["spans"]:
                tags = {tag["key"]: tag["value"] for tag in span["tags"]}
                parents = [r["spanID"] for r in span["references"] if r["refType"] == "CHILD_OF"]
                spans.append({
                    "service": trace["processes"][span["processID"]]["serviceName"],
                    "name": span["operationName"],
                    "kind": tags.get("span.kind", "internal"),
                    "id": span["spanID"],
                    "parent": parents[0] if parents else "",
                    "tags": tags,
                    "events": [
                        {field["key"]: field["value"] for field in log["fields"]}
                        for log in span.get("logs") or []
                    ],
                    "duration": span["duration"] / 1e6,  # Jaeger gives microseconds
                })  # fmt: skip
        return spans

    def search(
        self, service: str, tags: dict | None = None, since_seconds: int = 900, limit: int = 100
    ) -> list[str]:
        """Ids of recent traces with a span of `service` that has all these tags."""
        params = {"service": service, "lookback": f"{since_seconds}s", "limit": limit}
        if tags:
            params["tags"] = json.dumps(tags)
        response = requests.get(f"{self.url}/api/traces", params=params, timeout=10)
        response.raise_for_status()
        return [trace["traceID"] for trace in response.json()["data"] or []]

    def dependencies(self, since_seconds: int = 900) -> set[tuple[str, str]]:
        """Which service calls which: (caller, callee) pairs seen in recent traces."""
        params = {"endTs": int(time.time() * 1000), "lookback": since_seconds * 1000}
        response = requests.get(f"{self.url}/api/dependencies", params=params, timeout=10)
        response.raise_for_status()
        # A span whose parent is in the same service makes a self-edge: not a call.
        return {
            (edge["parent"], edge["child"])
            for edge in response.json()["data"] or []
            if edge["parent"] != edge["child"]
        }


class VictoriaLogs:
    """VictoriaLogs' LogsQL API, on port 9428 (its web UI is at /select/vmui/)."""

    def __init__(self, url: str):
        self.url = url

    def query(self, logsql: str, since_seconds: int = 900, limit: int = 1000) -> list[dict]:
        """The log records a LogsQL query finds, newest first, each a dict of its fields."""
        response = requests.get(
            f"{self.url}/select/logsql/query",
            params={"query": logsql, "start": int(time.time()) - since_seconds, "limit": limit},
            timeout=10,
        )
        response.raise_for_status()
        return [json.loads(line) for line in response.text.splitlines() if line]
