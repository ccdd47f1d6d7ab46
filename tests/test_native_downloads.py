"""A released jar (Zipkin's server) comes into the cache only if its SHA-256 is the pinned one.

native/build_backends.py downloads it from Maven Central; here a local server stands in.
"""

import hashlib
import http.server
import threading

import pytest

from native import build_backends

JAR = b"PK\x03\x04 not really a jar, but bytes with a digest"


@pytest.fixture
def served_jar():
    """The URL of JAR on a local HTTP server."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            self.send_response(200)
            self.send_header("Content-Length", str(len(JAR)))
            self.end_headers()
            self.wfile.write(JAR)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/zipkin-server-0.0.1-exec.jar"
    server.shutdown()


def test_a_jar_with_the_pinned_digest_is_cached(tmp_path, monkeypatch, served_jar):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    jar = build_backends.Jar("zipkin", "0.0.1", served_jar, hashlib.sha256(JAR).hexdigest())

    assert build_backends.build(jar).read_bytes() == JAR
    assert jar.binary.parent == tmp_path / "otel-workshop" / "zipkin-0.0.1"


def test_a_jar_with_another_digest_is_refused_and_not_cached(tmp_path, monkeypatch, served_jar):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    jar = build_backends.Jar("zipkin", "0.0.1", served_jar, hashlib.sha256(b"other").hexdigest())

    with pytest.raises(SystemExit, match="refusing"):
        build_backends.build(jar)
    assert not jar.binary.exists()
