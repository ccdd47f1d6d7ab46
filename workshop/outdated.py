"""Which pins are behind: for maintainers, `make outdated` (needs the internet).

Every image the Docker stack runs (docker-compose.yml, the Dockerfiles' base) is looked
up on Docker Hub, and every Go module the native stack builds (native/build_backends.py)
on the Go module proxy. For each pin it prints the newest patch release of the same
minor version, and the newest release of all, where they are newer than the pin:

    pin                                       now        patch      newest
    grafana/grafana                           13.3.0     13.3.2     13.3.2
    github.com/jaegertracing/jaeger           1.76.0     -          1.77.0

Only releases are compared: x.y.z, with the pin's own prefix and suffix
(`v3.15.0`, `3.11.15-slim-bookworm`); release candidates and other tags are left out.
"""

import json
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import requests

from native import build_backends

ROOT = Path(__file__).resolve().parent.parent
DOCKER_HUB = "https://hub.docker.com/v2/namespaces/{namespace}/repositories/{name}/tags"
GO_PROXY = "https://proxy.golang.org/{module}/@v/list"
TIMEOUT = 20  # seconds, for each request
RELEASE = re.compile(r"(?P<prefix>\D*)(?P<version>\d+\.\d+\.\d+)(?P<suffix>.*)")


class Behind(NamedTuple):
    pin: str  # an image or a Go module
    now: str
    patch: str | None  # the newest x.y.* after `now`, if any
    newest: str | None  # the newest release of all after `now`, if any


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def compare(pin: str, now: str, tags: Iterable[str], same_major: bool = False) -> Behind:
    """What is newer than `now` among the tags of the same shape (prefix and suffix);
    with `same_major`, of the same major version too (a Go module's other majors are
    other modules, and old stray tags such as Prometheus's v1.99.0 are left out)."""
    current = RELEASE.fullmatch(now)
    if current is None:
        raise ValueError(f"{pin}: {now!r} is not a release (x.y.z)")
    releases = []
    for tag in tags:
        match = RELEASE.fullmatch(tag)
        if match and (match["prefix"], match["suffix"]) == (current["prefix"], current["suffix"]):
            releases.append(match["version"])
    now_key = version_key(current["version"])
    newer = sorted(
        (
            v
            for v in releases
            if version_key(v) > now_key and not (same_major and version_key(v)[0] != now_key[0])
        ),
        key=version_key,
    )
    same_minor = [v for v in newer if version_key(v)[:2] == version_key(current["version"])[:2]]

    def shaped(version: str | None) -> str | None:
        return version and f"{current['prefix']}{version}{current['suffix']}"

    return Behind(pin, now, shaped(same_minor[-1] if same_minor else None),
                  shaped(newer[-1] if newer else None))  # fmt: skip


def images() -> dict[str, str]:
    """Each image the Docker stack runs, by repository: its tag."""
    config = subprocess.run(
        [Path(sys.executable).parent / "docker-compose", "--profile", "*", "config", "--format",
         "json"], cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    named = [s["image"] for s in json.loads(config.stdout)["services"].values() if "image" in s]
    for dockerfile in sorted(ROOT.glob("**/Dockerfile")):
        named += re.findall(r"^FROM (\S+)", dockerfile.read_text(), re.M)
    return dict(image.rsplit(":", 1) for image in named if ":" in image)


def go_modules() -> dict[str, str]:
    """Each Go module the native stack builds from its module, by path: its version."""
    built = {**build_backends.backends(), **build_backends.tools()}
    return {b.module: b.module_version for b in built.values() if b.module}


def docker_hub_tags(image: str) -> list[str]:
    """The tags of an image on Docker Hub (the newest 100 by date)."""
    namespace, _, name = image.rpartition("/")
    url = DOCKER_HUB.format(namespace=namespace or "library", name=name)
    response = requests.get(url, params={"page_size": 100, "ordering": "last_updated"},
                            timeout=TIMEOUT)  # fmt: skip
    response.raise_for_status()
    return tags_of(response.json())


def tags_of(answer: dict) -> list[str]:
    """The tag names of one page of Docker Hub's tags API."""
    return [tag["name"] for tag in answer["results"]]


def go_versions(module: str) -> list[str]:
    """The versions the Go module proxy lists for a module (one per line)."""
    # The proxy's case encoding: each capital letter becomes "!" and the letter.
    escaped = re.sub(r"[A-Z]", lambda m: "!" + m[0].lower(), module)
    response = requests.get(GO_PROXY.format(module=escaped), timeout=TIMEOUT)
    response.raise_for_status()
    return response.text.split()


def report(rows: list[Behind]) -> str:
    lines = [f"{'pin':<58} {'now':<24} {'patch':<24} newest"]
    for row in rows:
        lines.append(f"{row.pin:<58} {row.now:<24} {row.patch or '-':<24} {row.newest or '-'}")
    return "\n".join(lines)


def main() -> int:
    lookups = [(image, tag, docker_hub_tags) for image, tag in images().items()]
    lookups += [(module, version, go_versions) for module, version in go_modules().items()]
    rows, unreachable = [], []
    for pin, now, releases in lookups:
        try:
            rows.append(compare(pin, now, releases(pin), same_major=releases is go_versions))
        except requests.RequestException as error:
            unreachable.append(f"{pin}: not looked up ({type(error).__name__})")
    print(report(rows))
    behind = [row for row in rows if row.patch]
    if behind:
        print(f"\n{len(behind)} pin(s) miss a patch release: .env, then `make test`.")
    if unreachable:
        print("\n" + "\n".join(unreachable), file=sys.stderr)
    return 1 if unreachable else 0


if __name__ == "__main__":
    sys.exit(main())
