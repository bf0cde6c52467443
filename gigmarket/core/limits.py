"""Limits on what a client may send, so no input can exhaust the server (issue 9).

JSON nesting deeper than :data:`MAX_JSON_DEPTH` is refused: no body or websocket message of
the product nests beyond four levels, and the standard library's parser and every recursive
walk over a value (canonical encoding for idempotency keys, validation) would otherwise meet
``RecursionError`` a thousand levels down.
"""

from __future__ import annotations

import json
from typing import Any

from gigmarket.core.errors import ValidationError

MAX_JSON_DEPTH = 16


def nesting_depth(value: object) -> int:
    """How deep containers nest in ``value`` (a scalar is 0, ``[]`` is 1), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``raw`` as JSON within the depth limit; :class:`ValidationError` otherwise."""
    try:
        value = json.loads(raw)
    except RecursionError:
        value = None
        too_deep = True
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("the body is not valid JSON", code="bad_json") from None
    else:
        too_deep = nesting_depth(value) > max_depth
    if too_deep:
        raise ValidationError(f"JSON nests deeper than {max_depth} levels", code="too_deep")
    return value
