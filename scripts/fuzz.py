"""Mutation fuzzer: N mutated inventories, each through ``residency check`` and ``export``.

python scripts/fuzz.py --cases 10000 --workers 2 --seed 17

Each case mutates the demo folder or a small inventory (tests/fuzzing.py) and runs both
commands in a worker process with a memory limit and a timeout, classifying each run as
a valid result, a clean error, a traceback, an out-of-memory, a hang or a crash. Exits 1
if anything but valid results and clean errors was seen. ``make fuzz`` runs it.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import random
import signal
import sys
import tempfile
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTCOMES = ("valid", "clean error", "traceback", "out of memory", "hang", "crash")
BAD = OUTCOMES[2:]


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hang


def _init_worker(memory_gb: float) -> None:
    import resource

    limit = int(memory_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _alarm)


def _run(args: list[str], timeout: int) -> tuple[str, str]:
    from typer.testing import CliRunner

    from residency.cli import app

    signal.alarm(timeout)
    try:
        result = CliRunner().invoke(app, args)
    except _Hang:
        return "hang", " ".join(args[:1])
    except MemoryError:
        return "out of memory", args[0]
    finally:
        signal.alarm(0)
    exc = result.exception
    if isinstance(exc, _Hang):
        return "hang", args[0]
    if isinstance(exc, MemoryError):
        return "out of memory", args[0]
    if exc is not None and not isinstance(exc, SystemExit):
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        return "traceback", f"{args[0]}: {type(exc).__name__} at {where}: {str(exc)[:120]}"
    if result.exit_code == 0:
        return "valid", ""
    if result.exit_code == 1 and "error:" in result.output and "Traceback" not in result.output:
        if "error: 0 problems" in result.output:
            return "traceback", f"{args[0]}: an error that lists no problem"
        return "clean error", ""
    return "traceback", f"{args[0]}: exit {result.exit_code}: {result.output[-200:]!r}"


def run_case(seed: int, case: int, timeout: int) -> list[tuple[str, str]]:
    """Mutate, write and run one case; answer (outcome, signature) for check and export."""
    from tests import fuzzing

    rng = random.Random(seed * 1_000_003 + case)
    bases = fuzzing.base_inventories()
    files = fuzzing.mutate(rng, dict(bases[rng.randrange(len(bases))]))
    with tempfile.TemporaryDirectory(prefix="residency-fuzz-") as tmp:
        folder = fuzzing.write(Path(tmp) / "inv", files)
        return [
            _run(["check", "-i", str(folder)], timeout),
            _run(["export", "-i", str(folder), "-o", str(Path(tmp) / "out.json")], timeout),
        ]


class Tally:
    """Counts of outcomes per command, and the failure signatures with an example case."""

    def __init__(self) -> None:
        self.counts = {cmd: collections.Counter[str]() for cmd in ("check", "export")}
        self.signatures: collections.Counter[str] = collections.Counter()
        self.examples: dict[str, int] = {}
        self.done = 0

    def record(self, case: int, results: list[tuple[str, str]]) -> None:
        """Count one case's (outcome, signature) for check and export."""
        for cmd, (outcome, sig) in zip(("check", "export"), results, strict=True):
            self.counts[cmd][outcome] += 1
            if outcome in BAD:
                self.signatures[sig] += 1
                self.examples.setdefault(sig, case)
        self.done += 1

    def bad(self) -> int:
        """Answer how many runs were anything but a valid result or a clean error."""
        return sum(self.counts[cmd][o] for cmd in self.counts for o in BAD)


def _round(opts: argparse.Namespace, cases: list[int], tally: Tally, started: float) -> list[int]:
    """Run ``cases`` in one worker pool; answer the cases to run again if a worker died."""
    with concurrent.futures.ProcessPoolExecutor(
        opts.workers, initializer=_init_worker, initargs=(opts.memory_gb,)
    ) as pool:
        futures = {pool.submit(run_case, opts.seed, c, opts.timeout): c for c in cases}
        try:
            for future in concurrent.futures.as_completed(futures):
                try:
                    results = future.result()
                except BrokenProcessPool:
                    raise
                except Exception as exc:  # the harness itself failed: still a failure
                    sig = f"fuzzer: {type(exc).__name__}: {str(exc)[:120]}"
                    results = [("crash", sig), ("crash", sig)]
                tally.record(futures[future], results)
                if tally.done % 500 == 0:
                    rate = tally.done / (time.perf_counter() - started)
                    print(f"{tally.done:,} cases, {rate:.1f}/s", file=sys.stderr, flush=True)
        except BrokenProcessPool:
            # One case killed its worker: count it as a crash and run the rest again.
            unfinished = [
                c for f, c in futures.items() if not f.done() or f.exception() is not None
            ]
            tally.record(unfinished[0], [("crash", "worker died"), ("crash", "worker died")])
            return unfinished[1:]
    return []


def main() -> int:
    """Run the fuzzer and print the outcome table; answer the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--timeout", type=int, default=30, help="seconds per command")
    parser.add_argument("--memory-gb", type=float, default=3.0, help="per worker")
    parser.add_argument("--json", type=Path, help="also write the counts here")
    opts = parser.parse_args()

    tally = Tally()
    started = time.perf_counter()
    pending = list(range(opts.cases))
    while pending:
        pending = _round(opts, pending, tally, started)
    seconds = time.perf_counter() - started
    counts = tally.counts
    print(f"\n{opts.cases:,} inventories (seed {opts.seed}) in {seconds:.0f} s\n")
    print("| outcome | check | export |\n| --- | --- | --- |")
    for outcome in OUTCOMES:
        print(f"| {outcome} | {counts['check'][outcome]:,} | {counts['export'][outcome]:,} |")
    for sig, n in tally.signatures.most_common(30):
        print(f"{n:>6}  {sig}  (e.g. --seed {opts.seed}, case {tally.examples[sig]})")
    if opts.json:
        opts.json.write_text(
            json.dumps({k: dict(v) for k, v in counts.items()} | {"seconds": seconds}, indent=2)
        )
    return 1 if tally.bad() else 0


if __name__ == "__main__":
    sys.exit(main())
