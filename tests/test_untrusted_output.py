"""What the program writes: CSV cells never run as formulas; no command connects anywhere."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from residency.datamap import DataMap
from residency.inventory import parse_inventory_text

from .conftest import DATA

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _hostile_map() -> DataMap:
    text = (DATA / "passing_small.yaml").read_text("utf-8")
    subs = "\n".join(
        f"      - {{name: {json.dumps(h + ' Ltd')}, purpose: {json.dumps(h)}, countries: [IN]}}"
        for h in HOSTILE
    )
    text = text.replace(
        "      - {name: Zendesk, purpose: customer support, countries: [US]}",
        "      - {name: Zendesk, purpose: customer support, countries: [US]}\n" + subs,
    )
    text = text.replace(
        "    data: [messages]\n", f"    data: [messages, {json.dumps(HOSTILE[0])}]\n"
    )
    text = text.replace("name: Acme GmbH", f"name: {json.dumps(HOSTILE[3])}")
    return DataMap.from_inventory(parse_inventory_text(text))


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.mark.parametrize("writer", ["export", "transfer_list"])
def test_every_csv_cell_is_escaped_and_round_trips(writer):
    m = _hostile_map()
    text = m.export_text(fmt="csv") if writer == "export" else m.transfers().to_csv()
    cells = _cells(text)
    assert cells
    for cell in cells:
        assert not cell.startswith(FORMULA), cell
    for hostile in HOSTILE:
        name = (hostile + " Ltd").strip()  # the model strips surrounding whitespace
        shown = "'" + name if name.startswith(FORMULA) else name
        assert shown in cells, name


GUARD = """
import socket, sys

def hook(event, args):
    if event == "socket.connect":
        sock, address = args[0], args[1]
        if sock.family == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1", "localhost"):
            sys.stderr.write(f"OUTBOUND {host}\\n")
            raise OSError("outbound connection refused by the test")
    if event in ("socket.getaddrinfo", "socket.gethostbyname"):
        host = args[0]
        if host not in (None, "127.0.0.1", "::1", "localhost"):
            sys.stderr.write(f"LOOKUP {host}\\n")

sys.addaudithook(hook)
"""


def _guarded(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI with an audit hook that refuses every socket connection but local ones."""
    guard = tmp_path / "guard.py"
    cli = 'from residency.cli import main\nsys.argv = ["residency", *sys.argv[1:]]\nmain()\n'
    guard.write_text(GUARD + cli, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(guard), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["export", "-o", "out.json"], ["export", "-o", "t.csv", "--format", "csv"], ["where"]]
)
def test_commands_make_no_outbound_connection(tmp_path, args):
    result = _guarded(args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OUTBOUND" not in result.stderr and "LOOKUP" not in result.stderr


def test_the_guard_itself_sees_a_connection(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        GUARD + "s = socket.socket()\ns.settimeout(0.01)\n"
        "try:\n    s.connect(('192.0.2.1', 9))\nexcept OSError:\n    pass\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, timeout=30, check=False
    )
    assert "OUTBOUND 192.0.2.1" in result.stderr
