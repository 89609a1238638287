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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from residency import places, regions
from residency._errors import InventoryError, InventoryProblem
from residency._perf import bulk
from residency._resources import data_file
from residency._yaml import Loader as _Loader
from residency.model import Client, Inventory, Organisation, Staff, System

INVENTORY_FILE = "inventory.yaml"
CSV_FILES = {"staff": "staff.csv", "clients": "clients.csv"}
_TOP_LEVEL = ("organisation", "staff", "clients", "systems")
_LIST_COLUMNS = {
    "staff": {"clients", "systems", "entity.safeguards"},
    "clients": {"data", "systems", "residency"},
}
_MODELS: dict[str, type[BaseModel]] = {"staff": Staff, "clients": Client, "systems": System}


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
        return f"{self.section}[{ident}]" if ident else self.section

    def origin(self) -> str:
        unit = "row" if self.is_csv else "line"
        return f"{self.file} {unit} {self.line}" if self.line else self.file


class _Problems:
    """Collects problems so one run reports all of them."""

    def __init__(self) -> None:
        self.items: list[InventoryProblem] = []

    def add(self, file: str, line: int | None, fld: str, message: str) -> None:
        self.items.append(InventoryProblem(file, line, fld, message))

    def at(self, entry: _Entry, loc: tuple[Any, ...], fld: str, message: str) -> None:
        self.add(entry.file, entry.where(loc), fld, message)


def demo_path() -> Path:
    """Return the folder of the built-in demo organisation."""
    return Path(str(data_file("demo")))


def read_inventory(path: str | Path | None = None) -> Inventory:
    """Read and validate an inventory; with no path, the built-in demo organisation.

    Raises :class:`residency.InventoryError` listing every problem found.
    """
    root = Path(path) if path is not None else demo_path()
    problems = _Problems()
    with bulk():
        entries = _read_entries(root, problems)
        if problems.items:
            raise InventoryError(problems.items)
        return validate_entries(entries, problems)


def parse_inventory_text(text: str, *, name: str = INVENTORY_FILE) -> Inventory:
    """Validate an inventory given as YAML text (used for uploads and tests)."""
    problems = _Problems()
    entries = _yaml_entries(text, name, problems)
    if problems.items:
        raise InventoryError(problems.items)
    return validate_entries(entries, problems)


def _read_entries(root: Path, problems: _Problems) -> list[_Entry]:
    if root.is_dir():
        yaml_path = root / INVENTORY_FILE
        if not yaml_path.is_file():
            problems.add(
                str(root), None, "inventory.yaml", "a folder inventory needs an inventory.yaml file"
            )
            return []
        entries = _yaml_entries(_read_text(yaml_path, problems), str(yaml_path), problems)
        for section, filename in CSV_FILES.items():
            csv_path = root / filename
            if csv_path.is_file():
                entries += _csv_entries(
                    _read_text(csv_path, problems), str(csv_path), section, problems
                )
        return entries
    if not root.exists():
        problems.add(str(root), None, "path", "no such file or folder")
        return []
    return _yaml_entries(_read_text(root, problems), str(root), problems)


def _read_text(path: Path, problems: _Problems) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(str(path), None, "encoding", f"expected UTF-8 text ({exc.reason})")
    except OSError as exc:
        problems.add(str(path), None, "file", f"cannot be read: {exc.strerror}")
    return ""


def _yaml_entries(text: str, file: str, problems: _Problems) -> list[_Entry]:
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problems.add(file, line, "yaml", f"malformed YAML: {getattr(exc, 'problem', exc)}")
        return []
    if not isinstance(data, dict):
        problems.add(
            file, 1, "document", "expected a mapping with 'organisation' and 'systems' at the top"
        )
        return []
    lines = _line_map(node)
    for key in data:
        if key not in _TOP_LEVEL:
            problems.add(
                file,
                lines.get((key,)),
                str(key),
                f"unknown top-level field: expected one of {', '.join(_TOP_LEVEL)}",
            )
    sections = {key.value: value for key, value in node.value}
    org_node = sections.get("organisation")
    entries = [
        _Entry(
            "organisation",
            data.get("organisation"),
            file,
            lines.get(("organisation",)),
            _line_map(org_node, deep=True) if org_node is not None else {},
        )
    ]
    for section in ("staff", "clients", "systems"):
        items = data.get(section) or []
        if not isinstance(items, list):
            problems.add(file, lines.get((section,)), section, "expected a list of entries")
            continue
        item_nodes = sections[section].value if items else []
        for item, item_node in zip(items, item_nodes, strict=True):
            entries.append(
                _Entry(
                    section,
                    item,
                    file,
                    item_node.start_mark.line + 1,
                    _line_map(item_node, deep=True),
                )
            )
    return entries


def _line_map(root: yaml.Node, *, deep: bool = False) -> dict[tuple[Any, ...], int]:
    """Map each path below ``root`` (``("hosting", 0, "region")``) to its 1-based line.

    The document root is mapped one level deep (its sections); each entry is mapped on
    its own, so the cost stays linear in the size of the file.
    """
    lines: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[tuple[Any, ...], yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if path and not deep:
            continue
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                lines[child] = key_node.start_mark.line + 1
                stack.append((child, value_node))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                stack.append((child, item))
    return lines


def _csv_entries(text: str, file: str, section: str, problems: _Problems) -> list[_Entry]:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        rows = list(reader)
    except csv.Error as exc:
        problems.add(file, None, "csv", f"malformed CSV: {exc}")
        return []
    if not rows:
        problems.add(file, 1, "header", "expected a header row, the file is empty")
        return []
    header = [h.strip() for h in rows[0]]
    allowed = _csv_columns(section)
    for name in header:
        if name not in allowed:
            problems.add(
                file,
                1,
                name or "(empty)",
                f"unknown column: expected some of {', '.join(sorted(allowed))}",
            )
    entries = []
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.add(
                file,
                row_number,
                "row",
                f"expected {len(header)} cells as in the header, found {len(row)}",
            )
            continue
        data = _csv_record(section, header, row)
        entries.append(_Entry(section, data, file, row_number, is_csv=True))
    return entries


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


def validate_entries(entries: list[_Entry], problems: _Problems) -> Inventory:
    """Turn raw entries into a validated :class:`Inventory`, or raise with every problem."""
    from_catalogue = _use_catalogue(entries, problems)
    built: dict[str, list[Any]] = {"staff": [], "clients": [], "systems": []}
    sources: dict[str, list[_Entry]] = {"staff": [], "clients": [], "systems": []}
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
    if organisation is None or org_entry is None:
        if org_entry is not None and org_entry.data is None:
            problems.add(
                org_entry.file,
                None,
                "organisation",
                "missing: expected organisation: {name: ..., country: XX}",
            )
        raise InventoryError(problems.items)
    inventory = Inventory.model_construct(
        organisation=organisation,
        staff=built["staff"],
        clients=built["clients"],
        systems=built["systems"],
    )
    raw_ids = {
        section: {
            str(e.data.get("id"))
            for e in entries
            if e.section == section and isinstance(e.data, dict) and e.data.get("id")
        }
        for section in ("staff", "clients", "systems")
    }
    _Checker(inventory, org_entry, sources, problems, raw_ids).run()
    if problems.items:
        raise InventoryError(problems.items)
    for system_id, (summary, warnings) in from_catalogue.items():
        inventory.from_catalogue[system_id] = summary
        inventory.warnings.extend(f"system {system_id}: {w}" for w in warnings)
    return inventory


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


def _explain(err: dict[str, Any]) -> str:
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        return "missing: this field is required"
    if kind == "extra_forbidden":
        return "unknown field: check the spelling against docs/inventory.md"
    if kind in (
        "date_from_datetime_parsing",
        "date_parsing",
        "date_type",
        "date_from_datetime_inexact",
    ):
        return f"invalid date {value!r}: expected YYYY-MM-DD"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        if "False" in expected:
            return f"expected false or a date YYYY-MM-DD, got {value!r}"
        return f"expected one of {expected}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"invalid id {value!r}: expected letters, digits, '-', '_' or '.'"
    if kind == "false_or_date":
        return err["msg"]
    return f"{err['msg']} (got {value!r})"


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
        self.inv = inventory
        self.org_entry = org_entry
        self.sources = sources
        self.p = problems

    def run(self) -> None:
        org = self.inv.organisation
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
        prefix = {"staff": "staff", "clients": "client", "systems": "system"}[section]
        seen: dict[str, _Entry] = {}
        for obj, entry in zip(getattr(self.inv, section), self.sources[section], strict=True):
            first = seen.get(obj.id)
            if first is not None:
                self.p.at(
                    entry,
                    ("id",),
                    self._fld(entry, "id"),
                    f"duplicate id {obj.id!r}: already used at {first.origin()}",
                )
                continue
            seen[obj.id] = entry
            self.inv.origins[f"{prefix}:{obj.id}"] = entry.origin()
        return set(seen)

    @staticmethod
    def _fld(entry: _Entry, name: str) -> str:
        return name if entry.is_csv else f"{entry.label()}.{name}"

    def _place(
        self, entry: _Entry, loc: tuple[Any, ...], fld: str, code: str, *, allow_blocs: bool = False
    ) -> None:
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
                f"unknown {kind} id {ref!r}: expected one of the inventory's {kind}s"
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
            host.country = region.place
            host.city = host.city or region.city
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
            self._ref(
                entry,
                ("clients", i),
                self._fld(entry, f"clients[{i}]"),
                cid,
                ids["clients"],
                "client",
            )
        for i, sid in enumerate(person.systems or []):
            self._ref(
                entry,
                ("systems", i),
                self._fld(entry, f"systems[{i}]"),
                sid,
                ids["systems"],
                "system",
            )

    def _warn_unmapped_categories(self) -> None:
        from residency.categories import fides_key

        used = {c for x in self.inv.clients for c in x.data}
        used |= {c for x in self.inv.systems for c in x.data}
        if self.inv.organisation.staff_data is not None:
            used |= set(self.inv.organisation.staff_data.data)
        for name in sorted(used):
            if fides_key(name) is None:
                self.inv.warnings.append(
                    f"data category {name!r} has no fideslang mapping: add it to "
                    "data/categories.yaml or use a fideslang key (e.g. user.content.private)"
                )

    def _warn_unserved(self) -> None:
        served = {cid for person in self.inv.staff for cid in person.clients}
        by_id = {s.id: s for s in self.inv.systems}
        for client in self.inv.clients:
            if client.id not in served:
                self.inv.warnings.append(f"client {client.id}: no staff member serves it")
            for sid in client.systems:
                system = by_id.get(sid)
                if (
                    system
                    and system.data
                    and client.data
                    and not set(client.data) & set(system.data)
                ):
                    self.inv.warnings.append(
                        f"client {client.id}: none of its data categories is among system "
                        f"{sid}'s data ({', '.join(system.data)}); all of them are assumed there"
                    )


@cache
def _place_problem(code: str, allow_blocs: bool) -> str | None:
    return places.place_problem(code, allow_blocs=allow_blocs)


def _suggest(ref: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(ref, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def read_upload(filename: str, content: bytes) -> Inventory:
    """Validate an uploaded inventory: a ``.yaml``/``.yml`` file, or a ``.zip`` of a folder.

    The zip may hold ``inventory.yaml`` (and ``staff.csv``, ``clients.csv``) at its top or
    inside one folder. Nothing is kept: the files are read from a temporary folder.
    """
    import tempfile
    import zipfile

    name = Path(filename).name
    lower = name.lower()
    if lower.endswith((".yaml", ".yml")):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InventoryError(
                [InventoryProblem(name, None, "encoding", f"expected UTF-8 text ({exc.reason})")]
            ) from None
        return parse_inventory_text(text, name=name)
    if not lower.endswith(".zip"):
        raise InventoryError(
            [InventoryProblem(name, None, "file", "expected a .yaml file or a .zip of a folder")]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise InventoryError(
            [InventoryProblem(name, None, "zip", "not a valid zip file")]
        ) from None
    with archive, tempfile.TemporaryDirectory() as tmp:
        _safe_extract(archive, name, Path(tmp))
        found = sorted(Path(tmp).rglob(INVENTORY_FILE), key=lambda p: len(p.parts))
        if not found:
            raise InventoryError(
                [InventoryProblem(name, None, "inventory.yaml", "the zip holds no inventory.yaml")]
            )
        # Name the upload, not the temporary folder, in everything the user sees.
        folder = f"{found[0].parent}{os.sep}"
        try:
            inventory = read_inventory(found[0].parent)
        except InventoryError as exc:
            raise InventoryError(
                [
                    InventoryProblem(
                        p.file.replace(folder, f"{name}:", 1), p.line, p.field, p.message
                    )
                    for p in exc.problems
                ]
            ) from None
    for key, origin in list(inventory.origins.items()):
        inventory.origins[key] = origin.replace(folder, f"{name}:", 1)
    return inventory


def _safe_extract(archive: Any, name: str, target: Path) -> None:
    total = 0
    for member in archive.infolist():
        path = Path(member.filename)
        if path.is_absolute() or ".." in path.parts:
            raise InventoryError(
                [InventoryProblem(name, None, member.filename, "unsafe path in the zip")]
            )
        total += member.file_size
        if total > MAX_UPLOAD_BYTES:
            raise InventoryError(
                [InventoryProblem(name, None, "zip", "larger than 50 MB when unpacked")]
            )
    archive.extractall(target)
