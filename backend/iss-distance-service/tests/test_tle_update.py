"""`make update-tle`: only a real, well-formed TLE replaces the bundled one."""

import pytest
from flask import Flask

from iss_distance.orbit import DEFAULT_TLE_PATH, OrbitError
from iss_distance.tle_update import update_tle, valid_checksum

GOOD = DEFAULT_TLE_PATH.read_text()


def celestrak(text: str) -> Flask:
    app = Flask("fake_celestrak")
    app.add_url_rule("/", "tle", lambda: text)
    return app


def test_a_valid_tle_is_saved(serve, tmp_path):
    path = tmp_path / "iss.tle"

    orbit = update_tle(serve(celestrak(GOOD)), path)

    assert path.read_text() == GOOD
    assert orbit.epoch.year == 2026


@pytest.mark.parametrize(
    "text",
    [
        "<html>Service unavailable</html>",
        GOOD.replace("9993", "9994"),  # a wrong checksum
        GOOD.splitlines()[0],
    ],
)
def test_anything_else_leaves_the_file_alone(serve, tmp_path, text):
    path = tmp_path / "iss.tle"
    path.write_text("old")

    with pytest.raises(OrbitError):
        update_tle(serve(celestrak(text)), path)

    assert path.read_text() == "old"


def test_checksums_of_the_bundled_tle():
    _name, line1, line2 = GOOD.splitlines()
    assert valid_checksum(line1) and valid_checksum(line2)
    assert not valid_checksum(line1[:-1] + "0")
