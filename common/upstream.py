"""Calling another service: within the request's deadline, and failures as clear errors."""

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator

import requests
import urllib3

from common.contracts import ContractError
from common.deadline import Deadline

# No answer of our services comes near this; a bigger one is broken, not read whole.
MAX_ANSWER_BYTES = 64 * 1024
READ_BYTES = 16 * 1024

# The upstream statuses that mean "bad input" and say so to the user; and 502, 503 and
# 504, whose messages name the dependency that failed, further down. Anything else
# becomes our own 502.
PASSED_ON = frozenset({400, 404, 502, 503, 504})
MAX_PASSED_ON_MESSAGE = 300

# At most this many calls to one upstream wait at once; one more is refused at once
# with a 503. So a stalled upstream holds at most this many of the server's request
# threads (common/server.py has 4), and the others still answer everything else.
MAX_CALLS_IN_FLIGHT = 3

# One session for the process: it keeps connections to each upstream open and reuses
# them, rather than opening a new TCP connection for every call. The server's threads
# share it: its connection pool is thread-safe, and no upstream sets a cookie.
_session = requests.Session()
_in_flight: dict[str, threading.BoundedSemaphore] = {}  # by upstream URL


class UpstreamError(Exception):
    """Another service failed us. `status` is what we should answer in turn.

    `error_type` names the failure in a few words that telemetry can group by (the
    error.type attribute): the exception's class, or the upstream's HTTP status.
    """

    def __init__(self, status: int, message: str, error_type: str = "UpstreamError"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type


def too_slow(service: str, error_type: str = "Timeout") -> UpstreamError:
    return UpstreamError(504, f"The {service} did not answer in time.", error_type)


def too_busy(service: str) -> UpstreamError:
    message = f"The {service} is busy with other requests. Try again in a moment."
    return UpstreamError(503, message, "TooManyCalls")


def get_json(
    service: str,
    url: str,
    params: dict,
    deadline: Deadline,
    contract: Callable[[object], dict],
) -> dict:
    """GET a JSON answer from `service` before the deadline, or raise UpstreamError.

    `contract` checks the answer (see common.contracts); a broken one is a 502.

    The answer is streamed so that the deadline holds for the whole exchange: a
    `timeout` alone bounds each wait for a byte, and an upstream that trickles a byte
    at a time would never trip it.
    """
    seconds = deadline.for_call()
    if seconds <= 0:
        raise too_slow(service)
    ends_at = time.monotonic() + seconds
    try:
        with (
            one_of_few_calls(service, url),
            _session.get(
                url, params=params, headers=deadline.header_for_call(), timeout=seconds, stream=True
            ) as response,
        ):
            body = read_bounded(response, ends_at, service)
    # Reading the streamed body raises urllib3's exceptions, not requests' wrappers.
    except (requests.Timeout, urllib3.exceptions.TimeoutError) as error:
        raise too_slow(service, type(error).__name__) from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
        message = f"The {service} is unreachable."
        raise UpstreamError(502, message, type(error).__name__) from None

    status = response.status_code
    if status in PASSED_ON:
        raise UpstreamError(status, _error_message(body, service, status), str(status))
    if status != 200:
        raise UpstreamError(502, f"The {service} failed (HTTP {status}).", str(status))
    try:
        answer = json.loads(body)
    except ValueError:
        message = f"The {service} sent an answer that is not JSON."
        raise UpstreamError(502, message, "InvalidJSON") from None
    try:
        return contract(answer)
    except ContractError:
        message = f"The {service} sent an invalid answer."
        raise UpstreamError(502, message, "ContractError") from None


@contextlib.contextmanager
def one_of_few_calls(service: str, url: str) -> Iterator[None]:
    """Hold one of the MAX_CALLS_IN_FLIGHT places for calls to this upstream, or raise
    a 503 at once: never queue behind calls that are already waiting."""
    places = _in_flight.setdefault(url, threading.BoundedSemaphore(MAX_CALLS_IN_FLIGHT))
    if not places.acquire(blocking=False):
        raise too_busy(service)
    try:
        yield
    finally:
        places.release()


def read_bounded(response: requests.Response, ends_at: float, service: str) -> bytes:
    """The body, read until `ends_at` at most and never beyond MAX_ANSWER_BYTES."""
    body = bytearray()
    while True:
        left = ends_at - time.monotonic()
        if left <= 0:
            raise too_slow(service)
        # Each read waits at most what is left; read1 returns whatever has arrived.
        if response.raw.connection and response.raw.connection.sock:
            response.raw.connection.sock.settimeout(left)
        chunk = response.raw.read1(READ_BYTES)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            message = f"The {service} sent an answer that is too big."
            raise UpstreamError(502, message, "AnswerTooBig")


def _error_message(body: bytes, service: str, status: int) -> str:
    """The upstream's own message if it is a short text, else one of ours."""
    try:
        message = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        message = None
    if isinstance(message, str) and 0 < len(message) <= MAX_PASSED_ON_MESSAGE:
        return message
    if status >= 500:
        return f"The {service} failed (HTTP {status})."
    return f"The {service} could not answer."
