"""The words residency answers in: location kinds, legal bases, severities, confidences.

Each is a ``StrEnum`` whose values are the strings the inventory, the legal and vendor
data files and the export use, so a member compares, hashes and serialises as its value.
The tuples beside them (``KINDS``, ``BASES``, ...) hold the plain strings in the one order
every listing uses; modules and front ends take their order from here, never write it out.

>>> LocationKind.STORED == "stored" and BASES[0] == "own_staff"
True
>>> Basis.ADEQUACY.rank < Basis.SAFEGUARD.rank  # better first
True
>>> worst_basis(["adequacy", "no_basis", "safeguard"])
'no_basis'
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class LocationKind(StrEnum):
    """What happens to data in a place: kept there, worked on, reached from, trained on."""

    STORED = "stored"
    PROCESSED = "processed"
    ACCESSED = "accessed"
    TRAINED = "trained"


class Basis(StrEnum):
    """The legal basis a transfer rests on, best first (``rank`` 0 is the best).

    The order is the one judgement uses: a route's basis is the worst of its legs, and
    the map colours a country by the worst basis into it. ``adequacy`` ranks above
    ``unrestricted`` because an adequacy decision is a finding by the origin's authority
    about the destination, while ``unrestricted`` only says the origin's law sets no rule.
    """

    OWN_STAFF = "own_staff"
    FREE_FLOW = "free_flow"
    ADEQUACY = "adequacy"
    UNRESTRICTED = "unrestricted"
    SAFEGUARD = "safeguard"
    NEEDS_REVIEW = "needs_review"
    NO_BASIS = "no_basis"

    @property
    def rank(self) -> int:
        """Answer the basis's place in the ranking (0: the best)."""
        return BASIS_RANK[self.value]

    @property
    def label(self) -> str:
        """Say what the basis means, in words (tables, the map's legend)."""
        return BASIS_LABELS[self.value]


class Severity(StrEnum):
    """How urgent a finding is, most severe first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Answer the severity's place (0: the most severe)."""
        return SEVERITIES.index(self.value)


class Confidence(StrEnum):
    """How sure a legal or vendor fact is, surest first."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


KINDS: tuple[str, ...] = tuple(k.value for k in LocationKind)
BASES: tuple[str, ...] = tuple(b.value for b in Basis)  # best first
BASES_WORST_FIRST: tuple[str, ...] = BASES[::-1]
BASIS_RANK: dict[str, int] = {b: i for i, b in enumerate(BASES)}
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
CONFIDENCES: tuple[str, ...] = tuple(c.value for c in Confidence)
BASIS_LABELS: dict[str, str] = {
    "own_staff": "own staff abroad",
    "free_flow": "free flow (e.g. within the EEA)",
    "adequacy": "adequacy decision",
    "unrestricted": "no restriction at origin",
    "safeguard": "safeguard (e.g. SCCs)",
    "needs_review": "needs review",
    "no_basis": "no legal basis",
}


def worst_basis(bases: Iterable[str]) -> str:
    """Answer the worst of some bases (the basis of a route over several legs)."""
    return max(bases, key=BASIS_RANK.__getitem__)


def least_confident(levels: Iterable[str]) -> str | None:
    """Answer the least sure of some confidences (None: there were none)."""
    found = list(levels)
    return max(found, key=CONFIDENCES.index) if found else None
