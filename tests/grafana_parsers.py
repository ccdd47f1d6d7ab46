"""Parse LogQL and TraceQL with Grafana's own parsers, which run in Node.

@grafana/lezer-logql and @grafana/lezer-traceql are the grammars behind Grafana's query
editors. tests/grafana_parsers/parse.mjs parses a whole list of queries in one run of
node; this module installs its packages when needed and runs it.
"""

import json
import subprocess
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "grafana_parsers"
LOCK = FOLDER / "package-lock.json"
# npm writes this copy of the lock file on every install: `make test` uses it as its target.
INSTALLED = FOLDER / "node_modules" / ".package-lock.json"


def install() -> None:
    """Install the pinned parsers, unless node_modules is newer than the lock file."""
    if INSTALLED.exists() and INSTALLED.stat().st_mtime >= LOCK.stat().st_mtime:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FOLDER, check=True)


def parse(queries: list[dict]) -> list[dict]:
    """Parse each {"language", "query", "where"}: one result per query, in order.

    A result repeats where, language and query, and adds ok, the character position of
    the first error (None when ok) and an excerpt with a caret under that position.
    """
    install()
    run = subprocess.run(
        ["node", FOLDER / "parse.mjs"],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
    )
    if run.returncode not in (0, 1):  # 1 only says that some query did not parse
        raise RuntimeError(f"parse.mjs failed: {run.stderr}")
    return json.loads(run.stdout)


def failures(queries: list[dict]) -> list[dict]:
    """The results of the queries that do not parse."""
    return [result for result in parse(queries) if not result["ok"]]


def describe(result: dict) -> str:
    """A failure as a message: where the query is, and where in it the parser stopped."""
    return (
        f"{result['where']}: {result['language']} does not parse at character "
        f"{result['position']}:\n{result['excerpt']}"
    )
