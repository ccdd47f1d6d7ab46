"""The workshop's pages (README.md and docs/), and their code blocks by language, for
the tests that keep them honest."""

import re
from pathlib import Path

# A fenced block, and the HTML comment right above it, if any.
from workshop.snippets import FENCE

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SECTION_PAGE = re.compile(r"(\d\d)-[\w-]+\.md")
# An aside after a section, docs/NNa-name.md: read after section NN, with nothing to type.
ASIDE_PAGE = re.compile(r"(\d\d)[a-z]-[\w-]+\.md")
# The pages beside the sections, in the order the README lists them.
BEFORE_SECTIONS = ("introduction.md", "tour.md")
AFTER_SECTIONS = ("facilitators.md", "troubleshooting.md", "configuration.md", "maintainers.md")


def section_pages() -> dict[int, Path]:
    """docs/NN-name.md, one page per workshop section, by section number."""
    found = {}
    for page in DOCS.glob("*.md"):
        if match := SECTION_PAGE.fullmatch(page.name):
            found[int(match[1])] = page
    return dict(sorted(found.items()))


def aside_pages() -> dict[int, list[Path]]:
    """docs/NNa-name.md, the asides, by the section they follow."""
    found: dict[int, list[Path]] = {}
    for page in sorted(DOCS.glob("*.md")):
        if match := ASIDE_PAGE.fullmatch(page.name):
            found.setdefault(int(match[1]), []).append(page)
    return found


def pages() -> list[Path]:
    """Every page, in reading order: the README, then docs/ (each aside after its section)."""
    asides = aside_pages()
    return [
        README,
        *(DOCS / name for name in BEFORE_SECTIONS),
        *(
            page
            for number, section in section_pages().items()
            for page in (section, *asides.get(number, ()))
        ),
        *(DOCS / name for name in AFTER_SECTIONS),
    ]


def all_text() -> str:
    """Every page's text, in reading order."""
    return "\n".join(page.read_text() for page in pages())


def addresses(pattern: re.Pattern) -> set[str]:
    """Every address `pattern` finds in the pages, less the sentence's punctuation after
    it ("... at http://127.0.0.1:9090/api/v1/alerts.")."""
    return {match[0].rstrip(".,;:") for match in pattern.finditer(all_text())}


def blocks(text: str, language: str) -> list[re.Match]:
    """Every fenced block of that language in `text`."""
    return [match for match in FENCE.finditer(text) if match["language"] == language]


def body(block: re.Match) -> str:
    """A block's code, with its indentation removed."""
    lines = [line.removeprefix(block["indent"]) for line in block["body"].splitlines()]
    return "\n".join(lines)


def code_blocks(language: str) -> list[str]:
    """Every fenced block of that language, in every page, with its indentation removed."""
    return [body(block) for block in blocks(all_text(), language)]


def sections() -> dict[int, str]:
    """The text of each workshop section's page, by number."""
    return {number: page.read_text() for number, page in section_pages().items()}


def config_snippets(language: str) -> list[tuple[str, str]]:
    """(file, snippet) for each block of that language that names its file in a hint
    above it, `<!-- file: platform/prometheus/alerts.yml -->`: a part of a config file, shown."""
    found = []
    for block in blocks(all_text(), language):
        hint = re.fullmatch(r"file: (\S+)", block["hint"] or "")
        found.append((hint[1] if hint else "", body(block)))
    return found


def commands() -> list[str]:
    """Every command line of the pages' sh blocks."""
    return [line for block in code_blocks("sh") for line in block.splitlines() if line.strip()]


def subsection(title: str) -> str:
    """The text under a page's `## title` heading, up to the next heading."""
    for page in pages():
        text = page.read_text()
        if f"\n## {title}\n" in text:
            text = text.split(f"\n## {title}\n", 1)[1]
            return re.split(r"^#{1,2} ", text, maxsplit=1, flags=re.MULTILINE)[0]
    raise KeyError(f"no page has a '## {title}' heading")


def tables(text: str) -> dict[str, list[list[str]]]:
    """The Markdown tables in `text`, by their first header cell: the cells of each
    row below the header, with code backticks removed."""
    found: dict[str, list[list[str]]] = {}
    for table in re.findall(r"(?:^\|.*\|\n)+", text, re.MULTILINE):
        header, _separator, *rows = table.splitlines()
        cells = [[cell.strip().strip("`") for cell in row.strip("|").split("|")] for row in rows]
        found[header.strip("|").split("|")[0].strip()] = cells
    return found
