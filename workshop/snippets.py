"""The code each section of the workshop adds, as the documentation shows it.

The documentation is the one place where a section's code is written down. Each block
that a learner types follows a placement hint, an HTML comment that a reader of the
rendered page never sees:

    <!-- file: common/telemetry.py -->
    ```diff
     def setup_telemetry(app: Flask, service_name: str, service_version: str) -> None:
         ...
         configure_opentelemetry(service_name, service_version)
    +    FlaskInstrumentor().instrument_app(app, excluded_urls=HEALTH_PATH)
    ```

A ```diff block shows the lines exactly as they stand in the file, indented in place,
one column to the right of a mark: `+` a line to add, `-` a line to remove (replaced
by the `+` lines below it), a space a line that is already there. An empty line is an
empty line already there. A line of `...` alone, at any indentation, stands for lines
of the file that are not shown. The lines around the change show where it goes, and
must be enough to find one place in the file.

Why a diff. A learner who copies and pastes must see at a glance which lines are new,
and must find the place by reading, in Python and in YAML alike, where the indentation
is the meaning. A diff is the form that every developer's tools show (git, GitHub,
editors colour `+` green and `-` red): each line says what it is, the indentation of
every line is the file's own, and a replaced line is shown as it goes. Context written
as prose ("below `tail_sampling`") reads as "nested inside it" in YAML; context shown
as lines does not. The price is the mark in the first column, which is not typed.

Imports are the one exception: their order does not matter to Python, and the finished
code keeps them merged and sorted as `ruff check --fix` does. So a section's imports are
a ```python block of new lines only, with the hint `at: imports`, and go below the
file's last import:

    <!-- file: common/telemetry.py, at: imports -->
    ```python
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    ```

Each section has its page, docs/NN-name.md. A learner types a section's blocks in the
order its page shows them; `apply` does that to a file's text. `take_back` undoes one on
the finished code: the `+` lines become the `-` lines again. An import block is not
taken back here: once the code that used it is gone, ruff removes the import
(workshop/checkpoints.py).
"""

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
# The sections' pages, docs/NN-name.md, in the order of their sections.
PAGES = "docs/[0-9][0-9]-*.md"

# A fenced block, and the HTML comment right above it, if any.
FENCE = re.compile(
    r"(?:^<!-- (?P<hint>[^\n]*) -->\n)?"
    r"^(?P<indent> *)```(?P<language>\w+)\n(?P<body>.*?)^(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)
HINT = re.compile(r'(\w+): (?:"([^"]*)"|([\w./-]+))')
ELISION = "..."


class SnippetError(Exception):
    """A snippet that cannot be read, placed or taken back, said with where it is."""


@dataclass(frozen=True)
class Line:
    mark: str  # "+" added, "-" removed, " " already there
    text: str


@dataclass(frozen=True)
class Snippet:
    """One block that a learner types into one file."""

    section: int
    file: str
    page: str  # where it is shown: "docs/03-tracing.md:120"
    imports: bool  # a ```python block of imports, or a ```diff block
    # A diff's lines, in runs separated by `...`: each run is found in the file as a
    # whole, the runs in order, with any lines between them.
    runs: tuple[tuple[Line, ...], ...] = ()
    code: str = ""  # an import block's lines

    def __str__(self) -> str:
        return f"{self.page}: section {self.section}'s snippet for {self.file}"

    def lines(self, marks: str, run: Iterable[Line]) -> list[str]:
        return [line.text for line in run if line.mark in marks]


# --- Reading the documentation --------------------------------------------------------------


def read_pages(root: Path = ROOT) -> dict[str, str]:
    """The sections' pages in the working tree: path -> text."""
    paths = sorted(root.glob(PAGES))
    return {path.relative_to(root).as_posix(): path.read_text() for path in paths}


def snippets(pages: dict[str, str] | None = None) -> list[Snippet]:
    """Every snippet of the sections' pages, in the order a learner types them."""
    found = []
    for page, text in sorted((read_pages() if pages is None else pages).items()):
        section = int(PurePosixPath(page).name[:2])
        for block in FENCE.finditer(text):
            hint = {key: quoted or bare for key, quoted, bare in HINT.findall(block["hint"] or "")}
            typed = block["language"] == "diff" or hint.get("at") == "imports"
            if not typed:
                continue  # code to read or run, or a part of a config, shown
            where = f"{page}:{text.count(chr(10), 0, block.start('language')) + 1}"
            found.append(parse(block, hint, section, where))
    return found


def parse(block: re.Match, hint: dict[str, str], section: int, where: str) -> Snippet:
    body = [line.removeprefix(block["indent"]) for line in block["body"].splitlines()]
    if set(hint) - {"file", "at"} or "file" not in hint:
        raise SnippetError(f"{where}: the hint above a snippet is file: <path>, maybe at: imports")
    if block["language"] == "python" and hint.get("at") == "imports":
        code = "\n".join(body) + "\n"
        if not all(isinstance(n, ast.Import | ast.ImportFrom) for n in ast.parse(code).body):
            raise SnippetError(f"{where}: an `at: imports` block holds imports only")
        return Snippet(section, hint["file"], where, imports=True, code=code)
    if block["language"] != "diff" or "at" in hint:
        raise SnippetError(f"{where}: a snippet with `at: imports` is a python block of imports")
    runs: list[list[Line]] = [[]]
    for number, text in enumerate(body, start=1):
        if text.strip() == ELISION:
            runs.append([])
        elif text == "" or text[0] in "+- ":
            runs[-1].append(Line(text[:1] or " ", text[1:].rstrip()))
        else:
            raise SnippetError(
                f"{where}: line {number} of the diff starts with {text[0]!r}, not '+', '-' or ' '"
            )
    for run in runs:
        if not any(line.mark == " " and line.text for line in run):
            raise SnippetError(
                f"{where}: every part of a diff shows a line already in the file, to say where"
            )
    if not any(line.mark != " " for run in runs for line in run):
        raise SnippetError(f"{where}: a diff with nothing to add or remove")
    return Snippet(section, hint["file"], where, imports=False, runs=tuple(map(tuple, runs)))


# --- Typing a snippet, and taking it back -----------------------------------------------------


def apply(snippet: Snippet, text: str) -> str:
    """`text` with the snippet typed in, as a learner types it."""
    if snippet.imports:
        lines = text.splitlines(keepends=True)
        below = below_the_imports(ast.parse(text))
        return "".join(lines[:below]) + snippet.code + "".join(lines[below:])
    return replace(snippet, text, find=" -", put=" +")


def take_back(snippet: Snippet, text: str) -> str:
    """`text` with the snippet's change undone: what it was before the learner typed it.
    An import block is left to ruff, which removes the imports no longer used."""
    if snippet.imports:
        return text
    return replace(snippet, text, find=" +", put=" -")


def replace(snippet: Snippet, text: str, find: str, put: str) -> str:
    lines = text.splitlines()
    newline = "\n" if text.endswith("\n") or not text else ""
    spans = where(snippet, lines, find)
    for run, (start, end) in reversed(list(zip(snippet.runs, spans, strict=True))):
        lines[start:end] = snippet.lines(put, run)
    return "\n".join(lines) + newline


def where(snippet: Snippet, lines: list[str], marks: str) -> list[tuple[int, int]]:
    """Where each run of the snippet is in `lines`: (start, end) of each, counted from 0.

    The first run must be found at exactly one place; each later run is the first place
    it is found after the run before it.
    """
    runs = [snippet.lines(marks, run) for run in snippet.runs]
    stripped = [line.rstrip() for line in lines]
    found = []
    for start in positions(runs[0], stripped, 0):
        spans = [(start, start + len(runs[0]))]
        for run in runs[1:]:
            later = positions(run, stripped, spans[-1][1])
            if not later:
                break
            spans.append((later[0], later[0] + len(run)))
        else:
            found.append(spans)
    if len(found) != 1:
        lines_shown = "the lines before the change" if marks == " -" else "the changed lines"
        raise SnippetError(
            f"{snippet}: {lines_shown} are found at {len(found)} places in {snippet.file}, "
            "not at one"
        )
    return found[0]


def positions(run: list[str], lines: list[str], start: int) -> list[int]:
    return [n for n in range(start, len(lines) - len(run) + 1) if lines[n : n + len(run)] == run]


def below_the_imports(module: ast.Module) -> int:
    """The line below the module's last top-level import, or its docstring, or 0."""
    imports = [n for n in module.body if isinstance(n, ast.Import | ast.ImportFrom)]
    docstring = module.body[:1] if ast.get_docstring(module) else []
    last = (imports or docstring or [None])[-1]
    return last.end_lineno if last else 0


def imported_names(code: str) -> set[tuple[str, str]]:
    """(module, name) for every name that `code` imports at its top level."""
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.ImportFrom):
            names |= {(node.module or "", alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {(alias.name, "") for alias in node.names}
    return names
