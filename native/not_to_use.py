"""Go modules this project must never download, build or run.

These are the rows marked not-to-use in the package lists of the machines this
workshop is built on: the AGPL-licensed Grafana servers, and k6. Docker users pull
the Loki, Tempo and Grafana images themselves; nothing in this repository fetches
their source. native/build_backends.py refuses a build that would, and
tests/test_licences.py fails if any file in the repository names one.

This file is the one place allowed to name them.
"""

import re

MODULES = [
    "github.com/grafana/grafana",
    "github.com/grafana/loki",
    "github.com/grafana/tempo",
    "go.k6.io/k6",
]

# A module path, or one below it (".../loki/v3", ".../grafana/pkg/..."), but not a
# longer name that merely starts alike (github.com/grafana/grafana-foundation-sdk).
PATTERN = re.compile(
    r"\b(?:" + "|".join(re.escape(m) for m in MODULES) + r")(?![\w.-])", re.IGNORECASE
)


def named_in(text: str) -> list[str]:
    """The not-to-use module paths that the text names."""
    return sorted({match.group(0) for match in PATTERN.finditer(text)})
