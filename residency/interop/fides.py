"""Export a data map as a Fides manifest (fideslang 3.x ``system`` resources).

One system per inventory system (the vendor) and one per sub-processor, with privacy
declarations (data categories through ``data/categories.yaml``, data subjects), a
``train_ai_system`` declaration where training happens, and the transfer fields Fides has
(``does_international_transfers``, ``legal_basis_for_transfers``,
``requires_data_protection_assessments``). Fides has no country fields and one flat list of
bases per system, so the per-origin answer (destination, basis, instrument, route id) goes
under ``meta.residency``. Format and losses: docs/interop.md.

>>> import residency
>>> manifest = fides_manifest(residency.load(), as_of="2026-11-26")
>>> slack = next(s for s in manifest["system"] if s["fides_key"] == "slack")
>>> slack["does_international_transfers"], slack["privacy_declarations"][1]["data_use"]
(True, 'train_ai_system')
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import IO, TYPE_CHECKING, Any

import yaml

from residency.categories import TRAIN_AI_USE, fides_key
from residency.places import place_name

if TYPE_CHECKING:
    from residency.datamap import DataMap
    from residency.model import Inventory
    from residency.routes import Route

SERVICE_USE = "essential.service"  # fideslang data use: providing the service itself
SUBPROCESSOR_PREFIX = "subprocessor-"

# residency's basis -> Fides' suggested legal_basis_for_transfers values (not enforced by
# fideslang). Bases that need no transfer mechanism (free flow, unrestricted) add none.
_NO_MECHANISM = {"own_staff", "free_flow", "unrestricted"}


class _NoAliasDumper(yaml.SafeDumper):
    """Safe dumper that writes repeated lists out in full (no ``&id001`` anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def subprocessor_key(name: str) -> str:
    """Return the Fides key of a sub-processor, derived from its name.

    >>> subprocessor_key("Amazon Web Services, Inc.")
    'subprocessor-amazon_web_services_inc'
    """
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "unnamed"
    return SUBPROCESSOR_PREFIX + slug


def transfer_basis(basis: str, instrument: str | None) -> str | None:
    """Map a route's basis and instrument to a Fides ``legal_basis_for_transfers`` value.

    >>> transfer_basis("safeguard", "EU SCC 2021 (Commission Implementing Decision (EU) 2021/914)")
    'SCCs'
    >>> transfer_basis("no_basis", None)
    'Other'
    >>> transfer_basis("free_flow", None) is None
    True
    """
    if basis in _NO_MECHANISM:
        return None
    if basis == "adequacy":
        return "Adequacy Decision"
    if basis == "safeguard":
        text = instrument or ""
        if "SCC" in text or "Addendum" in text or "IDTA" in text:
            return "SCCs"
        if "BCR" in text or "Binding Corporate" in text:
            return "BCRs"
        if "DPF" in text or "Data Privacy Framework" in text:
            return "Adequacy Decision"  # a framework certification rests on an adequacy decision
    return "Other"  # needs_review, no_basis, or a safeguard Fides has no name for


def fides_manifest(m: DataMap, *, as_of: date | str | None = None) -> dict[str, Any]:
    """Answer the Fides manifest (``{"system": [...]}``) of a data map as of a date."""
    from residency.datamap import parse_as_of

    day = parse_as_of(as_of)
    inv = m.inventory
    routes = list(m.routes(as_of=day))
    subjects = _subjects_by_system(inv)
    trained: dict[str, set[str]] = defaultdict(set)
    for exposure in m.ai_exposure(as_of=day):
        trained[exposure.system_id].update(exposure.data)

    vendor_routes, sub_routes = _split_routes(routes)
    systems: list[dict[str, Any]] = []
    subs: dict[str, dict[str, Any]] = {}
    for system in inv.systems:
        categories, unmapped = _categories(system.data)
        who = sorted(subjects.get(system.id, set()))
        declarations = [_declaration(f"{system.label}: the service", SERVICE_USE, categories, who)]
        if system.id in trained:
            ai_categories, more = _categories(sorted(trained[system.id]))
            unmapped |= more
            declarations.append(
                _declaration(f"{system.label}: AI training", TRAIN_AI_USE, ai_categories, who)
            )
        egress: list[dict[str, Any]] = []
        third_parties: list[str] = []
        for sub in system.subprocessors:
            key = subprocessor_key(sub.name)
            if key not in {e["fides_key"] for e in egress}:
                egress.append({"fides_key": key, "type": "system", "data_categories": categories})
                third_parties.append(sub.name)
            entry = subs.setdefault(
                key,
                {
                    "name": sub.name,
                    "from": [],
                    "categories": set(),
                    "subjects": set(),
                    "countries": set(),
                    "certifications": set(),
                    "safeguards": set(),
                },
            )
            if system.id not in entry["from"]:
                entry["from"].append(system.id)
            entry["categories"].update(categories)
            entry["subjects"].update(who)
            entry["countries"].update(sub.countries)
            entry["certifications"].update(sub.certifications)
            entry["safeguards"].update(sub.safeguards)
        if third_parties:
            declarations[0]["data_shared_with_third_parties"] = True
            declarations[0]["third_parties"] = "; ".join(third_parties)
            declarations[0]["shared_categories"] = categories
        own = vendor_routes.get(system.id, [])
        record: dict[str, Any] = {
            "fides_key": system.id,
            "name": system.label,
            "description": f"{system.label}, from {system.vendor}",
            "system_type": "Service",
            "legal_name": system.vendor,
            "legal_address": place_name(system.vendor_country),
            "responsibility": ["Controller"],
            "privacy_declarations": declarations,
        }
        if egress:
            record["egress"] = egress
        record.update(_transfer_fields(own))
        record["meta"] = {
            "residency": {
                "as_of": day.isoformat(),
                "system": system.id,
                "vendor_country": system.vendor_country,
                "hosting": sorted({h.country for h in system.hosting if h.country}),
                "certifications": list(system.certifications),
                "safeguards": list(system.safeguards),
                "categories": list(system.data),
                "categories_without_fides_key": sorted(unmapped),
                **_transfer_meta(own),
            }
        }
        systems.append(record)

    systems += [
        _subprocessor_system(key, entry, sub_routes.get(entry["name"], []), day)
        for key, entry in sorted(subs.items())
    ]
    return {"system": systems}


def _split_routes(routes: list[Route]) -> tuple[dict[str, list[Route]], dict[str, list[Route]]]:
    """Answer the routes of each system's vendor (by system id) and of each sub-processor
    (by name). Staff access is the organisation's own, not a system's vendor: left out."""
    vendor_routes: dict[str, list[Route]] = defaultdict(list)
    sub_routes: dict[str, list[Route]] = defaultdict(list)
    for route in routes:
        if route.kind == "accessed":
            continue
        if route.key.recipient_type == "subprocessor":
            sub_routes[route.recipient].append(route)
        else:
            for node in route.systems:
                vendor_routes[node.removeprefix("system:")].append(route)
    return vendor_routes, sub_routes


def _subprocessor_system(
    key: str, entry: dict[str, Any], own: list[Route], day: date
) -> dict[str, Any]:
    """Answer the Fides system of one sub-processor, fed by the systems that use it."""
    categories = sorted(entry["categories"])
    who = sorted(entry["subjects"])
    return {
        "fides_key": key,
        "name": entry["name"],
        "description": f"Sub-processor of {', '.join(entry['from'])}",
        "system_type": "Service",
        "legal_name": entry["name"],
        "responsibility": ["Sub-Processor"],
        "ingress": [
            {"fides_key": source, "type": "system", "data_categories": categories}
            for source in entry["from"]
        ],
        "privacy_declarations": [
            _declaration(f"{entry['name']}: processing", SERVICE_USE, categories, who)
        ],
        **_transfer_fields(own),
        "meta": {
            "residency": {
                "as_of": day.isoformat(),
                "subprocessor_of": list(entry["from"]),
                "countries": sorted(entry["countries"]),
                "certifications": sorted(entry["certifications"]),
                "safeguards": sorted(entry["safeguards"]),
                **_transfer_meta(own),
            }
        },
    }


def _subjects_by_system(inv: Inventory) -> dict[str, set[str]]:
    """Answer which Fides data subjects reach each system: clients are ``customer``,
    employees ``employee`` and contractors ``consultant``."""
    found: dict[str, set[str]] = defaultdict(set)
    client_systems = {c.id: c.systems for c in inv.clients}
    for client in inv.clients:
        for sid in client.systems:
            found[sid].add("customer")
    for person in inv.staff:
        kind = "consultant" if person.type == "contractor" else "employee"
        reach = person.systems
        if reach is None:
            reach = [s for cid in person.clients for s in client_systems.get(cid, [])]
        for sid in reach:
            found[sid].add(kind)
    if inv.organisation.staff_data is not None:
        for sid in inv.organisation.staff_data.systems:
            found[sid].add("employee")
    return found


def _categories(names: list[str]) -> tuple[list[str], set[str]]:
    """Answer the fideslang keys of ``names`` (sorted, no repeats) and the names without one."""
    keys: set[str] = set()
    unmapped: set[str] = set()
    for name in names:
        key = fides_key(name)
        if key is None:
            unmapped.add(name)
        else:
            keys.add(key)
    return sorted(keys), unmapped


def _declaration(name: str, use: str, categories: list[str], subjects: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "data_use": use,
        "data_categories": list(categories),
        "data_subjects": list(subjects),
    }


def _transfer_fields(routes: list[Route]) -> dict[str, Any]:
    bases = {transfer_basis(r.basis, r.instrument) for r in routes}
    return {
        "does_international_transfers": bool(routes),
        "legal_basis_for_transfers": sorted(b for b in bases if b is not None),
        "requires_data_protection_assessments": any(r.tia_required for r in routes),
    }


def _transfer_meta(routes: list[Route]) -> dict[str, Any]:
    """Answer the per-origin detail Fides cannot hold: each origin's destinations and bases."""
    by_origin: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for route in sorted(routes, key=lambda r: r.key.sort_key()):
        by_origin[" ".join(route.regimes)].append(
            {
                "route": route.id,
                "destination": route.destination,
                "recipient": route.recipient,
                "kind": route.kind,
                "basis": route.basis,
                "instrument": route.instrument,
                "tia_required": route.tia_required,
            }
        )
    return {
        "destinations": sorted({r.destination for r in routes}),
        "no_basis_destinations": sorted({r.destination for r in routes if r.basis == "no_basis"}),
        "transfers_by_origin": dict(sorted(by_origin.items())),
    }


def dump_manifest(manifest: dict[str, Any]) -> str:
    """Return a manifest as YAML text: block style, keys in order, no anchors or aliases."""
    return yaml.dump(
        manifest, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, width=100
    )


def write_manifest(out: IO[str], manifest: dict[str, Any]) -> int:
    """Write a manifest as YAML to ``out``; answer how many systems it holds."""
    out.write(dump_manifest(manifest))
    return len(manifest["system"])
