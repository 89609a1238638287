"""The docs describe what the code does: commands, graph kinds, the README's commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from residency.cli import app
from residency.graph import EDGE_KINDS, NODE_KINDS

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command):
    assert f"## residency {command}\n" in (ROOT / "docs" / "cli.md").read_text()


def test_every_graph_kind_is_documented():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for kind in (*NODE_KINDS, *EDGE_KINDS):
        assert re.search(rf"^\| {kind} \|", text, re.MULTILINE), kind


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
