"""The CLI's terminal: a console sized to it, and a pager for answers longer than the screen.

Written to a file or a pipe, lines are never wrapped (a message stays one line that grep
finds) and tables are laid out at ``PIPE_WIDTH`` columns.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console

PIPE_WIDTH = 200  # columns of a table written to a file or a pipe
MIN_LAST = 24  # columns the last column of a plain table needs beside the others
STACK_INDENT = 4
NO_PAGER = "RESIDENCY_NO_PAGER"  # set to 1 (or any value but 0) to never page


def console() -> Console:
    """Answer a console for stdout: the terminal's width, or unwrapped lines in a pipe."""
    probe = Console()
    # markup=False: names and notes come from the inventory and are never rich markup.
    if probe.is_terminal:
        return Console(width=probe.width, soft_wrap=False, markup=False)
    return Console(width=PIPE_WIDTH, soft_wrap=True, markup=False)


def pager_allowed() -> bool:
    """Tell whether the environment allows a pager (``RESIDENCY_NO_PAGER`` unset or 0)."""
    return os.environ.get(NO_PAGER, "").strip() in ("", "0")


class _Screenful(io.StringIO):
    """Holds what a command prints to the terminal until it is known to fit the screen."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return True  # styles and the terminal's width, as if printed directly

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.terminal, "encoding", None) or "utf-8"


@contextmanager
def paged(enabled: bool = True) -> Iterator[None]:
    """Page what the block prints when stdout is a terminal and it is longer than the screen.

    Off when ``enabled`` is False (``--no-pager``), when ``RESIDENCY_NO_PAGER=1``, or when
    stdout is a file or a pipe. The pager is ``$PAGER``, else ``less`` if installed.
    """
    terminal = sys.stdout
    if not (enabled and pager_allowed() and terminal.isatty()):
        yield
        return
    held = _Screenful(terminal)
    sys.stdout = held
    try:
        yield
    finally:
        sys.stdout = terminal
        show(held.getvalue(), terminal)


def show(text: str, terminal: TextIO) -> None:
    """Write ``text`` to the terminal, through the pager when it is longer than the screen."""
    lines = text.count("\n")
    command = os.environ.get("PAGER", "").strip() or ("less" if shutil.which("less") else "")
    if lines < shutil.get_terminal_size().lines or not command:
        terminal.write(text)
        terminal.flush()
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")  # colours, no screen clearing, quit if it fits after all
    encoding = getattr(terminal, "encoding", None) or "utf-8"
    terminal.flush()
    try:
        # A shell command, as PAGER is meant to be (git and pydoc run it the same way).
        pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        terminal.write(text)
        terminal.flush()
        return
    assert pager.stdin is not None
    try:
        pager.stdin.write(text.encode(encoding, "replace"))
        pager.stdin.close()
    except BrokenPipeError:
        pass  # the reader quit the pager before the end
    while True:
        try:
            pager.wait()
            break
        except KeyboardInterrupt:
            continue  # Ctrl+C belongs to the pager; wait for it to end


def columns(
    headers: list[str],
    rows: list[list[str]],
    width: int | None,
    *,
    right: frozenset[int] = frozenset(),
) -> Iterator[str]:
    r"""Lay out ``rows`` as aligned plain lines (fast at any length), within ``width`` columns.

    Every column but the last is as wide as its widest cell and never wrapped, so an id
    stays whole. The last column takes the rest of the line and wraps at spaces under
    itself, or, with less than ``MIN_LAST`` columns left, goes on lines of its own below
    the row (``width=None``: nothing wraps). Columns in ``right`` are right-aligned.

    >>> print("\n".join(columns(["id", "name"], [["a-1", "one two three"]], 30)))
    id   name
    ---  ----
    a-1  one two three
    >>> print("\n".join(columns(["id", "n", "name"], [["a-1", "2", "one two three"]], 12)))
    id   n
        name
    ---  -
    a-1  2
        one two
        three
    """
    import textwrap

    fixed = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers[:-1])]
    indent = sum(w + 2 for w in fixed)
    stacked = width is not None and width - indent < MIN_LAST
    room = (width - (STACK_INDENT if stacked else indent)) if width else 0

    def wrapped(text: str) -> list[str]:
        return (
            textwrap.wrap(text, room, break_long_words=False, break_on_hyphens=False)
            if room
            else []
        ) or [text]

    def line(cells: list[str]) -> Iterator[str]:
        head = "".join(
            (c.rjust(w) if i in right else c.ljust(w)) + "  "
            for i, (c, w) in enumerate(zip(cells[:-1], fixed, strict=True))
        )
        last = wrapped(cells[-1]) if cells[-1] else []
        if stacked:
            yield head.rstrip()
            yield from (" " * STACK_INDENT + part for part in last)
            return
        yield (head + (last[0] if last else "")).rstrip()
        yield from (" " * indent + part for part in last[1:])

    yield from line(headers)
    rule = ["-" * w for w in fixed]
    yield "  ".join(rule) + ("" if stacked else "  " + "-" * len(headers[-1]))
    for row in rows:
        yield from line(row)
