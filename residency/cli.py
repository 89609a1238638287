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

from residency import __version__, query, rules
from residency._errors import InventoryError, ResidencyError
from residency.datamap import DataMap, load, parse_as_of
from residency.jurisdictions import legal_data
from residency.places import place_name, place_problem
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
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="Judge the law as it stood on this date (YYYY-MM-DD). Default: today."
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def _console() -> Console:
    # Piped output would otherwise wrap at 80 columns and split every evidence path.
    # markup=False: names and notes come from the inventory and are never rich markup.
    probe = Console()
    return Console(width=probe.width if probe.is_terminal else 200, soft_wrap=False, markup=False)


def _err(message: str) -> None:
    # Plain text: no markup parsing, no wrapping, and undecodable characters escaped.
    stream = sys.stderr
    text = message + "\n"
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
    stream.flush()


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


def _footer(console: Console, text: str = "") -> None:
    """Close a table with a dim hint, the legal data's date and the not-legal-advice note."""
    parts = [text, f"Legal data as of {legal_data().as_of}.", "Not legal advice."]
    console.print(" ".join(p for p in parts if p), style="dim", highlight=False)


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
@user_errors
def check(inventory: InventoryOpt = None) -> None:
    """Validate an inventory: print a summary, or every problem found (exit code 1)."""
    m = load(inventory)
    s = m.summary()
    console = _console()
    console.print(f"{s['organisation']}: inventory is valid ({s['inventory_hash']})")
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
        f"{result.label} ({result.subject}), origin {result.origin}: "
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
    console.print(f"{m.name}: where each client's data lives", highlight=False)
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
        f"{place_name(result.country)} ({result.country}): data of "
        f"{len(result.subjects)} subjects; categories: {', '.join(result.categories)}; "
        f"{len(result.staff)} staff work from here",
        highlight=False,
    )
    _locations_table(m, result.locations, console, show_subject=True)
    console.print("Not legal advice.", style="dim")


@app.command()
@user_errors
def transfers(
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this subject (client:<id>, staff:<id>).")
    ] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every cross-border transfer with its legal basis, instrument, TIA flag and sources."""
    m = _map(inventory, stored, db)
    found = m.transfers(subject, as_of=as_of)
    if as_json:
        _print_json([t.as_dict() for t in found])
        return
    console = _console()
    counts: dict[str, int] = {}
    for t in found:
        counts[t.basis] = counts.get(t.basis, 0) + 1
    summary = ", ".join(f"{counts[b]} {b}" for b in rules.BASES if b in counts)
    day = parse_as_of(as_of).isoformat()
    console.print(f"{m.name}: {len(found)} transfers as of {day} ({summary})", highlight=False)
    table = Table(
        "subject", "from > to", "kind", "system", "recipient", "basis", "instrument", "TIA", "notes"
    )
    for t in found:
        loc = t.location
        table.add_row(
            loc.subject,
            f"{t.origin} > {loc.country}",
            loc.kind,
            loc.system,
            loc.recipient,
            t.basis,
            t.instrument or "",
            "yes" if t.tia_required else "",
            " | ".join(t.notes),
        )
    console.print(table)
    _footer(console, "Sources per transfer: --json.")


@app.command()
@user_errors
def findings(
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a lawyer must act on, most severe first, with evidence and legal sources."""
    m = _map(inventory, stored, db)
    found = m.findings(as_of=as_of)
    if as_json:
        _print_json([f.as_dict() for f in found])
        return
    console = _console()
    day = parse_as_of(as_of).isoformat()
    by_severity = {s: sum(f.severity == s for f in found) for s in rules.SEVERITIES}
    console.print(
        f"{m.name}: {len(found)} findings as of {day} ("
        + ", ".join(f"{n} {s}" for s, n in by_severity.items())
        + ")",
        highlight=False,
    )
    summary = Table("severity", "rule", "subjects", "countries", title="Summary")
    for (severity, rule), group in _group_findings(found).items():
        countries = sorted({c for f in group for c in f.countries})
        summary.add_row(severity, rule, str(len(group)), " ".join(countries))
    console.print(summary)
    table = Table("severity", "rule", "subject", "countries", "what to act on", show_lines=True)
    for f in found:
        table.add_row(f.severity, f.rule, f.subject, " ".join(f.countries), f.explanation)
    console.print(table)
    _footer(console, "Evidence paths and sources: --json or residency export.")


@app.command()
@user_errors
def ai(
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Whose data went into which vendor's AI models, from which jurisdictions, how long."""
    m = _map(inventory, stored, db)
    found = m.ai_exposure(as_of=as_of)
    if as_json:
        _print_json([e.as_dict() for e in found])
        return
    console = _console()
    day = parse_as_of(as_of).isoformat()
    by_system: dict[str, list[Any]] = {}
    for e in found:
        by_system.setdefault(e.system_id, []).append(e)
    console.print(
        f"{m.name}: {len(by_system)} systems train AI models on the data of "
        f"{len({e.subject for e in found})} subjects, as of {day}",
        highlight=False,
    )
    table = Table(
        "system",
        "vendor",
        "default",
        "window",
        "opted out",
        "subjects",
        "origins",
        "data",
        show_lines=True,
    )
    for exposures in by_system.values():
        e = exposures[0]
        starts = sorted({str(x.start) for x in exposures if x.start}) or ["unrecorded"]
        window = f"{starts[0]} to {e.until or 'today'}"
        clients = sorted(x.subject for x in exposures if x.subject.startswith("client:"))
        staff = [x for x in exposures if x.subject.startswith("staff:")]
        subjects = f"{len(clients)} clients: {' '.join(c.split(':', 1)[1] for c in clients)}"
        subjects += f"; {len(staff)} staff" if staff else ""
        table.add_row(
            f"{e.system} ({e.scope or 'scope unknown'})",
            f"{e.vendor} ({e.vendor_country})",
            e.default,
            window,
            str(e.until) if not e.ongoing else "no",
            subjects,
            " ".join(sorted({x.origin for x in exposures})),
            ", ".join(sorted({c for x in exposures for c in x.data})),
        )
    console.print(table)
    _footer(console, "Findings on this: residency findings (ai.* rules). Details: --json.")


@app.command()
@user_errors
def whatif(
    changes: Annotated[
        list[str] | None,
        typer.Argument(
            help="Changes: opt-out:SYSTEM[@DATE], move:SYSTEM=PROVIDER/REGION or =CC, "
            "remove-subprocessor:SYSTEM=NAME, replace-subprocessor:SYSTEM=OLD>NEW@CC[;CC], "
            "add-safeguard:SYSTEM=NAME, stop-access:CC=CLIENT (or =*), offboard:SYSTEM."
        ),
    ] = None,
    opt_out: Annotated[
        list[str] | None,
        typer.Option("--opt-out", help="SYSTEM[@DATE]: opt out of its AI training."),
    ] = None,
    move: Annotated[
        list[str] | None, typer.Option("--move", help="SYSTEM=PROVIDER/REGION or SYSTEM=CC.")
    ] = None,
    offboard: Annotated[
        list[str] | None, typer.Option("--offboard", help="SYSTEM: stop using it.")
    ] = None,
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What changes if you opt out, move, offboard, add a safeguard or stop access (never saved)."""
    texts = list(changes or [])
    texts += [f"opt-out:{x}" for x in opt_out or []]
    texts += [f"move:{x}" for x in move or []]
    texts += [f"offboard:{x}" for x in offboard or []]
    if not texts:
        msg = "give at least one change, e.g. --opt-out slack or move:slack=aws/eu-central-1"
        raise ResidencyError(msg)
    m = _map(inventory, stored, db)
    result = m.what_if(texts, as_of=as_of)
    if as_json:
        _print_json(result.as_dict())
        return
    console = _console()
    console.print(
        f"{m.name}, as of {result.as_of}: what if we " + "; ".join(result.changes),
        highlight=False,
    )
    counts = {
        area: {c: sum(d.change == c for d in diffs) for c in ("disappears", "appears", "changes")}
        for area, diffs in (
            ("findings", result.findings),
            ("AI training", result.ai_training),
            ("transfers", result.transfers),
            ("locations", result.locations),
        )
    }
    summary = Table("", "disappear", "appear", "change", title="Difference")
    for area, c in counts.items():
        summary.add_row(area, str(c["disappears"]), str(c["appears"]), str(c["changes"]))
    console.print(summary)
    table = Table("area", "change", "subject", "rule / basis", "before", "after", show_lines=True)
    for d in [*result.findings, *result.ai_training]:
        table.add_row(d.area, d.change, d.subject, d.rule, d.before, d.after)
    console.print(table)
    _footer(
        console,
        f"{len(result.remaining)} findings remain. Transfers and locations: --json. "
        "Nothing was saved.",
    )


def _group_findings(found: list[Any]) -> dict[tuple[str, str], list[Any]]:
    groups: dict[tuple[str, str], list[Any]] = {}
    for f in found:
        groups.setdefault((f.severity, f.rule), []).append(f)
    return groups


@app.command()
@user_errors
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
    as_of: AsOfOpt = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="json (the full export) or csv (the transfers register)."),
    ] = "json",
) -> None:
    """Write the JSON export for legal review (schema residency-export/1), or the CSV register."""
    from residency.export import to_json, transfers_csv

    if fmt not in ("json", "csv"):
        msg = f"unknown --format {fmt!r}: expected json or csv"
        raise ResidencyError(msg)
    m = _map(inventory, stored, db)
    document = m.export(as_of=as_of)
    text = to_json(document) if fmt == "json" else transfers_csv(document)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        msg = f"cannot write {out}: {exc.strerror}"
        raise ResidencyError(msg) from None
    _console().print(
        f"wrote {out} ({len(document['transfers'])} transfers, "
        f"{len(document['findings'])} findings, as of {document['as_of']})",
        highlight=False,
        markup=False,
    )


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the export."""
    from residency.export import schema as export_schema

    _print_json(export_schema())


@app.command()
@user_errors
def jurisdictions(
    as_json: JsonOpt = False,
    country: Annotated[
        str | None, typer.Option("--country", help="Only this country's regimes and facts.")
    ] = None,
) -> None:
    """List the legal data: regimes with their as-of dates, and which countries have no data."""
    data = legal_data()
    coverage = data.coverage()
    if country:
        code = country.strip().upper()
        problem = place_problem(code)
        if problem:
            raise ResidencyError(problem)
        coverage = [
            {
                "code": code,
                "name": place_name(code),
                "regimes": [r.id for r in data.regimes_for(code)],
            }
        ]
    regimes = [
        {
            "id": r.id,
            "name": r.name,
            "applies_to": r.applies_to,
            "as_of": r.as_of.isoformat(),
            "retrieved": r.retrieved.isoformat(),
            "confidence": r.confidence,
            "unconfirmed": r.unconfirmed,
        }
        for r in data.regimes
    ]
    if as_json:
        _print_json(
            {
                "as_of": data.as_of.isoformat(),
                "content_hash": data.content_hash,
                "regimes": regimes,
                "coverage": coverage,
            }
        )
        return
    console = _console()
    table = Table("regime", "name", "applies to", "as of", "confidence", "unconfirmed")
    shown = {r for row in coverage for r in row["regimes"]}  # type: ignore[attr-defined]
    for r in regimes:
        if country is None or r["id"] in shown:
            table.add_row(
                r["id"],
                r["name"],
                " ".join(r["applies_to"]),
                r["as_of"],
                r["confidence"],
                str(len(r["unconfirmed"])),
            )
    console.print(table)
    missing = [row["code"] for row in coverage if not row["regimes"]]
    covered = len(coverage) - len(missing)
    console.print(
        f"{covered} of {len(coverage)} countries covered; no data (transfers from "
        f"them get needs_review): {' '.join(missing) or 'none'}",
        highlight=False,
    )
    _footer(console)


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


@app.command("app")
@user_errors
def app_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8501,
) -> None:
    """Start the Streamlit app (world map, findings, what-if) on http://127.0.0.1:PORT."""
    import os

    folder = app_folder()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(folder / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    _err(f"residency app on http://127.0.0.1:{port} (Ctrl+C to stop)")
    os.chdir(folder)  # Streamlit reads .streamlit/config.toml from the working directory
    # Become the Streamlit server (no child process): signals such as Ctrl+C or a
    # supervisor's SIGTERM reach the server itself.
    os.execv(sys.executable, command)


def app_folder() -> Path:
    """Find the app: the repository checkout, or the copy shipped inside the package."""
    package = Path(__file__).resolve().parent
    for folder in (package.parent, package / "_app"):
        if (folder / "app.py").is_file() and (folder / "app_pages").is_dir():
            return folder
    msg = "the app files are missing from this installation (app.py, app_pages/)"
    raise ResidencyError(msg)


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
