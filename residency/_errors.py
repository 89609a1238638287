"""Exceptions a user can act on: each says what is wrong and where."""

from __future__ import annotations

from dataclasses import dataclass


class ResidencyError(Exception):
    """Base class for every error caused by input rather than by a bug."""


@dataclass(frozen=True, order=True)
class InventoryProblem:
    """One thing wrong in an inventory, located precisely enough to fix it.

    ``line`` is the YAML line, or the CSV row counted as a spreadsheet does
    (the header is row 1).
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.field}: {self.message}"
        unit = "row" if self.file.endswith(".csv") else "line"
        return f"{self.file} {unit} {self.line}: {self.field}: {self.message}"


class InventoryError(ResidencyError, ValueError):
    """An inventory failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[InventoryProblem]) -> None:
        self.problems = sorted(set(problems), key=_problem_key)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the inventory"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


def _problem_key(p: InventoryProblem) -> tuple[str, int, str, str]:
    return (p.file, p.line or 0, p.field, p.message)


class UnknownSubjectError(ResidencyError, LookupError):
    """A subject such as ``client:acme`` is not in the inventory."""


class UnknownCodeError(ResidencyError, LookupError):
    """A country, subdivision or bloc code is not known."""


class StoreError(ResidencyError):
    """The store cannot be opened or does not hold what was asked for."""
