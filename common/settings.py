"""The services' settings: read from the environment, with the service table's defaults.

    app.config.from_mapping(settings.for_service("gateway"), OFFLINE=settings.flag("OFFLINE"))

A variable set to nothing counts as unset (compose's `${VAR:-}` gives nothing). A value
that cannot be read stops the service at its start, with a message that names the
variable, rather than with a traceback or, worse, a default that nobody chose.
"""

import os

from common.services import service

# Where telemetry goes when OTEL_EXPORTER_OTLP_ENDPOINT is not set: the collector on this
# machine, over gRPC. (The OTLP exporter's own default is the same, as localhost:4317.)
DEFAULT_OTLP_ENDPOINT = "http://127.0.0.1:4317"


class SettingError(ValueError):
    """An environment variable whose value is not what it should be."""


def _set(name: str) -> str:
    return os.environ.get(name, "").strip()


def text(name: str, default: str) -> str:
    return _set(name) or default


def number(name: str, default: float) -> float:
    value = _set(name)
    if not value:
        return float(default)
    try:
        return float(value)
    except ValueError:
        raise SettingError(f"{name}={value!r}: a number is needed, such as {default}") from None


def flag(name: str, default: bool = False) -> bool:
    value = _set(name).lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise SettingError(f"{name}={value!r}: true or false is needed")
    return value == "true"


def port(name: str) -> int:
    """The port a service listens on: its <NAME>_PORT variable, else the table's."""
    listed = service(name)
    value = _set(listed.port_variable) or str(listed.port)
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingError(f"{listed.port_variable}={value!r}: a port number is needed")
    return int(value)


def otlp_endpoint() -> str:
    return text("OTEL_EXPORTER_OTLP_ENDPOINT", DEFAULT_OTLP_ENDPOINT)


def for_service(name: str) -> dict:
    """What every service has: its request budget, and the URLs of the services it calls
    (on this machine, at their usual ports, unless the environment says otherwise)."""
    listed = service(name)
    settings = {
        "REQUEST_BUDGET_SECONDS": number("REQUEST_BUDGET_SECONDS", listed.request_budget_seconds)
    }
    for variable, callee in listed.calls.items():
        settings[variable] = text(variable, f"http://127.0.0.1:{service(callee).port}")
    return settings
