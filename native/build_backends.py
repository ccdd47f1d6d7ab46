"""Build the telemetry backends natively from their Go modules.

The versions come from ../.env, the same pins docker-compose.yml uses for its
images, so the native stack and the containers run the same releases.

Each binary is cached outside the repository, keyed by version:
    ${XDG_CACHE_HOME:-~/.cache}/otel-workshop/<name>-<version>/<binary>
The collector's key also holds a digest of its builder manifest, so adding a
component builds a new collector. A binary already in the cache is never
rebuilt. Go's own build cache (GOCACHE) is left at its default, so a rebuild
after a version bump is warm.

Prometheus' web UI is not in a plain Go build: its module holds the UI's
source (web/ui, with a pnpm lockfile), which Prometheus' own tooling builds from
the npm registry (needs Node.js) before Go embeds it. Zipkin, the trace
waterfall, is a released Java program: its jar comes from Maven Central,
checked against the SHA-256 pinned in .env, and is cached the same way.

A facilitator's kit (`make kit`, workshop/kit.py) carries the backends prebuilt for every
platform in PLATFORMS, cross-compiled here, with a SHA256SUMS file. Where a kit is (kit/,
or KIT_DIR), a backend missing from the cache is installed from it, checked against that
file, instead of built: a learner with a kit needs neither Go nor Node.js.

Usage:
    python native/build_backends.py                  # build (or install from a kit) what is missing
    python native/build_backends.py jaeger           # build only these, if missing
    python native/build_backends.py --print-path jaeger
    python native/build_backends.py actionlint       # tools() are built the same way
    python native/build_backends.py --run promtool check config platform/prometheus.yml

Only licence-clean backends are built: native/not_to_use.py names the modules
that a build refuses.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from native import not_to_use

if sys.platform != "win32":
    import fcntl  # file locks, for one_build_at_a_time()

REPO = Path(__file__).resolve().parent.parent
ENV_FILE = REPO / ".env"
BUILDER_MANIFEST = REPO / "native" / "otelcol-builder.yaml"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"

# The pnpm that builds Prometheus' web UI: the major version that wrote the
# module's web/ui/pnpm-lock.yaml (build_web_ui()).
PNPM = "pnpm@10"


def read_env_file(path=ENV_FILE):
    """Parse the KEY=VALUE lines of a compose .env file (comments skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip()
    return pins


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "otel-workshop"


@dataclass(frozen=True)
class Platform:
    """An operating system and a processor, as Go names them (GOOS, GOARCH)."""

    goos: str
    goarch: str

    def __str__(self):
        return f"{self.goos}-{self.goarch}"

    @property
    def exe(self):
        return ".exe" if self.goos == "windows" else ""  # Windows runs only files named .exe


# The laptops a kit serves: Linux, macOS and Windows, each on x86-64 and on Arm.
PLATFORMS = [
    Platform(goos, arch) for goos in ("linux", "darwin", "windows") for arch in ("amd64", "arm64")
]


def this_platform() -> Platform:
    """This machine, in Go's names, found without Go (a learner with a kit may have none)."""
    goos = {"win32": "windows"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    return Platform(goos, {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine))


HERE = this_platform()


def kit_dir() -> Path:
    """Where a facilitator's kit is: KIT_DIR, as the Makefile's, or the repository's kit/."""
    return Path(os.environ.get("KIT_DIR") or REPO / "kit") / "backends"


@dataclass
class Backend:
    name: str  # also the name of the binary
    version: str  # as pinned in .env; names the cache folder
    module: str  # Go module path; empty for the collector, built by ocb
    module_version: str  # the version the Go module proxy knows it by
    program: str = ""  # the main package, relative to the module root
    ldflags: str = ""  # extra -ldflags, e.g. to stamp the version in
    tags: str = ""  # Go build tags
    recipe: str = ""  # what else the build depends on (the collector's manifest)
    web_ui: bool = False  # build the module's web UI (Prometheus) and embed it

    @property
    def folder(self):
        """The cache's folder for this build, and the kit's: a new pin names a new one."""
        key = self.version
        if self.recipe:
            key += "-" + hashlib.sha256(self.recipe.encode()).hexdigest()[:10]
        return f"{self.name}-{key}"

    def packed(self, where: Platform) -> str:
        """The binary for a platform, relative to the cache or a kit (/-separated)."""
        return f"{self.folder}/{where}/{self.name}{where.exe}"

    def binary_for(self, where: Platform) -> Path:
        if where == HERE:  # this machine's, where the cache has always kept it
            return cache_root() / self.folder / f"{self.name}{where.exe}"
        return cache_root() / self.packed(where)

    @property
    def binary(self):
        return self.binary_for(HERE)


def backends():
    """The four backends, and promtool, at the versions pinned in .env."""
    pins = read_env_file()
    prom, jaeger, logs = (
        pins["PROMETHEUS_VERSION"],
        pins["JAEGER_VERSION"],
        pins["VICTORIALOGS_VERSION"],
    )
    major, minor, patch = prom.split(".")
    # Prometheus 3.x.y is published as the Go module version v0.3xx.y.
    prometheus_module = (
        "github.com/prometheus/prometheus",
        f"v0.{int(major) * 100 + int(minor)}.{patch}",
    )
    # Leave out every service-discovery plugin (cloud SDKs, Kubernetes): our
    # Prometheus only receives pushed data, and the build is much smaller.
    prometheus_options = {
        "ldflags": f"-X github.com/prometheus/common/version.Version={prom}",
        "tags": "remove_all_sd",
    }
    # The web UI's build steps name the cache folder too, so a Prometheus built
    # without its UI is never taken for one with it.
    prometheus_ui = {
        "tags": "remove_all_sd,builtinassets",
        "recipe": f"web/ui built with {PNPM}",
        "web_ui": True,
    }
    return {
        b.name: b
        for b in [
            Backend(
                "otelcol", pins["OTELCOL_VERSION"], "", "", recipe=BUILDER_MANIFEST.read_text()
            ),
            # With its web UI built from the module's web/ui (build_web_ui()).
            Backend(
                "prometheus",
                prom,
                *prometheus_module,
                program="cmd/prometheus",
                **(prometheus_options | prometheus_ui),
            ),
            # Prometheus's own tool, from the same module: it checks the config and
            # the alerting rules, and runs the rules' unit tests (make alerts).
            Backend(
                "promtool",
                prom,
                *prometheus_module,
                program="cmd/promtool",
                **prometheus_options,
            ),
            # Jaeger v2 is built on the collector; its Go module keeps v1 numbers.
            # Its web UI is not in the module: a placeholder page stands in (see jars()).
            Backend(
                "jaeger",
                jaeger,
                "github.com/jaegertracing/jaeger",
                f"v{jaeger}",
                program="cmd/jaeger",
            ),
            Backend(
                "victoria-logs",
                logs,
                "github.com/VictoriaMetrics/VictoriaLogs",
                f"v{logs}",
                program="app/victoria-logs",
            ),
        ]
    }


@dataclass
class Jar:
    """A released Java program, downloaded from Maven Central rather than built."""

    name: str
    version: str
    url: str
    sha256: str  # pinned in .env: the download must match it

    @property
    def folder(self):
        return f"{self.name}-{self.version}"

    def packed(self, where: Platform = HERE) -> str:
        return f"{self.folder}/{self.name}.jar"  # one jar for every platform

    def binary_for(self, where: Platform = HERE) -> Path:
        return cache_root() / self.packed(where)

    @property
    def binary(self):
        return self.binary_for(HERE)


def jars():
    """Zipkin's server, whose web UI draws a trace as a waterfall (the native stack's
    only trace UI: Jaeger's Go module ships a placeholder page instead)."""
    pins = read_env_file()
    version = pins["ZIPKIN_VERSION"]
    return {
        "zipkin": Jar(
            "zipkin",
            version,
            f"{MAVEN_CENTRAL}/io/zipkin/zipkin-server/{version}/zipkin-server-{version}-exec.jar",
            pins["ZIPKIN_JAR_SHA256"],
        )
    }


def tools():
    """Go programs the tests run, built and cached the same way (not part of the stack)."""
    actionlint = read_env_file()["ACTIONLINT_VERSION"]
    return {
        # Checks .github/workflows (tests/test_ci.py). Its PyPI wrapper downloads a
        # prebuilt binary when installed; the Go module builds anywhere Go does.
        "actionlint": Backend(
            "actionlint",
            actionlint,
            "github.com/rhysd/actionlint",
            f"v{actionlint}",
            program="cmd/actionlint",
            ldflags=f"-X github.com/rhysd/actionlint.version={actionlint}",
        ),
    }


def run(cmd, cwd=None, env=None):
    """Run a command, echoing it, and fail loudly if it fails."""
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def go_env():
    # Resolve dependencies through go.mod alone: module zips carry no vendor/
    # tree, and a go.work shipped in a zip points at folders it lacks.
    return {**os.environ, "GOFLAGS": "-mod=mod", "GOWORK": "off", "CGO_ENABLED": "0"}


def refuse_not_to_use(where, text):
    """Stop before anything is compiled if a not-to-use module is named."""
    named = not_to_use.named_in(text)
    if named:
        sys.exit(f"refusing to build: {where} needs {', '.join(named)} (see native/not_to_use.py)")


def check_module_graph(src):
    """Refuse a module whose go.mod or go.sum names a not-to-use module.

    go.sum lists every module of the build graph, so reading it, before any go
    command runs there, refuses even an indirect dependency without fetching it.
    """
    for name in ("go.mod", "go.sum"):
        path = src / name
        if path.exists():
            refuse_not_to_use(path, path.read_text())


def generate_collector(backend, workdir):
    """Generate the collector's source from the builder manifest, and check it."""
    manifest = BUILDER_MANIFEST.read_text()
    refuse_not_to_use(BUILDER_MANIFEST.name, manifest)
    wrong = set(re.findall(r"\bv?(0\.\d+\.\d+)", manifest)) - {backend.version}
    if wrong:
        sys.exit(f"{BUILDER_MANIFEST.name} pins {sorted(wrong)}, .env pins {backend.version}")
    builder = f"go.opentelemetry.io/collector/cmd/builder@v{backend.version}"
    generate = ["go", "run", builder, "--skip-compilation", "--config", BUILDER_MANIFEST]
    run(generate, cwd=workdir, env=go_env())
    src = workdir / "build"
    check_module_graph(src)
    return src


def go_json(*args, cwd=None, env=None):
    """Run a go subcommand that prints JSON, and parse its output."""
    out = subprocess.run(
        ["go", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def download_module(path, version, workdir, env):
    """Download a module from the proxy; return a writable copy of its source.

    `go install module@version` refuses modules whose go.mod has replace
    directives, so we build the downloaded source as the main module instead.
    """
    refuse_not_to_use(f"{path}@{version}", path)
    info = go_json("mod", "download", "-json", f"{path}@{version}", env=env)
    shutil.copytree(info["Dir"], workdir)
    for file in [workdir, *workdir.rglob("*")]:  # the module cache is read-only
        file.chmod(file.stat().st_mode | stat.S_IWUSR)
    return workdir


def fill_local_replaces(src, env):
    """Supply the folders that go.mod's local-path replaces point to.

    A nested module is left out of its parent's module zip, so we download it on
    its own, at the version the parent's go.mod requires, and put it where the
    replace expects it.
    """
    mod = go_json("mod", "edit", "-json", cwd=src, env=env)
    required = {r["Path"]: r["Version"] for r in mod["Require"]}
    for replace in mod.get("Replace") or []:
        target = src / replace["New"]["Path"]
        if replace["New"]["Path"].startswith(".") and not target.exists():
            name = replace["Old"]["Path"]
            print(f"  {name} => {replace['New']['Path']}: fetching {name}@{required[name]}")
            download_module(name, required[name], target, env)


def build_web_ui(src):
    """Build Prometheus' web UI as its release process does, for Go to embed.

    pnpm (from the npm registry) installs the packages web/ui/pnpm-lock.yaml pins
    and runs the UI's own build script into web/ui/static; Prometheus' own script
    then compresses it and writes the embed list that `-tags builtinassets` reads.
    """
    npx = shutil.which("npx")
    if npx is None:
        sys.exit(
            "Prometheus' web UI is built with Node.js (npx), which is not installed: "
            "install Node.js 20 or later, then run `make backends` again."
        )
    ui = src / "web" / "ui"
    run([npx, "--yes", PNPM, "install", "--frozen-lockfile"], cwd=ui)
    run([npx, "--yes", PNPM, "run", "build:mantine-ui"], cwd=ui)
    run(["bash", "scripts/compress_assets.sh"], cwd=src)


def download_source(backend, workdir):
    """The module's source, with what its build needs beside Go (Prometheus' web UI)."""
    env = go_env()
    src = download_module(backend.module, backend.module_version, workdir / "src", env)
    check_module_graph(src)
    fill_local_replaces(src, env)
    if backend.web_ui:
        build_web_ui(src)
    return src


def compile_for(backend, src, where, workdir):
    """Compile the program for one platform: Go cross-compiles with no C toolchain
    (CGO_ENABLED=0), so one machine builds every platform's binary."""
    output = workdir / str(where) / f"{backend.name}{where.exe}"
    cmd = ["go", "build", "-trimpath", f"-ldflags=-s -w {backend.ldflags}", "-o", output]
    if backend.tags:
        cmd.append(f"-tags={backend.tags}")
    env = go_env() | {"GOOS": where.goos, "GOARCH": where.goarch}
    print(f"  for {where}:", flush=True)
    run([*cmd, f"./{backend.program}"], cwd=src, env=env)
    return output


def download_jar(jar, workdir):
    """Download a jar, refusing it unless its SHA-256 is the one pinned."""
    output = workdir / jar.binary.name
    print(f"  downloading {jar.url}", flush=True)
    digest = hashlib.sha256()
    with urllib.request.urlopen(jar.url, timeout=60) as response, open(output, "wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != jar.sha256:
        sys.exit(f"refusing {jar.url}: its SHA-256 is {digest.hexdigest()}, .env pins {jar.sha256}")
    return output


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_sums(path):
    """A SHA256SUMS file, as `sha256sum` writes it: {relative path: digest}."""
    sums = {}
    for line in path.read_text().splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    return sums


def install_from_kit(backend):
    """Copy this machine's binary from a facilitator's kit into the cache, if the kit has
    it; refuse it unless it matches the kit's SHA256SUMS. True if installed."""
    kit = kit_dir()
    packed = kit / backend.packed(HERE)
    if not packed.exists():
        return False
    sums = kit / "SHA256SUMS"
    expected = read_sums(sums).get(backend.packed(HERE)) if sums.exists() else None
    if sha256_of(packed) != expected:
        sys.exit(
            f"refusing {packed}: its SHA-256 is not the one in {sums}. "
            "The kit is damaged or incomplete: copy it again from the facilitator."
        )
    target = backend.binary
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(packed, partial)
    partial.chmod(0o755)
    partial.replace(target)  # in place last, so an interrupted copy never looks installed
    print(f"{backend.name} {backend.version}: installed from the kit ({packed})")
    return True


def build(backend, platforms=(HERE,)):
    """Build one backend for these platforms (or download one jar) into the cache,
    unless it is there already; this machine's is installed from a kit where there is
    one. Returns the path of the first platform's binary."""
    missing = [where for where in platforms if not backend.binary_for(where).exists()]
    for where in [where for where in platforms if where not in missing]:
        print(f"{backend.name} {backend.version}: cached at {backend.binary_for(where)}")
    if missing:
        with one_build_at_a_time(backend):
            # Whoever held the lock may have built them meanwhile.
            missing = [where for where in missing if not backend.binary_for(where).exists()]
            if HERE in missing and install_from_kit(backend):
                missing.remove(HERE)
            if missing:
                make(backend, missing)
    return backend.binary_for(platforms[0])


@contextmanager
def one_build_at_a_time(backend):
    """Hold a lock on this backend's builds: two at once (make stack and a test, or two
    checkouts) would share, and empty, one work folder. The lock ends with its process."""
    if sys.platform == "win32":  # no flock: builds are not serialised
        yield
        return
    cache_root().mkdir(parents=True, exist_ok=True)
    with open(cache_root() / f"{backend.folder}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{backend.name}: waiting for another build of it to finish...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def put_in_place(output, binary):
    binary.parent.mkdir(parents=True, exist_ok=True)
    # Moved in last, so an interrupted build never looks finished.
    shutil.move(output, binary)


def make(backend, platforms):
    doing = "downloading" if isinstance(backend, Jar) else "building"
    print(f"{doing} {backend.name} {backend.version} (the first time: minutes)...", flush=True)
    if not isinstance(backend, Jar) and shutil.which("go") is None:
        sys.exit(
            f"{backend.name} is built from its Go module, and Go is not installed: install "
            "Go (https://go.dev/dl/), or put a facilitator's kit (make kit) in kit/."
        )
    started = time.monotonic()
    workdir = cache_root() / "work" / backend.folder
    shutil.rmtree(workdir, ignore_errors=True)  # a leftover from an interrupted build
    workdir.mkdir(parents=True)
    if isinstance(backend, Jar):
        put_in_place(download_jar(backend, workdir), backend.binary)
    else:
        src = (
            download_source(backend, workdir)
            if backend.module
            else generate_collector(backend, workdir)
        )
        for where in platforms:  # each one kept as soon as it is built
            put_in_place(compile_for(backend, src, where, workdir), backend.binary_for(where))
    shutil.rmtree(workdir)
    seconds = time.monotonic() - started
    names = ", ".join(map(str, platforms))
    with open(cache_root() / "build-times.log", "a") as log:
        log.write(
            f"{time.strftime('%F %T')} {backend.name} {backend.version} {names} {seconds:.0f}s\n"
        )
    print(f"built {backend.name} {backend.version} for {names} in {seconds:.0f} s", flush=True)


def main():
    known = backends() | jars() | tools()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"what to build (default: the backends, {', '.join(backends() | jars())})",
    )
    parser.add_argument(
        "--print-path",
        metavar="NAME",
        choices=known,
        help="print where the binary for NAME is cached, and exit",
    )
    parser.add_argument(
        "--run",
        nargs=argparse.REMAINDER,
        metavar="NAME ARGUMENT",
        help="build NAME if it is missing, then run it with the arguments that follow",
    )
    args = parser.parse_args()
    unknown = set(args.names) - set(known)
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if args.print_path:
        print(known[args.print_path].binary)
        return
    if args.run:
        name, *arguments = args.run
        if name not in known:
            parser.error(f"unknown backend: {name}")
        sys.exit(subprocess.run([build(known[name]), *arguments]).returncode)
    started = time.monotonic()
    for name in args.names or backends() | jars():
        build(known[name])
    print(f"backends ready in {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
