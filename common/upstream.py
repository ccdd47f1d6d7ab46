"""Calling another service: a timeout on every call, and failures as clear errors."""

import requests


class UpstreamError(Exception):
    """Another service failed us. `status` is what we should answer in turn."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def get_json(service: str, url: str, params: dict, timeout: float) -> dict:
    """GET a JSON answer from `service`, or raise UpstreamError.

    The upstream's own client errors (400 bad input, 404 unknown place) are passed on
    as they are; a service that is down answers 502 and one that is too slow 504.
    """
    try:
        response = requests.get(url, params=params, timeout=timeout)
    except requests.Timeout:
        raise UpstreamError(504, f"The {service} did not answer in time.") from None
    except requests.RequestException:
        raise UpstreamError(502, f"The {service} is unreachable.") from None

    if 400 <= response.status_code < 500:
        raise UpstreamError(response.status_code, _error_message(response))
    if response.status_code != 200:
        raise UpstreamError(502, f"The {service} failed (HTTP {response.status_code}).")
    try:
        return response.json()
    except ValueError:
        raise UpstreamError(502, f"The {service} sent an answer that is not JSON.") from None


def _error_message(response: requests.Response) -> str:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
