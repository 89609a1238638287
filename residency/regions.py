"""Cloud regions as data: provider + region code -> city and country.

The table is ``data/regions/cloud-regions.csv``; every row names its source.

>>> from residency.regions import resolve
>>> resolve("aws", "eu-central-1").country
'DE'
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from residency._resources import data_file

PROVIDER_ALIASES = {
    "aws": "aws",
    "amazon": "aws",
    "amazon web services": "aws",
    "gcp": "gcp",
    "google": "gcp",
    "google cloud": "gcp",
    "google_cloud": "gcp",
    "azure": "azure",
    "microsoft": "azure",
    "microsoft azure": "azure",
}


@dataclass(frozen=True)
class Region:
    """One cloud region and where it physically is."""

    provider: str
    region: str
    name: str
    city: str
    country: str
    subdivision: str
    confidence: str
    source: str

    @property
    def place(self) -> str:
        """Return the most precise ISO code: the subdivision where it matters, else the country."""
        return self.subdivision or self.country


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class RegionRow(BaseModel):
    """One row of data/regions/cloud-regions.csv, as docs/jurisdiction-data.md describes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["aws", "gcp", "azure"]
    region: _Text
    name: _Text
    city: str
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    subdivision: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2}-[A-Z0-9]{1,3})?$")]
    confidence: _Text  # confirmed, or how the location was inferred
    source: _Text
    note: str
    retrieved: date


class RegionDataError(ValueError):
    """data/regions/cloud-regions.csv does not follow its format (the row says where)."""


@cache
def regions() -> dict[tuple[str, str], Region]:
    """Return every known region keyed by (provider, region code)."""
    text = data_file("regions", "cloud-regions.csv").read_text(encoding="utf-8")
    out: dict[tuple[str, str], Region] = {}
    for number, raw in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            r = RegionRow.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(map(str, err["loc"]))
            msg = f"cloud-regions.csv row {number}: {where}: {err['msg']}"
            raise RegionDataError(msg) from None
        key = (r.provider, r.region)
        if key in out:
            msg = f"cloud-regions.csv row {number}: {r.provider}/{r.region} is listed twice"
            raise RegionDataError(msg)
        out[key] = Region(
            r.provider, r.region, r.name, r.city, r.country, r.subdivision, r.confidence, r.source
        )
    return out


def canonical_provider(provider: str) -> str | None:
    """Map a provider name as users write it (``Amazon``, ``gcp``) to its table key."""
    return PROVIDER_ALIASES.get(provider.strip().lower())


def resolve(provider: str, region: str) -> Region | None:
    """Answer where a provider's region is, or None when the table does not know it."""
    key = canonical_provider(provider)
    if key is None:
        return None
    return regions().get((key, region.strip().lower()))


def region_problem(provider: str, region: str) -> str | None:
    """Say why a provider/region pair cannot be resolved, or None when it can."""
    key = canonical_provider(provider)
    if key is None:
        known = ", ".join(sorted(set(PROVIDER_ALIASES.values())))
        return (
            f"unknown cloud provider {provider!r}: expected one of {known} "
            "(or give the hosting as {country: XX})"
        )
    if resolve(provider, region) is not None:
        return None
    codes = [r for (p, r) in regions() if p == key]
    close = difflib.get_close_matches(region.strip().lower(), codes, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown {key} region {region!r}: expected a region code from data/regions{hint}"
