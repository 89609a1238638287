"""Curated legal data: regimes, their transfer rules, instruments, coverage.

Everything here is read from ``data/jurisdictions/`` (format: docs/jurisdiction-data.md).
No country is special-cased in code: the rule engine asks this module questions.

>>> from residency.jurisdictions import legal_data
>>> data = legal_data()
>>> [r.id for r in data.regimes_for("DE")]
['EU-GDPR']
>>> data.instrument_name("eu sccs")
'EU SCC 2021'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Literal, TypeVar

import pycountry
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from residency import places
from residency._errors import ResidencyError
from residency._resources import data_root
from residency._yaml import safe_load
from residency.vocabulary import KINDS, Confidence, LocationKind, Severity

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
LOCATION_KINDS = KINDS  # the name this module has always exported
_M = TypeVar("_M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_enum_values=True, validate_default=True
    )


class Source(_Strict):
    """Where a fact comes from: an official citation and/or a URL."""

    id: Text
    title: Text
    url: Text | None = None
    citation: Text | None = None


class Fact(_Strict):
    """Provenance every fact carries: a source key, a date, and how sure we are."""

    source: Text = Field(description="Key of an entry in the file's `sources`")
    locator: Text | None = Field(default=None, description="Article, section or page")
    as_of: date | None = Field(default=None, description="Date the fact is true of")
    confidence: Confidence = Confidence.HIGH
    note: Text | None = None
    reviewed: date | None = Field(
        default=None, description="Date a curator last re-checked the fact against its source"
    )

    def review_date(self, retrieved: date) -> date:
        """Answer when the fact was last checked: ``reviewed``, else ``as_of``, else the
        date its file was last retrieved (``retrieved``, for facts dated only by ``from``)."""
        return self.reviewed or self.as_of or retrieved


class Law(Fact):
    """A statute or regulation the regime rests on."""

    name: Text
    citation: Text
    effective: Text | None = None


class FreeFlow(Fact):
    """Destinations to which data moves as if it had not left (e.g. the EEA for GDPR).

    ``from``/``until`` bound a free flow that starts or ends (the UK inside EU law until
    the end of 2020, then the six-month bridge of the Trade and Cooperation Agreement).
    """

    area: list[Text]
    start: date | None = Field(default=None, alias="from")
    until: date | None = None


class RemoteAccess(Fact):
    """Whether making data accessible from abroad counts as a transfer."""

    value: bool


class OwnStaffAbroad(Fact):
    """Whether the organisation's own employee abroad is part of it (their access: no transfer).

    Only regimes whose texts or regulators say so carry it (EDPB Guidelines 05/2021 for
    the GDPR, the ICO for the UK); elsewhere the regime's own transfer rules decide.
    """

    value: bool


class Adequacy(Fact):
    """A destination the regime recognises as adequate, with its scope and dates."""

    destination: Text
    scope: Text
    condition: Literal["recipient_certified", "commercial_organisation"] | None = None
    certification: Text | None = Field(
        default=None, description="With condition recipient_certified: the certification needed"
    )
    origins: list[Text] | None = Field(
        default=None, description="Only for data from these origins (default: all the regime's)"
    )
    instrument: Text
    start: date = Field(alias="from")
    until: date | None = None
    risk: Text | None = Field(default=None, description="Valid but under challenge: why")
    fallback: Text | None = None
    review_categories: list[Text] = Field(
        default_factory=list,
        description="Data categories for which the scope must be checked (e.g. HR data)",
    )
    review_missing: Text | None = Field(
        default=None, description="With review_categories: the fact to establish"
    )


class Safeguard(Fact):
    """A transfer mechanism the regime accepts (standard clauses, BCRs...)."""

    name: Text = Field(description="Canonical name from instruments.yaml")
    instrument: Text
    origins: list[Text] | None = Field(
        default=None,
        description="Only for data from these origins (default: all the regime's), e.g. "
        "while an EU instrument is not yet part of the EEA Agreement",
    )
    start: date = Field(alias="from")
    until: date | None = None
    tia_required: bool = Field(
        description="A transfer impact/risk assessment is needed where not adequate"
    )


class Unrestricted(Fact):
    """The regime places no general restriction on transfers (between optional dates)."""

    value: bool = True
    start: date | None = Field(default=None, alias="from")
    until: date | None = None


class ReviewTrigger(Fact):
    """A fact the inventory lacks that decides the answer: the basis becomes needs_review."""

    id: Text
    missing: Text = Field(description="The fact to establish, in plain words")
    kinds: list[LocationKind] = Field(default_factory=lambda: list(LocationKind))
    applies_when: Literal["always", "no_adequacy"] = "always"
    categories: list[Text] | Literal["all"] = Field(
        default="all", description="Only for data in these categories (default: all data)"
    )
    start: date | None = Field(default=None, alias="from")
    until: date | None = None


class Localisation(Fact):
    """A rule that data must be stored in the origin (judged on stored locations)."""

    id: Text
    requirement: Literal["primary_copy_in_origin", "all_copies_in_origin"]
    categories: list[Text] | Literal["all"] = "all"
    condition: Text | None = Field(
        default=None,
        description="A fact the inventory lacks that decides whether the rule applies",
    )
    start: date | None = Field(default=None, alias="from")
    until: date | None = None
    summary: Text


class BulkThreshold(Fact):
    """A volume above which a countries-of-concern rule applies to data of some categories."""

    categories: list[Text] = Field(min_length=1)
    more_than: int = Field(ge=0, description="The rule applies above this count")
    unit: Literal["persons", "devices"] = "persons"
    what: Text = Field(description="The rule's own name for the data (e.g. human genomic data)")


class CountriesOfConcern(Fact):
    """Destinations where sensitive data of persons from the origin must not go (in bulk)."""

    id: Text
    countries: list[Text]
    categories: list[Text]
    condition: Text | None = None
    thresholds: list[BulkThreshold] = Field(
        default_factory=list,
        description="Bulk thresholds judged against a client's data_subjects: above any, the "
        "finding is high; at or below every one that applies, low; without a count, `severity`",
    )
    severity: Severity = Field(
        default=Severity.HIGH,
        description="The finding's severity while its condition is not established by the "
        "inventory (e.g. low for a rule that binds only data brokers)",
    )
    start: date = Field(alias="from")
    summary: Text


def _in_force(start: date | None, until: date | None, as_of: date) -> bool:
    return (start is None or start <= as_of) and (until is None or as_of < until)


class Regime(_Strict):
    """One origin regime's export rules, with provenance for every fact."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]+$")]
    name: Text
    applies_to: list[Text] = Field(min_length=1)
    as_of: date
    retrieved: date
    confidence: Confidence
    start: date | None = Field(
        default=None, alias="from", description="First day the regime's transfer rules apply"
    )
    until: date | None = Field(default=None, description="Day the regime stops applying")
    sources: list[Source] = Field(min_length=1)
    laws: list[Law] = Field(default_factory=list)
    free_flow: list[FreeFlow] = Field(default_factory=list)
    remote_access_is_transfer: RemoteAccess | None = None
    own_staff_abroad: OwnStaffAbroad | None = None
    adequacy: list[Adequacy] = Field(default_factory=list)
    safeguards: list[Safeguard] = Field(default_factory=list)
    unrestricted: Unrestricted | None = None
    review_triggers: list[ReviewTrigger] = Field(default_factory=list)
    localisation: list[Localisation] = Field(default_factory=list)
    countries_of_concern: list[CountriesOfConcern] = Field(default_factory=list)
    ai_training: list[AiTrainingPosition] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)
    unconfirmed: list[Text] = Field(default_factory=list)

    def in_force(self, as_of: date) -> bool:
        """Tell whether the regime applies on ``as_of`` (its optional ``from``/``until``)."""
        return _in_force(self.start, self.until, as_of)

    def on(self, as_of: date) -> Regime:
        """Return the regime as it stood on ``as_of``: dated triggers and localisation filtered."""
        return self.model_copy(
            update={
                "review_triggers": [
                    t for t in self.review_triggers if _in_force(t.start, t.until, as_of)
                ],
                "localisation": [
                    rule for rule in self.localisation if _in_force(rule.start, rule.until, as_of)
                ],
            }
        )

    def listing(self) -> dict[str, object]:
        """Return what ``residency jurisdictions --json`` lists for the regime (JSON-ready)."""
        return {
            "id": self.id,
            "name": self.name,
            "applies_to": list(self.applies_to),
            "as_of": self.as_of.isoformat(),
            "retrieved": self.retrieved.isoformat(),
            "from": self.start.isoformat() if self.start else None,
            "until": self.until.isoformat() if self.until else None,
            "confidence": self.confidence,
            "unconfirmed": list(self.unconfirmed),
        }

    def span(self) -> str:
        """Say when the regime applies: 'always', 'from D', 'until D' or 'D to D'."""
        if self.start and self.until:
            return f"{self.start} to {self.until}"
        if self.start:
            return f"from {self.start}"
        if self.until:
            return f"until {self.until}"
        return "always"

    def source(self, key: str) -> Source:
        """Return the source with this key."""
        for s in self.sources:
            if s.id == key:
                return s
        msg = f"regime {self.id}: no source {key!r}"
        raise KeyError(msg)


class AiTrainingPosition(Fact):
    """What the regime's regulators require before customer data trains AI models."""

    id: Text
    requires: Literal["opt_in_consent", "consent_or_documented_lia", "notice_and_objection"]
    summary: Text


class Principle(_Strict):
    """A rule applied before any regime's (e.g. own staff abroad), with its sources."""

    summary: Text
    applies_when: Text
    sources: list[Source] = Field(min_length=1)
    as_of: date
    retrieved: date
    confidence: Confidence
    note: Text | None = None


class Instrument(_Strict):
    """A certification or safeguard, with the names people write in inventories."""

    name: Text
    kind: Literal["certification", "safeguard"]
    intra_group: bool = Field(
        default=False,
        description="Binding rules within a group of companies, never signed with a vendor",
    )
    aliases: list[Text] = Field(default_factory=list)
    citation: Text
    url: Text | None = None


Regime.model_rebuild()


class LegalDataError(ResidencyError):
    """A file in data/jurisdictions does not follow docs/jurisdiction-data.md."""


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


class LegalData:
    """All regimes and instruments, indexed for the rule engine."""

    def __init__(
        self,
        regimes: list[Regime],
        instruments: list[Instrument],
        digest: str,
        principles: dict[str, Principle] | None = None,
    ) -> None:
        self.regimes = sorted(regimes, key=lambda r: r.id)
        self.principles = principles or {}
        self.instruments = instruments
        self.content_hash = digest
        self._names = {_key(alias): i.name for i in instruments for alias in [i.name, *i.aliases]}

    @property
    def as_of(self) -> date:
        """Return the newest as-of date across regimes (the data's as-of)."""
        return max(r.as_of for r in self.regimes)

    @property
    def earliest(self) -> date:
        """Return the earliest date any regime or dated fact in the data starts."""
        starts = [r.start for r in self.regimes if r.start is not None]
        starts += [
            start
            for r in self.regimes
            for f in _facts(r)
            if (start := getattr(f, "start", None)) is not None
        ]
        return min(starts)

    def date_note(self, as_of: date) -> str | None:
        """Say when ``as_of`` lies outside the span the legal data covers (None: inside).

        >>> legal_data().date_note(date(1990, 1, 1)).startswith("1990-01-01 is before")
        True
        """
        if as_of > self.as_of:
            return (
                f"{as_of} is after the legal data's as-of date ({self.as_of}): later "
                "changes in the law are not in it"
            )
        if as_of < self.earliest:
            return (
                f"{as_of} is before the earliest rule in the legal data ({self.earliest}): "
                "older law is not modelled"
            )
        return None

    def regime(self, regime_id: str) -> Regime:
        """Return one regime by id."""
        for r in self.regimes:
            if r.id == regime_id:
                return r
        msg = f"no regime {regime_id!r}"
        raise KeyError(msg)

    def regimes_for(self, origin: str, as_of: date | None = None) -> list[Regime]:
        """Answer which regimes govern data originating in ``origin`` (country or subdivision).

        A subdivision is governed by its own regime (if any) and its country's. With
        ``as_of``, only regimes in force that day, each as it stood then (dated review
        triggers and localisation rules outside their dates left out, a bloc's members as
        they were that day); without it, every regime with all its facts, and every
        origin a bloc ever counted (the United Kingdom under EU-GDPR until 2021).
        """
        country = places.country_of(origin)

        def members(bloc: str) -> frozenset[str]:
            return places.expand_ever(bloc) if as_of is None else places.expand(bloc, as_of)

        found = []
        for r in self.regimes:
            codes = set(r.applies_to)
            if (
                origin in codes
                or country in codes
                or any(country in members(c) for c in codes if places.is_bloc(c))
            ):
                found.append(r)
        if as_of is None:
            return found
        return [r.on(as_of) for r in found if r.in_force(as_of)]

    def instrument_name(self, written: str) -> str | None:
        """Map a name as written in an inventory to its canonical instrument name."""
        return self._names.get(_key(written))

    def stale(self, as_of: date | None = None, months: int = 12) -> list[dict[str, object]]:
        """Answer which facts were last checked more than ``months`` before ``as_of`` (today).

        A fact's check date is its ``reviewed`` date, else its ``as_of``, else (a fact dated
        only by ``from``) its file's ``retrieved`` date.
        Oldest first; each row names the regime, the fact and its source.
        """
        day = as_of or date.today()
        cutoff = _months_before(day, months)
        rows = []
        for r in self.regimes:
            for fact in _facts(r):
                checked = fact.review_date(r.retrieved)
                if checked >= cutoff:
                    continue
                rows.append(
                    {
                        "regime": r.id,
                        "kind": type(fact).__name__,
                        "fact": fact_label(fact),
                        "checked": checked.isoformat(),
                        "days": (day - checked).days,
                        "source": fact.source,
                        "confidence": fact.confidence,
                    }
                )
        return sorted(rows, key=lambda row: (row["checked"], row["regime"], row["fact"]))

    def coverage(self, place: str | None = None) -> list[Coverage]:
        """Answer, for every ISO 3166-1 country (or only ``place``, a country or
        subdivision code), which regimes cover it; no regimes means no legal data.

        >>> legal_data().coverage("KP")[0].regimes
        ()
        """
        codes = [place] if place is not None else sorted(c.alpha_2 for c in pycountry.countries)
        return [
            Coverage(code, places.place_name(code), tuple(r.id for r in self.regimes_for(code)))
            for code in codes
        ]


@dataclass(frozen=True)
class Coverage:
    """Which regimes cover one country or subdivision (none: residency has no data for it)."""

    code: str
    name: str
    regimes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """Return the row as a plain dict (JSON-ready)."""
        return {"code": self.code, "name": self.name, "regimes": list(self.regimes)}


def _months_before(day: date, months: int) -> date:
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    while True:  # 29-31 of a shorter month: the month's last day
        try:
            return day.replace(year=year, month=month)
        except ValueError:
            day = day.replace(day=day.day - 1)


def fact_label(fact: Fact) -> str:
    """Name a fact for a listing: its id, name, destination or area."""
    for attr in ("id", "name", "destination", "what"):
        value = getattr(fact, attr, None)
        if value:
            return str(value)
    if isinstance(fact, FreeFlow):
        return " ".join(fact.area)
    return type(fact).__name__


def _yaml_files(folder: str) -> list[tuple[str, str]]:
    """Return (name, text) of the YAML files in one folder of data/jurisdictions, sorted."""
    root = data_root() / "jurisdictions" / folder
    entries = sorted((e for e in root.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name)
    return [(f"{folder}/{e.name}", e.read_text(encoding="utf-8")) for e in entries]


def _instruments() -> list[Instrument]:
    found = []
    for name, text in _yaml_files("instruments"):
        found += [_parse_obj(i, name, Instrument) for i in safe_load(text)["instruments"]]
    return found


@cache
def instruments() -> tuple[Instrument, ...]:
    """Return every known certification and safeguard (names and aliases), sorted by name.

    Cheaper than :func:`legal_data`: only the instrument files are read.

    >>> "EU SCC 2021" in {i.name for i in instruments()}
    True
    """
    return tuple(sorted(_instruments(), key=lambda i: i.name))


def unknown_instrument(written: str) -> str | None:
    """Answer why an instrument name as written is not known (None: it is), with a hint.

    >>> unknown_instrument("EU SCCs") is None
    True
    >>> unknown_instrument("Privacy Shield 2026").endswith("did you mean 'EU-US Privacy Shield'?")
    True
    """
    import difflib

    names = {_key(alias): i.name for i in instruments() for alias in [i.name, *i.aliases]}
    if _key(written) in names:
        return None
    canonical = sorted({i.name for i in instruments()})
    close = difflib.get_close_matches(written, canonical, n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    return f"{written!r} is not a known certification or safeguard{hint}"


def ended_instrument(written: str, today: date) -> str | None:
    """Answer whether a known instrument no regime accepts any more (None: one still does).

    >>> ended_instrument("Privacy Shield", date(2026, 12, 1))
    "'Privacy Shield' (EU-US Privacy Shield) ended on 2020-07-16: no regime accepts it after that"
    """
    data = legal_data()
    name = data.instrument_name(written)
    if name is None:
        return None
    facts: list[Adequacy | Safeguard] = [f for r in data.regimes for f in r.adequacy]
    facts += [f for r in data.regimes for f in r.safeguards]
    ends = [
        fact.until
        for fact in facts
        if name in (getattr(fact, "certification", None), getattr(fact, "name", None))
    ]
    if not ends or None in ends or max(e for e in ends if e) > today:
        return None
    last = max(e for e in ends if e)
    return f"{written!r} ({name}) ended on {last}: no regime accepts it after that"


@cache
def legal_data() -> LegalData:
    """Load and validate data/jurisdictions (once per process)."""
    digest = hashlib.sha256()
    regimes = []
    for name, text in _yaml_files("regimes"):
        digest.update(name.encode() + b"\0" + text.encode())
        regimes.append(_parse(text, name, Regime))
    for name, text in _yaml_files("instruments"):
        digest.update(name.encode() + b"\0" + text.encode())
    blocs = (data_root() / "jurisdictions" / "blocs.yaml").read_text(encoding="utf-8")
    digest.update(b"blocs.yaml\0" + blocs.encode())
    text = (data_root() / "jurisdictions" / "principles.yaml").read_text(encoding="utf-8")
    digest.update(b"principles.yaml\0" + text.encode())
    principles = {
        key: _parse_obj(value, "principles.yaml", Principle)
        for key, value in safe_load(text).items()
    }
    data = LegalData(regimes, _instruments(), "sha256:" + digest.hexdigest(), principles)
    _check(data)
    return data


def _parse(text: str, name: str, model: type[Regime]) -> Regime:
    return _parse_obj(safe_load(text), name, model)


def _parse_obj(obj: object, name: str, model: type[_M]) -> _M:
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        lines = [f"data/jurisdictions/{name}: does not follow docs/jurisdiction-data.md"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {loc}: {err['msg']}")
        raise LegalDataError("\n".join(lines)) from None


def _check(data: LegalData) -> None:
    """Cross-file checks: source keys exist, codes are valid, instrument names are known."""
    problems = _instrument_problems(data.instruments)
    for r in data.regimes:
        problems += regime_problems(r, data)
    if problems:
        raise LegalDataError("data/jurisdictions problems:\n  " + "\n  ".join(problems))


def _instrument_problems(instruments: list[Instrument]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for i in instruments:
        for alias in [i.name, *i.aliases]:
            if _key(alias) in seen and seen[_key(alias)] != i.name:
                problems.append(f"instrument name {alias!r} is used by {seen[_key(alias)]!r} too")
            seen[_key(alias)] = i.name
    return problems


def regime_problems(r: Regime, data: LegalData) -> list[str]:
    """List what is wrong with one regime: unknown sources, codes, instruments; undated facts."""
    problems = []
    keys = {s.id for s in r.sources}
    for fact in _facts(r):
        if fact.source not in keys:
            problems.append(f"{r.id}: fact cites unknown source {fact.source!r}")
        if fact.as_of is None and getattr(fact, "start", None) is None:
            problems.append(f"{r.id}: a {type(fact).__name__} fact has no date (as_of, or from)")
    spans = [(r.id, r.start, r.until)] + [
        (fact_label(f), getattr(f, "start", None), getattr(f, "until", None)) for f in _facts(r)
    ]
    problems += [
        f"{r.id}: {label} ends ({until}) on or before it starts ({start})"
        for label, start, until in spans
        if start is not None and until is not None and until <= start
    ]
    codes = list(r.applies_to)
    codes += [c for f in r.free_flow for c in f.area]
    codes += [a.destination for a in r.adequacy]
    dated: list[Adequacy | Safeguard] = [*r.adequacy, *r.safeguards]
    codes += [c for f in dated for c in f.origins or ()]
    codes += [c for cc in r.countries_of_concern for c in cc.countries]
    problems += [
        f"{r.id}: unknown code {code!r}"
        for code in codes
        if places.place_problem(code, allow_blocs=True)
    ]
    names = [s.name for s in r.safeguards] + [
        a.certification for a in r.adequacy if a.certification
    ]
    problems += [
        f"{r.id}: {name!r} is not a canonical name in instruments/"
        for name in names
        if data.instrument_name(name) != name
    ]
    return problems


def check_regime_file(path: str) -> list[str]:
    """Check one regime file against the format and the shipped instruments (for curators).

    >>> check_regime_file(str(data_root() / "jurisdictions" / "regimes" / "EU-GDPR.yaml"))
    []
    """
    from pathlib import Path

    try:
        regime = _parse(Path(path).read_text(encoding="utf-8"), Path(path).name, Regime)
    except LegalDataError as exc:
        return str(exc).splitlines()
    instruments = _instruments()
    data = LegalData([regime], instruments, "")
    return _instrument_problems(instruments) + regime_problems(regime, data)


def _facts(r: Regime) -> list[Fact]:
    facts: list[Fact] = [
        *r.laws,
        *r.free_flow,
        *r.adequacy,
        *r.safeguards,
        *r.review_triggers,
        *r.localisation,
        *r.countries_of_concern,
        *(t for cc in r.countries_of_concern for t in cc.thresholds),
        *r.ai_training,
    ]
    if r.remote_access_is_transfer is not None:
        facts.append(r.remote_access_is_transfer)
    if r.own_staff_abroad is not None:
        facts.append(r.own_staff_abroad)
    if r.unrestricted is not None:
        facts.append(r.unrestricted)
    return facts


def regime_facts(regime: Regime) -> list[Fact]:
    """Return every fact of a regime (for provenance checks and listings)."""
    return _facts(regime)
