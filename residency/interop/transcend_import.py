"""Draft an inventory from Transcend's ``transcend.yml`` (its data map as code).

Transcend records where each data silo is (``country``, ``countrySubDivision``), where its
vendors have their headquarters, and, per processing activity, the regions data is stored
in and transferred to. It has no cloud regions, no sub-processor chain, no AI-training
facts, no staff and no clients, and it links no vendor to a data silo. So the result is a
**draft**: every fact residency needs and the file does not give is left absent with a
``# TODO`` comment, so that ``residency check`` on the draft lists exactly what is left to
fill. No country is ever guessed: ``EU`` (a bloc, allowed by Transcend's schema) is not a
country, a subdivision that contradicts its country is reported, and an activity that names
several silos is ambiguous (its regions are not given to any one of them). Field mapping and
limits: docs/interop.md.

>>> draft = draft_from_transcend({"data-silos": [{"title": "Payroll DB",
...     "integrationName": "database", "country": "DE"}]})
>>> draft.data["systems"][0]["hosting"]
[{'country': 'DE', 'source': 'transcend.yml data silo country'}]
>>> [t.field for t in draft.todos]
['organisation.name', 'organisation.country', 'systems[payroll-db].vendor', \
'systems[payroll-db].vendor_country']
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

from residency._errors import InventoryProblem, ProblemsError
from residency._yaml import clip, line_map, load_document
from residency.interop.fides_import import (
    Draft,
    Todo,
    _catalogue_index,
    _country_names,
    _normal,
    address_country,
)
from residency.limits import current
from residency.places import is_bloc, is_country, is_subdivision

SECTIONS = ("data-silos", "vendors", "processing-activities", "business-entities")
SOURCE = "transcend.yml"
HEADER = (
    "# Draft inventory converted from Transcend's transcend.yml by `residency convert transcend`.",
    "# Transcend has no cloud regions, sub-processors, AI-training facts, staff or clients",
    "# and links no vendor to a data silo: fill every TODO, then run",
    "# `residency check -i THIS_FILE`; it lists what is still missing.",
)
_MAX_ID = 128  # model.Id's max_length

# The fields read from each section, and what each must be; the rest is not read.
_TEXT = "text"
_TEXTS = "a list of texts"
_REGIONS = "a list of {country: XX, countrySubDivision: XX-YY}"
_FIELDS: dict[str, dict[str, str]] = {
    "data-silos": {
        "title": _TEXT,
        "integrationName": _TEXT,
        "description": _TEXT,
        "country": _TEXT,
        "countrySubDivision": _TEXT,
        "businessEntityTitles": _TEXTS,
        "data-subjects": _TEXTS,
        "datapoints": "a list of {key: ..., fields: [...]}",
    },
    "vendors": {
        "title": _TEXT,
        "address": _TEXT,
        "headquarterCountry": _TEXT,
        "headquarterSubDivision": _TEXT,
        "dataProcessingAgreementLink": _TEXT,
        "websiteUrl": _TEXT,
        "businessEntity": _TEXT,
    },
    "processing-activities": {
        "title": _TEXT,
        "dataSiloTitles": _TEXTS,
        "storageRegions": _REGIONS,
        "transferRegions": _REGIONS,
        "dataSubjectTypes": _TEXTS,
        "dataSubCategories": "a list of {category: CONTACT, name: ...}",
    },
    "business-entities": {
        "title": _TEXT,
        "address": _TEXT,
        "headquarterCountry": _TEXT,
        "headquarterSubDivision": _TEXT,
    },
}


class TranscendImportError(ProblemsError):
    """A transcend.yml could not be read or holds malformed records; ``problems`` lists them."""

    subject = "the Transcend file"


@dataclass(frozen=True)
class Ambiguous:
    """A processing activity whose regions cannot be given to one data silo."""

    activity: str
    silos: tuple[str, ...]
    storage: tuple[str, ...]
    transfer: tuple[str, ...]

    def __str__(self) -> str:
        regions = ", ".join(
            f"{kind} {' '.join(codes)}"
            for kind, codes in (("stores in", self.storage), ("transfers to", self.transfer))
            if codes
        )
        return (
            f"processing activity {self.activity!r} is ambiguous: it spans data silos "
            f"{', '.join(self.silos)}, and Transcend does not say which of them "
            f"{regions or 'its regions belong to'}; add those countries to the right "
            "system's hosting (or sub-processors) yourself"
        )


@dataclass(frozen=True)
class Conflict:
    """A record whose address and country (or country and subdivision) disagree."""

    record: str
    declared: str
    found: str

    def __str__(self) -> str:
        return f"{self.record}: {self.declared} conflicts with {self.found}; check which is right"


@dataclass
class TranscendDraft(Draft):
    """A draft from transcend.yml: a :class:`Draft` plus ambiguous activities and conflicts."""

    ambiguous: list[Ambiguous] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


@dataclass
class _Doc:
    """The sections read from one transcend.yml, with the line of each path."""

    file: str
    sections: dict[str, list[dict[str, Any]]]
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading


def convert_transcend(path: str | Path) -> TranscendDraft:
    """Read a transcend.yml and draft an inventory from it."""
    return _draft(read_transcend(path))


def draft_from_transcend(doc: dict[str, Any], name: str = SOURCE) -> TranscendDraft:
    """Draft an inventory from a transcend.yml already parsed (a mapping of sections)."""
    problems: list[InventoryProblem] = []
    parsed = _checked(doc, name, {}, problems)
    if problems or parsed is None:
        raise TranscendImportError(problems)
    return _draft(parsed)


def read_transcend(path: str | Path) -> _Doc:
    """Read and check one transcend.yml (YAML, bounded by residency's limits).

    A file that cannot be read, is not a transcend.yml, or has a record of the wrong shape
    raises :class:`TranscendImportError` naming the file, line, field and what was expected.
    """
    file = Path(path)
    name = str(file)
    limits = current()

    def fail(line: int | None, fld: str, message: str) -> TranscendImportError:
        return TranscendImportError([InventoryProblem(name, line, fld, message)])

    if file.is_dir():
        raise fail(None, "path", "a folder: expected the transcend.yml file itself")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise fail(None, "file", f"cannot read: {exc.strerror}") from None
    if len(raw) > limits.file_bytes:
        raise fail(None, "file", f"too large; {limits.hint('file_mb')}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(None, "file", f"not UTF-8 text (byte {exc.start:,}): expected YAML") from None
    doc, node, found = load_document(text, limits)
    if doc is None and found:
        raise TranscendImportError([InventoryProblem(name, ln, f, m) for ln, f, m in found])
    lines = line_map(node, deep=True) if node is not None else {}
    problems = [InventoryProblem(name, ln, f, m) for ln, f, m in found]
    parsed = _checked(doc, name, lines, problems)
    if problems or parsed is None:
        raise TranscendImportError(problems)
    return parsed


def _checked(
    doc: Any, name: str, lines: dict[tuple[Any, ...], int], problems: list[InventoryProblem]
) -> _Doc | None:
    """Check the shape of the sections read; record each problem with its line."""
    wanted = ", ".join(f"{s}:" for s in SECTIONS)
    if not isinstance(doc, dict):
        got = "an empty file" if doc is None else f"a {type(doc).__name__}"
        problems.append(
            InventoryProblem(name, 1, "document", f"{got}: expected a mapping with {wanted} lists")
        )
        return None
    if not any(k in doc for k in SECTIONS):
        keys = clip(", ".join(sorted(map(str, doc))[:5]))
        hint = " (a Fides manifest? use `residency convert fides`)" if "system" in doc else ""
        problems.append(
            InventoryProblem(name, 1, "document", f"none of {wanted} (keys: {keys}){hint}")
        )
        return None
    sections: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        value = doc.get(section)
        if value is None:
            sections[section] = []
            continue
        if not isinstance(value, list):
            problems.append(
                InventoryProblem(
                    name,
                    lines.get((section,)),
                    section,
                    f"expected a list of records, got {_kind(value)}",
                )
            )
            continue
        sections[section] = _records(section, value, name, lines, problems)
    return _Doc(name, sections, lines)


def _records(
    section: str,
    items: list[Any],
    name: str,
    lines: dict[tuple[Any, ...], int],
    problems: list[InventoryProblem],
) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    titles: dict[str, int] = {}
    for i, item in enumerate(items):
        where = f"{section}[{i}]"
        line = lines.get((section, i))

        def add(fld: str, message: str, loc: tuple[Any, ...] = (), *, _i: int = i) -> None:
            at = lines.get((section, _i, *loc), lines.get((section, _i)))
            problems.append(InventoryProblem(name, at, fld, message))

        if not isinstance(item, dict):
            add(where, f"expected a mapping with title: ..., got {_kind(item)}")
            continue
        title = item.get("title")
        if not isinstance(title, str) or not title.strip():
            got = "nothing" if title is None else _kind(title)
            add(f"{where}.title", f"expected the record's title as text, got {got}", ("title",))
            continue
        if title.strip() in titles:
            add(
                f"{where}.title",
                f"title {clip(title)} given twice (also line {titles[title.strip()]}): "
                "Transcend identifies records by title",
                ("title",),
            )
            continue
        titles[title.strip()] = line or 0
        ok = True
        for key, expected in _FIELDS[section].items():
            value = item.get(key)
            if value is None:
                continue
            message = _shape_problem(expected, value)
            if message is not None:
                add(f"{where}.{key}", message, (key,))
                ok = False
        if ok:
            kept.append({**item, "title": title.strip()})
    return kept


def _shape_problem(expected: str, value: Any) -> str | None:
    """Say how a value differs from what the field expects, or None when it fits."""
    if expected == _TEXT:
        return None if isinstance(value, str) else f"expected text, got {_kind(value)}"
    if not isinstance(value, list):
        return f"expected {expected}, got {_kind(value)}"
    if expected == _TEXTS:
        bad = next((v for v in value if not isinstance(v, str)), None)
        return None if bad is None else f"expected {expected}, got an item {_kind(bad)}"
    if expected == _REGIONS:
        for region in value:
            if not isinstance(region, dict) or not all(
                isinstance(region.get(k), str | None) for k in ("country", "countrySubDivision")
            ):
                return f"expected {expected}, got an item {clip(region)}"
        return None
    bad = next((v for v in value if not isinstance(v, dict)), None)
    return None if bad is None else f"expected {expected}, got an item {_kind(bad)}"


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}
    return names.get(type(value), f"{type(value).__name__} {clip(value)}")


# ----------------------------------------------------------------------------- drafting


def _draft(doc: _Doc) -> TranscendDraft:
    builder = _Builder(doc)
    return builder.build()


def _slug(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9_.]+", "-", folded.lower()).strip("-._")
    return slug[:_MAX_ID] or "silo-" + _digest(title)


def _digest(title: str) -> str:
    return hashlib.sha1(title.encode(), usedforsecurity=False).hexdigest()[:6]


def place_code(country: str | None, subdivision: str | None) -> tuple[str | None, str | None]:
    """Answer the place code a country and subdivision give, or None with the reason.

    The subdivision is the finer code when it lies in the country; ``EU`` (a bloc) and
    unknown codes are never read as a country.

    >>> place_code("CA", "CA-QC")
    ('CA-QC', None)
    >>> place_code("EU", None)[0] is None
    True
    """
    country = country.strip() if country else None
    subdivision = subdivision.strip() if subdivision else None
    if subdivision:
        if not is_subdivision(subdivision):
            return None, f"countrySubDivision {subdivision!r} is not an ISO 3166-2 code"
        if country and country != subdivision.split("-", 1)[0]:
            return None, f"country {country} contradicts countrySubDivision {subdivision}"
        return subdivision, None
    if not country:
        return None, None
    if is_bloc(country):
        return None, f"{country} is a bloc, not a country: which member state?"
    if not is_country(country):
        return None, f"{country!r} is not an ISO 3166-1 country code"
    return country, None


class _Builder:
    """Drafts inventory systems from a checked transcend.yml, collecting to-dos and notes."""

    def __init__(self, doc: _Doc) -> None:
        self.doc = doc
        self.todos: list[Todo] = []
        self.notes: list[str] = []
        self.ambiguous: list[Ambiguous] = []
        self.conflicts: list[Conflict] = []
        self.silos = doc.sections.get("data-silos", [])
        self.vendors = doc.sections.get("vendors", [])
        self.activities = doc.sections.get("processing-activities", [])
        self.entities = doc.sections.get("business-entities", [])
        slugs: dict[str, list[str]] = {}
        for silo in self.silos:
            slugs.setdefault(_slug(silo["title"]), []).append(silo["title"])
        # Two titles with one slug each get a suffix from their own title, not their position.
        self.ids = {
            title: (slug if len(titles) == 1 else f"{slug[: _MAX_ID - 7]}-{_digest(title)}")
            for slug, titles in slugs.items()
            for title in titles
        }
        self.catalogue = _catalogue_index()
        self.vendor_index: dict[str, list[dict[str, Any]]] = {}
        for vendor in self.vendors:
            self.vendor_index.setdefault(_normal(vendor["title"]), []).append(vendor)
        self.used_vendors: set[str] = set()

    def build(self) -> TranscendDraft:
        organisation = self._organisation()
        for record in self.vendors:
            self._address_check("vendor", record)
        storage, transfers = self._activities()
        systems = [self._system(s, storage, transfers) for s in self.silos]
        for vendor in self.vendors:
            if vendor["title"] not in self.used_vendors:
                self.notes.append(
                    f"vendor {vendor['title']!r} matches no data silo by name (transcend.yml "
                    "links no vendor to a silo): name it as a system's vendor: yourself"
                )
        if not self.silos:
            self.notes.append("no data-silos: the draft has no systems")
        data: dict[str, Any] = {"organisation": organisation, "systems": systems}
        notes = [*map(str, self.conflicts), *map(str, self.ambiguous), *self.notes]
        header = (*HEADER, *(["#", "# Notes:"] if notes else []), *(f"# - {n}" for n in notes))
        return TranscendDraft(
            data,
            self.todos,
            notes,
            [],
            systems,
            header=tuple(header),
            ambiguous=self.ambiguous,
            conflicts=self.conflicts,
        )

    # -- business entities -> organisation

    def _organisation(self) -> dict[str, Any]:
        org: dict[str, Any] = {}
        for record in self.entities:
            self._address_check("business entity", record)
        if len(self.entities) == 1:
            entity = self.entities[0]
            org["name"] = entity["title"]
            code, problem = self._hq(entity, "business entity")
            if code is not None:
                org["country"] = code
            else:
                why = f" ({problem})" if problem else ""
                self.todos.append(
                    Todo("organisation.country", f"the organisation's ISO 3166 code{why}")
                )
            return org
        if self.entities:
            listed = "; ".join(
                f"{e['title']} ({self._hq(e, 'business entity', quiet=True)[0] or '?'})"
                for e in self.entities
            )
            hint = f" (transcend.yml has {len(self.entities)} business entities: {listed})"
            self.notes.append(
                f"{len(self.entities)} business entities: residency has one organisation (the "
                "one whose obligations you ask about); the others may be staff's employers "
                "(staff[].entity)"
            )
        else:
            hint = " (transcend.yml has no business-entities)"
        self.todos.append(Todo("organisation.name", f"the organisation's name{hint}"))
        self.todos.append(Todo("organisation.country", "the organisation's ISO 3166 code"))
        return org

    def _hq(
        self, record: dict[str, Any], kind: str, *, quiet: bool = False
    ) -> tuple[str | None, str | None]:
        """Answer a vendor's or entity's headquarters code, or None with the reason."""
        code, problem = place_code(
            record.get("headquarterCountry"), record.get("headquarterSubDivision")
        )
        if problem and not quiet and "contradicts" in problem:
            self.conflicts.append(
                Conflict(
                    f"{kind} {record['title']!r}",
                    f"headquarterCountry {record.get('headquarterCountry')}",
                    f"headquarterSubDivision {record.get('headquarterSubDivision')}",
                )
            )
        return code, problem

    def _address_check(self, kind: str, record: dict[str, Any]) -> None:
        address = record.get("address")
        declared = record.get("headquarterSubDivision") or record.get("headquarterCountry")
        if not address or not declared:
            return
        country = declared.split("-", 1)[0]
        for part, candidates in address_places(address):
            if country not in candidates:
                self.conflicts.append(
                    Conflict(
                        f"{kind} {record['title']!r}",
                        f"headquarterCountry {country}",
                        f"address {address!r} ({part!r} is in {'/'.join(sorted(candidates))})",
                    )
                )
                return

    # -- processing activities -> hosting and recipients

    def _activities(
        self,
    ) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, list[str]]]]]:
        """Answer, per silo title, the storage countries and the transfers its activities give.

        Only an activity naming exactly one known silo gives that silo anything.
        """
        known = {s["title"] for s in self.silos}
        storage: dict[str, list[tuple[str, str]]] = {}
        transfers: dict[str, list[tuple[str, list[str]]]] = {}
        for activity in self.activities:
            title = activity["title"]
            named = list(dict.fromkeys(t.strip() for t in activity.get("dataSiloTitles") or []))
            missing = [t for t in named if t not in known]
            if missing:
                self.notes.append(
                    f"processing activity {title!r} names data silos not in data-silos: "
                    f"{', '.join(missing)}"
                )
            silos = [t for t in named if t in known]
            stored = self._regions(title, "storageRegions", activity.get("storageRegions"))
            sent = self._regions(title, "transferRegions", activity.get("transferRegions"))
            if not (stored or sent):
                continue
            if not silos:
                self.notes.append(
                    f"processing activity {title!r} names no data silo: its regions "
                    f"({', '.join([*stored, *sent])}) are not given to any system"
                )
            elif len(silos) > 1:
                self.ambiguous.append(Ambiguous(title, tuple(silos), tuple(stored), tuple(sent)))
            else:
                storage.setdefault(silos[0], []).extend((c, title) for c in stored)
                if sent:
                    transfers.setdefault(silos[0], []).append((title, sent))
        return storage, transfers

    def _regions(self, activity: str, key: str, regions: list[dict[str, Any]] | None) -> list[str]:
        codes: list[str] = []
        for region in regions or []:
            code, problem = place_code(region.get("country"), region.get("countrySubDivision"))
            if problem:
                self.notes.append(f"processing activity {activity!r}: {key}: {problem}; left out")
                if "contradicts" in problem:
                    self.conflicts.append(
                        Conflict(
                            f"processing activity {activity!r} {key}",
                            f"country {region.get('country')}",
                            f"countrySubDivision {region.get('countrySubDivision')}",
                        )
                    )
            elif code is not None:
                codes.append(code)
        return list(dict.fromkeys(codes))

    # -- data silos -> systems

    def _system(
        self,
        silo: dict[str, Any],
        storage: dict[str, list[tuple[str, str]]],
        transfers: dict[str, list[tuple[str, list[str]]]],
    ) -> dict[str, Any]:
        title = silo["title"]
        ident = self.ids[title]
        where = f"systems[{ident}]"
        entry: dict[str, Any] = {"id": ident}
        if title != ident:
            entry["name"] = title
        key = self._catalogue(silo)
        if key is not None:
            entry["catalogue"] = key
            self.notes.append(
                f"data silo {title!r}: matches catalogue entry {key!r}; its vendor, "
                f"sub-processors and AI terms come from `residency vendors {key}`"
            )
        else:
            self._vendor(silo, entry, where)
        hosting = self._hosting(silo, storage.get(title, []))
        if hosting:
            entry["hosting"] = hosting
            if key is not None:
                self.notes.append(
                    f"data silo {title!r}: its transcend.yml countries are written as hosting: "
                    "and replace the catalogue's"
                )
        elif key is None:
            hint = self._ambiguous_hint(title)
            self.todos.append(
                Todo(
                    f"{where}.hosting",
                    "where the system stores data: [{provider: aws, region: ...}] or "
                    f"[{{country: XX}}]{hint}",
                )
            )
        recipients = transfers.get(title, [])
        if recipients and key is None:
            subs = []
            for j, (activity, codes) in enumerate(recipients):
                subs.append(
                    {
                        "purpose": f"transfer regions of processing activity {activity!r}",
                        "countries": codes,
                        "source": SOURCE,
                    }
                )
                self.todos.append(
                    Todo(
                        f"{where}.subprocessors[{j}].name",
                        f"who receives the data in {', '.join(codes)} (Transcend records only "
                        "the regions); if it is the vendor itself, drop this entry",
                    )
                )
            entry["subprocessors"] = subs
        elif recipients:
            self.notes.append(
                f"data silo {title!r}: transfer regions "
                f"{', '.join(c for _, codes in recipients for c in codes)} not written (the "
                "catalogue lists its sub-processors; add yours if they differ)"
            )
        categories = self._categories(silo)
        if categories:
            entry["notes"] = (
                f"Transcend data categories: {', '.join(categories)} (not mapped to residency "
                "categories: write data: yourself)"
            )
        return entry

    def _catalogue(self, silo: dict[str, Any]) -> str | None:
        names = (silo["title"], silo.get("integrationName") or "")
        found = {self.catalogue[n] for n in map(_normal, names) if n in self.catalogue}
        return found.pop() if len(found) == 1 else None

    def _vendor(self, silo: dict[str, Any], entry: dict[str, Any], where: str) -> None:
        title = silo["title"]
        names = {_normal(title), _normal(silo.get("integrationName") or "")} - {""}
        matches = {v["title"]: v for n in names for v in self.vendor_index.get(n, [])}
        if len(matches) != 1:
            listed = ", ".join(sorted(matches))
            hint = f" (several vendors match: {listed})" if matches else ""
            self.todos.append(
                Todo(
                    f"{where}.vendor",
                    "the vendor's legal name (transcend.yml links no vendor to a data silo)" + hint,
                )
            )
            self.todos.append(Todo(f"{where}.vendor_country", "the vendor's ISO 3166 code"))
            return
        vendor = next(iter(matches.values()))
        self.used_vendors.add(vendor["title"])
        entry["vendor"] = vendor["title"]
        self.notes.append(
            f"data silo {title!r}: vendor {vendor['title']!r} matched by name (check it)"
        )
        code, problem = self._hq(vendor, "vendor")
        if code is None and problem is None and vendor.get("address"):
            code = address_country(vendor["address"])
            if code is not None:
                self.notes.append(
                    f"vendor {vendor['title']!r}: vendor_country {code} read from its address"
                )
        if code is not None:
            entry["vendor_country"] = code
        else:
            why = f" (vendor {vendor['title']!r}: {problem or 'no headquarterCountry'})"
            self.todos.append(Todo(f"{where}.vendor_country", f"the vendor's ISO 3166 code{why}"))
        if vendor.get("dataProcessingAgreementLink"):
            entry["sources"] = [vendor["dataProcessingAgreementLink"]]

    def _hosting(self, silo: dict[str, Any], stored: list[tuple[str, str]]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        code, problem = place_code(silo.get("country"), silo.get("countrySubDivision"))
        if problem and "contradicts" not in problem:
            self.notes.append(f"data silo {silo['title']!r}: {problem}; not written as hosting")
        elif problem:
            self.conflicts.append(
                Conflict(
                    f"data silo {silo['title']!r}",
                    f"country {silo.get('country')}",
                    f"countrySubDivision {silo.get('countrySubDivision')}",
                )
            )
        if code is not None:
            rows.append({"country": code, "source": f"{SOURCE} data silo country"})
        seen = {code}
        for country, activity in stored:
            if country in seen:
                continue
            seen.add(country)
            rows.append(
                {
                    "country": country,
                    "purpose": activity,
                    "source": f"{SOURCE} processing activity storageRegions",
                }
            )
        return rows

    def _ambiguous_hint(self, title: str) -> str:
        found = [a for a in self.ambiguous if title in a.silos and a.storage]
        if not found:
            return ""
        listed = "; ".join(f"{a.activity!r} stores in {' '.join(a.storage)}" for a in found)
        return f" (ambiguous activities spanning this silo: {listed})"

    def _categories(self, silo: dict[str, Any]) -> list[str]:
        found: list[str] = []
        for point in silo.get("datapoints") or []:
            for fld in point.get("fields") or [] if isinstance(point, dict) else []:
                if not isinstance(fld, dict):
                    continue
                for cat in fld.get("categories") or []:
                    if isinstance(cat, dict) and isinstance(cat.get("category"), str):
                        name = cat.get("name")
                        label = cat["category"] + (f" ({name})" if isinstance(name, str) else "")
                        found.append(label)
        for activity in self.activities:
            if silo["title"] in (activity.get("dataSiloTitles") or []):
                for cat in activity.get("dataSubCategories") or []:
                    if isinstance(cat.get("category"), str):
                        name = cat.get("name")
                        label = cat["category"] + (f" ({name})" if isinstance(name, str) else "")
                        found.append(label)
        return list(dict.fromkeys(found))[:20]


@cache
def _place_names() -> dict[str, frozenset[str]]:
    """Answer every country's and subdivision's name, folded, to the countries it names."""
    names: dict[str, set[str]] = {}
    for name, code in _country_names().items():
        names.setdefault(_fold(name), set()).add(code)
    for sub in pycountry.subdivisions:
        names.setdefault(_fold(sub.name), set()).add(sub.country_code)
    return {k: frozenset(v) for k, v in names.items() if k}


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", re.sub(r"[\d]+", " ", plain)).strip().lower()


def address_places(address: str) -> list[tuple[str, frozenset[str]]]:
    """Answer the parts of an address that name a country or region, with its countries.

    Used only to report a conflict with a declared country, never to set one: a region's
    name (``Zurich``, ``Bavaria`` is not one; ``Bayern`` is) may exist in several countries.

    >>> address_places("Seestrasse 4, 8002 Zurich")
    [('Zurich', frozenset({'CH'}))]
    """
    names = _place_names()
    found = []
    for part in re.split(r"[;,\n]", address[:2000]):
        key = _fold(part)
        if key in names:
            found.append((part.strip(" 0123456789"), names[key]))
    return found
