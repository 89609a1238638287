"""The library stays light: importing it loads no CLI or UI framework."""

from __future__ import annotations

import subprocess
import sys


def test_import_residency_loads_no_cli_or_ui():
    code = (
        "import sys, residency; residency.load(); "
        "print(','.join(m for m in ('typer', 'rich', 'streamlit') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_network_at_import_or_load():
    """Nothing in loading the demo opens a socket."""
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise AssertionError('network used')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "import residency\nm = residency.load()\n"
        "[m.where(s) for s in m.subjects()]\nprint('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
