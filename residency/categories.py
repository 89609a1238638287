"""Data categories: inventory short names mapped to fideslang's taxonomy.

>>> from residency.categories import fides_key
>>> fides_key("messages")
'user.content.private'
>>> fides_key("user.health_and_medical")      # a fideslang key is its own mapping
'user.health_and_medical'
>>> fides_key("cat_pictures") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from residency._resources import data_file
from residency._yaml import safe_load

TRAIN_AI_USE = "train_ai_system"  # fideslang data use


@dataclass(frozen=True)
class Category:
    """One data category and its fideslang key."""

    name: str
    fides: str
    classes: tuple[str, ...]
    description: str


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CategoryEntry(BaseModel):
    """One entry of data/categories.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    fides: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]*$")]
    classes: list[_Text] = Field(default_factory=list)
    description: _Text


class CategoryFile(BaseModel):
    """data/categories.yaml: the categories inventories may name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: list[CategoryEntry] = Field(min_length=1)


@cache
def categories() -> dict[str, Category]:
    """Return the shipped categories by short name (the file validated by its model)."""
    raw = safe_load(data_file("categories.yaml").read_text(encoding="utf-8"))
    shipped = CategoryFile.model_validate(raw)
    return {
        c.name: Category(c.name, c.fides, tuple(c.classes), c.description)
        for c in shipped.categories
    }


@cache
def fides_keys() -> frozenset[str]:
    """Return every data category key of fideslang's default taxonomy."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(c.fides_key for c in DEFAULT_TAXONOMY.data_category)


@cache
def fides_uses() -> frozenset[str]:
    """Return every data use key of fideslang's default taxonomy (``train_ai_system``...)."""
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    return frozenset(u.fides_key for u in DEFAULT_TAXONOMY.data_use)


def fides_key(name: str) -> str | None:
    """Map an inventory category to its fideslang key, or None when it has no mapping."""
    known = categories().get(name)
    if known is not None:
        return known.fides
    return name if name in fides_keys() else None


def in_class(name: str, cls: str) -> bool:
    """Tell whether a category belongs to a class (``sensitive``, ``hr``, ``content``)."""
    known = categories().get(name)
    return known is not None and cls in known.classes


def category_classes(name: str) -> tuple[str, ...]:
    """Return the classes of a category (empty when it is not in data/categories.yaml)."""
    known = categories().get(name)
    return known.classes if known is not None else ()
