"""Checkpoints: the code as it stands at the start of each section of the workshop.

The repository holds one copy of the services, the finished solution. Comments in it
mark the code that each section adds:

    # workshop: section 3 >>>
    with tracer.start_as_current_span("iss.distance"):
        km = surface_distance_km(...)
    # workshop: section 3 ===
    # km = surface_distance_km(...)
    # workshop: section 3 <<<

Between `>>>` and `===` is what section 3 writes. Between `===` and `<<<` (optional) is
the code before section 3, commented out with `# ` at the markers' indentation (a lone
`#` is an empty line). A block may sit inside the code of an earlier section's block:
section 0 writes a function, and later sections add to its body.

The checkpoint at the start of section S keeps what sections 0 to S-1 write, puts the
"before" code back for sections S and later, drops the markers, and lets ruff remove
the imports that are no longer used.

    python -m workshop.checkpoints checkout 3   # the start of section 3
    python -m workshop.checkpoints solution     # back to the finished solution
    python -m workshop.checkpoints status       # which section the working tree is at

Before it rewrites anything, `checkout` and `solution` save your own changes to the
marked files in a git stash, and print the command that brings them back. They leave
every other file as it is. `make checkout SECTION=3`, `make solution` and `make status`
run these from the repository's root.
"""

import argparse
import functools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = range(10)  # the workshop's sections, 0 to 9
# Where a checkpoint can be written: the start of each section, and the end of the last
# one (the finished code, without markers), which the tests compare the learner's with.
ENDS = range(len(SECTIONS) + 1)

MARKER = re.compile(r"(?P<indent>[ \t]*)# workshop: section (?P<section>\d+) (?P<kind>>>>|===|<<<)")
# Anything that looks like a marker, so that a mistyped one is an error, not a comment.
LOOKS_LIKE_A_MARKER = re.compile(r"^[ \t]*# workshop:", re.MULTILINE)
# The workshop's tools and the repository's tests talk about markers; the application
# carries them.
NOT_MARKED = ("workshop/", "tests/")


class CheckpointError(Exception):
    """Something a learner or an author can fix, said in one message."""


@dataclass(frozen=True)
class Marker:
    section: int
    kind: str  # ">>>", "===" or "<<<"
    indent: str


@dataclass
class Block:
    """A section's block, as far as it has been read."""

    section: int
    indent: str
    line: int  # where it opened
    in_before_lines: bool = False  # past its `===`

    def keeps(self, section: int) -> bool:
        """Whether the lines being read belong in the checkpoint at the start of `section`."""
        done = self.section < section
        return not done if self.in_before_lines else done


# --- The transformation of one file ---------------------------------------------------


def checkpoint_source(text: str, section: int, path: str = "<text>") -> str:
    """`text` at the start of `section`, before unused imports are removed.

    Raises CheckpointError, with file:line, for a marker that breaks the syntax.
    """
    lines = []
    blocks: list[Block] = []  # the blocks open at this line, the innermost last
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        where = f"{path}:{number}"
        marker = parse_marker(line, where)
        if marker is None:
            if blocks and blocks[-1].in_before_lines:
                line = uncomment(line, blocks[-1].indent, where)  # checked even if unused
            if all(block.keeps(section) for block in blocks):
                lines.append(line)
        elif marker.kind == ">>>":
            if blocks:
                check_nesting(marker, blocks[-1], where)
            blocks.append(Block(marker.section, marker.indent, number))
        else:
            if not blocks:
                raise CheckpointError(f"{where}: '{marker.kind}' without a '>>>' before it")
            block = blocks[-1]
            if (marker.section, marker.indent) != (block.section, block.indent):
                raise CheckpointError(
                    f"{where}: this '{marker.kind}' does not match the '>>>' of line "
                    f"{block.line} (section {block.section}, indented "
                    f"{len(block.indent)} characters)"
                )
            if marker.kind == "<<<":
                blocks.pop()
            elif block.in_before_lines:
                raise CheckpointError(f"{where}: a second '===' in the block of line {block.line}")
            else:
                block.in_before_lines = True
    if blocks:
        block = blocks[-1]
        raise CheckpointError(
            f"{path}:{block.line}: the section {block.section} block is not closed with '<<<'"
        )
    return "".join(lines)


def check_nesting(marker: Marker, outer: Block, where: str) -> None:
    """A block may sit in the code of a block of an earlier section, and counts where it does.

    For example, section 0 writes a function and sections 1 to 4 add to its body.
    """
    if outer.in_before_lines:
        raise CheckpointError(
            f"{where}: a block opens among the lines before section {outer.section} "
            f"(block of line {outer.line}); blocks nest in solution code only"
        )
    if marker.section <= outer.section:
        raise CheckpointError(
            f"{where}: a section {marker.section} block inside the section "
            f"{outer.section} block of line {outer.line}; a block inside another belongs "
            "to a later section"
        )


def parse_marker(line: str, where: str) -> Marker | None:
    """The marker on this line, None for any other line."""
    if not LOOKS_LIKE_A_MARKER.match(line):
        return None
    match = MARKER.fullmatch(line.rstrip())
    if match is None:
        raise CheckpointError(
            f"{where}: a marker is written '# workshop: section N >>>' (or '===', '<<<')"
        )
    section = int(match["section"])
    if section not in SECTIONS:
        raise CheckpointError(f"{where}: section {section} is not one of 0 to {SECTIONS[-1]}")
    return Marker(section, match["kind"], match["indent"])


def uncomment(line: str, indent: str, where: str) -> str:
    """A "before" line, commented out at `indent`, as code."""
    code = line.rstrip("\r\n")
    newline = line[len(code) :]
    if code == indent + "#":
        return newline  # an empty line
    if not code.startswith(indent + "# "):
        raise CheckpointError(
            f"{where}: lines before a section are commented out with '# ' "
            f"at the markers' indentation ({len(indent)} characters)"
        )
    return indent + code[len(indent) + 2 :] + newline


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


def checkpoint_file(text: str, section: int, path: str) -> str:
    """The whole transformation of one marked file, for the start of `section`."""
    source = checkpoint_source(text, section, path)
    return tidy(source, path) if path.endswith(".py") else source


def may_be_marked(path: str) -> bool:
    """Markers live in the application's Python files and in the platform's YAML configs
    (the collector's, Prometheus' rules), where `#` starts a comment too."""
    return path.endswith((".py", ".yml", ".yaml")) and not path.startswith(NOT_MARKED)


def is_marked(path: str, text: str) -> bool:
    return may_be_marked(path) and LOOKS_LIKE_A_MARKER.search(text) is not None


# --- Whole checkpoints -------------------------------------------------------------------


def write_checkpoint(section: int, destination: Path) -> Path:
    """Write the repository at the start of `section` into `destination`; return it.
    One past the last section is the end of the workshop.

    The repository is what git tracks and the new files it does not ignore, as they
    are in the working tree, so that uncommitted work is included.
    """
    if section not in ENDS:
        raise CheckpointError(f"section {section} is not one of 0 to {SECTIONS[-1]}")
    paths = git("ls-files", "-z") + git("ls-files", "-z", "--others", "--exclude-standard")
    for path in paths.split("\0"):
        source = ROOT / path
        if not path or not source.is_file():  # a deletion not committed yet
            continue
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = read(source) if may_be_marked(path) else ""
        if is_marked(path, text):
            target.write_bytes(checkpoint_file(text, section, path).encode())
        else:
            shutil.copy2(source, target)
    return destination


def git(*arguments: str) -> str:
    result = subprocess.run(["git", *arguments], capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        raise CheckpointError(f"git {arguments[0]} failed:\n{result.stderr.decode()}")
    return result.stdout.decode()


def read(path: Path) -> str:
    return path.read_bytes().decode()  # as bytes, so that line endings stay as they are


# --- The working tree: checkout, solution, status ---------------------------------------


def committed_solution() -> dict[str, str]:
    """The marked files as the last commit has them: path -> text."""
    solution = {}
    for path in git("ls-tree", "-r", "-z", "--name-only", "HEAD").split("\0"):
        if may_be_marked(path):
            text = git("show", f"HEAD:{path}")
            if is_marked(path, text):
                solution[path] = text
    if not solution:
        raise CheckpointError("The last commit has no workshop markers.")
    return solution


def checkpoint_of(solution: dict[str, str], section: int) -> dict[str, str]:
    """The marked files at the start of `section`: path -> text."""
    return {path: checkpoint_file(text, section, path) for path, text in solution.items()}


def tree_holds(files: dict[str, str]) -> bool:
    """Whether the working tree holds these files: path -> text."""
    for path, text in files.items():
        current = ROOT / path
        # Line by line, because git may check files out with Windows line endings.
        if not current.is_file() or read(current).splitlines() != text.splitlines():
            return False
    return True


def sections_matching(solution: dict[str, str]) -> list[int]:
    """The sections whose start the working tree is at (several may share their code)."""
    return [section for section in SECTIONS if tree_holds(checkpoint_of(solution, section))]


def save_own_work(solution: dict[str, str], before: str) -> str | None:
    """Stash the learner's changes to the marked files, unless they are a checkpoint.

    Return the stash's commit: `git stash apply <commit>` brings the changes back, onto
    the solution, however many stashes come after it.
    """
    if tree_holds(solution) or sections_matching(solution):
        return None
    message = f"workshop: my work before {before}"
    git("stash", "push", "--message", message, "--", *solution)
    commit = git("rev-parse", "--short=12", "stash@{0}").strip()
    print(f'Your changes to the workshop\'s files are saved in a git stash, "{message}".')
    return commit


def checkout(section: int) -> None:
    solution = committed_solution()
    saved = save_own_work(solution, f"checkout {section}")
    checkpoint = checkpoint_of(solution, section)
    changing = [path for path, text in checkpoint.items() if not tree_holds({path: text})]
    for path in changing:
        (ROOT / path).write_bytes(checkpoint[path].encode())
    report(changing, f"Rewrote for the start of section {section}:")
    print(f"The working tree is now at the start of section {section}.")
    if saved:
        print(f"To get your changes back: make solution, then git stash apply {saved}")


def restore_solution() -> None:
    solution = committed_solution()
    changing = [path for path, text in solution.items() if not tree_holds({path: text})]
    saved = save_own_work(solution, "solution")
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
    solution = committed_solution()
    sections = sections_matching(solution)
    if tree_holds(solution):
        print("The working tree holds the finished solution, with its section markers.")
    elif len(sections) == 1:
        print(f"The working tree is at the start of section {sections[0]}.")
    elif sections:
        together = ", ".join(map(str, sections[:-1])) + f" and {sections[-1]}"
        print(f"The working tree is at the start of sections {together} (the same code).")
    else:
        print("The working tree holds your own changes: it matches no checkpoint.")


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
    except CheckpointError as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
