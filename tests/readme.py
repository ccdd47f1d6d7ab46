"""The code blocks of README.md, by language, for the tests that keep them honest."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.DOTALL | re.MULTILINE)


def code_blocks(language: str) -> list[str]:
    """Every fenced block of that language, with its indentation removed."""
    blocks = []
    for indent, lang, body in FENCE.findall(README.read_text()):
        if lang == language:
            lines = [line.removeprefix(indent) for line in body.splitlines()]
            blocks.append("\n".join(lines))
    return blocks


def commands() -> list[str]:
    """Every command line of the README's sh blocks."""
    return [line for block in code_blocks("sh") for line in block.splitlines() if line.strip()]
