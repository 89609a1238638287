"""Draft an inventory from Fides manifests (fideslang 3.x ``system``/``dataset`` resources).

Fides records what data a system holds and for what, but not where it lives: fideslang 3.0
dropped its country fields. So the result is a **draft**: every fact residency needs and
Fides cannot give (a system's hosting, its vendor's country, the organisation's country,
sub-processor countries, AI-training defaults) is left absent, with a ``# TODO`` comment, so
that ``residency check`` on the draft lists exactly what is left to fill. No country is ever
guessed: a vendor country is taken from ``legal_address`` only when the address names one
country by its full name and nothing contradicts it. Mapping and limits: docs/interop.md.

>>> draft = draft_from_manifests([{"system": [{"fides_key": "crm", "name": "CRM",
...     "system_type": "Service",
...     "privacy_declarations": [{"data_use": "marketing", "data_categories": ["user.contact"],
...     "data_subjects": ["customer"]}]}]}])
>>> draft.data["systems"][0]["data"]
['contact_details']
>>> [t.field for t in draft.todos]
['organisation.country', 'organisation.name', 'systems[crm].vendor_country', 'systems[crm].hosting']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pycountry
import yaml
from pydantic import BaseModel, ValidationError

from residency._errors import InventoryProblem, ProblemsError
from residency._yaml import clip, line_map, load_document
from residency.categories import TRAIN_AI_USE, categories
from residency.limits import Limits, current

SUFFIXES = (".yml", ".yaml", ".json")
# fideslang's resource types: a mapping with one of these as a list is a manifest.
RESOURCE_KEYS = (
    "system",
    "dataset",
    "organization",
    "data_category",
    "data_use",
    "data_subject",
    "policy",
    "evaluation",
    "registry",
)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # residency's id pattern (model.Id)


class FidesImportError(ProblemsError):
    """Fides files could not be read or hold invalid resources; ``problems`` lists them."""

    subject = "the Fides files"


@dataclass(frozen=True)
class Skipped:
    """A file (or record) that is not a manifest, and why it was left out."""

    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: skipped: {self.reason}"


@dataclass(frozen=True)
class Todo:
    """One fact the draft lacks: the inventory field and what to write there."""

    field: str
    what: str


@dataclass
class Manifest:
    """One manifest read from a file: its resources by type, and the line of each."""

    file: str
    resources: dict[str, list[Any]]
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)


FIDES_HEADER = (
    "# Draft inventory converted from Fides manifests by `residency convert fides`.",
    "# Fides does not record where data lives: fill every TODO, then run",
    "# `residency check -i THIS_FILE`; it lists what is still missing.",
)


@dataclass
class Draft:
    """The drafted inventory: its data, its YAML text with TODO comments, and notes."""

    data: dict[str, Any]
    todos: list[Todo]
    notes: list[str]
    skipped: list[Skipped]
    systems: list[dict[str, Any]] = field(default_factory=list)
    header: tuple[str, ...] = FIDES_HEADER  # the comment lines the YAML starts with

    def to_yaml(self) -> str:
        """Return the draft as YAML, each missing fact marked with a ``# TODO`` comment."""
        return _render(self)


# ----------------------------------------------------------------------------- reading


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Answer the files to read: each file given, and every .yml/.yaml/.json in a folder."""
    files: list[Path] = []
    problems: list[InventoryProblem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
            if not found:
                problems.append(
                    InventoryProblem(str(path), None, "folder", "no .yml, .yaml or .json file")
                )
            files += found
        elif path.is_file():
            files.append(path)
        else:
            problems.append(InventoryProblem(str(path), None, "path", "no such file or folder"))
    if problems:
        raise FidesImportError(problems)
    return list(dict.fromkeys(files))


def read_manifests(paths: Iterable[str | Path]) -> tuple[list[Manifest], list[Skipped]]:
    """Read Fides manifests (YAML or JSON) from files and folders.

    Files that are not manifests (an API response, a UI fixture, a single resource) are
    skipped with the reason; a file that cannot be read raises :class:`FidesImportError`.
    """
    limits = current()
    manifests: list[Manifest] = []
    skipped: list[Skipped] = []
    problems: list[InventoryProblem] = []
    for path in manifest_files(paths):
        name = str(path)
        read = _read_document(path, limits, problems)
        if read is None:
            continue
        doc, lines = read
        reason = _not_a_manifest(doc)
        if reason is not None:
            skipped.append(Skipped(name, reason))
            continue
        resources = {k: v for k, v in doc.items() if k in RESOURCE_KEYS}
        for key, value in resources.items():
            if value is not None and not isinstance(value, list):
                line = lines.get((key,))
                msg = f"expected a list of {key} resources, got {type(value).__name__}"
                problems.append(InventoryProblem(name, line, key, msg))
        manifests.append(Manifest(name, resources, lines))
    if problems:
        raise FidesImportError(problems)
    return manifests, skipped


def _read_document(
    path: Path, limits: Limits, problems: list[InventoryProblem]
) -> tuple[Any, dict[tuple[Any, ...], int]] | None:
    """Parse one file (JSON by its suffix, else YAML): its data and the line of each path,
    or None with the problem recorded."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(InventoryProblem(name, None, "file", f"cannot read: {exc.strerror}"))
        return None
    if len(raw) > limits.file_bytes:
        problems.append(
            InventoryProblem(name, None, "file", f"too large; {limits.hint('file_mb')}")
        )
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start:,}): expected a YAML or JSON manifest"
        problems.append(InventoryProblem(name, None, "file", msg))
        return None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text), {}
        except json.JSONDecodeError as exc:
            problems.append(InventoryProblem(name, exc.lineno, "json", exc.msg))
            return None
        except RecursionError:
            problems.append(InventoryProblem(name, None, "json", "nested too deeply"))
            return None
    doc, node, found = load_document(text, limits)
    if doc is None and found:
        problems += [InventoryProblem(name, line, fld, msg) for line, fld, msg in found]
        return None
    return doc, (line_map(node, deep=True) if node is not None else {})


def _not_a_manifest(doc: Any) -> str | None:
    """Say why a parsed document is not a Fides manifest, or None when it is one."""
    if doc is None:
        return "empty file"
    if isinstance(doc, list):
        return (
            "a list, not a manifest (an API response or UI fixture?): a manifest is a mapping "
            "with system:, dataset: or organization: lists"
        )
    if not isinstance(doc, dict):
        return f"a {type(doc).__name__}, not a manifest (a mapping with system: ... lists)"
    if any(k in doc for k in RESOURCE_KEYS):
        return None
    if "fides_key" in doc:
        return (
            "a single resource (an API or UI fixture), not a manifest: put it in a list under "
            "system: or dataset:"
        )
    if "items" in doc:
        return "an API page (items: ...), not a manifest"
    keys = ", ".join(sorted(map(str, doc))[:5])
    return f"no system:, dataset: or organization: list (keys: {clip(keys)})"


# ----------------------------------------------------------------------------- drafting


def convert_fides(paths: Iterable[str | Path]) -> Draft:
    """Read Fides manifests from files and folders and draft an inventory from them."""
    manifests, skipped = read_manifests(paths)
    if not manifests:
        found = "; ".join(str(s) for s in skipped) or "no files"
        msg = f"no Fides manifest found ({found})"
        raise FidesImportError([InventoryProblem("fides", None, "manifest", msg)])
    return _draft(manifests, skipped)


def draft_from_manifests(docs: Sequence[dict[str, Any]]) -> Draft:
    """Draft an inventory from manifests already parsed (mappings ``{system: [...]}``)."""
    manifests = []
    skipped = []
    for i, doc in enumerate(docs):
        reason = _not_a_manifest(doc)
        if reason is not None:
            skipped.append(Skipped(f"manifest {i + 1}", reason))
        else:
            manifests.append(Manifest(f"manifest {i + 1}", dict(doc)))
    return _draft(manifests, skipped)


def _validated(manifests: list[Manifest]) -> tuple[list[Any], list[Any], list[Any]]:
    """Validate every system, dataset and organization with fideslang's models."""
    from fideslang.models import Dataset, Organization, System

    models: dict[str, type[BaseModel]] = {
        "system": System,
        "dataset": Dataset,
        "organization": Organization,
    }
    out: dict[str, list[Any]] = {k: [] for k in models}
    problems: list[InventoryProblem] = []
    for manifest in manifests:
        for kind, model in models.items():
            for i, raw in enumerate(manifest.resources.get(kind) or []):
                try:
                    out[kind].append(model.model_validate(raw))
                except ValidationError as exc:
                    for err in exc.errors()[:10]:
                        loc = (kind, i, *err["loc"])
                        line = _line(manifest.lines, loc)
                        where = kind + "".join(
                            f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:]
                        )
                        problems.append(
                            InventoryProblem(manifest.file, line, where, _fides_message(err))
                        )
    if problems:
        raise FidesImportError(problems)
    return out["system"], out["dataset"], out["organization"]


def _line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _fides_message(err: Any) -> str:
    if err["type"] == "missing":
        return "missing: fideslang requires this field"
    return f"{err['msg']} (got {clip(err.get('input'))})"


def _draft(manifests: list[Manifest], skipped: list[Skipped]) -> Draft:
    systems, datasets, organizations = _validated(manifests)
    builder = _Builder(systems, datasets)
    organisation: dict[str, Any] = {}
    if organizations:
        org = organizations[0]
        if org.name:
            organisation["name"] = org.name
        if len(organizations) > 1:
            builder.notes.append(
                f"{len(organizations)} organizations in the manifests: the draft uses "
                f"{org.fides_key}"
            )
    builder.todos.append(Todo("organisation.country", "the organisation's ISO 3166 code (e.g. GB)"))
    if "name" not in organisation:
        builder.todos.append(Todo("organisation.name", "the organisation's name"))
    drafted: list[dict[str, Any]] = []
    ids: set[str] = set()
    for s in systems:
        if s.fides_key in builder.subs_only:
            continue
        entry = builder.system(s)
        if entry["id"] in ids:
            builder.notes.append(f"system {s.fides_key}: its id {entry['id']!r} is given twice")
        ids.add(entry["id"])
        drafted.append(entry)
    data: dict[str, Any] = {"organisation": organisation, "systems": drafted}
    return Draft(data, builder.todos, builder.notes, skipped, drafted)


def _is_system_flow(flow: Any) -> bool:
    return str(getattr(flow.type, "value", flow.type)) == "system"


class _Builder:
    """Drafts inventory systems from validated Fides systems, collecting to-dos and notes."""

    def __init__(self, systems: list[Any], datasets: list[Any]) -> None:
        self.todos: list[Todo] = []
        self.notes: list[str] = []
        self.datasets = {d.fides_key: _dataset_categories(d) for d in datasets}
        self.catalogue = _catalogue_index()
        # A system that is only a sub-processor becomes a sub-processor of those feeding it.
        self.subs_only = {
            s.fides_key for s in systems if [str(r) for r in s.responsibility] == ["Sub-Processor"]
        }
        self.names = {s.fides_key: (s.legal_name or s.name or s.fides_key) for s in systems}
        self.own_keys = {s.fides_key for s in systems}
        self.fed: dict[str, list[str]] = {}
        for s in systems:
            if s.fides_key in self.subs_only:
                for flow in s.ingress or []:
                    if _is_system_flow(flow):
                        self.fed.setdefault(flow.fides_key, []).append(s.fides_key)

    def system(self, s: Any) -> dict[str, Any]:
        """Draft one inventory system from a Fides system."""
        ident = s.fides_key
        if not _ID.match(ident):
            ident = re.sub(r"[^A-Za-z0-9_.-]", "_", ident)
            self.notes.append(f"system {s.fides_key}: id written as {ident!r} (no <> in ids)")
        where = f"systems[{ident}]"  # as `residency check` names it
        entry: dict[str, Any] = {"id": ident}
        if s.name and s.name != ident:
            entry["name"] = s.name
        fides_categories, trained, third_parties = self._declarations(s)
        data = self._data(s.fides_key, fides_categories)
        key = _catalogue_match(s, self.catalogue)
        if key is not None:
            entry["catalogue"] = key
            self.notes.append(
                f"system {s.fides_key}: matches catalogue entry {key!r}; its vendor, hosting, "
                f"sub-processors and AI terms come from `residency vendors {key}` (set plan: "
                "and residency_option: if yours differ)"
            )
        else:
            self._vendor(s, entry, where)
        if data:
            entry["data"] = data
        if s.legal_basis_for_transfers:
            self.notes.append(
                f"system {s.fides_key}: Fides legal_basis_for_transfers "
                f"{', '.join(s.legal_basis_for_transfers)} is not imported as a safeguard "
                "(which instrument and version is not said); add safeguards: yourself"
            )
        sources = [u for u in (s.privacy_policy, s.dpa_location) if u]
        if sources:
            entry["sources"] = sources
        if trained and key is None:
            self._ai(entry, where, trained, data)
        subs = self._subprocessors(s, third_parties)
        if subs and key is None:
            entry["subprocessors"] = [{"name": n} for n in subs]
            for j in range(len(subs)):
                self.todos.append(
                    Todo(f"{where}.subprocessors[{j}].countries", "the countries it processes in")
                )
        elif subs:
            self.notes.append(
                f"system {s.fides_key}: third parties {', '.join(subs)} not written (the "
                "catalogue lists its sub-processors)"
            )
        return entry

    def _declarations(self, s: Any) -> tuple[set[str], set[str], list[str]]:
        """Answer a system's categories (declared and from its datasets), the categories
        trained on, and the third parties named."""
        categories_: set[str] = set()
        trained: set[str] = set()
        third_parties: list[str] = []
        refs = list(s.dataset_references or [])
        for d in s.privacy_declarations:
            categories_.update(d.data_categories)
            refs += list(d.dataset_references or [])
            if d.data_use == TRAIN_AI_USE or d.data_use.startswith(TRAIN_AI_USE + "."):
                trained.update(d.data_categories)
            if d.third_parties:
                third_parties += [p.strip() for p in re.split(r"[;\n]", d.third_parties)]
        for ref in dict.fromkeys(refs):
            if ref in self.datasets:
                categories_ |= self.datasets[ref]
            else:
                self.notes.append(f"system {s.fides_key}: dataset {ref!r} is not in the manifests")
        return categories_, trained, [p for p in third_parties if p]

    def _data(self, system: str, keys: set[str]) -> list[str]:
        data, lossy, dropped = _categories(keys)
        for key, names in lossy.items():
            self.notes.append(
                f"system {system}: {key} could be any of {', '.join(names)}; kept as the "
                "fideslang key (replace it with the residency category if you know which)"
            )
        if dropped:
            self.notes.append(
                f"system {system}: left out {', '.join(sorted(dropped))} (not personal data)"
            )
        return data

    def _vendor(self, s: Any, entry: dict[str, Any], where: str) -> None:
        entry["vendor"] = s.legal_name or s.name or s.fides_key
        if not s.legal_name:
            self.notes.append(
                f"system {s.fides_key}: no legal_name; vendor taken from its name (check it)"
            )
        country = address_country(s.legal_address)
        if country is not None:
            entry["vendor_country"] = country
            self.notes.append(
                f"system {s.fides_key}: vendor_country {country} read from legal_address "
                f"{s.legal_address!r}"
            )
        else:
            hint = f" (legal_address: {clip(s.legal_address)})" if s.legal_address else ""
            self.todos.append(Todo(f"{where}.vendor_country", f"the vendor's ISO 3166 code{hint}"))
        self.todos.append(
            Todo(
                f"{where}.hosting",
                "where the system stores data: [{provider: aws, region: ...}] or [{country: XX}]",
            )
        )

    def _ai(self, entry: dict[str, Any], where: str, trained: set[str], data: list[str]) -> None:
        # default: null is refused by check until it is filled (absent would mean "none")
        ai: dict[str, Any] = {"uses_customer_data": True, "default": None}
        ai_data, _, _ = _categories(trained)
        if ai_data and set(ai_data) != set(data):
            ai["data"] = ai_data
        entry["ai_training"] = ai
        self.todos.append(
            Todo(
                f"{where}.ai_training.default",
                "opt-in or opt-out (Fides records only that training happens), and since:",
            )
        )

    def _subprocessors(self, s: Any, third_parties: list[str]) -> list[str]:
        names = list(third_parties)
        for flow in s.egress or []:
            if _is_system_flow(flow):
                target = flow.fides_key
                if target in self.subs_only:
                    names.append(self.names[target])
                elif target not in self.own_keys:
                    names.append(target)
        names += [self.names[k] for k in self.fed.get(s.fides_key, [])]
        return list(dict.fromkeys(names))


def _dataset_categories(dataset: Any) -> set[str]:
    """Answer every data category a dataset, its collections and fields declare."""
    found = set(dataset.data_categories or [])
    stack = []
    for collection in dataset.collections:
        found |= set(collection.data_categories or [])
        stack += list(collection.fields)
    while stack:
        f = stack.pop()
        found |= set(f.data_categories or [])
        stack += list(f.fields or [])
    return found


@cache
def _reverse() -> dict[str, tuple[str, ...]]:
    """Answer, per fideslang key, the residency categories mapped to it."""
    back: dict[str, list[str]] = {}
    for c in categories().values():
        back.setdefault(c.fides, []).append(c.name)
    return {k: tuple(sorted(v)) for k, v in back.items()}


def _categories(keys: set[str]) -> tuple[list[str], dict[str, tuple[str, ...]], set[str]]:
    """Map fideslang keys back to residency categories.

    A key that a narrower one refines (``user.contact`` beside ``user.contact.email``) is
    dropped; a key one residency category maps to becomes that category; a key several
    map to (lossy) stays the fideslang key; ``system.*`` keys are not personal data.
    Answers the categories, the lossy keys with their candidates, and the dropped keys.
    """
    personal = {k for k in keys if not (k == "system" or k.startswith("system."))}
    dropped = keys - personal
    narrowest = {k for k in personal if not any(o.startswith(k + ".") for o in personal)}
    out: list[str] = []
    lossy: dict[str, tuple[str, ...]] = {}
    for key in sorted(narrowest):
        names = _reverse().get(key, ())
        if len(names) == 1:
            out.append(names[0])
        else:
            out.append(key)
            if names:
                lossy[key] = names
    return list(dict.fromkeys(out)), lossy, dropped


@cache
def _country_names() -> dict[str, str]:
    """Answer every country's names (name, official and common name), lower-case, to code."""
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names[value.lower()] = c.alpha_2
    names["united states of america"] = "US"
    names["usa"] = "US"
    names["united kingdom"] = "GB"
    return names


def address_country(address: str | None) -> str | None:
    """Answer the country a free-text address names, only when it names exactly one.

    A part of the address (between ``;``, ``,`` or line breaks) must be a country's full
    name; two-letter parts are not read (``CA`` may be California). Two different countries,
    or none, answer None: a country is never guessed.

    >>> address_country("Marshalllaan 2, unit 2.02;GZ Delft;2625;Netherlands;Netherlands")
    'NL'
    >>> address_country("1 Main St, Springfield, CA") is None
    True
    """
    if not address:
        return None
    names = _country_names()
    found = {
        names[part.strip().lower()]
        for part in re.split(r"[;,\n]", address)
        if part.strip().lower() in names
    }
    return found.pop() if len(found) == 1 else None


@cache
def _catalogue_index() -> dict[str, str]:
    """Answer the vendor catalogue's keys and names, normalised, to their key (unique only)."""
    from residency.catalogue import vendors

    seen: dict[str, set[str]] = {}
    for key in vendors(strict=False):
        v = vendors(strict=False)[key]
        for text in (key, v.name, v.name.split(" (")[0], v.vendor.name):
            seen.setdefault(_normal(text), set()).add(key)
    return {name: next(iter(keys)) for name, keys in seen.items() if len(keys) == 1 and name}


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _catalogue_match(s: Any, index: dict[str, str]) -> str | None:
    """Answer the catalogue key a system names by key, name or legal name, if exactly one."""
    found = {
        index[n]
        for n in map(_normal, (s.fides_key, s.name or "", s.legal_name or ""))
        if n in index
    }
    return found.pop() if len(found) == 1 else None


# ----------------------------------------------------------------------------- writing


def _render(draft: Draft) -> str:
    """Write the draft as YAML with a header and a ``# TODO`` comment per missing fact."""
    by_prefix: dict[str, list[Todo]] = {}
    for todo in draft.todos:
        head = todo.field.split(".", 1)[0]
        by_prefix.setdefault(head, []).append(todo)
    lines = [*draft.header, ""]
    org = draft.data["organisation"]
    lines.append("organisation:" if org else "organisation: {}")
    for key, value in org.items():
        lines.append(f"  {_dump_inline(key, value)}")
    for todo in by_prefix.get("organisation", []):
        lines.append(f"  # TODO {todo.field.split('.', 1)[1]}: {todo.what}")
    lines += ["", "systems:"]
    for entry in draft.data["systems"]:
        block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
        lines.append("")
        lines += ["  " + line for line in block.rstrip("\n").splitlines()]
        for todo in by_prefix.get(f"systems[{entry['id']}]", []):
            rest = todo.field.split(".", 1)[1]
            lines.append(f"    # TODO {rest}: {todo.what}")
    if not draft.data["systems"]:
        lines[-1] = "systems: []"
    return "\n".join(lines) + "\n"


def _dump_inline(key: str, value: Any) -> str:
    text = yaml.safe_dump({key: value}, default_flow_style=True, allow_unicode=True, width=1000)
    return text.strip().removeprefix("{").removesuffix("}")
