"""The services' settings (common/settings.py): the service table's defaults, the
environment's values, and a clear stop for a value that cannot be read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

import gateway
import geolocator
import iss_distance
import webapp
from common import settings
from common.services import HEALTH_PATH, SERVICES, service
from harness.browser import free_ports
from harness.polling import wait_for

ROOT = Path(__file__).resolve().parent.parent
APPS = {"frontend": webapp, "gateway": gateway, "geolocator-service": geolocator,
        "iss-distance-service": iss_distance}  # fmt: skip


@pytest.fixture(autouse=True)
def no_settings_from_outside(monkeypatch):
    for name in ["REQUEST_BUDGET_SECONDS", "OFFLINE", *(s.port_variable for s in SERVICES)]:
        monkeypatch.delenv(name, raising=False)
    for listed in SERVICES:
        for variable in listed.calls:
            monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("listed", SERVICES, ids=lambda s: s.name)
def test_each_service_starts_with_the_tables_budget_and_addresses(listed):
    config = APPS[listed.name].create_app({"OFFLINE": True}).config

    assert config["REQUEST_BUDGET_SECONDS"] == listed.request_budget_seconds
    for variable, callee in listed.calls.items():
        assert config[variable] == f"http://127.0.0.1:{service(callee).port}"


def test_the_environment_wins_over_the_table(monkeypatch):
    monkeypatch.setenv("REQUEST_BUDGET_SECONDS", "2.5")
    monkeypatch.setenv("GATEWAY_URL", "http://gateway.example:9000")

    config = webapp.create_app().config

    assert config["REQUEST_BUDGET_SECONDS"] == 2.5
    assert config["GATEWAY_URL"] == "http://gateway.example:9000"


def test_a_variable_set_to_nothing_counts_as_unset(monkeypatch):
    for variable in ["REQUEST_BUDGET_SECONDS", "GATEWAY_URL", "FRONTEND_PORT"]:
        monkeypatch.setenv(variable, "")
    frontend = service("frontend")

    config = webapp.create_app().config

    assert config["REQUEST_BUDGET_SECONDS"] == frontend.request_budget_seconds
    assert config["GATEWAY_URL"] == f"http://127.0.0.1:{service('gateway').port}"
    assert settings.port("frontend") == frontend.port


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REQUEST_BUDGET_SECONDS", "soon", "REQUEST_BUDGET_SECONDS='soon': a number is needed"),
        ("OFFLINE", "yes", "OFFLINE='yes': true or false is needed"),
        ("GEOLOCATOR_SERVICE_PORT", "80a", "GEOLOCATOR_SERVICE_PORT='80a': a port number"),
        ("GEOLOCATOR_SERVICE_PORT", "70000", "GEOLOCATOR_SERVICE_PORT='70000': a port number"),
    ],
)
def test_a_value_that_cannot_be_read_stops_the_service_with_its_name(variable, value, message):
    env = {**os.environ, "OTEL_SDK_DISABLED": "true", variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "common.server", "geolocator-service"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.startswith(f"geolocator-service: {message}")
    assert "Traceback" not in result.stderr


def test_a_service_listens_on_its_port_variable(tmp_path):
    port = free_ports()["gateway"]
    env = {**os.environ, "OTEL_SDK_DISABLED": "true", "GATEWAY_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "common.server", "gateway"], env=env)
    try:
        answer = wait_for(lambda: requests.get(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=1))
        assert answer.status_code == 200
    finally:
        server.terminate()
        server.wait(10)


def test_the_default_otlp_endpoint_is_the_local_collector(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert settings.otlp_endpoint() == "http://127.0.0.1:4317"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4317")
    assert settings.otlp_endpoint() == "http://collector.example:4317"


def test_the_configuration_page_gives_the_tables_ports_and_budgets():
    page = (ROOT / "docs" / "configuration.md").read_text()
    shown = sorted(SERVICES, key=lambda s: s.port)  # as the page lists them
    [ports] = [line for line in page.splitlines() if line.startswith("| `FRONTEND_PORT`")]
    assert ports.startswith("| " + ", ".join(f"`{s.port_variable}`" for s in shown))
    assert ports.endswith("| " + ", ".join(f"`{s.port}`" for s in shown) + " |")
    [budgets] = [line for line in page.splitlines() if "`REQUEST_BUDGET_SECONDS`" in line]
    assert budgets.endswith(
        "| " + ", ".join(f"`{s.request_budget_seconds:g}`" for s in shown) + " |"
    )
