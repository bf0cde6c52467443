"""Every SQL statement the package writes as a literal runs on PostgreSQL too (issue 11).

The statements are written once, in SQLite's dialect; :mod:`gigmarket.store.dialect` translates
them. Here each literal statement passed to ``execute``/``executemany``/``one``/``all`` anywhere
in ``gigmarket/`` (found in the source, so a new one is checked the day it is written) is
prepared on a migrated PostgreSQL ledger: PostgreSQL parses it, resolves every table and column
and infers every parameter's type, or says why not. Statements assembled at run time (an ``IN``
list, an f-string with a column list) are not literals and are left to the tests that run them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import asyncpg
import pytest

from gigmarket.store import dialect
from gigmarket.store.ledger import Ledger
from tests.store.conftest import postgres_database

PACKAGE = Path(__file__).resolve().parents[2] / "gigmarket"
METHODS = {"execute", "executemany", "one", "all"}
VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def _literal(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant)
                                               for v in node.values):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left, constants), _literal(node.right, constants)
        return left + right if left is not None and right is not None else None
    return None


def literal_statements() -> list[tuple[str, str]]:
    """``(file:line, sql)`` for each literal statement passed to the ledger."""
    found: list[tuple[str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        constants: dict[str, str] = {}
        for node in tree.body:
            target = (node.targets[0] if isinstance(node, ast.Assign)
                      else node.target if isinstance(node, ast.AnnAssign) else None)
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if isinstance(target, ast.Name) and value is not None:
                text = _literal(value, constants)
                if text is not None:
                    constants[target.id] = text
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in METHODS and node.args):
                sql = _literal(node.args[0], constants)
                if sql is not None and any(v in sql.upper() for v in VERBS):
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    found.append((where, sql))
    return found


async def test_every_literal_statement_prepares_on_postgresql(
    request: pytest.FixtureRequest, tmp_path: Path,
) -> None:
    """All of them: a statement PostgreSQL refuses is named with its place and the reason."""
    statements = literal_statements()
    # The finder still finds them: 272 when this was written, 179 once the store seam built
    # its state changes from the transition table instead of one literal per change.
    assert len(statements) > 150
    url = postgres_database(request, tmp_path)
    await (await Ledger.open(url)).aclose()  # migrated
    conn = await asyncpg.connect(url)
    refused: list[str] = []
    try:
        for where, sql in statements:
            try:
                await conn.prepare(dialect.postgres(sql))
            except asyncpg.PostgresError as exc:
                refused.append(f"{where}: {str(exc).splitlines()[0]}")
        # The finder's own control: a statement SQLite takes and PostgreSQL does not.
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await conn.prepare("SELECT * FROM (SELECT 1)")
    finally:
        await conn.close()
    assert not refused, "\n".join(refused)
