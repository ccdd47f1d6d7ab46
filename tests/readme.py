"""The code blocks of README.md, by language, for the tests that keep them honest."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
# A fenced block, and the HTML comment right above it, if any (tests/learner.py).
FENCE = re.compile(
    r"(?:^<!-- (?P<hint>[^\n]*) -->\n)?"
    r"^(?P<indent> *)```(?P<language>\w+)\n(?P<body>.*?)^(?P=indent)```",
    re.DOTALL | re.MULTILINE,
)
SECTION = re.compile(r"^## Section (\d+):", re.MULTILINE)


def blocks(text: str, language: str) -> list[re.Match]:
    """Every fenced block of that language in `text`."""
    return [match for match in FENCE.finditer(text) if match["language"] == language]


def body(block: re.Match) -> str:
    """A block's code, with its indentation removed."""
    lines = [line.removeprefix(block["indent"]) for line in block["body"].splitlines()]
    return "\n".join(lines)


def code_blocks(language: str) -> list[str]:
    """Every fenced block of that language, with its indentation removed."""
    return [body(block) for block in blocks(README.read_text(), language)]


def sections() -> dict[int, str]:
    """The text of each workshop section, by number."""
    parts = SECTION.split(README.read_text())
    following = (text.partition("\n## ")[0] for text in parts[2::2])
    return dict(zip(map(int, parts[1::2]), following, strict=True))


def config_snippets(language: str) -> list[tuple[str, str]]:
    """(file, snippet) for each block of that language that names its file in a hint
    above it, `<!-- file: prometheus/alerts.yml -->`: a part of a config file, shown."""
    found = []
    for block in blocks(README.read_text(), language):
        if re.search(r"\b(after|before|replace|at): ", block["hint"] or ""):
            continue  # a snippet the learner types: tests/learner.py places it
        hint = re.fullmatch(r"file: (\S+)", block["hint"] or "")
        found.append((hint[1] if hint else "", body(block)))
    return found


def commands() -> list[str]:
    """Every command line of the README's sh blocks."""
    return [line for block in code_blocks("sh") for line in block.splitlines() if line.strip()]


def subsection(title: str) -> str:
    """The text under the README's `### title` heading, up to the next heading."""
    text = README.read_text().split(f"\n### {title}\n", 1)[1]
    return re.split(r"^#{2,3} ", text, maxsplit=1, flags=re.MULTILINE)[0]


def tables(text: str) -> dict[str, list[list[str]]]:
    """The Markdown tables in `text`, by their first header cell: the cells of each
    row below the header, with code backticks removed."""
    found: dict[str, list[list[str]]] = {}
    for table in re.findall(r"(?:^\|.*\|\n)+", text, re.MULTILINE):
        header, _separator, *rows = table.splitlines()
        cells = [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in rows]
        found[header.strip("|").split("|")[0].strip()] = cells
    return found
