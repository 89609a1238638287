"""Odd paths and stores at the command line: one clear line on stderr, exit 1, no traceback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from residency.cli import app

from .conftest import DATA

runner = CliRunner()


def _fails(args: list[str], words: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert words in result.output, result.output
    return result.output


def test_a_db_under_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = _fails(["stored", "--db", str(blocker / "sub" / "x.db")], "is a file, not a folder")
    assert len(out.strip().splitlines()) == 1


def test_a_db_that_is_a_folder_or_not_a_database(tmp_path):
    _fails(["stored", "--db", str(tmp_path)], "is a folder")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 100)
    _fails(["stored", "--db", str(junk)], "file is not a database")


def test_a_database_url_whose_driver_is_missing():
    try:
        import pymysql  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pymysql is installed")
    out = _fails(
        ["stored", "--db", "mysql+pymysql://user:secret@localhost/x"], "driver is not installed"
    )
    assert "secret" not in out
    assert len(out.strip().splitlines()) == 1


def test_an_unreachable_postgresql_server_is_one_line():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = _fails(
        ["stored", "--db", f"postgresql://user:secret@127.0.0.1:{port}/x"], "cannot open the store"
    )
    assert "secret" not in out
    assert len(out.strip().splitlines()) == 1


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_inventory(tmp_path):
    fifo = tmp_path / "inv.yaml"
    os.mkfifo(fifo)
    _fails(["check", "-i", str(fifo)], "is a FIFO (named pipe): expected a file")


def test_dev_zero():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    _fails(["check", "-i", "/dev/zero"], "is a character device")


def test_user_text_is_never_markup(tmp_path):
    text = (DATA / "passing_small.yaml").read_text("utf-8")
    text = text.replace("name: Tiny Agency", "name: '[/bold] Tiny [red]Agency'")
    text = text.replace("name: Slack\n", "name: '[/]Slack[link=x]'\n")
    path = tmp_path / "inv.yaml"
    path.write_text(text, "utf-8")
    for args in (["check"], ["where"], ["where", "client:acme"], ["transfers"], ["findings"]):
        result = runner.invoke(app, [*args, "-i", str(path)])
        assert result.exit_code == 0, (args, result.output)
        shown = "[/bold] Tiny [red]Agency" in result.output or "[/]Slack[link=x]" in result.output
        assert shown, (args, result.output)


def test_an_enormous_error_prints_fast_and_short(tmp_path):
    refs = ", ".join(f"nope{i}" for i in range(5_000))
    text = (DATA / "passing_small.yaml").read_text("utf-8")
    path = tmp_path / "inv.yaml"
    path.write_text(text.replace("clients: [acme, globex]", f"clients: [{refs}]", 1), "utf-8")
    out = _fails(["check", "-i", str(path)], "5,000 problems in the inventory")
    assert len(out) < 10_000
    assert "more of the same kind" in out
