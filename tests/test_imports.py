"""Imports run one way, read from the code itself: the syntax tree of every module.

The application is the four services and the `common` package they share: a service
imports `common` and itself, `common` imports only `common`, and within it nothing
imports the lesson (common/telemetry.py), which sits on top of the machinery. The
tooling (native/, workshop/, benchmarks/, loadgen/, harness/) imports the application,
never the tests. And since `pip install -e .` makes every package importable by name,
no module edits sys.path or falls back from one import to another.
"""

import ast
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
# Each installed package and its folder, as pyproject.toml installs them.
FOLDERS = {name: PROJECT["package-dir"].get(name, name) for name in PROJECT["packages"]}
SERVICES = {"webapp", "gateway", "geolocator", "iss_distance"}
APPLICATION = SERVICES | {"common"}
TOOLING = set(FOLDERS) - APPLICATION
LESSON = "common.telemetry"


def owner(path: str) -> str:
    """The package a file belongs to, or "tests" for the tests and their helpers."""
    parts = Path(path).parts
    if "tests" in parts or parts[-1] == "conftest.py":
        return "tests"
    for package, folder in FOLDERS.items():
        if Path(path).is_relative_to(folder):
            return package
    return "tooling"  # a script outside every package, such as frontend/tools/


def imported_modules(tree: ast.AST) -> set[str]:
    """The absolute names of the modules a module imports (`from a import b` gives a.b
    as well as a, since b may be a module)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def allowed(importer: str, module: str) -> bool:
    top = module.split(".")[0]
    if top not in FOLDERS and top != "tests":
        return True  # the standard library or an installed distribution
    if importer == "tests":
        return True
    if importer == "common":
        return top == "common" and module != LESSON
    if importer in SERVICES:
        return top in ("common", importer)
    return top != "tests"  # the tooling: the application and itself


def path_edits(tree: ast.AST) -> list[str]:
    """Edits of the import path, and imports that fall back to another on failure."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and ast.unparse(node) == "sys.path":
            found.append(f"line {node.lineno}: sys.path")
        if isinstance(node, ast.Try):
            caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if caught & {"ImportError", "ModuleNotFoundError"}:
                found.append(f"line {node.lineno}: an import fallback")
    return found


def violations(path: str, source: str) -> list[str]:
    tree = ast.parse(source, path)
    importer = owner(path)
    wrong = sorted(m for m in imported_modules(tree) if not allowed(importer, m))
    return [f"{path} ({importer}) imports {m}" for m in wrong] + [
        f"{path}: {edit}" for edit in path_edits(tree)
    ]


def python_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [path for path in listed if (ROOT / path).exists()]


def test_every_package_folder_is_where_pyproject_says():
    for package, folder in FOLDERS.items():
        assert (ROOT / folder / "__init__.py").is_file(), package
    assert set(FOLDERS) >= APPLICATION and TOOLING


def test_imports_run_one_way_and_nothing_edits_the_path():
    files = python_files()
    assert len(files) > 100
    found = [v for path in files for v in violations(path, (ROOT / path).read_text())]
    assert found == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("common/http.py", "from common.telemetry import HEALTH_PATH"),
        ("common/deadline.py", "import common.telemetry"),
        ("common/http.py", "from common import telemetry"),
        ("backend/gateway/gateway/__init__.py", "import geolocator"),
        ("frontend/webapp/answer.py", "from native.run_services import stop"),
        ("common/inputs.py", "from workshop import learners"),
        ("benchmarks/footprint.py", "from tests.fakes import fixed_service"),
        ("harness/browser.py", "import tests.learner"),
        ("native/run_stack.py", "import sys\nsys.path.insert(0, '.')"),
        ("native/run_stack.py", "try:\n    import a\nexcept ImportError:\n    import b"),
    ],
)
def test_each_wrong_way_is_caught(path, source):
    """Negative controls: the imports this tree had before, and their near relatives."""
    assert violations(path, source)


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("common/telemetry.py", "from common.services import HEALTH_PATH"),
        ("backend/gateway/gateway/__init__.py", "from common.telemetry import setup_telemetry"),
        ("native/run_services.py", "from workshop import learners\nimport gateway"),
        ("benchmarks/footprint.py", "from harness.browser import submit"),
        ("tests/test_x.py", "from tests.fakes import fixed_service\nimport benchmarks"),
        ("backend/gateway/tests/test_gateway.py", "from tests.fakes import fixed_service"),
    ],
)
def test_the_right_ways_pass(path, source):
    assert violations(path, source) == []
