"""Compare a vendor's published sub-processor list (saved as CSV) with its catalogue entry.

The CSV needs a name column and a location column (``location``, ``country``,
``countries`` ...), and may have a purpose column. Locations are country names as
vendors write them ("United States", "USA", "Germany; Ireland", "UK"); each is resolved
to an ISO code, and one that cannot be resolved is reported with suggestions.

>>> from residency.vendor_import import resolve_country
>>> resolve_country("United States of America")
'US'
>>> resolve_country("UK")
'GB'
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from functools import cache

import pycountry

from residency import places
from residency._errors import InventoryProblem
from residency.catalogue import Vendor, VendorDataError

_COLUMNS = {
    "name": ("name", "entity", "entity name", "sub-processor", "subprocessor", "vendor", "company"),
    "purpose": ("purpose", "purpose of processing", "function", "service", "services", "role"),
    "location": (
        "location",
        "locations",
        "country",
        "countries",
        "location of processing",
        "processing location",
        "data location",
        "hq",
        "headquarters",
    ),
}
# Names vendors use that ISO 3166 does not: why a lookup table exists at all.
_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
    "taiwan": "TW",
    "czech republic": "CZ",
    "turkey": "TR",
    "the netherlands": "NL",
    "holland": "NL",
    "uae": "AE",
    "republic of ireland": "IE",
}
_SPLIT = re.compile(r"\s*[;/|\n]\s*")
_SPLIT_MORE = re.compile(r"\s*(?:,|&|\band\b)\s*")


@dataclass(frozen=True)
class ImportedEntry:
    """One row of the published list, with its locations resolved to codes."""

    name: str
    purpose: str
    countries: tuple[str, ...]
    row: int


@dataclass
class SubprocessorDiff:
    """What differs between a published list and the catalogue entry."""

    vendor: str
    added: list[ImportedEntry] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[InventoryProblem] = field(default_factory=list)

    def is_empty(self) -> bool:
        """Tell whether the list matches the catalogue (no additions, removals or changes)."""
        return not (self.added or self.removed or self.changed)


@cache
def resolve_country(text: str) -> str | None:
    """Return the ISO 3166 code of a country as a vendor writes it, or None if unknown."""
    raw = text.strip().lower()
    if raw in _ALIASES:
        return _ALIASES[raw]
    cleaned = text.strip().strip(".").strip()
    if not cleaned:
        return None
    upper = cleaned.upper()
    if places.is_country(upper) or places.is_subdivision(upper):
        return upper
    low = cleaned.lower()
    if low in _ALIASES:
        return _ALIASES[low]
    try:
        return str(pycountry.countries.lookup(cleaned).alpha_2)
    except LookupError:
        pass
    try:
        found = pycountry.countries.search_fuzzy(cleaned)
    except LookupError:
        return None
    # search_fuzzy also matches subdivision names; only accept a confident single answer.
    return str(found[0].alpha_2) if len(found) == 1 else None


def suggest_country(text: str) -> list[str]:
    """Return up to three 'Name (XX)' suggestions for a location that did not resolve."""
    names = {c.name: c.alpha_2 for c in pycountry.countries}
    names |= {getattr(c, "common_name", c.name): c.alpha_2 for c in pycountry.countries}
    close = difflib.get_close_matches(text.strip().title(), list(names), n=3, cutoff=0.6)
    return [f"{name} ({names[name]})" for name in close]


def read_subprocessor_csv(
    text: str, file: str
) -> tuple[list[ImportedEntry], list[InventoryProblem]]:
    """Read a saved sub-processor list: its entries, and every row that could not be read."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return [], [InventoryProblem(file, None, "file", "empty file: expected a header row")]
    columns, problems = _columns(rows[0], file)
    if problems:
        return [], problems
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(rows[0]) - len(row))
        name = cells[columns["name"]].strip()
        if not name:
            problems.append(InventoryProblem(file, number, "name", "missing: a name is required"))
            continue
        codes, bad = _countries(cells[columns["location"]], file, number)
        problems += bad
        if not codes:
            if not bad:
                msg = "missing: expected at least one country"
                problems.append(InventoryProblem(file, number, "location", msg))
            continue
        purpose = cells[columns["purpose"]].strip() if "purpose" in columns else ""
        entries.append(ImportedEntry(name, purpose, tuple(codes), number))
    return entries, problems


def _columns(first: list[str], file: str) -> tuple[dict[str, int], list[InventoryProblem]]:
    header = [h.strip().lower() for h in first]
    columns: dict[str, int] = {}
    for role, names in _COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if found:
            columns[role] = found[0]
    problems = []
    for role in ("name", "location"):
        if role not in columns:
            expected = ", ".join(_COLUMNS[role][:4])
            msg = (
                f"no {role} column: expected a header such as {expected} (got {', '.join(header)})"
            )
            problems.append(InventoryProblem(file, 1, role, msg))
    return columns, problems


def _countries(cell: str, file: str, row: int) -> tuple[list[str], list[InventoryProblem]]:
    codes: list[str] = []
    problems = []
    parts = []
    for chunk in _SPLIT.split(cell):
        # "Korea, Republic of" and "Bosnia and Herzegovina" are one country each.
        parts += [chunk] if resolve_country(chunk) else _SPLIT_MORE.split(chunk)
    for part in parts:
        if not part.strip():
            continue
        code = resolve_country(part)
        if code is None:
            hints = suggest_country(part)
            hint = f"; did you mean {' or '.join(hints)}?" if hints else ""
            msg = f"unknown country {part.strip()!r}{hint}"
            problems.append(InventoryProblem(file, row, "location", msg))
        elif code not in codes:
            codes.append(code)
    return codes, problems


def diff_subprocessors(vendor: Vendor, text: str, file: str) -> SubprocessorDiff:
    """Compare a saved sub-processor list with the catalogue entry of ``vendor``.

    Entries are matched by name (case and punctuation ignored); an entry listed twice
    (the same company for two purposes) is compared by its combined countries.
    """
    entries, problems = read_subprocessor_csv(text, file)
    if problems and not entries:
        raise VendorDataError(problems)
    out = SubprocessorDiff(vendor.key, problems=problems)
    current: dict[str, tuple[str, set[str]]] = {}
    for e in vendor.subprocessors.entries if vendor.subprocessors else []:
        name, codes = current.get(_norm(e.name), (e.name, set()))
        current[_norm(e.name)] = (name, codes | set(e.countries))
    published: dict[str, tuple[ImportedEntry, set[str]]] = {}
    for imported in entries:
        first, codes = published.get(_norm(imported.name), (imported, set()))
        published[_norm(imported.name)] = (first, codes | set(imported.countries))
    for key, (entry, codes) in published.items():
        if key not in current:
            out.added.append(
                ImportedEntry(entry.name, entry.purpose, tuple(sorted(codes)), entry.row)
            )
            continue
        name, before = current[key]
        if before != codes:
            out.changed.append((name, tuple(sorted(before)), tuple(sorted(codes))))
        else:
            out.unchanged.append(name)
    out.removed = sorted(name for key, (name, _) in current.items() if key not in published)
    return out


_SUFFIX = re.compile(r"\b(inc|llc|ltd|limited|gmbh|corp|corporation|co|plc|sa|ag|bv|pty)\b")


def _norm(name: str) -> str:
    # "Amazon Web Services" and "Amazon Web Services, Inc." are the same sub-processor.
    words = re.sub(r"[^a-z0-9]+", " ", name.lower())
    return " ".join(_SUFFIX.sub(" ", words).split())
