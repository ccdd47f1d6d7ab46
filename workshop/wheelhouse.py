"""A wheelhouse: every Python package the learners install, for every laptop in the room.

`pip download --platform ... --python-version ...` fetches wheels for another machine,
but it reads the requirements' environment markers as they are on *this* machine:
on Linux it leaves out `colorama; platform_system == "Windows"`, which click needs on
Windows. So, for each target, after pip's download, `missing()` walks the requirements
again through the wheels' own metadata with the target's markers, and whatever pip
left out is fetched one package at a time. The same walk says, in the end, whether a
target is complete.

A package published only as source gets a wheel built here with `pip wheel`, and is
kept if that wheel is pure Python (`py3-none-any`), which installs anywhere.
"""

import platform
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging import tags
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

# docs/introduction.md, "What you need": Python 3.11 or later (tests/test_kit.py holds
# them together).
PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")
# The oldest systems whose wheels we take: glibc 2.31 (Ubuntu 20.04, Debian 11), macOS 12.
GLIBC = (2, 31)
MACOS = (12, 0)


@dataclass(frozen=True)
class Platform:
    name: str  # how the summary names it
    system: str  # platform.system() there: Linux, Darwin, Windows
    machine: str  # platform.machine() there

    def wheel_platforms(self) -> list[str]:
        """The platform tags of the wheels this platform installs, best first."""
        if self.system == "Linux":
            # manylinux_2_17 is manylinux2014; pip expands only the legacy names itself.
            newest, oldest = GLIBC[1], 17
            return [
                f"manylinux_2_{minor}_{self.machine}" for minor in range(newest, oldest - 1, -1)
            ] + [f"manylinux2014_{self.machine}"]
        if self.system == "Darwin":
            return list(tags.mac_platforms(MACOS, self.machine))
        return [{"AMD64": "win_amd64", "ARM64": "win_arm64"}[self.machine]]

    def markers(self, python: str) -> dict[str, str]:
        """The environment markers a requirement is judged by on this platform."""
        return {
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "platform_system": self.system,
            "platform_machine": self.machine,
            "sys_platform": {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}[self.system],
            "os_name": "nt" if self.system == "Windows" else "posix",
            "extra": "",
        }


PLATFORMS = (
    Platform("linux-x86_64", "Linux", "x86_64"),
    Platform("linux-arm64", "Linux", "aarch64"),
    Platform("macos-x86_64", "Darwin", "x86_64"),
    Platform("macos-arm64", "Darwin", "arm64"),
    Platform("windows-x86_64", "Windows", "AMD64"),
    Platform("windows-arm64", "Windows", "ARM64"),
)


@dataclass(frozen=True)
class Target:
    platform: Platform
    python: str  # "3.13"

    def __str__(self) -> str:
        return f"{self.platform.name} Python {self.python}"

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    def pip_options(self) -> list[str]:
        """What tells `pip download` to fetch for this target rather than for us."""
        options = ["--only-binary=:all:", "--implementation", "cp"]
        options += ["--python-version", self.python]
        for abi in (self.abi, "abi3", "none"):
            options += ["--abi", abi]
        for tag in self.platform.wheel_platforms():
            options += ["--platform", tag]
        return options

    def supported_tags(self) -> set[tags.Tag]:
        version = tuple(int(part) for part in self.python.split("."))
        platforms = self.platform.wheel_platforms()
        return {
            *tags.cpython_tags(version, [self.abi, "abi3", "none"], platforms),
            *tags.compatible_tags(version, self.abi, platforms),
        }


def all_targets() -> list[Target]:
    return [Target(platform, python) for platform in PLATFORMS for python in PYTHON_VERSIONS]


def host_target() -> Target:
    """This machine, as a target: for a kit that serves laptops like it, and for the tests."""
    here = (platform.system(), platform.machine())
    [match] = [p for p in PLATFORMS if (p.system, p.machine) == here]
    return Target(match, f"{sys.version_info.major}.{sys.version_info.minor}")


# --- Which requirements the wheels satisfy ---------------------------------------------


def read_requirements(path: Path) -> list[Requirement]:
    """The requirements of a requirements file, following its `-r` includes."""
    requirements = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r"):
            requirements += read_requirements(path.parent / line[2:].strip())
        elif line:
            requirements.append(Requirement(line))
    return requirements


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str  # canonical
    version: str
    tags: frozenset

    @classmethod
    def of(cls, path: Path) -> "Wheel":
        name, version, _, wheel_tags = parse_wheel_filename(path.name)
        return cls(path, name, str(version), wheel_tags)

    def requires(self) -> list[Requirement]:
        with zipfile.ZipFile(self.path) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            headers = Parser().parsestr(archive.read(metadata).decode())
        return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def missing(requirements: list[Requirement], wheels: Path, target: Target) -> list[Requirement]:
    """The requirements, direct or not, that no wheel in `wheels` satisfies for `target`."""
    supported = target.supported_tags()
    available = [Wheel.of(p) for p in wheels.glob("*.whl")]
    usable = [w for w in available if w.tags & supported]
    markers = target.platform.markers(target.python)
    unsatisfied, seen, queue = [], set(), [(r, "") for r in requirements]
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker and not requirement.marker.evaluate({**markers, "extra": extra}):
            continue
        key = (canonicalize_name(requirement.name), str(requirement.specifier), extra)
        if key in seen:
            continue
        seen.add(key)
        name = canonicalize_name(requirement.name)
        matches = [
            w for w in usable if w.name == name and requirement.specifier.contains(w.version, True)
        ]
        if not matches:
            unsatisfied.append(requirement)
            continue
        newest = max(matches, key=lambda w: Version(w.version))
        queue += [(r, e) for r in newest.requires() for e in ("", *requirement.extras)]
    return unsatisfied


# --- Downloading ------------------------------------------------------------------------


def pip(*arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", *arguments, "--quiet", "--disable-pip-version-check"]
    return subprocess.run(command, capture_output=True, text=True)


def download(requirement_files: list[Path], wheels: Path, target: Target) -> list[str]:
    """Fill `wheels` for `target`; return the packages that have no wheel for it."""
    requirements = [r for f in requirement_files for r in read_requirements(f)]
    find_links = ["--find-links", str(wheels)]
    # The fast way first: pip resolves and downloads everything at once ...
    files = [option for f in requirement_files for option in ("-r", str(f))]
    pip("download", *target.pip_options(), *find_links, "-d", str(wheels), *files)
    # ... then whatever it left out (other markers) or could not find, one at a time.
    for _ in range(20):  # each round goes one level deeper into the dependencies
        absent = missing(requirements, wheels, target)
        fetched = [fetch(r, wheels, target) for r in absent]
        if not any(fetched):
            return sorted({canonicalize_name(r.name) for r in absent})
    raise RuntimeError(f"{target}: the dependencies did not settle")


def fetch(requirement: Requirement, wheels: Path, target: Target) -> bool:
    """Download one package's wheel for `target`, or build it if it has only a source."""
    spec = str(Requirement(f"{requirement.name}{requirement.specifier}"))
    options = [*target.pip_options(), "--no-deps", "--find-links", str(wheels)]
    if pip("download", *options, "-d", str(wheels), spec).returncode == 0:
        return True
    with tempfile.TemporaryDirectory() as scratch:
        for_this_machine = pip("download", "--only-binary=:all:", "--no-deps", "-d", scratch, spec)
    if for_this_machine.returncode == 0:
        return False  # it has wheels, just none for this target: building would not help
    return build_pure_wheel(spec, wheels)


def build_pure_wheel(spec: str, wheels: Path) -> bool:
    """Build a wheel from the source; keep it only if it installs anywhere."""
    with tempfile.TemporaryDirectory() as scratch:
        if pip("wheel", "--no-deps", "-w", scratch, spec).returncode != 0:
            return False
        built = [p for p in Path(scratch).glob("*.whl") if is_pure(Wheel.of(p))]
        for wheel in built:
            wheel.replace(wheels / wheel.name)
            print(f"  built {wheel.name} from its source (pure Python)", flush=True)
        return bool(built)


def is_pure(wheel: Wheel) -> bool:
    """Pure Python: any Python 3, any ABI, any platform (py3-none-any, py2.py3-none-any)."""
    return all(t.interpreter.startswith("py") and t.platform == "any" for t in wheel.tags)
