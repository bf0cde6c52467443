"""docs/exchange.md's worked example recomputes to the values it prints, by the server's code
and by the fake platform's, and its schemas are valid JSON Schemas that accept its example."""

from __future__ import annotations

import json

from gigmarket.core.exchange import canonical
from gigmarket.credentials import hmac_sm3_hex, sm3_hex
from tests.exchange import platform
from tests.exchange.doc import DOC, blocks, conforms, example_values, validator


def test_the_worked_example_signs_to_the_printed_values() -> None:
    """Body hash, canonical string and signature, each computed twice, independently."""
    v = example_values()
    body = blocks()["example-body"].encode()
    assert len(body) == int(v["body_bytes"])
    assert sm3_hex(body) == platform.sm3(body) == v["body_sm3"]
    text = canonical(v["method"], v["path"], v["timestamp"], v["nonce"], v["body_sm3"])
    assert text == blocks()["example-canonical"]
    assert hmac_sm3_hex(v["secret"], text) == v["signature"]
    assert platform.signature(v["secret"], v["method"], v["path"], v["timestamp"], v["nonce"],
                              body) == v["signature"]


def test_the_empty_body_hash_in_the_document_is_sm3_of_nothing() -> None:
    """A GET signs the SM3 of the empty string, which the document prints."""
    assert sm3_hex(b"") == platform.sm3(b"")
    assert f"the empty string, `{sm3_hex(b'')}`" in DOC.read_text()


def test_the_schemas_are_valid_and_accept_the_example_posting() -> None:
    """Every schema in the document is a valid draft 2020-12 schema; the example body is a
    valid posting by it."""
    for name in ("envelope", "jobs-item", "outcomes-item", "posting", "posting-answer"):
        validator(name)
    conforms("posting", json.loads(blocks()["example-body"]))
