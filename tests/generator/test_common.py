"""Shared generator helpers whose mistakes would be silent in the rendered templates."""

from __future__ import annotations

import json

import pytest
from awacs.aws import Condition, Null, StringEquals

from generator.common import all_of


def test_two_conditions_of_one_operator_keep_both_keys() -> None:
    """awacs renders one mapping per operator: Condition([StringEquals(a), StringEquals(b)])
    keeps only b, which once dropped a trust policy's audience check."""
    naive = Condition([StringEquals("k:a", "1"), StringEquals("k:b", "2")])
    assert naive.JSONrepr() == {"StringEquals": {"k:b": "2"}}  # the trap all_of avoids
    merged = all_of(StringEquals("k:a", "1"), Null("k:c", "true"), StringEquals("k:b", "2"))
    assert json.loads(json.dumps(merged.JSONrepr())) == {
        "StringEquals": {"k:a": "1", "k:b": "2"},
        "Null": {"k:c": "true"},
    }


def test_a_key_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="k:a"):
        all_of(StringEquals("k:a", "1"), StringEquals("k:a", "2"))
