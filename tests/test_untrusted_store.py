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

# Imports the demo and a variant of it, alternately, for ever: every import replaces the
# stored inventory, so a kill lands inside a write transaction most of the time.
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


def _check(db: Path, hashes: set[str]) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = conn.execute("SELECT name, content_hash FROM inventory").fetchall()
    assert len(rows) == 1 and rows[0][0] == NAME
    stored = Store(db).load_inventory(NAME)
    # Exactly one whole version: what was read back hashes to what the record says.
    assert stored.content_hash() == rows[0][1]
    assert rows[0][1] in hashes
    assert len(stored.staff) == 61 and len(stored.clients) == 34


def test_sigkill_during_imports_never_corrupts_or_half_writes(tmp_path):
    db = tmp_path / "store.db"
    rng = random.Random(17)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    hashes: set[str] = set()
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(db)],
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
        _check(db, hashes)


def _import(db: Path, folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "residency", "import", str(folder), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_imports_both_succeed(tmp_path):
    variant = tmp_path / "variant"
    variant.mkdir()
    for p in DEMO.iterdir():
        (variant / p.name).write_bytes(p.read_bytes())
    staff = (variant / "staff.csv").read_text("utf-8").splitlines()
    staff[1] = staff[1].replace(",", ",", 1)
    (variant / "staff.csv").write_text("\n".join(staff[:-1]) + "\n", "utf-8")
    for round_, folders in enumerate([(DEMO, DEMO), (DEMO, variant)]):
        db = tmp_path / f"store{round_}.db"
        procs = [_import(db, f) for f in folders]
        outcomes = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, outcomes, strict=True):
            assert proc.returncode == 0, err
            assert "Traceback" not in err
            assert NAME in out
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("SELECT count(*) FROM inventory").fetchone() == (1,)
        stored = Store(db).load_inventory(NAME)
        assert len(stored.staff) in (60, 61)
        if folders[0] == folders[1]:
            assert sum("unchanged" in out for out, _ in outcomes) == 1


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
