"""Checkpoints: the code as it stands at the start of each section of the workshop.

The repository holds one copy of the services, the finished solution, and one copy of
each section's code: the snippets that the documentation shows a learner, each placed
in its file (workshop/snippets.py). The checkpoint at the start of section S is the
solution with the snippets of sections S and later taken back out, the last one
first, and tidied after each section as ruff tidies: the imports no longer used
removed, the rest sorted, the code formatted. A learner who types section S's snippets
into the checkpoint at its start reaches the checkpoint at the start of section S+1.

    python -m workshop.checkpoints checkout 3   # the start of section 3
    python -m workshop.checkpoints solution     # back to the finished solution
    python -m workshop.checkpoints status       # which section the working tree is at

Before it rewrites anything, `checkout` and `solution` save your own changes to the
workshop's files in a git stash, and print the command that brings them back. They leave
every other file as it is. `status` recognises your own code when it is a checkpoint's,
formatting, comments and the order of imports aside. `make checkout SECTION=3`,
`make solution` and `make status` run these from the repository's root.
"""

import argparse
import ast
import fnmatch
import functools
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import yaml

from workshop import snippets as docs
from workshop.snippets import Snippet, SnippetError

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = range(13)  # the workshop's sections, 0 to 12
END = SECTIONS[-1] + 1  # the "checkpoint" after the last section: the finished solution


class CheckpointError(Exception):
    """Something a learner or an author can fix, said in one message."""


# --- Taking the snippets back out of the solution -------------------------------------------


def checkpoint_of(
    solution: dict[str, str], section: int, snippets: list[Snippet] | None = None
) -> dict[str, str]:
    """The solution's files at the start of `section`: path -> text.

    `snippets` are the documentation's, by default as the working tree has it. Files of
    the solution that no snippet edits are returned as they are; snippets for files that
    are not in `solution` are left out.
    """
    if section not in SECTIONS and section != END:
        raise CheckpointError(f"section {section} is not one of 0 to {SECTIONS[-1]}")
    typed = tuple(docs.snippets() if snippets is None else snippets)
    chain = _checkpoints(tuple(sorted(solution.items())), typed)
    return dict(chain[section])


@functools.cache
def _checkpoints(
    solution: tuple[tuple[str, str], ...], snippets: tuple[Snippet, ...]
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Every checkpoint, from the end back to section 0."""
    files = dict(solution)
    chain = {END: solution}
    for section in reversed(SECTIONS):
        own = [s for s in snippets if s.section == section and s.file in files]
        for snippet in reversed(own):
            files[snippet.file] = taken_back(snippet, files[snippet.file])
        for path in {snippet.file for snippet in own}:
            files[path] = tidy(files[path], path) if path.endswith(".py") else files[path]
        check_imports(own, files, dict(chain[section + 1]))
        chain[section] = tuple(sorted(files.items()))
    return chain


def taken_back(snippet: Snippet, text: str) -> str:
    try:
        before = docs.take_back(snippet, text)
    except SnippetError as error:
        raise CheckpointError(f"{error}: does the snippet still match the solution?") from None
    try:
        if snippet.file.endswith(".py"):
            ast.parse(before)
        elif snippet.file.endswith((".yml", ".yaml")):
            yaml.compose(before, Loader=yaml.SafeLoader)
    except (SyntaxError, yaml.YAMLError) as error:
        raise CheckpointError(
            f"{snippet}: taken back out, it leaves {snippet.file} broken: {error}"
        ) from None
    return before


def check_imports(own: list[Snippet], start: dict[str, str], end: dict[str, str]) -> None:
    """A section's imports are new at its start, and used at its end."""
    for snippet in (s for s in own if s.imports):
        names = docs.imported_names(snippet.code)
        if already := names & docs.imported_names(start[snippet.file]):
            raise CheckpointError(
                f"{snippet}: {sorted(already)} imported already at the start of the section"
            )
        if unused := names - docs.imported_names(end[snippet.file]):
            raise CheckpointError(
                f"{snippet}: {sorted(unused)} not imported by the code at the section's end"
            )


# --- Unused imports and formatting, by ruff --------------------------------------------


@functools.cache
def tidy(source: str, path: str) -> str:
    """`source` without the imports it no longer uses, sorted and formatted as ruff does.

    ruff reads the file from stdin and the settings from the repository's pyproject.toml.
    """
    # ruff keeps unused imports in an `__init__.py`, in case they are there for other
    # modules to import. Ours are not, so give ruff another name for the file.
    name = PurePosixPath(path)
    if name.name == "__init__.py":
        name = name.with_name("init.py")
    # Removing an import can empty a group of imports, so sort them (I001) as well.
    source = _ruff(["check", "--fix", "--select", "F401,I001", "--exit-zero"], source, name)
    return _ruff(["format"], source, name)


def _ruff(arguments: list[str], source: str, name: PurePosixPath) -> str:
    ruff = shutil.which("ruff", path=Path(sys.executable).parent)  # the virtualenv's ruff
    if ruff is None:
        raise CheckpointError(f"ruff is not installed beside {sys.executable}")
    command = [ruff, *arguments, "--quiet", "--stdin-filename", str(name), "-"]
    result = subprocess.run(command, input=source.encode(), capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        raise CheckpointError(f"ruff {arguments[0]} failed on {name}:\n{result.stderr.decode()}")
    return result.stdout.decode()


# --- Whole checkpoints -------------------------------------------------------------------


def write_checkpoint(section: int, destination: Path) -> Path:
    """Write the repository at the start of `section` into `destination`; return it.
    At END, it is the finished solution.

    The repository is what git tracks and the new files it does not ignore, as they
    are in the working tree, so that uncommitted work is included (the documentation's
    snippets too).
    """
    snippets = typed_snippets(docs.read_pages(ROOT))
    paths = git("ls-files", "-z") + git("ls-files", "-z", "--others", "--exclude-standard")
    solution = {}
    for path in edited_files(snippets):
        if not (ROOT / path).is_file():
            raise CheckpointError(f"The documentation's snippets edit {path}, which is not here.")
        solution[path] = read(ROOT / path)
    checkpoint = checkpoint_of(solution, section, snippets)
    for path in paths.split("\0"):
        source = ROOT / path
        if not path or not source.is_file():  # a deletion not committed yet
            continue
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if path in checkpoint:
            target.write_bytes(checkpoint[path].encode())
        else:
            shutil.copy2(source, target)
    return destination


def typed_snippets(pages: dict[str, str]) -> list[Snippet]:
    try:
        return docs.snippets(pages)
    except SnippetError as error:
        raise CheckpointError(str(error)) from None


def edited_files(snippets: list[Snippet]) -> list[str]:
    return sorted({snippet.file for snippet in snippets})


def git(*arguments: str) -> str:
    result = subprocess.run(["git", *arguments], capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        raise CheckpointError(f"git {arguments[0]} failed:\n{result.stderr.decode()}")
    return result.stdout.decode()


def read(path: Path) -> str:
    return path.read_bytes().decode()  # as bytes, so that line endings stay as they are


# --- The working tree: checkout, solution, status ---------------------------------------


def committed_snippets() -> list[Snippet]:
    """The documentation's snippets as the last commit has them."""
    tracked = git("ls-tree", "-r", "-z", "--name-only", "HEAD").split("\0")
    pages = {
        path: git("show", f"HEAD:{path}")
        for path in tracked
        if fnmatch.fnmatch(path, docs.PAGES) and path.count("/") == docs.PAGES.count("/")
    }
    return typed_snippets(pages)


def committed_solution(snippets: list[Snippet] | None = None) -> dict[str, str]:
    """The files that the snippets edit, as the last commit has them: path -> text."""
    snippets = committed_snippets() if snippets is None else snippets
    if not snippets:
        raise CheckpointError("The last commit's documentation has no snippets.")
    return {path: git("show", f"HEAD:{path}") for path in edited_files(snippets)}


def tree_holds(files: dict[str, str]) -> bool:
    """Whether the working tree holds these files: path -> text."""
    for path, text in files.items():
        current = ROOT / path
        # Line by line, because git may check files out with Windows line endings.
        if not current.is_file() or read(current).splitlines() != text.splitlines():
            return False
    return True


def tree_is_like(files: dict[str, str]) -> bool:
    """Whether the working tree holds code that does what these files do: formatting,
    comments and the order of imports aside."""
    for path, text in files.items():
        current = ROOT / path
        if not current.is_file() or normal_form(read(current), path) != normal_form(text, path):
            return False
    return True


def normal_form(text: str, path: str) -> object:
    """What a file says, whatever its formatting and comments.

    Python: its syntax tree, which has no comments and no layout, with the names it
    imports at its top as a set. YAML: the data it holds. Anything else: its lines.
    """
    try:
        if path.endswith(".py"):
            module = ast.parse(text)
            imports = [n for n in module.body if isinstance(n, ast.Import | ast.ImportFrom)]
            rest = ast.Module([n for n in module.body if n not in imports], type_ignores=[])
            names = {
                (getattr(node, "module", None), getattr(node, "level", 0), alias.name, alias.asname)
                for node in imports
                for alias in node.names
            }
            return frozenset(names), ast.dump(rest)
        if path.endswith((".yml", ".yaml")):
            return yaml.safe_load(text)
    except (SyntaxError, yaml.YAMLError):
        return ("unreadable", text)
    return text.splitlines()


def sections_matching(solution: dict[str, str], snippets: list[Snippet], match=tree_holds):
    """The sections whose start the working tree is at (several may share their code)."""
    return [s for s in SECTIONS if match(checkpoint_of(solution, s, snippets))]


def save_own_work(solution: dict[str, str], snippets: list[Snippet], before: str) -> str | None:
    """Stash the learner's changes to the workshop's files, unless they are a checkpoint.

    Return the stash's commit: `git stash apply <commit>` brings the changes back, onto
    the solution, however many stashes come after it.
    """
    if tree_holds(solution) or sections_matching(solution, snippets):
        return None
    message = f"workshop: my work before {before}"
    git("stash", "push", "--message", message, "--", *solution)
    commit = git("rev-parse", "--short=12", "stash@{0}").strip()
    print(f'Your changes to the workshop\'s files are saved in a git stash, "{message}".')
    return commit


def checkout(section: int) -> None:
    snippets = committed_snippets()
    solution = committed_solution(snippets)
    checkpoint = checkpoint_of(solution, section, snippets)  # before anything changes
    saved = save_own_work(solution, snippets, f"checkout {section}")
    changing = [path for path, text in checkpoint.items() if not tree_holds({path: text})]
    for path in changing:
        (ROOT / path).write_bytes(checkpoint[path].encode())
    report(changing, f"Rewrote for the start of section {section}:")
    print(f"The working tree is now at the start of section {section}.")
    if saved:
        print(f"To get your changes back: make solution, then git stash apply {saved}")


def restore_solution() -> None:
    snippets = committed_snippets()
    solution = committed_solution(snippets)
    changing = [path for path, text in solution.items() if not tree_holds({path: text})]
    saved = save_own_work(solution, snippets, "solution")
    git("checkout", "HEAD", "--", *solution)
    report(changing, "Restored from the last commit:")
    print("The working tree now holds the finished solution.")
    if saved:
        print(f"To get your changes back: git stash apply {saved}")


def report(paths: list[str], done: str) -> None:
    print(done if paths else "Nothing to change.")
    for path in paths:
        print(f"    {path}")
    print()


def status() -> None:
    print(status_message())


def status_message() -> str:
    snippets = committed_snippets()
    solution = committed_solution(snippets)
    if tree_holds(solution):
        return "The working tree holds the finished solution."
    if sections := sections_matching(solution, snippets):
        return f"The working tree is at the start of {named(sections)}."
    aside = "formatting, comments and the order of imports aside"
    if tree_is_like(solution):
        return f"Your code is the finished solution, {aside}: every section is complete."
    if sections := sections_matching(solution, snippets, match=tree_is_like):
        done = (
            f"section {sections[0] - 1} is complete"
            if sections[0]
            else "no section's code is written yet"
        )
        return f"Your code is the code at the start of {named(sections)}, {aside}: {done}."
    return "The working tree holds your own changes: it matches no checkpoint."


def named(sections: list[int]) -> str:
    if len(sections) == 1:
        return f"section {sections[0]}"
    together = ", ".join(map(str, sections[:-1])) + f" and {sections[-1]}"
    return f"sections {together} (the same code)"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workshop.checkpoints", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("checkout", help="go to the start of a section").add_argument(
        "section", type=int, choices=SECTIONS
    )
    commands.add_parser("solution", help="go back to the finished solution")
    commands.add_parser("status", help="say which section the working tree is at")
    options = parser.parse_args()
    try:
        if options.command == "checkout":
            checkout(options.section)
        elif options.command == "solution":
            restore_solution()
        else:
            status()
    except (CheckpointError, SnippetError) as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
