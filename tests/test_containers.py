"""The container set-up, checked with the real tools: Docker Compose and hadolint.

There is no Docker engine in CI, so the images are not built here; the same services
run natively in the other tests. These tests keep the two ways of running in step.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common.faults import DEFAULT_FLAGS_FILE
from native.run_services import SERVICES
from native.run_stack import ROOM_PORTS
from tests.readme import subsection, tables

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOCKERFILES = sorted(ROOT.glob("frontend/Dockerfile")) + sorted(ROOT.glob("backend/*/Dockerfile"))


def compose_config(*files: str, profile: str | None = None, env: dict | None = None) -> dict:
    arguments = [a for f in files for a in ("-f", f)]
    if profile:
        arguments += ["--profile", profile]  # "*": every profile, such as the load generator
    result = subprocess.run(
        [BIN / "docker-compose", *arguments, "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services_file() -> dict:
    return compose_config("docker-compose-services.yml")["services"]


@pytest.fixture(scope="module")
def platform() -> dict:
    return compose_config("docker-compose.yml")["services"]


@pytest.fixture(scope="module")
def every_container() -> dict:
    """The whole Docker stack: the platform, the services and the load generator."""
    return compose_config("docker-compose.yml", profile="*")["services"]


def test_there_is_a_dockerfile_per_service():
    assert {path.parent.name for path in DOCKERFILES} == {
        Path(service.directory).name for service in SERVICES
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfiles_pass_hadolint(dockerfile):
    result = subprocess.run(
        [BIN / "hadolint", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_images_share_one_pinned_base_and_run_as_non_root():
    """The four Dockerfiles differ only in their service: keep them in step."""
    for dockerfile in DOCKERFILES:
        lines = dockerfile.read_text().splitlines()
        base = [line for line in lines if line.startswith("FROM ")]
        assert base == ["FROM python:3.11.14-slim-bookworm"], dockerfile
        assert [line for line in lines if line.startswith("USER ")] == ["USER 10001"], dockerfile


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_compose_runs_each_service_as_it_runs_natively(services_file, service):
    container = services_file[service.name]
    dockerfile = ROOT / container["build"]["dockerfile"]
    assert dockerfile.parent == ROOT / service.directory
    command = f'"common.server", "--listen=0.0.0.0:{service.port}", "{service.package}:create_app"'
    assert command in dockerfile.read_text()
    for variable, callee in service.calls.items():
        port = next(s.port for s in SERVICES if s.name == callee)
        assert container["environment"][variable] == f"http://{callee}:{port}"
    assert container["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert f"{service.port}/healthz" in " ".join(container["healthcheck"]["test"])


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_saved_code_is_synced_into_the_container_and_restarted(services_file, service):
    watch = services_file[service.name]["develop"]["watch"]
    synced = {(Path(w["path"]), w["target"]) for w in watch if w["action"] == "sync+restart"}
    assert (ROOT / service.directory / service.package, f"/app/{service.package}") in synced
    assert (ROOT / "common", "/app/common") in synced


@pytest.mark.parametrize("service", ["geolocator-service", "iss-distance-service"])
def test_the_fault_flags_are_mounted_read_only_where_the_service_reads_them(services_file, service):
    """`make fault` edits the host's file; the service in its container sees the change."""
    [mount] = services_file[service]["volumes"]
    assert Path(mount["source"]) == DEFAULT_FLAGS_FILE.parent  # the folder: see the comment
    assert mount["read_only"]
    # common/faults.py reads ../faults/flags.json from its own folder, /app/common.
    folder = DEFAULT_FLAGS_FILE.parent.relative_to(ROOT).as_posix()
    assert mount["target"] == f"/app/{folder}"
    dockerfile = (ROOT / services_file[service]["build"]["dockerfile"]).read_text()
    assert "WORKDIR /app\n" in dockerfile and " common/ common/\n" in dockerfile


def test_only_the_frontend_is_published_and_only_on_this_machine(services_file):
    published = {name: s.get("ports", []) for name, s in services_file.items() if s.get("ports")}
    assert list(published) == ["frontend"]
    [port] = published["frontend"]
    assert port["host_ip"] == "127.0.0.1"
    assert (port["published"], port["target"]) == ("8080", 8080)


def test_the_frontend_port_is_configurable(monkeypatch):
    monkeypatch.setenv("FRONTEND_PORT", "9123")
    [port] = compose_config("docker-compose-services.yml")["services"]["frontend"]["ports"]
    assert port["published"] == "9123"


# The platform: Tempo, Loki and Grafana run only in Docker, so these checks are
# all that stands between a typo in their configs and a learner's broken stack.


def test_the_collector_image_is_contrib_and_reads_our_config(platform):
    """The config uses contrib components; the image reads this path by default."""
    collector = platform["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    mounted = {(Path(v["source"]), v["target"]) for v in collector["volumes"]}
    assert (ROOT / "otel-collector-config.yml", "/etc/otelcol-contrib/config.yaml") in mounted


def test_tempo_config_is_in_the_tempo_3_shape():
    """Tempo 3 refuses the 2.x ingester and compactor blocks and the local-blocks processor."""
    config = yaml.safe_load((ROOT / "tempo" / "tempo.yml").read_text())
    removed_in_3 = {"ingester", "ingester_client", "compactor", "metrics_generator_client"}
    assert not removed_in_3 & set(config)
    generator = config["metrics_generator"]
    assert "local_blocks" not in generator.get("processor", {})
    assert "traces_storage" not in generator
    # Service graphs for Grafana's service map; span metrics come from the collector.
    assert config["overrides"]["defaults"]["metrics_generator"]["processors"] == ["service-graphs"]
    # Each edge names its learner, which the dashboard's service graph picks (room mode).
    service_graphs = generator["processor"]["service_graphs"]
    assert service_graphs == {
        "dimensions": ["service.namespace"],
        "enable_client_server_prefix": True,
    }
    [remote_write] = generator["storage"]["remote_write"]
    assert remote_write["url"] == "http://prometheus:9090/api/v1/write"
    # The collector reaches Tempo from another container.
    otlp = config["distributor"]["receivers"]["otlp"]
    assert otlp["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"


def test_loki_reports_ready_within_seconds():
    config = yaml.safe_load((ROOT / "loki" / "loki.yml").read_text())
    assert config["ingester"]["lifecycler"]["min_ready_duration"] in ("0s", "1s", "2s")
    assert config["limits_config"]["allow_structured_metadata"] is True  # trace_id lives there


@pytest.mark.parametrize("name", ["tempo", "loki"])
def test_distroless_backends_check_their_own_health(platform, name):
    """Neither image has a shell or wget: the healthcheck runs the backend's own binary."""
    container = platform[name]
    test = container["healthcheck"]["test"]
    assert test[0] == "CMD" and test[-1] == "-health"
    assert container["user"] == "10001:10001"
    assert {port["host_ip"] for port in container["ports"]} == {"127.0.0.1"}


def published_ports(services: dict) -> dict[tuple[str, int], str]:
    """(service, container port) -> the host address it is published on."""
    return {
        (name, port["target"]): port["host_ip"]
        for name, service in services.items()
        for port in service.get("ports", [])
    }


def test_every_port_is_published_on_this_machine_only(platform):
    assert set(published_ports(platform).values()) == {"127.0.0.1"}


def test_room_mode_opens_only_the_collectors_otlp_ports_to_the_network():
    """docker-compose.room.yml: the collector's OTLP on every interface, as ROOM=1 natively."""
    room = published_ports(
        compose_config("docker-compose.yml", "docker-compose.room.yml")["services"]
    )
    alone = published_ports(compose_config("docker-compose.yml")["services"])
    opened = {key: host for key, host in room.items() if host != "127.0.0.1"}

    assert opened == {("otel-collector", port): "0.0.0.0" for port in ROOM_PORTS.values()}
    # The rest is as without room mode, and nothing is published twice.
    assert room.keys() == alone.keys()


ROOM_FILES = ("docker-compose.yml", "docker-compose.room.yml")


def test_room_mode_shares_grafana_read_only_when_asked():
    """ROOM_VIEWS_ADDRESS=0.0.0.0 opens Grafana, and nothing else, to the room."""
    shared = compose_config(*ROOM_FILES, env={"ROOM_VIEWS_ADDRESS": "0.0.0.0"})["services"]
    opened = {key for key, host in published_ports(shared).items() if host != "127.0.0.1"}

    assert opened == {("grafana", 3000)} | {("otel-collector", p) for p in ROOM_PORTS.values()}


def test_in_room_mode_grafana_lets_everyone_in_as_a_viewer_who_saves_nothing():
    alone = compose_config("docker-compose.yml")["services"]["grafana"]["environment"]
    room = compose_config(*ROOM_FILES)["services"]["grafana"]["environment"]

    assert alone["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Admin"  # a learner's own, on 127.0.0.1
    assert room["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert room["GF_AUTH_DISABLE_LOGIN_FORM"] == "true"  # no one signs in as more
    assert room["GF_QUERY_HISTORY_ENABLED"] == room["GF_SNAPSHOTS_ENABLED"] == "false"


# Memory: what a learner's laptop must give Docker (docs/facilitators.md, "What a laptop needs").
DOCKER_MEMORY_BUDGET = 2 * 1024**3
MIB = 1024**2


def memory_limit(container: dict) -> int:
    """Bytes, as `docker compose config` writes either spelling of the limit; 0 if none."""
    limits = container.get("deploy", {}).get("resources", {}).get("limits", {})
    return int(limits.get("memory") or container.get("mem_limit") or 0)


def test_every_container_has_a_memory_limit(every_container):
    assert "load-generator" in every_container  # the profile's container is counted too
    unlimited = [name for name, container in every_container.items() if not memory_limit(container)]
    assert unlimited == []


def test_the_memory_limits_together_fit_in_2_gib(every_container):
    total = sum(memory_limit(container) for container in every_container.values())
    assert total <= DOCKER_MEMORY_BUDGET, f"{total / MIB:.0f} MiB"


def test_the_readme_gives_each_containers_memory_limit_and_their_total(every_container):
    text = subsection("What a laptop needs")
    rows = tables(text)["container"]
    in_readme = {name: limit for name, limit, *_why in rows}
    limits = {name: memory_limit(container) for name, container in every_container.items()}
    assert in_readme == {name: f"{limit // MIB} MiB" for name, limit in limits.items()}
    assert f"{sum(limits.values()) // MIB} MiB" in text
