"""JSON depth limits (issue 9): pure, no I/O."""

from __future__ import annotations

import pytest

from gigmarket.core.errors import ValidationError
from gigmarket.core.limits import MAX_JSON_DEPTH, nesting_depth, parse_json


@pytest.mark.parametrize(("value", "depth"), [
    (1, 0), ("x", 0), (None, 0), ([], 1), ({}, 1), ([1, [2]], 2), ({"a": {"b": [1]}}, 3),
    ([[[[[]]]]], 5),
])
def test_nesting_depth(value: object, depth: int) -> None:
    """Containers count one level each; scalars none."""
    assert nesting_depth(value) == depth


def test_depth_limit_is_refused_by_name_and_never_recurses() -> None:
    """At the limit it parses; one deeper is ``too_deep``; a hundred thousand levels (past
    the parser's own recursion limit) is ``too_deep`` too, not a RecursionError."""
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert nesting_depth(parse_json(at_limit)) == MAX_JSON_DEPTH
    for n in (MAX_JSON_DEPTH + 1, 100_000):
        with pytest.raises(ValidationError) as e:
            parse_json('{"a":' * n + "1" + "}" * n)
        assert e.value.code == "too_deep"


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", "nul", b'{"a": 1,}'])
def test_not_json_is_bad_json(raw: str | bytes) -> None:
    """Anything that is not JSON is ``bad_json``."""
    with pytest.raises(ValidationError) as e:
        parse_json(raw)
    assert e.value.code == "bad_json"
