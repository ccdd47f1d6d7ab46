"""The collector: one config for Docker and native, and a build that holds what it uses.

The native collector is built from native/otelcol-builder.yaml; Docker runs the contrib
distribution's image at the same version. Natively, where Zipkin runs, the collector
also reads native/otel-collector-zipkin.yml. These tests ask the built collector itself
which components it holds, and have it validate the config as each stack fills it in.
"""

import os
import subprocess

import pytest
import yaml

from native import build_backends
from native.run_stack import (
    NATIVE_ENV,
    PROMETHEUS_FLAGS,
    ROOM_ENV,
    ROOT,
    ZIPKIN_COLLECTOR_CONFIG,
    collector_command,
)
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


@pytest.mark.platform  # the collector, built from its Go modules
def test_the_native_build_holds_exactly_the_components_the_configs_use(collector):
    listed = yaml.safe_load(
        subprocess.run([collector, "components"], capture_output=True, text=True, check=True)
        .stdout
    )  # fmt: skip
    built = {kind: {c["name"] for c in listed.get(kind) or []} for kind in KINDS}
    main, zipkin = (yaml.safe_load(path.read_text()) for path in (CONFIG, ZIPKIN_COLLECTOR_CONFIG))
    used = {kind: components_of(main)[kind] | components_of(zipkin)[kind] for kind in KINDS}

    assert built == used


@pytest.mark.platform  # the collector, built from its Go modules
@pytest.mark.parametrize(
    ("stack", "env", "zipkin"),
    [
        ("docker", {}, False),
        ("native", NATIVE_ENV, True),
        ("native without Java", NATIVE_ENV, False),
        ("room", NATIVE_ENV | ROOM_ENV, True),
    ],
    ids=["docker", "native", "native without Java", "native room mode"],
)
def test_the_config_is_valid_as_each_stack_fills_it_in(collector, stack, env, zipkin):
    clean = {k: v for k, v in os.environ.items() if k not in NATIVE_ENV}
    [binary, *configs] = collector_command(collector, ROOT, zipkin)
    result = subprocess.run(
        [binary, "validate", *configs], env={**clean, **env}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.platform  # the collector, built from its Go modules
def test_natively_the_traces_go_to_zipkin_too_through_the_same_processors(collector):
    """Zipkin's file adds an exporter to the traces pipeline; it replaces nothing."""
    [binary, *configs] = collector_command(collector, ROOT, zipkin=True)
    printed = subprocess.run(
        [binary, "print-config", *configs],
        env={**os.environ, **NATIVE_ENV},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    traces = yaml.safe_load(printed)["service"]["pipelines"]["traces"]
    alone = yaml.safe_load(CONFIG.read_text())["service"]["pipelines"]["traces"]

    assert traces["processors"] == alone["processors"]
    assert traces["exporters"] == [*alone["exporters"], "zipkin"]


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


# Docker's collector also reads otel-collector-service-graph.yml, merged over the config.

SERVICE_GRAPH = ROOT / "otel-collector-service-graph.yml"


def test_docker_reads_the_shared_config_and_the_service_graph(compose_services):
    collector = compose_services["otel-collector"]
    mounted = {v["target"]: v["source"] for v in collector["volumes"]}
    configs = [arg.removeprefix("--config=") for arg in collector["command"]]
    assert [mounted[path] for path in configs] == [str(CONFIG), str(SERVICE_GRAPH)]


def test_the_service_graph_file_only_adds_to_the_config():
    """Maps merge key by key, lists are replaced: the file adds keys and replaces none."""

    def leaves(tree, path=()):
        if isinstance(tree, dict):
            for key, value in tree.items():
                yield from leaves(value, (*path, key))
        else:
            yield path

    base = yaml.safe_load(CONFIG.read_text())
    for path in leaves(yaml.safe_load(SERVICE_GRAPH.read_text())):
        node = base
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        assert path[-1] not in node, f"{'.'.join(path)} would replace the config's"


@pytest.mark.platform  # the collector, built from its Go modules
def test_the_native_collector_runs_the_service_graphs_pipelines(collector, tmp_path):
    """The wiring of the merged config, validated by the real collector. The native
    build cannot hold the service graph connector, so a connector of the same shape
    (traces in, metrics out) stands in for it; its own settings are Docker's to check."""
    stand_in = yaml.safe_load(SERVICE_GRAPH.read_text())
    assert set(stand_in["connectors"]) == {"servicegraph"}
    stand_in["connectors"] = {"span_metrics/stand_in": {}}
    for pipeline in stand_in["service"]["pipelines"].values():
        for end in ("receivers", "exporters"):
            pipeline[end] = [
                "span_metrics/stand_in" if c == "servicegraph" else c for c in pipeline[end]
            ]
    (tmp_path / "service-graph.yml").write_text(yaml.safe_dump(stand_in))
    clean = {k: v for k, v in os.environ.items() if k not in NATIVE_ENV}
    result = subprocess.run(
        [collector, "validate", f"--config={CONFIG}", f"--config={tmp_path / 'service-graph.yml'}"],
        env=clean, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # And the check sees a broken wiring: a pipeline from a connector nothing feeds.
    stand_in["service"]["pipelines"].pop("traces/service_graph")
    (tmp_path / "service-graph.yml").write_text(yaml.safe_dump(stand_in))
    result = subprocess.run(
        [collector, "validate", f"--config={CONFIG}", f"--config={tmp_path / 'service-graph.yml'}"],
        env=clean, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0


def test_span_metrics_and_the_service_graph_count_every_span_before_sampling():
    """Their pipelines take spans straight from the receiver, with no sampler: a trace
    that tail sampling drops is still counted (Grafana's rates match the spans')."""
    merged = yaml.safe_load(CONFIG.read_text())
    overlay = yaml.safe_load(SERVICE_GRAPH.read_text())
    merged["connectors"] |= overlay["connectors"]
    merged["service"]["pipelines"] |= overlay["service"]["pipelines"]
    counting = {"span_metrics", "servicegraph"}
    pipelines = merged["service"]["pipelines"]
    feeding = {n: p for n, p in pipelines.items() if counting & set(p["exporters"])}
    assert {c for p in feeding.values() for c in p["exporters"]} == counting
    for name, pipeline in feeding.items():
        assert pipeline["receivers"] == ["otlp"], name
        assert not [p for p in pipeline["processors"] if p.startswith("tail_sampling")], name
    # ... while the traces that reach the trace store are sampled.
    assert "tail_sampling" in pipelines["traces"]["processors"]


def test_span_metrics_carry_the_names_grafanas_service_graph_reads():
    """traces_spanmetrics_calls_total and traces_spanmetrics_latency_bucket, with the
    `service` label: the live check is tests/test_platform.py (Grafana's own queries)."""
    config = yaml.safe_load(CONFIG.read_text())
    assert config["connectors"]["span_metrics"]["namespace"] == "traces.spanmetrics"
    statements = config["processors"]["transform/grafana_names"]["metric_statements"]
    assert any('set(metric.name, "traces.spanmetrics.latency")' in s for s in statements)
