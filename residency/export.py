"""The JSON export for legal review (schema ``residency-export/1``) and the CSV register.

The same inventory and date give the same bytes, except ``generated_at``.

>>> import residency
>>> doc = residency.load().export(as_of="2026-11-26")
>>> doc["schema"], sorted(doc)[:3]
('residency-export/1', ['ai_training', 'as_of', 'data_categories'])
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import jsonschema
import pandas as pd

from residency.categories import category_classes, fides_key
from residency.findings import Assessment
from residency.jurisdictions import LegalData
from residency.model import Inventory
from residency.query import Location

SCHEMA_ID = "residency-export/1"
DISCLAIMER = (
    "Not legal advice. Generated from the inventory and the dated legal data named "
    "here; check facts marked medium or low confidence, and every note, before "
    "relying on them."
)


@cache
def schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the export."""
    from importlib import resources

    text = (resources.files("residency") / "schema" / "export-1.schema.json").read_text(
        encoding="utf-8"
    )
    return json.loads(text)


def validate(document: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if a document does not follow the schema."""
    jsonschema.Draft202012Validator(schema()).validate(document)


def build_export(
    inventory: Inventory,
    assessment: Assessment,
    data: LegalData,
    *,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """Build the export document: locations, transfers, AI training, findings."""
    locations = [_location(loc) for r in assessment.results.values() for loc in r.locations]
    locations.sort(
        key=lambda x: (
            x["subject"],
            x["country"],
            x["kind"],
            x["system"],
            x["recipient"],
            x["path"],
        )
    )
    return ExportDocument(
        {
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
            "locations": locations,
            "transfers": [t.as_dict() for t in assessment.transfers],
            "ai_training": _ai_training(assessment),
            "data_categories": _categories(assessment),
            "findings": [f.as_dict() for f in assessment.findings],
        }
    )


def _location(loc: Location) -> dict[str, Any]:
    return {
        "subject": loc.subject,
        "kind": loc.kind,
        "country": loc.country,
        "system": loc.system,
        "recipient": loc.recipient,
        "recipient_type": loc.recipient_type,
        "data": list(loc.data),
        "path": list(loc.path),
        "detail": loc.detail,
        "since": _iso(loc.since),
        "until": _iso(loc.until),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _ai_training(assessment: Assessment) -> list[dict[str, Any]]:
    rows = [e.as_dict() for e in assessment.exposures]
    return sorted(rows, key=lambda x: (x["system_id"], x["subject"]))


def _categories(assessment: Assessment) -> dict[str, Any]:
    """Map every data category in the export to its fideslang key."""
    used = {c for r in assessment.results.values() for loc in r.locations for c in loc.data}
    return {
        name: {"fides": fides_key(name), "classes": list(category_classes(name))}
        for name in sorted(used)
    }


def to_json(document: dict[str, Any]) -> str:
    """Serialise an export with sorted keys and stable formatting."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def register_rows(transfers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flatten exported transfers into register rows (lists joined, sources as citations)."""
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


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run these as formulas (CSV injection): make them plain text.
    return "'" + text if text.startswith(_FORMULA_START) else text


def transfers_csv(document: dict[str, Any]) -> str:
    """Return the transfers register as CSV, one row per transfer, safe to open in a sheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REGISTER_COLUMNS)
    for row in register_rows(document["transfers"]):
        writer.writerow([_cell(row[c]) for c in REGISTER_COLUMNS])
    return out.getvalue()


class ExportDocument(dict):  # type: ignore[type-arg]
    """The export as a dict, with the conveniences a notebook wants."""

    def to_frame(self) -> pd.DataFrame:
        """Return the transfers register (one row per transfer) as a DataFrame."""
        return pd.DataFrame(register_rows(self["transfers"]), columns=REGISTER_COLUMNS)

    def to_json(self) -> str:
        """Serialise with sorted keys (same inventory and date: same text but generated_at)."""
        return to_json(self)
