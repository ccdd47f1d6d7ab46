"""Room mode: how far each learner has come, for the facilitator.

    python -m workshop.room          # or: make room

Asks Prometheus which learners (service_namespace, see workshop/learners.py) sent
telemetry in the last 15 minutes, then runs the self-checks of workshop/check.py for
each of them, limited to their telemetry, and prints a table: one row per learner, one
column per section, a tick when all its checks pass, else how many of them do. Section
0 has no telemetry of its own, so it has no column. PROMETHEUS_URL as for the checks.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import requests

from workshop import learners
from workshop.backends import Prometheus
from workshop.check import RECENT_MINUTES, SECTIONS, arrived, for_learner, marks, platform_urls

# The sections whose telemetry Prometheus holds: the others only ask this machine. The
# lessons on the platform itself (alerting, the collector's) are the facilitator's here.
COLUMNS = {
    number: [check for check in section.checks if check.source != "up"]
    for number, section in SECTIONS.items()
    if any(check.source != "up" for check in section.checks) and not section.on_the_platform
}
ON_THE_PLATFORM = [number for number, section in SECTIONS.items() if section.on_the_platform]


def progress(name: str, urls: dict[str, str]) -> dict[int, int]:
    """How many of each section's checks pass for one learner."""
    return {
        number: sum(arrived(for_learner(check, name), urls) for check in checks)
        for number, checks in COLUMNS.items()
    }


def table(rows: dict[str, dict[int, int]], passed: str) -> list[str]:
    """The progress as lines of text: a learner per row, a section per column."""
    width = max(len("learner"), *map(len, rows))
    lines = ["learner".ljust(width) + "".join(f"{number:>6}" for number in COLUMNS)]
    for name, counts in rows.items():
        cells = [
            passed if counts[number] == len(checks) else f"{counts[number]}/{len(checks)}"
            for number, checks in COLUMNS.items()
        ]
        lines.append(name.ljust(width) + "".join(f"{cell:>6}" for cell in cells))
    return lines


def main(out=sys.stdout) -> int:
    urls = platform_urls()
    try:
        namespaces = Prometheus(urls["prometheus"]).label_values(
            learners.LABEL, RECENT_MINUTES * 60
        )
        # Anyone on the room's network can send any namespace: show only real names.
        names = sorted(n for n in namespaces if learners.NAME.fullmatch(n))
        with ThreadPoolExecutor(max_workers=8) as pool:  # a few hundred small queries
            rows = dict(zip(names, pool.map(lambda n: progress(n, urls), names), strict=True))
    except requests.RequestException as error:
        print(f"Could not ask Prometheus at {urls['prometheus']}: {error}", file=sys.stderr)
        print("Start the platform first: ROOM=1 make stack.", file=sys.stderr)
        return 1
    if not names:
        print(
            f"No learner has sent telemetry in the last {RECENT_MINUTES} minutes. Each learner "
            "runs: OTEL_EXPORTER_OTLP_ENDPOINT=http://<this machine>:4317 LEARNER=<name> make run",
            file=out,
        )
        return 0
    passed, _ = marks(out)
    print(f"Each learner's self-checks (telemetry of the last {RECENT_MINUTES} minutes):", file=out)
    for line in table(rows, passed):
        print(line, file=out)
    print(f"{passed}: every check passes; 2/5: two of five do. Sections:", file=out)
    print(", ".join(f"{n} {SECTIONS[n].title}" for n in COLUMNS), file=out)
    print(
        f"Sections {', '.join(map(str, ON_THE_PLATFORM))} change the platform, yours in room "
        "mode: make check SECTION=<n> checks them for the whole room.",
        file=out,
    )
    left_out = len(namespaces) - len(names)
    if left_out:
        print(f"({left_out} namespaces that are not learner names are left out)", file=out)
    print("One learner's hints: LEARNER=<name> make check SECTION=<n>", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
