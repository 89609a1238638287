"""``residency history`` and ``--stored NAME@N`` through the command line, on both engines."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from residency.cli import app

from .conftest import DATA

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_history_lists_snapshots_and_stored_reads_a_past_one(db_url, tmp_path, small_text):
    first = tmp_path / "first.yaml"
    first.write_text(small_text, "utf-8")
    second = tmp_path / "second.yaml"
    second.write_text(small_text.replace("country: BR", "country: PT"), "utf-8")
    assert "snapshot 1" in run("import", str(first), "--db", db_url, "--by", "ana").output
    assert "snapshot 2" in run("import", str(second), "--db", db_url).output
    assert "unchanged (snapshot 2)" in run("import", str(second), "--db", db_url).output

    listed = run("history", "Tiny Agency", "--db", db_url, "--json")
    assert listed.exit_code == 0, listed.output
    snapshots = json.loads(listed.output)["snapshots"]
    assert [s["number"] for s in snapshots] == [1, 2]
    assert [s["imported_by"] for s in snapshots] == ["ana", None]
    assert snapshots[1]["source"] == str(second)
    assert snapshots[0]["counts"] == {"staff": 3, "clients": 2, "systems": 3}
    assert snapshots[0]["content_hash"].startswith("sha256:")
    table = run("history", "Tiny Agency", "--db", db_url)
    assert table.exit_code == 0 and "ana" in table.output

    def exported_hash(ref: str) -> str:
        out = run("export", "--stored", ref, "--db", db_url, "-o", str(tmp_path / "e.json"))
        assert out.exit_code == 0, out.output
        return json.loads((tmp_path / "e.json").read_text("utf-8"))["inventory"]["content_hash"]

    assert exported_hash("Tiny Agency") == snapshots[1]["content_hash"]
    assert exported_hash("Tiny Agency@1") == snapshots[0]["content_hash"]
    assert snapshots[0]["content_hash"] != snapshots[1]["content_hash"]
    missing = run("where", "--stored", "Tiny Agency@9", "--db", db_url)
    assert missing.exit_code == 1
    assert "has no snapshot 9: it has 1 to 2" in missing.output
    assert "Traceback" not in missing.output


def test_history_of_an_unknown_name_is_one_line(tmp_path):
    db = str(tmp_path / "r.db")
    run("import", str(DATA / "passing_small.yaml"), "--db", db)
    result = run("history", "Nope", "--db", db)
    assert result.exit_code == 1
    assert "no inventory named 'Nope'" in result.output and "'Tiny Agency'" in result.output
