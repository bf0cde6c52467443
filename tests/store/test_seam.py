"""One store seam (issue 11): every SQL statement lives in ``gigmarket/store/``.

Scans every other module of the package for string literals (adjacent literals joined, as
Python joins them) holding a statement: SELECT, INSERT, UPDATE or DELETE together with FROM,
INTO, SET or WHERE. A hit fails naming the file and line, so a statement that creeps back into
a service is found at once. The same scan counts them for the issue's before/after figures.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import gigmarket

PACKAGE: Final = Path(gigmarket.__file__).parent
VERB: Final = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b")
CLAUSE: Final = re.compile(r"\b(FROM|INTO|SET|WHERE)\b")
_STRING_PARTS: Final = {tokenize.STRING} | {
    getattr(tokenize, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
    if hasattr(tokenize, name)}
_BETWEEN_PARTS: Final = {tokenize.NL, tokenize.COMMENT}

#: Modules that may still hold SQL outside ``store/``, each with the reason.
EXEMPT: Final[dict[str, str]] = {}


def literals(source: str) -> Iterator[tuple[int, str]]:
    """Each string literal of ``source`` with its first line, adjacent parts joined."""
    parts: list[str] = []
    line = 0
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in _STRING_PARTS:
            if not parts:
                line = tok.start[0]
            parts.append(tok.string)
        elif parts and tok.type in _BETWEEN_PARTS:
            continue
        elif parts:
            yield line, "".join(parts)
            parts = []
    if parts:
        yield line, "".join(parts)


def statements(path: Path) -> list[int]:
    """The lines where SQL statements start in ``path``."""
    return [line for line, text in literals(path.read_text(encoding="utf-8"))
            if VERB.search(text) and CLAUSE.search(text)]


def outside_store() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith("store/"):
            continue
        lines = statements(path)
        if lines:
            found[name] = lines
    return found


def test_the_scan_finds_a_statement_split_over_lines() -> None:
    """The scan joins adjacent literals and sees a statement wherever it starts."""
    source = 'x = 1\nsql = ("SELECT id"\n       " FROM jobs WHERE id = ?")\nname = "select me"\n'
    found = [(line, text) for line, text in literals(source)
             if VERB.search(text) and CLAUSE.search(text)]
    assert [line for line, _ in found] == [2]


def test_the_scan_sees_the_store() -> None:
    """The store's own statements are found: the scan is not blind."""
    assert statements(PACKAGE / "store" / "jobs.py")


def test_no_sql_outside_the_store() -> None:
    """Services, web handlers, the CLI and the rest call typed store functions instead."""
    stray = [f"gigmarket/{name}:{line}" for name, lines in outside_store().items()
             if not any(name.startswith(prefix) for prefix in EXEMPT) for line in lines]
    assert not stray, "SQL outside gigmarket/store/ (move it behind a store function):\n" + (
        "\n".join(stray))


def test_every_exemption_still_holds_sql() -> None:
    """An exemption whose module no longer holds SQL is removed, not kept as a loophole."""
    found = outside_store()
    for prefix in EXEMPT:
        assert any(name.startswith(prefix) for name in found), f"{prefix} is clean: unlist it"


#: A write of a job's, offer's, assignment's or worker's state.
STATE_WRITE: Final = re.compile(
    r"\bUPDATE\s+(jobs|offers|assignments|workers)\s+SET\b(?:(?!\bWHERE\b).)*?\bstate\s*=",
    re.S)


def test_every_state_change_passes_the_transition_table() -> None:
    """Only ``store/transitions.py``, which asks the core table first, writes those states
    (a round's offered workers too, through ``store/rounds.py``)."""
    stray = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name == "store/transitions.py" or any(name.startswith(p) for p in EXEMPT):
            continue
        for line, text in literals(path.read_text(encoding="utf-8")):
            if STATE_WRITE.search(text):
                stray.append(f"gigmarket/{name}:{line}")
    assert not stray, "state written outside store/transitions.py:\n" + "\n".join(stray)


def test_the_state_scan_sees_a_literal_state_write() -> None:
    assert STATE_WRITE.search("UPDATE jobs SET accepted = 1, state = 'open' WHERE id = ?")
    assert STATE_WRITE.search("UPDATE workers SET state = ?, updated_at = ? WHERE id = ?")
    assert not STATE_WRITE.search("UPDATE jobs SET pending = 0 WHERE state = 'open'")
