"""Bounds on what an inventory may contain, so untrusted input costs bounded time and memory.

Each limit is far above what a real organisation needs and can be raised with an
environment variable (``RESIDENCY_MAX_FILE_MB=200``) for a genuinely huge one; every
message that hits a limit names the variable. docs/inventory.md lists them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from residency._errors import ResidencyError

ENV_PREFIX = "RESIDENCY_MAX_"


@dataclass(frozen=True)
class Limits:
    """The bounds applied while reading an inventory (see docs/inventory.md, "Limits")."""

    file_mb: int = 32  # one inventory file (YAML or CSV), and an upload
    entries: int = 100_000  # entries in one section (staff, clients, systems) or CSV rows
    list_items: int = 10_000  # items in any other list (hosting, sub-processors, ...)
    scalar_chars: int = 10_000  # characters in one value or CSV cell
    aliases: int = 10_000  # YAML nodes reached through aliases, in total
    depth: int = 20  # nesting of YAML mappings and lists
    number_digits: int = 50  # digits in one number
    problems: int = 50  # problems printed before "and N more"
    zip_members: int = 1_000  # members of an uploaded zip

    @property
    def file_bytes(self) -> int:
        """Answer the largest file size accepted, in bytes."""
        return self.file_mb * 1024 * 1024

    @staticmethod
    def env_name(name: str) -> str:
        """Answer the environment variable that raises limit ``name``."""
        return f"{ENV_PREFIX}{name.upper()}"

    def hint(self, name: str) -> str:
        """Answer the sentence a message ends with when limit ``name`` is hit."""
        return f"the limit is {getattr(self, name):,}; raise it with {self.env_name(name)}=N"


def current() -> Limits:
    """Answer the limits in force: the defaults, raised or lowered by the environment."""
    values: dict[str, int] = {}
    for f in fields(Limits):
        raw = os.environ.get(Limits.env_name(f.name))
        if raw is None:
            continue
        try:
            value = int(raw.strip().replace("_", ""))
        except ValueError:
            value = 0
        if value <= 0:
            msg = f"{Limits.env_name(f.name)}={raw[:40]!r}: expected a positive whole number"
            raise ResidencyError(msg)
        values[f.name] = value
    return Limits(**values)
