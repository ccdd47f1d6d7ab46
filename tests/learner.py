"""A learner who types the docs' snippets exactly where the docs say.

Each Python snippet of the docs (docs/NN-*.md) follows a placement hint, an HTML comment that a
reader of the rendered page never sees and that repeats what the text says:

    <!-- file: common/telemetry.py, in: configure_opentelemetry, after: "resource =" -->

- `file`: the file to edit, from the repository's root.
- `in` (optional): the function to look in, when the anchor is not unique in the file.
- One placement: `after`, `before` or `replace` a statement whose first line contains
  the quoted text (one statement only, or it is an error), or `at: imports` (below
  the file's last import; ruff merges and sorts them) or `at: end` (of the file).

The snippet takes the indentation of the statement it goes beside.

A YAML snippet (```yaml, for the collector's config) is placed the same way, in YAML's
own terms:

    <!-- file: otel-collector-config.yml, in: service.pipelines.traces, replace: "processors:" -->

- `in`: the mapping to look in, as a dotted path of keys from the top of the file.
- `after`, `before` or `replace` an entry of that mapping whose first line contains the
  quoted text: the entry is its first line and every line indented deeper below it.
  (`at` is for Python only.)

The snippet takes the indentation of the entry it goes beside.
"""

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tests.readme import blocks, body, sections

HINT = re.compile(r'(\w+): (?:"([^"]*)"|([\w./-]+))')
PLACEMENTS = ("after", "before", "replace", "at")


class SnippetError(Exception):
    """A snippet that cannot be placed where its hint says."""


@dataclass(frozen=True)
class Snippet:
    section: int
    code: str
    hint: dict[str, str]

    def __str__(self) -> str:
        first = self.code.splitlines()[0]
        where = self.hint.get("file", "no file")
        return f"section {self.section}, the snippet in {where} starting {first!r}"


LANGUAGES = ("python", "yaml")  # the languages of the snippets a learner types


def snippets() -> list[Snippet]:
    """The docs' Python and YAML snippets with their placement hints, in the docs'
    order."""
    found = []
    for section, text in sections().items():
        typed = sorted(
            (block for language in LANGUAGES for block in blocks(text, language)),
            key=lambda block: block.start(),
        )
        for block in typed:
            hint = HINT.findall(block["hint"] or "")
            placement = {key: quoted or bare for key, quoted, bare in hint}
            if block["language"] == "yaml" and placement.keys() == {"file"}:
                continue  # a part of a config, shown to be read (tests/test_readme.py)
            found.append(Snippet(section, body(block) + "\n", placement))
    return found


def apply(snippet: Snippet, tree: Path) -> None:
    """Type `snippet` into the file of `tree` that its hint names."""
    hint = snippet.hint
    known = "file" in hint and set(hint) <= {"file", "in", *PLACEMENTS}
    if not known or sum(key in hint for key in PLACEMENTS) != 1:
        raise SnippetError(f"{snippet}: the hint needs a file, one of {PLACEMENTS}, and maybe in")
    path = tree / hint["file"]
    if not path.is_file():
        raise SnippetError(f"{snippet}: there is no {hint['file']}")
    lines = path.read_text().splitlines(keepends=True)
    if path.suffix in (".yml", ".yaml"):
        start, end, indent = place_yaml(lines, hint, snippet)
    else:
        start, end, indent = place(ast.parse("".join(lines)), lines, hint, snippet)
    code = textwrap.indent(textwrap.dedent(snippet.code), indent)
    path.write_text("".join(lines[:start]) + code + "".join(lines[end:]))


def place(module: ast.Module, lines: list[str], hint: dict, snippet: Snippet):
    """The lines to replace, [start, end) counted from 0, and the indentation to use."""
    if hint.get("at") == "end":
        return len(lines), len(lines), ""
    if hint.get("at") == "imports":
        imports = [n for n in module.body if isinstance(n, ast.Import | ast.ImportFrom)]
        docstring = module.body[:1] if ast.get_docstring(module) else []
        below = (imports or docstring)[-1].end_lineno if imports or docstring else 0
        return below, below, ""
    if "at" in hint:
        raise SnippetError(f"{snippet}: 'at' is 'imports' or 'end', not {hint['at']!r}")
    statement = anchor(module, lines, hint, snippet)
    first, last = statement.lineno - 1, statement.end_lineno
    if hasattr(statement, "decorator_list") and statement.decorator_list:
        first = statement.decorator_list[0].lineno - 1
    indent = " " * statement.col_offset
    if "after" in hint:
        return last, last, indent
    if "before" in hint:
        return first, first, indent
    return first, last, indent


def anchor(module: ast.Module, lines: list[str], hint: dict, snippet: Snippet) -> ast.stmt:
    """The one statement whose first line holds the hint's text."""
    scope = module
    if "in" in hint:
        functions = [
            node
            for node in ast.walk(module)
            if isinstance(node, ast.FunctionDef) and node.name == hint["in"]
        ]
        if len(functions) != 1:
            raise SnippetError(f"{snippet}: {len(functions)} functions named {hint['in']}")
        [scope] = functions
    text = hint.get("after") or hint.get("before") or hint["replace"]
    matches = [
        node
        for node in ast.walk(scope)
        if isinstance(node, ast.stmt) and node is not scope and text in lines[node.lineno - 1]
    ]
    if len(matches) != 1:
        where = f" in {hint['in']}" if "in" in hint else ""
        raise SnippetError(f"{snippet}: {len(matches)} statements{where} start with {text!r}")
    return matches[0]


# --- YAML -------------------------------------------------------------------------------


def place_yaml(lines: list[str], hint: dict, snippet: Snippet):
    """The lines to replace, [start, end) counted from 0, and the indentation to use."""
    if "at" in hint:
        raise SnippetError(f"{snippet}: 'at' is for Python; in YAML use after, before or replace")
    entries = yaml_entries(lines, hint.get("in", ""), snippet)
    text = hint.get("after") or hint.get("before") or hint["replace"]
    matches = [(first, end) for first, end in entries if text in lines[first]]
    if len(matches) != 1:
        where = f" in {hint['in']}" if "in" in hint else ""
        raise SnippetError(f"{snippet}: {len(matches)} entries{where} start with {text!r}")
    [(first, end)] = matches
    indent = indentation(lines[first])
    if "after" in hint:
        return end, end, indent
    if "before" in hint:
        return first, first, indent
    return first, end, indent


def yaml_entries(lines: list[str], path: str, snippet: Snippet) -> list[tuple[int, int]]:
    """The entries of the mapping at the dotted `path` ("" for the top): for each, its
    first line and the line after its last, counted from 0."""
    start, end = 0, len(lines)  # the lines of the mapping
    for key in path.split(".") if path else []:
        found = [
            (first, last)
            for first, last in entries_in(lines, start, end)
            if lines[first].strip().startswith(f"{key}:")
        ]
        if len(found) != 1:
            raise SnippetError(f"{snippet}: {len(found)} keys {key!r} on the way to {path}")
        start, end = found[0][0] + 1, found[0][1]
    return entries_in(lines, start, end)


def entries_in(lines: list[str], start: int, end: int) -> list[tuple[int, int]]:
    """The entries of the block lines[start:end]: lines at the block's shallowest
    indentation, each with the lines indented deeper below it. Comments and blank
    lines between entries belong to none."""
    content = [n for n in range(start, end) if is_yaml_content(lines[n])]
    if not content:
        return []
    depth = min(len(indentation(lines[n])) for n in content)
    firsts = [n for n in content if len(indentation(lines[n])) == depth]
    entries = []
    for first in firsts:
        last = first
        for n in range(first + 1, end):
            if is_yaml_content(lines[n]) and len(indentation(lines[n])) <= depth:
                break
            if lines[n].strip() and len(indentation(lines[n])) > depth:
                last = n
        entries.append((first, last + 1))
    return entries


def is_yaml_content(line: str) -> bool:
    """Whether a line holds YAML, not a comment or nothing."""
    return bool(line.strip()) and not line.lstrip().startswith("#")


def indentation(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" "))]
