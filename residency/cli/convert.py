"""``residency convert``: draft an inventory from another data-map format (docs/interop.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from residency._words import count
from residency.cli import _console, _err, app, user_errors

convert_app = typer.Typer(
    name="convert",
    help="Draft an inventory from a data map kept in another format (Fides, Transcend).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(convert_app, name="convert")

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Inventory file to write (YAML).")]


@convert_app.command("fides")
@user_errors
def fides(
    paths: Annotated[
        list[Path], typer.Argument(help="Fides manifests (YAML or JSON) or folders of them.")
    ],
    out: OutOpt,
) -> None:
    """Draft an inventory from Fides manifests: each missing fact is marked # TODO."""
    from residency._files import write_atomically
    from residency.interop.fides_import import convert_fides

    draft = convert_fides(paths)
    text = draft.to_yaml()
    write_atomically(out, lambda fh: fh.write(text))
    for skipped in draft.skipped:
        _err(f"warning: {skipped}")
    for note in draft.notes:
        _err(f"note: {note}")
    _wrote(out, draft)


@convert_app.command("transcend")
@user_errors
def transcend(
    path: Annotated[Path, typer.Argument(help="Transcend's transcend.yml (its data map as code).")],
    out: OutOpt,
) -> None:
    """Draft an inventory from a transcend.yml: each missing fact is marked # TODO."""
    from residency._files import write_atomically
    from residency.interop.transcend_import import convert_transcend

    draft = convert_transcend(path)
    text = draft.to_yaml()
    write_atomically(out, lambda fh: fh.write(text))
    warnings = {str(w) for w in [*draft.conflicts, *draft.ambiguous]}
    for note in draft.notes:
        _err(f"{'warning' if note in warnings else 'note'}: {note}")
    _wrote(out, draft)


def _wrote(out: Path, draft: Any) -> None:
    """Say where the draft went and what is left to fill."""
    systems = count(len(draft.data["systems"]), "system")
    todos = count(len(draft.todos), "missing fact")
    _console().print(
        f"wrote {out}: a draft inventory of {systems} with {todos} marked # TODO; "
        f"fill them, then run: residency check -i {out}",
        highlight=False,
        markup=False,
    )
