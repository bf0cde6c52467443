"""Every error code the server can send has a zh-CN and an English text in static/js/i18n.js,
so the pages never show a bare English server message to a Chinese reader (issue 10)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gigmarket.core.matching import REASONS
from gigmarket.core.model import AssignmentState, JobState, OfferState, WorkerState

REPO = Path(__file__).resolve().parents[2]

#: ``code=f"{what}_{state}"``: the prefixes and the states they are built from.
_BUILT = {"assignment_": AssignmentState, "job_": JobState, "offer_": OfferState,
          "worker_": WorkerState}


def _fstring_codes(node: ast.JoinedStr) -> set[str]:
    text = ast.unparse(node)
    for prefix, states in _BUILT.items():
        if text.startswith(f"f'{prefix}") or text.startswith(f'f"{prefix}'):
            return {prefix + s.value for s in states}
    if text.startswith("f'{what}_"):  # core.model.check_transition
        return {p + s.value for p, states in _BUILT.items() for s in states}
    raise AssertionError(f"an error code built in a way this test cannot read: {text}")


def raised_codes() -> set[str]:
    """Codes in ``code=...`` arguments, ``_refuse(message, code, field)`` calls and ``code =``
    class attributes under gigmarket/, those the Lua scripts return, the edge's own, and the
    eligibility reasons a refused claim carries as its code."""
    codes: set[str] = set()
    for path in (REPO / "gigmarket").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg != "code":
                        continue
                    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        codes.add(kw.value.value)
                    elif isinstance(kw.value, ast.JoinedStr):
                        codes |= _fstring_codes(kw.value)
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if (name == "_refuse" and len(node.args) >= 2
                        and isinstance(node.args[1], ast.Constant)):
                    codes.add(str(node.args[1].value))
            elif isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
                            and stmt.targets[0].id == "code"
                            and isinstance(stmt.value, ast.Constant)):
                        codes.add(str(stmt.value.value))
    for lua in (REPO / "gigmarket" / "store" / "lua").glob("*.lua"):
        codes |= set(re.findall(r"\{'err', '([a-z_]+)'\}", lua.read_text()))
    codes |= {"method_not_allowed", "http_error", "internal", "not_eligible"}
    codes |= set(REASONS)
    codes.discard("error")  # DomainError's abstract default: never sent
    return codes


def translated_codes() -> dict[str, set[str]]:
    """``err.<code>`` keys of static/js/i18n.js, per language block."""
    found: dict[str, set[str]] = {"zh": set(), "en": set()}
    lang = None
    for line in (REPO / "static" / "js" / "i18n.js").read_text().splitlines():
        block = re.match(r"\s*(zh|en): \{", line)
        if block:
            lang = block.group(1)
        key = re.match(r'\s*"err\.([a-z0-9_]+)":\s*"[^"]+"', line)
        if key and lang:
            found[lang].add(key.group(1))
    return found


def test_the_scan_finds_the_codes_it_should() -> None:
    """The scan itself sees codes of every kind (a scan that finds nothing proves nothing)."""
    codes = raised_codes()
    assert {"code_locked", "bad_pin", "not_yours", "assignment_paid", "offer_expired",
            "rate_limited", "unknown_field", "internal", "busy_overlap"} <= codes


def test_every_error_code_has_zh_and_en_text() -> None:
    """Each raised code has an ``err.<code>`` string in both languages."""
    codes = raised_codes()
    have = translated_codes()
    for lang in ("zh", "en"):
        missing = sorted(codes - have[lang])
        assert not missing, f"error codes without a {lang} text in i18n.js: {missing}"
