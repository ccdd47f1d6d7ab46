"""The facilitator's kit (workshop/kit.py): a laptop installs from it with no network, and
its Docker half saves and loads exactly the images the compose files name."""

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from workshop import kit, wheelhouse

ROOT = kit.REPO
# pip is told to look nowhere but the kit: no index (a closed port), no configured links.
NO_NETWORK = {"PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_CONFIG_FILE": os.devnull}


def without_pip_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | NO_NETWORK


def test_the_kit_covers_the_python_versions_the_readme_allows():
    oldest = re.search(
        r"Python (3\.\d+) or later", (ROOT / "docs" / "introduction.md").read_text()
    )[1]
    assert wheelhouse.PYTHON_VERSIONS[0] == oldest
    minors = [int(v.split(".")[1]) for v in wheelhouse.PYTHON_VERSIONS]
    assert minors == list(range(minors[0], minors[0] + len(minors)))


def test_markers_are_judged_for_the_target_not_for_this_machine(tmp_path):
    """pip download would leave out a Windows-only dependency when run on Linux."""
    platforms = {platform.system: platform for platform in wheelhouse.PLATFORMS}
    windows = wheelhouse.Target(platforms["Windows"], "3.13")
    linux = wheelhouse.Target(platforms["Linux"], "3.13")
    needs = [Requirement('colorama==0.4.6; platform_system == "Windows"')]
    assert [r.name for r in wheelhouse.missing(needs, tmp_path, windows)] == ["colorama"]
    assert wheelhouse.missing(needs, tmp_path, linux) == []


@pytest.mark.platform  # downloads from PyPI
def test_a_package_with_only_a_source_gets_a_pure_wheel_and_a_missing_one_is_named(tmp_path):
    """docopt 0.6.2 is published as a source archive only; grpcio has no Windows-on-Arm wheel."""
    platforms = {platform.name: platform for platform in wheelhouse.PLATFORMS}
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("docopt==0.6.2\ngrpcio==1.85.3\n")
    windows_arm = wheelhouse.Target(platforms["windows-arm64"], "3.13")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    assert wheelhouse.download([requirements], wheels, windows_arm) == ["grpcio"]
    assert [p.name for p in wheels.iterdir()] == ["docopt-0.6.2-py2.py3-none-any.whl"]


@pytest.mark.platform  # downloads from PyPI
@pytest.mark.timeout(900)
def test_a_new_virtualenv_installs_from_the_kit_alone_and_runs_the_services(tmp_path):
    """The Python half, for this machine: build it, install with the Makefile's own rules
    and no index, and serve a form submission from that virtualenv."""
    folder = tmp_path / "kit"
    # A docker command with no engine behind it, as here: the image half is skipped.
    no_engine = tmp_path / "no-engine"
    no_engine.mkdir()
    (no_engine / "docker").write_text("#!/bin/sh\nexit 1\n")
    (no_engine / "docker").chmod(0o755)
    built = subprocess.run(
        [sys.executable, "-m", "workshop.kit", "--here", folder], cwd=ROOT,
        env={**os.environ, "PATH": f"{no_engine}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    print(built.stdout)  # the kit's size and coverage, with -s
    assert f"{wheelhouse.host_target()}: complete" in built.stdout
    assert "Docker images: SKIPPED, `docker info` finds no running Docker engine" in built.stdout
    assert "it ran without a Docker engine" in (folder / "README.md").read_text()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", folder / "otel-workshop.bundle", clone], check=True)
    assert head(clone) == head(ROOT)

    venv = tmp_path / "venv"
    stamps = [venv / ".runtime", venv / ".workshop"]
    install = subprocess.run(
        ["make", f"VENV={venv}", f"KIT_DIR={folder}", f"PYTHON={sys.executable}", *stamps],
        cwd=ROOT, env=without_pip_settings(), capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    assert install.stdout.count(f"--no-index --find-links {folder}/wheels") == 3
    python = venv / "bin" / "python"
    assert (venv / "bin" / "ruff").exists()  # the checkpoints' tool

    serve = textwrap.dedent(f"""
        from pathlib import Path
        from native.run_services import start_services
        from harness.browser import free_ports, submit
        logs = Path({str(tmp_path)!r})
        with start_services({{"OFFLINE": "true"}}, free_ports(), logs) as running:
            response = submit(running.urls["frontend"], "Paris")
            print(response.status_code, "km" in response.text)
    """)
    served = subprocess.run(
        [python, "-c", serve], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    logs = "".join(p.read_text() for p in tmp_path.glob("*.log"))
    assert served.stdout.split() == ["200", "True"], served.stderr + logs


def head(repository: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True, check=True
    ).stdout


def test_make_installs_from_the_network_when_there_is_no_kit(tmp_path):
    planned = subprocess.run(
        ["make", "-n", "-B", f"VENV={tmp_path}/venv", f"KIT_DIR={tmp_path}/none", "run"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    installs = [line for line in planned.splitlines() if "pip install" in line]
    assert installs and not any("--no-index" in line for line in installs)


# --- The Docker half, with a stand-in for the docker command (there is no engine here) ---

FAKE_DOCKER = """#!/bin/sh
# Stands in for docker: saves write the image's name into the file; all calls are logged.
echo "$*" >> "$DOCKER_LOG"
if [ "$1" = save ]; then echo "$4" > "$3"; fi
if [ "$1" = load ]; then echo "loaded $(cat "$3")" >> "$DOCKER_LOG"; fi
"""


@pytest.fixture
def fake_docker(tmp_path, monkeypatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    log = tmp_path / "docker.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_LOG", str(log))
    return log


def test_the_image_list_is_every_image_compose_runs():
    """Services with a `build:` get an image named <project>-<service> from Compose."""
    config = json.loads(
        subprocess.run(
            [kit.COMPOSE, "--profile", "*", "config", "--format", "json"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    named = {s.get("image") or f"{config['name']}-{n}" for n, s in config["services"].items()}
    assert kit.compose_images() == sorted(named)
    assert "python:3.11.15-slim-bookworm" in named  # the load generator, in its profile


def test_the_kit_saves_each_image_and_its_scripts_load_exactly_those(tmp_path, fake_docker):
    assert kit.docker_engine() is None
    images = kit.compose_images()
    kit.save_images(tmp_path / "kit", images)

    calls = fake_docker.read_text().splitlines()
    assert calls[1:3] == [
        "compose --profile * pull --ignore-buildable",
        "compose --profile * build",
    ]
    saved = sorted(p.name for p in (tmp_path / "kit" / "images").iterdir())
    assert saved == sorted(kit.image_file(image) for image in images)
    assert len(set(saved)) == len(images)

    fake_docker.write_text("")
    elsewhere = subprocess.run(["sh", tmp_path / "kit" / "load-images.sh"], cwd=ROOT)
    assert elsewhere.returncode == 0
    loaded = [line.removeprefix("loaded ") for line in fake_docker.read_text().splitlines()]
    assert sorted(loaded[1::2]) == images

    windows = (tmp_path / "kit" / "load-images.cmd").read_text().splitlines()
    named = [shlex.split(line)[3] for line in windows if line.startswith("docker load")]
    assert sorted(named) == saved


def test_without_a_docker_engine_the_image_half_is_skipped_with_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker command at all
    assert kit.docker_engine() == "there is no `docker` command"
