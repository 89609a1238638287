"""Exceptions a user can act on: each says what is wrong and where."""

from __future__ import annotations

import re
from dataclasses import dataclass

from residency._words import count

SHOWN_PER_KIND = 10  # problems of one kind shown before "and N more of the same kind"


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
    """An inventory failed validation; ``problems`` lists every problem found.

    The message shows at most ``limit`` problems and at most 10 of one kind, then says how
    many more of that kind there are, so a huge broken file gives a short message.
    """

    def __init__(self, problems: list[InventoryProblem], *, limit: int = 50) -> None:
        self.problems = sorted(set(problems), key=_problem_key)
        head = f"{count(len(self.problems), 'problem')} in the inventory"
        super().__init__("\n".join([head, *summary_lines(self.problems, limit)]))

    def summary_lines(self, limit: int = 50) -> list[str]:
        """Answer the lines that show the problems: the first of each kind, then counts."""
        return summary_lines(self.problems, limit)


class PolicyError(ResidencyError, ValueError):
    """A policy file failed validation; ``problems`` lists every problem found (file, line)."""

    def __init__(self, problems: list[InventoryProblem], *, limit: int = 50) -> None:
        self.problems = sorted(set(problems), key=_problem_key)
        count = len(self.problems)
        head = f"{count:,} problem{'s' if count != 1 else ''} in the policy"
        super().__init__("\n".join([head, *summary_lines(self.problems, limit)]))


def problem_kind(problem: InventoryProblem) -> str:
    """Answer what a problem is about with its values left out (to group the same kind)."""
    message = re.sub(r"'[^']*'|\"[^\"]*\"|\d[\d,.]*", "_", problem.message)
    field = re.sub(r"\[[^\]]*\]", "", problem.field)
    return f"{field}: {message}"


def summary_lines(problems: list[InventoryProblem], limit: int = 50) -> list[str]:
    """Answer the lines that show ``problems``: the first of each kind, then counts."""
    lines: list[str] = []
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for p in problems:
        kind = problem_kind(p)
        if len(lines) < limit and shown.get(kind, 0) < SHOWN_PER_KIND:
            shown[kind] = shown.get(kind, 0) + 1
            lines.append(f"  {p}")
        else:
            hidden[kind] = hidden.get(kind, 0) + 1
    for kind, n in sorted(hidden.items(), key=lambda kv: -kv[1])[:SHOWN_PER_KIND]:
        lines.append(f"  ... and {n:,} more of the same kind ({kind[:100]})")
    rest = sum(sorted(hidden.values(), reverse=True)[SHOWN_PER_KIND:])
    if rest:
        lines.append(f"  ... and {rest:,} more of other kinds")
    return lines


def _problem_key(p: InventoryProblem) -> tuple[str, int, str, str]:
    return (p.file, p.line or 0, p.field, p.message)


class UnknownSubjectError(ResidencyError, LookupError):
    """A subject such as ``client:acme`` is not in the inventory."""


class UnknownCodeError(ResidencyError, LookupError):
    """A country, subdivision or bloc code is not known."""


class StoreError(ResidencyError):
    """The store cannot be opened or does not hold what was asked for."""
