"""The facilitator's kit (workshop/kit.py): a laptop installs from it with no network, and
its Docker half saves and loads exactly the images the compose files name."""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement

from harness.runner import start
from native import build_backends
from native.build_backends import HERE, PLATFORMS, Platform
from native.run_stack import URLS
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


@pytest.fixture(scope="module")
def kit_for_this_laptop(tmp_path_factory) -> tuple[Path, str]:
    """`python -m workshop.kit --here`, as a facilitator runs it with no Docker engine;
    and what it printed. Its backends come from the cache `make test` builds."""
    tmp_path = tmp_path_factory.mktemp("kit")
    folder = tmp_path / "kit"
    # A docker command with no engine behind it, as here: the image half is skipped.
    no_engine = tmp_path / "no-engine"
    no_engine.mkdir()
    (no_engine / "docker").write_text("#!/bin/sh\nexit 1\n")
    (no_engine / "docker").chmod(0o755)
    built = subprocess.run(
        [sys.executable, "-m", "workshop.kit", "--here", folder], cwd=ROOT,
        env={**os.environ, "PATH": f"{no_engine}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    print(built.stdout)  # the kit's size and coverage, with -s
    return folder, built.stdout


@pytest.mark.platform  # downloads from PyPI; its backends come from `make backends`
@pytest.mark.timeout(900)
def test_a_new_virtualenv_installs_from_the_kit_alone_and_runs_the_services(
    kit_for_this_laptop, tmp_path
):
    """The Python half, for this machine: install with the Makefile's own rules and no
    index, and serve a form submission from that virtualenv."""
    folder, printed = kit_for_this_laptop
    assert f"{wheelhouse.host_target()}: complete" in printed
    assert "Docker images: SKIPPED, `docker info` finds no running Docker engine" in printed
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


# --- The native half: this laptop's backends, installed from the kit with no Go ---------


def without_go(path: str) -> str:
    """A PATH with no Go toolchain on it, as on a learner's laptop."""
    return os.pathsep.join(d for d in path.split(os.pathsep) if not (Path(d) / "go").exists())


@pytest.mark.platform  # the native platform, started as make stack starts it
@pytest.mark.timeout(900)
def test_make_stack_runs_the_kits_backends_on_a_laptop_with_no_go(
    kit_for_this_laptop, tmp_path, monkeypatch
):
    folder, printed = kit_for_this_laptop
    backends = folder / "backends"
    assert f"Native backends for {HERE}" in printed
    sums = build_backends.read_sums(backends / "SHA256SUMS")
    assert set(sums) == {backend.packed(HERE) for backend in kit.native_backends()}
    # The standard tool reads the file as the kit's README and `make stack` do.
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=backends, check=True)

    # A laptop that has built nothing: an empty cache, and no Go.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KIT_DIR", str(folder))
    monkeypatch.setenv("PATH", without_go(os.environ["PATH"]))
    assert shutil.which("go") is None
    runner, started = start(["make", "stack"], "Ctrl-C to stop", dict(os.environ))
    try:
        for backend in kit.native_backends():
            assert f"{backend.name} {backend.version}: installed from the kit" in started
            assert build_backends.sha256_of(backend.binary) == sums[backend.packed(HERE)]
        assert "building" not in started
        # The platform answers, with Prometheus' web UI inside its binary.
        page = requests.get(URLS["prometheus"] + "/query", timeout=10)
        assert page.status_code == 200 and "<title>Prometheus" in page.text
    finally:
        os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C, to make and everything it started
        runner.wait(60)


def fake_backend(tmp_path, monkeypatch, kit_sum: str | None) -> build_backends.Backend:
    """A backend that only a kit in tmp_path has, listed in its SHA256SUMS with kit_sum
    (the right digest when None); the cache and the kit are tmp_path's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KIT_DIR", str(tmp_path / "kit"))
    backend = build_backends.Backend("victoria-logs", "0.0.1", "example.com/none", "v0.0.1")
    packed = build_backends.kit_dir() / backend.packed(HERE)
    packed.parent.mkdir(parents=True)
    packed.write_bytes(b"#!/bin/sh\necho from the kit\n")
    digest = kit_sum or build_backends.sha256_of(packed)
    (build_backends.kit_dir() / "SHA256SUMS").write_text(f"{digest}  {backend.packed(HERE)}\n")
    return backend


def test_a_backend_from_the_kit_is_installed_when_its_sum_matches(tmp_path, monkeypatch):
    backend = fake_backend(tmp_path, monkeypatch, kit_sum=None)
    monkeypatch.setenv("PATH", "")  # nothing to build with: it must come from the kit

    installed = build_backends.build(backend)

    assert (
        installed == tmp_path / "cache" / "otel-workshop" / "victoria-logs-0.0.1" / "victoria-logs"
    )
    assert subprocess.run([installed], capture_output=True, text=True).stdout == "from the kit\n"


def test_a_damaged_backend_in_the_kit_is_refused_and_not_installed(tmp_path, monkeypatch):
    backend = fake_backend(tmp_path, monkeypatch, kit_sum="0" * 64)

    with pytest.raises(SystemExit, match="its SHA-256 is not the one in .*SHA256SUMS"):
        build_backends.build(backend)
    assert not backend.binary.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="builds are serialised with flock")
def test_a_second_build_waits_for_the_first_and_takes_what_it_made(tmp_path, monkeypatch, capsys):
    backend = fake_backend(tmp_path, monkeypatch, kit_sum="0" * 64)  # a kit it must not read
    lock = tmp_path / "cache" / "otel-workshop" / f"{backend.folder}.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as first:
        build_backends.fcntl.flock(first, build_backends.fcntl.LOCK_EX)
        second = threading.Thread(target=build_backends.build, args=(backend,))
        second.start()
        second.join(2)
        assert second.is_alive()  # waiting
        backend.binary.parent.mkdir(parents=True)
        backend.binary.write_text("built by the first\n")
    second.join(10)

    assert not second.is_alive()
    assert "waiting for another build of it to finish" in capsys.readouterr().out
    assert backend.binary.read_text() == "built by the first\n"


def test_with_no_kit_and_no_go_the_learner_is_told_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KIT_DIR", str(tmp_path / "no-kit"))
    monkeypatch.setenv("PATH", without_go(os.environ["PATH"]))

    with pytest.raises(
        SystemExit, match="Go is not installed: install Go .*or put a facilitator's kit"
    ):
        build_backends.build(build_backends.backends()["victoria-logs"])


def test_the_kit_serves_every_laptop_with_each_platforms_own_file_names():
    assert {str(p) for p in PLATFORMS} == {
        "linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64", "windows-amd64",
        "windows-arm64",
    }  # fmt: skip
    prometheus = build_backends.backends()["prometheus"]
    windows = Platform("windows", "arm64")
    assert prometheus.packed(windows).endswith("/windows-arm64/prometheus.exe")
    assert prometheus.packed(Platform("darwin", "arm64")).endswith("/darwin-arm64/prometheus")
    assert HERE in PLATFORMS  # this machine's kit can be built and tested here


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
