"""Measure the whole chain a user runs, stage by stage, from demo size to an enterprise.

    python benchmarks/bench_chain.py            # every size and the app (several minutes)
    python benchmarks/bench_chain.py --quick    # 1x and 10x only, no app

For each size (1x, 10x, 100x the demo, and an enterprise of 100,000 staff, 20,000
clients, 1,000 systems), in a fresh process of its own so that its peak memory (max RSS)
is its own:

- the stages in one process: read + validate, graph, assessment (every transfer judged,
  findings), export written to disk, then ``where`` for every client (the query layer);
- the commands as a user runs them, each in its own process: ``residency check``,
  ``residency findings``, ``residency export`` (wall time and peak RSS);
- the floor: reading the same files with the standard library (csv, and yaml's
  CSafeLoader), and the export's time as a multiple of it.

Then ``residency --help`` and ``--version``, the demo's ``residency export``, the scaling
exponent of the export's wall time from 10x up, and the app on the 100x organisation
(every page rendered with AppTest, and the time each interaction takes to settle).
docs/performance.md records the figures and the targets.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

import residency

ROOT = Path(__file__).resolve().parent.parent
DEMO = (61, 34, 7)  # staff, clients, systems of the built-in demo organisation
SIZES = {"1x demo": 1, "10x demo": 10, "100x demo": 100}
PLAN_UP_TO = 6100  # staff: residency plan is timed up to the 100x organisation
ENTERPRISE = ("enterprise", (100_000, 20_000, 1_000))
AS_OF = "2026-11-26"
BIN = Path(sys.executable).parent / "residency"


def stages(folder: str, out: str) -> dict[str, float]:
    """Run inside the child process: time each stage of the chain on one inventory."""
    from datetime import date

    from residency.export import export_parts, write_export
    from residency.findings import assess_all
    from residency.graph import build_graph
    from residency.inventory import read_inventory
    from residency.jurisdictions import legal_data
    from residency.query import where_all

    t0 = time.perf_counter()
    inventory = read_inventory(folder)
    t1 = time.perf_counter()
    G = build_graph(inventory)
    t2 = time.perf_counter()
    assessment = assess_all(G, as_of=date.fromisoformat(AS_OF))
    t3 = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh:
        counts = write_export(fh, export_parts(inventory, assessment, legal_data()))
    t4 = time.perf_counter()
    chain_peak = _peak_mb()
    locations = sum(len(r.locations) for r in where_all(G, kind="client").values())
    t5 = time.perf_counter()
    return {
        "read_s": t1 - t0,
        "graph_s": t2 - t1,
        "assess_s": t3 - t2,
        "export_s": t4 - t3,
        "chain_s": t4 - t0,
        "chain_peak_mb": chain_peak,
        "where_s": t5 - t4,
        "where_peak_mb": _peak_mb(),
        "routes": counts["routes"],
        "findings": counts["findings"],
        "locations": locations,
        "export_mb": os.path.getsize(out) / 1e6,
    }


def floor(folder: Path) -> float:
    """Time reading the same files with the standard library alone (the parse floor)."""
    import yaml

    t0 = time.perf_counter()
    yaml.load((folder / "inventory.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    for name in ("staff.csv", "clients.csv"):
        with (folder / name).open(newline="", encoding="utf-8") as fh:
            for _ in csv.reader(fh):
                pass
    return time.perf_counter() - t0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def command(args: list[str], ok: tuple[int, ...] = (0,)) -> dict[str, float]:
    """Run one ``residency`` command in a process of its own: wall time and peak RSS.

    ``ok`` lists the exit codes that count as a run (a failed export must not be timed).
    """
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(json.dumps({'wall_s': wall, 'peak_mb': peak, 'rc': r.returncode,"
        " 'err': r.stderr.decode()[-300:]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(BIN), *args], check=True, capture_output=True, text=True
    )
    figures = json.loads(out.stdout)
    if figures["rc"] not in ok:
        msg = f"{args}: exit {figures['rc']}: {figures['err']}"
        raise RuntimeError(msg)
    return figures


def run_size(label: str, counts: tuple[int, int, int], workdir: Path) -> dict[str, object]:
    staff, clients, systems = counts
    folder = generate(
        workdir / label.replace(" ", "_"), staff=staff, clients=clients, systems=systems
    )
    out = workdir / f"{label.replace(' ', '_')}.json"
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    row: dict[str, object] = {"size": label, "staff": staff, "clients": clients}
    row["systems"] = systems
    row.update(json.loads(child.stdout))
    row["floor_s"] = floor(folder)
    inv = ["-i", str(folder)]
    row["check"] = command(["check", *inv])
    row["findings_cmd"] = command(["findings", *inv, "--as-of", AS_OF])
    row["export_cmd"] = command(["export", *inv, "--as-of", AS_OF, "-o", str(out)])
    if staff <= PLAN_UP_TO:  # beyond, each candidate is a near-full assessment (docs/plan.md)
        row["plan_cmd"] = command(["plan", *inv, "--as-of", AS_OF])
    return row


def wide(workdir: Path) -> list[tuple[str, dict[str, float], dict[str, float]]]:
    """Valid but very long lists (issue 17): 50,000 sub-processors, 10,000 staff-data systems.

    Both need ``RESIDENCY_MAX_LIST_ITEMS`` raised above its default of 10,000.
    """
    import yaml

    base = yaml.safe_load((ROOT / "tests" / "data" / "passing_small.yaml").read_text("utf-8"))
    codes = ["US", "IN", "DE", "BR", "JP", "SG", "AU", "ZA", "CN", "FR"]
    subs = yaml.safe_load(yaml.safe_dump(base))
    slack = next(s for s in subs["systems"] if s["id"] == "slack")
    slack["subprocessors"] = [
        {"name": f"Sub {i}", "purpose": "p", "countries": [codes[i % 10]]} for i in range(50_000)
    ]
    staff_data = yaml.safe_load(yaml.safe_dump(base))
    staff_data["systems"] += [
        {"id": f"s{i}", "vendor": "V", "vendor_country": "US", "hosting": [{"country": "US"}]}
        for i in range(10_000)
    ]
    staff_data["organisation"]["staff_data"]["systems"] = [f"s{i}" for i in range(10_000)]
    rows = []
    os.environ["RESIDENCY_MAX_LIST_ITEMS"] = "100000"  # inherited by the commands
    for label, doc in (("50,000 sub-processors", subs), ("10,000 staff-data systems", staff_data)):
        path = workdir / f"{label.split()[0].replace(',', '')}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        inv = ["-i", str(path)]
        out = str(workdir / "wide.json")
        rows.append(
            (
                f"{label} ({path.stat().st_size / 1e6:.1f} MB)",
                command(["check", *inv]),
                command(["export", *inv, "--as-of", AS_OF, "-o", out]),
            )
        )
    del os.environ["RESIDENCY_MAX_LIST_ITEMS"]
    return rows


def exponent(rows: list[dict[str, object]]) -> float:
    """Least-squares slope of log(export wall time) against log(entries)."""
    xs = [math.log(float(r["staff"]) + float(r["clients"]) + float(r["systems"])) for r in rows]
    ys = [math.log(float(r["export_cmd"]["wall_s"])) for r in rows]  # type: ignore[index]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def app_timings(folder: Path) -> list[tuple[str, float]]:
    """Render every page of the app on an uploaded organisation; time each interaction."""
    from streamlit.testing.v1 import AppTest

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("inventory.yaml", "staff.csv", "clients.csv"):
            z.write(folder / name, name)
    os.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["uploaded_inventory"] = ("organisation.zip", buffer.getvalue())
    timings = []

    def timed(label: str, action: object) -> None:
        t = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append((label, time.perf_counter() - t))
        if at.exception:
            msg = f"{label}: {at.exception}"
            raise RuntimeError(msg)

    timed("first load (validate, graph, map)", at.run)
    timed("map again (cached)", at.run)
    for page in (
        "app_pages/where.py",
        "app_pages/transfers.py",
        "app_pages/plan.py",
        "app_pages/findings.py",
        "app_pages/ai.py",
        "app_pages/inventory.py",
        "app_pages/map.py",
    ):
        at.switch_page(page)
        timed(f"open {page.split('/')[1]}", at.run)
    at.switch_page("app_pages/map.py")
    at.run()
    subject = at.selectbox[0]
    timed("map: pick a subject", lambda: subject.set_value(subject.options[1]).run())
    timed("map: change the as-of date", lambda: at.date_input[0].set_value("2022-01-01").run())
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only 1x and 10x, no app")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--app", help=argparse.SUPPRESS)
    parser.add_argument("--wide", action="store_true", help="only the very long lists")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(stages(*args.child)))
        return
    if args.app:
        print(json.dumps(app_timings(Path(args.app))))
        return
    sizes = [(label, tuple(n * k for n in DEMO)) for label, k in SIZES.items()]
    if args.quick:
        sizes = sizes[:2]
    else:
        sizes.append(ENTERPRISE)
    if args.wide:
        with tempfile.TemporaryDirectory() as tmp:
            _report_wide(wide(Path(tmp)))
        return
    python = sys.version.split()[0]
    print(f"residency {residency.__version__}, Python {python}, {os.cpu_count()} cores")
    for flag in ("--help", "--version"):
        print(f"residency {flag}: {command([flag])['wall_s']:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        demo = command(["export", "--as-of", AS_OF, "-o", str(Path(tmp) / "demo.json")])
        size = (Path(tmp) / "demo.json").stat().st_size / 1e6
        wall, peak = demo["wall_s"], demo["peak_mb"]
        print(f"demo residency export: {wall:.2f} s, {peak:.0f} MB, {size:.2f} MB file")
        plan = command(["plan", "--as-of", AS_OF])
        print(f"demo residency plan: {plan['wall_s']:.2f} s, {plan['peak_mb']:.0f} MB")
        rows = [_report(run_size(label, counts, Path(tmp))) for label, counts in sizes]
        fit = [r for r in rows if r["size"] != "1x demo"]
        slope = exponent(fit if len(fit) >= 2 else rows)
        print(f"scaling exponent (residency export wall time vs entries, from 10x): {slope:.2f}")
        if not args.quick:
            _report_wide(wide(Path(tmp)))
            folder = Path(tmp) / "100x_demo"
            out = subprocess.run(
                [sys.executable, __file__, "--app", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            )
            print("app on the 100x organisation (AppTest, seconds to settle):")
            for label, seconds in json.loads(out.stdout):
                print(f"  {label:<38}{seconds:>6.2f}")


def _report_wide(rows: list[tuple[str, dict[str, float], dict[str, float]]]) -> None:
    print("very long lists (commands, wall time / peak RSS):")
    for label, check, export in rows:
        print(
            f"  {label:<38} check {check['wall_s']:.2f} s / {check['peak_mb']:.0f} MB, "
            f"export {export['wall_s']:.2f} s / {export['peak_mb']:.0f} MB"
        )


def _report(r: dict[str, object]) -> dict[str, object]:
    """Print one size's figures as they arrive."""
    c, f, e = r["check"], r["findings_cmd"], r["export_cmd"]
    print(
        f"\n{r['size']}: {r['staff']} staff, {r['clients']} clients, {r['systems']} systems\n"
        f"  stages: read {r['read_s']:.2f} s, graph {r['graph_s']:.2f} s, "
        f"assess {r['assess_s']:.2f} s, export {r['export_s']:.2f} s = {r['chain_s']:.2f} s, "
        f"peak {r['chain_peak_mb']:.0f} MB; where (every client) {r['where_s']:.2f} s, "
        f"peak then {r['where_peak_mb']:.0f} MB\n"
        f"  answer: {r['routes']} routes, {r['findings']} findings, "
        f"{r['locations']} client locations, export {r['export_mb']:.1f} MB\n"
        f"  commands: check {c['wall_s']:.2f} s / {c['peak_mb']:.0f} MB, "  # type: ignore[index]
        f"findings {f['wall_s']:.2f} s / {f['peak_mb']:.0f} MB, "  # type: ignore[index]
        f"export {e['wall_s']:.2f} s / {e['peak_mb']:.0f} MB\n"  # type: ignore[index]
        f"  floor (csv + CSafeLoader): {r['floor_s']:.2f} s; "
        f"export = {float(e['wall_s']) / float(r['floor_s']):.0f}x the floor",  # type: ignore[index]
        flush=True,
    )
    p = r.get("plan_cmd")
    if p:
        print(f"  plan: {p['wall_s']:.2f} s / {p['peak_mb']:.0f} MB", flush=True)  # type: ignore[index]
    return r


if __name__ == "__main__":
    main()
