"""The store under faults: SIGKILL mid-import and concurrent imports, with real processes."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from residency.store import Store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
DEMO = ROOT / "residency" / "data" / "demo"
NAME = "Quillmoor Creative Ltd"

# Imports the demo and a variant of it, alternately, for ever: every import adds a
# snapshot, so a kill lands inside a write transaction most of the time.
DRIVER = """
import sys
from residency.inventory import read_inventory
from residency.store import Store

a = read_inventory()
b = a.model_copy(deep=True)
b.staff[0].country = "PT" if a.staff[0].country != "PT" else "ES"
store = Store(sys.argv[1])
store.import_inventory(a)
print(a.content_hash(), b.content_hash(), flush=True)
while True:
    store.import_inventory(b)
    store.import_inventory(a)
"""

# One of several writers: imports its own variant and the demo, turn about, a few times.
WRITER = """
import sys
from residency.inventory import read_inventory
from residency.store import Store

a = read_inventory()
b = a.model_copy(deep=True)
b.staff[0].country = sys.argv[2]
store = Store(sys.argv[1])
for _ in range(4):
    store.import_inventory(b, by=sys.argv[2])
    store.import_inventory(a)
"""


def _check(db: str, hashes: set[str], at_least: int = 1) -> int:
    """Every snapshot is whole: it loads, and what it holds hashes to what it says."""
    if db.startswith("sqlite:///"):
        with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = Store(db)
    (record,) = store.names()
    history = store.history(NAME)
    assert [s.number for s in history] == list(range(1, len(history) + 1))
    assert len(history) >= at_least
    assert record.snapshots == len(history)
    assert record.content_hash == history[-1].content_hash  # the latest is a committed one
    for snap in history:
        stored = store.load_inventory(f"{NAME}@{snap.number}")
        assert stored.content_hash() == snap.content_hash
        assert snap.content_hash in hashes
        assert len(stored.staff) == snap.counts["staff"] == 61 and len(stored.clients) == 34
    return len(history)


def test_sigkill_during_imports_never_corrupts_or_half_writes(db_url):
    rng = random.Random(17)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    hashes: set[str] = set()
    kept = 1
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        with proc:
            assert proc.stdout is not None and proc.stderr is not None
            line = proc.stdout.readline()
            if not line:
                proc.kill()
                pytest.fail(proc.stderr.read())
            hashes |= set(line.split())
            time.sleep(rng.uniform(0.0, 0.4))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        kept = _check(db_url, hashes, at_least=kept)  # nothing committed is ever lost


def _import(db: str, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "residency", "import", str(folder), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_imports_both_succeed(db_url, tmp_path):
    from residency.inventory import read_inventory

    variant = tmp_path / "variant"
    variant.mkdir()
    for p in DEMO.iterdir():
        (variant / p.name).write_bytes(p.read_bytes())
    staff = (variant / "staff.csv").read_text("utf-8").splitlines()
    (variant / "staff.csv").write_text("\n".join(staff[:-1]) + "\n", "utf-8")
    hashes = {read_inventory(f).content_hash() for f in (DEMO, variant)}
    # Round 1: the same content twice into a new store; round 2: a change on top of it.
    for folders, snapshots in (((DEMO, DEMO), 1), ((variant, variant), 2)):
        procs = [_import(db_url, f) for f in folders]
        outcomes = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, outcomes, strict=True):
            assert proc.returncode == 0, err
            assert "Traceback" not in err
            assert NAME in out
        assert sum("unchanged" in out for out, _ in outcomes) == 1
        assert sorted(f"snapshot {snapshots}" in out for out, _ in outcomes) == [True, True]
        store = Store(db_url)
        assert len(store.history(NAME)) == snapshots
    assert len(store.load_inventory(NAME).staff) == 60
    assert {s.content_hash for s in store.history(NAME)} == hashes


def test_concurrent_writers_number_their_snapshots_without_gaps(db_url):
    from residency.inventory import read_inventory

    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, db_url, country],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for country in ("PT", "ES", "IT")
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    demo = read_inventory()
    hashes = {demo.content_hash()}
    for country in ("PT", "ES", "IT"):
        variant = demo.model_copy(deep=True)
        variant.staff[0].country = country
        hashes.add(variant.content_hash())
    # Each writer's variant lands at least once and at most four times.
    count = _check(db_url, hashes, at_least=4)
    assert count <= 24
    by = [s.imported_by for s in Store(db_url).history(NAME)]
    assert {"PT", "ES", "IT"} <= set(by)


def test_a_locked_store_is_a_clear_message(tmp_path, monkeypatch):
    import residency.store as store_module
    from residency.inventory import read_inventory
    from residency.store import StoreError

    db = tmp_path / "store.db"
    Store(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setattr(store_module, "BUSY_SECONDS", 0.2)
        with pytest.raises(StoreError, match="the store is busy"):
            Store(db).import_inventory(read_inventory())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
