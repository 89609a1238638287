"""Counted nouns for messages: ``1 problem``, ``2 problems``, never ``1 problems``."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """Answer ``n`` with its noun in the right number, thousands separated.

    >>> count(1, "problem"), count(3, "country", "countries"), count(1_000, "row")
    ('1 problem', '3 countries', '1,000 rows')
    """
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"
