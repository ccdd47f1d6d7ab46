"""No module marked not-to-use is named anywhere in the repository, or built.

native/not_to_use.py lists them (the AGPL-licensed Grafana servers, and k6) and is the
one file allowed to name them. The build refuses them before compiling anything.
"""

import subprocess

import pytest

from native import build_backends, not_to_use

ROOT = build_backends.REPO


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


def test_no_file_names_a_not_to_use_module():
    named = {}
    for name in tracked_files():
        if name == "native/not_to_use.py":
            continue
        found = not_to_use.named_in((ROOT / name).read_text(errors="ignore"))
        if found:
            named[name] = found
    assert named == {}


# Each module as go.mod or go.sum would name it: itself, a major version, a package.
@pytest.mark.parametrize(
    "text",
    [f"{module}{below} v1.0.0" for module in not_to_use.MODULES for below in ("", "/v3", "/pkg/x")],
)
def test_the_guard_recognises_each_module_and_its_subpaths(text):
    assert not_to_use.named_in(text)


def test_the_guard_lets_similar_names_through():
    allowed = "github.com/grafana/grafana-foundation-sdk/go github.com/grafana/regexp"
    assert not_to_use.named_in(allowed) == []


def test_the_build_refuses_a_not_to_use_module_before_downloading_it(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    forbidden = build_backends.Backend("loki", "3.7.8", not_to_use.MODULES[1], "v3.7.8")

    with pytest.raises(SystemExit, match="refusing to build"):
        build_backends.build(forbidden)
    assert not forbidden.binary.exists()


def test_the_build_refuses_a_module_whose_graph_holds_one(tmp_path):
    """go.sum lists indirect dependencies too: read as text, nothing is fetched."""
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.22\n")
    (tmp_path / "go.sum").write_text(f"{not_to_use.MODULES[2]} v1.5.0/go.mod h1:abc=\n")

    with pytest.raises(SystemExit, match="refusing to build"):
        build_backends.check_module_graph(tmp_path)
