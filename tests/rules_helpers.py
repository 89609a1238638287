"""Build one-client inventories to ask the rule engine a single question."""

from __future__ import annotations

import yaml

from residency.datamap import DataMap
from residency.inventory import parse_inventory_text


def scenario(
    origin: str,
    destination: str,
    *,
    kind: str = "stored",
    certifications: tuple[str, ...] = (),
    safeguards: tuple[str, ...] = (),
    staff_type: str = "employee",
    entity_safeguards: tuple[str, ...] | None = None,
    data: tuple[str, ...] = ("contact_details",),
    residency: tuple[str, ...] = (),
    subject_kind: str = "client",
) -> dict:
    """An inventory where one subject's data reaches ``destination`` in one way."""
    system = {
        "id": "sys",
        "vendor": "Vendor Inc.",
        "vendor_country": origin,
        "hosting": [{"country": origin}],
        "data": list(data),
        "certifications": list(certifications),
        "safeguards": list(safeguards),
    }
    if kind == "stored":
        system["hosting"] = [{"country": destination}]
    elif kind == "processed":
        system["subprocessors"] = [{"name": "Sub Ltd", "countries": [destination]}]
    doc: dict = {
        "organisation": {"name": "Case Org", "country": origin},
        "systems": [system],
        "staff": [],
        "clients": [],
    }
    client = {
        "id": "c",
        "country": origin,
        "data": list(data),
        "systems": ["sys"],
        "residency": list(residency),
    }
    if subject_kind == "client":
        doc["clients"].append(client)
    else:
        doc["organisation"]["staff_data"] = {"data": list(data), "systems": ["sys"]}
        doc["staff"].append({"id": "p", "country": origin})
    if kind == "accessed":
        person = {"id": "s", "country": destination, "type": staff_type, "clients": ["c"]}
        if entity_safeguards is not None:
            person["entity"] = {
                "name": "Partner Co",
                "country": destination,
                "safeguards": list(entity_safeguards),
            }
        doc["clients"] = doc["clients"] or [client]
        doc["staff"].append(person)
    return doc


def transfers_for(
    doc: dict,
    *,
    as_of: str,
    subject: str = "client:c",
    kind: str | None = None,
    destination: str | None = None,
):
    m = DataMap.from_inventory(parse_inventory_text(yaml.safe_dump(doc)))
    found = m.transfers(subject, as_of=as_of)
    return [
        t
        for t in found
        if (kind is None or t.location.kind == kind)
        and (destination is None or t.location.country == destination)
    ]
