"""Every relative link and anchor in README.md and docs/ leads somewhere that exists."""

import re
from pathlib import Path

import pytest

from tests.readme import DOCS, README, ROOT, pages

# [text](target): a Markdown link; images too (![alt](target)).
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(FENCE.sub("", page.read_text()))}


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """The links of `page` whose file or anchor does not exist, as 'target: why'."""
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.name}")
        elif root not in linked.parents and linked != root:
            broken.append(f"{target}: outside the repository")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_exists(page):
    assert broken_links(page) == []


def test_every_page_in_docs_is_listed_in_reading_order():
    assert set(DOCS.glob("*.md")) == set(pages()) - {README}


def test_the_readme_fits_on_a_few_screens():
    assert len(README.read_text().splitlines()) <= 300


def test_the_readme_links_every_section_page():
    linked = {Path(target.partition("#")[0]).name for target in LINK.findall(README.read_text())}
    assert {page.name for page in pages()[1:]} <= linked


def test_a_missing_file_or_anchor_is_reported(tmp_path):
    """The negative control: the checker finds a broken file link and a broken anchor."""
    (tmp_path / "other.md").write_text("# Other\n\n## A heading, with `code`\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[fine](other.md#a-heading-with-code) [gone](missing.md) "
        "[no anchor](other.md#nowhere) [here](#page)\n\n# Page\n"
        "```sh\n[inside a fence](ignored.md)\n```\n"
    )
    assert broken_links(page, root=tmp_path) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading with that anchor in other.md",
    ]
