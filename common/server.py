"""Serve a service with waitress, with limits set for a workshop laptop.

    python -m common.server geolocator-service               # on 127.0.0.1:8082
    python -m common.server --host=0.0.0.0 geolocator-service   # as in its container

The port is the service table's (common/services.py), or its <NAME>_PORT variable's,
such as GEOLOCATOR_SERVICE_PORT=9082. Every service runs this way (`make run`, the
Dockerfiles), so these settings are the one place where the server's limits, timeouts
and HTTP strictness are chosen.
"""

import argparse
import importlib
import logging
import socket
import sys
import time

import waitress
from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented
from waitress.task import ErrorTask, ThreadedTaskDispatcher
from waitress.utilities import Error

from common import settings
from common.http import MAX_BODY_BYTES, MAX_HEADER_BYTES, error_response
from common.security import SECURITY_HEADERS
from common.services import HEALTH_PATH, SERVICES, service
from common.tuning import tune_after_start_up

SETTINGS = {
    # Request threads: a request that waits for an upstream holds one. (Health checks
    # have a thread of their own; see HealthChecksApart.)
    "threads": 4,
    # Drop a connection that has been idle, or stuck half-sent, for 5 s (default 120 s).
    # A browser opens a new one when it needs it; a stuck client no longer holds one.
    "channel_timeout": 5,
    # Look for such connections every second (default 30 s), so that 5 s means 5 s.
    "cleanup_interval": 1,
    # An idle connection costs waitress a socket, not a thread. Allow many (default
    # 100), so that a burst of idle ones cannot lock the next user out before they are
    # dropped. Stays well under a laptop's usual limit of 1024 open files.
    "connection_limit": 500,
    # Refused before the request reaches the application; see AppErrorTask.
    "max_request_header_size": MAX_HEADER_BYTES,
    "max_request_body_size": MAX_BODY_BYTES,
}

# After refusing a request, keep reading (and discarding) what the client still sends
# for at most this long before closing; see AppChannel.
LINGER_SECONDS = 2


def create_server(app: Flask, listen: str):
    server = waitress.create_server(app, listen=listen, **SETTINGS)
    # One listening address gives one server, whose connections use this class.
    server.channel_class = AppChannel
    server.flask_app = app  # for AppErrorTask: `server.application` is wrapped in middleware
    server.task_dispatcher = HealthChecksApart(server.task_dispatcher)
    return server


class UnsupportedVersionError(Error):
    code = 505
    reason = "HTTP Version Not Supported"


class StrictRequestParser(HTTPRequestParser):
    """Waitress's parser, stricter about how a request says where its body ends.

    A request whose framing two servers could read differently (Content-Length and
    Transfer-Encoding together, a coding other than chunked) is how requests are
    smuggled past a proxy: refuse it with a 400. Only HTTP/1.0 and 1.1 are spoken here.
    """

    def parse_header(self, header_plus):
        try:
            super().parse_header(header_plus)
        except TransferEncodingNotImplemented:
            raise ParsingError("Transfer-Encoding other than chunked") from None
        if self.version not in {"1.0", "1.1"}:
            self.error = UnsupportedVersionError(f"HTTP version {self.version!r}")
            self.body_rcv = None  # read no body: the request is refused
            self.content_length = 0
            return
        # HTTP/1.1 takes Transfer-Encoding out of the headers; HTTP/1.0 leaves it in.
        if "TRANSFER_ENCODING" in self.headers:
            raise ParsingError("Transfer-Encoding in an HTTP/1.0 request")
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding together")


class AppErrorTask(ErrorTask):
    """Answer what waitress refuses itself (malformed requests, headers or a body too
    big) through the application's own error handlers, so it is in the service's
    format: JSON for the backends, the page for the frontend; with the security
    headers, as every answer."""

    def execute(self):
        response = error_response(self.channel.server.flask_app, self.request.error.code)
        response.headers.update(SECURITY_HEADERS)
        body = response.get_data()
        self.status = response.status
        self.response_headers.extend(
            (name, value) for name, value in response.headers if name != "Content-Length"
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class AppChannel(HTTPChannel):
    """Waitress's connection, with a strict parser, errors in the service's format, and
    a lingering close.

    A server that answers 413 before reading a big body, then closes at once, has
    unread data in its socket: the kernel answers with a reset, and a client still
    sending (Python's http.client, browsers) sees "connection reset", never the 413.
    So, when the server closes after an answer, it first sends the end of its stream,
    then reads and discards what the client still sends, for LINGER_SECONDS at most.
    """

    error_task_class = AppErrorTask
    parser_class = StrictRequestParser
    lingering = False
    linger_until = None  # set once the answer has been sent

    def handle_write(self):
        if self.close_when_flushed and self.connected and not self.lingering:
            self.close_when_flushed, self.lingering = False, True
        super().handle_write()
        sent = self.connected and not self.total_outbufs_len
        if self.lingering and self.linger_until is None and sent:
            self.linger_until = time.monotonic() + LINGER_SECONDS
            try:
                self.socket.shutdown(socket.SHUT_WR)  # the answer is complete
            except OSError:
                self.will_close = True

    def readable(self):
        if self.lingering:
            return self.linger_until is not None and not self.will_close
        return super().readable()

    def handle_read(self):
        if not self.lingering:
            return super().handle_read()
        try:
            data = self.recv(self.adj.recv_bytes)  # closes the channel at the client's end
        except OSError:
            data = None
        if data is None or (data and time.monotonic() > self.linger_until):
            self.handle_close()
        # What is read while lingering is not activity: a client that sends nothing
        # more is closed by the idle-connection cleanup, channel_timeout after the answer.


class HealthChecksApart:
    """Waitress's task queue, with a thread of its own for health checks.

    Every request holds one of the SETTINGS["threads"] request threads. With all of
    them waiting for a slow upstream, a health check queued behind them would wait as
    long, and Docker would call a working service unhealthy. Health checks answer from
    memory, so one thread serves them all, and never waits behind a request.
    """

    def __init__(self, requests: ThreadedTaskDispatcher):
        self.requests = requests
        self.health_checks = ThreadedTaskDispatcher()
        self.health_checks.set_thread_count(1)

    def add_task(self, channel):
        request = channel.requests[0]
        is_health_check = (
            request.error is None and request.command in {"GET", "HEAD"}
            and request.path == HEALTH_PATH
        )  # fmt: skip
        (self.health_checks if is_health_check else self.requests).add_task(channel)

    def set_thread_count(self, count: int) -> None:
        self.requests.set_thread_count(count)

    def shutdown(self, *args, **kwargs) -> bool:
        self.health_checks.shutdown(*args, **kwargs)
        return self.requests.shutdown(*args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    parser.add_argument("service", choices=[s.name for s in SERVICES])
    arguments = parser.parse_args()
    try:
        port = settings.port(arguments.service)
        app = importlib.import_module(service(arguments.service).package).create_app()
    except settings.SettingError as error:
        sys.exit(f"{arguments.service}: {error}")  # no traceback: the message says it all
    server = create_server(app, f"{arguments.host}:{port}")
    tune_after_start_up()  # garbage collection kept off what start-up built (common/tuning.py)
    logging.basicConfig()  # as waitress.serve() does; a no-op once telemetry set logging up
    server.print_listen("Serving on http://{}:{}")
    server.run()


if __name__ == "__main__":
    main()
