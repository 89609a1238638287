"""Recorded transfer impact assessments, matched to the routes of the transfer register.

An inventory's optional ``assessments:`` (docs/inventory.md) records the TIAs the
organisation has done. :func:`coverage` answers, for one route and one date, which record
covers it, and which records would cover it but are past their ``review_by`` date. Which
places a regime applies to comes from data/jurisdictions; no country is special-cased.

>>> import residency
>>> from residency.model import AssessmentRecord
>>> m = residency.load()
>>> route = next(
...     r for r in m.assessment(as_of="2026-12-02").routes
...     if r.tia_required and "system:slack" in r.systems and r.regimes == ("EU-GDPR",)
... )
>>> record = AssessmentRecord(
...     id="tia-slack", system="slack", destination=route.destination, origins=["EEA"],
...     completed="2025-03-01", review_by="2026-06-30",
... )
>>> coverage([record], route, "2026-01-15").covered
True
>>> found = coverage([record], route, "2026-12-02")
>>> found.covered, [r.id for r in found.expired]
(False, ['tia-slack'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from residency import places
from residency.model import AssessmentRecord

if TYPE_CHECKING:
    from residency.routes import Route


@dataclass(frozen=True)
class Coverage:
    """Which recorded assessments cover one route on one date.

    ``covering`` holds every record in force that covers the route (the first is the one
    shown); ``expired`` the records that would cover it but whose ``review_by`` has passed.
    """

    route: str
    as_of: date
    covering: tuple[AssessmentRecord, ...]
    expired: tuple[AssessmentRecord, ...]

    @property
    def covered(self) -> bool:
        """Tell whether a record in force covers the route."""
        return bool(self.covering)

    @property
    def record(self) -> AssessmentRecord | None:
        """Return the covering record shown (the latest completed), or None."""
        return self.covering[0] if self.covering else None


def coverage(records: Iterable[AssessmentRecord], route: Route, as_of: date | str) -> Coverage:
    """Answer which of ``records`` cover ``route`` on ``as_of`` (docs/inventory.md).

    A record covers a route when its scope matches (:func:`matches`), it was completed on
    or before ``as_of``, and ``as_of`` is before its ``review_by`` (if any).
    """
    day = as_of if isinstance(as_of, date) else date.fromisoformat(as_of)
    covering: list[AssessmentRecord] = []
    expired: list[AssessmentRecord] = []
    for record in records:
        if record.completed > day or not matches(record, route, day):
            continue
        if record.review_by is not None and record.review_by <= day:
            expired.append(record)
        else:
            covering.append(record)
    return Coverage(
        route.id,
        day,
        tuple(sorted(covering, key=_latest_first, reverse=True)),
        tuple(sorted(expired, key=_latest_first, reverse=True)),
    )


def _latest_first(record: AssessmentRecord) -> tuple[date, str]:
    return record.completed, record.id


def matches(record: AssessmentRecord, route: Route, as_of: date) -> bool:
    """Tell whether a record's scope (destination, system, recipient, origins) takes in
    ``route``, whatever its dates: origins are read as they stood on ``as_of``."""
    if not places.within(route.destination, {record.destination}):
        return False
    if record.system is not None and f"system:{record.system}" not in route.systems:
        return False
    if record.recipient is not None and _same_name(record.recipient) != _same_name(route.recipient):
        return False
    if record.origins is None:
        return True
    return all(regime_within(regime, record.origins, as_of) for regime in route.regimes)


def regime_within(regime: str, origins: Iterable[str], as_of: date) -> bool:
    """Tell whether every place ``regime`` applies to on ``as_of`` lies within ``origins``.

    An unknown regime (an origin without regime data) is within nothing.

    >>> from datetime import date
    >>> regime_within("EU-GDPR", ["EEA", "GB"], date(2026, 1, 1))
    True
    >>> regime_within("EU-GDPR", ["EU"], date(2026, 1, 1))  # Norway is in the EEA, not the EU
    False
    >>> regime_within("CA-QC", ["CA"], date(2026, 1, 1))
    True
    """
    territory = _territory(regime, as_of)
    if territory is None:
        return False
    allowed = frozenset().union(*(places.expand(o, as_of) for o in origins))
    return bool(territory) and all(places.within(p, allowed) for p in territory)


def _territory(regime: str, as_of: date) -> frozenset[str] | None:
    """Answer the countries and subdivisions a regime applies to on ``as_of`` (None: unknown)."""
    from residency.jurisdictions import legal_data

    try:
        found = legal_data().regime(regime)
    except KeyError:
        return None
    return frozenset().union(*(places.expand(code, as_of) for code in found.applies_to))


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()
