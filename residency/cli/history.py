"""``residency history NAME``: the snapshots the store keeps of one organisation."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from residency.cli import DbOpt, JsonOpt, _console, _store, app, user_errors


@app.command()
@user_errors
def history(
    name: Annotated[str, typer.Argument(help="The organisation's name (see 'residency stored').")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the snapshots of a stored organisation, oldest first: when, by whom, content
    hash, counts. Read one with --stored NAME@N (or NAME@YYYY-MM-DD)."""
    snapshots = _store.Store(db).history(name)
    if as_json:
        typer.echo(json.dumps({"snapshots": [s.to_dict() for s in snapshots]}, indent=2))
        return
    table = Table("#", "imported at (UTC)", "by", "content hash", "staff", "clients", "systems",
                  "source")  # fmt: skip
    for s in snapshots:
        table.add_row(
            str(s.number),
            s.imported_at.isoformat(timespec="seconds"),
            s.imported_by or "",
            s.content_hash[:19],
            *(str(s.counts[k]) for k in ("staff", "clients", "systems")),
            s.source or "",
        )
    console = _console()
    console.print(table)
    console.print(
        f"Read one: residency where --stored '{name}@N' (or '{name}@YYYY-MM-DD').",
        highlight=False,
        markup=False,
        style="dim",
    )
