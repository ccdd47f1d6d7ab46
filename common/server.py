"""Serve a service with waitress, with limits set for a workshop laptop.

    python -m common.server --listen=127.0.0.1:8082 geolocator:create_app

Every service runs this way (`make run`, the Dockerfiles), so these settings are the
one place where the server's limits and timeouts are chosen.
"""

import argparse
import importlib
import logging

import waitress
from flask import Flask, Response
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask
from werkzeug.exceptions import InternalServerError, default_exceptions

from common.http import MAX_BODY_BYTES, MAX_HEADER_BYTES

SETTINGS = {
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


def create_server(app: Flask, listen: str):
    server = waitress.create_server(app, listen=listen, **SETTINGS)
    # One listening address gives one server, whose connections use this class.
    server.channel_class = AppErrorChannel
    server.flask_app = app  # for AppErrorTask: `server.application` is wrapped in middleware
    return server


class AppErrorTask(ErrorTask):
    """Answer what waitress refuses itself (malformed requests, headers or a body too
    big) through the application's own error handlers, so it is in the service's
    format: JSON for the backends, the page for the frontend."""

    def execute(self):
        response = error_response(self.channel.server.flask_app, self.request.error.code)
        body = response.get_data()
        self.status = response.status
        self.response_headers.extend(
            (name, value) for name, value in response.headers if name != "Content-Length"
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class AppErrorChannel(HTTPChannel):
    error_task_class = AppErrorTask


def error_response(app: Flask, code: int) -> Response:
    """The application's answer to an HTTP error, outside of any request."""
    error = default_exceptions.get(code, InternalServerError)()
    with app.test_request_context():
        return app.make_response(app.handle_user_exception(error))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="host:port")
    parser.add_argument("factory", help="module:function that returns the Flask app")
    arguments = parser.parse_args()
    module, _, function = arguments.factory.partition(":")
    app = getattr(importlib.import_module(module), function)()
    server = create_server(app, arguments.listen)
    logging.basicConfig()  # as waitress.serve() does; a no-op once telemetry set logging up
    server.print_listen("Serving on http://{}:{}")
    server.run()


if __name__ == "__main__":
    main()
