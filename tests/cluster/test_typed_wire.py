"""The typed wire (issue 11): every message the server sends is defined in ``protocol.py``, and
nothing else in the package spells one out."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NotRequired, get_origin, get_type_hints

from gigmarket import protocol

PACKAGE = Path(protocol.__file__).resolve().parent
#: Dicts with a "type" key that are not wire messages: JSON schemas, ledger event rows.
NOT_WIRE = {"web/openapi.py", "store/ledger.py"}


def typed_dict_literals() -> list[tuple[str, int, str]]:
    """``(file, line, type)`` of each dict literal with a constant ``"type"`` key, outside
    protocol.py and the files that are not about the wire."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "protocol.py" or rel in NOT_WIRE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "type":
                    kind = value.value if isinstance(value, ast.Constant) else "?"
                    found.append((rel, node.lineno, str(kind)))
    return found


def test_no_message_is_spelt_out_outside_protocol() -> None:
    """Code that sends a message builds it with protocol.py's builders."""
    assert typed_dict_literals() == []


def test_every_message_type_has_a_definition() -> None:
    """Each type the server sends maps to a TypedDict tagged with that very type."""
    for kind, definition in protocol.SERVER_MESSAGES.items():
        hints = get_type_hints(definition)
        assert hints["type"].__args__ == (kind,), kind
    union = {t.__name__ for t in protocol.ServerMessage.__args__}
    assert union == {d.__name__ for d in protocol.SERVER_MESSAGES.values()}


def test_the_builders_give_what_the_definitions_say() -> None:
    """Each builder's message has every required key of its definition and no key the
    definition lacks (``seq`` is the ledger's; ``take_until`` only on a late-takeable expiry)."""
    built = [protocol.ready(1, "worker:w1"), protocol.snapshot(1, {}), protocol.pong(),
             protocol.offer("o1", None, {}), protocol.offer_closed("o1", "declined"),
             protocol.offer_closed("o1", "expired", "2026-11-24T07:00:00+08:00"),
             protocol.job({}), protocol.assignment({}), protocol.job_cancelled("j1", "a1"),
             protocol.event("e1", "job.posted", None, {}), protocol.stats({})]
    assert {m["type"] for m in built} | {"error"} == set(protocol.SERVER_MESSAGES)
    for message in built:
        definition = protocol.SERVER_MESSAGES[message["type"]]
        # __required_keys__ cannot be trusted under postponed annotations: read NotRequired.
        hints = get_type_hints(definition, include_extras=True)
        optional = {k for k, v in hints.items() if get_origin(v) is NotRequired}
        assert set(hints) - optional <= set(message) <= set(hints), message["type"]
