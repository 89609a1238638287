"""YAML reading with YAML 1.2 booleans: ``NO`` is Norway, not false.

PyYAML follows YAML 1.1, where ``yes/no/on/off`` are booleans; country codes such as
``NO`` would silently become ``False``. Only ``true``/``false`` are booleans here, and an
impossible date (``2023-13-01``) stays text so validation can report it.

Inventories are untrusted, so they are read with :class:`BoundedLoader`: it composes the
document itself (in Python, over libyaml's events) to refuse what a data file never needs
before it can cost memory or time: aliases beyond a budget or referring to themselves,
tags outside the core schema, nesting deeper than the format, over-long values and lists,
numbers with absurd digit counts. Duplicate keys are collected as problems. Every refusal
is a :class:`InputError` carrying the line it happened at.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from residency.limits import Limits

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is much faster

_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
) | {"!", _CORE + "merge"}
_NUMBER_TAGS = (_CORE + "int", _CORE + "float")
_MERGE = _CORE + "merge"


class InputError(yaml.MarkedYAMLError):
    """The YAML is well-formed but refused: ``problem`` says why, ``problem_mark`` where."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class Loader(_Base):
    """Safe loader with YAML 1.2 booleans and lenient timestamps (for shipped data)."""


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


def clip(value: object, limit: int = 60) -> str:
    """Answer ``repr(value)``, shortened to about ``limit`` characters for a message."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit
        return "(a very long number)"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


class BoundedLoader(Loader):
    """Loader for untrusted inventories: bounded composition, located constructor errors."""

    limits: Limits = Limits()

    def __init__(self, stream: Any, limits: Limits | None = None) -> None:
        super().__init__(stream)
        if limits is not None:
            self.limits = limits
        self.problems: list[tuple[int, str, str]] = []  # (line, key, message), not fatal
        self._anchors: dict[str, Node] = {}
        self._sizes: dict[int, int] = {}
        self._open: set[int] = set()
        self._aliased = 0

    def get_single_node(self) -> Node | None:
        """Compose the single document of the stream, enforcing the limits."""
        self.get_event()  # stream start
        node = None
        event = self.get_event()
        if type(event) is not StreamEndEvent:
            node = self._compose(self.get_event(), 0)  # after the document start
            self.get_event()  # document end
            event = self.get_event()
        if type(event) is not StreamEndEvent:
            msg = "expected a single document, but found another one (remove the '---')"
            raise InputError(msg, event.start_mark)
        return node

    def _compose(self, event: Any, depth: int) -> Node:
        kind = type(event)
        if kind is AliasEvent:
            return self._alias(event)
        if depth > self.limits.depth:
            msg = f"nested too deeply; {self.limits.hint('depth')}"
            raise InputError(msg, event.start_mark)
        tag = event.tag
        if tag is not None and tag not in ALLOWED_TAGS:
            shown = tag.replace(_CORE, "!!")
            msg = (
                f"tag {clip(shown)} is not allowed: an inventory holds plain text, numbers, "
                "lists and mappings"
            )
            raise InputError(msg, event.start_mark)
        if kind is ScalarEvent:
            node: Node = self._scalar(event)
        elif kind is SequenceStartEvent:
            node = self._sequence(event, depth)
        elif kind is MappingStartEvent:
            node = self._mapping(event, depth)
        else:  # pragma: no cover - libyaml emits no other node event
            msg = "unexpected YAML event"
            raise InputError(msg, event.start_mark)
        if event.anchor is not None:
            self._anchors[event.anchor] = node
        return node

    def _alias(self, event: Any) -> Node:
        node = self._anchors.get(event.anchor)
        if node is None:
            msg = f"alias *{clip(event.anchor, 40)} names no anchor defined before it"
            raise InputError(msg, event.start_mark)
        if id(node) in self._open:
            msg = f"alias *{clip(event.anchor, 40)} refers to the value that contains it"
            raise InputError(msg, event.start_mark)
        self._aliased += self._sizes.get(id(node), 1)
        if self._aliased > self.limits.aliases:
            msg = f"aliases expand to too many values; {self.limits.hint('aliases')}"
            raise InputError(msg, event.start_mark)
        return node

    def _scalar(self, event: Any) -> ScalarNode:
        value = event.value
        if len(value) > self.limits.scalar_chars:
            msg = f"a value of {len(value):,} characters; {self.limits.hint('scalar_chars')}"
            raise InputError(msg, event.start_mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(ScalarNode, value, (event.implicit[0], tag != "!"))
        if tag in _NUMBER_TAGS and len(value) > self.limits.number_digits:
            digits = sum(c.isdigit() for c in value)
            if digits > self.limits.number_digits:
                msg = (
                    f"a number with {digits:,} digits; {self.limits.hint('number_digits')} "
                    "(quote it if it is text)"
                )
                raise InputError(msg, event.start_mark)
        return ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style)

    def _limit(self, depth: int) -> tuple[int, str]:
        if depth == 1:
            return self.limits.entries, "entries"
        return self.limits.list_items, "list_items"

    def _sequence(self, start: Any, depth: int) -> SequenceNode:
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(SequenceNode, None, start.implicit)
        node = SequenceNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if start.anchor is not None:
            self._anchors[start.anchor] = node
        limit, name = self._limit(depth)
        items = node.value
        sizes = self._sizes
        self._open.add(id(node))
        size = 1
        while True:
            event = self.get_event()
            if type(event) is SequenceEndEvent:
                break
            if len(items) >= limit:
                msg = f"a list of too many items; {self.limits.hint(name)}"
                raise InputError(msg, event.start_mark)
            child = self._compose(event, depth + 1)
            size += sizes.get(id(child), 1)
            items.append(child)
        node.end_mark = event.end_mark
        self._open.discard(id(node))
        sizes[id(node)] = size
        return node

    def _mapping(self, start: Any, depth: int) -> MappingNode:
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, start.implicit)
        node = MappingNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if start.anchor is not None:
            self._anchors[start.anchor] = node
        limit, name = self._limit(depth)
        limit = max(limit, 1_000)
        pairs = node.value
        sizes = self._sizes
        self._open.add(id(node))
        seen: dict[str, int] = {}
        size = 1
        while True:
            event = self.get_event()
            if type(event) is MappingEndEvent:
                break
            if len(pairs) >= limit:
                msg = f"a mapping of too many keys; {self.limits.hint(name)}"
                raise InputError(msg, event.start_mark)
            key = self._compose(event, depth + 1)
            if not isinstance(key, ScalarNode):
                msg = "a key must be plain text, not a list or mapping"
                raise InputError(msg, key.start_mark)
            value = self._compose(self.get_event(), depth + 1)
            if key.value in seen and key.tag != _MERGE:
                line = key.start_mark.line + 1
                message = (
                    f"duplicate key {clip(key.value)}: already given at line {seen[key.value]}"
                )
                self.problems.append((line, key.value, message))
            else:
                seen[key.value] = key.start_mark.line + 1
            size += 1 + sizes.get(id(value), 1)
            pairs.append((key, value))
        node.end_mark = event.end_mark
        self._open.discard(id(node))
        sizes[id(node)] = size
        return node


def _guarded(func: Any, kind: str) -> Any:
    def construct(loader: Any, node: Any) -> Any:
        try:
            return func(loader, node)
        except yaml.YAMLError:
            raise
        except (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError):
            msg = f"{clip(node.value)} is not {kind}"
            raise InputError(msg, node.start_mark) from None

    return construct


for _tag, _kind in (
    ("int", "a whole number"),
    ("float", "a number"),
    ("bool", "true or false"),
    ("null", "null"),
    ("timestamp", "a date"),
):
    BoundedLoader.add_constructor(
        _CORE + _tag, _guarded(BoundedLoader.yaml_constructors[_CORE + _tag], _kind)
    )


def safe_load(text: str) -> Any:
    """Parse YAML text with :class:`Loader` (shipped, trusted data)."""
    return yaml.load(text, Loader=Loader)


Problem = tuple[int | None, str, str]  # (line, field, what is wrong)


def load_document(text: str, limits: Any) -> tuple[Any, Node | None, list[Problem]]:
    """Read one YAML document under ``limits``: its data, its node, and its problems.

    A document that cannot be read gives ``(None, None, [the problem])``; one that reads
    may still carry located problems (a duplicate key, a bad tag) with its data.
    """
    try:
        loader = BoundedLoader(text, limits)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        if not isinstance(exc, InputError):
            problem = f"malformed YAML: {problem}"
            if "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
                problem += " (a name with a comma or colon in a flow {...} needs quotes)"
        return None, None, [(line, "yaml", problem)]
    return data, node, [(line, str(key)[:80], message) for line, key, message in loader.problems]


def line_map(root: Node, *, deep: bool = False) -> dict[tuple[Any, ...], int]:
    """Map each path below ``root`` (``("hosting", 0, "region")``) to its 1-based line.

    Without ``deep`` only the root's own entries are mapped (an inventory maps each entry
    on its own, so the cost stays linear in the size of the file). A node reached twice
    (a YAML alias) is mapped once.
    """
    lines: dict[tuple[Any, ...], int] = {}
    stack: list[tuple[tuple[Any, ...], Node]] = [((), root)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if (path and not deep) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                lines[child] = key_node.start_mark.line + 1
                stack.append((child, value_node))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                stack.append((child, item))
    return lines
