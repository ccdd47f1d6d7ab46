"""Running the workshop's self-checks against a platform, as a learner would.

Shared by the self-check tests and the learner simulator: the services from a tree of
the workshop's code, exporting to a native platform, and `python -m workshop.check N`.
"""

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from harness.browser import free_ports, submit
from harness.polling import wait_for
from loadgen.generate_load import generate_load
from native.run_services import start_services
from workshop.checkpoints import ROOT

# No internet in tests: no slow online lookups either. The services export within a
# second by default (EXPORT_DELAYS_MS in common/sdk_defaults.py).
OFFLINE = {"OFFLINE": "true"}
PLACES = ["Paris", "Nairobi", "Tokyo"]


def run_check(section: int, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m workshop.check SECTION`, as `make check` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "workshop.check", str(section)],
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def until_passes(
    section: int, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run the check every 2 s until it passes or time is up; return its last run."""
    runs = []

    def passes() -> bool:
        runs.append(run_check(section, env))
        return runs[-1].returncode == 0

    wait_for(passes, timeout, interval=2)
    return runs[-1]


def platform_env(stack) -> dict[str, str]:
    """The environment that points the checks at this platform."""
    return {
        "PROMETHEUS_URL": stack.urls["prometheus"],
        "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"],
    }


def check_env(stack, running) -> dict[str, str]:
    """The environment that points the checks at this platform and these services."""
    return platform_env(stack) | {"FRONTEND_PORT": str(urlsplit(running.urls["frontend"]).port)}


def without_internet(closed_port_url: str) -> dict[str, str]:
    """The usual workshop room: OFFLINE unset and no internet. The online sources are
    at a port where nothing listens, so every call to them fails at once."""
    nominatim = urlsplit(closed_port_url)
    return {
        "OFFLINE": "false",
        "NOMINATIM_SCHEME": nominatim.scheme,
        "NOMINATIM_DOMAIN": nominatim.netloc,
        "ISS_API_URL": closed_port_url,
    }


@contextlib.contextmanager
def services(stack, log_dir: Path, root: Path = ROOT, env=None, places=PLACES, **options):
    """The four services from `root`, exporting to the platform, after a form submission
    for each of `places`."""
    env = {**OFFLINE, "OTEL_EXPORTER_OTLP_ENDPOINT": stack.urls["otlp_grpc"], **(env or {})}
    with start_services(env, free_ports(), log_dir, root=root, **options) as running:
        for place in places:
            assert submit(running.urls["frontend"], place).status_code == 200
        yield running


def load(frontend_url: str, requests: int = 40) -> None:
    """What `make load` sends, `requests` times, as fast as the services answer."""
    generate_load(frontend_url, rate=50, timeout=20, requests=requests, report=lambda _: None)


@contextlib.contextmanager
def collector_from(stack, root: Path):
    """The platform's collector running the config of `root` (a checkpoint), then ROOT's."""
    stack.restart("otelcol", root=root)
    try:
        yield
    finally:
        stack.restart("otelcol")
