"""The rule engine: judge every transfer under the origin's regime(s), and list findings.

The order (docs/jurisdiction-data.md): free flow, own staff, adequacy (scope checked
against the recipient), an accepted safeguard, unrestricted, needs review, no basis.
Everything legal comes from :mod:`residency.jurisdictions`; no country is named here.

>>> import residency
>>> from residency.rules import assess
>>> m = residency.load()
>>> from datetime import date
>>> t = assess(m.graph, m.where("client:fennwerk"), as_of=date(2026, 11, 26))
>>> {"adequacy", "safeguard", "free_flow"} <= {x.basis for x in t}
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any, NamedTuple

import networkx as nx

from residency import places
from residency.jurisdictions import Adequacy, LegalData, Regime, legal_data
from residency.query import Location, WhereResult
from residency.vocabulary import BASES as BASES  # public here since v0.1: kept
from residency.vocabulary import BASIS_LABELS as BASIS_LABELS
from residency.vocabulary import BASIS_RANK as _RANK
from residency.vocabulary import SEVERITIES as SEVERITIES
from residency.vocabulary import least_confident


class SourceRef(NamedTuple):
    """A legal source behind an answer: which regime, which fact, where to read it.

    A named tuple: it is hashed millions of times when routes and findings gather sources.
    """

    regime: str
    id: str
    title: str
    citation: str | None
    url: str | None
    locator: str | None = None
    confidence: str = "high"

    def as_dict(self) -> dict[str, Any]:
        """Return the reference as a plain dict (for JSON and tables)."""
        return {
            "regime": self.regime,
            "id": self.id,
            "title": self.title,
            "citation": self.citation,
            "url": self.url,
            "locator": self.locator,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Judgement:
    """One regime's answer for one location."""

    regime: str
    basis: str
    instrument: str | None = None
    tia_required: bool = False
    sources: tuple[SourceRef, ...] = ()
    note: str | None = None
    risk: str | None = None
    fallback: str | None = None
    missing: str | None = None
    unaccepted: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Verdict:
    """The answer to one distinct legal question: the basis, and each regime's judgement.

    One object per distinct question (see :meth:`Context.verdict`), compared by identity;
    what it derives is computed once (a verdict is shared by thousands of transfers).
    """

    basis: str
    judgements: tuple[Judgement, ...]

    @cached_property
    def deciding(self) -> Judgement:
        """Return the judgement that decided the basis (the most demanding regime's)."""
        return max(self.judgements, key=lambda j: _RANK[j.basis])

    @cached_property
    def instrument(self) -> str | None:
        """Return the instrument the basis rests on, if any."""
        return self.deciding.instrument

    @cached_property
    def tia_required(self) -> bool:
        """Tell whether a transfer impact (or risk) assessment is required."""
        return any(j.tia_required for j in self.judgements)

    @cached_property
    def sources(self) -> tuple[SourceRef, ...]:
        """Return every legal source any regime relied on, without repeats."""
        return tuple(dict.fromkeys(s for j in self.judgements for s in j.sources))

    @cached_property
    def confidence(self) -> str | None:
        """Return the lowest confidence of the facts the basis rests on (None: no facts)."""
        return least_confident(s.confidence for s in self.sources)

    @cached_property
    def notes(self) -> list[str]:
        """Return the notes, risks and missing facts a reader must see."""
        out = []
        for j in self.judgements:
            for text in (
                j.note,
                j.risk and f"risk: {j.risk}",
                j.missing and f"missing: {j.missing}",
            ):
                if text and text not in out:
                    out.append(text)
        return out


@dataclass(frozen=True, slots=True)
class Transfer:
    """A location outside the subject's origin jurisdiction, with its legal basis."""

    location: Location
    origin: str
    verdict: Verdict

    @property
    def id(self) -> str:
        """Return a stable id derived from what the transfer is (its location's natural key)."""
        return "t-" + self.location.id[2:]

    @property
    def basis(self) -> str:
        """Return the legal basis (``free_flow``, ``adequacy``, ... ``no_basis``)."""
        return self.verdict.basis

    @property
    def judgements(self) -> tuple[Judgement, ...]:
        """Return each regime's judgement."""
        return self.verdict.judgements

    @property
    def deciding(self) -> Judgement:
        """Return the judgement that decided the basis (the most demanding regime's)."""
        return self.verdict.deciding

    @property
    def instrument(self) -> str | None:
        """Return the instrument the basis rests on, if any."""
        return self.verdict.instrument

    @property
    def tia_required(self) -> bool:
        """Tell whether a transfer impact (or risk) assessment is required."""
        return self.verdict.tia_required

    @property
    def sources(self) -> tuple[SourceRef, ...]:
        """Return every legal source any regime relied on, without repeats."""
        return self.verdict.sources

    @property
    def confidence(self) -> str | None:
        """Return the lowest confidence of the facts the basis rests on (None: no facts)."""
        return self.verdict.confidence

    @property
    def notes(self) -> list[str]:
        """Return the notes, risks and missing facts a reader must see."""
        return self.verdict.notes

    def as_dict(self) -> dict[str, Any]:
        """Return the transfer in the export's shape."""
        loc = self.location
        return {
            "id": self.id,
            "subject": loc.subject,
            "origin": self.origin,
            "destination": loc.country,
            "kind": loc.kind,
            "system": loc.system,
            "recipient": loc.recipient,
            "recipient_type": loc.recipient_type,
            "data": list(loc.data),
            "basis": self.basis,
            "instrument": self.instrument,
            "tia_required": self.tia_required,
            "confidence": self.confidence,
            "regimes": [
                {"regime": j.regime, "basis": j.basis, "instrument": j.instrument}
                for j in self.judgements
            ],
            "notes": self.notes,
            "path": list(loc.path),
            "sources": [s.as_dict() for s in self.sources],
        }


@dataclass(frozen=True)
class Recipient:
    """Who receives the data at a location, and the instruments recorded for it."""

    own_staff: bool
    certifications: frozenset[str] = frozenset()
    safeguards: frozenset[str] = frozenset()
    written: tuple[str, ...] = ()


@dataclass
class Context:
    """What judging needs besides the location: the graph, legal data and the date.

    It also remembers every legal question already answered: a transfer's basis depends
    only on a small key (origin, kind, destination, recipient and its instruments, and the
    data categories the origin's rules look at), so each distinct key is judged once.
    """

    G: nx.DiGraph
    data: LegalData = field(default_factory=legal_data)
    as_of: date = field(default_factory=date.today)
    _recipients: dict[str, Recipient] = field(default_factory=dict, repr=False)
    _interned: dict[Recipient, Recipient] = field(default_factory=dict, repr=False)
    _verdicts: dict[tuple[Any, ...], Verdict] = field(default_factory=dict, repr=False)
    # Verdicts shared by contexts of the same legal data and date over different graphs
    # (what-if scenarios of one organisation), keyed by value instead of by identity.
    shared: dict[tuple[Any, ...], Verdict] | None = field(default=None, repr=False)
    _origins: dict[str, tuple[list[Regime], frozenset[str]]] = field(
        default_factory=dict, repr=False
    )

    def origin(self, origin: str) -> tuple[list[Regime], frozenset[str]]:
        """Return the origin's regimes and the data categories any of their rules look at."""
        found = self._origins.get(origin)
        if found is None:
            regimes = self.data.regimes_for(origin, as_of=self.as_of)
            found = (regimes, _categories_judged(regimes))
            self._origins[origin] = found
        return found

    def recipient(self, hop: str, system: str) -> Recipient:
        """Answer who receives data at node ``hop`` reached through ``system`` (remembered)."""
        kind = self.G.nodes[hop]["kind"]
        key = hop if kind in ("staff", "subprocessor") else system
        found = self._recipients.get(key)
        if found is None:
            made = recipient_at(self, hop, system)
            # Equal recipients are one object, so verdict keys can compare them by identity.
            found = self._interned.setdefault(made, made)
            self._recipients[key] = found
        return found

    def verdict(
        self, origin: str, kind: str, country: str, hop: str, system: str, data: tuple[str, ...]
    ) -> Verdict:
        """Answer the basis of data of ``origin`` reaching ``hop`` in ``country`` (judged once).

        The answer depends only on this key, so every subject sharing it shares the verdict.
        """
        regimes, judged = self.origin(origin)
        recipient = self.recipient(hop, system) if regimes else None
        relevant = tuple(c for c in data if c in judged) if judged else ()
        return self.judged(origin, kind, country, recipient, relevant)

    def judged(
        self,
        origin: str,
        kind: str,
        country: str,
        recipient: Recipient | None,
        relevant: tuple[str, ...],
    ) -> Verdict:
        """Answer :meth:`verdict` from its key: the recipient and the categories judged.

        ``recipient`` is :meth:`recipient`'s answer (None when the origin has no regime),
        ``relevant`` the data's categories that the origin's rules look at, in order.
        """
        key = (origin, kind, country, id(recipient), relevant)
        found = self._verdicts.get(key)
        if found is None:
            wide = (self.G.graph.get("country"), origin, kind, country, recipient, relevant)
            if self.shared is not None:
                found = self.shared.get(wide)
            if found is None:
                regimes = self.origin(origin)[0]
                probe = Location("", kind, country, "", "", "", relevant, ())
                judgements = _judge_all(self, regimes, origin, probe, recipient)
                found = Verdict(max(judgements, key=lambda j: _RANK[j.basis]).basis, judgements)
                if self.shared is not None:
                    self.shared[wide] = found
            self._verdicts[key] = found
        return found

    @property
    def questions(self) -> int:
        """Return how many distinct legal questions were judged so far."""
        return len(self._verdicts)


def _categories_judged(regimes: list[Regime]) -> frozenset[str]:
    found: set[str] = set()
    for regime in regimes:
        for fact in regime.adequacy:
            found.update(fact.review_categories)
        for trigger in regime.review_triggers:
            if trigger.categories != "all":
                found.update(trigger.categories)
    return frozenset(found)


def recipient_of(ctx: Context, loc: Location) -> Recipient:
    """Answer who receives the data at a location and which instruments cover them."""
    return ctx.recipient(loc.path[-2], _system_of(loc))


def recipient_at(ctx: Context, hop: str, system: str) -> Recipient:
    """Answer who receives data at node ``hop`` (reached through ``system``), and their cover."""
    G = ctx.G
    node = G.nodes[hop]
    kind = node["kind"]
    if kind == "staff":
        employers = [v for v, e in G._succ[hop].items() if e["kind"] == "employed_by"]
        if not employers:
            return Recipient(own_staff=node["type"] == "employee")
        return _covered(ctx, (), G.nodes[employers[0]].get("safeguards", ()))
    if kind == "subprocessor":
        return _covered(ctx, node["certifications"], node["safeguards"])
    owner = G.nodes[system]
    return _covered(ctx, owner["certifications"], owner["safeguards"])


def _system_of(loc: Location) -> str:
    return next(n for n in loc.path if n.startswith("system:"))


def _covered(ctx: Context, certs: Any, safeguards: Any) -> Recipient:
    canon = ctx.data.instrument_name
    return Recipient(
        own_staff=False,
        certifications=frozenset(filter(None, (canon(c) for c in certs))),
        safeguards=frozenset(filter(None, (canon(s) for s in safeguards))),
        written=tuple(safeguards),
    )


def in_origin(origin: str, destination: str) -> bool:
    """Tell whether a destination lies inside the origin jurisdiction itself."""
    if destination == origin:
        return True
    return "-" not in origin and places.country_of(destination) == origin


def assess(
    G: nx.DiGraph, result: WhereResult, *, as_of: date | None = None, data: LegalData | None = None
) -> list[Transfer]:
    """Judge every location of one subject that leaves its origin jurisdiction."""
    ctx = Context(G, data or legal_data(), as_of or date.today())
    return assess_with(ctx, result)


def assess_with(ctx: Context, result: WhereResult) -> list[Transfer]:
    """Like :func:`assess`, with a prepared context (reused across subjects)."""
    origin = result.origin
    transfers = []
    for loc in result.locations:
        if in_origin(origin, loc.country):
            continue
        v = ctx.verdict(origin, loc.kind, loc.country, loc.path[-2], _system_of(loc), loc.data)
        transfers.append(Transfer(loc, origin, v))
    return transfers


def _judge_all(
    ctx: Context, regimes: list[Regime], origin: str, loc: Location, recipient: Recipient | None
) -> tuple[Judgement, ...]:
    if not regimes or recipient is None:
        return (_no_regime(ctx, origin),)
    return tuple(judge(ctx, regime, origin, loc, recipient) for regime in regimes)


def _no_regime(ctx: Context, origin: str) -> Judgement:
    later = ctx.data.regimes_for(origin)
    if not later:
        return Judgement(
            "none", "needs_review", missing=f"no regime data for {origin} in data/jurisdictions"
        )
    # The law exists in the data but was not in force on the as-of date: no transfer rule
    # applied then, which is not the same as a transfer without a basis.
    spans = ", ".join(f"{r.id} ({r.start or '...'} to {r.until or 'today'})" for r in later)
    return Judgement(
        "none",
        "unrestricted",
        note=f"no transfer rule of {origin} was in force on {ctx.as_of}; in the data: {spans}",
    )


def judge(
    ctx: Context, regime: Regime, origin: str, loc: Location, recipient: Recipient
) -> Judgement:
    """Answer the basis for one location under one regime, in the documented order.

    The most certain basis comes first: free flow inside the origin's own area outranks
    the medium-confidence reading that an own employee abroad is not a transfer.
    """
    free = _free_flow(regime, loc, ctx.as_of)
    if free is not None:
        return free
    own = recipient.own_staff and loc.kind == "accessed"
    if own and regime.own_staff_abroad is not None and regime.own_staff_abroad.value:
        return _own_staff_access(ctx, regime, origin, loc)
    return _judge_transfer(ctx, regime, origin, loc, recipient, own=own)


def _own_staff_access(ctx: Context, regime: Regime, origin: str, loc: Location) -> Judgement:
    """Judge access by an own employee where the regime reads them as part of the organisation.

    The employee is no recipient; the organisation is. Data of an origin outside the
    organisation's own country or free-flow area reaches the organisation: that is the
    transfer (a German client's data at an agency established in the UK: DE to GB).
    """
    fact = regime.own_staff_abroad
    org = ctx.G.graph.get("country")
    at_org = replace(loc, country=org) if org else loc
    if not org or in_origin(origin, org) or _free_flow(regime, at_org, ctx.as_of) is not None:
        return _own_staff(ctx, regime, fact)
    found = _judge_transfer(ctx, regime, origin, at_org, Recipient(own_staff=False), own=False)
    note = (
        f"the organisation, established in {org}, receives the data: judged as a transfer "
        f"from {origin} to {org}; its own employee in {loc.country} is part of it"
    )
    return replace(
        found, sources=(*found.sources, _ref(regime, fact)), note=_join(note, found.note)
    )


def _judge_transfer(
    ctx: Context, regime: Regime, origin: str, loc: Location, recipient: Recipient, *, own: bool
) -> Judgement:
    if loc.kind == "accessed" and _remote_access_exempt(regime):
        fact = regime.remote_access_is_transfer
        assert fact is not None
        return Judgement(
            regime.id,
            "unrestricted",
            sources=(_ref(regime, fact),),
            note=fact.note or "remote access is not a transfer under this regime",
        )
    judgement = _adequacy(ctx, regime, origin, loc, recipient)
    if judgement is None or judgement.basis != "adequacy":
        # An adequacy whose scope needs review still loses to a safeguard that settles it.
        judgement = _safeguard(ctx, regime, origin, recipient) or judgement
    found = _apply_triggers(regime, loc, judgement) or _fallback(
        regime, origin, recipient, ctx.as_of
    )
    if own and found.basis == "no_basis" and regime.remote_access_is_transfer is None:
        # The data records neither the own-staff reading nor a remote-access rule for this
        # regime: whether this access is an export is the open question, not a missing basis.
        return Judgement(
            regime.id,
            "needs_review",
            sources=found.sources,
            note=found.note,
            missing=(
                f"whether access by the organisation's own employee from abroad is a transfer "
                f"under {regime.id} (no rule on it is recorded in data/jurisdictions)"
            ),
        )
    return found


def _own_staff(ctx: Context, regime: Regime, fact: Any) -> Judgement:
    principle = ctx.data.principles["own_staff"]
    sources = tuple(
        SourceRef("principles", s.id, s.title, s.citation, s.url, None, principle.confidence)
        for s in principle.sources
    )
    note = principle.summary + (f" ({regime.id}: {fact.note})" if fact.note else "")
    return Judgement(regime.id, "own_staff", sources=(_ref(regime, fact), *sources), note=note)


def _free_flow(regime: Regime, loc: Location, as_of: date) -> Judgement | None:
    for fact in regime.free_flow:
        if not _in_force(fact.start, fact.until, as_of):
            continue
        area = frozenset().union(*(places.expand(c, as_of) for c in fact.area))
        if places.within(loc.country, area):
            return Judgement(regime.id, "free_flow", sources=(_ref(regime, fact),), note=fact.note)
    return None


def _remote_access_exempt(regime: Regime) -> bool:
    fact = regime.remote_access_is_transfer
    return fact is not None and not fact.value


def _in_force(start: date | None, until: date | None, as_of: date) -> bool:
    return (start is None or start <= as_of) and (until is None or as_of < until)


def _adequacy(
    ctx: Context, regime: Regime, origin: str, loc: Location, recipient: Recipient
) -> Judgement | None:
    for fact in regime.adequacy:
        if not _adequacy_applies(fact, origin, loc, ctx.as_of):
            continue
        note = fact.note
        if fact.condition == "recipient_certified":
            if fact.certification not in recipient.certifications:
                continue
        elif fact.condition == "commercial_organisation":
            note = _join(
                note,
                f"scope: {fact.scope}; assumes the recipient is a commercial "
                "organisation within that scope",
            )
        missing = None
        if fact.review_categories and set(loc.data) & set(fact.review_categories):
            missing = fact.review_missing
        basis = "needs_review" if missing else "adequacy"
        return Judgement(
            regime.id,
            basis,
            instrument=fact.instrument,
            sources=(_ref(regime, fact),),
            note=note,
            risk=fact.risk,
            fallback=fact.fallback,
            missing=missing,
        )
    return None


def _adequacy_applies(fact: Adequacy, origin: str, loc: Location, as_of: date) -> bool:
    if not places.within(loc.country, places.expand(fact.destination, as_of)):
        return False
    if not _from_origins(fact.origins, origin, as_of):
        return False
    return _in_force(fact.start, fact.until, as_of)


def _from_origins(origins: list[str] | None, origin: str, as_of: date) -> bool:
    """Tell whether a fact limited to ``origins`` (None: every origin) covers ``origin``."""
    if not origins:
        return True
    return places.within(origin, frozenset().union(*(places.expand(c, as_of) for c in origins)))


def _safeguard(ctx: Context, regime: Regime, origin: str, recipient: Recipient) -> Judgement | None:
    held = recipient.safeguards | recipient.certifications  # some regimes accept certifications
    for fact in regime.safeguards:
        if (
            fact.name in held
            and _in_force(fact.start, fact.until, ctx.as_of)
            and _from_origins(fact.origins, origin, ctx.as_of)
        ):
            return Judgement(
                regime.id,
                "safeguard",
                instrument=f"{fact.name} ({fact.instrument})",
                tia_required=fact.tia_required,
                sources=(_ref(regime, fact),),
                note=fact.note,
            )
    return None


def _apply_triggers(regime: Regime, loc: Location, judgement: Judgement | None) -> Judgement | None:
    for trigger in regime.review_triggers:
        if loc.kind not in trigger.kinds:
            continue
        if trigger.categories != "all" and not set(loc.data) & set(trigger.categories):
            continue
        settled = judgement is not None and judgement.basis in ("adequacy", "safeguard")
        if trigger.applies_when == "no_adequacy" and settled:
            continue
        have = f"; basis otherwise: {judgement.basis} ({judgement.instrument})" if judgement else ""
        sources = (*(judgement.sources if judgement else ()), _ref(regime, trigger))
        return Judgement(
            regime.id,
            "needs_review",
            instrument=judgement.instrument if judgement else None,
            tia_required=judgement.tia_required if judgement else False,
            sources=sources,
            note=_join(trigger.note, have.lstrip("; ") or None),
            missing=trigger.missing,
        )
    return judgement


def _fallback(regime: Regime, origin: str, recipient: Recipient, as_of: date) -> Judgement:
    free = regime.unrestricted
    if free is not None and free.value and _in_force(free.start, free.until, as_of):
        return Judgement(
            regime.id,
            "unrestricted",
            sources=(_ref(regime, free),),
            note=free.note,
        )
    unaccepted = tuple(s for s in recipient.written)
    current = [
        s for s in regime.safeguards if s.until is None and _from_origins(s.origins, origin, as_of)
    ]
    accepted = ", ".join(dict.fromkeys(s.name for s in current)) or "none listed"
    return Judgement(
        regime.id,
        "no_basis",
        unaccepted=unaccepted,
        note=f"Safeguards this regime accepts: {accepted}",
        sources=tuple(dict.fromkeys(_ref(regime, s) for s in current)),
    )


def _ref(regime: Regime, fact: Any) -> SourceRef:
    source = regime.source(fact.source)
    return SourceRef(
        regime.id,
        source.id,
        source.title,
        source.citation,
        source.url,
        getattr(fact, "locator", None),
        getattr(fact, "confidence", "high"),
    )


def _join(a: str | None, b: str | None) -> str | None:
    parts = [p for p in (a, b) if p]
    return "; ".join(parts) if parts else None
