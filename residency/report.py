"""The review pack: one self-contained HTML file a lawyer opens offline, prints or files.

Everything is inline (the map is a PNG in a ``data:`` URI, the stylesheet and the small
sort script are in the page); the only links that leave the file are plain links to the
legal sources. The same inventory and as-of date give the same HTML, except the generated
time (``<time id="generated">``). Contents: a cover, a world map by legal status, the plan,
the grouped findings, the transfer register by route, one assessment record per route that
needs one (:mod:`residency.records`), and every legal source with its date and confidence.

>>> import residency
>>> text = residency.load().report_html(as_of="2026-12-02")
>>> text.startswith("<!doctype html>") and 'id="register"' in text
True
"""

from __future__ import annotations

import base64
import html
import io
import os
import subprocess
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from residency import places
from residency._errors import ResidencyError
from residency._files import write_atomically
from residency.export import DISCLAIMER, source_id
from residency.rules import SourceRef
from residency.vocabulary import SEVERITIES

if TYPE_CHECKING:
    from residency.datamap import DataMap
    from residency.finding_groups import FindingGroup
    from residency.findings import Assessment
    from residency.geo import Filters
    from residency.jurisdictions import LegalData
    from residency.plan import Plan
    from residency.routes import Route

FORMATS = ("html", "pdf")
EVIDENCE_SHOWN = 3  # evidence paths shown per finding group; the export has them all
SUBJECTS_SHOWN = 50  # subjects named per route in the register; the count is always given
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;
max-width:1200px;margin:0 auto;padding:1.5rem}
h1{font-size:1.8rem;margin:.2rem 0}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2rem;
margin-top:2.2rem}h3{margin-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}th[data-sort]{cursor:pointer}
dl.cover{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}
.warn{background:#fff4d6;border-left:4px solid #f4a51e;padding:.4rem .6rem}
.advice{font-weight:600}
.sev-high{color:#b3261e;font-weight:600}.sev-medium{color:#9a5b00;font-weight:600}
.sev-low{color:#555}
.todo{background:#fdecea;color:#8a1c13;font-weight:600;padding:0 .25rem}
.basis{white-space:nowrap}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.swatch{display:inline-block;width:.9rem;height:.9rem;border:1px solid #999;
vertical-align:middle;margin-right:.3rem}
img.map{width:100%;height:auto;border:1px solid #d0d7de}
figure.subject{display:inline-block;width:48%;margin:.8rem 1% 0 0;break-inside:avoid}
article.record{border:1px solid #d0d7de;padding:.4rem .8rem;margin:.8rem 0;break-inside:avoid}
article.record table th{width:34%}
nav ol{columns:2}
@page{size:A4 landscape;margin:12mm}
@media print{
body{max-width:none;padding:0;font-size:11px}nav,.screen{display:none}
h2{break-before:page}h2.first{break-before:auto}
details::details-content{content-visibility:visible;display:contents}
a[href^="http"]::after{content:" <" attr(href) ">";font-size:9px;word-break:break-all}
tr,li{break-inside:avoid}thead{display:table-header-group}
}
"""

# Sorts a register column on a click on its header: inline, nothing fetched.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable th[data-sort]").forEach(function(th){
th.addEventListener("click",function(){var t=th.closest("table"),b=t.tBodies[0],
i=Array.prototype.indexOf.call(th.parentNode.children,th),d=th.dataset.dir==="a"?-1:1;
th.dataset.dir=d===1?"a":"d";Array.from(b.rows).sort(function(x,y){
var p=x.cells[i].dataset.key||x.cells[i].textContent,q=y.cells[i].dataset.key||
y.cells[i].textContent;return d*p.localeCompare(q,undefined,{numeric:true});})
.forEach(function(r){b.appendChild(r);});});});
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _list(items: Iterable[str]) -> str:
    return ", ".join(_e(i) for i in items)


def render_map(
    assessment: Assessment, filters: Filters | None = None, *, width: float = 12
) -> bytes:
    """Draw where data lives and flows, by legal status, as a PNG (matplotlib, no tiles).

    Countries are coloured as on the app's map (:data:`residency.geo.COUNTRY_LEGEND`: the
    most severe finding naming them, else the worst basis into them); lines join origin and
    destination, coloured by the worst basis between them, the worst drawn last.
    ``filters`` (e.g. one subject) limits what is drawn; ``width`` is in inches at 100 dpi.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from residency import geo

    def colour(status: str) -> str:
        return "#{:02x}{:02x}{:02x}".format(*geo.STATUS_COLOURS[status])

    countries = geo.country_frame(assessment, filters)
    flows = geo.flow_frame(assessment, filters, by_basis=False)
    order = {s: i for i, s in enumerate(reversed(geo.BASIS_ORDER))}
    flows = flows.assign(_rank=[order[b] for b in flows["basis"]]).sort_values(
        ["_rank", "origin", "destination"], kind="stable"
    )
    fig = Figure(figsize=(width, width * 6.2 / 12), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    world = geo.countries()
    grey = "#{:02x}{:02x}{:02x}".format(*geo.NO_DATA_COLOUR)
    world[world["code"] != "AQ"].plot(ax=ax, color=grey, edgecolor="white", linewidth=0.3)
    if len(countries):
        countries.plot(
            ax=ax, color=[colour(s) for s in countries["status"]], edgecolor="white", linewidth=0.3
        )
    if len(flows):
        widths = [0.4 + min(n, 50) / 25 for n in flows["subjects"]]
        flows.plot(ax=ax, color=[colour(b) for b in flows["basis"]], linewidth=widths, alpha=0.7)
    size = 9 * width / 12
    statuses = [s for s in geo.STATUS_ORDER if s in set(countries["status"])]
    if statuses:
        patches = [Patch(color=colour(s), label=geo.STATUS_LABELS[s]) for s in statuses]
        ax.add_artist(_legend(ax, patches, "lower left", "Countries", size))
    bases = [b for b in geo.BASIS_ORDER if b in set(flows["basis"])]
    if bases:
        lines = [Line2D([], [], color=colour(b), label=geo.STATUS_LABELS[b]) for b in bases]
        _legend(ax, lines, "lower right", "Lines", size)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-100, 85)  # below 58 S (Antarctica is left out): room for the legends
    ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _legend(ax: Any, handles: list[Any], loc: str, title: str, size: float) -> Any:
    """Draw one legend of the map (two columns, framed) and return it."""
    legend = ax.legend(handles=handles, loc=loc, fontsize=size, title=title, frameon=True, ncols=2)
    legend.get_title().set_fontsize(size)
    return legend


class _Sources:
    """Every legal source the report cites, numbered by its export id."""

    def __init__(self, data: LegalData) -> None:
        self.data = data
        self.refs: dict[str, SourceRef] = {}

    def cite(self, refs: Iterable[SourceRef]) -> str:
        """Return links to the sources' entries in the list of sources."""
        ids = []
        for ref in refs:
            key = source_id(ref)
            self.refs.setdefault(key, ref)
            ids.append(key)
        return " ".join(f'<a href="#{k}">[{k}]</a>' for k in sorted(set(ids)))

    def checked(self, ref: SourceRef) -> tuple[str, str]:
        """Answer when the facts citing a source were last checked, and the data's as-of."""
        if ref.regime == "principles":
            dates = [p.retrieved for p in self.data.principles.values()]
            ases = [p.as_of for p in self.data.principles.values()]
            return max(dates).isoformat(), max(ases).isoformat()
        from residency.jurisdictions import regime_facts

        try:
            regime = self.data.regime(ref.regime)
        except KeyError:
            return "", ""
        dates = [
            f.review_date(regime.retrieved) for f in regime_facts(regime) if f.source == ref.id
        ]
        return (max(dates) if dates else regime.retrieved).isoformat(), regime.as_of.isoformat()


def build_report(
    m: DataMap,
    *,
    as_of: date,
    subjects: Iterable[str] = (),
    generated_at: datetime | None = None,
) -> str:
    """Return the review pack of ``m`` on ``as_of`` as one self-contained HTML page.

    ``subjects`` (``client:acme``...) each add a small map of that subject's data.
    """
    from residency.jurisdictions import legal_data

    data = legal_data()
    asked = list(dict.fromkeys(subjects))
    for subject in asked:
        m.where(subject)  # a clear error for an unknown subject, before any work
    assessment = m.assessment(as_of=as_of)
    plan = m.plan(as_of=as_of)
    groups = list(m.finding_groups(as_of=as_of))
    sources = _Sources(data)
    labels = m._labels()
    parts = [
        _cover(m, assessment, data, generated_at or datetime.now(UTC)),
        _map_section(assessment, [(s, labels.get(s, s)) for s in asked]),
        _plan_section(plan),
        _findings_section(assessment, groups, sources),
        _register_section(assessment.routes, labels, sources),
    ]
    parts += _extra_sections(m, assessment, sources)
    parts.append(_sources_section(sources))
    title = f"Transfer review pack: {m.name}"
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{STYLE}</style></head><body>\n"
        + "\n".join(parts)
        + f"\n<footer><p class='advice'>{_e(DISCLAIMER)}</p></footer>\n"
        f"<script>{SORT_SCRIPT}</script>\n</body></html>\n"
    )


def _extra_sections(m: DataMap, assessment: Assessment, sources: _Sources) -> list[str]:
    """Return the assessment records' section."""
    from residency.records import FRAMEWORK, TO_COMPLETE, route_records

    by_id = {r.id: r for r in assessment.routes}
    articles = []
    for record in route_records(assessment, sources.data, m.inventory.assessments):
        route = by_id[record.route]
        steps = []
        for step in record.steps:
            rows = "".join(
                f"<tr><th>{_e(i.question)}</th><td>"
                + (
                    _e(i.answer)
                    if i.answer is not None
                    else f'<span class="todo">{TO_COMPLETE}</span>'
                )
                + (f" {sources.cite(i.sources)}" if i.sources else "")
                + "</td></tr>"
                for i in step.items
            )
            steps.append(f"<h4>{step.number}. {_e(step.title)}</h4><table>{rows}</table>")
        articles.append(
            f'<article class="record" id="a-{record.route}"><h3>'
            f'<a href="#{record.route}">{record.route}</a>: {_list(route.regimes)} to '
            f"{_e(route.destination)}, {_e(route.recipient)} ({_e(route.kind)}, "
            f"{_e(route.basis)})</h3><p>{record.open_items} questions to be completed. "
            f"Re-evaluate by {record.review_by}.</p>" + "".join(steps) + "</article>"
        )
    body = "".join(articles) or "<p>No route needs an assessment record.</p>"
    return [
        '<section id="assessments"><h2>Transfer assessments</h2>'
        f"<p>One record per route whose basis is a safeguard or that has no basis "
        f"({len(articles)} routes), following the {_e(FRAMEWORK)}. Each question is answered "
        "from the inventory and the legal data where they record it; the rest is marked "
        f'<span class="todo">{TO_COMPLETE}</span> for a person to finish. '
        "<code>residency export --assessments</code> writes the same records into the JSON "
        "export by route id.</p>" + body + "</section>"
    ]


def _cover(m: DataMap, assessment: Assessment, data: LegalData, generated: datetime) -> str:
    inv = m.inventory
    note = data.date_note(assessment.as_of)
    warn = f'<p class="warn">Warning: {_e(note)}</p>' if note else ""
    rows = [
        ("Organisation", f"{_e(inv.organisation.name)} ({_e(inv.organisation.country)})"),
        ("Inventory hash", f'<span class="mono">{_e(inv.content_hash())}</span>'),
        ("Law judged as of", _e(assessment.as_of.isoformat())),
        (
            "Legal data as of",
            f'{_e(data.as_of.isoformat())} (<span class="mono">{_e(data.content_hash)}</span>)',
        ),
        (
            "Generated",
            f'<time id="generated" datetime="{_e(generated.isoformat(timespec="seconds"))}">'
            f"{_e(generated.strftime('%Y-%m-%d %H:%M UTC'))}</time>",
        ),
        ("Status", '<span class="advice">Not legal advice.</span>'),
    ]
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    toc = [
        ("map", "Where data lives"),
        ("plan", "What to do first"),
        ("findings", "Findings"),
        ("register", "Transfer register by route"),
        ("assessments", "Transfer assessments"),
        ("sources", "Legal sources"),
    ]
    nav = "".join(f'<li><a href="#{k}">{t}</a></li>' for k, t in toc)
    return (
        '<header id="cover"><p>Transfer review pack</p>'
        f"<h1>{_e(inv.organisation.name)}</h1>"
        f'<dl class="cover">{body}</dl>{warn}'
        f'<p class="advice">{_e(DISCLAIMER)}</p>'
        f"<nav><h2 class='first'>Contents</h2><ol>{nav}</ol></nav></header>"
    )


def _subject_maps(assessment: Assessment, subjects: list[tuple[str, str]]) -> str:
    from residency.geo import Filters

    out = []
    for subject, label in subjects:
        png = base64.b64encode(render_map(assessment, Filters(subject=subject), width=7))
        out.append(
            f'<figure class="subject"><img class="map" alt="Map of the data of {_e(label)}" '
            f'src="data:image/png;base64,{png.decode("ascii")}">'
            f"<figcaption>{_e(label)} ({_e(subject)})</figcaption></figure>"
        )
    return "".join(out)


def _map_section(assessment: Assessment, subjects: list[tuple[str, str]]) -> str:
    from residency import geo

    png = base64.b64encode(render_map(assessment)).decode("ascii")
    frame = geo.country_frame(assessment)
    rows = []
    for row in frame.sort_values(["code"]).itertuples(index=False):
        hex_colour = "#{:02x}{:02x}{:02x}".format(*geo.STATUS_COLOURS[row.status])
        rows.append(
            f"<tr><td>{_e(row.code)}</td><td>{_e(row.name)}</td>"
            f'<td><span class="swatch" style="background:{hex_colour}"></span>'
            f"{_e(row.status_label)}</td><td>{_e(row.reason)}</td><td>{int(row.subjects)}</td>"
            f"<td>{int(row.transfers)}</td><td>{int(row.findings)}</td></tr>"
        )
    return (
        '<section id="map"><h2>Where data lives</h2>'
        f"<p>{_e(geo.COUNTRY_LEGEND)} Lines join origin and destination countries, coloured "
        "by the worst legal basis between them and thicker for more subjects.</p>"
        f'<img class="map" alt="World map of where data lives and flows, by legal status" '
        f'src="data:image/png;base64,{png}">'
        "<table><thead><tr><th>Code</th><th>Country</th><th>Status</th><th>Why</th>"
        "<th>Subjects</th><th>Transfers</th><th>Findings</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + _subject_maps(assessment, subjects)
        + "</section>"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)


def _plan_section(plan: Plan) -> str:
    items = []
    for a in plan.actions:
        how = f"<p>{_e(a.how)}</p>" if a.how else ""
        introduces = (
            f"<p>Introduces: {_counts(a.introduces)}</p>" if any(a.introduces.values()) else ""
        )
        evidence = "".join(f"<li>{_e(x)}</li>" for x in a.evidence)
        items.append(
            f"<li><h3>{_e(a.title)}</h3>"
            f'<p>Change: <span class="mono">{_e(a.change)}</span>. Resolves {_counts(a.resolves)}'
            f" findings for {len(a.subjects)} subjects; improves {a.transfers_improved} "
            f"transfers.</p>{how}{introduces}"
            f"<details><summary>Evidence</summary><ul>{evidence}</ul></details></li>"
        )
    body = "<ol>" + "".join(items) + "</ol>" if items else "<p>No action resolves a finding.</p>"
    combined = (
        f"<p>Findings today: {_counts(plan.before)}. The first {min(plan.top, len(plan.actions))}"
        f" actions together resolve {_counts(plan.combined_resolves)} and leave "
        f"{_counts(plan.remaining)}.</p>"
    )
    return (
        '<section id="plan"><h2>What to do first</h2>'
        "<p>Actions best first: each is a change judged with what-if on the same date, "
        "ordered by the high-severity findings it resolves (docs/plan.md).</p>"
        f"{combined}{body}</section>"
    )


def _findings_section(assessment: Assessment, groups: list[FindingGroup], sources: _Sources) -> str:
    by_id = {f.id: f for f in assessment.findings}
    blocks = []
    for g in groups:
        found = [by_id[i] for i in g.findings if i in by_id]
        refs = [s for f in found for s in f.sources]
        evidence = list(dict.fromkeys(e for f in found for e in f.evidence))
        shown = "".join(f'<li class="mono">{_e(x)}</li>' for x in evidence[:EVIDENCE_SHOWN])
        more = (
            f"<li>... and {len(evidence) - EVIDENCE_SHOWN} more paths (the JSON export has "
            "them all)</li>"
            if len(evidence) > EVIDENCE_SHOWN
            else ""
        )
        explanation = found[0].explanation if found else ""
        cited = sources.cite(refs)
        blocks.append(
            f'<li><p><span class="sev-{_e(g.severity)}">{_e(g.severity)}</span> '
            f"{_e(g.summary)}</p><p>{_e(explanation)}</p>"
            f"<p>Legal rule: {_e(g.legal_rule or 'none recorded')}. "
            f"Sources: {cited or 'none recorded'}</p>"
            f"<details><summary>{len(g.subjects)} subjects, {len(found)} findings</summary>"
            f'<p class="mono">{_list(g.subjects)}</p></details>'
            f"<p>Evidence:</p><ul>{shown}{more}</ul></li>"
        )
    body = "<ol>" + "".join(blocks) + "</ol>" if blocks else "<p>No findings.</p>"
    return (
        '<section id="findings"><h2>Findings</h2>'
        f"<p>{len(assessment.findings)} findings in {len(groups)} groups, most severe and "
        f"largest first, each with its evidence and sources.</p>{body}</section>"
    )


def _register_section(routes: list[Route], labels: dict[str, str], sources: _Sources) -> str:
    from residency.records import needs_record

    heads = [
        "Route",
        "Origin regime",
        "Destination",
        "Recipient",
        "Role",
        "Data",
        "Kind",
        "Basis",
        "Mechanism",
        "TIA needed",
        "Subjects",
        "Sources",
    ]
    head = "".join(f'<th data-sort="{i}">{h}</th>' for i, h in enumerate(heads))
    rows = []
    for r in routes:
        named = [f"{labels.get(s, s)} ({s})" if labels.get(s, s) != s else s for s in r.subjects]
        listed = _list(named[:SUBJECTS_SHOWN]) + (
            f" ... and {len(named) - SUBJECTS_SHOWN} more" if len(named) > SUBJECTS_SHOWN else ""
        )
        record = f'<br><a href="#a-{r.id}">assessment</a>' if needs_record(r) else ""
        rows.append(
            f'<tr id="{r.id}"><td class="mono">{r.id}{record}</td><td>{_list(r.regimes)}</td>'
            f"<td>{_e(r.destination)} ({_e(places.place_name(r.destination))})</td>"
            f"<td>{_e(r.recipient)}</td><td>{_e(r.key.recipient_type)}</td>"
            f"<td>{_list(r.data)}</td><td>{_e(r.kind)}</td>"
            f'<td class="basis">{_e(r.basis)}</td><td>{_e(r.instrument or "")}</td>'
            f"<td>{'yes' if r.tia_required else 'no'}</td>"
            f'<td data-key="{len(r.subjects):08d}">{len(r.subjects)}: {listed}</td>'
            f"<td>{sources.cite(r.sources)}</td></tr>"
        )
    return (
        '<section id="register"><h2>Transfer register by route</h2>'
        f"<p>{len(routes)} routes: one row per origin regime, destination, recipient, kind, "
        "basis and mechanism, sorted by regime, destination, kind and recipient "
        '<span class="screen">(click a column header to sort)</span>.</p>'
        f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _sources_section(sources: _Sources) -> str:
    rows = []
    for key in sorted(sources.refs):
        ref = sources.refs[key]
        checked, data_as_of = sources.checked(ref)
        url = ref.url or ""
        link = (
            f'<a href="{_e(url)}">{_e(url)}</a>'
            if url.startswith(("https://", "http://"))
            else _e(url)
        )
        rows.append(
            f'<tr id="{key}"><td class="mono">{key}</td><td>{_e(ref.regime)}</td>'
            f"<td>{_e(ref.title)}</td><td>{_e(ref.citation or '')}</td>"
            f"<td>{_e(ref.locator or '')}</td><td>{link}</td>"
            f"<td>{_e(ref.confidence)}</td><td>{_e(checked)}</td><td>{_e(data_as_of)}</td></tr>"
        )
    return (
        '<section id="sources"><h2>Legal sources</h2>'
        f"<p>{len(rows)} sources cited above. <em>Checked</em> is the date a curator last "
        "checked the facts citing the source against it; <em>data as of</em> the date its "
        "regime's data is true of. Facts of medium or low confidence need checking.</p>"
        "<table><thead><tr><th>Id</th><th>Regime</th><th>Title</th><th>Citation</th>"
        "<th>Locator</th><th>Link</th><th>Confidence</th><th>Checked</th><th>Data as of</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>"
    )


def write_report(
    m: DataMap,
    path: str | Path,
    *,
    as_of: date,
    fmt: str = "html",
    subjects: Iterable[str] = (),
) -> Path:
    """Write the review pack to ``path`` as HTML, or as PDF printed by headless Chromium.

    The file appears under its name only when complete. Raises
    :class:`residency.ResidencyError` for an unknown format, a missing Chromium or a
    file that cannot be written.
    """
    if fmt not in FORMATS:
        msg = f"unknown report format {fmt!r}: expected html or pdf"
        raise ResidencyError(msg)
    out = Path(path)
    chromium = chromium_path() if fmt == "pdf" else None
    if fmt == "pdf" and chromium is None:
        msg = (
            f"--format pdf needs Chromium, and there is none at "
            f"{os.environ.get('CHROMIUM') or '/usr/bin/chromium'} (set $CHROMIUM, install "
            "Debian's chromium, or write HTML and use the browser's Print to PDF)"
        )
        raise ResidencyError(msg)
    text = build_report(m, as_of=as_of, subjects=subjects)
    if chromium is None:
        _atomic_write(out, text.encode("utf-8"))
    else:
        _atomic_write(out, print_pdf(text, chromium))
    return out


def chromium_path() -> str | None:
    """Answer where Chromium is: ``$CHROMIUM`` when set, else ``/usr/bin/chromium`` (None:
    not there, or not executable)."""
    candidate = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return candidate
    return None


def print_pdf(text: str, chromium: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium (no network, no profile kept)."""
    with tempfile.TemporaryDirectory(prefix="residency-report-") as folder:
        page = Path(folder) / "review.html"
        page.write_text(text, encoding="utf-8")
        pdf = Path(folder) / "review.pdf"
        args = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(args, capture_output=True, timeout=180, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            msg = f"Chromium could not print the report: {exc}"
            raise ResidencyError(msg) from None
        if not pdf.is_file() or pdf.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            msg = f"Chromium did not print the report (exit {done.returncode}): {' '.join(tail)}"
            raise ResidencyError(msg)
        return pdf.read_bytes()


def _atomic_write(out: Path, content: bytes) -> None:
    write_atomically(out, lambda fh: fh.write(content), binary=True)
