"""Inventory format version 1 as pydantic models (the public contract in docs/inventory.md).

These models check the shape of each entry (types, enums, dates). Checks that need
the whole inventory (references, duplicates, ISO codes, cloud regions) live in
:mod:`residency.inventory`, which also knows the file and line of every entry.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, StringConstraints
from pydantic_core import PydanticCustomError

Id = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=128
    ),
]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _false_or_date(value: object) -> object:
    if value is False or isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    template = "expected false or a date YYYY-MM-DD, got {value}"
    raise PydanticCustomError("false_or_date", template, {"value": repr(value)})  # noqa: EM101


MAX_COUNT = 10_000_000_000  # more people than live on Earth: a typo, not a count


def _count(value: object) -> object:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    template = "expected a whole number of people (e.g. 12000, no separators), got {value}"
    raise PydanticCustomError("count", template, {"value": repr(value)[:60]})  # noqa: EM101


# A number of people (a client's data subjects): a whole number, digits only in a CSV cell.
Count = Annotated[int, BeforeValidator(_count)]

# An opt-out/opt-in field: false (not done) or the date it took effect.
FalseOrDate = Annotated[date | Literal[False], BeforeValidator(_false_or_date)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class _Strict(BaseModel):
    """Unknown fields are errors: a typo such as ``sytems`` must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class Entity(_Strict):
    """The legal entity that employs or engages a person, when it is not the organisation."""

    name: Text = Field(description="Legal name of the employer of record, affiliate or contractor")
    country: Code = Field(description="ISO 3166 code of the entity's establishment")
    safeguards: list[Text] = Field(
        default_factory=list, description="Transfer mechanisms signed with this entity"
    )


class Staff(_Strict):
    """A person who works for the organisation and can reach client data."""

    id: Id
    name: Text | None = None
    country: Code = Field(description="Where the person works from (ISO 3166-1 or 3166-2)")
    type: Literal["employee", "contractor"] = "employee"
    entity: Entity | None = None
    clients: list[Id] = Field(default_factory=list)
    systems: list[Id] | None = Field(
        default=None, description="Systems the person can use; None means those of their clients"
    )
    since: date | None = Field(default=None, description="When the person joined (optional)")


class Client(_Strict):
    """A client whose data the organisation handles."""

    id: Id
    name: Text | None = None
    country: Code = Field(description="The client's jurisdiction: the origin of its data")
    data: list[Category] = Field(default_factory=list)
    systems: list[Id] = Field(default_factory=list)
    residency: list[Code] = Field(
        default_factory=list, description="Contractual limit on every place its data reaches"
    )
    since: date | None = Field(
        default=None, description="When the engagement started: the data's first use (optional)"
    )
    data_subjects: Count | None = Field(
        default=None,
        description="How many people's data the client entrusts (the most in any 12 months); "
        "judged against volume thresholds such as the DOJ rule's bulk thresholds (optional)",
    )


class Hosting(_Strict):
    """Where a system stores data: a cloud region, or just a country."""

    provider: Text | None = None
    region: Text | None = None
    country: Code | None = None
    city: Text | None = None
    purpose: Text | None = None
    source: Text | None = None


class Subprocessor(_Strict):
    """A recipient the system's vendor hands data to."""

    name: Text
    purpose: Text | None = None
    countries: list[Code] = Field(min_length=1)
    certifications: list[Text] = Field(default_factory=list)
    safeguards: list[Text] = Field(default_factory=list)
    source: Text | None = None
    as_of: date | None = None
    notes: Text | None = None


class AiTraining(_Strict):
    """Whether and how the vendor uses customer data to train AI models."""

    uses_customer_data: bool
    default: Literal["opt-in", "opt-out", "none"] = "none"
    since: date | None = None
    opted_out: FalseOrDate = False
    opted_in: FalseOrDate = False
    how_to_opt_out: Text | None = None
    opt_out: Literal["admin_setting", "email", "contract", "not_possible"] | None = Field(
        default=None, description="How a customer can opt out; not_possible: the plan allows none"
    )
    scope: Literal["global", "per_customer"] | None = None
    data: list[Category] | None = None
    source: Text | None = None
    as_of: date | None = None
    notes: Text | None = None


class System(_Strict):
    """A SaaS tool (or any system) where data is kept."""

    id: Id
    name: Text | None = None
    catalogue: Text | None = Field(
        default=None, description="A data/vendors key: inherit the vendor's facts (inline wins)"
    )
    plan: Text | None = Field(default=None, description="The vendor plan (catalogue systems)")
    residency_option: Text | None = Field(
        default=None, description="The catalogue hosting option chosen (default: the vendor's)"
    )
    vendor: Text
    vendor_country: Code
    certifications: list[Text] = Field(default_factory=list)
    safeguards: list[Text] = Field(default_factory=list)
    hosting: list[Hosting] = Field(min_length=1)
    data: list[Category] = Field(default_factory=list)
    subprocessors: list[Subprocessor] = Field(default_factory=list)
    ai_training: AiTraining | None = None
    sources: list[Text] = Field(default_factory=list)
    as_of: date | None = None
    notes: Text | None = None

    @property
    def label(self) -> str:
        """Return the name people know the system by."""
        return self.name or self.id


class StaffData(_Strict):
    """Where the organisation keeps its staff's own personal data."""

    data: list[Category] = Field(default_factory=list)
    systems: list[Id] = Field(default_factory=list)


class Organisation(_Strict):
    """The organisation the inventory describes."""

    name: Text
    country: Code
    staff_data: StaffData | None = None


class AssessmentRecord(_Strict):
    """A transfer impact assessment the organisation has done (docs/inventory.md, optional).

    It covers the transfers to ``destination`` through ``system`` and/or to ``recipient``
    (at least one of the two), of data from ``origins`` (default: every origin), from
    ``completed`` until ``review_by`` (when given). :mod:`residency.assessments` matches
    records to the transfer register's routes.
    """

    id: Id = Field(description="Unique id of the record, e.g. tia-slack-us-2025")
    type: Literal["tia"] = Field(default="tia", description="Only 'tia' for now")
    system: Id | None = Field(default=None, description="A system id of the inventory")
    recipient: Text | None = Field(
        default=None, description="The recipient it covers; default: every one of the system"
    )
    destination: Code = Field(description="ISO 3166 code; a country covers its subdivisions")
    origins: list[Code] | None = Field(
        default=None, description="Codes or blocs whose data it covers; default: every origin"
    )
    completed: date = Field(description="When the assessment was completed")
    review_by: date | None = Field(default=None, description="After this date it no longer counts")
    reference: Text | None = Field(default=None, description="Where the document is")


class Inventory(_Strict):
    """A whole inventory: organisation, staff, clients and systems (and, optionally, the
    transfer impact assessments recorded).

    ``origins`` maps ``client:acme`` (and ``staff:``/``system:`` ids) to where the entry was
    read, e.g. ``clients.csv row 4``, so every answer can point at its inventory line.
    """

    organisation: Organisation
    staff: list[Staff] = Field(default_factory=list)
    clients: list[Client] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    assessments: list[AssessmentRecord] = Field(default_factory=list)

    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _from_catalogue: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def origins(self) -> dict[str, str]:
        """Answer where each entry was read (``{"client:acme": "clients.csv row 4"}``)."""
        return self._origins

    @property
    def warnings(self) -> list[str]:
        """Return things that are valid but probably not what the author meant."""
        return self._warnings

    @property
    def from_catalogue(self) -> dict[str, str]:
        """Answer, per system id, which of its facts came from the vendor catalogue."""
        return self._from_catalogue

    def content_hash(self) -> str:
        """Return a sha256 of the inventory's content, independent of file layout and order.

        Staff, clients and systems, and a system's hosting rows and sub-processors, are
        hashed as sets: listing them in another order is the same inventory. An inventory
        without assessments hashes as before the section existed (same identity).
        """
        digest = hashlib.sha256(self.organisation.model_dump_json().encode())
        sections = [
            ("staff", (p.model_dump_json() for p in self.staff)),
            ("clients", (_client_text(c) for c in self.clients)),
            ("systems", (_system_text(s) for s in self.systems)),
        ]
        if self.assessments:
            sections.append(("assessments", (a.model_dump_json() for a in self.assessments)))
        for section, texts in sections:
            digest.update(f"\0{section}".encode())
            for text in sorted(texts):
                digest.update(b"\0" + text.encode())
        return "sha256:" + digest.hexdigest()


def _client_text(client: Client) -> str:
    # A client without a count hashes as before the field existed (same identity).
    unset = {"data_subjects"} if client.data_subjects is None else None
    return client.model_dump_json(exclude=unset)


def _system_text(system: System) -> str:
    parts = [system.model_dump_json(exclude={"hosting", "subprocessors"})]
    parts += sorted(h.model_dump_json() for h in system.hosting)
    parts.append("\0")
    parts += sorted(s.model_dump_json() for s in system.subprocessors)
    return "\x1f".join(parts)
