"""A manager's rule change (core.rule_changes): checked by field, applied over the config."""

from __future__ import annotations

from typing import Any

import pytest

from gigmarket.core.errors import ValidationError
from gigmarket.core.market import Rules
from gigmarket.core.rule_changes import apply, editable, parse_change

NOW = editable(Rules())


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"offer_timeout_s": 5}, "offer_timeout_s", "out_of_range"),
    ({"offer_timeout_s": "30"}, "offer_timeout_s", "bad_type"),
    ({"offer_timeout_s": True}, "offer_timeout_s", "bad_type"),
    ({"batch_interval_s": None}, "batch_interval_s", "required"),
    ({"min_hourly_wage_fen": 2370.5}, "min_hourly_wage_fen", "bad_type"),
    ({"weights": {}}, "weights", "unknown_field"),
    ({"max_travel_minutes": None}, "max_travel_minutes", "no_reach"),
    ({"min_daily_wage_fen": 1000}, "min_daily_wage_fen", "out_of_range"),
    ({}, "rules", "required"),
])
def test_bad_changes_name_the_field(body: dict[str, Any], field: str, code: str) -> None:
    """Every refusal says which rule and why."""
    with pytest.raises(ValidationError) as e:
        parse_change(body, NOW)
    assert (e.value.field, e.value.code) == (field, code)


def test_a_change_is_applied_over_the_config() -> None:
    """Changed rules win; the rest (and the weights) stay the config's."""
    change = parse_change({"offer_timeout_s": 20, "max_distance_km": 5,
                           "max_travel_minutes": None}, NOW)
    assert change == {"offer_timeout_s": 20.0, "max_distance_km": 5.0,
                      "max_travel_minutes": None}
    rules = apply(Rules(), change)
    assert (rules.offer_timeout_s, rules.reach_km, rules.batch_interval_s) == (20.0, 5.0, 3.0)
    assert rules.weights == Rules().weights


def test_an_override_no_longer_editable_is_ignored() -> None:
    """A stored name this editor no longer offers cannot reach the rules."""
    assert apply(Rules(), {"debounce_ms": 1}).debounce_ms == Rules().debounce_ms
