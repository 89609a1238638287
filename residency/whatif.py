"""What-if scenarios: change a copy of the inventory and see what appears and disappears.

Scenarios never touch the stored inventory or the map they start from. Every change
returns its inverse, so a scenario can be undone exactly.

>>> import residency
>>> result = residency.load().what_if(["opt-out:slack"], as_of="2026-11-26")
>>> {"ai.default_training"} <= {d.rule for d in result.findings if d.change == "disappears"}
True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import TYPE_CHECKING, Any, ClassVar

from residency import places, regions
from residency._errors import ResidencyError
from residency.model import Hosting, Inventory, Staff, Subprocessor, System

if TYPE_CHECKING:
    import pandas as pd


class ScenarioError(ResidencyError):
    """A what-if change names something the inventory does not have, or is malformed."""


def _system(inv: Inventory, system_id: str) -> System:
    """Return the scenario's own copy of a system, to change (copy on write)."""
    for i, system in enumerate(inv.systems):
        if system.id == system_id:
            own = system.model_copy(deep=True)
            inv.systems[i] = own
            return own
    close = difflib.get_close_matches(system_id, [s.id for s in inv.systems], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    msg = f"unknown system {system_id!r}{hint}"
    raise ScenarioError(msg)


@dataclass(frozen=True)
class OptOut:
    """Opt out of a system's AI training from a date (``False`` undoes an opt-out)."""

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    system: str
    on: date | bool | None = None  # None: the scenario's as-of date

    def apply(self, inv: Inventory, as_of: date) -> OptOut:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        ai = _system(inv, self.system).ai_training
        if ai is None:
            msg = f"system {self.system!r} has no ai_training to opt out of"
            raise ScenarioError(msg)
        if ai.opt_out == "not_possible" and self.on is not False:
            msg = (
                f"system {self.system!r}: its plan allows no opt-out of AI training; what "
                f"remains: another plan (edit plan: in the inventory) or offboard:{self.system}"
            )
            raise ScenarioError(msg)
        before = ai.opted_out
        ai.opted_out = as_of if self.on is None or self.on is True else self.on
        return OptOut(self.system, before)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        when = "on the as-of date" if self.on is None else f"on {self.on}"
        return f"opt out of {self.system}'s AI training {when}"


@dataclass(frozen=True)
class MoveHosting:
    """Move a system's hosting to a cloud region (``aws/eu-central-1``) or a country (``DE``).

    Several targets joined by ``+`` replace the hosting with all of them (``DE+FR``: a
    primary region and its backup).
    """

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    system: str
    to: str | tuple[Hosting, ...]

    def apply(self, inv: Inventory, as_of: date) -> MoveHosting:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        system = _system(inv, self.system)
        before = tuple(h.model_copy() for h in system.hosting)
        if isinstance(self.to, tuple):
            system.hosting = list(self.to)
        else:  # several targets: a vendor option with a backup region (``DE+FR``)
            system.hosting = [_hosting(t) for t in self.to.split("+") if t.strip()]
        return MoveHosting(self.system, before)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        target = self.to if isinstance(self.to, str) else "its previous hosting"
        return f"move {self.system}'s hosting to {target}"


def _hosting(target: str) -> Hosting:
    if "/" in target:
        provider, region = target.split("/", 1)
        problem = regions.region_problem(provider, region)
        if problem:
            raise ScenarioError(problem)
        found = regions.resolve(provider, region)
        assert found is not None
        return Hosting(
            provider=found.provider,
            region=found.region,
            country=found.place,
            city=found.city,
            purpose="what-if",
        )
    code = target.strip().upper()
    problem = places.place_problem(code)
    if problem:
        msg = f"{problem} (or give provider/region, e.g. aws/eu-central-1)"
        raise ScenarioError(msg)
    return Hosting(country=code, purpose="what-if")


@dataclass(frozen=True)
class ReplaceSubprocessor:
    """Remove a sub-processor (``new`` None) or replace it with another.

    A sub-processor is known by its name: every entry of that name goes (the graph keeps
    one recipient per name).
    """

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    system: str
    name: str
    new: Subprocessor | None = None
    restore: tuple[tuple[int, Subprocessor], ...] = ()  # undoing: the entries to put back
    drop: Subprocessor | None = None  # undoing a replacement: the entry to take out first

    def apply(self, inv: Inventory, as_of: date) -> ReplaceSubprocessor:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        system = _system(inv, self.system)
        if self.restore:
            if self.drop is not None:
                system.subprocessors.remove(self.drop)
            for index, sub in self.restore:
                system.subprocessors.insert(index, sub)
            return ReplaceSubprocessor(self.system, self.restore[0][1].name, self.drop)
        names = [s.name for s in system.subprocessors]
        if self.name not in names:
            msg = (
                f"system {self.system!r} has no sub-processor {self.name!r}: expected one of "
                f"{', '.join(map(repr, dict.fromkeys(names))) or 'none'}"
            )
            raise ScenarioError(msg)
        removed = tuple((i, s) for i, s in enumerate(system.subprocessors) if s.name == self.name)
        system.subprocessors = [s for s in system.subprocessors if s.name != self.name]
        if self.new is not None:
            system.subprocessors.insert(removed[0][0], self.new)
        return ReplaceSubprocessor(self.system, "", restore=removed, drop=self.new)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        if self.restore:
            return f"put sub-processor {self.restore[0][1].name!r} back in {self.system}"
        if self.new is None:
            return f"remove sub-processor {self.name!r} from {self.system}"
        countries = ", ".join(self.new.countries)
        return f"replace {self.name!r} in {self.system} by {self.new.name!r} ({countries})"


@dataclass(frozen=True)
class AddSafeguard:
    """Record a safeguard (e.g. ``EU SCC 2021``) for a system's vendor (``remove`` undoes)."""

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    system: str
    safeguard: str
    remove: bool = False

    def apply(self, inv: Inventory, as_of: date) -> AddSafeguard:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        system = _system(inv, self.system)
        if self.remove:
            system.safeguards.remove(self.safeguard)
            return AddSafeguard(self.system, self.safeguard)
        if self.safeguard in system.safeguards:
            msg = f"system {self.system!r} already records {self.safeguard!r}"
            raise ScenarioError(msg)
        system.safeguards.append(self.safeguard)
        return AddSafeguard(self.system, self.safeguard, remove=True)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        verb = "remove" if self.remove else "add"
        return f"{verb} safeguard {self.safeguard!r} for {self.system}"


@dataclass(frozen=True)
class AddEntitySafeguard:
    """Record a safeguard signed with the entity that employs or engages staff (an EOR, a
    contractor's company), for every person it employs (``remove`` undoes)."""

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    entity: str
    safeguard: str
    remove: bool = False

    def apply(self, inv: Inventory, as_of: date) -> AddEntitySafeguard:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        entities = [p.entity for p in inv.staff if p.entity is not None]
        at = [i for i, p in enumerate(inv.staff) if p.entity and p.entity.name == self.entity]
        found = [e for e in (_own_staff(inv, i).entity for i in at) if e is not None]
        if not found:
            names = sorted({e.name for e in entities})
            close = difflib.get_close_matches(self.entity, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"no staff entity named {self.entity!r}{hint}"
            raise ScenarioError(msg)
        if self.remove:
            for e in found:
                if self.safeguard in e.safeguards:
                    e.safeguards.remove(self.safeguard)
            return AddEntitySafeguard(self.entity, self.safeguard)
        if all(self.safeguard in e.safeguards for e in found):
            msg = f"entity {self.entity!r} already records {self.safeguard!r}"
            raise ScenarioError(msg)
        for e in found:
            if self.safeguard not in e.safeguards:
                e.safeguards.append(self.safeguard)
        return AddEntitySafeguard(self.entity, self.safeguard, remove=True)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        verb = "remove" if self.remove else "add"
        return f"{verb} safeguard {self.safeguard!r} for staff entity {self.entity!r}"


@dataclass(frozen=True)
class StopAccess:
    """Stop staff working from a country from serving a client (``*``: every client)."""

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    country: str
    client: str
    restore: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def apply(self, inv: Inventory, as_of: date) -> StopAccess:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        if self.restore:
            index = {p.id: i for i, p in enumerate(inv.staff)}
            for person_id, clients in self.restore:
                _own_staff(inv, index[person_id]).clients = list(clients)
            return StopAccess(self.country, self.client)
        if self.client != "*" and all(c.id != self.client for c in inv.clients):
            msg = f"unknown client {self.client!r}"
            raise ScenarioError(msg)
        problem = places.place_problem(self.country)
        if problem:
            raise ScenarioError(problem)
        before = []
        # The client test first: it is cheap, and few people serve any one client (the
        # plan applies this once per client of a country, on 100x organisations).
        for i, person in enumerate(list(inv.staff)):
            if (self.client == "*" or self.client in person.clients) and _works_in(
                person, self.country
            ):
                before.append((person.id, tuple(person.clients)))
                person = _own_staff(inv, i)
                person.clients = (
                    [] if self.client == "*" else [c for c in person.clients if c != self.client]
                )
        return StopAccess(self.country, self.client, tuple(before))

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        if self.restore:
            return f"give staff in {self.country} back their access"
        whom = "any client" if self.client == "*" else f"client {self.client}"
        return f"stop staff in {self.country} from accessing {whom}"


@dataclass(frozen=True)
class AmendResidency:
    """Widen a client's contractual residency limit to more places (``restore`` undoes).

    A change of contract, for the client to agree to: the plan offers it as a negotiation
    item, never as a fix.
    """

    touches: ClassVar[tuple[str, ...]] = ()  # copies on write what it changes

    client: str
    allow: tuple[str, ...]
    restore: tuple[str, ...] | None = None

    def apply(self, inv: Inventory, as_of: date) -> AmendResidency:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        at = next((i for i, c in enumerate(inv.clients) if c.id == self.client), None)
        if at is None:
            close = difflib.get_close_matches(self.client, [c.id for c in inv.clients], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"unknown client {self.client!r}{hint}"
            raise ScenarioError(msg)
        own = inv.clients[at].model_copy(deep=True)
        inv.clients[at] = own
        before = tuple(own.residency)
        if self.restore is not None:
            own.residency = list(self.restore)
            return AmendResidency(self.client, ())
        if not before:
            msg = f"client {self.client!r} has no residency clause to amend"
            raise ScenarioError(msg)
        for code in self.allow:
            problem = places.place_problem(code, allow_blocs=True)
            if problem:
                raise ScenarioError(problem)
        own.residency = list(dict.fromkeys([*before, *self.allow]))
        return AmendResidency(self.client, (), restore=before)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        if self.restore is not None:
            return f"put back {self.client}'s residency clause"
        return f"amend {self.client}'s residency clause to allow {', '.join(self.allow)}"


def _own_staff(inv: Inventory, i: int) -> Staff:
    """Return the scenario's own copy of staff member ``i``, to change (copy on write)."""
    own = inv.staff[i].model_copy(deep=True)
    inv.staff[i] = own
    return own


def _works_in(person: Staff, code: str) -> bool:
    return person.country == code or places.country_of(person.country) == code


@dataclass(frozen=True)
class Offboard:
    """Stop using a system: remove it and every reference to it."""

    touches: ClassVar[tuple[str, ...]] = (
        "organisation",
        "staff",
        "clients",
        "systems",
    )  # the inventory parts it changes

    system: str
    snapshot: Inventory | None = None

    def apply(self, inv: Inventory, as_of: date) -> Offboard:
        """Apply to ``inv`` (a copy) and return the change that undoes it."""
        if self.snapshot is not None:  # undo: the references are restored as they were
            for name in ("organisation", "staff", "clients", "systems"):
                setattr(inv, name, getattr(self.snapshot.model_copy(deep=True), name))
            return Offboard(self.system)
        _system(inv, self.system)
        before = inv.model_copy(deep=True)
        inv.systems = [s for s in inv.systems if s.id != self.system]
        for client in inv.clients:
            client.systems = [s for s in client.systems if s != self.system]
        for person in inv.staff:
            if person.systems is not None:
                person.systems = [s for s in person.systems if s != self.system]
        staff_data = inv.organisation.staff_data
        if staff_data is not None:
            staff_data.systems = [s for s in staff_data.systems if s != self.system]
        return Offboard(self.system, before)

    def describe(self) -> str:
        """Say what the change does, in plain words."""
        return f"bring {self.system} back" if self.snapshot else f"offboard {self.system}"


Change = (
    OptOut
    | MoveHosting
    | ReplaceSubprocessor
    | AddSafeguard
    | AddEntitySafeguard
    | StopAccess
    | AmendResidency
    | Offboard
)

SYNTAX = {
    "opt-out": "opt-out:SYSTEM[@YYYY-MM-DD]",
    "move": "move:SYSTEM=PROVIDER/REGION or move:SYSTEM=CC (several joined by +)",
    "remove-subprocessor": "remove-subprocessor:SYSTEM=NAME",
    "replace-subprocessor": "replace-subprocessor:SYSTEM=OLD NAME>NEW NAME@CC[;CC]",
    "add-safeguard": "add-safeguard:SYSTEM=SAFEGUARD",
    "add-entity-safeguard": "add-entity-safeguard:ENTITY NAME=SAFEGUARD",
    "stop-access": "stop-access:CC=CLIENT (or CC=* for every client)",
    "offboard": "offboard:SYSTEM",
    "amend-residency": "amend-residency:CLIENT=CC (several joined by +)",
}


def parse_change(text: str) -> Change:
    """Parse a change written as on the command line, e.g. ``opt-out:slack@2026-12-01``.

    >>> parse_change("move:slack=aws/eu-central-1")
    MoveHosting(system='slack', to='aws/eu-central-1')
    """
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    if kind not in SYNTAX or not rest.strip():
        msg = f"cannot read the change {text!r}: expected one of " + "; ".join(SYNTAX.values())
        raise ScenarioError(msg)
    try:
        return _parse(kind, rest.strip())
    except ValueError:
        msg = f"cannot read the change {text!r}: expected {SYNTAX[kind]}"
        raise ScenarioError(msg) from None


def _parse(kind: str, rest: str) -> Change:
    if kind == "opt-out":
        system, _, when = rest.partition("@")
        return OptOut(system.strip(), date.fromisoformat(when.strip()) if when else None)
    if kind == "offboard":
        return Offboard(rest)
    left, sep, right = rest.partition("=")
    if not sep or not left.strip() or not right.strip():
        raise ValueError(rest)
    left, right = left.strip(), right.strip()
    if kind == "move":
        return MoveHosting(left, right)
    if kind == "remove-subprocessor":
        return ReplaceSubprocessor(left, right)
    if kind == "replace-subprocessor":
        old, _, new = right.partition(">")
        name, _, countries = new.partition("@")
        codes = [c.strip().upper() for c in countries.split(";") if c.strip()]
        if not codes:
            raise ValueError(rest)
        for code in codes:
            problem = places.place_problem(code)
            if problem:
                raise ScenarioError(problem)
        return ReplaceSubprocessor(
            left, old.strip(), Subprocessor(name=name.strip(), countries=codes)
        )
    simple: dict[str, Any] = {
        "add-safeguard": AddSafeguard,
        "add-entity-safeguard": AddEntitySafeguard,
        "amend-residency": _amend,
    }
    if kind in simple:
        return simple[kind](left, right)
    return StopAccess(left.upper(), right)


def _amend(client: str, places_text: str) -> AmendResidency:
    codes = tuple(c.strip().upper() for c in places_text.split("+") if c.strip())
    if not codes:
        raise ValueError(places_text)
    return AmendResidency(client, codes)


def apply_changes(
    inventory: Inventory, changes: list[Change], as_of: date
) -> tuple[Inventory, list[Change]]:
    """Apply changes to a copy; return it and the changes that undo them (in order).

    The copy has its own lists; a change copies the entries it changes before changing
    them (an opt-out copies one system, not 100,000 staff), and a change that rewrites
    references everywhere (offboarding) copies the parts it ``touches`` whole. The
    original is never modified.
    """
    touched = {part for change in changes for part in change.touches}
    lists = {part: list(getattr(inventory, part)) for part in ("staff", "clients", "systems")}
    deep = {part: _deep(getattr(inventory, part)) for part in touched}
    copy = inventory.model_copy(update={**lists, **deep})
    copy.origins.update(inventory.origins)
    inverses = [change.apply(copy, as_of) for change in changes]
    return copy, list(reversed(inverses))


def _deep(value: Any) -> Any:
    if isinstance(value, list):
        return [x.model_copy(deep=True) for x in value]
    return value.model_copy(deep=True)


@dataclass(frozen=True)
class Difference:
    """One thing that appears, disappears or changes between today and the scenario.

    ``severity`` (findings) and ``evidence`` (with ``compare(..., evidence=True)``: the
    graph path and the inventory lines behind it) are extra detail, not identity.
    """

    area: str  # location | transfer | finding | ai_training | clause
    change: str  # appears | disappears | changes
    subject: str
    rule: str
    before: str
    after: str
    severity: str = field(default="", compare=False)
    evidence: tuple[str, ...] = field(default=(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        """Return the difference as a plain dict."""
        return {
            "area": self.area,
            "change": self.change,
            "subject": self.subject,
            "rule": self.rule,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class WhatIfResult:
    """The difference between the current answers and the scenario's."""

    changes: list[str]
    as_of: date
    locations: list[Difference] = field(default_factory=list)
    transfers: list[Difference] = field(default_factory=list)
    findings: list[Difference] = field(default_factory=list)
    ai_training: list[Difference] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)

    @property
    def differences(self) -> list[Difference]:
        """Return every difference: findings first, then AI training, transfers, locations."""
        return [*self.findings, *self.ai_training, *self.transfers, *self.locations]

    def counts(self) -> dict[str, dict[str, int]]:
        """Count what the scenario fixes, adds and changes, area by area.

        Findings are ``fixed`` (gone), ``new`` or ``changed`` (other countries); transfers,
        locations and AI-training exposures are ``gone``, ``new`` or ``changed``.

        >>> r = WhatIfResult(["x"], date(2026, 1, 1))
        >>> r.counts()["findings"]
        {'fixed': 0, 'new': 0, 'changed': 0}
        """
        out = {}
        for area, diffs in (
            ("findings", self.findings),
            ("ai_training", self.ai_training),
            ("transfers", self.transfers),
            ("locations", self.locations),
        ):
            names = (
                ("fixed", "new", "changed") if area == "findings" else ("gone", "new", "changed")
            )
            tally = {
                c: sum(d.change == c for d in diffs) for c in ("disappears", "appears", "changes")
            }
            out[area] = dict(zip(names, tally.values(), strict=True))
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return one row per difference."""
        columns = ["area", "change", "subject", "rule", "before", "after"]
        import pandas as pd

        return pd.DataFrame([d.as_dict() for d in self.differences], columns=columns)

    def as_dict(self) -> dict[str, Any]:
        """Return the whole result as JSON-ready data."""
        return {
            "changes": self.changes,
            "as_of": self.as_of.isoformat(),
            "counts": self.counts(),
            "findings": [d.as_dict() for d in self.findings],
            "ai_training": [d.as_dict() for d in self.ai_training],
            "transfers": [d.as_dict() for d in self.transfers],
            "locations": [d.as_dict() for d in self.locations],
            "remaining_findings": self.remaining,
        }

    def _repr_html_(self) -> str:
        return f"<p>{'; '.join(self.changes)}</p>" + self.to_frame().to_html(index=False)


def compare(
    before: Any, after: Any, changes: list[str], as_of: date, *, evidence: bool = False
) -> WhatIfResult:
    """Compare two assessments (``findings.Assessment``) of the same date.

    This is the one comparison engine: what-if compares today with a scenario, and
    :mod:`residency.diff` two versions of an inventory. Things are matched by their ids
    (natural keys). With ``evidence``, each difference carries the graph path that proves
    it and the inventory lines behind that path.
    """
    result = WhatIfResult(changes, as_of)
    result.locations = _diff_locations(before, after, evidence=evidence)
    proof_of = _Proof(before, after) if evidence else None
    result.transfers = _diff_keyed(
        "transfer",
        {t.id: t for t in before.transfers},
        {t.id: t for t in after.transfers},
        lambda t: (t.location.subject, t.basis),
        lambda t: (
            f"{t.location.kind} {t.origin}>{t.location.country} via {t.location.system} "
            f"to {t.location.recipient}: {t.basis}"
        ),
        proof=proof_of and (lambda G, t: proof_of.path(G, t.location.path)),
        proof_of=proof_of,
    )
    result.findings = _diff_keyed(
        "finding",
        {f.key: f for f in before.findings},
        {f.key: f for f in after.findings},
        lambda f: (f.subject, f.rule),
        lambda f: f"{f.severity}: {f.title} ({' '.join(f.countries)})",
        same=lambda a, b: a.countries == b.countries,
        severity=lambda f: f.severity,
        proof=proof_of and (lambda G, f: tuple(f.evidence)),
        proof_of=proof_of,
    )
    result.ai_training = _diff_keyed(
        "ai_training",
        {(e.system_id, e.subject): e for e in before.exposures},
        {(e.system_id, e.subject): e for e in after.exposures},
        lambda e: (e.subject, e.system_id),
        lambda e: (
            f"{e.system}: {e.start or 'unrecorded'} to {e.until if not e.ongoing else 'ongoing'}"
        ),
        proof=proof_of and (lambda G, e: proof_of.path(G, e.path)),
        proof_of=proof_of,
    )
    after_keys = {f.key for f in after.findings}
    result.remaining = sorted(
        f"{f.rule} {f.subject}" for f in before.findings if f.key in after_keys
    )
    return result


class _Proof:
    """Render a graph path as evidence: the path with its edge kinds, then the inventory
    line each step comes from (``uses: clients.csv row 3``)."""

    def __init__(self, before: Any, after: Any) -> None:
        self.before = getattr(before.context, "G", None)
        self.after = getattr(after.context, "G", None)

    def path(self, G: Any, path: tuple[str, ...]) -> tuple[str, ...]:
        """Return the evidence for ``path`` in the graph ``G`` (None: the path alone)."""
        if G is None or not path:
            return (" -> ".join(path),) if path else ()
        from residency.query import path_text

        lines = [path_text(G, path)]
        for u, v in pairwise(path):
            if G.has_edge(u, v):
                data = G.edges[u, v]
            elif G.has_edge(v, u):
                data = G.edges[v, u]
            else:
                continue
            if data.get("origin"):
                lines.append(f"{data['kind']} {u} > {v}: {data['origin']}")
        return tuple(dict.fromkeys(lines))


def diff_clauses(before: Any, after: Any, *, evidence: bool = False) -> list[Difference]:
    """Compare where clients' data reaches outside their contractual residency clause.

    A breach ``appears`` when a location outside the clause is new, ``disappears`` when
    it is gone; a client with no clause has nothing to break.
    """
    proof_of = _Proof(before, after) if evidence else None

    def breaches(assessment: Any) -> dict[tuple[str, ...], tuple[Any, Any]]:
        out: dict[tuple[str, ...], tuple[Any, Any]] = {}
        for r in assessment.results.values():
            if not r.residency:
                continue
            for loc in r.locations:
                if r.within_residency(loc.country) is False:
                    key = (loc.subject, loc.kind, loc.country, loc.system, loc.recipient)
                    out.setdefault(key, (r, loc))
        return out

    def text(pair: tuple[Any, Any]) -> str:
        r, loc = pair
        return (
            f"{loc.kind} in {loc.country} via {loc.system} ({loc.recipient}), outside the "
            f"clause {', '.join(r.residency)}"
        )

    return _diff_keyed(
        "clause",
        breaches(before),
        breaches(after),
        lambda pair: (pair[1].subject, pair[1].country),
        text,
        proof=proof_of and (lambda G, pair: proof_of.path(G, pair[1].path)),
        proof_of=proof_of,
    )


def _diff_locations(before: Any, after: Any, *, evidence: bool = False) -> list[Difference]:
    def keys(assessment: Any) -> dict[tuple[str, ...], Any]:
        out: dict[tuple[str, ...], Any] = {}
        for r in assessment.results.values():
            for loc in r.locations:
                out.setdefault((loc.subject, loc.kind, loc.country, loc.system, loc.recipient), loc)
        return out

    old, new = keys(before), keys(after)
    proof_of = _Proof(before, after) if evidence else None

    def proof(G: Any, locations: dict[tuple[str, ...], Any], k: tuple[str, ...]) -> tuple[str, ...]:
        return proof_of.path(G, locations[k].path) if proof_of is not None else ()

    out = [
        Difference(
            "location",
            "disappears",
            k[0],
            k[1],
            f"{k[1]} in {k[2]} via {k[3]} ({k[4]})",
            "",
            evidence=proof(proof_of and proof_of.before, old, k),
        )
        for k in sorted(old.keys() - new.keys())
    ]
    out += [
        Difference(
            "location",
            "appears",
            k[0],
            k[1],
            "",
            f"{k[1]} in {k[2]} via {k[3]} ({k[4]})",
            evidence=proof(proof_of and proof_of.after, new, k),
        )
        for k in sorted(new.keys() - old.keys())
    ]
    return out


def _diff_keyed(
    area: str,
    old: dict[Any, Any],
    new: dict[Any, Any],
    head: Any,
    text: Any,
    *,
    same: Any = None,
    severity: Any = None,
    proof: Any = None,
    proof_of: _Proof | None = None,
) -> list[Difference]:
    def rule_of(obj: Any) -> str:
        return str(head(obj)[1])

    def extra(obj: Any, G: Any) -> dict[str, Any]:
        return {
            "severity": severity(obj) if severity is not None else "",
            "evidence": proof(G, obj) if proof else (),
        }

    G_old = proof_of.before if proof_of is not None else None
    G_new = proof_of.after if proof_of is not None else None
    out = []
    for key in sorted(old.keys() - new.keys(), key=str):
        obj = old[key]
        out.append(
            Difference(
                area, "disappears", head(obj)[0], rule_of(obj), text(obj), "", **extra(obj, G_old)
            )
        )
    for key in sorted(new.keys() - old.keys(), key=str):
        obj = new[key]
        out.append(
            Difference(
                area, "appears", head(obj)[0], rule_of(obj), "", text(obj), **extra(obj, G_new)
            )
        )
    for key in sorted(old.keys() & new.keys(), key=str):
        a, b = old[key], new[key]
        unchanged = same(a, b) if same is not None else text(a) == text(b)
        if not unchanged:
            out.append(
                Difference(
                    area, "changes", head(a)[0], rule_of(b), text(a), text(b), **extra(b, G_new)
                )
            )
    return out
