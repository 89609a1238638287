"""The vendor catalogue: real SaaS vendors' facts, each with its source, date and confidence.

One YAML file per vendor in ``data/vendors/`` (format: docs/vendor-data.md). A user may add
files of their own in a folder of the same format; they are validated the same way and win
over a shipped entry with the same key.

>>> from residency.catalogue import vendors
>>> cat = vendors()
>>> cat["slack"].vendor.name
'Slack Technologies, LLC'
>>> cat["slack"].option("de").hosting[0].country
'DE'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from residency import places, regions
from residency._errors import InventoryProblem, ResidencyError
from residency._resources import data_root
from residency._words import count
from residency._yaml import Loader, line_map
from residency.vocabulary import Confidence

DPF_PARTS = ("EU-US DPF", "UK Extension to the EU-US DPF", "Swiss-US DPF")
STALE_AFTER = timedelta(days=365)
_KEY = r"^[a-z0-9][a-z0-9-]*$"
_PLAN = r"^[a-z0-9][a-z0-9+._-]*$"


class VendorDataError(ResidencyError, ValueError):
    """Vendor files failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[InventoryProblem]) -> None:
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.field))
        head = f"{count(len(self.problems), 'problem')} in the vendor catalogue"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class UnknownVendorError(ResidencyError, LookupError):
    """A catalogue key is not in the catalogue."""


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_enum_values=True, validate_default=True
    )


class _Fact(_Strict):
    source: str = Field(description="id of one of the file's sources")
    as_of: date = Field(description="the date the fact is known to be true of")
    confidence: Confidence


class Source(_Strict):
    """A page a fact was read on."""

    id: str = Field(pattern=_KEY)
    title: str
    url: str = Field(pattern=r"^https?://")
    retrieved: date
    published: date | None = None
    kind: Literal["vendor", "registry", "secondary"] = "vendor"


class VendorEntity(_Fact):
    """The contracting entity: who the customer signs with, and where it is established."""

    name: str
    country: str


class RegionalEntity(VendorEntity):
    """A contracting entity for customers in some places (``customers: [EEA, GB]``)."""

    customers: list[str] = Field(min_length=1)
    notes: str | None = None


class Dpf(_Strict):
    """The vendor's Data Privacy Framework status, certified only with a source showing it."""

    status: Literal["certified", "not_verified"]
    participant: str | None = None
    participant_id: str | None = None
    scope: list[str] = Field(default_factory=list)
    checked: date | None = None
    source: str | None = None
    confidence: Confidence | None = None
    searched: str | None = None
    as_of: date | None = None

    @model_validator(mode="after")
    def _complete(self) -> Dpf:
        if self.status == "certified":
            missing = [
                name
                for name in ("participant", "checked", "source", "confidence")
                if getattr(self, name) is None
            ]
            if not self.scope:
                missing.append("scope")
            if missing:
                msg = f"a certified DPF needs {', '.join(missing)} (from a source that shows it)"
                raise ValueError(msg)
        elif self.searched is None or self.as_of is None:
            msg = "status not_verified needs searched (what was looked at) and as_of"
            raise ValueError(msg)
        return self

    @property
    def when(self) -> date:
        """Return the date this status is known to be true of."""
        value = self.checked if self.status == "certified" else self.as_of
        assert value is not None
        return value


class Safeguard(_Fact):
    """A transfer mechanism the vendor's DPA offers."""

    name: str
    modules: list[Literal[1, 2, 3, 4]] = Field(default_factory=list)
    notes: str | None = None


class HostingRow(_Strict):
    """One place data is stored: a cloud region, or a country (and city)."""

    provider: str | None = None
    region: str | None = None
    country: str | None = None
    city: str | None = None
    purpose: str | None = None

    @model_validator(mode="after")
    def _located(self) -> HostingRow:
        if self.region is None and self.country is None:
            msg = "expected {provider: ..., region: ...} or {country: XX}"
            raise ValueError(msg)
        if self.region is not None and self.provider is None:
            msg = "a region needs its provider (aws, gcp or azure)"
            raise ValueError(msg)
        return self

    def place(self) -> str:
        """Return the ISO code of where this row stores data."""
        if self.region is not None and self.provider is not None:
            found = regions.resolve(self.provider, self.region)
            if found is not None:
                return found.place
        assert self.country is not None
        return self.country


class HostingOption(_Fact):
    """Where the vendor keeps a customer's data: the default, or a residency option."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    plans: list[str] | None = None
    hosting: list[HostingRow] = Field(
        default_factory=list, description="empty when the vendor names no location"
    )
    outside: list[str] = Field(default_factory=list)
    notes: str | None = None


class Hosting(_Strict):
    """The default hosting and the data-residency options the vendor sells."""

    default: HostingOption
    options: list[HostingOption] = Field(default_factory=list)


class SubprocessorEntry(_Strict):
    """One sub-processor; ``source``/``as_of`` default to the list's."""

    name: str
    purpose: str | None = None
    countries: list[str] = Field(min_length=1)
    certifications: list[str] = Field(default_factory=list)
    safeguards: list[str] = Field(default_factory=list)
    source: str | None = None
    as_of: date | None = None
    confidence: Confidence
    notes: str | None = None


class Subprocessors(_Strict):
    """The vendor's published sub-processor list."""

    list_url: str = Field(pattern=r"^https?://")
    source: str
    as_of: date
    entries: list[SubprocessorEntry] = Field(default_factory=list)


class AiTrainingEntry(_Fact):
    """Whether the vendor trains models on customer data, for one plan group (and part)."""

    plans: Literal["all"] | list[str] = "all"
    part: str | None = None
    uses_customer_data: bool
    default: Literal["opt-in", "opt-out", "none"]
    opt_out: Literal["admin_setting", "email", "contract", "not_possible"] | None = None
    how_to_opt_out: str | None = None
    since: date | None = None
    scope: Literal["global", "per_customer"] | None = None
    data: list[str] | None = None
    models: str | None = None
    retention_after_opt_out: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AiTrainingEntry:
        if self.uses_customer_data and self.default == "none":
            msg = "'none' contradicts uses_customer_data: true; expected opt-in or opt-out"
            raise ValueError(msg)
        return self

    def covers(self, plan: str | None) -> bool:
        """Tell whether this entry applies to ``plan`` (``None``: only entries for all plans)."""
        return self.plans == "all" or (plan is not None and plan in self.plans)


class Vendor(_Strict):
    """One catalogue entry: everything public sources say about one vendor's product."""

    key: str = Field(pattern=_KEY)
    name: str
    category: str | None = None
    as_of: date
    sources: list[Source] = Field(min_length=1)
    vendor: VendorEntity
    entities: list[RegionalEntity] = Field(default_factory=list)
    dpf: Dpf
    safeguards: list[Safeguard] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)
    plans_source: str | None = None
    hosting: Hosting
    subprocessors: Subprocessors | None = None
    ai_training: list[AiTrainingEntry] = Field(default_factory=list)
    unconfirmed: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def source(self, source_id: str) -> Source:
        """Return the source with this id (validation guarantees it exists)."""
        return next(s for s in self.sources if s.id == source_id)

    def options(self) -> list[HostingOption]:
        """Return the default hosting followed by every residency option."""
        return [self.hosting.default, *self.hosting.options]

    def option(self, key: str | None) -> HostingOption:
        """Return the hosting option ``key`` (``None``: the default), or raise with suggestions."""
        if key is None:
            return self.hosting.default
        for opt in self.options():
            if opt.key == key:
                return opt
        keys = [o.key for o in self.options()]
        msg = f"{self.key} has no residency option {key!r}: expected one of {', '.join(keys)}"
        raise UnknownVendorError(msg + _did_you_mean(key, keys))

    def entity_for(self, country: str | None) -> VendorEntity:
        """Answer who a customer established in ``country`` contracts with."""
        if country:
            for entity in self.entities:
                covered = set().union(*(places.expand(c) for c in entity.customers))
                if places.within(country, covered):
                    return entity
        return self.vendor

    def ai_for(self, plan: str | None) -> list[AiTrainingEntry]:
        """Return the AI-training entries that apply to ``plan``."""
        return [e for e in self.ai_training if e.covers(plan)]

    def facts(self) -> list[Fact]:
        """List every fact with its source, date and confidence (for display and staleness)."""
        out: list[Fact] = []

        def add(path: str, value: str, src: str | None, as_of: date, conf: str | None) -> None:
            out.append(Fact(path, value, self.source(src) if src else None, as_of, conf))

        v = self.vendor
        add("vendor", f"{v.name} ({v.country})", v.source, v.as_of, v.confidence)
        for i, e in enumerate(self.entities):
            where = ", ".join(e.customers)
            add(
                f"entities[{i}]",
                f"{e.name} ({e.country}) for {where}",
                e.source,
                e.as_of,
                e.confidence,
            )
        d = self.dpf
        if d.status == "certified":
            value = f"certified: {d.participant} ({', '.join(d.scope)})"
        else:
            value = f"not verified: {d.searched}"
        add("dpf", value, d.source, d.when, d.confidence)
        for s in self.safeguards:
            mods = f" modules {', '.join(map(str, s.modules))}" if s.modules else ""
            add(f"safeguards[{s.name}]", s.name + mods, s.source, s.as_of, s.confidence)
        for o in self.options():
            rows = ", ".join(_row_text(r) for r in o.hosting)
            plans = f" [plans: {', '.join(o.plans)}]" if o.plans else ""
            add(f"hosting[{o.key}]", f"{o.name}: {rows}{plans}", o.source, o.as_of, o.confidence)
        if self.subprocessors is not None:
            sp = self.subprocessors
            for entry in sp.entries:
                value = f"{entry.purpose or '-'} ({', '.join(entry.countries)})"
                add(
                    f"subprocessors[{entry.name}]",
                    value,
                    entry.source or sp.source,
                    entry.as_of or sp.as_of,
                    entry.confidence,
                )
        for training in self.ai_training:
            plans = "all plans" if training.plans == "all" else ", ".join(training.plans)
            part = f" ({training.part})" if training.part else ""
            how = f", opt out: {training.opt_out}" if training.opt_out else ""
            uses = str(training.uses_customer_data).lower()
            value = f"uses customer data: {uses}, default {training.default}{how}"
            add(
                f"ai_training[{plans}{part}]",
                value,
                training.source,
                training.as_of,
                training.confidence,
            )
        return out

    def ai_summary(self) -> str:
        """Say in a few words whether the vendor trains on customer data by default, per plan."""
        if not self.ai_training:
            return "not recorded"
        by_plan: dict[str, list[str]] = {}
        for e in self.ai_training:
            text = e.default + (f" ({e.opt_out})" if e.opt_out else "")
            if e.part:
                text = f"{e.part}: {text}"
            for plan in ["all"] if e.plans == "all" else e.plans:
                by_plan.setdefault(plan, []).append(text)
        groups: dict[str, list[str]] = {}
        for plan, texts in by_plan.items():
            groups.setdefault("; ".join(texts), []).append(plan)
        if len(groups) == 1:
            return next(iter(groups))
        return " | ".join(f"{','.join(plans)}: {text}" for text, plans in groups.items())

    def oldest(self) -> date:
        """Return the date of the oldest fact in the entry."""
        return min(f.as_of for f in self.facts())


@dataclass(frozen=True)
class Fact:
    """One fact of a catalogue entry, flattened for display."""

    path: str
    value: str
    source: Source | None
    as_of: date
    confidence: str | None

    def stale(self, today: date, after: timedelta = STALE_AFTER) -> bool:
        """Tell whether the fact is older than ``after`` on ``today``."""
        return today - self.as_of > after


def _row_text(row: HostingRow) -> str:
    if row.region:
        text = f"{row.provider} {row.region}"
    else:
        text = " ".join(p for p in (row.provider, row.city, row.country) if p)
    return f"{text} ({row.purpose})" if row.purpose else text


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(known), n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


# ----------------------------------------------------------------- the catalogue


@dataclass
class Catalogue(Mapping[str, Vendor]):
    """The vendors read from the shipped catalogue and any user folders, by key."""

    entries: dict[str, Vendor] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    problems: list[InventoryProblem] = field(default_factory=list)

    def __getitem__(self, key: str) -> Vendor:
        return self.entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.entries))

    def __len__(self) -> int:
        return len(self.entries)

    def get_vendor(self, key: str) -> Vendor:
        """Return one vendor, or raise :class:`UnknownVendorError` with suggestions."""
        if key in self.entries:
            return self.entries[key]
        broken = [p for p in self.problems if Path(p.file).stem == key]
        if broken:
            raise VendorDataError(broken)
        msg = f"unknown catalogue key {key!r}: expected a file name in data/vendors/"
        raise UnknownVendorError(msg + _did_you_mean(key, self.entries))

    def check(self) -> Catalogue:
        """Raise :class:`VendorDataError` if any file was invalid; else return self."""
        if self.problems:
            raise VendorDataError(self.problems)
        return self


def vendors(*folders: str | Path, strict: bool = True) -> Catalogue:
    """Answer the vendor catalogue: shipped entries, plus those in ``folders`` (which win).

    With ``strict`` (the default) any invalid file raises :class:`VendorDataError`; without
    it the valid entries are returned and ``problems`` lists the rest.
    """
    shipped = _shipped()
    cat = Catalogue(dict(shipped.entries), dict(shipped.files), list(shipped.problems))
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            cat.problems.append(InventoryProblem(str(root), None, "folder", "no such folder"))
            continue
        for path in sorted(root.glob("*.yaml")):
            _add(cat, str(path), path.read_text(encoding="utf-8"))
    return cat.check() if strict else cat


@cache
def _shipped() -> Catalogue:
    cat = Catalogue()
    folder = data_root() / "vendors"
    names = sorted(e.name for e in folder.iterdir() if e.name.endswith(".yaml"))
    for name in names:
        _add(cat, f"data/vendors/{name}", (folder / name).read_text(encoding="utf-8"))
    return cat


def _add(cat: Catalogue, file: str, text: str) -> None:
    vendor, problems = parse_vendor(text, file)
    cat.problems = [p for p in cat.problems if Path(p.file).stem != Path(file).stem]
    cat.problems += problems
    if vendor is not None:
        cat.entries[vendor.key] = vendor
        cat.files[vendor.key] = file
    else:
        cat.entries.pop(Path(file).stem, None)


def parse_vendor(text: str, file: str) -> tuple[Vendor | None, list[InventoryProblem]]:
    """Parse and cross-check one vendor file: the entry, or None and every problem found."""
    problems: list[InventoryProblem] = []
    try:
        node = yaml.compose(text, Loader=Loader)
        raw = yaml.load(text, Loader=Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.append(InventoryProblem(file, line, "yaml", f"not valid YAML: {exc}"))
        return None, problems
    lines = line_map(node, deep=True) if node is not None else {}

    def at(loc: tuple[Any, ...]) -> int | None:
        for end in range(len(loc), -1, -1):
            if tuple(loc[:end]) in lines:
                return lines[tuple(loc[:end])]
        return None

    if not isinstance(raw, dict):
        problems.append(
            InventoryProblem(file, 1, "file", "expected a mapping (key: ..., name: ...)")
        )
        return None, problems
    try:
        vendor = Vendor.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(InventoryProblem(file, at(loc), _path(loc), _explain(err)))
        return None, problems
    for loc, message in _cross_check(vendor, Path(file).stem):
        problems.append(InventoryProblem(file, at(loc), _path(loc), message))
    return (None if problems else vendor), problems


def _path(loc: tuple[Any, ...]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    return text.lstrip(".") or "file"


def _explain(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    if kind == "missing":
        return "missing: this field is required (see docs/vendor-data.md)"
    if kind == "extra_forbidden":
        return "unknown field: check the spelling against docs/vendor-data.md"
    if kind in ("date_parsing", "date_type", "date_from_datetime_parsing"):
        return f"invalid date {err.get('input')!r}: expected YYYY-MM-DD"
    if kind in ("literal_error", "enum"):
        return f"expected one of {err['ctx']['expected']}, got {err.get('input')!r}"
    if kind == "string_pattern_mismatch":
        return f"{err.get('input')!r} does not match {err['ctx']['pattern']}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{msg} (got {err.get('input')!r})" if kind != "value_error" else msg


Loc = tuple[Any, ...]
Found = Iterator[tuple[Loc, str]]


def _cross_check(v: Vendor, stem: str) -> Found:
    """Yield (location, problem) for what the models cannot check on their own."""
    check = _CrossCheck(v)
    if v.key != stem:
        yield ("key",), f"key {v.key!r} must equal the file name {stem!r}"
    yield from check.sources()
    yield from check.entities()
    yield from check.dpf()
    for i, s in enumerate(v.safeguards):
        yield from check.src(("safeguards", i, "source"), s.source)
        yield from check.instrument(("safeguards", i, "name"), s.name)
    yield from check.plans()
    yield from check.hosting()
    yield from check.subprocessors()
    yield from check.ai_training()


class _CrossCheck:
    """The cross-checks of one vendor entry, one method per section."""

    def __init__(self, v: Vendor) -> None:
        from residency.jurisdictions import legal_data

        self.v = v
        self.ids = [s.id for s in v.sources]
        self.legal = legal_data()

    def src(self, loc: Loc, sid: str | None) -> Found:
        if sid is not None and sid not in self.ids:
            yield loc, f"unknown source {sid!r}: expected one of {', '.join(self.ids)}"

    @staticmethod
    def place(loc: Loc, code: str, *, blocs: bool = False) -> Found:
        problem = places.place_problem(code, allow_blocs=blocs)
        if problem:
            yield loc, problem

    def instrument(self, loc: Loc, name: str) -> Found:
        canonical = self.legal.instrument_name(name)
        if canonical is None:
            expected = "a name from data/jurisdictions/instruments"
            yield loc, f"unknown instrument {name!r}: expected {expected}"
        elif canonical != name:
            yield loc, f"write the canonical instrument name {canonical!r}, not {name!r}"

    def plan_refs(self, loc: Loc, refs: Iterable[str]) -> Found:
        known = ", ".join(self.v.plans) or "none (add plans:)"
        for i, plan in enumerate(refs):
            if plan not in self.v.plans:
                hint = _did_you_mean(plan, self.v.plans)
                yield (*loc, i), f"unknown plan {plan!r}: expected one of {known}{hint}"

    def sources(self) -> Found:
        for i, sid in enumerate(self.ids):
            if self.ids.index(sid) != i:
                yield ("sources", i, "id"), f"duplicate source id {sid!r}"

    def entities(self) -> Found:
        yield from self.src(("vendor", "source"), self.v.vendor.source)
        yield from self.place(("vendor", "country"), self.v.vendor.country)
        for i, e in enumerate(self.v.entities):
            yield from self.src(("entities", i, "source"), e.source)
            yield from self.place(("entities", i, "country"), e.country)
            for j, code in enumerate(e.customers):
                yield from self.place(("entities", i, "customers", j), code, blocs=True)

    def dpf(self) -> Found:
        yield from self.src(("dpf", "source"), self.v.dpf.source)
        for i, part in enumerate(self.v.dpf.scope):
            if part not in DPF_PARTS:
                expected = ", ".join(DPF_PARTS)
                yield ("dpf", "scope", i), f"unknown DPF part {part!r}: expected one of {expected}"

    def plans(self) -> Found:
        v = self.v
        for i, plan in enumerate(v.plans):
            if not re.match(_PLAN, plan):
                yield ("plans", i), f"invalid plan key {plan!r}: lowercase letters, digits, + . _ -"
            if v.plans.index(plan) != i:
                yield ("plans", i), f"duplicate plan {plan!r}"
        if v.plans and v.plans_source is None:
            yield ("plans_source",), "missing: plans need the source that names them"
        yield from self.src(("plans_source",), v.plans_source)

    def hosting(self) -> Found:
        keys: list[str] = []
        for i, opt in enumerate(self.v.options()):
            loc: Loc = ("hosting", "default") if i == 0 else ("hosting", "options", i - 1)
            if opt.key in keys:
                yield (*loc, "key"), f"duplicate option key {opt.key!r}"
            keys.append(opt.key)
            yield from self.src((*loc, "source"), opt.source)
            yield from self.plan_refs((*loc, "plans"), opt.plans or [])
            for j, row in enumerate(opt.hosting):
                yield from _row_problems((*loc, "hosting", j), row)

    def subprocessors(self) -> Found:
        sp = self.v.subprocessors
        if sp is None:
            return
        yield from self.src(("subprocessors", "source"), sp.source)
        for i, e in enumerate(sp.entries):
            loc = ("subprocessors", "entries", i)
            yield from self.src((*loc, "source"), e.source)
            for j, code in enumerate(e.countries):
                yield from self.place((*loc, "countries", j), code)
            for kind in ("certifications", "safeguards"):
                for j, name in enumerate(getattr(e, kind)):
                    yield from self.instrument((*loc, kind, j), name)

    def ai_training(self) -> Found:
        from residency.categories import categories

        known = categories()
        groups: set[tuple[str, str | None]] = set()
        for i, e in enumerate(self.v.ai_training):
            loc = ("ai_training", i)
            yield from self.src((*loc, "source"), e.source)
            if e.plans != "all":
                yield from self.plan_refs((*loc, "plans"), e.plans)
            for j, name in enumerate(e.data or []):
                if name not in known:
                    yield (
                        (*loc, "data", j),
                        (f"unknown data category {name!r}: expected one of data/categories.yaml"),
                    )
            for plan in [e.plans] if e.plans == "all" else e.plans:
                if (plan, e.part) in groups:
                    yield loc, f"two ai_training entries for plan {plan!r} and part {e.part!r}"
                groups.add((plan, e.part))


def _row_problems(loc: Loc, row: HostingRow) -> Found:
    if row.region is not None and row.provider is not None:
        problem = regions.region_problem(row.provider, row.region)
        if problem:
            yield (*loc, "region"), problem
            return
        found = regions.resolve(row.provider, row.region)
        assert found is not None
        if row.country is not None and row.country not in (found.country, found.place):
            yield (
                (*loc, "country"),
                f"{row.country!r} contradicts region {row.region} in {found.place}",
            )
        return
    if row.country is not None:
        problem = places.place_problem(row.country)
        if problem:
            yield (*loc, "country"), problem


# ------------------------------------------------------ inventories naming an entry

#: Inventory system fields a catalogue entry can supply.
SYSTEM_FIELDS = (
    "name",
    "vendor",
    "vendor_country",
    "certifications",
    "safeguards",
    "hosting",
    "subprocessors",
    "ai_training",
    "sources",
    "as_of",
)


@dataclass
class Resolution:
    """A system's inventory fields completed from its catalogue entry.

    ``data`` is the merged raw system (inline fields win, field by field; ``ai_training``
    merges key by key); ``taken`` names the fields that came from the catalogue; ``stale``
    describes used facts older than 12 months; ``problems`` are (location, message) pairs.
    """

    data: dict[str, Any]
    key: str
    taken: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[tuple[tuple[Any, ...], str]] = field(default_factory=list)

    def summary(self, system_id: str) -> str:
        """Say in one line which facts of ``system_id`` came from the catalogue."""
        picks = [
            f"{name} {self.data[name]}"
            for name in ("plan", "residency_option")
            if self.data.get(name)
        ]
        how = f" ({', '.join(picks)})" if picks else ""
        fields = ", ".join(self.taken) or "nothing (all overridden)"
        return f"system {system_id}: from catalogue {self.key!r}{how}: {fields}"


def resolve_system(
    raw: Mapping[str, Any],
    *,
    organisation_country: str | None = None,
    catalogue: Catalogue | None = None,
    today: date | None = None,
) -> Resolution:
    """Complete one raw inventory system that names ``catalogue: KEY`` from the catalogue."""
    cat = catalogue if catalogue is not None else vendors(strict=False)
    out = Resolution(dict(raw), str(raw.get("catalogue")))
    picked = _pick(cat, raw, out)
    if picked is None:
        return out
    v, plan, option = picked
    facts, used = _system_facts(v, option, plan, organisation_country, out)
    if not option.hosting and "hosting" not in raw:
        msg = (
            f"{v.key}'s catalogue entry names no location for option {option.key!r}: "
            "write the system's hosting: yourself"
        )
        out.problems.append((("hosting",), msg))
    for name in SYSTEM_FIELDS:
        if name not in facts:
            continue
        if name not in raw:
            out.data[name] = facts[name]
            out.taken.append(name)
        elif isinstance(raw[name], dict) and isinstance(facts[name], dict):
            out.data[name] = {**facts[name], **raw[name]}
            if any(k not in raw[name] for k in facts[name]):
                out.taken.append(f"{name} (except {', '.join(sorted(raw[name]))})")
    out.stale = _stale(used, out.taken, today or date.today())
    ai = out.data.get("ai_training")
    if isinstance(ai, dict) and ai.get("opt_out") == "not_possible" and ai.get("opted_out"):
        out.warnings.append(
            f"ai_training.opted_out is recorded, but {v.name} allows no opt-out "
            f"(on plan {plan or 'any'}) for some data: see the catalogue's ai_training"
        )
    return out


def _pick(
    cat: Catalogue, raw: Mapping[str, Any], out: Resolution
) -> tuple[Vendor, str | None, HostingOption] | None:
    """Find the entry, plan and hosting option a system names, or record why not."""
    key = out.key
    try:
        v = cat.get_vendor(key)
    except UnknownVendorError as exc:
        out.problems.append((("catalogue",), str(exc)))
        return None
    except VendorDataError as exc:
        out.problems.append((("catalogue",), f"catalogue entry {key!r} is invalid: {exc}"))
        return None
    plan = None if raw.get("plan") is None else str(raw["plan"])
    if plan is not None and plan not in v.plans:
        known = ", ".join(v.plans) or "none"
        hint = _did_you_mean(plan, v.plans)
        out.problems.append(
            (("plan",), f"{key} has no plan {plan!r}: expected one of {known}{hint}")
        )
        return None
    wanted = raw.get("residency_option")  # untrusted: YAML may give a number
    try:
        option = v.option(None if wanted is None else str(wanted))
    except UnknownVendorError as exc:
        out.problems.append((("residency_option",), str(exc)))
        return None
    if plan is not None and option.plans and plan not in option.plans:
        msg = (
            f"{key} residency option {option.key!r} needs plan {' or '.join(option.plans)}, "
            f"not {plan!r}"
        )
        out.problems.append((("residency_option",), msg))
        return None
    return v, plan, option


def _stale(used: Mapping[str, list[Fact]], taken: list[str], today: date) -> list[str]:
    """Describe, per system field, the catalogue facts it used that are over 12 months old."""
    found = []
    fields = {t.split(" ")[0] for t in taken}
    for name, fact_list in used.items():
        old = sorted((f for f in fact_list if f.stale(today)), key=lambda f: f.as_of)
        if name not in fields or not old:
            continue
        dates = sorted({f.as_of.isoformat() for f in old})
        span = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
        plural = len(old) != 1
        where = old[0].source.url if old[0].source else "the vendor's pages"
        found.append(
            f"{len(old)} catalogue fact{'s' if plural else ''} used for {name} "
            f"{'are' if plural else 'is'} older than 12 months (as of {span}): re-check {where}"
        )
    return found


def _system_facts(
    v: Vendor,
    option: HostingOption,
    plan: str | None,
    country: str | None,
    out: Resolution,
) -> tuple[dict[str, Any], dict[str, list[Fact]]]:
    """Translate a catalogue entry into inventory system fields, with the facts each used."""
    all_facts = v.facts()

    def used(prefix: str) -> list[Fact]:
        return [f for f in all_facts if f.path == prefix or f.path.startswith(prefix + "[")]

    entity = v.entity_for(country)
    entity_fact = Fact(
        "vendor", entity.name, v.source(entity.source), entity.as_of, entity.confidence
    )
    url = v.source(option.source).url
    facts: dict[str, Any] = {
        "name": v.name,
        "vendor": entity.name,
        "vendor_country": entity.country,
        "certifications": list(v.dpf.scope) if v.dpf.status == "certified" else [],
        "safeguards": [s.name for s in v.safeguards],
        "sources": list(dict.fromkeys(s.url for s in v.sources)),
        "as_of": v.as_of,
    }
    if option.hosting:
        facts["hosting"] = [
            {k: val for k, val in {**row.model_dump(), "source": url}.items() if val is not None}
            for row in option.hosting
        ]
    uses: dict[str, list[Fact]] = {
        "vendor": [entity_fact],
        "certifications": used("dpf"),
        "safeguards": used("safeguards"),
        "hosting": [f for f in used("hosting") if f.path == f"hosting[{option.key}]"],
    }
    if v.subprocessors is not None:
        sp = v.subprocessors
        facts["subprocessors"] = [
            {
                k: val
                for k, val in {
                    "name": e.name,
                    "purpose": e.purpose,
                    "countries": list(e.countries),
                    "certifications": list(e.certifications),
                    "safeguards": list(e.safeguards),
                    "source": v.source(e.source or sp.source).url,
                    "as_of": e.as_of or sp.as_of,
                    "notes": e.notes,
                }.items()
                if val is not None
            }
            for e in sp.entries
        ]
        uses["subprocessors"] = used("subprocessors")
    entries = v.ai_for(plan)
    if v.ai_training and plan is None and len(entries) < len(v.ai_training):
        plans = sorted(
            {p for e in v.ai_training if e.plans != "all" for p in e.plans}, key=v.plans.index
        )
        out.problems.append(
            (
                ("plan",),
                f"{v.key}'s AI-training terms depend on the plan: "
                f"add plan: one of {', '.join(plans)}",
            )
        )
    elif entries:
        facts["ai_training"] = _merge_ai(v, entries)
        uses["ai_training"] = [
            f for f in used("ai_training") if any(_ai_path(e) == f.path for e in entries)
        ]
    return facts, uses


def _ai_path(e: AiTrainingEntry) -> str:
    plans = "all plans" if e.plans == "all" else ", ".join(e.plans)
    part = f" ({e.part})" if e.part else ""
    return f"ai_training[{plans}{part}]"


_ORDER = {"opt-out": 2, "opt-in": 1, "none": 0}
_OPT_OUT_ORDER = {"not_possible": 3, "contract": 2, "email": 1, "admin_setting": 0}


def _merge_ai(v: Vendor, entries: list[AiTrainingEntry]) -> dict[str, Any]:
    """Fold the entries for one plan (one per part of the data) into one inventory block.

    The most exposing part decides: data still trained on after an opt-out keeps the
    system exposed, so ``opt_out`` is the hardest way out among the parts.
    """
    uses = any(e.uses_customer_data for e in entries)
    default = max((e.default for e in entries), key=_ORDER.__getitem__)
    out: dict[str, Any] = {"uses_customer_data": uses, "default": default}
    ways = [e.opt_out for e in entries if e.opt_out is not None and e.default == "opt-out"]
    if ways:
        out["opt_out"] = max(ways, key=_OPT_OUT_ORDER.__getitem__)
    hows = [
        f"{e.part}: {e.how_to_opt_out}" if e.part and len(entries) > 1 else e.how_to_opt_out
        for e in entries
        if e.how_to_opt_out
    ]
    if hows:
        out["how_to_opt_out"] = " ".join(hows)
    since = [e.since for e in entries if e.since is not None and e.default == default]
    if since:
        out["since"] = max(since)
    scopes = {e.scope for e in entries if e.scope is not None}
    if scopes:
        out["scope"] = "global" if "global" in scopes else "per_customer"
    if all(e.data is not None for e in entries):
        out["data"] = sorted({c for e in entries for c in e.data or []})
    first = min(entries, key=lambda e: e.as_of)
    out["source"] = v.source(first.source).url
    out["as_of"] = first.as_of
    notes = []
    for e in entries:
        bits = [
            f"models: {e.models}. " if e.models else "",
            f"opt-out: {e.opt_out}. " if e.opt_out and len(entries) > 1 else "",
            f"kept after opt-out: {e.retention_after_opt_out}. "
            if e.retention_after_opt_out
            else "",
            e.notes or "",
        ]
        text = "".join(bits).strip()
        if text:
            notes.append(f"{e.part}: {text}" if e.part and len(entries) > 1 else text)
    if notes:
        out["notes"] = " ".join(notes)
    return out
