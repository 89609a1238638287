"""The Python entry point: ``residency.load()`` and the :class:`DataMap` it returns.

>>> import residency
>>> m = residency.load()
>>> m.where("client:fennwerk").subject
'client:fennwerk'
>>> m.what_lives_in("DE").country
'DE'
"""

from __future__ import annotations

import re
from collections import UserList
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import networkx as nx

from residency import _perf, query
from residency._errors import ResidencyError
from residency._words import count
from residency.export import ExportDocument
from residency.findings import Assessment, Finding, assess_all
from residency.graph import build_graph
from residency.inventory import read_inventory
from residency.model import Inventory
from residency.routes import Route
from residency.whatif import WhatIfResult

if TYPE_CHECKING:
    import pandas as pd

    from residency.ai import SystemExposure
    from residency.diff import InventoryDiff
    from residency.plan import Plan
    from residency.policy import Policy, PolicyReport
    from residency.summary import Summary

MAX_ASSESSMENTS = 8  # assessments kept per map (one per as-of date and subject asked)


@dataclass(repr=False)
class DataMap:
    """An organisation's inventory, its graph, and the questions you can ask of them.

    >>> load()
    <DataMap 'Quillmoor Creative Ltd': 61 staff members, 34 clients, 7 systems>
    """

    inventory: Inventory
    graph: nx.DiGraph = field(repr=False)
    _assessments: dict[tuple[date, str | None], Assessment] = field(
        default_factory=dict, repr=False
    )
    _plans: dict[tuple[date, int], Plan] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        inv = self.inventory
        return (
            f"<DataMap {self.name!r}: {count(len(inv.staff), 'staff member')}, "
            f"{count(len(inv.clients), 'client')}, {count(len(inv.systems), 'system')}>"
        )

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> DataMap:
        """Build the map of an already validated inventory."""
        return cls(inventory, build_graph(inventory))

    @property
    def name(self) -> str:
        """Return the organisation's name."""
        return self.inventory.organisation.name

    def subjects(self, kind: str | None = None) -> list[str]:
        """Return the subject ids (``client:fennwerk``...), optionally of one kind."""
        return query.subjects(self.graph, kind=kind)

    def categories(self) -> list[str]:
        """Return the data categories the inventory names, sorted."""
        return query.categories(self.graph)

    def systems(self) -> dict[str, str]:
        """Return each system's id (``slack``, as what-if changes name it) with its label.

        >>> load().systems()["slack"]
        'Slack'
        """
        return query.systems(self.graph)

    def where(self, subject: str) -> query.WhereResult:
        """Answer where a subject's data is stored, processed, accessed and trained on.

        >>> load().where("client:fennwerk").to_frame().columns[0]
        'subject'
        """
        return query.where(self.graph, subject)

    def what_lives_in(self, country: str) -> query.CountryResult:
        """Answer what lives in a country: whose data, which categories, through what."""
        return query.what_lives_in(self.graph, country)

    def locations(self, kind: str | None = None) -> pd.DataFrame:
        """Return every location of every subject (or of one subject kind) as a table."""
        rows = [
            loc
            for result in query.where_all(self.graph, kind=kind).values()
            for loc in result.locations
        ]
        return query.locations_frame(rows)

    def assessment(
        self, *, as_of: date | str | None = None, subject: str | None = None
    ) -> Assessment:
        """Judge every transfer (or one subject's) under the law as it stood on ``as_of``."""
        day = parse_as_of(as_of)
        key = (day, subject)
        if key not in self._assessments:
            if len(self._assessments) >= MAX_ASSESSMENTS:  # an app user browsing dates
                self._assessments.pop(next(iter(self._assessments)))
                _perf.release()
            if subject is not None:
                self.where(subject)  # a clear error for an unknown subject
            self._assessments[key] = assess_all(self.graph, as_of=day, subject=subject)
            _perf.keep()  # it lives as long as the map: never scanned by the collector again
        return self._assessments[key]

    def transfers(
        self, subject: str | None = None, *, as_of: date | str | None = None
    ) -> TransferList:
        """Answer every cross-border transfer with its legal basis (one subject, or all).

        >>> load().transfers("client:fennwerk", as_of="2026-11-26").to_frame().columns[0]
        'id'
        """
        return TransferList(self.assessment(as_of=as_of, subject=subject).transfers)

    def findings(
        self, *, as_of: date | str | None = None, subject: str | None = None
    ) -> FindingList:
        """Answer what a lawyer must act on, most severe first, with evidence and sources.

        With ``subject``, only the findings about it: a client's or staff member's own,
        or, for a system, every finding about it or whose evidence runs through it.
        """
        assessment = self.assessment(as_of=as_of)
        found = assessment.findings
        if subject is None:
            return FindingList(found)
        self.where(subject)  # a clear error for an unknown subject
        if not subject.startswith("system:"):
            return FindingList([f for f in found if f.subject == subject])
        system = subject.split(":", 1)[1]
        carried = {r.id for r in assessment.routes if subject in r.systems}
        node = re.compile(re.escape(subject) + r"(?![\w.-])")
        return FindingList(
            [
                f
                for f in found
                if f.system == system
                or carried.intersection(f.routes)
                or any(node.search(e) for e in f.evidence)
            ]
        )

    def finding_groups(self, *, as_of: date | str | None = None) -> FindingGroupList:
        """Answer the findings grouped by what fixes them, one row per rule and system or regime.

        >>> groups = load().finding_groups(as_of="2026-12-02")
        >>> groups[0].severity
        'high'
        """
        from residency.finding_groups import group_findings

        return FindingGroupList(group_findings(self.assessment(as_of=as_of)))

    def ai_exposure(self, *, as_of: date | str | None = None) -> ExposureList:
        """Answer whose data which vendors train AI models on, from where, since when.

        >>> rows = load().ai_exposure(as_of="2026-11-26").to_frame()
        >>> {"slack", "hubspot"} <= set(rows["system_id"])
        True
        """
        return ExposureList(self.assessment(as_of=as_of).exposures)

    def scenario(self, changes: list[Any], *, as_of: date | str | None = None) -> DataMap:
        """Return the map of a copy of the inventory with ``changes`` applied.

        Changes are :mod:`residency.whatif` objects or strings such as ``"opt-out:slack"``.
        The inventory this map holds is never modified.
        """
        from residency.whatif import apply_changes, parse_change

        parsed = [parse_change(c) if isinstance(c, str) else c for c in changes]
        changed, _ = apply_changes(self.inventory, parsed, parse_as_of(as_of))
        return DataMap.from_inventory(changed)

    def what_if(self, changes: list[Any], *, as_of: date | str | None = None) -> WhatIfResult:
        """Answer what changes if ``changes`` were made: what appears, disappears, changes.

        >>> r = load().what_if(["offboard:figma"], as_of="2026-11-26")
        >>> all(d.change == "disappears" for d in r.ai_training)
        True
        """
        from residency.whatif import compare, parse_change

        day = parse_as_of(as_of)
        parsed = [parse_change(c) if isinstance(c, str) else c for c in changes]
        after = self.scenario(parsed, as_of=day)
        return compare(
            self.assessment(as_of=day),
            after.assessment(as_of=day),
            [c.describe() for c in parsed],
            day,
        )

    def diff(
        self, other: DataMap | Inventory | str | Path, *, as_of: date | str | None = None
    ) -> InventoryDiff:
        """Answer what changed in meaning from this map to ``other`` (a newer version).

        Both are judged on ``as_of`` with the what-if engine (docs/diff.md).

        >>> m = load()
        >>> m.diff(m.scenario(["offboard:figma"]), as_of="2026-11-26").counts()["locations"]["new"]
        0
        """
        from residency.diff import diff

        return diff(self, other, as_of=as_of)

    def check_policy(
        self, policy: str | Path | Policy, *, as_of: date | str | None = None
    ) -> PolicyReport:
        """Answer which rules of a policy (a file or a parsed one) the map breaks on ``as_of``.

        Raises :class:`residency.policy.PolicyError` (file, line, field, what was expected)
        for an invalid policy or one naming systems, clients or categories the inventory
        does not have (docs/policy.md).

        >>> from residency.policy import starter_path
        >>> report = load().check_policy(starter_path(), as_of="2026-12-02")
        >>> report.passed, "no-transfer-without-basis" in report.by_rule()
        (False, True)
        """
        from residency.policy import Policy, evaluate, read_policy

        parsed = policy if isinstance(policy, Policy) else read_policy(policy)
        report = evaluate(parsed, self.assessment(as_of=as_of), self.inventory)
        report.organisation = self.name
        return report

    def plan(self, *, as_of: date | str | None = None, top: int | None = None) -> Plan:
        """Answer what to change first: actions ranked by the findings they resolve.

        Each action is a what-if change (``"opt-out:slack"``) judged alone on ``as_of``;
        the first ``top`` (default 10) are also applied together.

        >>> p = load().plan(as_of="2026-12-02")
        >>> p.actions[0].resolves["high"] >= p.actions[-1].resolves["high"]
        True
        """
        from residency.plan import TOP, build_plan

        key = (parse_as_of(as_of), TOP if top is None else top)
        if key not in self._plans:
            if len(self._plans) >= MAX_ASSESSMENTS:
                self._plans.pop(next(iter(self._plans)))
                _perf.release()
            self._plans[key] = build_plan(self, as_of=key[0], top=key[1])
            _perf.keep()
        return self._plans[key]

    def export(
        self,
        *,
        as_of: date | str | None = None,
        with_plan: bool = False,
        with_assessments: bool = False,
    ) -> ExportDocument:
        """Return the JSON export for legal review (schema ``residency-export/2``) as a dict.

        ``with_plan`` adds the plan (``action_plan``, docs/plan.md), ``with_assessments``
        the pre-filled assessment records by route id (``transfer_assessments``,
        docs/report.md). For a large organisation, :meth:`write_export` streams it instead.
        """
        from residency.export import build_export
        from residency.jurisdictions import legal_data

        plan = self.plan(as_of=as_of).as_dict() if with_plan else None
        assessment = self.assessment(as_of=as_of)
        records = self._records(assessment) if with_assessments else None
        return build_export(self.inventory, assessment, legal_data(), plan=plan, records=records)

    def _records(self, assessment: Assessment) -> list[Any]:
        from residency.jurisdictions import legal_data
        from residency.records import route_records

        return route_records(assessment, legal_data(), self.inventory.assessments)

    def write_export(
        self,
        out: IO[str],
        *,
        as_of: date | str | None = None,
        fmt: str = "json",
        with_plan: bool = False,
        with_assessments: bool = False,
    ) -> dict[str, int]:
        """Stream the export (``fmt="json"``) or the register by route (``"csv"``) to ``out``.

        Returns the number of rows written per part (``{"routes": 12, ...}``).

        >>> import io
        >>> counts = load().write_export(io.StringIO(), as_of="2026-11-26")
        >>> counts["routes"] > 0 and counts["findings"] > 0
        True
        """
        from residency.export import export_parts, write_export, write_routes_csv
        from residency.jurisdictions import legal_data

        assessment = self.assessment(as_of=as_of)
        if fmt == "csv":
            return {"routes": write_routes_csv(out, assessment.routes, self._labels())}
        if fmt != "json":
            msg = f"unknown export format {fmt!r}: expected json or csv"
            raise ResidencyError(msg)
        plan = self.plan(as_of=as_of).as_dict() if with_plan else None
        records = self._records(assessment) if with_assessments else None
        parts = export_parts(self.inventory, assessment, legal_data(), plan=plan, records=records)
        return write_export(out, parts)

    def export_text(self, *, as_of: date | str | None = None, fmt: str = "json") -> str:
        """Return what :meth:`write_export` writes, as text (for a download button)."""
        import io

        buffer = io.StringIO()
        self.write_export(buffer, as_of=as_of, fmt=fmt)
        return buffer.getvalue()

    def report(
        self,
        path: str | Path,
        *,
        as_of: date | str | None = None,
        fmt: str = "html",
        subjects: list[str] | tuple[str, ...] = (),
    ) -> Path:
        """Write the review pack to ``path``: one self-contained HTML file (or ``fmt="pdf"``,
        printed by headless Chromium), with a small map per subject in ``subjects``.
        docs/report.md says what is in it."""
        from residency.report import write_report

        return write_report(self, path, as_of=parse_as_of(as_of), fmt=fmt, subjects=subjects)

    def report_html(
        self, *, as_of: date | str | None = None, subjects: list[str] | tuple[str, ...] = ()
    ) -> str:
        """Return the review pack as HTML text (the same page :meth:`report` writes)."""
        from residency.report import build_report

        return build_report(self, as_of=parse_as_of(as_of), subjects=subjects)

    def routes(self, subject: str | None = None, *, as_of: date | str | None = None) -> RouteList:
        """Answer the transfer register by route: who receives whose data, where, on what basis.

        With ``subject``, only the routes that subject's data takes.

        >>> r = load().routes(as_of="2026-11-26").to_frame()
        >>> list(r.columns[:3])
        ['id', 'regimes', 'destination']
        >>> {s for r in load().routes("client:fennwerk") for s in r.subjects}
        {'client:fennwerk'}
        """
        found = self.assessment(as_of=as_of, subject=subject)
        # The register's tables are built once per assessment, however often a page asks.
        memo: dict[Any, Any] = found.derived("routes.tables", dict)
        labels = found.derived("routes.labels", self._labels)
        return RouteList(found.routes, labels=dict(labels), memo=memo)

    def _labels(self) -> dict[str, str]:
        return {s: self.graph.nodes[s]["label"] for s in query.subjects(self.graph)}

    def display_name(self, node: str) -> str:
        """Return a node as a reader sees it: ``Corrmore Ltd (client:corrmore)``."""
        return query.display_name(self.graph, node)

    def display_names(self, kind: str | None = None) -> dict[str, str]:
        """Return every subject id (or those of one kind) with its display name."""
        return {s: query.display_name(self.graph, s) for s in self.subjects(kind)}

    def path_text(self, path: tuple[str, ...] | list[str]) -> str:
        """Render an evidence path with its edge kinds."""
        return query.path_text(self.graph, path)

    def summary(self) -> Summary:
        """Answer what the inventory holds: counts per entity and the countries it covers.

        >>> load().summary().staff
        61
        """
        from residency.summary import summarize

        return summarize(self.inventory)

    def _repr_html_(self) -> str:
        s = self.summary()
        return (
            f"<p><b>{s.organisation}</b>: {count(s.staff, 'staff member')} in "
            f"{count(s.staff_countries, 'country', 'countries')}, "
            f"{count(s.clients, 'client')} in "
            f"{count(s.client_countries, 'country', 'countries')}, "
            f"{count(s.systems, 'system')}, {count(s.subprocessors, 'sub-processor')}.</p>"
        )


class _FrameList(UserList):
    """A list of results that renders as its ``to_frame()`` table in Jupyter."""

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)  # type: ignore[attr-defined]


class TransferList(_FrameList):
    """Transfers with their bases; ``.to_frame()`` gives a sortable table."""

    def to_frame(self) -> pd.DataFrame:
        """Return one row per transfer, as in the CSV register."""
        from residency.export import REGISTER_COLUMNS, register_rows

        rows = register_rows([t.as_dict() for t in self.data])
        import pandas as pd

        return pd.DataFrame(rows, columns=REGISTER_COLUMNS)

    def readable_frame(self, names: dict[str, str] | None = None) -> pd.DataFrame:
        """Return one row per transfer as a lawyer reads it: subject by name, from → to,
        the basis in words, instrument and TIA first; the id last."""
        frame = self.to_frame()
        return _readable(
            frame,
            {
                "subject": frame["subject"].map(lambda s: (names or {}).get(s, s)),
                "from → to": frame["origin"] + " → " + frame["destination"],
            },
            rest=["kind", "system", "recipient", "recipient_type", "data", "confidence"],
            tail=["regimes", "notes", "sources", "evidence", "id"],
        )

    def to_csv(self) -> str:
        """Return one CSV row per transfer, safe to open in a spreadsheet."""
        from residency.export import transfers_csv

        return transfers_csv([t.as_dict() for t in self.data])


class RouteList(_FrameList):
    """The transfer register by route; ``.to_frame()`` and ``.to_csv()`` give it as a table."""

    data: list[Route]

    def __init__(
        self,
        routes: list[Any] | None = None,
        *,
        labels: dict[str, str] | None = None,
        memo: dict[Any, Any] | None = None,
    ):
        super().__init__(routes or [])
        self.labels = labels or {}
        self._memo = memo  # tables already made from these very routes and labels

    def _remembered(self, what: str, build: Any) -> Any:
        if self._memo is None:
            return build()
        # Routes are immutable: the same objects in the same order, with the same labels,
        # make the same table, whatever was done to the list in between.
        key = (what, tuple(map(id, self.data)), tuple(self.labels.items()))
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def by_basis(self) -> dict[str, int]:
        """Answer how many routes rest on each basis, best first (``vocabulary.BASES``)."""
        from residency.vocabulary import BASES

        counts = {b: sum(r.basis == b for r in self.data) for b in BASES}
        return {b: n for b, n in counts.items() if n}

    def subjects(self) -> list[str]:
        """Answer the subjects whose data takes any of the routes."""
        return sorted({s for r in self.data for s in r.subjects})

    def get(self, route_id: str) -> Route:
        """Answer the route with this id (or the one route whose id starts with it).

        >>> routes = load().routes(as_of="2026-11-26")
        >>> routes.get(routes[0].id[:8]) is routes[0]
        True
        """
        wanted = route_id.strip().lower()
        found = [r for r in self.data if r.id == wanted] or [
            r for r in self.data if r.id.startswith(wanted) and wanted.startswith("r-")
        ]
        if len(found) == 1:
            return found[0]
        what = "names no route" if not found else f"starts {len(found)} route ids"
        msg = (
            f"route {route_id!r} {what}: expected an id from the first column of "
            "residency transfers (e.g. r-0123abcd4567)"
        )
        raise ResidencyError(msg)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per route (subjects joined)."""
        import pandas as pd

        from residency.export import ROUTE_COLUMNS, route_cells

        def build() -> pd.DataFrame:  # the CSV's very cells, without writing and parsing it
            cells = list(route_cells(self.data, self.labels))
            return pd.DataFrame(cells, columns=ROUTE_COLUMNS, dtype=str)

        frame: pd.DataFrame = self._remembered("frame", build)
        return frame.copy()

    def readable_frame(self) -> pd.DataFrame:
        """Return the register as a lawyer reads it: subjects by name, from (the origin
        regimes) → to, the basis in words, instrument and TIA first; the id last."""
        frame = self.to_frame()
        frame["systems"] = frame["systems"].map(
            lambda text: "; ".join(self.labels.get(s, s) for s in text.split("; ") if s)
        )
        return _readable(
            frame,
            {
                "subjects": frame["subjects"],
                "from → to": frame["regimes"] + " → " + frame["destination"],
            },
            rest=["subject_count", "kind", "recipient", "recipient_type", "data", "systems"],
            tail=["confidence", "notes", "sources", "id"],
        )

    def to_csv(self) -> str:
        """Return the register by route as CSV, safe to open in a spreadsheet."""
        from residency.export import routes_csv

        text: str = self._remembered("csv", lambda: routes_csv(self.data, self.labels))
        return text


def _readable(
    frame: pd.DataFrame, first: dict[str, Any], *, rest: list[str], tail: list[str]
) -> pd.DataFrame:
    import pandas as pd

    from residency.vocabulary import BASIS_LABELS

    tia = frame["tia_required"].map(lambda v: "yes" if str(v) == "True" else "no")
    head = pd.DataFrame(
        {
            **first,
            "basis": frame["basis"].map(lambda b: BASIS_LABELS.get(b, b)),
            "instrument": frame["instrument"],
            "TIA required": tia,
        }
    )
    return pd.concat([head, frame[rest + tail]], axis=1)


class FindingList(_FrameList):
    """Findings, most severe first; ``.to_frame()`` gives a table."""

    data: list[Finding]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per finding."""
        rows = [
            {
                **f.as_dict(),
                "countries": ", ".join(f.countries),
                "evidence": "\n".join(f.evidence),
                "sources": " | ".join(s.citation or s.url or s.title for s in f.sources),
            }
            for f in self.data
        ]
        columns = [
            "id",
            "severity",
            "rule",
            "subject",
            "countries",
            "title",
            "explanation",
            "evidence",
            "sources",
        ]
        import pandas as pd

        return pd.DataFrame(rows, columns=columns)


class FindingGroupList(_FrameList):
    """Findings grouped by what fixes them; ``.to_frame()`` and ``.to_csv()`` give a table."""

    def to_frame(self) -> pd.DataFrame:
        """Return one row per group (subjects and finding ids joined)."""
        rows = []
        for g in self.data:
            row = g.as_dict()
            for key in ("regimes", "subjects", "countries", "findings"):
                row[key] = " ".join(row[key])
            row["count"] = len(g.subjects)
            rows.append(row)
        columns = [
            "severity",
            "rule",
            "title",
            "count",
            "summary",
            "system",
            "regimes",
            "legal_rule",
            "countries",
            "fix",
            "subjects",
            "findings",
        ]
        import pandas as pd

        return pd.DataFrame(rows, columns=columns)

    def to_csv(self) -> str:
        """Return one CSV row per group, safe to open in a spreadsheet."""
        import csv
        import io

        from residency.export import cell

        frame = self.to_frame()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False):
            writer.writerow([cell(v) for v in row])
        return out.getvalue()


class ExposureList(_FrameList):
    """AI-training exposures; ``.to_frame()`` gives one row per subject and system,
    ``.by_system()`` one summary per system."""

    def by_system(self) -> list[SystemExposure]:
        """Answer, per system, whose data it trains on, from which origins, since when."""
        from residency.ai import by_system

        return by_system(self.data)

    def systems_frame(self) -> pd.DataFrame:
        """Return :meth:`by_system` as a table (one row per system, lists joined)."""
        import pandas as pd

        rows = []
        for s in self.by_system():
            row = s.as_dict()
            for key in ("clients", "staff", "origins", "data"):
                row[key] = " ".join(row[key]) if key == "origins" else ", ".join(row[key])
            rows.append(row)
        columns = list(rows[0]) if rows else ["system_id", "system", "vendor", "subjects"]
        return pd.DataFrame(rows, columns=columns)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per exposure (lists joined)."""
        rows = []
        for e in self.data:
            row = e.as_dict()
            for key in ("data", "fides_categories", "regimes"):
                row[key] = ", ".join(row[key])
            row["path"] = " > ".join(row["path"])
            rows.append(row)
        columns = [
            "system_id",
            "system",
            "vendor",
            "country",
            "subject",
            "origin",
            "data",
            "fides_categories",
            "default",
            "scope",
            "since",
            "until",
            "ongoing",
            "days",
            "requirement",
            "how_to_opt_out",
            "regimes",
            "path",
        ]
        import pandas as pd

        return pd.DataFrame(rows, columns=columns)


def parse_as_of(value: date | str | None) -> date:
    """Turn ``--as-of`` (a date, ``YYYY-MM-DD`` text, or None for today) into a date."""
    if value is None:
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        msg = f"invalid --as-of date {value!r}: expected YYYY-MM-DD"
        raise ResidencyError(msg) from None


def load(path: str | Path | None = None) -> DataMap:
    """Load an inventory (YAML file or folder) into a :class:`DataMap`.

    With no path, the built-in demo organisation. Raises :class:`residency.InventoryError`
    listing every problem if the inventory is invalid.
    """
    return DataMap.from_inventory(read_inventory(path))


def open_map(
    inventory: str | Path | None = None,
    *,
    stored: str | None = None,
    db: str | Path | None = None,
) -> DataMap:
    """Return the map of an inventory file or folder, of an organisation kept in the store
    (``stored``, in the store ``db``), or, with neither, the built-in demo organisation."""
    if stored is not None:
        if inventory is not None:
            msg = "give either --inventory or --stored, not both"
            raise ResidencyError(msg)
        from residency.store import Store

        return DataMap.from_inventory(Store(db).load_inventory(stored))
    return load(inventory)
