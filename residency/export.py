"""The JSON export for legal review (schema ``residency-export/2``) and the CSV register.

The export is written as a stream (:func:`write_export`): rows are made and written one at
a time, so its size in memory stays small whatever the organisation's size. Legal sources
and notes are stated once, in the ``sources`` and ``notes`` tables, and referenced by id;
transfers are given as a register of routes and, per subject, the routes its data takes.
The same inventory and date give the same bytes, except ``generated_at``
(docs/export.md says what changed from ``/1``).

>>> import residency
>>> doc = residency.load().export(as_of="2026-11-26")
>>> doc["schema"], sorted(doc)[:3]
('residency-export/2', ['ai_training', 'as_of', 'data_categories'])
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import IO, TYPE_CHECKING, Any

import orjson

from residency._perf import bulk
from residency.categories import category_classes, fides_key
from residency.findings import Assessment, Finding
from residency.jurisdictions import LegalData
from residency.model import Inventory
from residency.query import reaches
from residency.routes import Route, SubjectMap, route_id
from residency.rules import SourceRef

if TYPE_CHECKING:
    import pandas as pd

    from residency.records import RouteRecord

SCHEMA_ID = "residency-export/2"
SCHEMA_FILE = "export-2.schema.json"
DISCLAIMER = (
    "Not legal advice. Generated from the inventory and the dated legal data named "
    "here; check facts marked medium or low confidence, and every note, before "
    "relying on them."
)


@cache
def schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the export."""
    from importlib import resources

    text = (resources.files("residency") / "schema" / SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def validate(document: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if a document does not follow the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(schema()).validate(document)


class Table(dict):
    """A mapping written one entry per line (``id: row``), sorted by id."""


TABLES = ("notes", "sources", "subjects", "systems", "transfer_assessments")  # written as tables


@lru_cache(maxsize=65536)
def source_id(ref: SourceRef) -> str:
    """Return the id a legal source is referenced by in the export (derived from its content).

    >>> source_id(SourceRef("EU-GDPR", "gdpr", "GDPR", None, None))
    'src-6e21c6789a'
    """
    key = "\x1f".join(
        (
            ref.regime,
            ref.id,
            ref.title,
            ref.citation or "",
            ref.url or "",
            ref.locator or "",
            ref.confidence,
        )
    )
    return "src-" + hashlib.sha256(key.encode()).hexdigest()[:10]


@lru_cache(maxsize=65536)
def note_id(text: str) -> str:
    """Return the id a note is referenced by in the export (derived from its text)."""
    return "n-" + hashlib.sha256(text.encode()).hexdigest()[:10]


class _Tables:
    """Collects the sources and notes rows refer to, so each is written once."""

    def __init__(self) -> None:
        self.sources = Table()
        self.notes = Table()

    def source_ids(self, refs: Iterable[SourceRef]) -> list[str]:
        ids = []
        for ref in refs:
            key = source_id(ref)
            if key not in self.sources:
                self.sources[key] = ref.as_dict()
            ids.append(key)
        return sorted(set(ids))

    def note_ids(self, texts: Iterable[str]) -> list[str]:
        ids = []
        for text in texts:
            key = note_id(text)
            self.notes.setdefault(key, text)
            ids.append(key)
        return ids


def export_parts(
    inventory: Inventory,
    assessment: Assessment,
    data: LegalData,
    *,
    generated_at: datetime | None = None,
    plan: dict[str, Any] | None = None,
    records: Iterable[RouteRecord] | None = None,
) -> dict[str, Any]:
    """Return the export's top-level parts; big lists are generators, made while written.

    ``plan`` (``Plan.as_dict()``) adds the optional ``action_plan``, written first;
    ``records`` (:func:`residency.records.route_records`) the optional
    ``transfer_assessments``, keyed by route id.

    ``sources`` fills up as the findings that cite it are made, so it is written after
    ``findings`` (sorted key order does that); the routes' notes and sources are known
    before anything is written.
    """
    with bulk():  # the subjects' table and the routes' notes: many small objects
        return _parts(inventory, assessment, data, generated_at, plan, records)


def _parts(
    inventory: Inventory,
    assessment: Assessment,
    data: LegalData,
    generated_at: datetime | None,
    plan: dict[str, Any] | None,
    records: Iterable[RouteRecord] | None,
) -> dict[str, Any]:
    tables = _Tables()
    for route in assessment.routes:  # "notes" is written before "routes": fill it first
        tables.note_ids(route.notes)
        tables.source_ids(route.sources)
    extra: dict[str, Any] = {"action_plan": plan} if plan is not None else {}
    if records is not None:
        assessments = Table()
        for record in records:  # "sources" is written before: cite the records' sources now
            tables.source_ids(record.sources)
            assessments[record.route] = record.as_dict()
        extra["transfer_assessments"] = assessments
    return {
        **extra,
        "schema": SCHEMA_ID,
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "as_of": assessment.as_of.isoformat(),
        "disclaimer": DISCLAIMER,
        "inventory": {
            "name": inventory.organisation.name,
            "country": inventory.organisation.country,
            "content_hash": inventory.content_hash(),
        },
        "jurisdiction_data": {
            "as_of": data.as_of.isoformat(),
            "date_note": data.date_note(assessment.as_of),
            "content_hash": data.content_hash,
            "regimes": [
                {
                    "id": r.id,
                    "name": r.name,
                    "as_of": r.as_of.isoformat(),
                    "confidence": r.confidence,
                }
                for r in data.regimes
            ],
        },
        "subjects": _subjects(assessment),
        "systems": _systems(assessment),
        "locations": _locations(assessment),
        "routes": _routes(assessment, tables),
        "transfers": _transfers(assessment),
        "ai_training": _ai_training(assessment),
        "data_categories": _categories(assessment),
        "findings": _findings(assessment, tables),
        "notes": tables.notes,
        "sources": tables.sources,
    }


def build_export(
    inventory: Inventory,
    assessment: Assessment,
    data: LegalData,
    *,
    generated_at: datetime | None = None,
    plan: dict[str, Any] | None = None,
    records: Iterable[RouteRecord] | None = None,
) -> ExportDocument:
    """Build the whole export document in memory (for notebooks and small organisations)."""
    parts = export_parts(
        inventory, assessment, data, generated_at=generated_at, plan=plan, records=records
    )
    document = ExportDocument()
    for key in sorted(parts):  # the same order the stream writes, so the tables fill first
        value = parts[key]
        if isinstance(value, Table):
            document[key] = dict(sorted(value.items()))
        elif isinstance(value, Iterator):
            document[key] = list(value)
        else:
            document[key] = value
    return document


def write_export(out: IO[str], parts: dict[str, Any]) -> dict[str, int]:
    """Write export parts to ``out`` as a stream; return how many rows each list had.

    Keys are written sorted; each row of a list and each entry of a table on its own
    line, so the file is readable and diffs well.
    """
    with bulk():  # rows are made and dropped one at a time: nothing for the collector
        return _write_parts(out, parts)


def _write_parts(out: IO[str], parts: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    out.write("{\n")
    keys = sorted(parts)
    for i, key in enumerate(keys):
        value = parts[key]
        out.write(f"  {_dump(key)}: ")
        if isinstance(value, Table):
            counts[key] = _write_rows(
                out, (f"{_dump(k)}: {_dump(value[k])}" for k in sorted(value)), "{", "}"
            )
        elif isinstance(value, Iterator | list):
            counts[key] = _write_rows(out, (_dump(row) for row in value), "[", "]")
        else:
            out.write(_dump(value))
        out.write(",\n" if i < len(keys) - 1 else "\n")
    out.write("}\n")
    return counts


def _write_rows(out: IO[str], rows: Iterable[str], opening: str, closing: str) -> int:
    n = 0
    for text in rows:
        out.write(f"{opening}\n    {text}" if n == 0 else f",\n    {text}")
        n += 1
    out.write(f"\n  {closing}" if n else f"{opening}{closing}")
    return n


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _dump(value: Any) -> str:
    """Encode compact, sorted, non-ASCII JSON: the bytes ``json.dumps`` gives these options.

    orjson writes the same text several times faster (the export's rows are most of its
    time; tests/test_export.py compares the two encoders); what it refuses (a lone
    surrogate, a non-string key) goes to the standard encoder, as before.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _ENCODER.encode(value)


def to_json(document: dict[str, Any]) -> str:
    """Serialise an export document exactly as :func:`write_export` streams it."""
    buffer = io.StringIO()
    write_export(buffer, {k: Table(v) if k in TABLES else v for k, v in document.items()})
    return buffer.getvalue()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _subjects(assessment: Assessment) -> Table:
    assert assessment.context is not None
    G = assessment.context.G
    table = Table()
    for name, sm in assessment.subject_maps.items():
        node = G.nodes[name]
        row: dict[str, Any] = {"kind": node["kind"], "label": node["label"], "origin": sm.origin}
        if node["kind"] == "client":
            row["residency"] = list(node.get("residency") or [])
            row["data_subjects"] = node.get("data_subjects")
        else:
            row["type"] = node["type"]
            employers = [v for v, e in G.succ[name].items() if e["kind"] == "employed_by"]
            row["employer"] = G.nodes[employers[0]]["label"] if employers else None
        row["since"] = _iso(node.get("since"))
        table[name] = row
    return table


def _systems(assessment: Assessment) -> Table:
    assert assessment.context is not None
    G = assessment.context.G
    used = {u.system for sm in assessment.subject_maps.values() for u, _, _ in sm.units}
    table = Table()
    for system in used:
        node = G.nodes[system]
        table[system] = {
            "label": node["label"],
            "vendor": node["vendor"],
            "vendor_country": node["vendor_country"],
            "reaches": sorted(
                (
                    {
                        "id": r.id,
                        "kind": r.kind,
                        "country": r.country,
                        "recipient": r.recipient,
                        "recipient_type": r.recipient_type,
                        "via": r.hop,
                        "detail": r.detail,
                        "covers": list(r.covers) if r.covers is not None else None,
                        "since": _iso(r.since),
                        "until": _iso(r.until),
                    }
                    for r in reaches(G, system)
                ),
                key=lambda x: x["id"],
            ),
        }
    return table


def _locations(assessment: Assessment) -> Iterator[dict[str, Any]]:
    for name in sorted(assessment.subject_maps):
        sm = assessment.subject_maps[name]
        for unit, _, access in sorted(sm.units, key=lambda x: x[0].system):
            yield {
                "subject": name,
                "system": unit.system,
                "data": list(unit.data),
                "path": list(unit.prefix),
                "accessed_by": sorted(h.recipient for h in access),
            }


def _routes(assessment: Assessment, tables: _Tables) -> Iterator[dict[str, Any]]:
    for route in assessment.routes:
        row = route_row(route)
        row["judgements"] = [
            {"regime": j.regime, "basis": j.basis, "instrument": j.instrument}
            for j in route.judgements
        ]
        row["notes"] = tables.note_ids(route.notes)
        row["sources"] = tables.source_ids(route.sources)
        yield row


def route_row(route: Route) -> dict[str, Any]:
    """Return a route as a register row: the key, the data, systems and subjects it carries."""
    return {
        "id": route.id,
        "regimes": list(route.regimes),
        "destination": route.destination,
        "recipient": route.recipient,
        "recipient_type": route.key.recipient_type,
        "kind": route.kind,
        "basis": route.basis,
        "instrument": route.instrument,
        "tia_required": route.tia_required,
        "confidence": route.confidence,
        "data": list(route.data),
        "systems": list(route.systems),
        "subjects": {"count": len(route.subjects), "ids": list(route.subjects)},
    }


def _transfers(assessment: Assessment) -> Iterator[dict[str, Any]]:
    known: dict[int, list[str]] = {}  # subjects alike share one routes dict: name it once
    for name in sorted(assessment.subject_maps):
        sm: SubjectMap = assessment.subject_maps[name]
        if sm.routes:
            ids = known.get(id(sm.routes))
            if ids is None:
                ids = known[id(sm.routes)] = sorted(route_id(k) for k in sm.routes)
            yield {"subject": name, "routes": ids}


def _ai_training(assessment: Assessment) -> list[dict[str, Any]]:
    rows = [e.as_dict() for e in assessment.exposures]
    return sorted(rows, key=lambda x: (x["system_id"], x["subject"]))


def _categories(assessment: Assessment) -> dict[str, Any]:
    """Map every data category in the export to its fideslang key."""
    used = {
        c for sm in assessment.subject_maps.values() for unit, _, _ in sm.units for c in unit.data
    }
    return {
        name: {"fides": fides_key(name), "classes": list(category_classes(name))}
        for name in sorted(used)
    }


def _findings(assessment: Assessment, tables: _Tables) -> Iterator[dict[str, Any]]:
    assert assessment.context is not None
    labels = assessment.context.G.nodes
    for f in assessment.findings:
        yield _finding_row(f, labels[f.subject]["label"], tables)


def _finding_row(f: Finding, label: str, tables: _Tables) -> dict[str, Any]:
    row = f.as_dict(sources=False)
    row["subject_label"] = label
    row["sources"] = tables.source_ids(f.sources)
    return row


REGISTER_COLUMNS = [
    "id",
    "subject",
    "origin",
    "destination",
    "kind",
    "system",
    "recipient",
    "recipient_type",
    "data",
    "basis",
    "instrument",
    "tia_required",
    "confidence",
    "regimes",
    "notes",
    "sources",
    "evidence",
]
ROUTE_COLUMNS = [
    "id",
    "regimes",
    "destination",
    "recipient",
    "recipient_type",
    "kind",
    "basis",
    "instrument",
    "tia_required",
    "confidence",
    "data",
    "systems",
    "subject_count",
    "subjects",
    "notes",
    "sources",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def register_rows(transfers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten transfers (``Transfer.as_dict()``) into rows, one per transfer."""
    return [
        {
            **{c: t.get(c) for c in REGISTER_COLUMNS},
            "data": "; ".join(t["data"]),
            "regimes": "; ".join(f"{r['regime']}: {r['basis']}" for r in t["regimes"]),
            "notes": " | ".join(t["notes"]),
            "sources": " | ".join(s["citation"] or s["url"] or s["title"] for s in t["sources"]),
            "evidence": " > ".join(t["path"]),
        }
        for t in transfers
    ]


def cell(value: Any) -> str:
    """Return a CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def transfers_csv(transfers: list[dict[str, Any]]) -> str:
    """Return transfers as CSV, one row per transfer, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTER_COLUMNS)
    for row in register_rows(transfers):
        writer.writerow([cell(row[c]) for c in REGISTER_COLUMNS])
    return out.getvalue()


def write_routes_csv(
    out: IO[str], routes: Iterable[Route], labels: dict[str, str] | None = None
) -> int:
    """Write the transfer register by route as CSV (one row per route); return the count.

    With ``labels`` (subject id -> display name), subjects read ``Acme GmbH (client:acme)``.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROUTE_COLUMNS)
    n = 0
    for cells in route_cells(routes, labels):
        writer.writerow(cells)
        n += 1
    return n


def route_cells(
    routes: Iterable[Route], labels: dict[str, str] | None = None
) -> Iterator[list[str]]:
    """Yield each route as the register's cells (:data:`ROUTE_COLUMNS`), as the CSV has them."""
    named = labels or {}
    for route in routes:
        row = route_row(route)
        flat = {
            **row,
            "regimes": "; ".join(row["regimes"]),
            "data": "; ".join(row["data"]),
            "systems": "; ".join(row["systems"]),
            "subject_count": len(route.subjects),
            "subjects": "; ".join(
                f"{named[s]} ({s})" if named.get(s, s) != s else s for s in route.subjects
            ),
            "notes": " | ".join(route.notes),
            "sources": " | ".join(s.citation or s.url or s.title for s in route.sources),
        }
        yield [cell(flat[c]) for c in ROUTE_COLUMNS]


def routes_csv(routes: Iterable[Route], labels: dict[str, str] | None = None) -> str:
    """Return the transfer register by route as CSV text."""
    out = io.StringIO()
    write_routes_csv(out, routes, labels)
    return out.getvalue()


class ExportDocument(dict):
    """The export as a dict, with the conveniences a notebook wants."""

    def to_frame(self) -> pd.DataFrame:
        """Return the transfer register (one row per route) as a DataFrame, its notes and
        sources written out from the document's tables (as the CSV register has them)."""
        notes, sources = self.get("notes", {}), self.get("sources", {})
        rows = [
            {
                **r,
                "subject_count": r["subjects"]["count"],
                "subjects": r["subjects"]["ids"],
                "notes": " | ".join(notes.get(n, n) for n in r.get("notes", [])),
                "sources": " | ".join(
                    _source_text(sources.get(s), s) for s in r.get("sources", [])
                ),
            }
            for r in self["routes"]
        ]
        import pandas as pd

        return pd.DataFrame(rows)

    def to_json(self) -> str:
        """Serialise exactly as the streamed file (same inventory and date: same text)."""
        return to_json(self)


def _source_text(source: dict[str, Any] | None, key: str) -> str:
    if source is None:
        return key
    return str(source.get("citation") or source.get("url") or source.get("title") or key)
