from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from residency.cli import app

from .conftest import DATA

runner = CliRunner()
SMALL = str(DATA / "passing_small.yaml")


def run(*args: str):
    return runner.invoke(app, list(args))


def test_check_prints_a_summary():
    result = run("check", "-i", SMALL)
    assert result.exit_code == 0, result.output
    assert "Tiny Agency: inventory is valid" in result.output
    assert "countries and subdivisions covered: BR, CA, CA-QC, DE, GB, IN, US" in result.output


def test_check_lists_every_problem_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (DATA / "passing_small.yaml")
        .read_text()
        .replace("country: IN", "country: XX")
        .replace("us-east-1", "us-east-9")
    )
    result = run("check", "-i", str(bad))
    assert result.exit_code == 1
    assert "3 problems in the inventory" in result.output
    assert f"{bad} line 7: staff[s-001].country: unknown code 'XX'" in result.output
    assert "Traceback" not in result.output


def test_where_overview_covers_every_client():
    result = run("where", "-i", SMALL)
    assert result.exit_code == 0, result.output
    assert "Acme GmbH (client:acme)" in result.output
    assert "Globex Inc (client:globex)" in result.output


def test_where_one_subject_shows_evidence():
    result = run("where", "client:acme", "-i", SMALL)
    assert result.exit_code == 0, result.output
    assert "origin DE: data reaches 4 countries: BR, DE, IN, US" in result.output
    assert "client:acme > system:slack > training:slack > country:US" in result.output
    assert "Not legal advice" in result.output


def test_where_json():
    result = run("where", "client:acme", "-i", SMALL, "--json")
    payload = json.loads(result.output)
    assert payload["countries"] == ["BR", "DE", "IN", "US"]
    kinds = {loc["kind"] for loc in payload["locations"]}
    assert kinds == {"stored", "processed", "accessed", "trained"}
    assert all(
        loc["evidence"].startswith("client:acme -uses-> system:") for loc in payload["locations"]
    )


def test_where_unknown_subject():
    result = run("where", "client:nobody", "-i", SMALL)
    assert result.exit_code == 1
    assert "unknown subject 'client:nobody'" in result.output


def test_country():
    result = run("country", "in", "-i", SMALL, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["subjects"] == ["client:acme", "client:globex"]
    assert payload["staff"] == ["staff:s-001"]
    table = run("country", "IN", "-i", SMALL)
    assert "India (IN): data of 2 subjects" in table.output


def test_demo_is_the_default(demo):
    result = run("where", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == len(demo.inventory.clients)


def test_import_then_query_the_store(tmp_path):
    db = str(tmp_path / "r.db")
    first = run("import", SMALL, "--db", db)
    assert first.exit_code == 0 and "stored as snapshot 1 in sqlite:///" in first.output
    again = run("import", SMALL, "--db", db)
    assert "already stored, unchanged (snapshot 1)" in again.output
    listed = run("stored", "--db", db)
    assert "Tiny Agency" in listed.output
    result = run("where", "client:acme", "--stored", "Tiny Agency", "--db", db, "--json")
    assert json.loads(result.output)["countries"] == ["BR", "DE", "IN", "US"]


def test_import_of_a_bad_inventory_stores_nothing(tmp_path):
    db = str(tmp_path / "r.db")
    bad = tmp_path / "bad.yaml"
    bad.write_text("organisation: {name: X, country: ZZ}\n")
    assert run("import", str(bad), "--db", db).exit_code == 1
    assert "Tiny" not in run("stored", "--db", db).output
    assert run("where", "--stored", "X", "--db", db).exit_code == 1


def test_both_sources_is_an_error(tmp_path):
    result = run("where", "-i", SMALL, "--stored", "X", "--db", str(tmp_path / "r.db"))
    assert result.exit_code == 1
    assert "either --inventory or --stored" in result.output


@pytest.mark.parametrize(
    "command",
    [
        "check",
        "where",
        "country",
        "import",
        "stored",
        "transfers",
        "findings",
        "export",
        "schema",
        "jurisdictions",
    ],
)
def test_every_command_has_help(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_version_and_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "residency", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("residency ")


def test_transfers_summary_by_route_each_and_json(small):
    routes = small.routes(as_of="2026-11-26")
    result = run("transfers", "-i", SMALL, "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.output
    head = f"Tiny Agency: {len(routes)} transfer routes carrying the data of "
    assert head + f"{len(routes.subjects())} subjects, as of 2026-11-26" in result.output
    lines = result.output.splitlines()
    for r in routes:  # one line per route, starting with the id the footer says to type
        row = next(line for line in lines if line.startswith(r.id + " "))
        assert f"{' '.join(r.regimes)} > {r.destination}" in row and r.recipient in row
    assert "residency transfers --route ID" in result.output
    each = run("transfers", "-i", SMALL, "--as-of", "2026-11-26", "--each").output
    found = small.transfers(as_of="2026-11-26")
    assert f"Tiny Agency: {len(found)} transfers as of 2026-11-26" in each
    acme = sum(t.location.subject == "client:acme" for t in found)
    assert each.count("\nclient:acme  DE > ") == acme > 0
    payload = json.loads(
        run(
            "transfers", "-i", SMALL, "--subject", "client:acme", "--json", "--as-of", "2026-11-26"
        ).output
    )
    assert {t["subject"] for t in payload} == {"client:acme"}
    assert {"basis", "instrument", "tia_required", "sources"} <= set(payload[0])


def test_findings_most_severe_first():
    payload = json.loads(run("findings", "-i", SMALL, "--json", "--as-of", "2026-11-26").output)
    order = ["high", "medium", "low"]
    severities = [order.index(f["severity"]) for f in payload]
    assert severities == sorted(severities)
    table = run("findings", "-i", SMALL, "--each", "--as-of", "2026-11-26").output
    assert "Summary" in table and "residency.contract_breach" in table
    grouped = run("findings", "-i", SMALL, "--as-of", "2026-11-26").output
    assert "[residency.contract_breach]" in grouped


def test_jurisdictions_stale_lists_old_facts():
    table = run("jurisdictions", "--stale", "--as-of", "2026-12-02")
    assert table.exit_code == 0
    assert "facts last checked more than 12 months ago" in table.output
    rows = json.loads(run("jurisdictions", "--stale", "--as-of", "2026-12-02", "--json").output)
    assert rows and all(r["checked"] < "2025-12-02" for r in rows)
    assert {"regime", "fact", "kind", "checked", "days", "source", "confidence"} <= set(rows[0])
    assert (
        json.loads(run("jurisdictions", "--stale", "--as-of", "1990-01-01", "--json").output) == []
    )
    assert run("jurisdictions", "--stale", "--as-of", "2026-13-01").exit_code == 1


def test_jurisdictions_lists_coverage():
    result = run("jurisdictions")
    assert result.exit_code == 0
    assert "EU-GDPR" in result.output and "countries covered" in result.output
    count = len(json.loads(run("jurisdictions", "--json").output)["regimes"])
    assert count >= 60
    assert f"{count} regimes;" in result.output
    one = json.loads(run("jurisdictions", "--country", "ca-qc", "--json").output)
    assert one["coverage"][0]["regimes"] == ["CA-PIPEDA", "CA-QC"]
    # Successive laws of one country are listed with the days each applies.
    ch = json.loads(run("jurisdictions", "--country", "CH", "--json").output)
    assert ch["coverage"][0]["regimes"] == ["CH-FADP", "CH-FADP-1992"]
    spans = {r["id"]: (r["from"], r["until"]) for r in ch["regimes"]}
    assert spans["CH-FADP-1992"] == (None, "2023-09-01")
    assert spans["CH-FADP"] == ("2023-09-01", None)
    table = run("jurisdictions", "--country", "CH").output
    assert "2 regimes;" in table and "until 2023-09-01" in table
    assert run("jurisdictions", "--country", "XX").exit_code == 1


def test_an_as_of_outside_the_legal_data_says_so(tmp_path):
    result = run("transfers", "-i", SMALL, "--as-of", "1995-01-01")
    assert result.exit_code == 0
    assert "is before the earliest rule in the legal data" in result.output
    out = tmp_path / "e.json"
    assert run("export", "-i", SMALL, "--as-of", "2099-01-01", "-o", str(out)).exit_code == 0
    note = json.loads(out.read_text())["jurisdiction_data"]["date_note"]
    assert note and "after the legal data's as-of date" in note
    assert "warning" not in run("transfers", "-i", SMALL, "--as-of", "2026-11-26").output


def test_an_empty_store_says_how_to_import(tmp_path):
    result = run("stored", "--db", str(tmp_path / "empty.db"))
    assert result.exit_code == 0
    assert "holds no inventory yet: residency import PATH" in result.output


def test_check_reports_every_problem_when_the_organisation_has_no_country(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (DATA / "passing_small.yaml").read_text()
    bad.write_text(
        text.replace("  country: GB\n", "", 1)
        .replace("country: IN", "country: XX")
        .replace("systems: [slack, gworkspace]", "systems: [slack, nope]", 1)
    )
    result = run("check", "-i", str(bad))
    assert result.exit_code == 1
    assert "organisation.country: missing" in result.output
    assert "staff[s-001].country: unknown code 'XX'" in result.output
    assert "unknown system id 'nope'" in result.output
    assert "Traceback" not in result.output


def test_app_on_a_busy_port_suggests_another():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("app", "--port", str(port))
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "residency app --port " in result.output
    assert "Traceback" not in result.output


def test_counts_are_singular_for_one(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "passing_small.yaml").read_text().replace("country: BR", "country: XX"))
    result = run("check", "-i", str(bad))
    assert "error: 1 problem in the inventory" in result.output
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "inventory.yaml").write_text((DATA / "passing_small.yaml").read_text())
    (folder / "clients.csv").write_text("id\nacme,extra\n")
    result = run("check", "-i", str(folder))
    assert "expected 1 cell as in the header, found 2" in result.output


def test_export_says_what_the_file_holds(tmp_path):
    out = tmp_path / "register.csv"
    result = run("export", "-i", SMALL, "--format", "csv", "-o", str(out), "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.output
    rows = out.read_text().count("\n") - 1
    assert f"wrote {out}: the transfer register by route: one row per route ({rows} transfer" in (
        result.output
    )
    out = tmp_path / "export.json"
    result = run("export", "-i", SMALL, "-o", str(out), "--as-of", "2026-11-26")
    assert "the export for legal review (schema residency-export/2)" in result.output


# -- spreadsheet exports (real files in tests/data/spreadsheet) -----------------------

SHEETS = DATA / "spreadsheet"


def _sheet_folder(tmp_path, staff: str, clients: str):
    import shutil

    folder = tmp_path / "org"
    folder.mkdir()
    shutil.copy(SHEETS / "inventory.yaml", folder / "inventory.yaml")
    shutil.copy(SHEETS / staff, folder / "staff.csv")
    shutil.copy(SHEETS / clients, folder / "clients.csv")
    return folder


@pytest.mark.parametrize(
    ("staff", "clients", "notes"),
    [
        ("staff-semicolon-bom.csv", "clients-semicolon-bom.csv", ["staff.csv", "clients.csv"]),
        ("staff-comma.csv", "clients-tabs.csv", ["clients.csv"]),
        ("staff-comma.csv", "clients-bom.csv", []),
    ],
)
def test_check_reads_what_a_spreadsheet_saves(tmp_path, staff, clients, notes):
    folder = _sheet_folder(tmp_path, staff, clients)
    result = run("check", "-i", str(folder))
    assert result.exit_code == 0, result.output
    assert "Tiny Agency: inventory is valid" in result.output
    assert "countries and subdivisions covered: BR, CA, CA-QC, DE, GB, IN, US" in result.output
    separated = [line for line in result.output.splitlines() if "as separated by" in line]
    assert len(separated) == len(notes), separated
    for name, line in zip(notes, separated, strict=True):
        assert f"read {folder / name} as separated by" in line
    where = run("where", "client:acme", "-i", str(folder))
    assert "Acme Müller GmbH (client:acme), origin DE" in where.output  # the BOM and ü survive


def test_check_refuses_a_windows_1252_csv_with_its_row(tmp_path):
    folder = _sheet_folder(tmp_path, "staff-comma.csv", "clients-cp1252.csv")
    result = run("check", "-i", str(folder))
    assert result.exit_code == 1
    assert f"{folder / 'clients.csv'} row 2: encoding: expected UTF-8 text" in result.output
    assert "('ü' in Windows-1252)" in result.output
    assert "save as 'CSV UTF-8 (Comma delimited)'" in result.output
    assert "Traceback" not in result.output


def test_a_vendor_name_with_a_comma_in_a_flow_map_says_quote_it(tmp_path):
    bad = tmp_path / "inventory.yaml"
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("{name: Zendesk, purpose:", "{name: Zendesk, Inc., purpose:"))
    result = run("check", "-i", str(bad))
    assert result.exit_code == 1
    assert "quote the name" in result.output


def test_transfers_of_one_route(small):
    acme = small.routes("client:acme", as_of="2026-11-26")
    assert acme.subjects() == ["client:acme"]
    route = next(r for r in small.routes(as_of="2026-11-26") if "client:acme" in r.subjects)
    result = run("transfers", "-i", SMALL, "--as-of", "2026-11-26", "--route", route.id[:8])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{route.id}: {' '.join(route.regimes)} > {route.destination}")
    assert f"subjects ({len(route.subjects)}):" in result.output
    assert "  Acme GmbH (client:acme)\n" in result.output
    payload = json.loads(
        run("transfers", "-i", SMALL, "--as-of", "2026-11-26", "--route", route.id, "--json").output
    )
    assert payload["id"] == route.id and payload["subjects"]["ids"] == list(route.subjects)
    unknown = run("transfers", "-i", SMALL, "--route", "r-nothing")
    assert unknown.exit_code == 1
    assert "route 'r-nothing' names no route" in unknown.output


# -- in a terminal: the pager, 80 columns -----------------------------------------------


def _in_terminal(args: list[str], env: dict[str, str], cols: int = 80, rows: int = 24) -> str:
    """Run the command with a real pseudo-terminal of cols x rows as its stdout."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    full_env.update({"TERM": "xterm", "RESIDENCY_NO_PAGER": "", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "residency", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=full_env,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def _visible(text: str) -> list[str]:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()


@pytest.mark.slow
def test_a_long_answer_in_a_terminal_goes_through_the_pager(tmp_path, small):
    paged = tmp_path / "paged.txt"
    pager = {"PAGER": f"cat > {paged}"}
    args = ["transfers", "-i", SMALL, "--as-of", "2026-11-26"]
    screen = _in_terminal(args, pager, rows=10)
    assert "transfer routes carrying" not in screen  # it went to the pager
    text = paged.read_text(encoding="utf-8")
    lines = _visible(text)
    assert max(len(line) for line in lines) <= 80, lines
    for r in small.routes(as_of="2026-11-26"):  # whole, at the start of a line
        assert any(line.startswith(r.id + " ") for line in lines), r.id
    paged.unlink()
    assert "transfer routes carrying" in _in_terminal([*args, "--no-pager"], pager, rows=10)
    assert not paged.exists()
    assert "transfer routes carrying" in _in_terminal(args, {**pager, "RESIDENCY_NO_PAGER": "1"})
    assert not paged.exists()
    short = _in_terminal(["check", "-i", SMALL], pager, rows=60)  # fits the screen
    assert "inventory is valid" in short and not paged.exists()


@pytest.mark.slow
def test_the_where_overview_at_80_columns_keeps_each_client_id_whole(small):
    lines = _visible(_in_terminal(["where", "-i", SMALL], {"RESIDENCY_NO_PAGER": "1"}))
    assert max(len(line) for line in lines) <= 80
    for subject in small.subjects("client"):
        assert any(line.split()[:1] == [subject] for line in lines if line.strip()), subject
    lines = _visible(
        _in_terminal(["where", "client:acme", "-i", SMALL], {"RESIDENCY_NO_PAGER": "1"})
    )
    assert max(len(line) for line in lines) <= 80
    assert "    evidence: client:acme > system:slack > training:slack > country:US" in lines


def test_messages_to_a_pipe_are_never_wrapped(tmp_path):
    folder = tmp_path / "org"
    folder.mkdir()
    long_name = "Ein sehr langer Firmenname " * 10
    text = (DATA / "passing_small.yaml").read_text().replace("Tiny Agency", long_name.strip())
    (folder / "inventory.yaml").write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "residency", "transfers", "-i", str(folder)],
        capture_output=True,
        text=True,
        check=True,
    )
    first = result.stdout.splitlines()[0]
    assert first.startswith(long_name.strip() + ": ") and first.endswith(")")
    assert result.stdout.splitlines()[-1].endswith("Not legal advice.")


def test_one_of_each_is_singular(tmp_path):
    one = tmp_path / "one.yaml"
    one.write_text(
        "organisation: {name: One Ltd, country: GB}\n"
        "systems:\n"
        "  - {id: s, name: S, vendor: V, vendor_country: GB, hosting: [{country: GB}],"
        " data: [messages]}\n"
        "clients: [{id: c, name: C, country: GB, data: [messages], systems: [s]}]\n"
        "staff: [{id: p, country: GB, clients: [c]}]\n"
    )
    assert "1 country or subdivision covered: GB" in run("check", "-i", str(one)).output
    stored = run("import", str(one), "--db", str(tmp_path / "r.db")).output
    assert "(1 staff member, 1 client, 1 system)" in stored
    where = run("where", "client:c", "-i", str(one)).output
    assert "data reaches 1 country: GB" in where


REPORT_SMALL = str(DATA / "report_small.yaml")


def test_report_writes_one_html_file(tmp_path):
    out = tmp_path / "review.html"
    result = run("report", "-i", REPORT_SMALL, "--as-of", "2026-12-02", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert (
        f"wrote {out}: the review pack (one offline HTML file): 5 transfer routes, "
        "5 assessment records, as of 2026-12-02"
    ) in result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>")
    assert "Bosphorus Studio" in text and 'id="assessments"' in text
    assert [p.name for p in tmp_path.iterdir()] == ["review.html"]  # no temporary left


def test_report_refuses_an_unknown_format_and_both_sources(tmp_path):
    out = tmp_path / "review.docx"
    result = run("report", "-i", REPORT_SMALL, "--format", "docx", "-o", str(out))
    assert result.exit_code == 1
    assert "unknown --format 'docx': expected html or pdf" in result.output
    result = run("report", "-i", REPORT_SMALL, "--stored", "x", "-o", str(out))
    assert result.exit_code == 1
    assert "give either --inventory or --stored, not both" in result.output
    assert not out.exists()


def test_report_pdf_without_chromium_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium"))
    out = tmp_path / "review.pdf"
    result = run("report", "-i", REPORT_SMALL, "--format", "pdf", "-o", str(out))
    assert result.exit_code == 1
    assert "--format pdf needs Chromium, and there is none at" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_export_assessments_go_with_json_only(tmp_path):
    out = tmp_path / "review.json"
    result = run(
        "export", "-i", REPORT_SMALL, "--as-of", "2026-12-02", "--assessments", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["transfer_assessments"]) == 5
    result = run("export", "-i", REPORT_SMALL, "--format", "csv", "--assessments", "-o", str(out))
    assert result.exit_code == 1
    assert "--assessments goes with the JSON export only" in result.output


def test_report_subject_maps_and_unknown_subject(tmp_path):
    out = tmp_path / "review.html"
    result = run("report", "-i", SMALL, "--subject", "client:acme", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count("data:image/png;base64,") == 2
    result = run("report", "-i", SMALL, "--subject", "client:nobody", "-o", str(out))
    assert result.exit_code == 1
    assert "unknown subject 'client:nobody'" in result.output


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("where", ("--as-of", "--json", "--no-pager")),
        ("country", ("--json", "--no-pager")),
        ("transfers", ("--as-of", "--json", "--no-pager")),
        ("findings", ("--as-of", "--json", "--no-pager")),
        ("ai", ("--as-of", "--json", "--no-pager")),
        ("whatif", ("--as-of", "--json", "--no-pager")),
        ("plan", ("--as-of", "--json", "--no-pager")),
        ("export", ("--as-of",)),
        ("report", ("--as-of",)),
    ],
)
def test_commands_over_a_map_share_one_skeleton(command, options):
    """map_command gives each the same source options, and only the ones it uses."""
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    for option in ("--inventory", "--stored", "--db", *options):
        assert option in result.output, (command, option)
    if "--json" not in options:
        assert "--json" not in result.output
    extra = {"export": ["-o", "/dev/null"], "report": ["-o", "/dev/null"]}
    extra |= {"country": ["DE"], "whatif": ["opt-out:slack"]}
    both = run(command, "--stored", "nobody", "--inventory", "x.yaml", *extra.get(command, []))
    assert both.exit_code == 1
    assert "either --inventory or --stored" in both.output
