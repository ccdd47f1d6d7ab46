"""Download the ISS's latest TLE from CelesTrak into data/iss.tle (`make update-tle`).

SGP4 drifts by kilometres a day from a TLE's epoch, so the offline position is only
as good as the TLE is fresh. Run this before a workshop, while you are online.
"""

import argparse
import sys
from pathlib import Path

import requests

from iss_distance.orbit import DEFAULT_TLE_PATH, Orbit, OrbitError

CELESTRAK_URL = "https://celestrak.org/NORAD/elements/gp.php?CATNR=25544&FORMAT=TLE"


def valid_checksum(line: str) -> bool:
    """A TLE line ends with the sum of its digits (a minus counts 1), modulo 10."""
    total = sum(int(c) if c.isdigit() else c == "-" for c in line[:68])
    return len(line) == 69 and line[68] == str(total % 10)


def update_tle(
    url: str = CELESTRAK_URL, path: Path = DEFAULT_TLE_PATH, timeout: float = 10
) -> Orbit:
    """Fetch, check and save a TLE. Raises OrbitError and leaves the file alone if it is bad."""
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    text = response.text.strip()
    lines = [line.rstrip() for line in text.splitlines()]
    if len(lines) < 2 or not all(valid_checksum(line) for line in lines[-2:]):
        raise OrbitError("The download is not a TLE with valid checksums.")
    orbit = Orbit.from_tle(text)
    path.write_text(text + "\n")
    return orbit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=CELESTRAK_URL)
    arguments = parser.parse_args()
    try:
        orbit = update_tle(arguments.url)
    except (requests.RequestException, OrbitError) as error:
        sys.exit(f"Could not update the TLE: {error}")
    print(f"Saved a TLE with epoch {orbit.epoch:%Y-%m-%d %H:%M} UTC to {DEFAULT_TLE_PATH}")


if __name__ == "__main__":
    main()
