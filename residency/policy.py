"""Residency as code: a policy file of rules, checked against an organisation's data map.

A policy (docs/policy.md) is YAML: ``rules:``, each scoped by subjects (clients or staff,
by origin or id), systems, data categories and kinds of location, and saying where data
may be (``allow: [EEA, GB, CH]``, ``deny: [CN]``), which bases are not acceptable
(``forbid_bases: [no_basis]``), that no vendor trains on the data by default, how long an
AI-training window may last, that every client's residency clause holds, or that every
transfer route needing a transfer impact assessment has one recorded. The file is
untrusted input, validated like an inventory: every problem names the file, the line, the
field and what was expected.

Each :class:`Violation` is findings-like (severity, rule, subject, countries, title,
explanation, evidence) and points back at the inventory line that put the data there.

>>> import residency
>>> from residency.policy import parse_policy_text
>>> m = residency.load()
>>> policy = parse_policy_text("rules:\\n  - id: nothing-in-north-korea\\n    allow_not: [KP]\\n")
>>> m.check_policy(policy, as_of="2026-12-02").passed
True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from residency import places
from residency._errors import InventoryProblem, PolicyError
from residency._words import some
from residency._yaml import clip, line_map, load_document
from residency.limits import Limits, current
from residency.query import KINDS, path_text
from residency.vocabulary import BASES, LocationKind, Severity

if TYPE_CHECKING:
    from residency.ai import Exposure
    from residency.assessments import Coverage
    from residency.findings import Assessment, Finding
    from residency.model import AssessmentRecord, Inventory
    from residency.query import Unit
    from residency.routes import Hit, Route

POLICY_FILE = "policy.yaml"
_TOP_LEVEL = ("name", "description", "rules")

Id = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=128
    ),
]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Kind = LocationKind


class _Strict(BaseModel):
    """Unknown fields are errors: a typo such as ``alow`` must not pass silently."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)


class SubjectFilter(_Strict):
    """Which clients (or staff) a rule is about: by origin (codes or blocs) and by id."""

    origin: list[Code] | None = Field(
        default=None, description="Codes or blocs the subject's origin must lie in"
    )
    ids: list[Id] | None = Field(default=None, description="Only these ids (without 'client:')")


class Subjects(_Strict):
    """The subjects a rule is about; a kind left out is not checked by the rule."""

    clients: SubjectFilter | None = None
    staff: SubjectFilter | None = None


def _basis_item(value: object) -> object:
    return {"basis": value} if isinstance(value, str) else value


class ForbiddenBasis(_Strict):
    """A basis that is not acceptable (from ``after`` on, when a date is given)."""

    basis: str = Field(description="One of residency.vocabulary.BASES")
    after: date | None = Field(default=None, description="Forbidden on and after this date")

    @field_validator("basis")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BASES:
            msg = f"expected one of {', '.join(BASES)}, got {clip(value)}"
            raise ValueError(msg)
        return value


class PolicyRule(_Strict):
    """One rule of a policy: a scope and what must hold within it (docs/policy.md)."""

    id: Id
    description: Text | None = None
    severity: Severity = Severity.HIGH
    subjects: Subjects | None = Field(default=None, description="Default: every client and staff")
    systems: list[Id] | None = Field(default=None, description="Only data in these systems")
    data: list[Category] | None = Field(default=None, description="Only these data categories")
    kinds: list[Kind] | None = Field(
        default=None, description="Kinds of location the location and basis checks cover"
    )
    allow: list[Code] | None = Field(default=None, description="Data may be only here")
    deny: list[Code] | None = Field(default=None, description="Data may never be here")
    allow_not: list[Code] | None = Field(default=None, description="The same as deny")
    forbid_bases: list[Annotated[ForbiddenBasis, BeforeValidator(_basis_item)]] | None = None
    forbid_default_training: StrictBool = False
    max_training_days: Annotated[StrictInt, Field(ge=0, le=100_000)] | None = None
    clauses_hold: StrictBool = False
    require_tia: StrictBool = Field(
        default=False,
        description="Every route needing a transfer impact assessment has one recorded",
    )

    @property
    def denied(self) -> list[str]:
        """Return the codes data may never reach (``deny`` and ``allow_not`` together)."""
        return [*(self.deny or []), *(self.allow_not or [])]

    @property
    def checks(self) -> list[str]:
        """Return the names of the checks the rule makes."""
        out = []
        if self.allow is not None or self.denied:
            out.append("location")
        if self.forbid_bases:
            out.append("basis")
        if self.forbid_default_training:
            out.append("default_training")
        if self.max_training_days is not None:
            out.append("training_window")
        if self.clauses_hold:
            out.append("clause")
        if self.require_tia:
            out.append("tia")
        return out

    def summary(self) -> str:
        """Answer what the rule requires, in one line (when it has no description)."""
        parts = []
        if self.allow is not None:
            parts.append(f"data only in {', '.join(self.allow) or 'no place'}")
        if self.denied:
            parts.append(f"never in {', '.join(self.denied)}")
        for b in self.forbid_bases or []:
            after = f" after {b.after}" if b.after else ""
            parts.append(f"no transfer on basis {b.basis}{after}")
        if self.forbid_default_training:
            parts.append("no AI training by default")
        if self.max_training_days is not None:
            parts.append(f"AI training at most {self.max_training_days} days")
        if self.clauses_hold:
            parts.append("every client residency clause holds")
        if self.require_tia:
            parts.append("every route needing a transfer impact assessment has one recorded")
        return "; ".join(parts)


@dataclass
class Policy:
    """A validated policy: its rules, and the line of every path in its file."""

    file: str
    rules: list[PolicyRule]
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict, repr=False)
    name: str | None = None

    def line(self, *loc: Any) -> int | None:
        """Return the line of the deepest known prefix of ``loc`` (``("rules", 0, "allow")``)."""
        for end in range(len(loc), -1, -1):
            found = self.lines.get(tuple(loc[:end]))
            if found is not None:
                return found
        return None

    def rule_line(self, index: int) -> int | None:
        """Return the line a rule starts at."""
        return self.line("rules", index)


def starter_path() -> Path:
    """Return the path of the shipped starter policy (``data/policies/starter.yaml``)."""
    from residency._resources import data_file

    return Path(str(data_file("policies", "starter.yaml")))


# -- reading and validation ----------------------------------------------------------------


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[InventoryProblem] = []

    def add(self, line: int | None, fld: str, message: str) -> None:
        fld = fld if len(fld) <= 120 else f"{fld[:117]}..."
        message = message if len(message) <= 400 else f"{message[:397]}..."
        self.items.append(InventoryProblem(self.file, line, fld, message))


def read_policy(path: str | Path, *, limits: Limits | None = None) -> Policy:
    """Read and validate a policy file; raises :class:`PolicyError` listing every problem."""
    from residency.inventory import _Problems as _ReadProblems
    from residency.inventory import _read_text, shown

    limits = limits or current()
    name = shown(path)
    reading = _ReadProblems()
    text = _read_text(Path(path), reading, limits)
    if text is None:
        problems = reading.items or [InventoryProblem(name, None, "file", "cannot be read")]
        raise PolicyError(problems, limit=limits.problems)
    return parse_policy_text(text, name=name, limits=limits)


def parse_policy_text(
    text: str, *, name: str = POLICY_FILE, limits: Limits | None = None
) -> Policy:
    """Validate a policy given as YAML text; raises :class:`PolicyError` listing every problem."""
    from residency.inventory import _checked_text

    limits = limits or current()
    problems = _Problems(name)
    if len(text) > limits.file_bytes:
        problems.add(None, "file", f"larger than {limits.file_mb} MB; {limits.hint('file_mb')}")
        raise PolicyError(problems.items, limit=limits.problems)
    reading: Any = _ReadAdapter(problems)
    checked = _checked_text(text, name, reading)
    if checked is None:
        raise PolicyError(problems.items, limit=limits.problems)
    policy = _parse(checked, problems, limits)
    if problems.items or policy is None:
        raise PolicyError(problems.items, limit=limits.problems)
    return policy


class _ReadAdapter:
    """Lets the inventory's text checks report into a policy's problems."""

    def __init__(self, problems: _Problems) -> None:
        self.problems = problems

    def add(self, file: str, line: int | None, fld: str, message: str) -> None:
        self.problems.add(line, fld, message)


def _load(text: str, problems: _Problems, limits: Limits) -> tuple[Any, Any]:
    """Parse the YAML, bounded; answer the data and its node (None, None after a problem)."""
    data, node, found = load_document(text, limits)
    for line, fld, message in found:
        problems.add(line, fld, message)
    return data, node


def _parse(text: str, problems: _Problems, limits: Limits) -> Policy | None:
    before = len(problems.items)
    data, node = _load(text, problems, limits)
    if len(problems.items) > before and node is None:
        return None
    if not isinstance(data, dict) or node is None:
        problems.add(1, "document", "expected a mapping with 'rules' at the top")
        return None
    lines = line_map(node, deep=True)
    for key in data:
        if key not in _TOP_LEVEL:
            problems.add(
                lines.get((key,)),
                str(key)[:80],
                f"unknown top-level field: expected one of {', '.join(_TOP_LEVEL)}",
            )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        got = "nothing" if raw_rules is None else _type_name(raw_rules)
        problems.add(
            lines.get(("rules",), 1),
            "rules",
            f"expected a list of rules (each starting with '- id: ...'), got {got}",
        )
        return None
    policy = Policy(problems.file, [], lines, _name(data.get("name")))
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_rules):
        label = _label(raw, i)
        if not isinstance(raw, dict):
            problems.add(
                policy.rule_line(i), label, f"expected a rule (a mapping), got {_type_name(raw)}"
            )
            continue
        ident = raw.get("id")
        if isinstance(ident, str) and ident.strip():
            first = seen.get(ident.strip())
            if first is not None:
                problems.add(
                    policy.line("rules", i, "id"),
                    f"{label}.id",
                    f"duplicate rule id {clip(ident.strip())}: already used at line {first}",
                )
            seen.setdefault(ident.strip(), policy.rule_line(i) or 0)
        _check_codes(policy, raw, i, label, problems)
        try:
            rule = PolicyRule.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                problems.add(policy.line("rules", i, *loc), _field(label, loc), _explain(err))
            continue
        _check_rule(policy, rule, i, label, problems)
        policy.rules.append(rule)
    return policy


def _name(value: object) -> str | None:
    return value.strip()[:200] if isinstance(value, str) and value.strip() else None


def _label(raw: object, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(ident, str) and ident.strip():
        text = ident.strip()
        return f"rules[{text[:40]}...]" if len(text) > 40 else f"rules[{text}]"
    return f"rules[{index}]"


def _field(label: str, loc: tuple[Any, ...]) -> str:
    return label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _type_name(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return clip(value)


def _explain(err: ErrorDetails) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        return "missing: this field is required"
    if kind == "extra_forbidden":
        return "unknown field: check the spelling against docs/policy.md"
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {clip(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "int_type"):
        return f"expected a whole number of days from 0 to 100000, got {clip(value)}"
    if kind == "bool_type":
        return f"expected true or false, got {clip(value)}"
    if kind == "string_pattern_mismatch":
        return f"invalid id {clip(value)}: expected letters, digits, '-', '_' or '.'"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"invalid date {clip(value)}: expected YYYY-MM-DD"
    if kind in ("list_type", "dict_type", "model_type") and isinstance(value, dict | list):
        return f"{err['msg']} (got {_type_name(value)})"
    return f"{err['msg']} (got {clip(value)})"


def _check_codes(
    policy: Policy, raw: dict[str, Any], i: int, label: str, problems: _Problems
) -> None:
    """Report every unknown place code of a rule (even when its shape has other problems)."""
    lists: list[tuple[tuple[Any, ...], Any]] = [((k,), raw.get(k)) for k in _PLACE_FIELDS]
    subjects = raw.get("subjects")
    if isinstance(subjects, dict):
        for kind in ("clients", "staff"):
            flt = subjects.get(kind)
            if isinstance(flt, dict):
                lists.append((("subjects", kind, "origin"), flt.get("origin")))
    for loc, codes in lists:
        if not isinstance(codes, list):
            continue
        for j, code in enumerate(codes):
            if not isinstance(code, str):
                continue  # the model reports the type
            problem = places.place_problem(code.strip(), allow_blocs=True)
            if problem:
                problems.add(policy.line("rules", i, *loc, j), _field(label, (*loc, j)), problem)


_PLACE_FIELDS = ("allow", "deny", "allow_not")


def _check_rule(policy: Policy, rule: PolicyRule, i: int, label: str, problems: _Problems) -> None:
    """Check what the models cannot: that the rule names subjects and checks something."""
    subjects = rule.subjects
    if subjects is not None and subjects.clients is None and subjects.staff is None:
        problems.add(
            policy.line("rules", i, "subjects"),
            f"{label}.subjects",
            "names no subjects: expected clients and/or staff (e.g. {clients: {}} for "
            "every client)",
        )
    if not rule.checks:
        problems.add(
            policy.rule_line(i),
            label,
            "checks nothing: expected one of allow, deny (allow_not), forbid_bases, "
            "forbid_default_training, max_training_days, clauses_hold, require_tia",
        )
    if rule.kinds is not None and not rule.kinds:
        problems.add(
            policy.line("rules", i, "kinds"),
            f"{label}.kinds",
            f"an empty list checks nothing: expected some of {', '.join(KINDS)}",
        )


def inventory_problems(policy: Policy, inventory: Inventory) -> list[InventoryProblem]:
    """Answer the policy's references the inventory does not have (a typo is no all-clear)."""
    from residency.categories import fides_key

    problems = _Problems(policy.file)
    known = {
        "systems": {s.id for s in inventory.systems},
        "clients": {c.id for c in inventory.clients},
        "staff": {p.id for p in inventory.staff},
    }
    categories = {c for x in inventory.clients for c in x.data}
    categories |= {c for x in inventory.systems for c in x.data}
    if inventory.organisation.staff_data is not None:
        categories |= set(inventory.organisation.staff_data.data)
    for i, rule in enumerate(policy.rules):
        label = f"rules[{rule.id}]"
        for j, sid in enumerate(rule.systems or []):
            if sid not in known["systems"]:
                problems.add(
                    policy.line("rules", i, "systems", j),
                    f"{label}.systems[{j}]",
                    f"unknown system {clip(sid)}: not in the inventory"
                    f"{_suggest(sid, known['systems'])}",
                )
        for j, name in enumerate(rule.data or []):
            if name not in categories and fides_key(name) is None:
                problems.add(
                    policy.line("rules", i, "data", j),
                    f"{label}.data[{j}]",
                    f"unknown data category {clip(name)}: not in the inventory nor in "
                    f"data/categories.yaml{_suggest(name, categories)}",
                )
        for kind in ("clients", "staff"):
            flt = getattr(rule.subjects, kind) if rule.subjects else None
            for j, ident in enumerate((flt.ids if flt else None) or []):
                if ident not in known[kind]:
                    problems.add(
                        policy.line("rules", i, "subjects", kind, "ids", j),
                        f"{label}.subjects.{kind}.ids[{j}]",
                        f"unknown {kind.removesuffix('s')} id {clip(ident)}: not in the inventory"
                        f"{_suggest(ident, known[kind])}",
                    )
    return problems.items


def _suggest(ref: str, known: set[str]) -> str:
    import difflib

    if len(ref) > 100 or len(known) > 2_000:
        return ""
    close = difflib.get_close_matches(ref, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


# -- evaluation ------------------------------------------------------------------------------


_ORIGIN = re.compile(r"^(?P<file>.*) (?P<unit>line|row) (?P<line>\d+)$")


def split_origin(origin: str | None) -> tuple[str | None, int | None]:
    """Split an inventory origin (``inventory.yaml line 12``) into its file and line."""
    if not origin:
        return None, None
    match = _ORIGIN.match(origin)
    if match is None:
        return origin, None
    return match["file"], int(match["line"])


@dataclass(frozen=True)
class Violation:
    """One place where the data map breaks a policy rule: findings-like, with its evidence.

    ``file`` and ``line`` are the inventory entry that puts the data there (the system for
    a stored, processed or trained location; the staff member for an access).
    """

    severity: str
    rule: str
    check: str
    subject: str
    kind: str
    country: str
    system: str
    recipient: str
    title: str
    explanation: str
    evidence: tuple[str, ...]
    file: str | None
    line: int | None
    policy_file: str
    policy_line: int | None
    route: str = ""

    @property
    def countries(self) -> tuple[str, ...]:
        """Return the countries the violation is about (as a finding's)."""
        return (self.country,) if self.country else ()

    @property
    def id(self) -> str:
        """Return a stable id from the rule, check, subject and location (never an order)."""
        key = "|".join(
            (
                self.rule,
                self.check,
                self.subject,
                self.kind,
                self.country,
                self.system,
                self.recipient,
            )
        )
        return "v-" + hashlib.sha256(key.encode()).hexdigest()[:12]

    @property
    def where(self) -> str:
        """Answer the inventory file and line, as ``inventory.yaml line 12``."""
        if self.file is None:
            return "(no inventory line)"
        return f"{self.file} line {self.line}" if self.line else self.file

    def as_finding(self) -> Finding:
        """Return the violation as a :class:`residency.findings.Finding` (rule ``policy.<id>``)."""
        from residency.findings import Finding

        return Finding(
            self.severity,
            f"policy.{self.rule}",
            self.subject,
            self.countries,
            self.title,
            self.explanation,
            self.evidence,
            routes=(self.route,) if self.route else (),
            system=self.system.removeprefix("system:"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the violation as a plain dict (the JSON output's ``violations`` items)."""
        return {
            "id": self.id,
            "rule": self.rule,
            "policy": {"file": self.policy_file, "line": self.policy_line},
            "check": self.check,
            "severity": self.severity,
            "subject": self.subject,
            "kind": self.kind or None,
            "country": self.country or None,
            "system": self.system.removeprefix("system:") or None,
            "recipient": self.recipient or None,
            "route": self.route or None,
            "title": self.title,
            "explanation": self.explanation,
            "evidence": list(self.evidence),
            "inventory": {"file": self.file, "line": self.line},
        }


@dataclass
class PolicyReport:
    """The outcome of checking a policy: every violation, rule by rule, on one date."""

    policy: Policy
    as_of: date
    violations: list[Violation]
    organisation: str = ""  # the organisation's name

    @property
    def passed(self) -> bool:
        """Tell whether no rule is violated."""
        return not self.violations

    def by_rule(self) -> dict[str, list[Violation]]:
        """Return the violations of each rule, in the policy's order (empty lists too)."""
        out: dict[str, list[Violation]] = {r.id: [] for r in self.policy.rules}
        for v in self.violations:
            out[v.rule].append(v)
        return out

    def as_dict(self) -> dict[str, Any]:
        """Return the report in the JSON output's shape (docs/policy.md)."""
        from residency.policy_output import report_json

        return report_json(self)


class _Scope:
    """What one rule looks at on one date: its subjects, systems, data and kinds."""

    def __init__(self, rule: PolicyRule, day: date) -> None:
        self.rule = rule
        self.day = day
        self.systems = {f"system:{s}" for s in rule.systems} if rule.systems is not None else None
        self.data = set(rule.data) if rule.data is not None else None
        self.kinds = set(rule.kinds) if rule.kinds is not None else None
        subjects = rule.subjects
        self.filters: dict[str, tuple[frozenset[str] | None, set[str] | None] | None] = {}
        for kind, flt in (
            ("client", subjects.clients if subjects else SubjectFilter()),
            ("staff", subjects.staff if subjects else SubjectFilter()),
        ):
            if flt is None:
                self.filters[kind] = None
                continue
            origins = _expand(flt.origin, day) if flt.origin is not None else None
            ids = {f"{kind}:{i}" for i in flt.ids} if flt.ids is not None else None
            self.filters[kind] = (origins, ids)

    def subject(self, subject: str, origin: str) -> bool:
        """Tell whether the rule covers ``subject`` (of origin ``origin``)."""
        found = self.filters.get(subject.split(":", 1)[0])
        if found is None:
            return False
        origins, ids = found
        if ids is not None and subject not in ids:
            return False
        return origins is None or places.within(origin, origins)

    def hit(self, hit: Hit, *, kinds: bool = True) -> bool:
        """Tell whether the rule covers one place the data reaches."""
        if kinds and self.kinds is not None and hit.kind not in self.kinds:
            return False
        if self.systems is not None and hit.system not in self.systems:
            return False
        return self.data is None or bool(self.data.intersection(hit.data))

    def exposure(self, e: Exposure) -> bool:
        """Tell whether the rule covers one AI-training exposure."""
        if self.systems is not None and f"system:{e.system_id}" not in self.systems:
            return False
        return self.data is None or bool(self.data.intersection(e.data))


def _expand(codes: Iterable[str], day: date) -> frozenset[str]:
    # A policy is the organisation's own rule, like a contract: a bloc means its members on
    # the day (not the bloc's law lingering after a member left).
    return frozenset().union(*(places.expand(c, day, law=False) for c in codes))


def evaluate(policy: Policy, assessment: Assessment, inventory: Inventory) -> PolicyReport:
    """Check every rule of ``policy`` against an assessment of ``inventory``."""
    problems = inventory_problems(policy, inventory)
    if problems:
        raise PolicyError(problems, limit=current().problems)
    ctx = assessment.context
    assert ctx is not None
    checker = _Checker(policy, assessment, inventory.origins, inventory.assessments)
    found: list[Violation] = []
    for index, rule in enumerate(policy.rules):
        found += sorted(
            dict.fromkeys(checker.rule(index, rule)),
            key=lambda v: (v.subject, v.check, v.kind, v.country, v.system, v.recipient),
        )
    return PolicyReport(policy, assessment.as_of, found)


class _Checker:
    def __init__(
        self,
        policy: Policy,
        assessment: Assessment,
        origins: dict[str, str],
        records: list[AssessmentRecord] | None = None,
    ) -> None:
        assert assessment.context is not None
        self.policy = policy
        self.a = assessment
        self.G = assessment.context.G
        self.origins = origins
        self.records: dict[str, list[AssessmentRecord]] = {}
        for record in records or []:  # by country: a route is matched against its own only
            self.records.setdefault(places.country_of(record.destination), []).append(record)

    def rule(self, index: int, rule: PolicyRule) -> Iterator[Violation]:
        scope = _Scope(rule, self.a.as_of)
        line = self.policy.rule_line(index)
        allowed = _expand(rule.allow, scope.day) if rule.allow is not None else None
        denied = _expand(rule.denied, scope.day) if rule.denied else None
        forbidden = {
            b.basis for b in rule.forbid_bases or [] if b.after is None or b.after <= scope.day
        }
        located = allowed is not None or denied is not None or forbidden or rule.clauses_hold
        for subject, sm in self.a.subject_maps.items() if located else ():
            if not scope.subject(subject, sm.origin):
                continue
            clause = self.G.nodes[subject].get("residency") if rule.clauses_hold else None
            limit = _expand(clause, scope.day) if clause else None
            for unit, hit in sm.pairs():
                if not scope.hit(hit, kinds=True):
                    continue
                country = hit.country
                reasons = []
                if allowed is not None and not places.within(country, allowed):
                    reasons.append(
                        f"outside the places allowed ({', '.join(rule.allow or []) or 'none'})"
                    )
                if denied is not None and places.within(country, denied):
                    reasons.append(f"in a place denied ({', '.join(rule.denied)})")
                if reasons:  # one violation per place, however many reasons
                    why = " and ".join(reasons)
                    yield self._pair(rule, line, "location", subject, unit, hit, why)
                v = hit.verdict
                if v is not None and v.basis in forbidden:
                    why = f"on basis {v.basis}, which the policy does not accept"
                    yield self._pair(rule, line, "basis", subject, unit, hit, why)
                if limit is not None and not places.within(country, limit):
                    why = f"outside the client's residency clause ({', '.join(clause or [])})"
                    yield self._pair(rule, line, "clause", subject, unit, hit, why)
        if rule.forbid_default_training or rule.max_training_days is not None:
            yield from self._training(rule, line, scope)
        if rule.require_tia:
            yield from self._tia(rule, line, scope)

    def _tia(self, rule: PolicyRule, line: int | None, scope: _Scope) -> Iterator[Violation]:
        """Yield a violation per route in scope that needs a TIA and has none in force."""
        from residency.assessments import coverage

        maps = self.a.subject_maps
        for route in self.a.routes:
            if not route.tia_required:
                continue
            if scope.kinds is not None and route.kind not in scope.kinds:
                continue
            if scope.data is not None and not scope.data.intersection(route.data):
                continue
            systems = [s for s in route.systems if scope.systems is None or s in scope.systems]
            carried = [s for s in route.subjects if s in maps and scope.subject(s, maps[s].origin)]
            if not systems or not carried:
                continue
            records = self.records.get(places.country_of(route.destination), [])
            found = coverage(records, route, scope.day)
            if not found.covered:
                yield self._route(rule, line, route, systems, carried, found)

    def _route(
        self,
        rule: PolicyRule,
        line: int | None,
        route: Route,
        systems: list[str],
        carried: list[str],
        found: Coverage,
    ) -> Violation:
        key = route.key
        hit = self._example(route, systems, carried[0])
        responsible = hit[1].tail[0] if hit and key.kind == "accessed" else systems[0]
        file, inv_line, notes = self._inventory(responsible, *systems)
        notes += [
            f"assessment:{r.id} at {self.origins[f'assessment:{r.id}']}"
            for r in found.expired
            if f"assessment:{r.id}" in self.origins
        ]
        path = [path_text(self.G, (*hit[0].prefix, *hit[1].tail))] if hit else []
        labels = ", ".join(self.G.nodes[s]["label"] for s in systems if s in self.G)
        regimes = " + ".join(key.regimes)
        where_ = f"{key.destination} ({places.place_name(key.destination)})"
        people = f"{len(carried)} subject{'s' if len(carried) != 1 else ''}"
        late = ""
        if found.expired:
            first = found.expired[0]
            late = (
                f" ({first.id}, completed {first.completed}, was due for review by "
                f"{first.review_by})"
            )
        text = (
            f"route {route.id} {regimes} -> {where_}: data {key.kind} by {key.recipient} "
            f"via {labels}, carrying the data of {people} ({some(carried, 3)}): its basis "
            f"({key.basis}) needs a transfer impact assessment, and none recorded is in force "
            f"on {found.as_of}{late}. Rule {rule.id}: {rule.description or rule.summary()}."
        )
        return Violation(
            rule.severity,
            rule.id,
            "tia",
            f"route:{route.id}",
            key.kind,
            key.destination,
            systems[0],
            key.recipient,
            f"{rule.id}: no TIA for {regimes} -> {key.destination} ({key.recipient})",
            text,
            (*path, *notes),
            file,
            inv_line,
            self.policy.file,
            line,
            route.id,
        )

    def _example(self, route: Route, systems: list[str], subject: str) -> tuple[Unit, Hit] | None:
        """Answer one place of ``subject`` where its data takes ``route`` (the evidence path)."""
        for unit, hit in self.a.subject_maps[subject].pairs():
            if hit.route == route.key and hit.system in systems:
                return unit, hit
        return None

    def _training(self, rule: PolicyRule, line: int | None, scope: _Scope) -> Iterator[Violation]:
        for e in self.a.exposures:
            if not scope.subject(e.subject, e.origin) or not scope.exposure(e):
                continue
            if rule.forbid_default_training and e.default == "opt-out" and e.ongoing:
                why = (
                    f"{e.vendor} trains AI models on {', '.join(e.data)} by default (opt-out) "
                    "and the organisation has not opted out"
                )
                yield self._exposure(rule, line, "default_training", e, why)
            limit = rule.max_training_days
            if limit is not None and (e.days is None or e.days > limit):
                length = f"{e.days} days" if e.days is not None else "since an unrecorded date"
                why = (
                    f"{e.vendor} trained AI models on the data for {length}, more than the "
                    f"{limit} days allowed"
                )
                yield self._exposure(rule, line, "training_window", e, why)

    def _inventory(self, *nodes: str) -> tuple[str | None, int | None, list[str]]:
        """Answer the first node's inventory file and line, and each node's origin."""
        notes = [f"{n} at {self.origins[n]}" for n in dict.fromkeys(nodes) if n in self.origins]
        file, line = split_origin(self.origins.get(nodes[0]))
        return file, line, notes

    def _pair(
        self,
        rule: PolicyRule,
        line: int | None,
        check: str,
        subject: str,
        unit: Unit,
        hit: Hit,
        why: str,
    ) -> Violation:
        from residency.routes import route_id

        path = (*unit.prefix, *hit.tail)
        responsible = hit.tail[0] if hit.kind == "accessed" else hit.system
        file, inv_line, notes = self._inventory(responsible, subject)
        where_ = f"{hit.kind} in {hit.country} ({places.place_name(hit.country)})"
        text = (
            f"{subject}: data {where_} by {hit.recipient} via {hit.system_label}: {why}. "
            f"Rule {rule.id}: {rule.description or rule.summary()}."
        )
        return Violation(
            rule.severity,
            rule.id,
            check,
            subject,
            hit.kind,
            hit.country,
            hit.system,
            hit.recipient,
            f"{rule.id}: {subject} {where_}",
            text,
            (path_text(self.G, path), *notes),
            file,
            inv_line,
            self.policy.file,
            line,
            route_id(hit.route) if hit.route is not None else "",
        )

    def _exposure(
        self, rule: PolicyRule, line: int | None, check: str, e: Exposure, why: str
    ) -> Violation:
        system = f"system:{e.system_id}"
        file, inv_line, notes = self._inventory(system, e.subject)
        text = (
            f"{e.subject} (origin {e.origin}): {why} ({e.system}). "
            f"Rule {rule.id}: {rule.description or rule.summary()}."
        )
        return Violation(
            rule.severity,
            rule.id,
            check,
            e.subject,
            "trained",
            e.vendor_country,
            system,
            e.vendor,
            f"{rule.id}: {e.subject} trained on by {e.system}",
            text,
            (path_text(self.G, e.path), *notes),
            file,
            inv_line,
            self.policy.file,
            line,
        )
