"""Country, subdivision and bloc codes: ISO 3166 through pycountry, blocs from data.

>>> from residency import places
>>> places.place_name("CA-QC")
'Quebec'
>>> places.country_of("CA-QC")
'CA'
>>> "IS" in places.expand("EEA")
True
"""

from __future__ import annotations

import re
from functools import cache

import pycountry

from residency._resources import data_file
from residency._yaml import safe_load

_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@cache
def blocs() -> dict[str, frozenset[str]]:
    """Answer which countries each bloc (``EU``, ``EEA``) contains."""
    raw = safe_load(data_file("jurisdictions", "blocs.yaml").read_text(encoding="utf-8"))
    out: dict[str, frozenset[str]] = {}
    for bloc in raw["blocs"]:
        members = set(bloc.get("members", [])) | set(bloc.get("also_within", []))
        for included in bloc.get("includes", []):
            members |= out[included]
        out[bloc["code"]] = frozenset(members)
    return out


def is_bloc(code: str) -> bool:
    """Tell whether ``code`` names a bloc such as ``EEA``."""
    return code in blocs()


def is_country(code: str) -> bool:
    """Tell whether ``code`` is an ISO 3166-1 alpha-2 country code."""
    return bool(_ALPHA2.match(code)) and pycountry.countries.get(alpha_2=code) is not None


def is_subdivision(code: str) -> bool:
    """Tell whether ``code`` is an ISO 3166-2 subdivision code such as ``US-CA``."""
    return bool(_SUBDIVISION.match(code)) and pycountry.subdivisions.get(code=code) is not None


def place_problem(code: object, *, allow_blocs: bool = False) -> str | None:
    """Say what is wrong with a place code, or return None when it is valid."""
    if not isinstance(code, str):
        return f"expected an ISO 3166 code as text, got {code!r}"
    if allow_blocs and is_bloc(code):
        return None
    if is_country(code) or is_subdivision(code):
        return None
    wanted = "an ISO 3166-1 alpha-2 country code (e.g. DE) or ISO 3166-2 subdivision (e.g. CA-QC)"
    if allow_blocs:
        wanted += f", or a bloc ({', '.join(sorted(blocs()))})"
    hint = _hint(code)
    return f"unknown code {code!r}: expected {wanted}{hint}"


def _hint(code: str) -> str:
    upper = code.strip().upper()
    if upper != code and (is_country(upper) or is_subdivision(upper)):
        return f"; did you mean {upper!r}?"
    if code.upper() == "UK":
        return "; the United Kingdom is 'GB'"
    try:
        match = pycountry.countries.lookup(code.strip())
    except LookupError:
        return ""
    return f"; did you mean {match.alpha_2!r} ({match.name})?"


def country_of(code: str) -> str:
    """Return the ISO 3166-1 country of a country or subdivision code (``US-CA`` -> ``US``)."""
    return code.split("-", 1)[0]


def expand(code: str) -> frozenset[str]:
    """Return the country codes a code stands for: a bloc's members, else the code itself."""
    return blocs().get(code, frozenset({code}))


def within(place: str, allowed: frozenset[str] | set[str]) -> bool:
    """Tell whether ``place`` (country or subdivision) lies inside the expanded ``allowed`` set."""
    return place in allowed or country_of(place) in allowed


@cache
def place_name(code: str) -> str:
    """Return a readable name for a country, subdivision or bloc code."""
    if is_bloc(code):
        raw = safe_load(data_file("jurisdictions", "blocs.yaml").read_text(encoding="utf-8"))
        return next(b["name"] for b in raw["blocs"] if b["code"] == code)
    if "-" in code:
        sub = pycountry.subdivisions.get(code=code)
        return sub.name if sub is not None else code
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
