"""Before and after figures for the hardening of issues 8 and 18, one per "Why" of each.

    python benchmarks/hardening.py                  # this tree
    python benchmarks/hardening.py --root ../old    # another checkout, for "before"
    python benchmarks/hardening.py hostile_hosts    # only the measures named

The services run in this process under waitress on free local ports (through
common/server.py where the tree has it, as `make run` serves them), offline and with
telemetry off. The misbehaving upstreams are those of harness/raw_upstreams.py. It is a
measurement, not a test: about a minute after the hardening, two before it. Another
tree is measured in a process of its own, whose PYTHONPATH puts that tree's packages
before the installed ones.
"""

import argparse
import http.client
import importlib
import importlib.util
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import waitress

import gateway
import geolocator
import iss_distance
import webapp
from harness import raw_upstreams as raw

HERE = Path(__file__).resolve().parent.parent
# Where an older tree keeps the services' packages, as its PYTHONPATH.
SERVICE_PATHS = [".", "frontend", "backend/gateway", "backend/geolocator-service",
                 "backend/iss-distance-service"]  # fmt: skip
PLACE = {"name": "Paris, France", "latitude": 48.85, "longitude": 2.35, "source": "gazetteer"}
ISS = {"distance": 1.0, "location": {"latitude": 1.0, "longitude": 2.0}, "source": "sgp4",
       "time": "2026-11-21T12:00:00+00:00", "tle_age_days": 69}  # fmt: skip


class Tree:
    """The services of the tree being measured, served on free local ports."""

    def __init__(self):
        os.environ["OTEL_SDK_DISABLED"] = "true"  # never near the platform's fixed ports
        self.packages = {"gateway": gateway, "geolocator": geolocator,
                         "iss": iss_distance, "frontend": webapp}  # fmt: skip
        self.urls = {"iss": self.serve("iss", OFFLINE=True),
                     "geolocator": self.serve("geolocator", OFFLINE=True)}  # fmt: skip
        self.urls["gateway"] = self.gateway(self.urls["geolocator"], self.urls["iss"])
        self.urls["frontend"] = self.serve("frontend", GATEWAY_URL=self.urls["gateway"])

    def serve(self, service: str, **config) -> str:
        """Serve a new app of `service` as the tree serves it, and return its URL."""
        app = self.packages[service].create_app(config)
        if importlib.util.find_spec("common.server"):
            server = importlib.import_module("common.server").create_server(app, "127.0.0.1:0")
        else:  # before the hardening: waitress with its defaults
            server = waitress.create_server(app, listen="127.0.0.1:0")
        threading.Thread(target=server.run, daemon=True).start()
        return f"http://127.0.0.1:{server.effective_port}"

    def gateway(self, geolocator_url: str, iss_url: str) -> str:
        return self.serve("gateway", GEOLOCATOR_URL=geolocator_url, ISS_DISTANCE_URL=iss_url)


def timed(call):
    """(what call() returned, or the name of what it raised; the seconds it took)."""
    started = time.monotonic()
    try:
        result = call()
    except OSError as error:  # requests' exceptions included
        result = type(error).__name__
    return result, time.monotonic() - started


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def with_peak_memory(call):
    """timed(call), and the highest memory use of this process while it ran."""
    peak, done = [rss_mb()], threading.Event()

    def sample():
        while not done.wait(0.02):
            peak.append(rss_mb())

    threading.Thread(target=sample, daemon=True).start()
    try:
        return timed(call), max(peak)
    finally:
        done.set()


def locate(url: str):
    return lambda: requests.get(f"{url}/?location=Paris", timeout=60)


def submit(url: str):
    return lambda: requests.post(url, data={"location": "Paris"}, timeout=60)


def outcome(response, seconds: float) -> str:
    status = getattr(response, "status_code", response)
    return f"{status} after {seconds:.1f} s"


def shown_error(page) -> str:
    text = getattr(page, "text", "")
    start = text.find('role="alert">') + len('role="alert">')
    return text[start : text.find("<", start)] if start >= len('role="alert">') else "-"


def show(what: str, figure) -> None:
    print(f"  {what:<52} {figure}", flush=True)


def deadlines(tree: Tree) -> None:
    print("Deadlines")
    with raw.raw_upstream(raw.trickles) as iss_url:
        gateway = tree.gateway(tree.urls["geolocator"], iss_url)
        show("gateway; ISS service trickles 1000 B, 1 B/50 ms", outcome(*timed(locate(gateway))))
    slow_place, slow_iss = raw.answers_json_after(9, PLACE), raw.answers_json_after(9, ISS)
    with raw.raw_upstream(slow_place) as place_url, raw.raw_upstream(slow_iss) as iss_url:
        gateway = tree.gateway(place_url, iss_url)
        frontend = tree.serve("frontend", GATEWAY_URL=gateway)
        with ThreadPoolExecutor(2) as pool:
            direct = pool.submit(timed, locate(gateway))
            page, seconds = pool.submit(timed, submit(frontend)).result()
        show("gateway; both upstreams answer after 9 s", outcome(*direct.result()))
        show("frontend; the same", f"{outcome(page, seconds)}: {shown_error(page)}")


def online_sources(tree: Tree) -> None:
    print("Online sources, no internet: four concurrent first requests (ms)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refusing = f"127.0.0.1:{sock.getsockname()[1]}"
    geolocator = tree.serve("geolocator", NOMINATIM_DOMAIN=refusing, NOMINATIM_SCHEME="http")
    places = [lambda place=place: requests.get(geolocator, params={"location": place}, timeout=30)
              for place in ["Paris", "Rome", "Oslo", "Lima"]]  # fmt: skip
    show("geolocator; Nominatim refuses connections", concurrent_ms(places))
    with raw.raw_upstream(raw.never_answers) as api_url:
        iss = tree.serve("iss", ISS_API_URL=api_url)
        request = lambda: requests.get(f"{iss}/?latitude=1&longitude=2", timeout=30)  # noqa: E731
        show("ISS service; the position API never answers", concurrent_ms([request] * 4))


def concurrent_ms(calls) -> list[int]:
    with ThreadPoolExecutor(len(calls)) as pool:
        runs = list(pool.map(timed, calls))
    return sorted(round(seconds * 1000) for _, seconds in runs)


def error_formats(tree: Tree) -> None:
    print("Error formats: answers in the service's own format")
    for name, url in tree.urls.items():
        answers = [
            requests.get(f"{url}/nowhere", timeout=5),
            requests.put(url, timeout=5),
            requests.get(url, headers={"X-Big": "a" * 300_000}, timeout=5),
            requests.get(url, params={"q": "x" * 20_000}, timeout=5),
            requests.post(url, data={"location": "x" * 200_000}, timeout=5),
        ]
        own = sum(in_own_format(name, answer) for answer in answers)
        statuses = [answer.status_code for answer in answers]
        show(f"{name}: unknown path, method, headers, query, body", f"{own}/5 {statuses}")


def in_own_format(service: str, answer: requests.Response) -> bool:
    """The frontend's own page, with its error in place; a backend's {"error": ...}."""
    if service == "frontend":
        return 'role="alert"' in answer.text
    try:
        return list(answer.json()) == ["error"]
    except ValueError:
        return False


def upstream_answers(tree: Tree) -> None:
    print("Upstream answers")
    for status, message in [(418, "I'm a teapot"), (401, "Log in first")]:
        with raw.raw_upstream(raw.answers_json(status, {"error": message})) as iss_url:
            answer = requests.get(
                f"{tree.gateway(tree.urls['geolocator'], iss_url)}/?location=Paris"
            )
            show(
                f"gateway; ISS service answers {status}",
                f"{answer.status_code} {answer.text.strip()}",
            )
    nan_distance = {"place": PLACE, "iss": ISS | {"distance": "NaN"}}
    with raw.raw_upstream(raw.answers(200, json.dumps(nan_distance).encode())) as gateway:
        page = submit(tree.serve("frontend", GATEWAY_URL=gateway))()
        shows_nan = "nan km" in page.text
        show('frontend; gateway says distance "NaN"', f"{page.status_code}, 'nan km': {shows_nan}")
    with raw.raw_upstream(raw.sends_a_huge_body) as iss_url:
        before = rss_mb()
        answer, peak = with_peak_memory(locate(tree.gateway(tree.urls["geolocator"], iss_url)))
        show(
            "gateway; ISS service sends 200 MB",
            f"{outcome(*answer)}, {before:.0f} -> {peak:.0f} MB",
        )


def strict_input(tree: Tree) -> None:
    print("Input")
    for latitude in ["4_5", "٤٥", "45"]:
        params = {"latitude": latitude, "longitude": "2"}
        answer = requests.get(tree.urls["iss"], params=params, timeout=5)
        show(f"ISS service; latitude={latitude}", answer.status_code)


def sizes(tree: Tree) -> None:
    print("Sizes")
    body, form = (
        b"location=" + b"x" * 100_000_000,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    before = rss_mb()
    answer, peak = with_peak_memory(
        lambda: requests.post(tree.urls["frontend"], data=body, headers=form, timeout=60)
    )
    show("frontend; 100 MB form body", f"{outcome(*answer)}, {before:.0f} -> {peak:.0f} MB")


def security_headers(tree: Tree) -> None:
    print("Security headers")
    frontend = tree.urls["frontend"]
    headers = requests.get(frontend, timeout=5).headers
    names = ["Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"]
    show("frontend; CSP, nosniff, Referrer-Policy", f"{sum(n in headers for n in names)}/3")
    redirect = requests.get(f"{frontend}/static//style.css", headers={"Host": "evil.example"},
                            allow_redirects=False, timeout=5)  # fmt: skip
    location = redirect.headers.get("Location")
    show("/static//style.css, Host: evil.example", f"{redirect.status_code} {location}")


def connections(tree: Tree) -> None:
    print("Connections")
    frontend = tree.urls["frontend"]
    address = ("127.0.0.1", int(frontend.rsplit(":", 1)[1]))
    idle = [socket.create_connection(address) for _ in range(110)]
    for sock in idle:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    answer = timed(lambda: requests.get(frontend, timeout=10))
    show("new client; 110 idle half-sent connections", outcome(*answer))
    for sock in idle:
        sock.close()
    with socket.create_connection(address, timeout=60) as sock:  # gives up after 60 s
        sock.sendall(b"GET / HTTP/1.1\nHost: x\n\n")
        _, seconds = timed(lambda: sock.recv(65536))
    show("a bare-LF request is held open", f"{seconds:.1f} s")


def raw_exchange(url: str, data: bytes) -> bytes:
    """Send raw bytes; the answer until the server closes, or what came before a reset."""
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def status_of(answer: bytes) -> str:
    return answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "reset"


def hostile_hosts(tree: Tree) -> None:
    print("Host headers (issue 18): statuses for 64-char label, a..b, '.', xn--a")
    for name, url in tree.urls.items():
        statuses = [
            status_of(raw_exchange(url, b"GET /healthz HTTP/1.1\r\nHost: %s\r\n"
                                        b"Connection: close\r\n\r\n" % host))
            for host in [b"a" * 64, b"a..b", b".", b"xn--a"]
        ]  # fmt: skip
        show(name, statuses)


def health_under_a_stalled_upstream(tree: Tree) -> None:
    print("Health, with the geolocator stalled and 8 form submissions waiting (issue 18)")
    with raw.raw_upstream(raw.never_answers) as place_url:
        gateway = tree.gateway(place_url, tree.urls["iss"])
        frontend = tree.serve("frontend", GATEWAY_URL=gateway, REQUEST_BUDGET_SECONDS=4)
        with ThreadPoolExecutor(8) as pool:
            pages = [pool.submit(submit(frontend)) for _ in range(8)]
            time.sleep(0.5)
            for name, url in [("frontend", frontend), ("gateway", gateway)]:
                _, seconds = timed(lambda url=url: requests.get(f"{url}/healthz", timeout=30))
                show(f"{name} /healthz", f"{seconds * 1000:.0f} ms")
            _, seconds = timed(lambda: requests.get(frontend, timeout=30))
            show("frontend form (GET /)", f"{seconds * 1000:.0f} ms")
            statuses = sorted(page.result().status_code for page in pages)
        show("the 8 submissions", statuses)


def edge_headers(tree: Tree) -> None:
    print("Headers from a public client, and server-made errors (issue 18)")
    frontend = tree.urls["frontend"]
    answer, seconds = timed(
        lambda: requests.post(
            frontend, data={"location": "Paris"}, headers={"X-Request-Budget-Ms": "0"}, timeout=30
        )  # fmt: skip
    )
    show("frontend; X-Request-Budget-Ms: 0", f"{outcome(answer, seconds)}: {shown_error(answer)}")
    names = ["Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
             "Referrer-Policy"]  # fmt: skip
    for name, url in tree.urls.items():
        answers = [requests.get(url, timeout=5),
                   requests.get(url, headers={"X-Big": "a" * 300_000}, timeout=5)]  # fmt: skip
        counts = [sum(header in answer.headers for header in names) for answer in answers]
        show(f"{name}: security headers on a 200 / 431 (of 4)", counts)


def refused_body(tree: Tree) -> None:
    print("A 20 MB form from http.client, which sends no Expect: 100-continue (issue 18)")
    host, port = tree.urls["frontend"].removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", "/", body=b"x" * 20_000_000)
        result = str(connection.getresponse().status)
    except OSError as error:
        result = type(error).__name__
    finally:
        connection.close()
    show("frontend", result)


def strict_framing(tree: Tree) -> None:
    print("Framing and coordinates (issue 18)")
    iss = tree.urls["iss"]
    for what, request in [
        ("Transfer-Encoding: gzip, chunked", b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        ("Content-Length with Transfer-Encoding",
         b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ]:  # fmt: skip
        head = b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        show(f"ISS service; {what}", status_of(raw_exchange(iss, head + request)))
    answer = raw_exchange(iss, b"GET / HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n")
    show("ISS service; HTTP/9.9", status_of(answer))
    for latitude in ["1e-400", "45.", ".5", "00045", "\u200345"]:
        answer = requests.get(iss, params={"latitude": latitude, "longitude": "2"}, timeout=5)
        show(f"ISS service; latitude={latitude!r}", answer.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE, help="the tree to measure")
    parser.add_argument("only", nargs="*", help="run only these measures, by name")
    arguments = parser.parse_args()
    root = arguments.root.resolve()
    if root != HERE:
        path = os.pathsep.join(str(root / folder) for folder in SERVICE_PATHS)
        command = [sys.executable, __file__, *arguments.only]
        sys.exit(subprocess.run(command, env={**os.environ, "PYTHONPATH": path}).returncode)
    tree = Tree()
    for measure in [online_sources, deadlines, error_formats, upstream_answers, strict_input,
                    sizes, security_headers, connections, hostile_hosts,
                    health_under_a_stalled_upstream, edge_headers, refused_body,
                    strict_framing]:  # fmt: skip
        if not arguments.only or measure.__name__ in arguments.only:
            measure(tree)


if __name__ == "__main__":
    main()
