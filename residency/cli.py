"""The ``residency`` command: parse arguments, call the library, render the answer."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from residency import __version__, query
from residency._errors import InventoryError, ResidencyError
from residency.datamap import DataMap, load
from residency.store import Store

app = typer.Typer(
    name="residency",
    help="What data lives where, under which law. With no --inventory, every command "
    "uses the built-in demo organisation. Not legal advice.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

InventoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        "-i",
        help="Inventory YAML file, or folder with inventory.yaml "
        "(+ staff.csv, clients.csv). Default: the built-in demo organisation.",
    ),
]
StoredOpt = Annotated[
    str | None,
    typer.Option(
        "--stored",
        help="Use the inventory of this organisation name from the store "
        "instead of a file (see 'residency import').",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: a SQLite file path or a database URL "
        "(default: $RESIDENCY_DB or ./.residency/residency.db).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Console:
    # Piped output would otherwise wrap at 80 columns and split every evidence path.
    probe = Console()
    return Console(width=probe.width if probe.is_terminal else 200, soft_wrap=False)


def _err(message: str) -> None:
    Console(stderr=True, width=200).print(message, markup=False, highlight=False)


def user_errors(func: F) -> F:
    """Turn the library's user errors into a message on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InventoryError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(1) from None
        except ResidencyError as exc:
            _err(f"error: {exc}")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _map(inventory: Path | None, stored: str | None, db: str | None) -> DataMap:
    if stored is not None:
        if inventory is not None:
            msg = "give either --inventory or --stored, not both"
            raise ResidencyError(msg)
        return DataMap.from_inventory(Store(db).load_inventory(stored))
    return load(inventory)


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
@user_errors
def check(inventory: InventoryOpt = None) -> None:
    """Validate an inventory: print a summary, or every problem found (exit code 1)."""
    m = load(inventory)
    s = m.summary()
    console = _console()
    console.print(f"[bold]{s['organisation']}[/bold]: inventory is valid ({s['inventory_hash']})")
    table = Table("entity", "count", "countries")
    table.add_row("staff", str(s["staff"]), str(s["staff_countries"]))
    table.add_row("clients", str(s["clients"]), str(s["client_countries"]))
    table.add_row("systems", str(s["systems"]), "")
    table.add_row("sub-processors", str(s["subprocessors"]), "")
    console.print(table)
    countries = s["countries"]
    assert isinstance(countries, list)
    console.print(
        f"{len(countries)} countries and subdivisions covered: {', '.join(countries)}",
        highlight=False,
    )
    for warning in m.inventory.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)


@app.command()
@user_errors
def where(
    subject: Annotated[
        str | None,
        typer.Argument(
            help="client:<id>, staff:<id> or system:<id>. Omit for an overview of every client."
        ),
    ] = None,
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Where does a subject's data live: stored, processed, accessed, trained, with evidence."""
    m = _map(inventory, stored, db)
    if subject is None:
        _overview(m, as_json)
        return
    result = m.where(subject)
    if as_json:
        _print_json(
            {
                "subject": result.subject,
                "label": result.label,
                "origin": result.origin,
                "countries": result.countries,
                "locations": [_location_json(m, loc) for loc in result.locations],
            }
        )
        return
    console = _console()
    console.print(
        f"[bold]{result.label}[/bold] ({result.subject}), origin {result.origin}: "
        f"data reaches {len(result.countries)} countries: {', '.join(result.countries)}",
        highlight=False,
    )
    _locations_table(m, result.locations, console, show_subject=False)
    console.print("Not legal advice.", style="dim")


def _overview(m: DataMap, as_json: bool) -> None:
    rows = []
    for subject in m.subjects("client"):
        result = m.where(subject)
        by_kind = {k: sorted({loc.country for loc in result.by_kind(k)}) for k in query.KINDS}
        rows.append({"subject": subject, "label": result.label, "origin": result.origin, **by_kind})
    if as_json:
        _print_json(rows)
        return
    console = _console()
    console.print(f"[bold]{m.name}[/bold]: where each client's data lives", highlight=False)
    table = Table("client", "origin", *query.KINDS, show_lines=False)
    for row in rows:
        table.add_row(
            f"{row['label']} ({row['subject']})",
            row["origin"],
            *(" ".join(row[k]) for k in query.KINDS),
        )
    console.print(table)
    console.print(
        "Details and evidence: residency where client:<id>. Not legal advice.",
        style="dim",
        highlight=False,
    )


def _location_json(m: DataMap, loc: query.Location) -> dict[str, Any]:
    row = loc.as_row()
    row["data"] = list(loc.data)
    row["path"] = list(loc.path)
    row["evidence"] = m.path_text(loc.path)
    return row


def _locations_table(
    m: DataMap, locations: list[query.Location], console: Console, *, show_subject: bool
) -> None:
    columns = (["subject"] if show_subject else []) + [
        "country",
        "kind",
        "system",
        "recipient",
        "data",
        "evidence",
    ]
    table = Table(*columns, show_lines=False)
    for loc in sorted(locations, key=query._sort_key):
        cells = [loc.subject] if show_subject else []
        recipient = loc.recipient + (f" ({loc.detail})" if loc.detail else "")
        cells += [
            f"{loc.country} {loc.country_name}",
            loc.kind,
            loc.system,
            recipient,
            ", ".join(loc.data),
            " > ".join(loc.path),
        ]
        table.add_row(*cells)
    console.print(table)


@app.command()
@user_errors
def country(
    code: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 (DE) or 3166-2 (CA-QC) code.")],
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What lives in a country: whose data, which categories, through which systems and staff."""
    m = _map(inventory, stored, db)
    result = m.what_lives_in(code.strip().upper())
    if as_json:
        _print_json(
            {
                "country": result.country,
                "subjects": result.subjects,
                "categories": result.categories,
                "staff": result.staff,
                "locations": [_location_json(m, loc) for loc in result.locations],
            }
        )
        return
    console = _console()
    from residency.places import place_name

    console.print(
        f"[bold]{place_name(result.country)}[/bold] ({result.country}): data of "
        f"{len(result.subjects)} subjects; categories: {', '.join(result.categories)}; "
        f"{len(result.staff)} staff work from here",
        highlight=False,
    )
    _locations_table(m, result.locations, console, show_subject=True)
    console.print("Not legal advice.", style="dim")


@app.command("import")
@user_errors
def import_(
    path: Annotated[Path, typer.Argument(help="Inventory YAML file or folder.")],
    db: DbOpt = None,
) -> None:
    """Validate an inventory and store it (one transaction; same content again changes nothing)."""
    from residency.inventory import read_inventory

    inv = read_inventory(path)
    store = Store(db)
    result = store.import_inventory(inv, source=str(path))
    verb = "stored" if result.changed else "already stored, unchanged"
    counts = ", ".join(f"{v} {k}" for k, v in result.counts.items())
    _console().print(
        f"{result.name}: {verb} in {store.url} ({counts})", highlight=False, markup=False
    )


@app.command()
@user_errors
def stored(db: DbOpt = None) -> None:
    """List the inventories kept in the store."""
    table = Table("name", "country", "imported at", "content hash", "source")
    for record in Store(db).names():
        table.add_row(
            record.name,
            record.country,
            record.imported_at.isoformat(timespec="seconds"),
            record.content_hash[:19],
            record.source or "",
        )
    _console().print(table)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"residency {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """What data lives where, under which law."""


def main() -> None:
    """Run the command line (entry point of the ``residency`` script)."""
    app()
