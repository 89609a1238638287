"""Mutations of valid inventories, shared by tests/test_fuzz.py and ``make fuzz``.

Each mutation takes a ``random.Random`` and the files of an inventory (name -> bytes) and
returns mutated files: the kinds of damage a spreadsheet export, a hand edit or a hostile
upload brings (YAML tags and aliases, bombs, nesting, duplicates, wrong types, encodings,
control characters, CSV quoting and separators, huge values and lists).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from residency.inventory import INVENTORY_FILE

Files = dict[str, bytes]
ROOT = Path(__file__).parent.parent
DEMO = ROOT / "residency" / "data" / "demo"
SMALL = Path(__file__).parent / "data" / "passing_small.yaml"

HOSTILE_SCALARS = [
    b"!!int ''",
    b"!!bool maybe",
    b"!!timestamp ''",
    b"!!float junk",
    b"!!binary aGk=",
    b"!!python/object/apply:os.system [echo]",
    b"!custom x",
    b"9" * 5000,
    b"1e99999",
    b"-0x1F",
    b"{}",
    b"[]",
    b"0",
    b"null",
    b"~",
    b"yes",
    b"NO",
    b"2023-13-01",
    b"2024-02-30T25:61:00",
    b"*undefined",
    b"&x [*x]",
    b"'unterminated",
    b'"\\xZZ"',
    b"[" * 40 + b"]" * 40,
    b"x" * 20_000,
    b"'=HYPERLINK(\"http://example.invalid\")'",
    b"\x00",
    b"\x07bell",
    b"caf\xe9",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"[/bold] [red]",
    b"{a: 1, a: 2}",
]
CSV_CELLS = [
    b"",
    b'"',
    b'"quoted, comma"',
    b'"multi\nline"',
    b"a;b;;c",
    b"=cmd|' /C calc'!A0",
    b"\x00",
    b"Z\xfcrich",
    b"x" * 200_000,
    b"ZZ",
    b"[/]",
    b"\r",
]


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def replace_value(rng: random.Random, files: Files) -> Files:
    """Replace the value after one ``key:`` with a hostile scalar."""
    lines = _lines(files[INVENTORY_FILE])
    candidates = [i for i, line in enumerate(lines) if b": " in line]
    if candidates:
        i = rng.choice(candidates)
        key = lines[i].split(b": ", 1)[0]
        lines[i] = key + b": " + rng.choice(HOSTILE_SCALARS)
    return {**files, INVENTORY_FILE: b"\n".join(lines)}


def replace_list_item(rng: random.Random, files: Files) -> Files:
    """Replace one item of a flow list ``[a, b]`` with a hostile scalar."""
    data = files[INVENTORY_FILE]
    starts = [i for i in range(len(data)) if data[i : i + 1] == b"["]
    if not starts:
        return files
    i = rng.choice(starts)
    end = data.find(b"]", i)
    if end == -1:
        return files
    return {**files, INVENTORY_FILE: data[: i + 1] + rng.choice(HOSTILE_SCALARS) + data[end:]}


def duplicate_line(rng: random.Random, files: Files) -> Files:
    """Repeat a line (a duplicate key, or a duplicate list entry)."""
    name = rng.choice(sorted(files))
    lines = _lines(files[name])
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return {**files, name: b"\n".join(lines)}


def delete_line(rng: random.Random, files: Files) -> Files:
    """Drop one line of one file."""
    name = rng.choice(sorted(files))
    lines = _lines(files[name])
    if len(lines) > 1:
        del lines[rng.randrange(len(lines))]
    return {**files, name: b"\n".join(lines)}


def flip_byte(rng: random.Random, files: Files) -> Files:
    """Insert, delete or replace one byte with YAML/CSV punctuation or a raw byte."""
    name = rng.choice(sorted(files))
    data = bytearray(files[name])
    if not data:
        return files
    i = rng.randrange(len(data))
    choice = rng.choice(
        [
            b":",
            b"-",
            b"[",
            b"{",
            b"'",
            b'"',
            b"&",
            b"*",
            b"!",
            b"\t",
            b",",
            b";",
            b" ",
            b"\n",
            b"#",
            b"|",
            b">",
            b"%",
            b"@",
            b"\x00",
            b"\x85",
            b"\xc3",
        ]
    )
    op = rng.randrange(3)
    if op == 0:
        data[i:i] = choice
    elif op == 1:
        del data[i]
    else:
        data[i : i + 1] = choice
    return {**files, name: bytes(data)}


def truncate(rng: random.Random, files: Files) -> Files:
    """Cut one file short at a random byte."""
    name = rng.choice(sorted(files))
    data = files[name]
    return {**files, name: data[: rng.randrange(len(data) + 1)]}


def alias_bomb(rng: random.Random, files: Files) -> Files:
    """Append billion-laughs anchors (or a self-reference) to the YAML."""
    levels = rng.randint(2, 9)
    text = [b"lol0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        refs = b", ".join([b"*l%d" % (i - 1)] * 9)
        text.append(b"lol%d: &l%d [%s]" % (i, i, refs))
    if rng.random() < 0.3:
        text = [b"loop: &me [*me]"]
    return {**files, INVENTORY_FILE: files[INVENTORY_FILE] + b"\n" + b"\n".join(text) + b"\n"}


def deep_nesting(rng: random.Random, files: Files) -> Files:
    """Nest a value far deeper than the format (flow or block style)."""
    depth = rng.choice([25, 200, 5_000])
    if rng.random() < 0.5:
        value = b"[" * depth + b"]" * depth
    else:
        value = b"\n" + b"".join(b"  " * (i + 1) + b"k:\n" for i in range(min(depth, 300)))
    return {**files, INVENTORY_FILE: files[INVENTORY_FILE] + b"\ndeep: " + value + b"\n"}


def wrong_section_type(rng: random.Random, files: Files) -> Files:
    """Give a section a mapping, a number or text where a list belongs."""
    section = rng.choice([b"staff", b"clients", b"systems", b"organisation"])
    value = rng.choice([b"{}", b"0", b"text", b"[1, 2]", b"{a: b}", b"[[]]", b""])
    data = files[INVENTORY_FILE]
    return {
        **files,
        INVENTORY_FILE: data.replace(
            section + b":", section + b": " + value + b"\nx_" + section + b":", 1
        ),
    }


def long_list(rng: random.Random, files: Files) -> Files:
    """Give one list many items (valid or not)."""
    n = rng.choice([500, 5_000, 20_000])
    item = rng.choice([b"US", b"ZZ", b"acme", b"slack"])
    data = files[INVENTORY_FILE]
    i = data.find(b"countries: [")
    if i == -1:
        i = data.find(b"clients: [")
    if i == -1:
        return files
    start = data.find(b"[", i) + 1
    return {**files, INVENTORY_FILE: data[:start] + b", ".join([item] * n) + b", " + data[start:]}


def csv_cell(rng: random.Random, files: Files) -> Files:
    """Replace one CSV cell with a hostile one."""
    names = [n for n in files if n.endswith(".csv")]
    if not names:
        return files
    name = rng.choice(names)
    lines = _lines(files[name])
    i = rng.randrange(len(lines))
    cells = lines[i].split(b",")
    cells[rng.randrange(len(cells))] = rng.choice(CSV_CELLS)
    lines[i] = b",".join(cells)
    return {**files, name: b"\n".join(lines)}


def csv_shape(rng: random.Random, files: Files) -> Files:
    """Damage a CSV's shape: separators, duplicate columns, ragged rows, encodings."""
    names = [n for n in files if n.endswith(".csv")]
    if not names:
        return files
    name = rng.choice(names)
    data = files[name]
    op = rng.randrange(5)
    if op == 0:
        data = data.replace(b",", b";")
    elif op == 1:
        head, _, rest = data.partition(b"\n")
        data = head + b"," + head.split(b",")[0] + b"\n" + rest
    elif op == 2:
        data = data.replace(b"\n", b",extra\n", 1 + rng.randrange(3))
    elif op == 3:
        data = data.decode("utf-8", "replace").encode("utf-16")
    else:
        data = data.replace(b"\n", b"\r", rng.randrange(1, 5))
    return {**files, name: data}


def strange_file(rng: random.Random, files: Files) -> Files:
    """Make one file empty, binary noise or a lone BOM."""
    name = rng.choice(sorted(files))
    value = rng.choice(
        [
            b"",
            b"\xef\xbb\xbf",
            bytes(rng.randrange(256) for _ in range(200)),
            b"---\n",
            b"- a\n- b\n",
        ]
    )
    return {**files, name: value}


MUTATIONS: list[Callable[[random.Random, Files], Files]] = [
    replace_value,
    replace_value,
    replace_list_item,
    duplicate_line,
    delete_line,
    flip_byte,
    flip_byte,
    truncate,
    alias_bomb,
    deep_nesting,
    wrong_section_type,
    long_list,
    csv_cell,
    csv_cell,
    csv_shape,
    strange_file,
]


def base_inventories() -> list[Files]:
    """Answer the valid inventories mutations start from: the demo folder and a small file."""
    demo = {p.name: p.read_bytes() for p in sorted(DEMO.iterdir())}
    return [demo, {INVENTORY_FILE: SMALL.read_bytes()}]


def mutate(rng: random.Random, files: Files, count: int | None = None) -> Files:
    """Apply 1 to 3 random mutations."""
    for _ in range(count or rng.randint(1, 3)):
        files = rng.choice(MUTATIONS)(rng, files)
    return files


def write(folder: Path, files: Files) -> Path:
    """Write the files into ``folder`` and answer the path to give ``--inventory``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


FILE_LEVEL_FIELDS = {"path", "file", "inventory.yaml", "organisation"}


def unlocated(problems: list) -> list:
    """Answer the problems that name no line or row although they are about content."""
    return [p for p in problems if p.line is None and p.field not in FILE_LEVEL_FIELDS]
