"""YAML reading with YAML 1.2 booleans: ``NO`` is Norway, not false.

PyYAML follows YAML 1.1, where ``yes/no/on/off`` are booleans; country codes such as
``NO`` would silently become ``False``. Only ``true``/``false`` are booleans here, and an
impossible date (``2023-13-01``) stays text so validation can report it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is much faster


class Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 booleans and lenient timestamps."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _lenient_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


Loader.add_constructor("tag:yaml.org,2002:timestamp", _lenient_timestamp)


def safe_load(text: str) -> Any:
    """Parse YAML text with :class:`Loader`."""
    return yaml.load(text, Loader=Loader)
