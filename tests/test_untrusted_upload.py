"""The app's upload: every hostile zip or YAML gets a clear message; nothing escapes a temp dir."""

from __future__ import annotations

import io
import stat
import struct
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from residency import InventoryError
from residency.inventory import read_upload
from residency.limits import Limits

DEMO = Path(__file__).parent.parent / "residency" / "data" / "demo"
SMALL = (Path(__file__).parent / "data" / "passing_small.yaml").read_bytes()


def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _patch_central(content: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of every central-directory entry (and its local header)."""
    data = bytearray(content)
    local_offset = {8: 6, 10: 8}.get(offset)  # flag bits, compression method
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into(fmt, data, pos + offset, value)
        pos = data.find(b"PK\x01\x02", pos + 4)
    if local_offset is not None:
        pos = data.find(b"PK\x03\x04")
        while pos != -1:
            struct.pack_into(fmt, data, pos + local_offset, value)
            pos = data.find(b"PK\x03\x04", pos + 4)
    return bytes(data)


def _refused(name: str, content: bytes, words: str, limits: Limits | None = None) -> str:
    started = time.perf_counter()
    with pytest.raises(InventoryError) as info:
        read_upload(name, content, limits=limits)
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert words in message, message
    assert len(message) < 2_000
    return message


@pytest.fixture(autouse=True)
def _own_tempdir(tmp_path, monkeypatch):
    """Every upload unpacks under this folder, which must be empty again afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield
    assert list(folder.iterdir()) == []


def test_a_valid_zip_and_yaml_still_load():
    demo = {f"org/{p.name}": p.read_bytes() for p in DEMO.iterdir()}
    assert len(read_upload("org.zip", _zip(demo)).staff) == 61
    inv = read_upload("small.yaml", SMALL)
    assert inv.organisation.name == "Tiny Agency"
    assert "zip of the whole folder" in inv.warnings[0]


def test_the_upload_size_is_limited():
    _refused("big.yaml", b"#" * (2 * 1024 * 1024), "larger than 1 MB", Limits(file_mb=1))


def test_a_zip_bomb_is_stopped_by_the_bytes_it_inflates():
    bomb = _zip({"inventory.yaml": b"\n" * (3 * 1024 * 1024)})
    assert len(bomb) < 10_000
    _refused("bomb.zip", bomb, "inflates to more than 1 MB", Limits(file_mb=1))
    _refused("bomb.zip", bomb, "compressed more than 200 to 1")


def test_a_header_that_lies_about_the_size():
    honest = _zip({"inventory.yaml": SMALL})
    # file_size sits at offset 24 of a central-directory entry and 22 of a local header.
    lying = bytearray(_patch_central(honest, 24, "<I", 10))
    struct.pack_into("<I", lying, lying.find(b"PK\x03\x04") + 22, 10)
    _refused("lying.zip", bytes(lying), "damaged in the zip")


def test_a_corrupt_member():
    content = bytearray(_zip({"inventory.yaml": SMALL * 3}))
    start = content.find(b"inventory.yaml") + len("inventory.yaml") + 10
    content[start : start + 40] = b"\xff" * 40
    _refused("corrupt.zip", bytes(content), "damaged in the zip")


def test_encrypted_and_unsupported_members():
    plain = _zip({"inventory.yaml": SMALL})
    _refused("secret.zip", _patch_central(plain, 8, "<H", 0x1), "encrypted")
    _refused("odd.zip", _patch_central(plain, 10, "<H", 99), "compressed with a method")


def test_the_member_count_is_limited():
    many = _zip({f"f{i}.txt": b"" for i in range(10_000)}, compression=zipfile.ZIP_STORED)
    _refused("many.zip", many, "10,000 members; the limit is 1,000")


@pytest.mark.parametrize(
    ("member", "words"),
    [
        ("../inventory.yaml", "unsafe path"),
        ("org/../../etc/inventory.yaml", "unsafe path"),
        ("/etc/inventory.yaml", "unsafe path: absolute"),
        ("\\\\server\\share\\inventory.yaml", "unsafe path: absolute"),
        ("C:/inventory.yaml", "unsafe path: absolute"),
        ("org/" + "x" * 300 + "/inventory.yaml", "a name too long"),
        ("org/backup.zip", "a zip inside the zip"),
    ],
)
def test_unsafe_member_names(member, words):
    _refused("evil.zip", _zip({member: b"x", "inventory.yaml": SMALL}), words)


def test_a_symlink_member_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("staff.csv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("inventory.yaml", SMALL)
    _refused("link.zip", buffer.getvalue(), "a symbolic link")


def test_a_file_and_folder_name_clash():
    content = _zip({"inventory.yaml": SMALL, "inventory.yaml/": b""})
    _refused("clash.zip", content, "appears twice")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("inventory.zip", SMALL, "not a valid zip file"),
        ("inventory.zip", b"PK\x03\x04" + b"\x00" * 100, "not a valid zip file"),
        ("empty.zip", _zip({"readme.txt": b"hi"}), "holds no inventory.yaml"),
        ("two.zip", _zip({"a/inventory.yaml": SMALL, "b/inventory.yaml": SMALL}), "several"),
        ("bomb.yaml", b"a: &a [*a]\n", "refers to the value that contains it"),
        (
            "bad.yaml",
            b"organisation:\n  name: Caf\xe9\n",
            "bad.yaml line 2: encoding",
        ),
    ],
)
def test_other_bad_uploads(name, content, words):
    _refused(name, content, words)


def test_a_self_referencing_alias_in_a_zip_is_refused():
    laughs = b"a: &a [x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n".encode()
        for i in range(8)
    )
    _refused("laughs.zip", _zip({"inventory.yaml": laughs}), "RESIDENCY_MAX_ALIASES")
