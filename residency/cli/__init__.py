"""The ``residency`` command: parse arguments, call the library, render the answer."""

from __future__ import annotations

import inspect
import json
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from residency import __version__
from residency._errors import InventoryError, ResidencyError
from residency._words import count
from residency.cli import screen as _screen


class _Lazy(ModuleType):
    """A module imported on first use: ``residency --help`` must not load pandas or SQL."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._target = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(import_module(self._target), attr)


if TYPE_CHECKING:
    from residency import datamap as _datamap
    from residency import jurisdictions as _jurisdictions
    from residency import places as _places
    from residency import query, rules
    from residency import store as _store
    from residency.datamap import DataMap
    from residency.findings import Finding
else:
    _datamap = _Lazy("residency.datamap")
    _jurisdictions = _Lazy("residency.jurisdictions")
    _places = _Lazy("residency.places")
    _store = _Lazy("residency.store")
    query = _Lazy("residency.query")
    rules = _Lazy("residency.rules")

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
        "instead of a file (see 'residency import'): NAME for its latest snapshot, "
        "NAME@N or NAME@YYYY-MM-DD for an earlier one (see 'residency history').",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store: a SQLite file path or a database URL such as postgresql://... "
        "(default: $RESIDENCY_DB, else residency.db in the user's data directory).",
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
TABLE_ROWS = 500  # longer answers print as plain blocks, not a laid-out table


NoPagerOpt = Annotated[
    bool,
    typer.Option(
        "--no-pager",
        help="Never page a long answer in the terminal (also: RESIDENCY_NO_PAGER=1).",
    ),
]


def _console() -> Console:
    return _screen.console()


def paged(func: F) -> F:
    """Page a command's answer when it is longer than the terminal (not with --json)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _screen.paged(not kwargs.get("no_pager") and not kwargs.get("as_json")):
            return func(*args, **kwargs)

    return cast(F, wrapper)


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

    return cast(F, wrapper)


def _map(inventory: Path | None, stored: str | None, db: str | None) -> DataMap:
    if stored is not None:
        if inventory is not None:
            msg = "give either --inventory or --stored, not both"
            raise ResidencyError(msg)
        return _datamap.DataMap.from_inventory(_store.Store(db).load_inventory(stored))
    return _datamap.load(inventory)


@dataclass(frozen=True)
class MapArgs:
    """What every command over an organisation's map is given: where its inventory comes
    from (a file, the store, or the demo), the as-of date, and whether to answer in JSON."""

    inventory: Path | None = None
    stored: str | None = None
    db: str | None = None
    as_of: str | None = None
    as_json: bool = False

    def map(self) -> DataMap:
        """Open the organisation's map the options name."""
        return _map(self.inventory, self.stored, self.db)


_SOURCE_OPTIONS = (
    inspect.Parameter(
        "inventory", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=InventoryOpt
    ),
    inspect.Parameter("stored", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=StoredOpt),
    inspect.Parameter("db", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=DbOpt),
)
_AS_OF = inspect.Parameter(
    "as_of", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=AsOfOpt
)
_JSON = inspect.Parameter(
    "as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOpt
)
_NO_PAGER = inspect.Parameter(
    "no_pager", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=NoPagerOpt
)


def map_command(
    name: str | None = None, *, dated: bool = True, json: bool = True, pager: bool = True
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a command that answers over an organisation's map.

    The command gets ``--inventory``/``--stored``/``--db``, and unless told otherwise
    ``--as-of``, ``--json`` and ``--no-pager``; the function receives them as its first
    argument, a :class:`MapArgs`. Library errors become a message and exit code 1, and a
    long answer is paged (never JSON). One skeleton for every such command.
    """
    common = [*_SOURCE_OPTIONS, *([_AS_OF] if dated else []), *([_JSON] if json else [])]
    common += [_NO_PAGER] if pager else []

    def register(func: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(func, eval_str=True).parameters.values())[1:]

        @wraps(func)
        def command(**kwargs: Any) -> None:
            args = MapArgs(
                kwargs.pop("inventory"),
                kwargs.pop("stored"),
                kwargs.pop("db"),
                kwargs.pop("as_of", None),
                kwargs.pop("as_json", False),
            )
            quiet = kwargs.pop("no_pager", True) or args.as_json
            with _screen.paged(not quiet):
                func(args, **kwargs)

        command.__signature__ = inspect.Signature([*own, *common])  # type: ignore[attr-defined]
        del command.__wrapped__  # typer must read the signature above, not func's
        return app.command(name)(user_errors(command))

    return register


def _footer(console: Console, text: str = "", *, as_of: str | None = None) -> None:
    """Close a table with a dim hint, the legal data's date and the not-legal-advice note.

    With an ``as_of`` date outside the span the legal data covers, say so first.
    """
    data = _jurisdictions.legal_data()
    note = data.date_note(_datamap.parse_as_of(as_of)) if as_of is not None else None
    if note:
        console.print(f"warning: {note}", style="yellow", highlight=False)
    parts = [text, f"Legal data as of {data.as_of}.", "Not legal advice."]
    console.print(" ".join(p for p in parts if p), style="dim", highlight=False)


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


@app.command()
@user_errors
@paged
def check(
    inventory: InventoryOpt = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            "-p",
            help="Also check this policy file (docs/policy.md); exit code 1 on any violation.",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="With --policy: text, json, sarif (SARIF 2.1.0) or junit (JUnit XML).",
        ),
    ] = "text",
    as_of: AsOfOpt = None,
    no_pager: NoPagerOpt = False,
) -> None:
    """Validate an inventory (and check a policy): print a summary, or every problem (exit 1)."""
    from residency.inventory import read_inventory

    if policy is None:
        if fmt != "text" or as_of is not None:
            msg = "--format and --as-of need --policy (residency check --policy policy.yaml)"
            raise ResidencyError(msg)
        _check_inventory(read_inventory(inventory))
        return
    from residency.policy import read_policy
    from residency.policy_output import FORMATS, render

    if fmt not in FORMATS:
        msg = f"unknown --format {fmt!r}: expected one of {', '.join(FORMATS)}"
        raise ResidencyError(msg)
    parsed = read_policy(policy)  # an invalid policy is reported before any judging
    m = _datamap.DataMap.from_inventory(read_inventory(inventory))
    report = m.check_policy(parsed, as_of=as_of)
    out = sys.stdout
    text = render(report, fmt)
    encoding = getattr(out, "encoding", None) or "utf-8"
    out.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))
    out.flush()
    if not report.passed:
        raise typer.Exit(1)


def _check_inventory(inv: Any) -> None:
    from residency.summary import summarize

    s = summarize(inv)
    console = _console()
    console.print(f"{s.organisation}: inventory is valid ({s.inventory_hash})")
    table = Table("entity", "count", "countries")
    table.add_row("staff", str(s.staff), str(s.staff_countries))
    table.add_row("clients", str(s.clients), str(s.client_countries))
    table.add_row("systems", str(s.systems), "")
    table.add_row("sub-processors", str(s.subprocessors), "")
    console.print(table)
    countries = s.countries
    console.print(
        f"{count(len(countries), 'country or subdivision', 'countries and subdivisions')} "
        f"covered: {', '.join(countries)}",
        highlight=False,
    )
    for line in inv.from_catalogue.values():
        console.print(line, markup=False, highlight=False)
    if len(inv.warnings) <= TABLE_ROWS:
        for warning in inv.warnings:
            console.print(f"warning: {warning}", style="yellow", markup=False)
    else:  # thousands of styled lines take seconds to render: plain text
        sys.stdout.writelines(f"warning: {w}\n" for w in inv.warnings)


@map_command()
def where(
    args: MapArgs,
    subject: Annotated[
        str | None,
        typer.Argument(
            help="client:<id>, staff:<id> or system:<id>. Omit for an overview of every client."
        ),
    ] = None,
) -> None:
    """Where does a subject's data live: stored, processed, accessed, trained, with evidence,
    the client's contractual residency clause and the findings about the subject."""
    m = args.map()
    if subject is None:
        _overview(m, args.as_json)
        return
    result = m.where(subject)
    findings = m.findings(as_of=args.as_of, subject=subject)
    if args.as_json:
        _print_json(
            {
                "subject": result.subject,
                "label": result.label,
                "origin": result.origin,
                "countries": result.countries,
                "residency_clause": list(result.residency),
                "outside_residency_clause": result.outside_residency,
                "locations": [_location_json(m, loc) for loc in result.locations],
                "findings": [f.as_dict(sources=False) for f in findings],
            }
        )
        return
    console = _console()
    console.print(
        f"{result.display}, origin {result.origin}: "
        f"data reaches {count(len(result.countries), 'country', 'countries')}: "
        f"{', '.join(result.countries)}",
        highlight=False,
    )
    if result.residency:
        outside = result.outside_residency
        console.print(
            f"Contractual residency clause: {result.residency_text}. "
            + (
                f"OUTSIDE it: {', '.join(outside)} (rows marked !)."
                if outside
                else "Every place is within it."
            ),
            style="bold red" if outside else None,
            highlight=False,
        )
    _locations_table(m, result.locations, console, show_subject=False, clause=result)
    if findings:
        console.print(f"{count(len(findings), 'finding')} about {result.label}:", highlight=False)
        for f in findings:
            console.print(
                f"  {f.severity:<6} {f.title} ({f.rule}) in {', '.join(f.countries)}  [{f.id}]",
                highlight=False,
            )
        console.print(
            "Details: residency findings (each finding's explanation and evidence).",
            style="dim",
            highlight=False,
        )
    else:
        console.print(f"No findings about {result.label}.", highlight=False)
    _footer(console, as_of=args.as_of)


def _overview(m: DataMap, as_json: bool) -> None:
    rows: list[dict[str, Any]] = []
    for subject in m.subjects("client"):
        result = m.where(subject)
        by_kind = {k: sorted({loc.country for loc in result.by_kind(k)}) for k in query.KINDS}
        rows.append({"subject": subject, "label": result.label, "origin": result.origin, **by_kind})
    if as_json:
        _print_json(rows)
        return
    console = _console()
    console.print(f"{m.name}: where each client's data lives", highlight=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)  # 80 columns fit
    if console.is_terminal:  # the id the footer says to type stays whole, on its own line
        table.add_column("client", width=max((len(r["subject"]) for r in rows), default=6))
    else:
        table.add_column("client", no_wrap=True)
    for name in ("origin", *query.KINDS):
        table.add_column(name)
    for row in rows:
        table.add_row(
            f"{row['subject']}\n{row['label']}"
            if console.is_terminal
            else f"{row['label']} ({row['subject']})",
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
    m: DataMap,
    locations: list[query.Location],
    console: Console,
    *,
    show_subject: bool,
    clause: query.WhereResult | None = None,
) -> None:
    marked = clause is not None and bool(clause.residency)
    columns = (
        (["subject"] if show_subject else [])
        + (["!"] if marked else [])
        + [
            "country",
            "kind",
            "system",
            "recipient",
            "data",
            "evidence",
        ]
    )
    if console.is_terminal and console.width < 120:  # a block per location reads at 80 columns
        out = sys.stdout
        for loc in query.sort_locations(locations):
            who = f"{loc.subject}  " if show_subject else ""
            outside = clause is not None and clause.within_residency(loc.country) is False
            mark = "! " if marked and outside else ""
            out.write(f"\n{mark}{who}{loc.country} {loc.country_name}  {loc.kind}  {loc.system}\n")
            recipient = loc.recipient + (f" ({loc.detail})" if loc.detail else "")
            out.writelines(_indented(f"recipient: {recipient}", console))
            out.writelines(_indented(f"data: {', '.join(loc.data)}", console))
            out.writelines(_indented(f"evidence: {' > '.join(loc.path)}", console))
        out.flush()
        return
    table = Table(*columns, show_lines=False)
    for loc in query.sort_locations(locations):
        cells = [loc.subject] if show_subject else []
        if marked:
            assert clause is not None
            cells.append("!" if clause.within_residency(loc.country) is False else "")
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


@map_command(dated=False)
def country(
    args: MapArgs,
    code: Annotated[str, typer.Argument(help="ISO 3166-1 alpha-2 (DE) or 3166-2 (CA-QC) code.")],
) -> None:
    """What lives in a country: whose data, which categories, through which systems and staff."""
    m = args.map()
    result = m.what_lives_in(code.strip().upper())
    if args.as_json:
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
    console.print(
        f"{_places.place_name(result.country)} ({result.country}): data of "
        f"{count(len(result.subjects), 'subject')}; categories: "
        f"{', '.join(result.categories)}; {count(len(result.staff), 'staff member')} "
        f"{'works' if len(result.staff) == 1 else 'work'} from here",
        highlight=False,
    )
    _locations_table(m, result.locations, console, show_subject=True)
    console.print("Not legal advice.", style="dim")


@map_command()
def transfers(
    args: MapArgs,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only this subject (client:<id>, staff:<id>).")
    ] = None,
    route: Annotated[
        str | None,
        typer.Option("--route", help="One route (its id, or the start of it): every detail."),
    ] = None,
    each: Annotated[
        bool, typer.Option("--each", help="Every transfer, one per subject and place.")
    ] = False,
) -> None:
    """The transfer register by route (default), one route, or every transfer (--each)."""
    m = args.map()
    if args.as_json and route is None:  # every transfer, as it always was
        _print_json([t.as_dict() for t in m.transfers(subject, as_of=args.as_of)])
        return
    routes = m.routes(subject, as_of=args.as_of)
    if route is not None:
        _route_detail(routes.get(route), routes.labels, args.as_json, args.as_of)
    elif each:
        _each_transfer(m, subject, args.as_of)
    else:
        _route_summary(m, routes, subject, args.as_of)


def _indented(text: str, console: Console) -> list[str]:
    """Answer ``text`` as lines indented by 4, wrapped to a terminal (never in a pipe)."""
    import textwrap

    if not console.is_terminal:
        return [f"    {text}\n"]
    lines = textwrap.wrap(text, console.width - 4, break_on_hyphens=False) or [""]
    return [f"    {line}\n" for line in lines]


def _basis_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {b}" for b, n in counts.items())


def _route_summary(m: DataMap, routes: Any, subject: str | None, as_of: str | None) -> None:
    console = _console()
    day = _datamap.parse_as_of(as_of).isoformat()
    whose = subject or f"the data of {count(len(routes.subjects()), 'subject')}"
    console.print(
        f"{m.name}: {count(len(routes), 'transfer route')} carrying {whose}, as of {day} "
        f"({_basis_counts(routes.by_basis())})",
        highlight=False,
    )
    pipe = not console.is_terminal
    wide = pipe or console.width >= 120
    headers = ["route", "from > to", "kind", "basis"]
    headers += ["TIA", "subjects", "recipient", "instrument"] if wide else ["subjects", "recipient"]
    rows = []
    for r in routes:
        cells = [r.id, f"{' '.join(r.regimes)} > {r.destination}", r.kind]
        if wide:
            cells += [r.basis, "yes" if r.tia_required else "", f"{len(r.subjects):,}"]
            cells += [r.recipient, r.instrument or ""]
        else:  # 80 columns: the TIA flag joins the basis, the instrument is in --route
            cells += [r.basis + ("+TIA" if r.tia_required else ""), f"{len(r.subjects):,}"]
            cells += [r.recipient]
        rows.append(cells)
    right = frozenset({5 if wide else 4})  # the subjects column
    # Plain aligned lines: the route id (the footer says to type it) is never wrapped.
    lines = _screen.columns(headers, rows, None if pipe else console.width, right=right)
    console.file.writelines(line + "\n" for line in lines)
    _footer(
        console,
        "One route's subjects, systems, notes and sources: residency transfers --route ID. "
        "Every transfer: --each.",
        as_of=as_of,
    )


def _route_detail(route: Any, labels: dict[str, str], as_json: bool, as_of: str | None) -> None:
    from residency.export import route_row

    if as_json:
        row = route_row(route)
        row["notes"] = list(route.notes)
        row["sources"] = [s.as_dict() for s in route.sources]
        _print_json(row)
        return
    console = _console()
    console.print(
        f"{route.id}: {' '.join(route.regimes)} > {route.destination} "
        f"({_places.place_name(route.destination)}), {route.kind} by {route.recipient}",
        highlight=False,
    )
    lines = [
        ("basis", route.basis + (f": {route.instrument}" if route.instrument else "")),
        ("TIA", "required" if route.tia_required else "not required"),
        ("confidence", route.confidence or "-"),
        ("data", ", ".join(route.data)),
        ("systems", ", ".join(route.systems)),
    ]
    for name, value in lines:
        console.print(f"{name}: {value}", highlight=False)
    console.print(f"subjects ({len(route.subjects):,}):", highlight=False)
    for s in route.subjects:
        label = labels.get(s, s)
        shown = f"{label} ({s})" if label not in (s, s.partition(":")[2]) else s
        console.print(f"  {shown}", highlight=False)
    for note in route.notes:
        console.print(f"note: {note}", highlight=False)
    for ref in route.sources:
        where = " ".join(x for x in (ref.citation, ref.locator, ref.url) if x)
        console.print(f"source ({ref.regime}): {ref.title} {where}".rstrip(), highlight=False)
    _footer(console, "", as_of=as_of)


def _each_transfer(m: DataMap, subject: str | None, as_of: str | None) -> None:
    found = m.transfers(subject, as_of=as_of)
    console = _console()
    counts: dict[str, int] = {}
    for t in found:
        counts[t.basis] = counts.get(t.basis, 0) + 1
    ordered = {b: counts[b] for b in rules.BASES if b in counts}
    day = _datamap.parse_as_of(as_of).isoformat()
    console.print(
        f"{m.name}: {count(len(found), 'transfer')} as of {day} ({_basis_counts(ordered)})",
        highlight=False,
    )
    if console.is_terminal and console.width >= 120 and len(found) <= TABLE_ROWS:
        table = Table(
            "subject", "from > to", "kind", "system", "recipient", "basis", "instrument", "TIA"
        )
        table.columns[0].no_wrap = True  # the id --subject takes
        table.add_column("notes")
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
    else:  # a block per transfer reads at any width, and thousands print fast
        out = sys.stdout
        for t in found:
            loc = t.location
            tia = "; TIA required" if t.tia_required else ""
            out.write(
                f"\n{loc.subject}  {t.origin} > {loc.country}  {loc.kind}  "
                f"{loc.system} / {loc.recipient}\n"
            )
            basis = t.basis + (f": {t.instrument}" if t.instrument else "") + tia
            out.writelines(_indented(basis, console))
            for note in t.notes:
                out.writelines(_indented(f"note: {note}", console))
        out.flush()
    _footer(console, "One subject: --subject ID. Sources per transfer: --json.", as_of=as_of)


@map_command()
def findings(
    args: MapArgs,
    each: Annotated[
        bool, typer.Option("--each", help="One block per subject instead of one row per group.")
    ] = False,
) -> None:
    """What a lawyer must act on, grouped by what fixes it, most severe first."""
    m = args.map()
    found = m.findings(as_of=args.as_of)
    if args.as_json:
        _print_json([f.as_dict() for f in found])
        return
    if not each:
        _finding_groups(m, found, args.as_of)
        return
    console = _console()
    day = _datamap.parse_as_of(args.as_of).isoformat()
    by_severity = {s: sum(f.severity == s for f in found) for s in rules.SEVERITIES}
    console.print(
        f"{m.name}: {count(len(found), 'finding')} as of {day} ("
        + ", ".join(f"{n} {s}" for s, n in by_severity.items())
        + ")",
        highlight=False,
    )
    summary = Table("severity", "rule", "subjects", "countries", title="Summary")
    summary.columns[1].no_wrap = True  # a rule id, as docs/findings.md names it
    for (severity, rule), group in _group_findings(found).items():
        countries = sorted({c for f in group for c in f.countries})
        summary.add_row(severity, rule, str(len(group)), " ".join(countries))
    console.print(summary)
    if len(found) <= TABLE_ROWS and console.width >= 120:
        table = Table("severity", "rule", "subject", "countries", "what to act on", show_lines=True)
        for column in table.columns[1:3]:
            column.no_wrap = True
        for f in found:
            table.add_row(f.severity, f.rule, f.subject, " ".join(f.countries), f.explanation)
        console.print(table)
    else:  # a block per finding reads at any width, and thousands print fast
        out = sys.stdout
        for f in found:
            out.write(f"\n{f.severity}  {f.rule}  {f.subject}  {' '.join(f.countries)}\n")
            out.writelines(_indented(f.explanation, console))
        out.flush()
    _footer(console, "Evidence paths and sources: --json or residency export.", as_of=args.as_of)


@map_command()
def ai(
    args: MapArgs,
) -> None:
    """Whose data went into which vendor's AI models, from which jurisdictions, how long."""
    m = args.map()
    found = m.ai_exposure(as_of=args.as_of)
    if args.as_json:
        _print_json([e.as_dict() for e in found])
        return
    console = _console()
    day = _datamap.parse_as_of(args.as_of).isoformat()
    systems = found.by_system()
    console.print(
        f"{m.name}: {count(len(systems), 'system')} "
        f"{'trains' if len(systems) == 1 else 'train'} AI models on the data of "
        f"{count(len({e.subject for e in found}), 'subject')}, as of {day}",
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
    for s in systems:
        window = f"{s.since or 'unrecorded'} to {s.until or 'today'}"
        subjects = f"{count(len(s.clients), 'client')}: " + " ".join(s.clients)
        subjects += f"; {count(len(s.staff), 'staff member')}" if s.staff else ""
        table.add_row(
            f"{s.system} ({s.scope or 'scope unknown'})",
            f"{s.vendor} ({s.vendor_country})",
            s.default,
            window,
            str(s.until) if not s.ongoing else "no",
            subjects,
            " ".join(s.origins),
            ", ".join(s.data),
        )
    console.print(table)
    _footer(
        console,
        "Findings on this: residency findings (ai.* rules). Details: --json.",
        as_of=args.as_of,
    )


@map_command()
def whatif(
    args: MapArgs,
    changes: Annotated[
        list[str] | None,
        typer.Argument(
            help="Changes: opt-out:SYSTEM[@DATE], move:SYSTEM=PROVIDER/REGION or =CC, "
            "remove-subprocessor:SYSTEM=NAME, replace-subprocessor:SYSTEM=OLD>NEW@CC[;CC], "
            "add-safeguard:SYSTEM=NAME, add-entity-safeguard:ENTITY=NAME, "
            "stop-access:CC=CLIENT (or =*), offboard:SYSTEM."
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
) -> None:
    """What changes if you opt out, move, offboard, add a safeguard or stop access (never saved)."""
    texts = list(changes or [])
    texts += [f"opt-out:{x}" for x in opt_out or []]
    texts += [f"move:{x}" for x in move or []]
    texts += [f"offboard:{x}" for x in offboard or []]
    if not texts:
        msg = "give at least one change, e.g. --opt-out slack or move:slack=aws/eu-central-1"
        raise ResidencyError(msg)
    m = args.map()
    result = m.what_if(texts, as_of=args.as_of)
    if args.as_json:
        _print_json(result.as_dict())
        return
    console = _console()
    console.print(
        f"{m.name}, as of {result.as_of}: what if we " + "; ".join(result.changes),
        highlight=False,
    )
    summary = Table("", "fixed / gone", "new", "changed", title="Difference")
    for area, c in result.counts().items():
        gone = c.get("fixed", c.get("gone", 0))
        summary.add_row(area.replace("_", " "), str(gone), str(c["new"]), str(c["changed"]))
    console.print(summary)
    table = Table("area", "change", "subject", "rule / basis", "before", "after", show_lines=True)
    for d in [*result.findings, *result.ai_training]:
        table.add_row(d.area, d.change, d.subject, d.rule, d.before, d.after)
    console.print(table)
    _footer(
        console,
        f"{count(len(result.remaining), 'finding')} "
        f"{'remains' if len(result.remaining) == 1 else 'remain'}. "
        "Transfers and locations: --json. "
        "Nothing was saved.",
        as_of=args.as_of,
    )


@map_command()
def plan(
    args: MapArgs,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Show this many actions (and apply them together).")
    ] = 10,
) -> None:
    """What to do first: the changes that resolve the most findings, best first (never saved)."""
    m = args.map()
    result = m.plan(as_of=args.as_of, top=top)
    if args.as_json:
        payload = result.as_dict()
        payload["actions"] = payload["actions"][:top]
        _print_json(payload)
        return
    out = sys.stdout
    before = ", ".join(f"{n} {s}" for s, n in result.before.items())
    out.write(f"{m.name}: what to do first, as of {result.as_of} (findings today: {before})\n")
    for rank, action in enumerate(result.actions[:top], 1):
        fixed = ", ".join(f"{n} {s}" for s, n in action.resolves.items() if n) or "none"
        new = ", ".join(f"{n} {s}" for s, n in action.introduces.items() if n)
        out.write(f"\n{rank}. {action.title}\n")
        findings_word = "finding" if sum(action.resolves.values()) == 1 else "findings"
        subjects = count(len(action.subjects), "subject")
        out.write(f"   resolves {fixed} {findings_word} for {subjects}")
        out.write(f"; introduces {new}" if new else "")
        improve = "improves" if action.transfers_improved == 1 else "improve"
        out.write(f"; {count(action.transfers_improved, 'transfer')} {improve}\n")
        if action.how:
            out.write(f"   how: {action.how}\n")
        for line in action.evidence:
            out.write(f"   - {line}\n")
        quoted = " ".join(shlex.quote(c) for c in action.changes)
        out.write(f"   try it: residency whatif {quoted}\n")
    together = ", ".join(f"{n} {s}" for s, n in result.combined_resolves.items())
    left = ", ".join(f"{n} {s}" for s, n in result.remaining.items())
    new = ", ".join(f"{n} {s}" for s, n in result.combined_introduces.items() if n)
    shown = min(top, len(result.actions))
    first = (
        "The first action resolves" if shown == 1 else f"The first {shown} actions together resolve"
    )
    out.write(
        f"\n{first} {together}"
        + (f" and introduce{'s' if shown == 1 else ''} {new}" if new else "")
        + f"; {left} remain.\n"
    )
    if result.negotiations:
        out.write("\nTo negotiate (changes of contract the client must agree to, not fixes):\n")
    for action in result.negotiations:
        fixed = ", ".join(f"{n} {s}" for s, n in action.resolves.items() if n)
        new = ", ".join(f"{n} {s}" for s, n in action.introduces.items() if n)
        out.write(f"- {action.title}: would resolve {fixed}")
        out.write(f"; introduces {new}" if new else "")
        out.write(f"\n  try it: residency whatif {shlex.quote(action.change)}\n")
    out.flush()
    _footer(_console(), "Finding ids and every action: --json.", as_of=args.as_of)


def _finding_groups(m: DataMap, found: Sequence[Finding], as_of: str | None) -> None:
    out = sys.stdout
    day = _datamap.parse_as_of(as_of).isoformat()
    groups = m.finding_groups(as_of=as_of)
    subjects = len({f.subject for f in found})
    by_severity = ", ".join(f"{sum(f.severity == s for f in found)} {s}" for s in rules.SEVERITIES)
    out.write(
        f"{m.name}: {len(found)} findings ({by_severity}) about {subjects} subjects, "
        f"as of {day}, in {len(groups)} groups by what fixes them\n\n"
    )
    for g in groups:
        out.write(f"{g.severity:<6} {len(g.subjects):>4}  {g.summary} [{g.rule}]\n")
    out.flush()
    _footer(
        _console(),
        "One block per subject: --each. What to do first: residency plan.",
        as_of=as_of,
    )


def _group_findings(found: Sequence[Finding]) -> dict[tuple[str, str], list[Finding]]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in found:
        groups.setdefault((f.severity, f.rule), []).append(f)
    return groups


@map_command(json=False, pager=False)
def export(
    args: MapArgs,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="json (the full export), csv (the transfer register by route) or fides "
            "(a fideslang manifest of systems, docs/interop.md).",
        ),
    ] = "json",
    with_plan: Annotated[
        bool,
        typer.Option("--plan", help="Add the plan (what to do first) at the top of the JSON."),
    ] = False,
    with_assessments: Annotated[
        bool,
        typer.Option(
            "--assessments",
            help="Add the pre-filled assessment record of each safeguard or no-basis route.",
        ),
    ] = False,
) -> None:
    """Write the JSON export for legal review (schema residency-export/2), or the CSV register."""
    from residency._files import write_atomically

    if fmt not in ("json", "csv", "fides"):
        msg = f"unknown --format {fmt!r}: expected json, csv or fides"
        raise ResidencyError(msg)
    m = args.map()
    day = _datamap.parse_as_of(args.as_of)
    if (with_plan or with_assessments) and fmt != "json":
        msg = f"{'--plan' if with_plan else '--assessments'} goes with the JSON export only"
        raise ResidencyError(msg)
    if fmt == "fides":
        from residency.interop.fides import fides_manifest, write_manifest

        manifest = fides_manifest(m, as_of=day)  # built before the file is opened
        systems = write_atomically(out, lambda fh: write_manifest(fh, manifest))
        _console().print(
            f"wrote {out}: a Fides manifest of {count(systems, 'system')} (vendors and "
            f"sub-processors) with their transfers, as of {day.isoformat()}",
            highlight=False,
            markup=False,
        )
        return
    m.assessment(as_of=day)  # judge before opening the file: an error leaves nothing behind
    if with_plan:
        m.plan(as_of=day)
    counts = write_atomically(
        out,
        lambda fh: m.write_export(
            fh, as_of=day, fmt=fmt, with_plan=with_plan, with_assessments=with_assessments
        ),
    )
    routes = count(counts["routes"], "transfer route")
    what = (
        f"the transfer register by route: one row per route ({routes}) with its origin "
        "regimes, destination, recipient, kind, basis, instrument, TIA flag, data, systems, "
        "subjects, notes and sources"
        if fmt == "csv"
        else f"the export for legal review (schema residency-export/2): {routes}, "
        f"{count(counts['findings'], 'finding')}, their evidence and sources"
    )
    _console().print(f"wrote {out}: {what}, as of {day.isoformat()}", highlight=False, markup=False)


@map_command(json=False, pager=False)
def report(
    args: MapArgs,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write (e.g. review.html).")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="html (one self-contained file) or pdf (printed by Chromium)."
        ),
    ] = "html",
    subject: Annotated[
        list[str] | None,
        typer.Option("--subject", help="Add a small map of this subject's data (repeat for more)."),
    ] = None,
) -> None:
    """Write the review pack: map, plan, findings, register, assessments, sources (offline)."""
    from residency.records import needs_record
    from residency.report import FORMATS

    if fmt not in FORMATS:
        msg = f"unknown --format {fmt!r}: expected html or pdf"
        raise ResidencyError(msg)
    m = args.map()
    day = _datamap.parse_as_of(args.as_of)
    written = m.report(out, as_of=day, fmt=fmt, subjects=subject or [])
    routes = m.assessment(as_of=day).routes
    records = sum(needs_record(r) for r in routes)
    kind = "one offline HTML file" if fmt == "html" else "PDF printed by Chromium"
    _console().print(
        f"wrote {written}: the review pack ({kind}): {count(len(routes), 'transfer route')}, "
        f"{count(records, 'assessment record')}, as of {day.isoformat()}",
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
@paged
def jurisdictions(
    as_json: JsonOpt = False,
    country: Annotated[
        str | None, typer.Option("--country", help="Only this country's regimes and facts.")
    ] = None,
    stale: Annotated[
        bool, typer.Option("--stale", help="List facts last checked over 12 months ago.")
    ] = False,
    as_of: AsOfOpt = None,
    no_pager: NoPagerOpt = False,
) -> None:
    """List the legal data: regimes with their as-of dates, and which countries have no data."""
    data = _jurisdictions.legal_data()
    if stale:
        _stale_facts(data.stale(_datamap.parse_as_of(as_of)), as_json)
        return
    code = None
    if country:
        code = country.strip().upper()
        problem = _places.place_problem(code)
        if problem:
            raise ResidencyError(problem)
    coverage = data.coverage(code)
    if as_json:
        _print_json(
            {
                "as_of": data.as_of.isoformat(),
                "content_hash": data.content_hash,
                "regimes": [r.listing() for r in data.regimes],
                "coverage": [row.as_dict() for row in coverage],
            }
        )
        return
    console = _console()
    table = Table("regime", "name", "applies to", "in force", "as of", "confidence", "unconfirmed")
    table.columns[0].no_wrap = True  # a regime id, as findings and transfers name it
    shown = {r for row in coverage for r in row.regimes}
    listed = [r for r in data.regimes if country is None or r.id in shown]
    for r in listed:
        table.add_row(
            r.id,
            r.name,
            " ".join(r.applies_to),
            r.span(),
            r.as_of.isoformat(),
            r.confidence,
            str(len(r.unconfirmed)),
        )
    console.print(table)
    missing = [row.code for row in coverage if not row.regimes]
    covered = len(coverage) - len(missing)
    console.print(
        f"{count(len(listed), 'regime')}; {covered} of "
        f"{count(len(coverage), 'country', 'countries')} covered; no data "
        f"(transfers from them get needs_review): {' '.join(missing) or 'none'}",
        highlight=False,
    )
    _footer(console)


def _stale_facts(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        _print_json(rows)
        return
    console = _console()
    table = Table("regime", "fact", "kind", "checked", "days", "source", "confidence")
    for row in rows:
        table.add_row(
            *(str(row[k]) for k in ("regime", "fact", "kind", "checked", "days")),
            str(row["source"]),
            str(row["confidence"]),
        )
    console.print(table)
    console.print(
        f"{count(len(rows), 'fact')} last checked more than 12 months ago.", highlight=False
    )
    _footer(console)


@app.command("import")
@user_errors
def import_(
    path: Annotated[Path, typer.Argument(help="Inventory YAML file or folder.")],
    db: DbOpt = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who imports it (kept with the snapshot).")
    ] = None,
) -> None:
    """Validate an inventory and store it as a new snapshot of its organisation (one
    transaction; the same content as the latest snapshot adds none)."""
    from residency.inventory import read_inventory

    inv = read_inventory(path)
    store = _store.Store(db)
    result = store.import_inventory(inv, source=str(path), by=by)
    verb = (
        f"stored as snapshot {result.snapshot}"
        if result.changed
        else f"already stored, unchanged (snapshot {result.snapshot})"
    )
    nouns = {"staff": ("staff member", "staff members"), "clients": ("client", "clients")}
    counts = ", ".join(
        count(v, *nouns.get(k, (k.removesuffix("s"), k))) for k, v in result.counts.items()
    )
    _console().print(
        f"{result.name}: {verb} in {store.shown_url} ({counts})", highlight=False, markup=False
    )


@app.command()
@user_errors
def stored(db: DbOpt = None) -> None:
    """List the inventories kept in the store."""
    store = _store.Store(db)
    records = store.names()
    if not records:
        _console().print(
            f"The store at {store.shown_url} holds no inventory yet: residency import PATH "
            "(with the same --db) stores one.",
            highlight=False,
        )
        return
    table = Table("name", "country", "imported at", "content hash", "source", "snapshots")
    for record in records:
        table.add_row(
            record.name,
            record.country,
            record.imported_at.isoformat(timespec="seconds"),
            record.content_hash[:19],
            record.source or "",
            str(record.snapshots),
        )
    _console().print(table)


@app.command("app")
@user_errors
def app_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8501,
    inventory: InventoryOpt = None,
    stored: StoredOpt = None,
    db: DbOpt = None,
) -> None:
    """Start the Streamlit app (world map, findings, what-if) on http://127.0.0.1:PORT,
    on an inventory (--inventory), a stored organisation (--stored) or the demo."""
    import os

    folder = app_folder()
    _check_port(port)
    os.environ.update(_app_environment(inventory, stored, db))
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


def _app_environment(inventory: Path | None, stored: str | None, db: str | None) -> dict[str, str]:
    """Check the organisation the app opens on (every problem reported here, before the
    server starts) and say it to the app: absolute paths, as the app runs elsewhere."""
    if inventory is not None or stored is not None:
        _err(f"opening the app on {_map(inventory, stored, db).name}")
    url = _store.database_url(db)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
    env = {"RESIDENCY_DB": url, "RESIDENCY_APP_INVENTORY": "", "RESIDENCY_APP_STORED": ""}
    if inventory is not None:
        env["RESIDENCY_APP_INVENTORY"] = str(inventory.resolve())
    elif stored is not None:
        env["RESIDENCY_APP_STORED"] = stored
    return env


def _check_port(port: int) -> None:
    """Raise a user error saying which port to use instead when ``port`` is taken."""
    import socket

    def taken(number: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
            try:
                sock.bind(("127.0.0.1", number))
            except OSError:
                return True
            return False

    if not 1 <= port <= 65535:
        msg = f"--port {port}: expected a port number from 1 to 65535"
        raise ResidencyError(msg)
    if taken(port):
        free = next((n for n in range(port + 1, min(port + 50, 65536)) if not taken(n)), None)
        hint = f"residency app --port {free}" if free else "residency app --port N"
        msg = (
            f"port {port} on 127.0.0.1 is already in use (another residency app, or another "
            f"server): stop it, or start on a free port: {hint}"
        )
        raise ResidencyError(msg)


def app_folder() -> Path:
    """Find the app: the repository checkout, or the copy shipped inside the package."""
    package = Path(__file__).resolve().parent.parent  # residency/, beside the checkout
    for folder in (package.parent, package / "_app"):
        if (folder / "app.py").is_file() and (folder / "app_pages").is_dir():
            return folder
    msg = "the app files are missing from this installation (app.py, app_pages/)"
    raise ResidencyError(msg)


# ------------------------------------------------------------------ vendor catalogue


@app.command("vendors")
@user_errors
@paged
def vendors_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KEY | import-subprocessors VENDOR FILE.csv]",
            help="A catalogue key to show every fact of one vendor; or import-subprocessors "
            "VENDOR FILE.csv to compare a saved sub-processor list with the catalogue.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    folder: Annotated[
        list[Path] | None,
        typer.Option("--vendors", help="A folder of your own vendor files (same format)."),
    ] = None,
    no_pager: NoPagerOpt = False,
) -> None:
    """List the vendor catalogue, show one vendor's facts with sources, or diff a list."""
    from residency.catalogue import vendors as load_vendors

    words = args or []
    cat = load_vendors(*(folder or []), strict=False)
    if words[:1] == ["import-subprocessors"]:
        if len(words) != 3:
            msg = "usage: residency vendors import-subprocessors VENDOR FILE.csv"
            raise ResidencyError(msg)
        _vendor_import(cat.get_vendor(words[1]), Path(words[2]), as_json)
    elif len(words) > 1:
        msg = f"expected one catalogue key, got {' '.join(words)}"
        raise ResidencyError(msg)
    elif words:
        _vendor_show(cat.get_vendor(words[0]), cat.files[words[0]], as_json)
    else:
        _vendor_list(cat, as_json)
    if cat.problems and not words:
        for problem in cat.problems:
            _err(f"error: {problem}")
        raise typer.Exit(1)


def _vendor_list(cat: Any, as_json: bool) -> None:
    from datetime import date

    today = date.today()
    rows = []
    for key, v in cat.items():
        facts = v.facts()
        rows.append(
            {
                "key": key,
                "name": v.name,
                "vendor": v.vendor.name,
                "entity_country": v.vendor.country,
                "entity_countries": sorted({v.vendor.country, *(e.country for e in v.entities)}),
                "dpf": v.dpf.status,
                "ai_default": v.ai_summary(),
                "as_of": v.as_of.isoformat(),
                "oldest_fact": v.oldest().isoformat(),
                "stale_facts": sum(f.stale(today) for f in facts),
                "facts": len(facts),
                "file": cat.files[key],
            }
        )
    if as_json:
        _print_json({"vendors": rows, "problems": [str(p) for p in cat.problems]})
        return
    console = _console()
    table = Table("key", "name", "entity", "DPF", "AI training default", "as of", "oldest fact")
    table.columns[0].no_wrap = True  # what residency vendors KEY takes
    for r in rows:
        age = (today - date.fromisoformat(r["oldest_fact"])).days / 365.25
        table.add_row(
            r["key"],
            r["name"],
            " ".join(r["entity_countries"]),
            r["dpf"].replace("_", " "),
            r["ai_default"],
            r["as_of"],
            f"{r['oldest_fact']} ({age:.1f} y, {r['stale_facts']}/{r['facts']} > 12 months)",
        )
    console.print(table)
    console.print(
        f"{count(len(rows), 'vendor')}. Facts from public pages; re-check before relying "
        "on them. "
        "Not legal advice.",
        style="dim",
        highlight=False,
    )


def _vendor_show(v: Any, file: str, as_json: bool) -> None:
    facts = v.facts()
    if as_json:
        payload = v.model_dump(mode="json")
        payload["file"] = file
        payload["facts"] = [
            {
                "fact": f.path,
                "value": f.value,
                "source": f.source.url if f.source else None,
                "as_of": f.as_of.isoformat(),
                "confidence": f.confidence,
            }
            for f in facts
        ]
        _print_json(payload)
        return
    console = _console()
    console.print(f"{v.name} ({file}, reviewed {v.as_of})", highlight=False)
    table = Table("fact", "value", "confidence", "as of", "source")
    for f in facts:
        table.add_row(
            f.path,  # the console parses no markup: inventory and vendor text stay as written
            f.value,
            f.confidence or "",
            f.as_of.isoformat(),
            f.source.url if f.source else "",
        )
    console.print(table)
    for title, lines in (("unconfirmed", v.unconfirmed), ("notes", v.notes)):
        for line in lines:
            console.print(f"{title}: {line}", markup=False, highlight=False)


def _vendor_import(v: Any, path: Path, as_json: bool) -> None:
    from residency.vendor_import import diff_subprocessors

    if not path.is_file():
        msg = f"{path}: no such file"
        raise ResidencyError(msg)
    diff = diff_subprocessors(v, path.read_text(encoding="utf-8-sig"), str(path))
    if as_json:
        _print_json(
            {
                "vendor": diff.vendor,
                "added": [
                    {"name": e.name, "purpose": e.purpose, "countries": list(e.countries)}
                    for e in diff.added
                ],
                "removed": diff.removed,
                "changed": [
                    {"name": n, "before": list(a), "after": list(b)} for n, a, b in diff.changed
                ],
                "unchanged": diff.unchanged,
                "problems": [str(p) for p in diff.problems],
            }
        )
        return
    console = _console()
    for e in diff.added:
        line = f"+ {e.name}: {e.purpose or '-'} ({', '.join(e.countries)})"
        console.print(line, style="green", markup=False, highlight=False)
    for name in diff.removed:
        console.print(f"- {name}", style="red", markup=False, highlight=False)
    for name, before, after in diff.changed:
        line = f"~ {name}: {', '.join(before)} -> {', '.join(after)}"
        console.print(line, style="yellow", markup=False, highlight=False)
    summary = (
        f"{v.key}: {len(diff.added)} added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed, {len(diff.unchanged)} unchanged"
    )
    console.print(summary, highlight=False)
    for problem in diff.problems:
        _err(f"warning: {problem}")


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
    from residency._perf import one_shot

    one_shot()  # one command per process: what bulk steps make is never collected twice
    app()


from residency.cli import convert as _convert  # noqa: E402,F401
from residency.cli import diff as _diff  # noqa: E402,F401
from residency.cli import history as _history  # noqa: E402,F401
