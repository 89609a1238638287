"""Country, subdivision and bloc codes: ISO 3166 through pycountry, blocs from data.

>>> from residency import places
>>> places.place_name("CA-QC")
'Quebec'
>>> places.country_of("CA-QC")
'CA'
>>> "IS" in places.expand("EEA")
True
>>> from datetime import date
>>> "GB" in places.expand("EU", date(2019, 6, 1)), "GB" in places.expand("EU", date(2021, 1, 1))
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import pycountry

from residency._resources import data_file
from residency._yaml import safe_load

_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_SUBDIVISION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@dataclass(frozen=True)
class Member:
    """One member of a bloc, with the days it counts as one (``from <= day < until``).

    ``law_until`` extends the days on which the bloc's law still applies to and in it
    after it left (a withdrawal agreement's transition period): rules that follow the
    bloc's law (free flow, adequacy origins, which regime governs) read that span.
    """

    code: str
    start: date | None = None
    until: date | None = None
    law_until: date | None = None

    def on(self, day: date, *, law: bool = True) -> bool:
        """Tell whether the member counts on ``day`` (with ``law``: the bloc's law applies)."""
        end = (self.law_until or self.until) if law else self.until
        return (self.start is None or self.start <= day) and (end is None or day < end)


class BlocDataError(ValueError):
    """data/jurisdictions/blocs.yaml does not follow docs/jurisdiction-data.md."""


def _member(bloc: str, entry: Any) -> Member:
    if isinstance(entry, str):
        return Member(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
        msg = f"blocs.yaml: {bloc}: a member is a code or a mapping with a code, got {entry!r}"
        raise BlocDataError(msg)
    known = {"code", "from", "until", "law_until", "source", "as_of", "confidence", "note"}
    unknown = set(entry) - known
    if unknown:
        msg = f"blocs.yaml: {bloc}: member {entry['code']}: unknown fields {sorted(unknown)}"
        raise BlocDataError(msg)
    # A dated membership is a legal fact like any other: its source, date and confidence.
    missing = [k for k in ("source", "as_of", "confidence") if not entry.get(k)]
    if missing:
        needs = ", ".join(missing)
        msg = f"blocs.yaml: {bloc}: member {entry['code']}: a dated member needs {needs}"
        raise BlocDataError(msg)
    if entry["confidence"] not in ("high", "medium", "low"):
        msg = f"blocs.yaml: {bloc}: member {entry['code']}: confidence must be high, medium or low"
        raise BlocDataError(msg)
    dates = {k: entry.get(k) for k in ("from", "until", "law_until")}
    for key, value in dates.items():
        if value is not None and not isinstance(value, date):
            msg = f"blocs.yaml: {bloc}: member {entry['code']}: {key} must be a date, got {value!r}"
            raise BlocDataError(msg)
    return Member(entry["code"], dates["from"], dates["until"], dates["law_until"])


@cache
def bloc_members() -> dict[str, tuple[Member, ...]]:
    """Answer each bloc's members with their dates (an ``includes`` bloc's members folded in)."""
    raw = safe_load(data_file("jurisdictions", "blocs.yaml").read_text(encoding="utf-8"))
    out: dict[str, tuple[Member, ...]] = {}
    for bloc in raw["blocs"]:
        code = bloc["code"]
        members = [_member(code, m) for m in bloc.get("members", [])]
        members += [Member(c) for c in bloc.get("also_within", [])]
        for included in bloc.get("includes", []):
            members += out[included]
        out[code] = tuple(members)
    return out


@cache
def blocs() -> dict[str, frozenset[str]]:
    """Answer which countries each bloc (``EU``, ``EEA``) contains today."""
    return {code: expand(code) for code in bloc_members()}


def is_bloc(code: str) -> bool:
    """Tell whether ``code`` names a bloc such as ``EEA``."""
    return code in bloc_members()


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


def expand(code: str, as_of: date | None = None, *, law: bool = True) -> frozenset[str]:
    """Return the country codes a code stands for on ``as_of`` (default today).

    A bloc stands for its members on that day; any other code for itself. With ``law``
    (the default, for legal rules) a former member still counts while the bloc's law
    applies to it (``law_until``); without it, only membership counts (contracts).
    """
    return _expand(code, as_of or date.today(), law)


@cache
def _expand(code: str, day: date, law: bool) -> frozenset[str]:
    members = bloc_members().get(code)
    if members is None:
        return frozenset({code})
    return frozenset(m.code for m in members if m.on(day, law=law))


def expand_ever(code: str) -> frozenset[str]:
    """Return every country a code has stood for on any date (a bloc's past members too)."""
    members = bloc_members().get(code)
    if members is None:
        return frozenset({code})
    return frozenset(m.code for m in members)


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
