"""Submit the frontend's form at a steady rate, so that the dashboards have something to show.

    python loadgen/generate_load.py                  # 1 request a second to 127.0.0.1:8080
    python loadgen/generate_load.py --rate 5         # or RATE=5
    FRONTEND_URL=http://127.0.0.1:9080 python loadgen/generate_load.py --requests 100

Most requests name a real city. One in twenty names no place at all (the frontend
answers 404) and one in twenty leaves the field blank (400), so that the dashboards
show client errors too. Every 10 s a line says what happened; Ctrl-C, or the SIGTERM
of `docker compose stop`, stops it with a summary of the whole run.

It sends one request at a time: when the application answers more slowly than the
rate asks for, the load generator slows down with it rather than piling requests up.

Online, the services ask Nominatim and the ISS position API, which want at most one
request a second. The geolocator caches its answers, and the ISS distance service falls
back to its own orbit computation when the API refuses, but for rates above 1 it is
kinder to run the services with OFFLINE=true.

Only the standard library is used, so any Python 3.11 runs it, in or out of a container.
"""

import argparse
import http.client
import itertools
import os
import signal
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

# One round of form submissions, repeated: cities all over the world, one name that is
# no place at all, and one blank field.
PLACES = [
    "Paris", "Tokyo", "Nairobi", "Lima", "Reykjavik", "Sydney", "Toronto", "Mumbai",
    "Qwertyuiop",
    "Cairo", "Oslo", "Buenos Aires", "Cape Town", "Anchorage", "Honolulu", "Ulaanbaatar",
    "",
    "Singapore", "Mexico City", "Auckland",
]  # fmt: skip

REPORT_EVERY_SECONDS = 10
# Who is asking, in every request: the frontend's server span records it as
# user_agent.original, and the collector's tail sampling keeps only some of the
# load generator's traces, and every trace of yours (docs/11-sampling.md).
USER_AGENT = "iss-loadgen/1.0"


@dataclass
class Tally:
    """What happened to the requests of one period."""

    sent: int = 0
    ok: int = 0  # 2xx: the page with a distance
    client_errors: int = 0  # 4xx: an unknown place or a blank field
    failures: int = 0  # 5xx, a timeout, or no answer at all
    latencies: list[float] = field(default_factory=list)  # seconds, of the answered requests
    last_failure: str = ""

    def add(self, status: int | None, seconds: float, failure: str = "") -> None:
        self.sent += 1
        if status is not None:
            self.latencies.append(seconds)
        if status is not None and 200 <= status < 300:
            self.ok += 1
        elif status is not None and 400 <= status < 500:
            self.client_errors += 1
        else:
            self.failures += 1
            self.last_failure = failure or f"HTTP {status}"

    def summary(self) -> str:
        p50 = f"{statistics.median(self.latencies) * 1000:.0f} ms" if self.latencies else "-"
        line = (
            f"sent {self.sent}, ok {self.ok}, client errors {self.client_errors}, "
            f"failures {self.failures}, p50 {p50}"
        )
        return line + (f" (last failure: {self.last_failure})" if self.failures else "")


def submit(url: str, location: str, timeout: float) -> tuple[int | None, str]:
    """POST the form as a browser does. Returns the HTTP status (None if there was no
    answer) and, for a failure, what went wrong."""
    body = urllib.parse.urlencode({"location": location}).encode()
    request = urllib.request.Request(url, data=body, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status, ""
    except urllib.error.HTTPError as error:  # an answer all the same, with a 4xx or 5xx status
        return error.code, ""
    except (OSError, http.client.HTTPException) as error:  # refused, timed out, cut off
        return None, str(getattr(error, "reason", error)) or type(error).__name__


def generate_load(
    url: str,
    rate: float,
    timeout: float,
    requests: int | None = None,
    report_every: float = REPORT_EVERY_SECONDS,
    report: Callable[[str], None] = print,
) -> Tally:
    """Submit the form `rate` times a second, `requests` times or until Ctrl-C."""
    interval = 1 / rate
    locations = itertools.islice(itertools.cycle(PLACES), requests)  # endless if None
    total, period = Tally(), Tally()
    start = next_send = period_start = time.monotonic()
    try:
        for location in locations:
            time.sleep(max(0.0, next_send - time.monotonic()))
            now = time.monotonic()
            if now - period_start >= report_every:
                report(f"last {now - period_start:.0f} s: {period.summary()}")
                period, period_start = Tally(), now

            began = time.monotonic()
            status, failure = submit(url, location, timeout)
            for tally in (total, period):
                tally.add(status, time.monotonic() - began, failure)
            # Keep to the schedule, but never catch up with a burst after a slow answer.
            next_send = max(next_send + interval, time.monotonic())
    except KeyboardInterrupt:
        pass
    report(f"whole run, {time.monotonic() - start:.0f} s: {total.summary()}")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rate",
        type=float,
        default=float(os.environ.get("RATE", "1")),
        help="form submissions a second (default: $RATE, else 1)",
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("FRONTEND_URL", "http://127.0.0.1:8080"),
        help="the frontend (default: $FRONTEND_URL, else http://127.0.0.1:8080)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=20,
        help="seconds to wait for each answer; the frontend gives up on the gateway after 15",
    )
    parser.add_argument("--requests", type=int, help="stop after this many (default: never)")
    args = parser.parse_args()
    if args.rate <= 0:
        parser.error("the rate must be more than 0")

    # Treat SIGTERM (docker compose stop) like Ctrl-C: stop, and print the summary.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # Show each line at once, even when the output is a pipe or a container's log.
    sys.stdout.reconfigure(line_buffering=True)
    print(f"Submitting the form at {args.url}, {args.rate:g} a second (Ctrl-C stops)")
    generate_load(args.url, args.rate, args.timeout, args.requests)


if __name__ == "__main__":
    main()
