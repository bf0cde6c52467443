"""JSON in and out of the stores and the fan-out: one codec, fast (orjson), UTF-8 kept as is.

A 10k-worker round encodes and decodes tens of thousands of records; the standard library's
json spent more time on them than SQLite did on the writes.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)
