"""Read and validate an inventory: one YAML file, or a folder with CSV exports.

Every problem names the file, the line (YAML) or row (CSV), the field and what was
expected, and all problems are reported together.

>>> from residency.inventory import read_inventory
>>> inv = read_inventory()          # the built-in demo organisation
>>> inv.organisation.name
'Quillmoor Creative Ltd'
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from residency import places, regions
from residency._errors import InventoryError, InventoryProblem
from residency._perf import bulk
from residency._resources import data_file
from residency._yaml import clip, line_map, load_document
from residency.limits import Limits, current
from residency.model import (
    AssessmentRecord,
    Client,
    Hosting,
    Inventory,
    Organisation,
    Staff,
    StaffData,
    System,
)

INVENTORY_FILE = "inventory.yaml"
CSV_FILES = {"staff": "staff.csv", "clients": "clients.csv"}
_TOP_LEVEL = ("organisation", "staff", "clients", "systems", "assessments")
_LIST_COLUMNS = {
    "staff": {"clients", "systems", "entity.safeguards"},
    "clients": {"data", "systems", "residency"},
}
_MODELS: dict[str, type[BaseModel]] = {
    "staff": Staff,
    "clients": Client,
    "systems": System,
    "assessments": AssessmentRecord,
}
_SECTIONS = ("staff", "clients", "systems", "assessments")


@dataclass
class _Entry:
    """One raw entry (a YAML item or a CSV row) and where it came from."""

    section: str
    data: Any
    file: str
    line: int | None
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    is_csv: bool = False

    def where(self, loc: tuple[Any, ...] = ()) -> int | None:
        """Return the line of the deepest known prefix of ``loc``."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return self.line

    def label(self) -> str:
        ident = self.data.get("id") if isinstance(self.data, dict) else None
        if not ident:
            return self.section
        text = str(ident)
        return f"{self.section}[{text[:40]}...]" if len(text) > 40 else f"{self.section}[{text}]"

    def origin(self) -> str:
        unit = "row" if self.is_csv else "line"
        return f"{self.file} {unit} {self.line}" if self.line else self.file


class _Problems:
    """Collects problems so one run reports all of them."""

    def __init__(self) -> None:
        self.items: list[InventoryProblem] = []

    def add(self, file: str, line: int | None, fld: str, message: str) -> None:
        # A message never repeats megabytes of input back at the user.
        fld = fld if len(fld) <= 120 else f"{fld[:117]}..."
        message = message if len(message) <= 400 else f"{message[:397]}..."
        self.items.append(InventoryProblem(file, line, fld, message))

    def at(self, entry: _Entry, loc: tuple[Any, ...], fld: str, message: str) -> None:
        self.add(entry.file, entry.where(loc), fld, message)


def demo_path() -> Path:
    """Return the folder of the built-in demo organisation."""
    return Path(str(data_file("demo")))


def read_inventory(path: str | Path | None = None, *, limits: Limits | None = None) -> Inventory:
    """Read and validate an inventory; with no path, the built-in demo organisation.

    ``limits`` bounds what is read (default: :func:`residency.limits.current`).
    Raises :class:`residency.InventoryError` listing every problem found.
    """
    root = Path(path) if path is not None else demo_path()
    limits = limits or current()
    problems = _Problems()
    with bulk():
        entries, notes = _read_entries(root, problems, limits)
        if problems.items:
            raise InventoryError(problems.items, limit=limits.problems)
        inventory = _validate_entries(entries, problems, limits=limits)
        inventory.warnings[:0] = notes
        return inventory


def parse_inventory_text(
    text: str, *, name: str = INVENTORY_FILE, limits: Limits | None = None
) -> Inventory:
    """Validate an inventory given as YAML text (used for uploads and tests)."""
    limits = limits or current()
    problems = _Problems()
    checked = _checked_text(text, name, problems)
    entries = _yaml_entries(checked, name, problems, limits) if checked is not None else []
    if problems.items:
        raise InventoryError(problems.items, limit=limits.problems)
    return _validate_entries(entries, problems, limits=limits)


def shown(path: str | Path) -> str:
    """Answer a path as text a terminal can print (undecodable bytes as ``\\xNN``)."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        return raw.decode("utf-8", "backslashreplace")
    return text


def _read_entries(
    root: Path, problems: _Problems, limits: Limits
) -> tuple[list[_Entry], list[str]]:
    notes: list[str] = []
    kind = _kind(root)
    if kind is None:
        problems.add(shown(root), None, "path", "no such file or folder")
        return [], notes
    if kind == "folder":
        yaml_path = root / INVENTORY_FILE
        if _kind(yaml_path) is None:
            problems.add(
                shown(root),
                None,
                "inventory.yaml",
                "a folder inventory needs an inventory.yaml file",
            )
            return [], notes
        folder = root
    else:
        yaml_path, folder = root, None
        if root.name == INVENTORY_FILE:
            # The CSVs beside an inventory.yaml are part of it: ignoring them would report a
            # valid inventory with no staff or clients (a false all-clear).
            folder = root.parent
    text = _read_text(yaml_path, problems, limits)
    entries = _yaml_entries(text, shown(yaml_path), problems, limits) if text is not None else []
    if folder is None:
        return entries, notes
    for section, filename in CSV_FILES.items():
        csv_path = folder / filename
        if _kind(csv_path) is None:
            continue
        if kind != "folder":
            notes.append(f"read {shown(csv_path)} beside {shown(yaml_path)} as its {section}")
        text = _read_text(csv_path, problems, limits)
        if text is not None:
            entries += _csv_entries(text, shown(csv_path), section, problems, limits, notes)
    return entries, notes


def _kind(path: Path) -> str | None:
    """Answer 'folder', 'file' or 'other' for what ``path`` is, without opening it."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


_SPECIAL = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def _read_text(path: Path, problems: _Problems, limits: Limits) -> str | None:
    """Read a file's text, bounded; stat first so a FIFO or a device is never read."""
    name = shown(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            what = _SPECIAL.get(stat.S_IFMT(mode), "not a regular file")
            problems.add(name, None, "file", f"is {what}: expected a file")
            return None
        # O_NONBLOCK: should the path become a FIFO after the stat, opening it cannot hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                problems.add(name, None, "file", "is not a regular file: expected a file")
                return None
            raw = f.read(limits.file_bytes + 1)
    except OSError as exc:
        problems.add(name, None, "file", f"cannot be read: {exc.strerror or exc}")
        return None
    if len(raw) > limits.file_bytes:
        problems.add(
            name, None, "file", f"larger than {limits.file_mb} MB; {limits.hint('file_mb')}"
        )
        return None
    return _decode(raw, name, problems)


def _decode(raw: bytes, name: str, problems: _Problems) -> str | None:
    """Decode UTF-8 (a BOM allowed); a problem names the line of the first bad byte."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex().upper()
        found = f"byte 0x{byte}"
        hint = "save the file as UTF-8"
        if name.lower().endswith(".csv"):
            try:
                before = raw[: exc.start].decode("cp1252")
                char = raw[exc.start : exc.start + 1].decode("cp1252")
            except UnicodeDecodeError:
                pass
            else:
                line = _csv_row_at(before)
                found += f" ({char!r} in Windows-1252)"
                hint = (
                    "the file is Windows-1252, as Excel saves plain 'CSV': "
                    "save as 'CSV UTF-8 (Comma delimited)' instead"
                )
        problems.add(name, line, "encoding", f"expected UTF-8 text, found {found}: {hint}")
        return None
    return _checked_text(text, name, problems)


def _csv_row_at(before: str) -> int:
    """Answer the spreadsheet row (header = 1) of the cell that follows the CSV text ``before``.

    >>> _csv_row_at('id,name\\nx,"two\\nlines"\\ny,Z')
    3
    """
    rows = sum(1 for _ in csv.reader(io.StringIO(before, newline="")))
    return rows + 1 if not before or before.endswith("\n") else max(rows, 1)


# What YAML forbids in a file (libyaml would reject it with no line), and what no name,
# id or note should hold in a CSV either.
_CONTROL = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def _checked_text(text: str, name: str, problems: _Problems) -> str | None:
    """Return ``text``, or None after adding a located problem per line with a control character."""
    text = text.removeprefix("\ufeff")
    found = 0
    last_line = 0
    for match in _CONTROL.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if line == last_line:
            continue
        last_line = line
        found += 1
        if found > 20:
            break  # enough to show what is wrong; the rest is more of the same
        char = match.group()
        what = "a NUL byte" if char == "\x00" else f"control character U+{ord(char):04X}"
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        problems.add(
            name, line, "text", f"{what} at column {column}: expected plain text (remove it)"
        )
    return None if found else text


def _yaml_entries(text: str, file: str, problems: _Problems, limits: Limits) -> list[_Entry]:
    data, node, found = load_document(text, limits)
    for line, fld, message in found:
        problems.add(file, line, fld, message)
    if node is None and found:
        return []
    if node is None or not isinstance(data, dict):
        problems.add(
            file, 1, "document", "expected a mapping with 'organisation' and 'systems' at the top"
        )
        return []
    lines = line_map(node)
    for key in data:
        if key not in _TOP_LEVEL:
            problems.add(
                file,
                lines.get((key,)),
                str(key),
                f"unknown top-level field: expected one of {', '.join(_TOP_LEVEL)}",
            )
    sections = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
    org_node = sections.get("organisation")
    entries = [
        _Entry(
            "organisation",
            data.get("organisation"),
            file,
            lines.get(("organisation",)),
            line_map(org_node, deep=True) if org_node is not None else {},
        )
    ]
    for section in _SECTIONS:
        items = data.get(section)
        if items is None:
            continue  # absent or left empty: no entries
        if not isinstance(items, list):
            problems.add(
                file,
                lines.get((section,)),
                section,
                f"expected a list of entries (each starting with '- '), got {_type_name(items)}",
            )
            continue
        section_node = sections.get(section)
        item_nodes: list[Any] = (
            section_node.value
            if isinstance(section_node, yaml.SequenceNode) and len(section_node.value) == len(items)
            else [None] * len(items)
        )
        for item, item_node in zip(items, item_nodes, strict=True):
            entries.append(
                _Entry(
                    section,
                    item,
                    file,
                    item_node.start_mark.line + 1 if item_node else lines.get((section,)),
                    line_map(item_node, deep=True) if item_node else {},
                )
            )
    return entries


def _type_name(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return f"the text {clip(value, 40)}"
    if isinstance(value, bool):
        return str(value).lower()
    return f"{type(value).__name__} {clip(value, 40)}"


def _csv_entries(
    text: str,
    file: str,
    section: str,
    problems: _Problems,
    limits: Limits,
    notes: list[str] | None = None,
) -> list[_Entry]:
    # The file is already bounded; cells are checked against the limits below.
    csv.field_size_limit(max(limits.file_bytes, 131_072))
    delimiter = _delimiter(text, _csv_columns(section))
    if delimiter != "," and notes is not None:
        notes.append(
            f"read {file} as separated by {_SEPARATORS[delimiter]}, not commas "
            "(as a spreadsheet saves CSV in many locales)"
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > limits.entries + 1:
                problems.add(file, len(rows), "row", f"too many rows; {limits.hint('entries')}")
                return []
    except csv.Error as exc:
        problems.add(
            file,
            len(rows) + 1,
            "csv",
            f'malformed CSV: {exc} (a quote inside a cell must be doubled: "")',
        )
        return []
    if not rows:
        problems.add(file, 1, "header", "expected a header row, the file is empty")
        return []
    header = [h.strip() for h in rows[0]]
    allowed = _csv_columns(section)
    if not _header_problems(header, allowed, file, problems):
        return []
    entries = []
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            cells = "cell" if len(header) == 1 else "cells"
            problems.add(
                file,
                row_number,
                "row",
                f"expected {len(header)} {cells} as in the header, found {len(row)}"
                + (
                    f" (in a file separated by {_SEPARATORS[delimiter]}, a cell holding one, "
                    "such as a list, needs quotes)"
                    if delimiter in _SEPARATORS
                    else " (a cell with a comma needs quotes)"
                ),
            )
            continue
        if _cell_problems(header, row, section, file, row_number, problems, limits):
            continue
        data = _csv_record(section, header, row)
        entries.append(_Entry(section, data, file, row_number, is_csv=True))
    return entries


_SEPARATORS = {";": "';'", "\t": "tabs"}


def _delimiter(text: str, allowed: frozenset[str]) -> str:
    """Answer the CSV's separator: ',' unless the header row is one of ';' or tabs.

    A spreadsheet in a locale whose decimal mark is a comma saves "CSV" separated by ';'.

    >>> _delimiter("id;country\\nx;GB\\n", frozenset({"id", "country"}))
    ';'
    >>> _delimiter("id,name\\nx,\\"A; B\\"\\n", frozenset({"id", "name"}))
    ','
    """
    head = text.split("\n", 1)[0].rstrip("\r")
    if "," in head:
        return ","
    for sep in _SEPARATORS:
        names = {name.strip().strip('"') for name in head.split(sep)}
        if sep in head and names & allowed:
            return sep
    return ","


def _header_problems(
    header: list[str], allowed: frozenset[str], file: str, problems: _Problems
) -> bool:
    """Check the header row; answer False when the rows cannot be read at all."""
    if len(header) == 1:
        for sep, label in _SEPARATORS.items():
            if sep in header[0]:  # one the header row did not show (quoted names)
                problems.add(
                    file,
                    1,
                    "header",
                    f"this file is separated by {label}, not commas: export it as "
                    "'CSV UTF-8 (Comma delimited)'",
                )
                return False
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.add(file, 1, name[:40], "duplicate column: give each column once")
        seen.add(name)
        if name not in allowed:
            problems.add(
                file,
                1,
                name[:40] if name else "(empty)",
                f"unknown column: expected some of {', '.join(sorted(allowed))}",
            )
    return True


def _cell_problems(
    header: list[str],
    row: list[str],
    section: str,
    file: str,
    row_number: int,
    problems: _Problems,
    limits: Limits,
) -> bool:
    """Add a problem per over-long cell or list; answer whether there was one."""
    total = sum(map(len, row))
    if total <= limits.scalar_chars and total < limits.list_items:
        return False  # no cell, item or list of this row can reach a limit
    found = False
    for name, cell in zip(header, row, strict=True):
        if name in _LIST_COLUMNS[section]:
            parts = cell.split(";")
            if len(parts) > limits.list_items:
                problems.add(file, row_number, name, f"too many items; {limits.hint('list_items')}")
                found = True
            elif max(map(len, parts)) > limits.scalar_chars:
                problems.add(
                    file, row_number, name, f"an item too long; {limits.hint('scalar_chars')}"
                )
                found = True
        elif len(cell) > limits.scalar_chars:
            problems.add(
                file,
                row_number,
                name,
                f"a cell of {len(cell):,} characters; {limits.hint('scalar_chars')}",
            )
            found = True
    return found


@cache
def _csv_columns(section: str) -> frozenset[str]:
    model = _MODELS[section]
    names = set(model.model_fields)
    if section == "staff":
        names |= {"entity.name", "entity.country", "entity.safeguards"}
        names.discard("entity")
    return frozenset(names)


def _csv_record(section: str, header: list[str], row: list[str]) -> dict[str, Any]:
    list_columns = _LIST_COLUMNS[section]
    record: dict[str, Any] = {}
    entity: dict[str, Any] = {}
    for name, raw in zip(header, row, strict=True):
        cell = raw.strip()
        if name in list_columns:
            value: Any = [part.strip() for part in cell.split(";") if part.strip()]
            if name == "systems" and section == "staff" and not value:
                value = None  # empty means "the systems of their clients"
        else:
            value = cell or None
        if name.startswith("entity."):
            if value:
                entity[name.removeprefix("entity.")] = value
        elif value is not None:
            record[name] = value
    if entity:
        record["entity"] = entity
    return record


def _validate_entries(
    entries: list[_Entry], problems: _Problems, *, limits: Limits | None = None
) -> Inventory:
    """Turn raw entries into a validated :class:`Inventory`, or raise with every problem."""
    from_catalogue = _use_catalogue(entries, problems)
    cap = (limits or current()).problems
    built: dict[str, list[Any]] = {section: [] for section in _SECTIONS}
    sources: dict[str, list[_Entry]] = {section: [] for section in _SECTIONS}
    organisation: Organisation | None = None
    org_entry: _Entry | None = None
    for entry in entries:
        if entry.section == "organisation":
            org_entry = entry
            organisation = _validate_model(entry, Organisation, problems)
            continue
        obj = _validate_model(entry, _MODELS[entry.section], problems)
        if obj is not None:
            built[entry.section].append(obj)
            sources[entry.section].append(entry)
    if organisation is None and org_entry is not None:
        # An invalid organisation (no country, say) must not hide every other problem:
        # check the rest against what of it is usable; the error below lists them all.
        organisation = _partial_organisation(org_entry)
    if organisation is None or org_entry is None:
        if org_entry is not None and org_entry.data is None:
            problems.add(
                org_entry.file,
                None,
                "organisation",
                "missing: expected organisation: {name: ..., country: XX}",
            )
        if not problems.items:  # never an error that lists nothing
            problems.add(
                entries[0].file if entries else INVENTORY_FILE,
                None,
                "organisation",
                "missing: expected organisation: {name: ..., country: XX}",
            )
        raise InventoryError(problems.items, limit=cap)
    inventory = Inventory.model_construct(
        organisation=organisation,
        staff=built["staff"],
        clients=built["clients"],
        systems=built["systems"],
        assessments=built["assessments"],
    )
    raw_ids = {
        section: {
            str(e.data.get("id"))
            for e in entries
            if e.section == section and isinstance(e.data, dict) and e.data.get("id")
        }
        for section in ("staff", "clients", "systems")
    }
    checker = _Checker(inventory, org_entry, sources, problems, raw_ids)
    checker.run()  # reports problems and warnings; changes nothing
    warnings = [*checker.warnings, *_instrument_warnings(inventory)]
    for section, what in (("staff", "staff members"), ("clients", "clients")):
        if not built[section] and not problems.items:
            warnings.insert(
                0,
                f"NO {what.upper()}: this inventory lists no {what}, so nothing is reported "
                f"about them; add them (inventory.yaml '{section}:' or {CSV_FILES[section]})",
            )
    if problems.items:
        raise InventoryError(problems.items, limit=cap)
    inventory = normalise(inventory)
    inventory.origins.update(checker.origins)
    inventory.warnings.extend(warnings)
    for system_id, (summary, notes) in from_catalogue.items():
        inventory.from_catalogue[system_id] = summary
        inventory.warnings.extend(f"system {system_id}: {w}" for w in notes)
    return inventory


def normalise(inventory: Inventory) -> Inventory:
    """Return a valid inventory with each cloud region resolved to where it is: the
    hosting row's country (or subdivision, ``US-VA``) and city, from the region table.

    The one step that fills in what the inventory implies; checking never changes it.

    >>> from residency.model import Hosting
    >>> normalise_hosting(Hosting(provider="aws", region="eu-central-1")).country
    'DE'
    """
    systems = []
    for system in inventory.systems:
        hosting = [normalise_hosting(h) for h in system.hosting]
        changed = any(new is not old for new, old in zip(hosting, system.hosting, strict=True))
        systems.append(system.model_copy(update={"hosting": hosting}) if changed else system)
    return inventory.model_copy(update={"systems": systems})


def normalise_hosting(host: Hosting) -> Hosting:
    """Return a hosting row with its region's country and city filled in (unchanged when it
    names no region, or a region this release does not know)."""
    if host.region is None or host.provider is None:
        return host
    region = regions.resolve(host.provider, host.region)
    if region is None:
        return host
    return host.model_copy(update={"country": region.place, "city": host.city or region.city})


def _partial_organisation(entry: _Entry) -> Organisation | None:
    """Answer the usable part of an invalid organisation (problems already recorded), or None."""
    if not isinstance(entry.data, dict):
        return None
    staff_data = None
    with suppress(ValidationError):  # reported with the organisation, or absent
        staff_data = StaffData.model_validate(entry.data.get("staff_data"))
    country = entry.data.get("country")
    return Organisation.model_construct(
        name=str(entry.data.get("name") or ""),
        country=country if isinstance(country, str) else "",
        staff_data=staff_data,
    )


def _use_catalogue(entries: list[_Entry], problems: _Problems) -> dict[str, tuple[str, list[str]]]:
    """Complete each system that names ``catalogue: KEY`` from the vendor catalogue.

    Inline fields win, field by field; the result is validated like any system. A folder
    ``vendors/`` next to the inventory file, and the folders in ``$RESIDENCY_VENDORS``
    (separated by the OS path separator), add (or replace) catalogue entries.
    """
    from residency.catalogue import resolve_system, vendors

    org = next((e.data for e in entries if e.section == "organisation"), None)
    country = org.get("country") if isinstance(org, dict) else None
    used: dict[str, tuple[str, list[str]]] = {}
    for entry in entries:
        if entry.section != "systems" or not isinstance(entry.data, dict):
            continue
        if entry.data.get("catalogue") is None:
            continue
        own = Path(entry.file).parent / "vendors"
        folders = [Path(p) for p in os.environ.get("RESIDENCY_VENDORS", "").split(os.pathsep) if p]
        for folder in folders:
            if not folder.is_dir():
                problems.add(str(folder), None, "RESIDENCY_VENDORS", "no such vendor folder")
        folders = [f for f in folders if f.is_dir()]
        folders += [own] if Path(entry.file).is_file() and own.is_dir() else []
        catalogue = vendors(*folders, strict=False)
        result = resolve_system(entry.data, organisation_country=country, catalogue=catalogue)
        for loc, message in result.problems:
            problems.at(entry, loc, _field_name(entry, loc), message)
        entry.data = result.data
        ident = str(entry.data.get("id"))
        used[ident] = (result.summary(ident), [*result.warnings, *result.stale])
    return used


def _validate_model(entry: _Entry, model: type[BaseModel], problems: _Problems) -> Any:
    if entry.section == "organisation" and entry.data is None:
        return None
    try:
        return model.model_validate(entry.data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.at(entry, loc, _field_name(entry, loc), _explain(err))
    return None


def _field_name(entry: _Entry, loc: tuple[Any, ...]) -> str:
    if entry.is_csv:
        return ".".join(str(p) for p in loc if not isinstance(p, int)) or entry.section
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    return f"{entry.label()}{path}"


def _explain(err: ErrorDetails) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        return "missing: this field is required"
    if kind == "extra_forbidden":
        if value is None:  # `{name: Slack, LLC}` makes "LLC" a key without a value
            return (
                "unknown field: check the spelling against docs/inventory.md; if it is the end "
                'of a name with a comma, quote the name ("Slack Technologies, LLC")'
            )
        return "unknown field: check the spelling against docs/inventory.md"
    if kind in (
        "date_from_datetime_parsing",
        "date_parsing",
        "date_type",
        "date_from_datetime_inexact",
    ):
        return f"invalid date {clip(value)}: expected YYYY-MM-DD"
    if kind in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        if "False" in expected:
            return f"expected false or a date YYYY-MM-DD, got {clip(value)}"
        return f"expected one of {expected}, got {clip(value)}"
    if kind == "string_pattern_mismatch":
        return f"invalid id {clip(value)}: expected letters, digits, '-', '_' or '.'"
    if kind in ("false_or_date", "count"):
        return err["msg"]
    if kind in ("list_type", "dict_type", "model_type") and isinstance(value, dict | list):
        return f"{err['msg']} (got {_type_name(value)})"
    return f"{err['msg']} (got {clip(value)})"


class _Checker:
    """Checks that need the whole inventory: codes, regions, references, duplicates."""

    def __init__(
        self,
        inventory: Inventory,
        org_entry: _Entry,
        sources: dict[str, list[_Entry]],
        problems: _Problems,
        raw_ids: dict[str, set[Any]],
    ) -> None:
        self.raw_ids = raw_ids  # ids of invalid entries too, so one error does not cascade
        self.origins: dict[str, str] = {}  # node id -> file and line of its first entry
        self.warnings: list[str] = []
        self.inv = inventory
        self.org_entry = org_entry
        self.sources = sources
        self.p = problems

    def run(self) -> None:
        org = self.inv.organisation
        if org.country:  # an empty one is the missing country, already a problem
            self._place(self.org_entry, ("country",), "organisation.country", org.country)
        ids = {
            section: self._unique(section) | self.raw_ids[section]
            for section in ("staff", "clients", "systems")
        }
        for system, entry in zip(self.inv.systems, self.sources["systems"], strict=True):
            self._system(system, entry)
        for client, entry in zip(self.inv.clients, self.sources["clients"], strict=True):
            self._client(client, entry, ids["systems"])
        for person, entry in zip(self.inv.staff, self.sources["staff"], strict=True):
            self._staff(person, entry, ids)
        self._unique("assessments")
        for record, entry in zip(self.inv.assessments, self.sources["assessments"], strict=True):
            self._assessment(record, entry, ids["systems"])
        if org.staff_data is not None:
            for i, sid in enumerate(org.staff_data.systems):
                self._ref(
                    self.org_entry,
                    ("staff_data", "systems", i),
                    f"organisation.staff_data.systems[{i}]",
                    sid,
                    ids["systems"],
                    "system",
                )
        self._warn_unserved()
        self._warn_unmapped_categories()

    def _unique(self, section: str) -> set[str]:
        prefix = {
            "staff": "staff",
            "clients": "client",
            "systems": "system",
            "assessments": "assessment",
        }[section]
        seen: dict[str, _Entry] = {}
        for obj, entry in zip(getattr(self.inv, section), self.sources[section], strict=True):
            first = seen.get(obj.id)
            if first is not None:
                self.p.at(
                    entry,
                    ("id",),
                    self._fld(entry, "id"),
                    f"duplicate id {clip(obj.id)}: already used at {first.origin()}",
                )
                continue
            seen[obj.id] = entry
            self.origins[f"{prefix}:{obj.id}"] = entry.origin()
        return set(seen)

    @staticmethod
    def _fld(entry: _Entry, name: str) -> str:
        return name if entry.is_csv else f"{entry.label()}.{name}"

    def _place(
        self, entry: _Entry, loc: tuple[Any, ...], fld: str, code: str, *, allow_blocs: bool = False
    ) -> None:
        if len(code) > 40:  # no code is this long; do not repeat it all back
            problem: str | None = f"unknown code {clip(code)}: expected an ISO 3166 code"
        else:
            problem = _place_problem(code, allow_blocs)
        if problem:
            self.p.at(entry, loc, fld, problem)

    def _places(
        self,
        entry: _Entry,
        loc: tuple[Any, ...],
        name: str,
        codes: Iterable[str],
        *,
        allow_blocs: bool = False,
    ) -> None:
        for i, code in enumerate(codes):
            fld = name if entry.is_csv else f"{entry.label()}.{'.'.join(map(str, loc))}[{i}]"
            self._place(entry, (*loc, i), fld, code, allow_blocs=allow_blocs)

    def _ref(
        self, entry: _Entry, loc: tuple[Any, ...], fld: str, ref: str, known: set[str], kind: str
    ) -> None:
        if ref not in known:
            self.p.at(
                entry,
                loc,
                fld,
                f"unknown {kind} id {clip(ref)}: expected one of the inventory's {kind}s"
                f"{_suggest(ref, known)}",
            )

    def _system(self, system: System, entry: _Entry) -> None:
        self._place(
            entry, ("vendor_country",), self._fld(entry, "vendor_country"), system.vendor_country
        )
        for i, host in enumerate(system.hosting):
            self._hosting(entry, i, host)
        for i, sub in enumerate(system.subprocessors):
            self._places(
                entry,
                ("subprocessors", i, "countries"),
                f"subprocessors[{i}].countries",
                sub.countries,
            )
        ai = system.ai_training
        if ai is not None and ai.uses_customer_data and ai.default == "none":
            self.p.at(
                entry,
                ("ai_training", "default"),
                self._fld(entry, "ai_training.default"),
                "'none' contradicts uses_customer_data: true; expected opt-in or opt-out",
            )

    def _hosting(self, entry: _Entry, i: int, host: Any) -> None:
        loc = ("hosting", i)
        fld = self._fld(entry, f"hosting[{i}]")
        if host.region is None and host.country is None:
            self.p.at(entry, loc, fld, "expected {provider: ..., region: ...} or {country: XX}")
            return
        if host.region is not None:
            if host.provider is None:
                self.p.at(
                    entry,
                    (*loc, "provider"),
                    f"{fld}.provider",
                    "missing: a region needs its provider (aws, gcp or azure)",
                )
                return
            problem = regions.region_problem(host.provider, host.region)
            if problem:
                self.p.at(entry, (*loc, "region"), f"{fld}.region", problem)
                return
            region = regions.resolve(host.provider, host.region)
            assert region is not None
            if host.country is not None and host.country not in (region.country, region.place):
                self.p.at(
                    entry,
                    (*loc, "country"),
                    f"{fld}.country",
                    f"{host.country!r} contradicts region {host.region} in {region.country}",
                )
                return
            return
        self._place(entry, (*loc, "country"), f"{fld}.country", host.country)

    def _client(self, client: Client, entry: _Entry, systems: set[str]) -> None:
        self._place(entry, ("country",), self._fld(entry, "country"), client.country)
        self._places(entry, ("residency",), "residency", client.residency, allow_blocs=True)
        for i, sid in enumerate(client.systems):
            self._ref(
                entry, ("systems", i), self._fld(entry, f"systems[{i}]"), sid, systems, "system"
            )

    def _staff(self, person: Staff, entry: _Entry, ids: dict[str, set[str]]) -> None:
        self._place(entry, ("country",), self._fld(entry, "country"), person.country)
        if person.entity is not None:
            name = "entity.country" if entry.is_csv else f"{entry.label()}.entity.country"
            self._place(entry, ("entity", "country"), name, person.entity.country)
        for i, cid in enumerate(person.clients):
            if cid not in ids["clients"]:  # the field's name is built only for a problem
                self._ref(
                    entry,
                    ("clients", i),
                    self._fld(entry, f"clients[{i}]"),
                    cid,
                    ids["clients"],
                    "client",
                )
        for i, sid in enumerate(person.systems or []):
            if sid not in ids["systems"]:
                self._ref(
                    entry,
                    ("systems", i),
                    self._fld(entry, f"systems[{i}]"),
                    sid,
                    ids["systems"],
                    "system",
                )

    def _assessment(self, record: AssessmentRecord, entry: _Entry, systems: set[str]) -> None:
        if record.system is None and record.recipient is None:
            self.p.at(
                entry,
                (),
                entry.label(),
                "names neither a system nor a recipient: expected system: ID and/or "
                "recipient: NAME (the transfers the assessment covers)",
            )
        if record.system is not None:
            self._ref(
                entry, ("system",), self._fld(entry, "system"), record.system, systems, "system"
            )
        self._place(entry, ("destination",), self._fld(entry, "destination"), record.destination)
        if record.origins is not None and not record.origins:
            self.p.at(
                entry,
                ("origins",),
                self._fld(entry, "origins"),
                "an empty list covers no origin: leave the field out (every origin) "
                "or name codes or blocs",
            )
        self._places(entry, ("origins",), "origins", record.origins or [], allow_blocs=True)
        if record.review_by is not None and record.review_by <= record.completed:
            self.p.at(
                entry,
                ("review_by",),
                self._fld(entry, "review_by"),
                f"{record.review_by} is not after completed ({record.completed}): "
                "expected a later date",
            )

    def _warn_unmapped_categories(self) -> None:
        from residency.categories import fides_key

        used = {c for x in self.inv.clients for c in x.data}
        used |= {c for x in self.inv.systems for c in x.data}
        if self.inv.organisation.staff_data is not None:
            used |= set(self.inv.organisation.staff_data.data)
        for name in sorted(used):
            if fides_key(name) is None:
                self.warnings.append(
                    f"data category {name!r} has no fideslang mapping: add it to "
                    "data/categories.yaml or use a fideslang key (e.g. user.content.private)"
                )
            elif name == "system" or name.startswith("system."):
                self.warnings.append(
                    f"data category {name!r} is a fideslang system key, not personal data: "
                    "transfer rules are about personal data; name the personal data instead "
                    "(e.g. user.contact) or leave it out"
                )

    def _warn_unserved(self) -> None:
        served = {cid for person in self.inv.staff for cid in person.clients}
        by_id = {s.id: s for s in self.inv.systems}
        for client in self.inv.clients:
            if client.id not in served:
                self.warnings.append(f"client {client.id}: no staff member serves it")
            for sid in client.systems:
                system = by_id.get(sid)
                if (
                    system
                    and system.data
                    and client.data
                    and not set(client.data) & set(system.data)
                ):
                    self.warnings.append(
                        f"client {client.id}: none of its data categories is among system "
                        f"{sid}'s data ({', '.join(system.data)}); all of them are assumed there"
                    )


@cache
def _place_problem(code: str, allow_blocs: bool) -> str | None:
    return places.place_problem(code, allow_blocs=allow_blocs)


def _suggest(ref: str, known: set[str]) -> str:
    import difflib

    if len(ref) > 100 or len(known) > 2_000:
        return ""  # difflib is quadratic in the name and linear in the candidates
    close = difflib.get_close_matches(ref, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


_UPLOAD_FILES = (INVENTORY_FILE, *CSV_FILES.values())
_MAX_RATIO = 200  # inflated bytes per compressed byte beyond which a member is a zip bomb


def read_upload(filename: str, content: bytes, *, limits: Limits | None = None) -> Inventory:
    """Validate an uploaded inventory: a ``.yaml``/``.yml`` file, or a ``.zip`` of a folder.

    The zip may hold ``inventory.yaml`` (and ``staff.csv``, ``clients.csv``) at its top or
    inside one folder. Only those three files are inflated, each bounded by the bytes it
    actually inflates to, into a temporary folder that is removed afterwards; a member
    with an unsafe name, a link, a nested zip, encryption or an unknown compression is
    refused with a message. Nothing is kept.
    """
    import tempfile
    import zipfile

    limits = limits or current()
    name = shown(Path(filename).name) or "upload"
    lower = name.lower()

    def fail(message: str, fld: str = "zip") -> InventoryError:
        return InventoryError([InventoryProblem(name, None, fld, message)])

    if len(content) > limits.file_bytes:
        msg = f"larger than {limits.file_mb} MB; {limits.hint('file_mb')}"
        raise fail(msg, "file")
    if lower.endswith((".yaml", ".yml")):
        problems = _Problems()
        text = _decode(content, name, problems)
        if problems.items or text is None:
            raise InventoryError(problems.items, limit=limits.problems)
        inventory = parse_inventory_text(text, name=name, limits=limits)
        inventory.warnings.insert(
            0,
            "a single YAML file was uploaded: staff and clients kept in staff.csv or "
            "clients.csv are only read from a zip of the whole folder",
        )
        return inventory
    if not lower.endswith(".zip"):
        msg = "expected a .yaml file or a .zip of a folder"
        raise fail(msg, "file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        msg = "not a valid zip file (save the folder as a .zip again)"
        raise fail(msg) from None
    with archive, tempfile.TemporaryDirectory() as tmp:
        if len(members) > limits.zip_members:
            msg = f"{len(members):,} members; {limits.hint('zip_members')}"
            raise fail(msg)
        chosen = _upload_members(members, name, limits)
        folder = Path(tmp)
        total = 0
        for filename_in_zip, member in chosen.items():
            data = _inflate(archive, member, name, limits, limits.file_bytes - total)
            total += len(data)
            # A fixed name under the temporary folder: nothing from the zip names a path.
            (folder / filename_in_zip).write_bytes(data)
        label = f"{name}:"
        tmp_prefix = f"{folder}{os.sep}"
        try:
            inventory = read_inventory(folder, limits=limits)
        except InventoryError as exc:
            raise InventoryError(
                [
                    InventoryProblem(
                        p.file.replace(tmp_prefix, label, 1), p.line, p.field, p.message
                    )
                    for p in exc.problems
                ],
                limit=limits.problems,
            ) from None
    for key, origin in list(inventory.origins.items()):
        inventory.origins[key] = origin.replace(tmp_prefix, label, 1)
    return inventory


def _upload_members(members: list[Any], name: str, limits: Limits) -> dict[str, Any]:
    """Check every member's name and kind; answer the three files to read, by file name."""
    problems = _Problems()
    by_name: dict[str, Any] = {}
    for member in members:
        problem = _member_problem(member)
        if problem:
            problems.add(name, None, shown(member.filename)[:120], problem)
            continue
        key = member.filename.replace("\\", "/").rstrip("/")
        if key in by_name:
            problems.add(name, None, key[:120], "appears twice in the zip (a file and a folder?)")
        by_name[key] = member
    if problems.items:
        raise InventoryError(problems.items, limit=limits.problems)
    candidates = sorted(
        (k for k, m in by_name.items() if k.rsplit("/", 1)[-1] == INVENTORY_FILE),
        key=lambda k: (k.count("/"), k),
    )
    if not candidates:
        raise InventoryError(
            [InventoryProblem(name, None, "inventory.yaml", "the zip holds no inventory.yaml")]
        )
    if len(candidates) > 1 and candidates[0].count("/") == candidates[1].count("/"):
        raise InventoryError(
            [
                InventoryProblem(
                    name,
                    None,
                    "inventory.yaml",
                    f"the zip holds several inventory.yaml files ({candidates[0]}, "
                    f"{candidates[1]}): zip one organisation's folder",
                )
            ]
        )
    prefix = candidates[0][: -len(INVENTORY_FILE)]
    chosen = {}
    for filename in _UPLOAD_FILES:
        member = by_name.get(prefix + filename)
        if member is None:
            continue
        if member.is_dir():
            raise InventoryError(
                [InventoryProblem(name, None, prefix + filename, "is a folder: expected a file")]
            )
        chosen[filename] = member
    return chosen


def _member_problem(member: Any) -> str | None:
    """Answer why a zip member is refused, or None."""
    import stat as stat_module

    raw = member.filename
    parts = raw.replace("\\", "/").split("/")
    if "\x00" in raw:
        return "a name with a NUL byte"
    if raw.startswith(("/", "\\")) or (len(raw) > 1 and raw[1] == ":"):
        return "unsafe path: absolute, the zip must hold relative names"
    if ".." in parts:
        return "unsafe path: it climbs out of the folder with '..'"
    if len(raw) > 1024 or any(len(p.encode("utf-8", "replace")) > 255 for p in parts):
        return "a name too long for a file system"
    mode = member.external_attr >> 16
    if stat_module.S_ISLNK(mode):
        return "a symbolic link: the zip must hold plain files"
    if stat_module.S_IFMT(mode) and not (stat_module.S_ISREG(mode) or stat_module.S_ISDIR(mode)):
        return "not a plain file or folder"
    if member.flag_bits & 0x1:
        return "encrypted: zip the folder without a password"
    if not member.is_dir() and raw.lower().endswith(".zip"):
        return "a zip inside the zip: upload the folder zipped once"
    return None


def _inflate(archive: Any, member: Any, name: str, limits: Limits, budget: int) -> bytes:
    """Read one member, counting the bytes it actually inflates to (not what it declares)."""
    import lzma
    import zipfile
    import zlib

    def fail(message: str) -> InventoryError:
        return InventoryError([InventoryProblem(name, None, shown(member.filename), message)])

    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(member) as f:
            while chunk := f.read(1 << 16):
                total += len(chunk)
                if total > budget:
                    msg = (
                        f"inflates to more than {limits.file_mb} MB (a zip bomb?); "
                        f"{limits.hint('file_mb')}"
                    )
                    raise fail(msg)
                if total > 1 << 20 and total > _MAX_RATIO * max(member.compress_size, 1):
                    msg = f"compressed more than {_MAX_RATIO} to 1 (a zip bomb?): refused"
                    raise fail(msg)
                chunks.append(chunk)
    except InventoryError:
        raise
    except NotImplementedError:
        msg = "compressed with a method this program cannot read: use plain zip"
        raise fail(msg) from None
    except RuntimeError:
        msg = "encrypted: zip the folder without a password"
        raise fail(msg) from None
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError):
        msg = "damaged in the zip (it does not inflate as its header says)"
        raise fail(msg) from None
    return b"".join(chunks)


def _instrument_warnings(inventory: Inventory) -> list[str]:
    """Warn once per name about certifications and safeguards no regime can recognise.

    They are valid to write, but count for no transfer, so a typo or an obsolete name
    ("Privacy Shield") would quietly cost transfers their basis.
    """
    from datetime import date

    from residency.jurisdictions import ended_instrument, unknown_instrument

    where: dict[tuple[str, str], list[str]] = {}
    for system in inventory.systems:
        for kind in ("certifications", "safeguards"):
            for name in getattr(system, kind):
                where.setdefault((kind, name), []).append(f"system {system.id}")
        for sub in system.subprocessors:
            for kind in ("certifications", "safeguards"):
                for name in getattr(sub, kind):
                    where.setdefault((kind, name), []).append(f"system {system.id}")
    for person in inventory.staff:
        if person.entity is not None:
            for name in person.entity.safeguards:
                where.setdefault(("safeguards", name), []).append(f"entity {person.entity.name}")
    warnings = []
    for (kind, name), places_ in sorted(where.items()):
        unknown = unknown_instrument(name)
        problem = unknown or ended_instrument(name, date.today())
        if problem:
            shown = ", ".join(sorted(set(places_))[:3])
            more = len(set(places_)) - 3
            shown += f" and {more} more" if more > 0 else ""
            effect = (
                "it counts for no transfer; the accepted names and aliases are in docs/inventory.md"
                if unknown
                else "it counts only for --as-of dates before then"
            )
            warnings.append(f"{kind} {problem} ({shown}): {effect}")
    return warnings
