"""The public API that says where the ISS is now, and the checks on its answers."""

from datetime import UTC, datetime

from common.contracts import check_number, check_point
from common.deadline import Deadline
from common.upstream import UpstreamError, get_json

DEFAULT_API_URL = "https://api.wheretheiss.at/v1/satellites/25544"
LATEST_TIMESTAMP = 4_102_444_800  # 2100-01-01, in Unix seconds


class IssApiError(Exception):
    """The ISS position API failed; `error_type` says how, in a few words."""

    def __init__(self, message: str, error_type: str):
        super().__init__(message)
        self.error_type = error_type


def fetch_from_api(url: str, deadline: Deadline) -> tuple[float, float, datetime]:
    """Ask the public API where the ISS is: its latitude, longitude and the time of the
    answer. Raises IssApiError."""
    try:
        data = get_json("ISS position API", url, {}, deadline, check_api_answer)
    except UpstreamError as error:
        raise IssApiError(f"{error} ({url})", error.error_type) from error
    return data["latitude"], data["longitude"], datetime.fromtimestamp(data["timestamp"], UTC)


def check_api_answer(answer: object) -> dict:
    """{"latitude": .., "longitude": .., "timestamp": ..}, all finite numbers in range."""
    check_point(answer)
    check_number(answer.get("timestamp"), 0, LATEST_TIMESTAMP, "timestamp")
    return answer
