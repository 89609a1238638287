"""Import the 100x organisation into the store: PostgreSQL (a throwaway server) and SQLite.

.venv/bin/python benchmarks/bench_store.py                 # generates /tmp/residency-x100
.venv/bin/python benchmarks/bench_store.py --inventory /tmp/x100 --pg postgresql://...

Times, each on a new empty store: the first import (one snapshot), a second import of a
changed copy (a second snapshot beside the first), a re-import of the same content (no
snapshot: the hash check only), and loading the latest snapshot back. The inventory is read
and validated once, before the clock starts. Target: the first import into PostgreSQL in at
most 30 s.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from residency.inventory import read_inventory  # noqa: E402
from residency.store import Store  # noqa: E402
from tests import pg  # noqa: E402

TARGET_SECONDS = 30.0


def _timed(label: str, action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return seconds, result


def bench(url: str, inventory) -> float:
    """Run the four steps on the empty store ``url``; return the first import's seconds."""
    changed = inventory.model_copy(deep=True)
    changed.staff[0].country = "PT" if inventory.staff[0].country != "PT" else "ES"
    store = Store(url)
    first, result = _timed("import (snapshot 1)", lambda: store.import_inventory(inventory))
    assert result.snapshot == 1
    _timed("import of a changed copy (snapshot 2)", lambda: store.import_inventory(changed))
    _, again = _timed("re-import, same content", lambda: store.import_inventory(changed))
    assert not again.changed
    _, back = _timed(
        "load the latest snapshot", lambda: store.load_inventory(inventory.organisation.name)
    )
    assert back.content_hash() == changed.content_hash()
    return first


@contextlib.contextmanager
def _postgres(url: str | None) -> Iterator[str]:
    if url:
        name = f"residency_bench_{uuid.uuid4().hex[:8]}"
        yield pg.create_database(url, name)
        pg.drop_database(url, name)
        return
    with pg.throwaway_cluster(fsync=True) as admin:  # durable, as a real server is
        yield pg.create_database(admin, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--inventory", type=Path, help="an inventory folder (default: generate 100x)"
    )
    parser.add_argument("--pg", help="a PostgreSQL admin URL (default: a throwaway server)")
    args = parser.parse_args()
    folder = args.inventory
    if folder is None:
        folder = Path(tempfile.gettempdir()) / "residency-x100"
        if not (folder / "inventory.yaml").exists():
            subprocess.run(
                [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--staff", "6100",
                 "--clients", "3400", "--systems", "700", "--out", str(folder)],
                check=True,
            )  # fmt: skip
    start = time.perf_counter()
    inventory = read_inventory(folder)
    print(
        f"{folder}: {len(inventory.staff)} staff, {len(inventory.clients)} clients, "
        f"{len(inventory.systems)} systems (read and validated in "
        f"{time.perf_counter() - start:.2f} s, not counted)",
        flush=True,
    )
    print("PostgreSQL:", flush=True)
    with _postgres(args.pg) as url:
        seconds = bench(url, inventory)
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:", flush=True)
        bench(f"sqlite:///{tmp}/store.db", inventory)
    verdict = "within" if seconds <= TARGET_SECONDS else "OVER"
    print(f"PostgreSQL import: {seconds:.2f} s, {verdict} the {TARGET_SECONDS:.0f} s target")
    if seconds > TARGET_SECONDS:
        sys.exit(1)


if __name__ == "__main__":
    main()
