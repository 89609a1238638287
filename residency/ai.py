"""AI-training exposure: whose data went into which vendor's models, from where, how long.

A system *trains* on customer data when its ``ai_training`` says the vendor uses it:
by default under ``opt-out`` (until the organisation's opt-out date), or after the
organisation opted in under ``opt-in``. Each subject whose data the system holds is
exposed from the later of the vendor's start and the subject's own start in the
organisation (``since``), to the opt-out date or the as-of date.

>>> import residency
>>> slack = [e for e in residency.load().ai_exposure(as_of="2026-11-26") if e.system_id == "slack"]
>>> slack[0].vendor_country, slack[0].ongoing
('US', True)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

from residency.categories import TRAIN_AI_USE, fides_key
from residency.jurisdictions import LegalData
from residency.query import Location, WhereResult

STRICT = ("opt_in_consent", "consent_or_documented_lia")


@dataclass(frozen=True)
class Exposure:
    """One subject's data used by one vendor to train AI models, with its window."""

    subject: str
    origin: str
    system_id: str
    system: str
    vendor: str
    vendor_country: str
    data: tuple[str, ...]
    default: str
    scope: str | None
    start: date | None
    until: date | None
    as_of: date
    how_to_opt_out: str | None
    requirement: str | None
    regimes: tuple[str, ...]
    position: str | None
    vendor_source: str | None
    vendor_as_of: date | None
    path: tuple[str, ...]
    opt_out: str | None = None  # how the plan lets the organisation opt out; "not_possible"

    @property
    def can_opt_out(self) -> bool:
        """Tell whether the organisation's plan allows an opt-out at all."""
        return self.opt_out != "not_possible"

    @property
    def ongoing(self) -> bool:
        """Tell whether the vendor still trains on the data on the as-of date."""
        return self.until is None or self.until > self.as_of

    @property
    def opted_out(self) -> bool:
        """Tell whether the organisation's opt-out had taken effect by the as-of date."""
        return not self.ongoing

    @property
    def days(self) -> int | None:
        """Return how many days the data was exposed up to the as-of date (None: unknown)."""
        if self.start is None:
            return None
        end = self.as_of if self.ongoing else self.until
        assert end is not None
        return max((end - self.start).days, 0)

    def as_dict(self) -> dict[str, Any]:
        """Return the exposure in the export's ``ai_training`` shape."""
        return {
            "subject": self.subject,
            "origin": self.origin,
            "system": self.system,
            "system_id": self.system_id,
            "vendor": self.vendor,
            "country": self.vendor_country,
            "data": list(self.data),
            "fides_categories": sorted({fides_key(c) or "unmapped" for c in self.data}),
            "data_use": TRAIN_AI_USE,
            "default": self.default,
            "scope": self.scope,
            "since": self.start.isoformat() if self.start else None,
            "until": self.until.isoformat() if self.until else None,
            "ongoing": self.ongoing,
            "days": self.days,
            "how_to_opt_out": self.how_to_opt_out,
            "opt_out": self.opt_out,
            "regimes": list(self.regimes),
            "requirement": self.requirement,
            "vendor_source": self.vendor_source,
            "path": list(self.path),
        }


@dataclass(frozen=True)
class SystemExposure:
    """One system's AI training across every subject whose data it trains on."""

    system_id: str
    system: str
    vendor: str
    vendor_country: str
    default: str
    scope: str | None
    since: date | None  # the earliest start recorded (None: no start recorded)
    until: date | None  # the organisation's opt-out date, the latest one (None: none)
    ongoing: bool  # the vendor still trains on some subject's data on the as-of date
    clients: tuple[str, ...]  # client ids (without ``client:``), sorted
    staff: tuple[str, ...]  # staff ids (without ``staff:``), sorted
    origins: tuple[str, ...]
    data: tuple[str, ...]

    @property
    def subjects(self) -> int:
        """Answer how many subjects' data the system trains on."""
        return len(self.clients) + len(self.staff)

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as a plain dict (JSON-ready)."""
        return {
            "system_id": self.system_id,
            "system": self.system,
            "vendor": self.vendor,
            "vendor_country": self.vendor_country,
            "default": self.default,
            "scope": self.scope,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "ongoing": self.ongoing,
            "subjects": self.subjects,
            "clients": list(self.clients),
            "staff": list(self.staff),
            "origins": list(self.origins),
            "data": list(self.data),
        }


def by_system(found: Iterable[Exposure]) -> list[SystemExposure]:
    """Sum exposures up per system: its window, whose data, from which origins, sorted.

    >>> import residency
    >>> rows = by_system(residency.load().ai_exposure(as_of="2026-11-26"))
    >>> [r.system_id for r in rows if r.system_id == "slack"], rows[0].subjects > 0
    (['slack'], True)
    """
    groups: dict[str, list[Exposure]] = {}
    for e in found:
        groups.setdefault(e.system_id, []).append(e)
    out = []
    for system_id in sorted(groups):
        group = groups[system_id]
        first = group[0]
        starts = [e.start for e in group if e.start is not None]
        untils = [e.until for e in group if e.until is not None]
        out.append(
            SystemExposure(
                system_id=system_id,
                system=first.system,
                vendor=first.vendor,
                vendor_country=first.vendor_country,
                default=first.default,
                scope=first.scope,
                since=min(starts, default=None),
                until=max(untils, default=None),
                ongoing=any(e.ongoing for e in group),
                clients=_ids(group, "client:"),
                staff=_ids(group, "staff:"),
                origins=tuple(sorted({e.origin for e in group})),
                data=tuple(sorted({c for e in group for c in e.data})),
            )
        )
    return out


def _ids(group: list[Exposure], prefix: str) -> tuple[str, ...]:
    return tuple(
        sorted({e.subject.removeprefix(prefix) for e in group if e.subject.startswith(prefix)})
    )


def exposures(
    G: nx.DiGraph, results: dict[str, WhereResult], data: LegalData, as_of: date
) -> list[Exposure]:
    """List every subject's AI-training exposure on the as-of date, sorted."""
    trained = ((r.subject, r.origin, r.by_kind("trained")) for r in results.values())
    return exposures_of(G, trained, data, as_of)


def exposures_of(
    G: nx.DiGraph,
    trained: Iterable[tuple[str, str, list[Location]]],
    data: LegalData,
    as_of: date,
) -> list[Exposure]:
    """List the exposures of (subject, origin, trained locations) triples, sorted."""
    found = []
    positions: dict[str, tuple[list[Any], str | None, str | None]] = {}
    for subject, origin, locations in trained:
        if not locations:
            continue
        if origin not in positions:
            regimes = data.regimes_for(origin, as_of=as_of)
            positions[origin] = (regimes, *_requirement(regimes))
        regimes, requirement, position = positions[origin]
        for loc in locations:
            exposure = _exposure(G, subject, origin, loc, as_of, regimes, requirement, position)
            if exposure is not None:
                found.append(exposure)
    return sorted(found, key=lambda e: (e.system_id, e.subject))


def _requirement(regimes: list[Any]) -> tuple[str | None, str | None]:
    """Return the strictest regulator requirement for AI training, and its summary."""
    order = ("opt_in_consent", "consent_or_documented_lia", "notice_and_objection")
    positions = [p for r in regimes for p in r.ai_training]
    if not positions:
        return None, None
    strictest = min(positions, key=lambda p: order.index(p.requires))
    return strictest.requires, f"{strictest.summary} ({strictest.id})"


def _exposure(
    G: nx.DiGraph,
    subject: str,
    origin: str,
    loc: Location,
    as_of: date,
    regimes: list[Any],
    requirement: str | None,
    position: str | None,
) -> Exposure | None:
    training = G.nodes[loc.path[-2]]
    system_id = loc.path[-3]
    system = G.nodes[system_id]
    subject_since = G.nodes[subject].get("since")
    start = max(filter(None, (loc.since, subject_since)), default=None)
    if start is not None and start > as_of:
        return None
    return Exposure(
        subject=subject,
        origin=origin,
        system_id=system_id.split(":", 1)[1],
        system=loc.system,
        vendor=system["vendor"],
        vendor_country=loc.country,
        data=loc.data,
        default=training["default"],
        scope=training.get("scope"),
        start=start,
        until=loc.until,
        as_of=as_of,
        how_to_opt_out=training.get("how_to_opt_out"),
        opt_out=training.get("opt_out"),
        requirement=requirement,
        regimes=tuple(r.id for r in regimes),
        position=position,
        vendor_source=training.get("source"),
        vendor_as_of=training.get("as_of"),
        path=loc.path,
    )
