"""``residency diff``: what changed in meaning between two versions of an inventory."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from residency.cli import app
from residency.datamap import DataMap
from residency.diff import DiffError, InventoryDiff, diff, read_git, split_revisions
from residency.inventory import parse_inventory_text
from residency.whatif import apply_changes

from .test_properties import inventories
from .test_whatif import change_for

DATA = Path(__file__).parent / "data"
DAY = "2026-12-01"
BASE = yaml.safe_load((DATA / "passing_small.yaml").read_text())
runner = CliRunner()


def _inv(doc):
    return parse_inventory_text(yaml.safe_dump(doc, sort_keys=False))


def _system(doc, sid):
    return next(s for s in doc["systems"] if s["id"] == sid)


def _edited(edit):
    doc = copy.deepcopy(BASE)
    edit(doc)
    return doc


def _nonzero(result: InventoryDiff):
    return {
        area: {k: v for k, v in c.items() if v}
        for area, c in result.counts().items()
        if any(c.values())
    }


def _zendesk_in_china(doc):
    _system(doc, "slack")["subprocessors"][1]["countries"] = ["US", "CN"]


def _safeguard_for_gworkspace(doc):
    _system(doc, "gworkspace")["safeguards"] = ["EU SCC 2021"]


def _slack_opt_out(doc):
    _system(doc, "slack")["ai_training"]["opted_out"] = "2026-01-01"


def _globex_clause(doc):
    doc["clients"][1]["residency"] = ["US"]


def _drop_zendesk(doc):
    _system(doc, "slack")["subprocessors"].pop(1)


def _new_subprocessor(doc):
    _system(doc, "gworkspace")["subprocessors"] = [
        {"name": "Acme Support", "purpose": "support", "countries": ["IN"]}
    ]


def _reorder(doc):
    for part in ("systems", "clients", "staff"):
        doc[part].reverse()


def _new_client(doc):
    doc["clients"].append(
        {"id": "initech", "country": "FR", "data": ["messages"], "systems": ["slack"]}
    )


# edit, expected counts (non-zero only), words expected in the inventory or sub-processor text
CASES = {
    "nothing": (lambda doc: None, {}, []),
    "reordered entries": (_reorder, {}, []),
    "sub-processor now also in China": (
        _zendesk_in_china,
        {
            "findings": {"new": 1, "changed": 1},
            "clauses": {"new": 1},
            "transfers": {"new": 2},
            "locations": {"new": 2},
        },
        [
            "sub-processor Zendesk of Slack (slack): now also in China (CN)",
            "through it the data of 2 clients (acme, globex) now reaches China (CN)",
            "the residency clause of 1 client (acme) now breaks",
        ],
    ),
    "sub-processor removed": (
        _drop_zendesk,
        {"clauses": {"gone": 1}, "transfers": {"gone": 1}, "locations": {"gone": 2}},
        ["Slack (slack) no longer hands data to Zendesk (customer support) in United States"],
    ),
    "sub-processor added": (
        _new_subprocessor,
        {
            "findings": {"changed": 2},
            "clauses": {"new": 1},
            "transfers": {"new": 3},
            "locations": {"new": 4},
        },
        ["Google Workspace (gworkspace) now hands data to a new sub-processor, Acme Support"],
    ),
    "safeguard changes the basis": (
        _safeguard_for_gworkspace,
        {"findings": {"new": 1, "gone": 1}, "transfers": {"changed": 2}},
        ["Google Workspace (gworkspace): safeguards added: EU SCC 2021"],
    ),
    "opt-out ends an exposure": (
        _slack_opt_out,
        {"findings": {"new": 2, "gone": 2}, "ai_training": {"changed": 2}},
        ["Slack (slack): AI training default opt-out -> default opt-out, opted out 2026-01-01"],
    ),
    "a clause that now breaks": (
        _globex_clause,
        {"findings": {"new": 1}, "clauses": {"new": 2}},
        ["client globex changed: residency"],
    ),
    "a new client": (
        _new_client,
        {
            "findings": {"new": 2},
            "ai_training": {"new": 1},
            "transfers": {"new": 5},
            "locations": {"new": 5},
        },
        ["1 new client: initech"],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_diff_table(case):
    edit, counts, words = CASES[case]
    result = diff(_inv(BASE), _inv(_edited(edit)), as_of=DAY)
    assert _nonzero(result) == counts
    text = "\n".join([*result.inventory, *(s.words for s in result.subprocessors)])
    for expected in words:
        assert expected in text
    assert result.empty == (not counts and not words)


def test_a_changed_basis_says_before_and_after():
    result = diff(_inv(BASE), _inv(_edited(_safeguard_for_gworkspace)), as_of=DAY)
    changed = [d for d in result.transfers if d.change == "changes"]
    assert {d.subject for d in changed} == {"client:acme"}
    assert all(d.before.endswith(": no_basis") and d.after.endswith(": safeguard") for d in changed)
    assert all(d.rule == "safeguard" for d in changed)


def test_each_difference_carries_its_evidence_back_to_the_inventory_line(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(BASE, sort_keys=False))
    new.write_text(yaml.safe_dump(_edited(_zendesk_in_china), sort_keys=False))
    result = diff(old, new, as_of=DAY)
    clause = result.clauses[0]
    assert clause.subject == "client:acme"
    assert clause.change == "appears"
    assert "outside the clause EEA" in clause.after
    assert clause.evidence[0] == (
        "client:acme -uses-> system:slack -processed_by-> Zendesk "
        "(subprocessor:slack:zendesk) -located_in-> country:CN"
    )
    assert any(
        e.startswith(f"uses client:acme > system:slack: {new} line ") for e in clause.evidence
    )
    for d in result.differences:
        assert d.evidence, d


def test_a_new_finding_has_its_severity_and_the_findings_evidence():
    result = diff(_inv(BASE), _inv(_edited(_globex_clause)), as_of=DAY)
    (finding,) = result.findings
    assert (finding.change, finding.severity, finding.rule) == (
        "appears",
        "high",
        "residency.contract_breach",
    )
    assert any(e.startswith("client:globex ") for e in finding.evidence)
    assert [f.rule for f in result.failing("high")] == ["residency.contract_breach"]


def test_finding_evidence_through_a_subprocessor_reads_as_path_text():
    # A step from a sub-processor once kept part of its node id twice ("...zendesk)k:zendesk)").
    result = diff(_inv(BASE), _inv(_edited(_zendesk_in_china)), as_of=DAY)
    (new,) = [d for d in result.findings if d.change == "appears"]
    assert new.evidence == (
        "client:globex -uses-> system:slack -processed_by-> Zendesk "
        "(subprocessor:slack:zendesk) -located_in-> country:CN",
    )


def test_the_library_and_the_map_give_the_same_diff():
    a, b = DataMap.from_inventory(_inv(BASE)), _inv(_edited(_zendesk_in_china))
    assert a.diff(b, as_of=DAY).to_dict() == diff(a, b, as_of=DAY).to_dict()


def test_to_dict_shape():
    payload = diff(_inv(BASE), _inv(_edited(_zendesk_in_china)), as_of=DAY).to_dict()
    assert set(payload) == {
        "old",
        "new",
        "as_of",
        "empty",
        "counts",
        "inventory",
        "subprocessors",
        "findings",
        "clauses",
        "ai_training",
        "transfers",
        "locations",
    }
    assert payload["as_of"] == DAY
    assert payload["counts"]["clauses"] == {"new": 1, "gone": 0, "changed": 0}
    row = payload["findings"][0]
    assert set(row) == {
        "area",
        "change",
        "subject",
        "rule",
        "before",
        "after",
        "severity",
        "evidence",
    }
    assert isinstance(row["evidence"], list)
    (sub,) = payload["subprocessors"]
    assert (sub["system"], sub["name"], sub["change"], sub["before"], sub["after"]) == (
        "slack",
        "Zendesk",
        "changed",
        ["US"],
        ["CN", "US"],
    )
    json.dumps(payload)  # JSON-ready as it is


def test_failing_rejects_an_unknown_level():
    with pytest.raises(DiffError, match="expected one of high, medium, low"):
        diff(_inv(BASE), _inv(BASE), as_of=DAY).failing("critical")


# The CLI ------------------------------------------------------------------------------


def _files(tmp_path, edit):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump(BASE, sort_keys=False))
    new.write_text(yaml.safe_dump(_edited(edit), sort_keys=False))
    return str(old), str(new)


@pytest.mark.parametrize(
    ("edit", "level", "code"),
    [
        (_globex_clause, "high", 1),  # a new high finding
        (_globex_clause, "low", 1),
        (_slack_opt_out, "high", 0),  # only medium and low findings are new
        (_slack_opt_out, "medium", 1),
        (_zendesk_in_china, "high", 1),  # a high finding now names one more country
        (_drop_zendesk, "low", 0),  # nothing new or worse
        (_reorder, "low", 0),
    ],
)
def test_fail_on_exit_codes(tmp_path, edit, level, code):
    old, new = _files(tmp_path, edit)
    result = runner.invoke(app, ["diff", old, new, "--as-of", DAY, "--fail-on", level])
    assert result.exit_code == code, result.output
    assert ("--fail-on " + level in result.stderr) == bool(code)


def test_without_fail_on_a_diff_exits_0(tmp_path):
    old, new = _files(tmp_path, _globex_clause)
    result = runner.invoke(app, ["diff", old, new, "--as-of", DAY])
    assert result.exit_code == 0, result.output
    assert "+ client:globex: high: Client's contractual residency limit breached" in result.stdout


def test_fail_on_rejects_an_unknown_level(tmp_path):
    old, new = _files(tmp_path, _reorder)
    result = runner.invoke(app, ["diff", old, new, "--fail-on", "severe"])
    assert result.exit_code == 1
    assert "unknown --fail-on 'severe': expected one of high, medium, low" in result.stderr


def test_cli_json_is_the_library_dict(tmp_path):
    old, new = _files(tmp_path, _zendesk_in_china)
    result = runner.invoke(app, ["diff", old, new, "--as-of", DAY, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == diff(old, new, as_of=DAY).to_dict()


def test_cli_explains_a_changed_subprocessor_in_plain_words(tmp_path):
    old, new = _files(tmp_path, _zendesk_in_china)
    out = runner.invoke(app, ["diff", old, new, "--as-of", DAY]).stdout
    assert "Sub-processors:" in out
    assert (
        "sub-processor Zendesk of Slack (slack): now also in China (CN): through it the data of"
        in out
    )
    assert "Client residency clauses:" in out


def test_cli_says_when_nothing_changed(tmp_path):
    old, new = _files(tmp_path, _reorder)
    out = runner.invoke(app, ["diff", old, new, "--as-of", DAY]).stdout
    assert "No change in meaning" in out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["diff", "only-one.yaml"], "give two inventories"),
        (["diff", "missing/inv.yaml", "other.yaml"], "missing/inv.yaml: no such file or folder"),
        (["diff", "--git", "HEAD", "inv.yaml"], "expected REV1..REV2"),
        (["diff", "--git", "a..b"], "with --git give one inventory path"),
    ],
)
def test_cli_errors_are_clear(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert words in result.stderr
    assert "Traceback" not in result.output


def test_a_stored_organisation_is_one_side(tmp_path):
    db = str(tmp_path / "store.db")
    old, new = _files(tmp_path, _globex_clause)
    assert runner.invoke(app, ["import", old, "--db", db]).exit_code == 0
    result = runner.invoke(app, ["diff", "Tiny Agency", new, "--db", db, "--as-of", DAY, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["old"] == "stored Tiny Agency"
    assert payload["counts"]["clauses"]["new"] == 2


def test_an_invalid_inventory_is_a_clear_error(tmp_path):
    old, _ = _files(tmp_path, _reorder)
    bad = tmp_path / "bad.yaml"
    bad.write_text("organisation: {name: X}\n")
    result = runner.invoke(app, ["diff", old, str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml" in result.stderr
    assert "Traceback" not in result.output


# Git ----------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo, *args):
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path):
    """A repository with two commits: a folder inventory (YAML + CSVs) and a file one."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    shutil.copytree(DATA / "agency", root / "agency")
    (root / "small.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    with (root / "agency" / "clients.csv").open("a") as clients:
        clients.write("initech,Initech SARL,FR,messages,chat,\n")
    (root / "small.yaml").write_text(yaml.safe_dump(_edited(_zendesk_in_china), sort_keys=False))
    _git(root, "commit", "-q", "-am", "second")
    return root


@needs_git
def test_git_folder_inventory(repo):
    folder = repo / "agency"
    result = diff(read_git("HEAD~1", folder), read_git("HEAD", folder), as_of=DAY)
    assert result.inventory == ["1 new client: initech"]
    assert result.locations
    assert {(d.change, d.subject) for d in result.locations} == {("appears", "client:initech")}
    assert read_git("HEAD", folder).origins["client:initech"] == "HEAD:agency/clients.csv row 4"
    assert "client:initech" not in read_git("HEAD~1", folder).origins


@needs_git
def test_git_file_inventory_through_the_cli(repo):
    path = str(repo / "small.yaml")
    result = runner.invoke(app, ["diff", "--git", "HEAD~1..HEAD", path, "--as-of", DAY, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["old"] == f"HEAD~1:{path}"
    assert payload["subprocessors"][0]["after"] == ["CN", "US"]
    evidence = [e for d in payload["clauses"] for e in d["evidence"]]
    assert any(e.endswith("HEAD:small.yaml line 31") for e in evidence), evidence


@needs_git
def test_git_against_the_working_tree(repo):
    (repo / "small.yaml").write_text(yaml.safe_dump(BASE, sort_keys=False))
    result = runner.invoke(
        app, ["diff", "--git", "HEAD..", str(repo / "small.yaml"), "--as-of", DAY, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["subprocessors"][0]["after"] == ["US"]


@needs_git
@pytest.mark.parametrize(
    ("rev", "path", "words"),
    [
        ("nosuchrev..HEAD", "small.yaml", "nosuchrev: no such revision in the repository at"),
        ("HEAD~1..HEAD", "gone.yaml", "HEAD~1:gone.yaml: no such file or folder in that revision"),
    ],
)
def test_git_errors_are_clear(repo, rev, path, words):
    result = runner.invoke(app, ["diff", "--git", rev, str(repo / path)])
    assert result.exit_code == 1, result.output
    assert words in result.stderr
    assert "Traceback" not in result.output


@needs_git
def test_git_path_outside_a_repository(tmp_path):
    (tmp_path / "inv.yaml").write_text(yaml.safe_dump(BASE))
    with pytest.raises(DiffError, match="not in a git repository"):
        read_git("HEAD", tmp_path / "inv.yaml")


@needs_git
def test_an_invalid_inventory_in_a_revision_names_the_revision(repo):
    (repo / "small.yaml").write_text("organisation: {name: X}\n")
    _git(repo, "commit", "-q", "-am", "broken")
    result = runner.invoke(app, ["diff", "--git", "HEAD~1..HEAD", str(repo / "small.yaml")])
    assert result.exit_code == 1
    assert "HEAD:small.yaml" in result.stderr
    assert "residency-diff-" not in result.stderr  # never the temporary folder


def test_split_revisions():
    assert split_revisions("v1..v2") == ("v1", "v2")
    assert split_revisions("v1..") == ("v1", None)
    for bad in ("v1", "..v2", "v1...v2"):
        with pytest.raises(DiffError):
            split_revisions(bad)


# Properties ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _key(d):
    return (d.area, d.subject, d.rule, d.before or d.after)


@SETTINGS
@given(inventories())
def test_an_inventory_against_itself_is_empty(doc):
    m = DataMap.from_inventory(_inv(doc))
    again = DataMap.from_inventory(_inv(doc))
    result = diff(m, again, as_of=DAY)
    assert result.empty
    assert not result.failing("low")


@SETTINGS
@given(inventories(), st.data())
def test_what_one_way_adds_the_other_way_removes(doc, data):
    m = DataMap.from_inventory(_inv(doc))
    changed, _ = apply_changes(m.inventory, [data.draw(change_for(doc))], date(2026, 12, 1))
    forward = diff(m, changed, as_of=DAY)
    back = diff(changed, m, as_of=DAY)
    for area in ("locations", "transfers", "findings", "ai_training", "clauses"):
        new = sorted(_key(d) for d in getattr(forward, area) if d.change == "appears")
        gone = sorted(_key(d) for d in getattr(back, area) if d.change == "disappears")
        assert new == gone, area
        changes = {(d.area, d.subject, d.before, d.after) for d in getattr(forward, area)}
        reverse = {(d.area, d.subject, d.after, d.before) for d in getattr(back, area)}
        assert {c for c in changes if c[2] and c[3]} == {c for c in reverse if c[2] and c[3]}
