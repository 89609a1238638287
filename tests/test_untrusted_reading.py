"""Untrusted inventories: every refusal is a located problem in bounded time, never a crash."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from residency import InventoryError
from residency.inventory import parse_inventory_text, read_inventory
from residency.limits import Limits, current

from .conftest import DATA

DEMO = Path(__file__).parent.parent / "residency" / "data" / "demo"


def _problems(text: str, limits: Limits | None = None) -> list:
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(text, limits=limits)
    return info.value.problems


def _one(text: str, limits: Limits | None = None):
    problems = _problems(text, limits)
    assert len(problems) == 1, problems
    return problems[0]


ORG = "organisation: {name: X, country: GB}\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (ORG + "x: !!int ''\n", 2, "'' is not a whole number"),
        (ORG + "x: !!bool maybe\n", 2, "'maybe' is not true or false"),
        (ORG + "x: !!timestamp ''\n", 2, "is not a date"),
        (ORG + "x: !!float junk\n", 2, "'junk' is not a number"),
        (ORG + "x: !!python/object:os.system echo\n", 2, "tag '!!python/object:os.system'"),
        (ORG + "x: !!binary aGk=\n", 2, "is not allowed"),
        (ORG + "x: !custom 1\n", 2, "is not allowed"),
        (ORG + "x: " + "9" * 100_000 + "\n", 2, "a value of 100,000 characters"),
        (ORG + "x: " + "9" * 4_000 + "\n", 2, "RESIDENCY_MAX_NUMBER_DIGITS"),
        (ORG + "x: &a [*a]\n", 2, "refers to the value that contains it"),
        (ORG + "x: *nowhere\n", 2, "names no anchor"),
        (ORG + "x: [" * 30 + "]" * 30 + "\n", 2, "nested too deeply"),
        (ORG + "---\n" + ORG, 2, "expected a single document"),
        (ORG + "x: {a: 1\n", 3, "malformed YAML"),
    ],
)
def test_refused_yaml_is_one_located_problem(text, line, words):
    problem = _one(text)
    assert problem.line == line
    assert words in problem.message
    assert len(str(problem)) < 400


def test_billion_laughs_is_refused_fast():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        levels.append(
            f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [" + ", ".join([f"*{prev}"] * 9) + "]"
        )
    started = time.perf_counter()
    problem = _one(ORG + "\n".join(levels) + "\n")
    assert time.perf_counter() - started < 2
    assert "RESIDENCY_MAX_ALIASES" in problem.message
    assert problem.line is not None


def test_a_few_aliases_still_work():
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    text = text.replace("data: [messages]\n", "data: &chat [messages]\n", 1)
    text = text.replace("data: [messages, files]\n", "data: *chat\n", 1)
    inv = parse_inventory_text(text)
    assert inv.systems[0].data == ["messages"]


def test_duplicate_keys_are_problems_with_both_lines():
    problem = _one("organisation: {name: X, country: GB}\norganisation: {name: Y, country: GB}\n")
    assert problem.line == 2
    assert "duplicate key 'organisation': already given at line 1" in problem.message
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    country: IN\n    type: contractor",
        "    country: IN\n    country: BR\n    type: contractor",
    )
    assert _one(text).line == 8


@pytest.mark.parametrize(
    ("value", "words"), [("{}", "got a mapping"), ("0", "got int 0"), ("acme", "the text 'acme'")]
)
def test_a_non_list_section_is_a_type_error(value, words):
    problem = _one(f"{ORG}clients: {value}\n")
    assert (problem.line, problem.field) == (2, "clients")
    assert words in problem.message


def test_a_mapping_where_a_list_belongs_inside_an_entry():
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    text = text.replace("clients: [acme, globex]", "clients: {acme: 1}", 1)
    problem = _one(text)
    assert problem.line == 10 and "got a mapping" in problem.message


@pytest.mark.parametrize(
    ("raw", "line", "words"),
    [
        (b"organisation:\n  name: X\x00\n", 2, "a NUL byte at column 10"),
        (b"organisation:\n\n  name: X\x07\n", 3, "control character U+0007"),
        (b"organisation:\n  name: Caf\xe9\n", 2, "expected UTF-8 text, found byte 0xE9"),
        (b"organisation:\n  name: \xef\xbb\xbfX\n", 2, "control character U+FEFF"),
    ],
)
def test_encoding_and_control_characters_name_the_line(tmp_path, raw, line, words):
    path = tmp_path / "inv.yaml"
    path.write_bytes(raw)
    with pytest.raises(InventoryError) as info:
        read_inventory(path)
    problem = info.value.problems[0]
    assert problem.line == line
    assert words in problem.message


def test_lists_and_files_have_limits_that_name_how_to_raise_them(tmp_path):
    small = Limits(list_items=3, entries=2, file_mb=1)
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    problem = _one(text, small)
    assert "RESIDENCY_MAX_ENTRIES" in problem.message and problem.line is not None
    big = tmp_path / "big.yaml"
    big.write_text(ORG + "#" * (2 * 1024 * 1024), encoding="utf-8")
    with pytest.raises(InventoryError, match=r"larger than 1 MB.*RESIDENCY_MAX_FILE_MB"):
        read_inventory(big, limits=small)


def test_limits_are_raised_through_the_environment(monkeypatch):
    monkeypatch.setenv("RESIDENCY_MAX_LIST_ITEMS", "20_000")
    assert current().list_items == 20_000
    monkeypatch.setenv("RESIDENCY_MAX_DEPTH", "lots")
    with pytest.raises(Exception, match="RESIDENCY_MAX_DEPTH='lots': expected a positive"):
        current()


def test_a_huge_problem_list_stays_short():
    refs = ", ".join(f"nope{i}" for i in range(3_000))
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    text = text.replace("clients: [acme, globex]", f"clients: [{refs}]", 1)
    problems = _problems(text)
    assert len(problems) == 3_000
    with pytest.raises(InventoryError) as info:
        parse_inventory_text(text)
    message = str(info.value)
    assert len(message) < 10_000
    assert "and 2,990 more of the same kind" in message
    assert message.startswith("3,000 problems")


def test_quoted_values_are_truncated():
    problem = _one(ORG.replace("GB", "G" * 5_000))
    assert len(problem.message) < 400 and "5,000 characters" in problem.message


# -- CSV ------------------------------------------------------------------------------


def _folder(tmp_path: Path, staff: bytes | None = None, clients: bytes | None = None) -> Path:
    folder = tmp_path / "org"
    folder.mkdir()
    (folder / "inventory.yaml").write_text((DEMO / "inventory.yaml").read_text("utf-8"), "utf-8")
    (folder / "clients.csv").write_bytes(clients or (DEMO / "clients.csv").read_bytes())
    (folder / "staff.csv").write_bytes(staff or (DEMO / "staff.csv").read_bytes())
    return folder


def _csv_problem(tmp_path: Path, staff: bytes):
    with pytest.raises(InventoryError) as info:
        read_inventory(_folder(tmp_path, staff=staff))
    return info.value.problems[0]


STAFF_HEAD = (DEMO / "staff.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
STAFF_ROW = (DEMO / "staff.csv").read_bytes().split(b"\n")[1]


@pytest.mark.parametrize(
    ("staff", "row", "words"),
    [
        (STAFF_HEAD + STAFF_ROW + b"\x00\n", 2, "a NUL byte"),
        (STAFF_HEAD + STAFF_ROW.replace(b",", b",\x1b", 1) + b"\n", 2, "control character U+001B"),
        (STAFF_HEAD + STAFF_ROW + b"\n" + b"s-9,Z\xfcrich,x\n", 3, "Windows-1252"),
        (STAFF_HEAD.replace(b",", b";") + STAFF_ROW.replace(b",", b";"), 2, "separated by ';'"),
        (STAFF_HEAD + STAFF_ROW + b'\ns-9,"Two\nlines",Z\xfcrich\n', 3, "'\u00fc' in Windows"),
        (STAFF_HEAD.replace(b"\n", b",country\n") + STAFF_ROW + b",GB\n", 1, "duplicate column"),
        (STAFF_HEAD + STAFF_ROW + b"\n" + STAFF_ROW + b',"unclosed\n', 3, "malformed CSV"),
        (STAFF_HEAD + STAFF_ROW + b"\n" + STAFF_ROW + b",extra\n", 3, "cells as in the header"),
        (STAFF_HEAD + STAFF_ROW + b'\ns-9,"a"b",x\n', 3, "malformed CSV"),
        (
            STAFF_HEAD + b"x" * 200_000 + STAFF_ROW[STAFF_ROW.index(b",") :] + b"\n",
            2,
            "a cell of",
        ),
    ],
)
def test_csv_problems_name_the_row(tmp_path, staff, row, words):
    problem = _csv_problem(tmp_path, staff)
    assert problem.file.endswith("staff.csv")
    assert problem.line == row, problem
    assert words in problem.message, problem


def test_quoted_newlines_count_rows_as_a_spreadsheet_does(tmp_path):
    clients = (DEMO / "clients.csv").read_bytes().split(b"\n")
    fields = clients[1].split(b",")
    fields[1] = b'"Two\nlines"'
    body = b"\n".join([clients[0], b",".join(fields), clients[2], b"x,Y,ZZ," + b"," * 10])
    with pytest.raises(InventoryError) as info:
        read_inventory(_folder(tmp_path, clients=body + b"\n"))
    assert {p.line for p in info.value.problems} == {4}


# -- paths ----------------------------------------------------------------------------


def test_inventory_yaml_reads_the_csvs_beside_it(tmp_path):
    folder = _folder(tmp_path)
    inv = read_inventory(folder / "inventory.yaml")
    assert len(inv.staff) == 61 and len(inv.clients) == 34
    assert any("staff.csv beside" in w for w in inv.warnings)


def test_an_inventory_without_staff_or_clients_warns_loudly():
    inv = parse_inventory_text(ORG + "systems: []\n")
    assert {w.split(":")[0] for w in inv.warnings[:2]} == {"NO STAFF MEMBERS", "NO CLIENTS"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_opening_it(tmp_path):
    fifo = tmp_path / "inventory.yaml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    with pytest.raises(InventoryError, match="is a FIFO"):
        read_inventory(fifo)
    with pytest.raises(InventoryError, match="is a FIFO"):
        read_inventory(tmp_path)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(device):
    if not Path(device).exists():
        pytest.skip("no such device")
    with pytest.raises(InventoryError, match="is a character device"):
        read_inventory(device)


def test_a_folder_where_a_file_belongs(tmp_path):
    folder = _folder(tmp_path)
    (folder / "staff.csv").unlink()
    (folder / "staff.csv").mkdir()
    with pytest.raises(InventoryError, match=r"staff\.csv: file: is a folder"):
        read_inventory(folder)


def test_a_non_utf8_folder_name_is_printable(tmp_path):
    name = os.fsdecode(b"org\xff")
    folder = tmp_path / name
    folder.mkdir()
    (folder / "inventory.yaml").write_text(ORG + "staff: 1\n", "utf-8")
    with pytest.raises(InventoryError) as info:
        read_inventory(folder)
    text = str(info.value)
    text.encode("utf-8")  # no lone surrogate left to crash a terminal
    assert "org\\xff" in text


def test_a_name_with_a_comma_in_a_flow_map_says_quote_it():
    text = (DATA / "passing_small.yaml").read_text(encoding="utf-8")
    text = text.replace("{name: Zendesk, purpose:", "{name: Zendesk, Inc., purpose:")
    problem = _one(text)
    assert problem.line == 42 and "quote the name" in problem.message
