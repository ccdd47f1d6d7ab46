"""A learner who types the README's snippets exactly where the README says.

Each Python snippet of the README follows a placement hint, an HTML comment that a
reader of the rendered page never sees and that repeats what the text says:

    <!-- file: common/telemetry.py, in: configure_opentelemetry, after: "resource =" -->

- `file`: the file to edit, from the repository's root.
- `in` (optional): the function to look in, when the anchor is not unique in the file.
- One placement: `after`, `before` or `replace` a statement whose first line contains
  the quoted text (one statement only, or it is an error), or `at: imports` (below
  the file's last import; ruff merges and sorts them) or `at: end` (of the file).

The snippet takes the indentation of the statement it goes beside.
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


def snippets() -> list[Snippet]:
    """The README's Python snippets with their placement hints, in the README's order."""
    found = []
    for section, text in sections().items():
        for block in blocks(text, "python"):
            hint = HINT.findall(block["hint"] or "")
            placement = {key: quoted or bare for key, quoted, bare in hint}
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
