"""Counted nouns for messages: ``1 problem``, ``2 problems``, never ``1 problems``."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """Answer ``n`` with its noun in the right number, thousands separated.

    >>> count(1, "problem"), count(3, "country", "countries"), count(1_000, "row")
    ('1 problem', '3 countries', '1,000 rows')
    """
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"


def some(items: list[str], limit: int, sep: str = ", ") -> str:
    """Answer the first ``limit`` items, then how many more there are.

    >>> some(["a", "b", "c"], 2), some(["a"], 2)
    ('a, b and 1 more', 'a')
    """
    more = len(items) - limit
    return sep.join(items[:limit]) + (f" and {more} more" if more > 0 else "")
