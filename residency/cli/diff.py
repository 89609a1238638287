"""``residency diff``: what changed in meaning between two versions of an inventory."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from residency._errors import ResidencyError
from residency._words import count
from residency.cli import (
    AsOfOpt,
    DbOpt,
    JsonOpt,
    NoPagerOpt,
    _console,
    _err,
    _footer,
    _map,
    _print_json,
    app,
    paged,
    user_errors,
)

if TYPE_CHECKING:
    from residency.datamap import DataMap
    from residency.diff import InventoryDiff
    from residency.whatif import Difference

SHOWN = 50  # differences printed per area; --json has them all
EVIDENCE_SHOWN = 3  # evidence lines printed per difference
MARKS = {"appears": "+", "disappears": "-", "changes": "~"}
TITLES = {
    "findings": "Findings",
    "clauses": "Client residency clauses",
    "ai_training": "AI-training exposures",
    "transfers": "Transfers",
    "locations": "Locations",
}


@app.command("diff")
@user_errors
@paged
def diff_command(
    old: Annotated[
        str | None,
        typer.Argument(
            help="The old inventory: a file or folder, or a stored NAME or NAME@N. "
            "With --git: the inventory's path in the repository.",
            show_default=False,
        ),
    ] = None,
    new: Annotated[
        str | None,
        typer.Argument(
            help="The new inventory: a file or folder, or a stored NAME or NAME@N.",
            show_default=False,
        ),
    ] = None,
    git: Annotated[
        str | None,
        typer.Option(
            "--git",
            help="REV1..REV2: compare the inventory at PATH in two git revisions "
            "(REV1..: with the working tree).",
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="high, medium or low: exit code 1 when a finding this severe or worse "
            "is new or worse.",
        ),
    ] = None,
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """What changed in meaning between two inventories: locations, transfers, findings,
    AI training and client clauses, with their evidence."""
    from residency import diff as library
    from residency.inventory import read_inventory
    from residency.rules import SEVERITIES

    if fail_on is not None and fail_on not in SEVERITIES:
        msg = f"unknown --fail-on {fail_on!r}: expected one of {', '.join(SEVERITIES)}"
        raise ResidencyError(msg)
    if git is not None:
        if old is None or new is not None:
            msg = "with --git give one inventory path: residency diff --git REV1..REV2 PATH"
            raise ResidencyError(msg)
        rev_old, rev_new = library.split_revisions(git)
        before = library.read_git(rev_old, old)
        after = library.read_git(rev_new, old) if rev_new else read_inventory(old)
        result = library.diff(
            before,
            after,
            as_of=as_of,
            old_label=f"{rev_old}:{old}",
            new_label=f"{rev_new}:{old}" if rev_new else f"{old} (working tree)",
        )
    else:
        if old is None or new is None:
            msg = "give two inventories: residency diff OLD NEW (or --git REV1..REV2 PATH)"
            raise ResidencyError(msg)
        (old_label, a), (new_label, b) = _side(old, db), _side(new, db)
        result = library.diff(a, b, as_of=as_of, old_label=old_label, new_label=new_label)
    failing = result.failing(fail_on) if fail_on is not None else []
    if as_json:
        _print_json(result.to_dict())
    else:
        _print(result)
        _footer(_console(), "Every difference with all its evidence: --json.", as_of=as_of)
    if failing:
        _err(
            f"--fail-on {fail_on}: {count(len(failing), 'finding')} at {fail_on} or worse "
            f"{'is' if len(failing) == 1 else 'are'} new or worse: "
            + "; ".join(f"{f.severity} {f.rule} {f.subject}" for f in failing[:10])
            + (f"; and {len(failing) - 10} more" if len(failing) > 10 else "")
        )
        raise typer.Exit(1)


def _side(ref: str, db: str | None) -> tuple[str, DataMap]:
    """Open one side of a diff: an inventory path, or a stored ``NAME`` / ``NAME@N``."""
    path = Path(ref)
    if path.exists():
        return ref, _map(path, None, db)
    if os.sep in ref or "/" in ref or path.suffix.lower() in (".yaml", ".yml", ".csv"):
        msg = f"{ref}: no such file or folder (expected an inventory, or a stored NAME@N)"
        raise ResidencyError(msg)
    return f"stored {ref}", _map(None, ref, db)


def _print(result: InventoryDiff) -> None:
    console = _console()

    def say(text: str, style: str | None = None) -> None:
        console.print(text, style=style, markup=False, highlight=False)

    say(f"{result.old} -> {result.new}, as of {result.as_of}")
    if result.empty:
        say(
            "No change in meaning: the same locations, transfers, findings, AI training "
            "and clauses."
        )
        return
    if result.inventory:
        say("\nIn the inventory:", "bold")
        for line in result.inventory:
            say(f"  {line}")
    if result.subprocessors:
        say("\nSub-processors:", "bold")
        for change in result.subprocessors:
            say(f"  {change.words}")
    counts = result.counts()
    say(
        "\n"
        + "; ".join(
            f"{TITLES[area].lower()}: {c['new']} new, {c['gone']} gone, {c['changed']} changed"
            for area, c in counts.items()
            if any(c.values())
        )
    )
    for area, title in TITLES.items():
        diffs = getattr(result, area)
        if diffs:
            say(f"\n{title}:", "bold")
            _print_area(diffs, say, judged=area in ("findings", "clauses"))


def _print_area(diffs: list[Difference], say: Any, *, judged: bool) -> None:
    # A new finding or broken clause is bad news; a new location is just news.
    styles = {"appears": "red", "disappears": "green", "changes": "yellow"}
    for d in diffs[:SHOWN]:
        what = d.after if d.change != "disappears" else d.before
        was = f" (was: {d.before})" if d.change == "changes" else ""
        say(f"  {MARKS[d.change]} {d.subject}: {what}{was}", styles[d.change] if judged else None)
        for line in d.evidence[:EVIDENCE_SHOWN]:
            say(f"      {line}", "dim")
        if len(d.evidence) > EVIDENCE_SHOWN:
            more = count(len(d.evidence) - EVIDENCE_SHOWN, "more evidence line")
            say(f"      ... {more} (--json)", "dim")
    if len(diffs) > SHOWN:
        say(f"  ... and {len(diffs) - SHOWN} more (--json)")
    sys.stdout.flush()
