"""Time load + graph + ``where`` for every client, from demo size up to an enterprise.

    python benchmarks/bench_where.py            # all sizes (about a minute)
    python benchmarks/bench_where.py --quick    # 1x and 10x only

Each size runs in a fresh subprocess, so its peak memory (max RSS) is its own.
Targets: the enterprise size under 30 s and 4 GB; scaling exponent <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

import residency

DEMO = (61, 34, 7)  # staff, clients, systems of the built-in demo organisation
SIZES = {"1x demo": 1, "10x demo": 10, "100x demo": 100}
ENTERPRISE = ("enterprise", (100_000, 20_000, 1_000))


def measure(folder: str) -> dict[str, float]:
    """Run inside the child process: time each stage on one inventory folder."""
    from residency.graph import build_graph
    from residency.inventory import read_inventory
    from residency.query import where_all

    t0 = time.perf_counter()
    inventory = read_inventory(folder)
    t1 = time.perf_counter()
    G = build_graph(inventory)
    t2 = time.perf_counter()
    locations = sum(len(r.locations) for r in where_all(G, kind="client").values())
    t3 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_s": t1 - t0,
        "graph_s": t2 - t1,
        "where_s": t3 - t2,
        "total_s": t3 - t0,
        "peak_mb": peak_mb,
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "locations": locations,
    }


def run_size(label: str, counts: tuple[int, int, int], workdir: Path) -> dict[str, object]:
    staff, clients, systems = counts
    folder = generate(
        workdir / label.replace(" ", "_"), staff=staff, clients=clients, systems=systems
    )
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout)
    return {"size": label, "staff": staff, "clients": clients, "systems": systems, **figures}


def exponent(rows: list[dict[str, object]]) -> float:
    """Least-squares slope of log(total time) against log(staff + clients + systems)."""
    xs = [math.log(float(r["staff"]) + float(r["clients"]) + float(r["systems"])) for r in rows]
    ys = [math.log(float(r["total_s"])) for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only 1x and 10x")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    sizes = [(label, tuple(n * k for n in DEMO)) for label, k in SIZES.items()]
    if args.quick:
        sizes = sizes[:2]
    else:
        sizes.append(ENTERPRISE)
    print(f"residency {residency.__version__}, Python {sys.version.split()[0]}")
    header = (
        f"{'size':<11}{'staff':>8}{'clients':>8}{'systems':>8}{'load s':>8}{'graph s':>8}"
        f"{'where s':>8}{'total s':>8}{'peak MB':>9}{'locations':>11}"
    )
    print(header)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, counts in sizes:
            r = run_size(label, counts, Path(tmp))
            rows.append(r)
            print(
                f"{r['size']:<11}{r['staff']:>8}{r['clients']:>8}{r['systems']:>8}"
                f"{r['load_s']:>8.2f}{r['graph_s']:>8.2f}{r['where_s']:>8.2f}"
                f"{r['total_s']:>8.2f}{r['peak_mb']:>9.0f}{r['locations']:>11}",
                flush=True,
            )
    fit = [r for r in rows if r["size"] != "1x demo"]  # 1x is dominated by fixed start-up cost
    if len(fit) < 2:
        fit = rows
    print(f"scaling exponent (total time vs entries, from 10x): {exponent(fit):.2f}")


if __name__ == "__main__":
    main()
