"""Exceptions a user can act on: each says what is wrong and where."""

from __future__ import annotations

import re
from collections.abc import Sequence
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


class ProblemsError(ResidencyError, ValueError):
    """A file a user gave failed validation; ``problems`` lists every problem found.

    The message shows at most ``limit`` problems and at most 10 of one kind, then says how
    many more of that kind there are, so a huge broken file gives a short message.
    """

    subject = "the files"  # what the message says the problems are in

    def __init__(self, problems: Sequence[InventoryProblem], *, limit: int = 50) -> None:
        self.problems = sorted(set(problems), key=_problem_key)
        head = f"{count(len(self.problems), 'problem')} in {self.subject}"
        super().__init__("\n".join([head, *summary_lines(self.problems, limit)]))

    def summary_lines(self, limit: int = 50) -> list[str]:
        """Answer the lines that show the problems: the first of each kind, then counts."""
        return summary_lines(self.problems, limit)


class InventoryError(ProblemsError):
    """An inventory failed validation; ``problems`` lists every problem found."""

    subject = "the inventory"


class PolicyError(ProblemsError):
    """A policy file failed validation; ``problems`` lists every problem found (file, line)."""

    subject = "the policy"


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
