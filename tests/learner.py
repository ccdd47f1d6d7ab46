"""A learner who types the docs' snippets exactly as they are shown.

The snippets, their form and their placing are workshop/snippets.py's: a ```diff block
shows its lines in place, with the lines around them, and an `at: imports` block goes
below the file's imports. The learner types each one verbatim, in the order of the
section's page, into a tree of files: no re-indenting and no re-placing of their own.
"""

from pathlib import Path

from workshop.snippets import Snippet, SnippetError, apply, snippets

__all__ = ["Snippet", "SnippetError", "snippets", "type_into", "type_section"]


def type_into(snippet: Snippet, tree: Path) -> None:
    """Type `snippet` into the file of `tree` that it names."""
    path = tree / snippet.file
    if not path.is_file():
        raise SnippetError(f"{snippet}: there is no {snippet.file}")
    path.write_text(apply(snippet, path.read_text()))


def type_section(section: int, tree: Path) -> dict[str, list[str]]:
    """Type the section's snippets into `tree`; return which ones went into each file."""
    typed: dict[str, list[str]] = {}
    for snippet in (s for s in snippets() if s.section == section):
        type_into(snippet, tree)
        typed.setdefault(snippet.file, []).append(str(snippet))
    return typed
