"""The container set-up, checked with the real tools: Docker Compose and hadolint.

There is no Docker engine in CI, so the images are not built here; the same services
run natively in the other tests. These tests keep the two ways of running in step.
"""

import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from common.faults import DEFAULT_FLAGS_FILE
from common.services import HEALTH_PATH, SERVICES
from native import read_only_front
from native.build_backends import read_env_file
from native.run_services import ZERO_CODE_SETTINGS, write_zero_code_tree
from native.run_stack import ROOM_PORTS
from tests.compose_releases import MINIMUM, compose_release, memory_limit
from tests.readme import all_text, commands, subsection, tables

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The Compose release on PyPI just before COMPOSE_MINIMUM, and the last of those that
# ignore `!override` (2.23.0 to 2.24.3; 2.24.4 is not on PyPI).
RELEASE_BEFORE_MINIMUM = "2.24.6"
IGNORES_OVERRIDE = "2.24.3"
DOCKERFILES = sorted(ROOT.glob("frontend/Dockerfile")) + sorted(ROOT.glob("backend/*/Dockerfile"))


def compose_config(
    *files: str,
    profile: str | None = None,
    compose: Path = BIN / "docker-compose",
    env: dict | None = None,
) -> dict:
    """The project as Compose reads it (by default the release in requirements-dev.txt),
    with `env` added to the environment it interpolates."""
    arguments = [a for f in files for a in ("-f", f)]
    if profile:
        arguments += ["--profile", profile]  # "*": every profile, such as the load generator
    result = subprocess.run(
        [compose, *arguments, "config", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def services_file() -> dict:
    """The four services (docker-compose-services.yml, which docker-compose.yml includes)."""
    services = compose_config("docker-compose.yml")["services"]
    return {service.name: services[service.name] for service in SERVICES}


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
        assert base == ["FROM python:3.11.15-slim-bookworm"], dockerfile
        assert [line for line in lines if line.startswith("USER ")] == ["USER 10001"], dockerfile


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_compose_runs_each_service_as_it_runs_natively(services_file, service):
    container = services_file[service.name]
    dockerfile = ROOT / container["build"]["dockerfile"]
    assert dockerfile.parent == ROOT / service.directory
    command = f'CMD ["python", "-m", "common.server", "--host=0.0.0.0", "{service.name}"]\n'
    assert command in dockerfile.read_text()
    # common.server reads its port from this variable, as make run gives it.
    assert container["environment"][service.port_variable] == str(service.port)
    for variable, callee in service.calls.items():
        port = next(s.port for s in SERVICES if s.name == callee)
        assert container["environment"][variable] == f"http://{callee}:{port}"
    assert container["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert f"127.0.0.1:{service.port}{HEALTH_PATH}'" in " ".join(container["healthcheck"]["test"])


def test_the_env_file_gives_compose_the_service_tables_ports():
    pins = read_env_file()
    assert {s.port_variable: pins.get(s.port_variable) for s in SERVICES} == {
        s.port_variable: str(s.port) for s in SERVICES
    }


def test_compose_takes_every_port_of_a_service_from_its_variable(monkeypatch):
    """No port is written into the compose files: moving one moves all its uses."""
    monkeypatch.setenv("GATEWAY_PORT", "9181")
    services = compose_config("docker-compose.yml")["services"]
    assert services["gateway"]["environment"]["GATEWAY_PORT"] == "9181"
    assert "127.0.0.1:9181/healthz" in " ".join(services["gateway"]["healthcheck"]["test"])
    assert services["frontend"]["environment"]["GATEWAY_URL"] == "http://gateway:9181"


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
    [port] = compose_config("docker-compose.yml")["services"]["frontend"]["ports"]
    assert port["published"] == "9123"


# The platform: Tempo, Loki and Grafana run only in Docker, so these checks are
# all that stands between a typo in their configs and a learner's broken stack.


def test_the_collector_image_is_contrib_and_reads_our_config(platform):
    """The config uses contrib components; the image reads this path by default."""
    collector = platform["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    mounted = {(Path(v["source"]), v["target"]) for v in collector["volumes"]}
    assert (
        ROOT / "platform/otel-collector-config.yml",
        "/etc/otelcol-contrib/config.yaml",
    ) in mounted


def test_tempo_config_is_in_the_tempo_3_shape():
    """Tempo 3 refuses the 2.x ingester and compactor blocks and the local-blocks processor."""
    config = yaml.safe_load((ROOT / "platform" / "tempo" / "tempo.yml").read_text())
    removed_in_3 = {"ingester", "ingester_client", "compactor", "metrics_generator_client"}
    assert not removed_in_3 & set(config)
    # Tempo receives sampled traces: the service graph comes from the collector, which
    # sees every span (tests/test_collector_config.py), not from Tempo's generator.
    assert "metrics_generator" not in config and "overrides" not in config
    # The collector reaches Tempo from another container.
    otlp = config["distributor"]["receivers"]["otlp"]
    assert otlp["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"


def test_loki_reports_ready_within_seconds():
    config = yaml.safe_load((ROOT / "platform" / "loki" / "loki.yml").read_text())
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


def published_ports(services: dict) -> list[tuple[tuple[str, int], str]]:
    """((service, container port), the host address it is published on), for each port."""
    return [
        ((name, port["target"]), port["host_ip"])
        for name, service in services.items()
        for port in service.get("ports", [])
    ]


def test_every_port_is_published_on_this_machine_only(platform):
    assert {host for _, host in published_ports(platform)} == {"127.0.0.1"}


def check_room_mode(compose: Path = BIN / "docker-compose") -> None:
    """docker-compose.room.yml: the collector's OTLP on every interface, as ROOM=1 natively."""
    room = published_ports(
        compose_config("docker-compose.yml", "docker-compose.room.yml", compose=compose)["services"]
    )
    alone = published_ports(compose_config("docker-compose.yml", compose=compose)["services"])
    opened = {key: host for key, host in room if host != "127.0.0.1"}

    assert opened == {("otel-collector", port): "0.0.0.0" for port in ROOM_PORTS.values()}
    # The rest is as without room mode, with the room's read-only front on this machine
    # only until it is shared; nothing is published twice (on 127.0.0.1 and on 0.0.0.0:
    # the two would clash when the container starts).
    assert sorted(key for key, _ in room) == sorted(
        [key for key, _ in alone] + [("room-view", read_only_front.PORT)]
    )


def test_room_mode_opens_only_the_collectors_otlp_ports_to_the_network():
    check_room_mode()


# The oldest Compose the docs allow (COMPOSE_MINIMUM in .env) runs every file.


def test_the_docs_name_the_compose_minimum_and_no_other():
    text = all_text()
    named = set(re.findall(r"Compose (\d+\.\d+(?:\.\d+)?)", text))
    assert named == {MINIMUM}, named


@pytest.mark.parametrize(
    "files", [("docker-compose.yml",), ("docker-compose.yml", "docker-compose.room.yml")],
    ids=["the stack, every profile", "room mode"],
)  # fmt: skip
def test_the_compose_minimum_loads_every_compose_file(files):
    oldest = compose_config(*files, profile="*", compose=compose_release(MINIMUM))
    newest = compose_config(*files, profile="*")
    # The same project: every service, with the settings that matter read the same
    # (a newer Compose writes more defaults, so only what this project sets is compared).
    assert oldest["services"].keys() == newest["services"].keys()
    for name, service in newest["services"].items():
        assert essentials(oldest["services"][name]) == essentials(service), name


def as_mapping(environment: dict | list | None) -> dict | None:
    """Compose 2.24 writes a service's environment merged from two files as a list of
    NAME=value; newer releases as a mapping. The same settings either way."""
    if isinstance(environment, list):
        return dict(entry.partition("=")[::2] for entry in environment)
    return environment


def essentials(service: dict) -> dict:
    watch = service.get("develop", {}).get("watch", [])
    return {
        "environment": as_mapping(service.get("environment")),
        "ports": service.get("ports"),
        "after": {name: d["condition"] for name, d in service.get("depends_on", {}).items()},
        "watch": [(w["action"], w["path"], w.get("target")) for w in watch],
        "logging": service.get("logging"),
        "command": service.get("command"),
        "memory": memory_limit(service),
    }


def test_the_compose_minimum_runs_room_mode_and_a_release_that_ignores_override_does_not():
    check_room_mode(compose_release(MINIMUM))
    # 2.24.3 ignores `!override`: the collector's ports would be published twice.
    with pytest.raises(AssertionError):
        check_room_mode(compose_release(IGNORES_OVERRIDE))


ROOM_FILES = ("docker-compose.yml", "docker-compose.room.yml")


def test_room_mode_shares_grafana_and_the_read_only_front_when_asked():
    """ROOM_VIEWS_ADDRESS=0.0.0.0 opens Grafana and the front, and nothing else, to the room."""
    shared = compose_config(*ROOM_FILES, env={"ROOM_VIEWS_ADDRESS": "0.0.0.0"})["services"]
    opened = {key for key, host in published_ports(shared) if host != "127.0.0.1"}

    assert opened == {("grafana", 3000), ("room-view", read_only_front.PORT)} | {
        ("otel-collector", p) for p in ROOM_PORTS.values()
    }


@pytest.fixture(scope="module")
def room() -> dict:
    """Room mode under Docker: docker-compose.yml with docker-compose.room.yml."""
    return compose_config(*ROOM_FILES)["services"]


def test_the_rooms_front_is_the_native_front_run_from_the_repository(room):
    """The same program as `ROOM=1 ROOM_VIEWS=1 make stack` starts, from the repository's
    file (mounted read-only), on the services' base image, as nobody."""
    front = room["room-view"]
    [mount] = front["volumes"]
    assert (Path(mount["source"]), mount["read_only"]) == (ROOT / "native", True)
    # `python -m native.read_only_front`, in the folder where native/ is mounted.
    assert front["command"] == ["python", "-m", read_only_front.__name__]
    assert mount["target"] == f"{front['working_dir']}/native"
    [base] = {line for f in DOCKERFILES for line in f.read_text().splitlines() if "FROM " in line}
    assert front["image"] == base.removeprefix("FROM ")
    assert front["user"] == "65534:65534"
    [port] = front["ports"]
    assert port["target"] == int(port["published"]) == read_only_front.PORT


def test_the_rooms_front_asks_dockers_prometheus_and_sends_traces_to_grafanas_explore(room):
    environment = room["room-view"]["environment"]
    [prometheus] = room["prometheus"]["ports"]
    assert environment["PROMETHEUS_URL"] == f"http://prometheus:{prometheus['target']}"
    assert room["room-view"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    # Grafana's published port, on the room's address; and the very Explore link the
    # frontend's page makes of a trace id (tests/test_grafana_provisioning.py checks it).
    [grafana] = room["grafana"]["ports"]
    page = room["frontend"]["environment"]["TRACE_UI_URL"]
    assert environment["GRAFANA_URL"] == f"http://{{host}}:{grafana['published']}/"
    assert environment["TRACE_PAGE"] == page.replace(
        f"http://127.0.0.1:{grafana['published']}", f"http://{{host}}:{grafana['published']}"
    )
    assert "/explore?" in environment["TRACE_PAGE"]


def test_the_rooms_front_says_when_it_is_ready(room):
    test = room["room-view"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]  # the image has no wget or curl
    assert f"'http://127.0.0.1:{read_only_front.PORT}/'" in test[-1]  # its own page


def test_every_container_of_room_mode_has_a_memory_limit_and_rotates_its_log(room):
    for name, container in room.items():
        assert memory_limit(container), name
        logging = container.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert logging["options"] == {"max-size": "10m", "max-file": "3"}, name
    # All of them together too, though a facilitator runs the platform without the services.
    assert sum(memory_limit(container) for container in room.values()) <= DOCKER_MEMORY_BUDGET


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


# What every container gets: Go told its memory limit, rotated logs, the collector first.

GO_IMAGES = ("otel/", "prom/", "grafana/")  # the collector, Prometheus, Loki, Tempo, Grafana
GO_LIMIT_SHARE = 0.8  # of the container's memory limit (.env, "GOMEMLIMIT")


def gomemlimit(value: str) -> int:
    """Bytes, from Go's spelling of the limit, such as 204MiB."""
    number, unit = re.fullmatch(r"(\d+)(B|KiB|MiB|GiB)", value).groups()
    return int(number) * {"B": 1, "KiB": 1024, "MiB": MIB, "GiB": 1024 * MIB}[unit]


def test_every_go_container_tells_go_a_soft_limit_below_its_memory_limit(every_container):
    go = {
        name: c for name, c in every_container.items() if c.get("image", "").startswith(GO_IMAGES)
    }
    assert set(go) == {"otel-collector", "prometheus", "loki", "tempo", "grafana"}
    for name, container in go.items():
        expected = int(memory_limit(container) * GO_LIMIT_SHARE) // MIB * MIB
        assert gomemlimit(container["environment"]["GOMEMLIMIT"]) == expected, name


def test_gomemlimit_is_read_in_gos_units():
    assert gomemlimit("204MiB") == 204 * MIB
    with pytest.raises(AttributeError):
        gomemlimit("204M")  # Go would ignore this spelling: a limit that does nothing


def test_every_container_rotates_its_log(every_container):
    for name, container in every_container.items():
        logging = container.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert logging["options"] == {"max-size": "10m", "max-file": "3"}, name


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_starts_after_the_collector(services_file, service):
    assert services_file[service.name]["depends_on"]["otel-collector"]["condition"] == (
        "service_started"  # its image has no shell for a healthcheck
    )


def test_the_collector_starts_after_the_backends_it_exports_to_are_healthy(platform):
    after = platform["otel-collector"]["depends_on"]
    assert {name: d["condition"] for name, d in after.items()} == {
        name: "service_healthy" for name in ("prometheus", "loki", "tempo")
    }


# Every learner setting can be given to `docker compose` as to `make run`.

LEARNER_SETTINGS = {
    "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=laptop",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://192.0.2.10:4317",  # a facilitator's collector
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.25",
    "OFFLINE": "true",
    "OTEL_SDK_DISABLED": "true",
}


def test_each_learner_setting_reaches_every_service_from_the_environment(monkeypatch):
    defaults = compose_config("docker-compose.yml")["services"]
    for variable, value in LEARNER_SETTINGS.items():
        monkeypatch.setenv(variable, value)
    given = compose_config("docker-compose.yml")["services"]
    for service in SERVICES:
        environment = given[service.name]["environment"]
        for variable, value in LEARNER_SETTINGS.items():
            assert environment[variable] == value, (service.name, variable)
            assert defaults[service.name]["environment"][variable] != value


def test_the_defaults_are_dockers(services_file):
    for container in services_file.values():
        environment = container["environment"]
        assert environment["OTEL_RESOURCE_ATTRIBUTES"] == "deployment.environment.name=docker"
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"


def test_a_learners_name_is_added_as_the_service_namespace(monkeypatch):
    """Room mode from containers: LEARNER=ada, as `make run` (workshop/learners.py)."""
    monkeypatch.setenv("LEARNER", "ada")
    services = compose_config("docker-compose.yml")["services"]
    for service in SERVICES:
        attributes = services[service.name]["environment"]["OTEL_RESOURCE_ATTRIBUTES"]
        assert attributes == "deployment.environment.name=docker,service.namespace=ada"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=laptop")
    services = compose_config("docker-compose.yml")["services"]
    assert services["frontend"]["environment"]["OTEL_RESOURCE_ATTRIBUTES"] == (
        "deployment.environment.name=laptop,service.namespace=ada"
    )


def test_grafana_downloads_nothing_when_it_starts(platform):
    """A room with no Wi-Fi: no plugin preinstalled from grafana.com, no call home."""
    environment = platform["grafana"]["environment"]
    assert environment["GF_PLUGINS_PREINSTALL_DISABLED"] == "true"
    assert environment["GF_PLUGINS_PREINSTALL_AUTO_UPDATE"] == "false"
    for setting in ("REPORTING_ENABLED", "CHECK_FOR_UPDATES", "CHECK_FOR_PLUGIN_UPDATES"):
        assert environment[f"GF_ANALYTICS_{setting}"] == "false"
    assert "GF_PLUGINS_PREINSTALL" not in environment  # nothing to install either
    assert "GF_INSTALL_PLUGINS" not in environment


# Section 7 under Docker: docker-compose.zero-code.yml, as `make zero-code` natively.


@pytest.fixture(scope="module")
def zero_code() -> dict:
    return compose_config("docker-compose.yml", "docker-compose.zero-code.yml")["services"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_zero_code_runs_the_code_of_section_0_under_opentelemetry_instrument(zero_code, service):
    container = zero_code[service.name]
    dockerfile = (ROOT / container["build"]["dockerfile"]).read_text()
    usual = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M)[1])
    assert container["command"] == ["opentelemetry-instrument", *usual]
    # The same settings as natively, and the service's name (its code sets none).
    expected = ZERO_CODE_SETTINGS | {"OTEL_SERVICE_NAME": service.name}
    assert expected.items() <= container["environment"].items()
    # Checkpoint 0's code, where `make zero-code-tree` writes it, over the image's.
    tree = zero_code_tree()
    mounted = {(Path(v["source"]), v["target"]) for v in container["volumes"] if v["read_only"]}
    assert (tree / "common", "/app/common") in mounted
    assert (tree / service.directory / service.package, f"/app/{service.package}") in mounted


def zero_code_tree() -> Path:
    """Where native/run_services.py writes checkpoint 0 (write_zero_code_tree)."""
    source = inspect.getsource(write_zero_code_tree)
    assert '"otel-workshop" / "zero-code"' in source
    return Path.home() / ".cache" / "otel-workshop" / "zero-code"


def test_every_image_can_run_opentelemetry_instrument():
    """The distro (the SDK set-up from OTEL_* variables) is in what every image installs."""
    assert "opentelemetry-distro==" in (ROOT / "common" / "requirements.txt").read_text()
    for dockerfile in DOCKERFILES:
        assert "COPY common/requirements.txt common/" in dockerfile.read_text()


def docs_compose_commands() -> list[str]:
    """Every `docker compose` command of the docs' sh blocks, without its variables."""
    found = []
    for command in commands():
        words = shlex.split(command)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words.pop(0)
        if words[:2] == ["docker", "compose"]:
            found.append(words[2:])
    return found


def test_the_docs_compose_commands_include_the_troubleshooting_fallback():
    assert ["up", "-d", "--build", "iss-distance-service"] in docs_compose_commands()


def compose_command_problem(compose: Path, words: list[str]) -> str | None:
    """What that Compose release says is wrong with a command, as tests/test_readme.py
    checks them with the newest: the project loads, with the services named, and the
    subcommand knows each flag. None if nothing is."""
    files = []
    while words[0] in ("-f", "--profile"):
        files, words = files + words[:2], words[2:]
    subcommand, arguments = words[0], words[1:]
    positional = [a for a in arguments if not a.startswith("-")]
    services = positional[:1] if subcommand in ("exec", "run") else positional
    config = subprocess.run(
        [compose, *files, "config", "--quiet", *services], cwd=ROOT, capture_output=True
    )
    if config.returncode:
        return config.stderr.decode()
    usage = subprocess.run([compose, subcommand, "--help"], capture_output=True, text=True)
    if usage.returncode:
        return f"no {subcommand} subcommand"
    for flag in (a.split("=")[0] for a in arguments if a.startswith("-")):
        if not re.search(rf"(^|[\s,]){re.escape(flag)}\b", usage.stdout):
            return f"{subcommand} has no {flag}"
    return None


@pytest.mark.parametrize("words", docs_compose_commands(), ids=" ".join)
def test_every_compose_command_of_the_docs_works_on_the_compose_minimum(words):
    assert compose_command_problem(compose_release(MINIMUM), words) is None


def test_the_release_before_the_minimum_fails_a_command_of_the_docs():
    before = compose_release(RELEASE_BEFORE_MINIMUM)
    # The quick start's `docker compose up --build --watch`: no --watch before 2.24.7.
    assert compose_command_problem(before, ["up", "--build", "--watch"]) == "up has no --watch"


@pytest.mark.parametrize(
    ("written", "expected"), [(134217728, 128 * MIB), ("128M", 128 * MIB), ("1g", 1024 * MIB)]
)
def test_a_memory_limit_is_read_as_every_compose_release_writes_it(written, expected):
    container = {"deploy": {"resources": {"limits": {"memory": written}}}}
    assert memory_limit(container) == expected
