"""docs/exchange.md read as data: its worked example and its JSON Schemas, so the tests hold
the document to the server and it cannot drift."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.e2e.server import REPO

DOC = REPO / "docs" / "exchange.md"


@cache
def blocks() -> dict[str, str]:
    """Fenced blocks whose info string names them: ```json schema=jobs-item, ```text example-…"""
    found: dict[str, str] = {}
    for info, text in re.findall(r"(?ms)^```(\w+ [^\n]+)\n(.*?)\n```$", DOC.read_text()):
        name = info.split(" ", 1)[1].removeprefix("schema=")
        found[name] = text
    return found


def example_values() -> dict[str, str]:
    return dict(line.split(": ", 1) for line in blocks()["example-values"].splitlines())


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads(blocks()[name])
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def conforms(name: str, instance: Any) -> None:
    """Fail with every violation when ``instance`` does not match the document's schema."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator(name).iter_errors(instance)]
    assert not errors, f"{name} does not match docs/exchange.md: {errors}"
