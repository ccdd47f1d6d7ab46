"""The collector: one config for Docker and native, and a build that holds what it uses.

The native collector is built from native/otelcol-builder.yaml; Docker runs the contrib
distribution's image at the same version. These tests ask the built collector itself
which components it holds, and have it validate the config as each stack fills it in.
"""

import os
import subprocess

import pytest
import yaml

from native import build_backends
from native.run_stack import NATIVE_ENV, PROMETHEUS_FLAGS, ROOM_ENV, ROOT
from tests.test_containers import compose_config

CONFIG = ROOT / "otel-collector-config.yml"
KINDS = ["receivers", "processors", "exporters", "connectors", "extensions"]


@pytest.fixture(scope="module")
def collector() -> str:
    return str(build_backends.build(build_backends.backends()["otelcol"]))


@pytest.fixture(scope="module")
def compose_services() -> dict:
    return compose_config("docker-compose.yml")["services"]


def components_of(config: dict) -> dict[str, set[str]]:
    """The component types a config names, by kind: "otlp_grpc/traces" is an otlp_grpc."""
    return {kind: {name.split("/")[0] for name in config.get(kind) or {}} for kind in KINDS}


def test_the_native_build_holds_exactly_the_components_the_config_uses(collector):
    listed = yaml.safe_load(
        subprocess.run([collector, "components"], capture_output=True, text=True, check=True)
        .stdout
    )  # fmt: skip
    built = {kind: {c["name"] for c in listed.get(kind) or []} for kind in KINDS}

    assert built == components_of(yaml.safe_load(CONFIG.read_text()))


@pytest.mark.parametrize(
    ("stack", "env"),
    [("docker", {}), ("native", NATIVE_ENV), ("room", NATIVE_ENV | ROOM_ENV)],
    ids=["docker", "native", "native room mode"],
)
def test_the_config_is_valid_as_each_stack_fills_it_in(collector, stack, env):
    clean = {k: v for k, v in os.environ.items() if k not in NATIVE_ENV}
    result = subprocess.run(
        [collector, "validate", f"--config={CONFIG}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_every_pipeline_starts_with_the_memory_limiter():
    pipelines = yaml.safe_load(CONFIG.read_text())["service"]["pipelines"]
    for name, pipeline in pipelines.items():
        if set(pipeline["receivers"]) & {"otlp"}:
            assert pipeline["processors"][0] == "memory_limiter", name


def test_docker_runs_the_contrib_distribution_at_the_native_version(compose_services):
    pins = build_backends.read_env_file()
    image = compose_services["otel-collector"]["image"]

    assert image == f"otel/opentelemetry-collector-contrib:{pins['OTELCOL_VERSION']}"
    # The contrib distribution holds the core and contrib components: every one we build.
    manifest = (ROOT / "native" / "otelcol-builder.yaml").read_text()
    modules = [line.split()[2] for line in manifest.splitlines() if "gomod:" in line]
    assert all(
        m.startswith(("go.opentelemetry.io/collector/",
                      "github.com/open-telemetry/opentelemetry-collector-contrib/"))
        for m in modules
    )  # fmt: skip


def test_prometheus_runs_with_the_same_flags_natively_and_in_docker(compose_services):
    assert set(PROMETHEUS_FLAGS) <= set(compose_services["prometheus"]["command"])
