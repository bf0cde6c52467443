"""The console's what-if: the simulator plays a day under the rules in force and under a
proposed change, in a child process, while the page polls its progress (issue 12).

One run at a time per market. Runs live in the memory of the web process that started them
(a restart forgets them; behind several web processes the page must reach the same one).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from gigmarket.core import rule_changes
from gigmarket.core.errors import ConflictError, NotFoundError, ValidationError
from gigmarket.core.validation import exact_fields
from gigmarket.services.auth import require_market
from gigmarket.services.context import Context, Principal
from gigmarket.services.tenancy import audit, require_manager_of
from gigmarket.simulate.whatif import run_in_child

#: A small day: a comparison in seconds, still hundreds of people and jobs.
DEFAULT_WORKERS, DEFAULT_SLOTS = 400, 320
MAX_PEOPLE = 3000
#: Finished runs kept per market for the page to read back.
KEEP = 10


@dataclass
class Run:
    id: str
    market_id: str
    manager_id: str
    change: dict[str, Any]
    workers: int
    slots: int
    state: str = "running"  # running | done | failed
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: str | None = None
    process: BaseProcess | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "market_id": self.market_id, "state": self.state,
                "progress": self.progress, "change": self.change, "workers": self.workers,
                "slots": self.slots, "result": self.result, "error": self.error}


@dataclass
class WhatIfs:
    """This process's runs."""

    runs: dict[str, Run] = field(default_factory=dict)

    def running(self, market_id: str) -> Run | None:
        return next((r for r in self.runs.values()
                     if r.market_id == market_id and r.state == "running"), None)

    def forget_old(self, market_id: str) -> None:
        done = [r for r in self.runs.values() if r.market_id == market_id
                and r.state != "running"]
        for r in done[:-KEEP]:
            del self.runs[r.id]

    async def aclose(self) -> None:
        for r in self.runs.values():
            if r.process is not None and r.process.is_alive():
                r.process.terminate()
                await asyncio.to_thread(r.process.join, 5)


def _size(fields: dict[str, Any], name: str, default: int) -> int:
    value = fields.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= MAX_PEOPLE:
        raise ValidationError(f"{name} must be a whole number from 10 to {MAX_PEOPLE}",
                              code="out_of_range", field=name)
    return value


async def start(ctx: Context, runs: WhatIfs, principal: Principal, market_id: str,
                body: object) -> dict[str, Any]:
    markets = await require_manager_of(ctx, principal, "market", market_id)
    market = ctx.market(market_id)
    fields = exact_fields(body, required={"rules"}, optional={"workers", "slots", "seed"})
    try:
        change = rule_changes.parse_change(fields["rules"], rule_changes.editable(market.rules))
    except ValidationError as e:
        raise ValidationError(e.message, code=e.code,
                              field=f"rules.{e.field}" if e.field else "rules") from None
    workers = _size(fields, "workers", DEFAULT_WORKERS)
    slots = _size(fields, "slots", DEFAULT_SLOTS)
    seed = fields.get("seed", 20261123)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValidationError("seed must be a whole number from 0 to 2^32-1",
                              code="out_of_range", field="seed")
    if runs.running(market_id) is not None:
        raise ConflictError("a what-if is already running for this market; wait for it",
                            code="whatif_running", field="market")
    proposed = dataclasses.replace(market, rules=rule_changes.apply(market.rules, change))
    run = Run(uuid.uuid4().hex[:16], market_id, principal.user_id, change, workers, slots)
    # A run changes nothing, but it spends the server's cores in the manager's name and
    # projects the market's day: the log says who ran which rules.
    async with ctx.ledger.transaction(ctx.clock()) as tx:
        await audit(tx, principal, "whatif.run", "market", market_id, markets, run_id=run.id,
                    rules=change, workers=workers, slots=slots, seed=seed)
    parent, child = multiprocessing.get_context("spawn").Pipe(duplex=False)
    # spawn, not fork: the web process has threads (the ledger's), which fork would copy
    # mid-lock.
    process = multiprocessing.get_context("spawn").Process(
        target=run_in_child, name=f"whatif-{market_id}", daemon=True,
        args=(market, proposed, ctx.settings.skills, seed, workers, slots, child))
    process.start()
    child.close()
    run.process = process
    runs.runs[run.id] = run
    _follow(run, parent)
    return run.as_json()


def _follow(run: Run, conn: Connection) -> None:
    """Read the child's messages as they come, from the event loop without a thread."""
    loop = asyncio.get_running_loop()

    def readable() -> None:
        try:
            while conn.poll():
                kind, value = conn.recv()
                if kind == "progress":
                    run.progress = float(value)
                elif kind == "done":
                    run.state, run.progress, run.result = "done", 1.0, value
                else:
                    run.state, run.error = "failed", str(value)
        except (EOFError, OSError):
            if run.state == "running":
                run.state, run.error = "failed", "the simulation stopped unexpectedly"
        if run.state != "running":
            loop.remove_reader(conn.fileno())
            conn.close()
            if run.process is not None:
                run.process.join(0)  # reap it: the child has sent its last word

    loop.add_reader(conn.fileno(), readable)


async def get(runs: WhatIfs, principal: Principal, market_id: str,
              run_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    run = runs.runs.get(run_id)
    if run is None or run.market_id != market_id:
        raise NotFoundError("no such what-if (runs are kept until the server restarts)",
                            code="not_found", field="id")
    runs.forget_old(market_id)
    return run.as_json()
