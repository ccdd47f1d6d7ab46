"""`make outdated` (workshop/outdated.py), on stored answers in the shape of Docker Hub's
tags API and the Go module proxy's version list (trimmed, with tags chosen to cover each
case): the command itself needs the internet, its reading of the answers does not."""

import json
from pathlib import Path

import pytest

from native import build_backends
from workshop import outdated

STORED = Path(__file__).parent / "stored_answers"


def test_an_image_pin_is_compared_with_the_releases_of_its_own_shape():
    tags = outdated.tags_of(json.loads((STORED / "docker_hub_grafana_tags.json").read_text()))
    assert outdated.compare("grafana/grafana", "13.3.0", tags) == outdated.Behind(
        "grafana/grafana", "13.3.0", patch="13.3.1", newest="13.3.1"
    )  # not 13.3.1-ubuntu, 14.0.0-beta1, main or latest
    assert outdated.compare("grafana/grafana", "13.3.1", tags).patch is None
    assert outdated.compare("grafana/grafana", "13.2.3", tags) == outdated.Behind(
        "grafana/grafana", "13.2.3", patch="13.2.4", newest="13.3.1"
    )


def test_a_go_module_pin_is_compared_with_the_proxys_list():
    versions = (STORED / "go_proxy_jaeger.txt").read_text().split()
    behind = outdated.compare("github.com/jaegertracing/jaeger", "v1.76.0", versions)
    assert (behind.patch, behind.newest) == ("v1.76.1", "v1.77.0")  # no -rc.1


def test_a_suffix_is_kept_apart():
    tags = ["3.11.16-slim-bookworm", "3.11.16", "3.11.16-slim-trixie", "3.12.9-slim-bookworm"]
    behind = outdated.compare("python", "3.11.15-slim-bookworm", tags)
    assert (behind.patch, behind.newest) == ("3.11.16-slim-bookworm", "3.12.9-slim-bookworm")


def test_a_pin_that_is_not_a_release_is_refused():
    with pytest.raises(ValueError, match="not a release"):
        outdated.compare("grafana/grafana", "latest", ["13.3.1"])


def test_every_pin_is_looked_up():
    """The images the Docker stack runs, and the Go modules the native stack builds."""
    images = outdated.images()
    pins = build_backends.read_env_file()
    assert images["grafana/grafana"] == pins["GRAFANA_VERSION"]
    assert images["grafana/loki"] == pins["LOKI_VERSION"]
    assert images["grafana/tempo"] == pins["TEMPO_VERSION"]
    assert images["prom/prometheus"] == f"v{pins['PROMETHEUS_VERSION']}"
    assert images["otel/opentelemetry-collector-contrib"] == pins["OTELCOL_VERSION"]
    assert images["python"].endswith("-slim-bookworm")
    modules = outdated.go_modules()
    assert modules["github.com/jaegertracing/jaeger"] == f"v{pins['JAEGER_VERSION']}"
    assert modules["github.com/rhysd/actionlint"] == f"v{pins['ACTIONLINT_VERSION']}"


def test_the_report_shows_a_dash_where_nothing_is_newer():
    text = outdated.report([outdated.Behind("grafana/loki", "3.7.8", None, None)])
    assert text.splitlines()[1].split() == ["grafana/loki", "3.7.8", "-", "-"]


def test_a_go_modules_stray_tags_of_another_major_are_left_out():
    versions = ["v0.315.0", "v0.315.1", "v0.316.0", "v1.99.0", "v2.5.0+incompatible"]
    behind = outdated.compare("github.com/prometheus/prometheus", "v0.315.0", versions, True)
    assert (behind.patch, behind.newest) == ("v0.315.1", "v0.316.0")
    assert outdated.compare("x", "v0.315.0", versions).newest == "v1.99.0"  # the decoy
