"""One vocabulary: every module ranks bases, kinds and severities the same way."""

from __future__ import annotations

import json

import pytest
import yaml

from residency import geo, query, rules
from residency.jurisdictions import legal_data
from residency.policy import parse_policy_text
from residency.vocabulary import (
    BASES,
    BASIS_RANK,
    KINDS,
    SEVERITIES,
    Basis,
    LocationKind,
    Severity,
    worst_basis,
)


def test_the_map_and_judgement_rank_bases_alike():
    assert geo.BASIS_ORDER == tuple(reversed(rules.BASES)) == tuple(reversed(BASES))
    worst_first_statuses = [s for s in geo.STATUS_ORDER if s in BASIS_RANK]
    assert worst_first_statuses == sorted(worst_first_statuses, key=BASIS_RANK.get, reverse=True)


def test_adequacy_outranks_unrestricted_and_no_basis_is_worst():
    assert Basis.ADEQUACY.rank < Basis.UNRESTRICTED.rank < Basis.NO_BASIS.rank
    assert worst_basis(["unrestricted", "adequacy"]) == "unrestricted"
    assert worst_basis(BASES) == "no_basis"


def test_public_tuples_are_plain_strings_in_one_order():
    assert query.KINDS == KINDS == ("stored", "processed", "accessed", "trained")
    assert rules.SEVERITIES == SEVERITIES == ("high", "medium", "low")
    assert [Severity(s).rank for s in SEVERITIES] == [0, 1, 2]
    for values in (KINDS, BASES, SEVERITIES):
        assert all(type(v) is str for v in values)


def test_legal_data_holds_plain_strings():
    """Enum-typed fields keep their values (YAML and JSON dumps, reprs stay as they were)."""
    for regime in legal_data().regimes:
        assert type(regime.confidence) is str
        for trigger in regime.review_triggers:
            assert all(type(k) is str for k in trigger.kinds)
            assert type(trigger.confidence) is str
            yaml.safe_dump(trigger.model_dump(mode="python"))
            json.dumps(trigger.model_dump(mode="json"))


def test_a_wrong_kind_in_a_policy_says_what_was_expected():
    from residency._errors import PolicyError

    text = "rules:\n  - id: r\n    kinds: [stord]\n    allow: [EEA]\n"
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(text)
    message = str(caught.value)
    assert "line 3" in message and "'stored'" in message and "'stord'" in message
    assert set(LocationKind) == set(KINDS)
