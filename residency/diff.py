"""Diffs: what changed in meaning between two versions of an inventory.

Two inventories (files, folders, git revisions, stored snapshots) are judged on one date
and compared with the same engine as what-if (:func:`residency.whatif.compare`): where
data lives, the transfers and their bases, the findings, the AI-training exposures and
the client residency clauses. Everything is matched by its id, derived from natural keys,
so reordering an inventory changes nothing. Changes to sub-processors, hosting and
systems are also said in plain words, with what they cause.

>>> import residency
>>> m = residency.load()
>>> diff(m, m, as_of="2026-12-01").empty
True
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from residency import places
from residency._errors import InventoryError, InventoryProblem, ResidencyError
from residency._words import count, some
from residency.graph import name_key
from residency.inventory import CSV_FILES, INVENTORY_FILE, read_inventory
from residency.model import Inventory, Subprocessor, System
from residency.rules import SEVERITIES
from residency.whatif import Difference, compare, diff_clauses

if TYPE_CHECKING:
    import pandas as pd

    from residency.datamap import DataMap
    from residency.findings import Finding

AREAS = ("findings", "clauses", "ai_training", "transfers", "locations")
CHANGED_SHOWN = 10  # changed clients or staff named with their fields; more are counted
GIT_TIMEOUT = 60  # seconds for one git command: a hung git must not hang the build


class DiffError(ResidencyError):
    """A diff cannot be made: a bad git revision or path, or a malformed argument."""


@dataclass(frozen=True)
class SubprocessorChange:
    """A sub-processor added, removed or changed in a system, said in plain words."""

    system: str  # the system's id
    name: str  # the sub-processor's name (as in the newer inventory when both have it)
    change: str  # added | removed | changed
    before: tuple[str, ...]  # its countries before ((): it was not there)
    after: tuple[str, ...]  # its countries after ((): it is gone)
    words: str  # what changed and what it causes, for a reader

    def to_dict(self) -> dict[str, Any]:
        """Return the change as JSON-ready data."""
        return {
            "system": self.system,
            "name": self.name,
            "change": self.change,
            "before": list(self.before),
            "after": list(self.after),
            "words": self.words,
        }


@dataclass
class InventoryDiff:
    """What changed in meaning between an old and a new inventory, judged on ``as_of``.

    Each area lists :class:`residency.whatif.Difference` rows (``appears``,
    ``disappears`` or ``changes``) with their evidence; ``inventory`` says in plain words
    what changed in the inventory itself, and ``subprocessors`` each changed
    sub-processor with what it causes.
    """

    old: str
    new: str
    as_of: date
    locations: list[Difference] = field(default_factory=list)
    transfers: list[Difference] = field(default_factory=list)
    findings: list[Difference] = field(default_factory=list)
    ai_training: list[Difference] = field(default_factory=list)
    clauses: list[Difference] = field(default_factory=list)
    inventory: list[str] = field(default_factory=list)
    subprocessors: list[SubprocessorChange] = field(default_factory=list)
    raised: list[Finding] = field(default_factory=list, repr=False)  # new or worse findings

    @property
    def differences(self) -> list[Difference]:
        """Return every difference: findings first, then clauses, AI training, transfers,
        locations."""
        return [d for area in AREAS for d in getattr(self, area)]

    @property
    def empty(self) -> bool:
        """Tell whether nothing changed in meaning (the inventory text may still differ)."""
        return not self.differences and not self.inventory and not self.subprocessors

    def counts(self) -> dict[str, dict[str, int]]:
        """Count what is new, gone and changed, area by area.

        >>> InventoryDiff("a", "b", date(2026, 1, 1)).counts()["findings"]
        {'new': 0, 'gone': 0, 'changed': 0}
        """
        names = {"appears": "new", "disappears": "gone", "changes": "changed"}
        return {
            area: {n: sum(d.change == c for d in getattr(self, area)) for c, n in names.items()}
            for area in AREAS
        }

    def failing(self, level: str) -> list[Finding]:
        """Return the findings at ``level`` or more severe that are new or worse.

        A finding is worse when it is now more severe or names a country it did not
        before. ``residency diff --fail-on LEVEL`` exits 1 when this is not empty.
        """
        if level not in SEVERITIES:
            msg = f"unknown severity {level!r}: expected one of {', '.join(SEVERITIES)}"
            raise DiffError(msg)
        rank = SEVERITIES.index(level)
        return [f for f in self.raised if SEVERITIES.index(f.severity) <= rank]

    def to_dict(self) -> dict[str, Any]:
        """Return the whole diff as JSON-ready data (each difference with its evidence)."""

        def rows(diffs: list[Difference]) -> list[dict[str, Any]]:
            return [
                {**d.as_dict(), "severity": d.severity or None, "evidence": list(d.evidence)}
                for d in diffs
            ]

        return {
            "old": self.old,
            "new": self.new,
            "as_of": self.as_of.isoformat(),
            "empty": self.empty,
            "counts": self.counts(),
            "inventory": list(self.inventory),
            "subprocessors": [s.to_dict() for s in self.subprocessors],
            **{area: rows(getattr(self, area)) for area in AREAS},
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per difference, with its evidence joined by newlines."""
        import pandas as pd

        columns = ["area", "change", "subject", "rule", "severity", "before", "after", "evidence"]
        return pd.DataFrame(
            [
                {**d.as_dict(), "severity": d.severity, "evidence": "\n".join(d.evidence)}
                for d in self.differences
            ],
            columns=columns,
        )

    def _repr_html_(self) -> str:
        from html import escape

        head = f"<p>{escape(self.old)} → {escape(self.new)}, as of {self.as_of}</p>"
        words = "".join(f"<li>{escape(w)}</li>" for w in self.inventory)
        words += "".join(f"<li>{escape(s.words)}</li>" for s in self.subprocessors)
        return head + (f"<ul>{words}</ul>" if words else "") + self.to_frame().to_html(index=False)


def diff(
    old: DataMap | Inventory | str | Path,
    new: DataMap | Inventory | str | Path,
    *,
    as_of: date | str | None = None,
    old_label: str | None = None,
    new_label: str | None = None,
) -> InventoryDiff:
    """Answer what changed in meaning from ``old`` to ``new`` (maps, inventories or paths).

    Both are judged under the law as it stood on ``as_of`` (default: today), so a change
    in the result comes from the inventory, not the calendar. A stored snapshot is a map:
    ``residency.open_map(stored="NAME@2")``.
    """
    from residency.datamap import parse_as_of

    day = parse_as_of(as_of)
    a, b = _as_map(old), _as_map(new)
    result = compare(a.assessment(as_of=day), b.assessment(as_of=day), [], day, evidence=True)
    out = InventoryDiff(
        old_label or _label(old, a),
        new_label or _label(new, b),
        day,
        locations=result.locations,
        transfers=result.transfers,
        findings=result.findings,
        ai_training=result.ai_training,
        clauses=diff_clauses(a.assessment(as_of=day), b.assessment(as_of=day), evidence=True),
    )
    out.raised = _raised(a.assessment(as_of=day).findings, b.assessment(as_of=day).findings)
    out.inventory = _inventory_words(a.inventory, b.inventory)
    out.subprocessors = _subprocessor_changes(a.inventory, b.inventory, out)
    return out


def _as_map(value: DataMap | Inventory | str | Path) -> DataMap:
    from residency.datamap import DataMap

    if isinstance(value, DataMap):
        return value
    if isinstance(value, Inventory):
        return DataMap.from_inventory(value)
    return DataMap.from_inventory(read_inventory(value))


def _label(value: object, m: DataMap) -> str:
    return str(value) if isinstance(value, str | Path) else m.name


def _raised(before: list[Finding], after: list[Finding]) -> list[Finding]:
    old = {f.key: f for f in before}
    out = []
    for f in after:
        was = old.get(f.key)
        if (
            was is None
            or SEVERITIES.index(f.severity) < SEVERITIES.index(was.severity)
            or not set(f.countries) <= set(was.countries)
        ):
            out.append(f)
    return out


# Plain words -----------------------------------------------------------------------------


def _places(codes: tuple[str, ...] | list[str] | set[str]) -> str:
    return ", ".join(f"{places.place_name(c)} ({c})" for c in sorted(codes)) or "nowhere"


def _names(ids: list[str], limit: int = 10) -> str:
    return some(ids, limit)


def _inventory_words(old: Inventory, new: Inventory) -> list[str]:
    out = []
    if old.organisation.name != new.organisation.name:
        out.append(f"organisation renamed {old.organisation.name!r} to {new.organisation.name!r}")
    if old.organisation.country != new.organisation.country:
        out.append(
            f"organisation moved from {_places([old.organisation.country])} to "
            f"{_places([new.organisation.country])}"
        )
    for kind, a, b in (
        ("client", {c.id: c for c in old.clients}, {c.id: c for c in new.clients}),
        ("staff member", {p.id: p for p in old.staff}, {p.id: p for p in new.staff}),
    ):
        added, gone = sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys())
        if added:
            out.append(f"{count(len(added), 'new ' + kind, 'new ' + kind + 's')}: {_names(added)}")
        if gone:
            out.append(f"{count(len(gone), kind)} gone: {_names(gone)}")
        changed = sorted(k for k in a.keys() & b.keys() if a[k] != b[k])
        if len(changed) > CHANGED_SHOWN:
            out.append(f"{count(len(changed), kind)} changed: {_names(changed)}")
        for k in changed if len(changed) <= CHANGED_SHOWN else ():
            fields = [f for f in type(a[k]).model_fields if getattr(a[k], f) != getattr(b[k], f)]
            out.append(f"{kind} {k} changed: {', '.join(fields)}")
    systems_a = {s.id: s for s in old.systems}
    systems_b = {s.id: s for s in new.systems}
    for sid in sorted(systems_b.keys() - systems_a.keys()):
        s = systems_b[sid]
        out.append(
            f"new system {s.label} ({sid}) from {s.vendor}, hosted in "
            f"{_places({h.country for h in s.hosting if h.country})}"
        )
    for sid in sorted(systems_a.keys() - systems_b.keys()):
        out.append(f"system {systems_a[sid].label} ({sid}) is gone")
    for sid in sorted(systems_a.keys() & systems_b.keys()):
        out += _system_words(systems_a[sid], systems_b[sid])
    return out


def _hosting_text(system: System) -> str:
    parts = []
    for h in system.hosting:
        where = "/".join(x for x in (h.provider, h.region) if x)
        parts.append(f"{where} ({h.country})" if where and h.country else where or str(h.country))
    return ", ".join(parts)


def _system_words(a: System, b: System) -> list[str]:
    name = f"{b.label} ({b.id})"
    out = []
    if _hosting_text(a) != _hosting_text(b):
        out.append(f"{name}: hosting moved from {_hosting_text(a)} to {_hosting_text(b)}")
    if a.vendor != b.vendor or a.vendor_country != b.vendor_country:
        out.append(
            f"{name}: vendor changed from {a.vendor} ({a.vendor_country}) to "
            f"{b.vendor} ({b.vendor_country})"
        )
    for label, x, y in (
        ("safeguards", a.safeguards, b.safeguards),
        ("certifications", a.certifications, b.certifications),
    ):
        added, gone = sorted(set(y) - set(x)), sorted(set(x) - set(y))
        if added:
            out.append(f"{name}: {label} added: {', '.join(added)}")
        if gone:
            out.append(f"{name}: {label} removed: {', '.join(gone)}")
    if set(a.data) != set(b.data):
        added, gone = sorted(set(b.data) - set(a.data)), sorted(set(a.data) - set(b.data))
        bits = [f"now holds {', '.join(added)}"] if added else []
        bits += [f"no longer holds {', '.join(gone)}"] if gone else []
        out.append(f"{name}: {'; '.join(bits)}")
    if a.ai_training != b.ai_training:
        out.append(f"{name}: AI training {_ai_text(a)} -> {_ai_text(b)}")
    return out


def _ai_text(s: System) -> str:
    ai = s.ai_training
    if ai is None:
        return "not recorded"
    if not ai.uses_customer_data:
        return "does not use customer data"
    state = f"default {ai.default}"
    if ai.opted_out:
        state += f", opted out {ai.opted_out}"
    if ai.opted_in:
        state += f", opted in {ai.opted_in}"
    return state


def _subprocessor_changes(
    old: Inventory, new: Inventory, result: InventoryDiff
) -> list[SubprocessorChange]:
    systems_a = {s.id: s for s in old.systems}
    out = []
    for system in new.systems:
        before = systems_a.get(system.id)
        if before is None:
            continue  # a new system: said once, in the inventory words
        a = _by_name(before.subprocessors)
        b = _by_name(system.subprocessors)
        for key in sorted(a.keys() | b.keys()):
            change = _one_subprocessor(system, key, a.get(key), b.get(key), result)
            if change is not None:
                out.append(change)
    return out


def _by_name(subs: list[Subprocessor]) -> dict[str, list[Subprocessor]]:
    # The graph knows one recipient per name key: entries of one name are one recipient.
    out: dict[str, list[Subprocessor]] = {}
    for s in subs:
        out.setdefault(name_key(s.name), []).append(s)
    return out


def _one_subprocessor(
    system: System,
    key: str,
    a: list[Subprocessor] | None,
    b: list[Subprocessor] | None,
    result: InventoryDiff,
) -> SubprocessorChange | None:
    def countries(subs: list[Subprocessor] | None) -> tuple[str, ...]:
        return tuple(sorted({c for s in subs or [] for c in s.countries}))

    def purpose(subs: list[Subprocessor]) -> str:
        found = sorted({s.purpose for s in subs if s.purpose})
        return f" ({', '.join(found)})" if found else ""

    was, now = countries(a), countries(b)
    name = (b or a or [])[0].name
    owner = f"{system.label} ({system.id})"
    if a is None and b is not None:
        change = "added"
        words = (
            f"{owner} now hands data to a new sub-processor, {name}{purpose(b)}, in {_places(now)}"
        )
    elif b is None and a is not None:
        change = "removed"
        words = f"{owner} no longer hands data to {name}{purpose(a)} in {_places(was)}"
    else:
        assert a is not None
        assert b is not None
        details = []
        added, gone = set(now) - set(was), set(was) - set(now)
        if added:
            details.append(f"now also in {_places(added)}")
        if gone:
            details.append(f"no longer in {_places(gone)}")
        if purpose(a) != purpose(b):
            details.append(f"its purpose changed from{purpose(a) or ' none'} to{purpose(b)}")
        for label in ("safeguards", "certifications"):
            x = {v for s in a for v in getattr(s, label)}
            y = {v for s in b for v in getattr(s, label)}
            if x != y:
                details.append(
                    f"its {label} changed from {', '.join(sorted(x)) or 'none'} to "
                    f"{', '.join(sorted(y)) or 'none'}"
                )
        if not details:
            return None
        change = "changed"
        words = f"sub-processor {name} of {owner}: {'; '.join(details)}"
    words += _consequences(f"subprocessor:{system.id}:{key}", result)
    return SubprocessorChange(system.id, name, change, was, now, words)


def _consequences(node: str, result: InventoryDiff) -> str:
    """Say what a sub-processor change causes: whose data now reaches or leaves where,
    the transfers and findings that come, go or change with it, and the residency
    clauses it breaks or mends."""

    def through(diffs: list[Difference], change: str) -> list[Difference]:
        # The evidence renders the node as "Name (node)" or "a > node: line N".
        return [
            d
            for d in diffs
            if d.change == change and any(f"{node}{end}" in e for e in d.evidence for end in "): ")
        ]

    parts = []
    # Through this recipient only: the data may still reach a place by another route.
    for change, verb in (("appears", "now reaches"), ("disappears", "no longer reaches")):
        locs = through(result.locations, change)
        if locs:
            subjects = sorted({d.subject for d in locs})
            # The engine words a location "KIND in CC via SYSTEM (RECIPIENT)".
            where = {(d.after or d.before).split(" in ", 1)[1].split(" via ")[0] for d in locs}
            parts.append(f"through it the data of {_subjects(subjects)} {verb} {_places(where)}")
    for area, label in (("transfers", "transfer"), ("findings", "finding")):
        diffs = getattr(result, area)
        for change, word in (("appears", "new"), ("disappears", "gone"), ("changes", "changed")):
            found = through(diffs, change)
            if found:
                many = count(len(found), f"new {label}") if word == "new" else None
                many = many or f"{count(len(found), label)} {word}"
                parts.append(f"{many} ({_what(found)})")
    for change, verb in (("appears", "now breaks"), ("disappears", "no longer breaks there")):
        clients = sorted({d.subject for d in through(result.clauses, change)})
        if clients:
            parts.append(f"the residency clause of {_subjects(clients)} {verb}")
    return (": " + "; ".join(parts)) if parts else ": nobody's data is affected"


def _what(diffs: list[Difference]) -> str:
    """Say what some differences are: ``2 no_basis, 1 safeguard`` or ``high rule.id``."""
    tally: dict[str, int] = {}
    for d in diffs:
        what = f"{d.severity} {d.rule}" if d.severity else d.rule
        tally[what] = tally.get(what, 0) + 1
    return ", ".join(f"{n} {what}" for what, n in sorted(tally.items()))


def _subjects(subjects: list[str]) -> str:
    kinds: dict[str, list[str]] = {}
    for s in subjects:
        kind, _, ident = s.partition(":")
        kinds.setdefault(kind, []).append(ident)
    words = {"client": ("client", "clients"), "staff": ("staff member", "staff members")}
    out = []
    for kind, ids in sorted(kinds.items()):
        one, many = words.get(kind, (kind, kind + "s"))
        out.append(f"{count(len(ids), one, many)} ({_names(ids, 5)})")
    return " and ".join(out)


# Git -------------------------------------------------------------------------------------


def split_revisions(text: str) -> tuple[str, str | None]:
    """Split ``REV1..REV2`` into its revisions (``REV1..``: the working tree is the new one).

    >>> split_revisions("main..HEAD")
    ('main', 'HEAD')
    >>> split_revisions("v1..")
    ('v1', None)
    """
    old, sep, new = text.partition("..")
    if not sep or not old.strip() or new.startswith("."):
        msg = f"cannot read the revisions {text!r}: expected REV1..REV2 (e.g. main..HEAD)"
        raise DiffError(msg)
    return old.strip(), new.strip() or None


def read_git(revision: str, path: str | Path) -> Inventory:
    """Read the inventory at ``path`` (a file or a folder) as it was in git ``revision``.

    ``path`` is as the user gives it (relative to the working directory); the repository
    is the one that holds it. Problems and evidence name ``REVISION:path/file``, never a
    temporary folder.
    """
    with git_checkout(revision, path) as (local, prefix):
        return _read_relabelled(local, prefix)


@contextmanager
def git_checkout(revision: str, path: str | Path) -> Iterator[tuple[Path, str]]:
    """Write the inventory at ``path`` in ``revision`` to a temporary folder.

    Yields the inventory's temporary path (a file or a folder) and the prefix its files
    are shown with (``HEAD~1:inventory/``).
    """
    target = Path(os.path.realpath(path))
    start = target
    while not start.is_dir() and start != start.parent:
        start = start.parent  # the path may be gone from the working tree
    top = Path(_git(start, "rev-parse", "--show-toplevel", what=str(path)).strip())
    try:
        rel = target.relative_to(Path(os.path.realpath(top))).as_posix()
    except ValueError:
        msg = f"{path}: not inside the git repository at {top}"
        raise DiffError(msg) from None
    shown = f"{revision}:{rel}"
    _git(
        top,
        "rev-parse",
        "--verify",
        "--quiet",
        f"{revision}^{{commit}}",
        what=revision,
        reason=f"no such revision in the repository at {top}",
    )
    kind = _git(top, "cat-file", "-t", shown, what=shown, missing=True).strip()
    with tempfile.TemporaryDirectory(prefix="residency-diff-") as tmp:
        root = Path(tmp)
        if kind == "tree":
            for name in _tree_files(top, revision, rel):
                _write_blob(top, f"{shown}/{name}", root / name, shown)
            yield root, _prefix(revision, rel)
        elif kind == "blob":
            name = PurePosixPath(rel).name
            parent = PurePosixPath(rel).parent.as_posix()
            _write_blob(top, shown, root / name, shown)
            if name == INVENTORY_FILE:  # the CSVs beside it are part of it
                present = _tree_files(top, revision, parent)
                for csv_name in CSV_FILES.values():
                    if csv_name in present:
                        spec = _prefix(revision, parent) + csv_name
                        _write_blob(top, spec, root / csv_name, shown)
            yield root / name, _prefix(revision, parent)
        else:
            msg = f"{shown}: a git {kind}, expected an inventory file or folder"
            raise DiffError(msg)


def _prefix(revision: str, folder: str) -> str:
    return f"{revision}:" if folder in ("", ".") else f"{revision}:{folder}/"


def _tree_files(top: Path, revision: str, rel: str) -> list[str]:
    """Return the names of the files directly in folder ``rel`` at ``revision``."""
    spec = f"{revision}:" if rel in ("", ".") else f"{revision}:{rel}"
    listing = _git(top, "ls-tree", "-z", spec, what=spec)
    names = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, name = entry.partition("\t")
        if meta.split()[1] == "blob" and "/" not in name:
            names.append(name)
    return names


def _write_blob(top: Path, spec: str, dest: Path, shown: str) -> None:
    dest.write_bytes(_git(top, "show", spec, what=shown, raw=True))


def _git(
    cwd: Path,
    *args: str,
    what: str,
    missing: bool = False,
    raw: bool = False,
    reason: str | None = None,
) -> Any:
    """Run git in ``cwd``; on failure raise :class:`DiffError` about ``what``."""
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        msg = "git is not installed (needed for --git)"
        raise DiffError(msg) from None
    except subprocess.TimeoutExpired:
        msg = f"{what}: git took over {GIT_TIMEOUT} s"
        raise DiffError(msg) from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        if reason is not None:
            msg = f"{what}: {reason}"
            raise DiffError(msg)
        reason = err[-1] if err else f"git exited with {done.returncode}"
        if missing and ("does not exist" in reason or "invalid object name" in reason.lower()):
            reason = "no such file or folder in that revision"
        elif "not a git repository" in reason:
            reason = "not in a git repository"
        elif "Not a valid object name" in reason or "unknown revision" in reason:
            reason = "no such revision or path"
        msg = f"{what}: {reason.removeprefix('fatal: ')}"
        raise DiffError(msg)
    return done.stdout if raw else done.stdout.decode("utf-8", "replace")


def _read_relabelled(local: Path, prefix: str) -> Inventory:
    """Read an inventory from a temporary copy, naming its files ``prefix + name`` in
    problems and evidence."""
    base = str(local if local.is_dir() else local.parent) + os.sep

    def relabel(text: str) -> str:
        return prefix + text[len(base) :] if text.startswith(base) else text

    try:
        inventory = read_inventory(local)
    except InventoryError as exc:
        problems = [
            InventoryProblem(relabel(p.file), p.line, p.field, p.message) for p in exc.problems
        ]
        raise InventoryError(problems) from None
    for node, origin in list(inventory.origins.items()):
        inventory.origins[node] = relabel(origin)
    inventory.warnings[:] = [w.replace(base, prefix) for w in inventory.warnings]
    return inventory
