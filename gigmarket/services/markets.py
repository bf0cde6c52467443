"""What is read about a market: the public list and board, and the manager's figures."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import date, datetime, time
from typing import Any

from gigmarket.core.errors import ValidationError
from gigmarket.core.matching import REASONS
from gigmarket.core.privacy import mask_name
from gigmarket.services.auth import require_market
from gigmarket.services.claims import is_claimable
from gigmarket.services.context import Context, Principal
from gigmarket.services.offers import job_views
from gigmarket.services.views import money


def list_markets(ctx: Context) -> list[dict[str, Any]]:
    return [m.as_json() for m in ctx.settings.markets.values()]


def list_skills(ctx: Context) -> list[dict[str, Any]]:
    return [
        {"code": s.code, "zh": s.zh, "en": s.en, "icon": s.icon,
         "certificate_required": s.certificate_required}
        for s in ctx.settings.skills.values()
    ]


async def board(ctx: Context, market_id: str) -> dict[str, Any]:
    """The hall's public board: open jobs, anonymised (no employer, street-level address)."""
    market = ctx.market(market_id)
    now = ctx.clock()
    rows = await ctx.ledger.all(
        "SELECT * FROM jobs WHERE market_id = ? AND state = 'open' ORDER BY start_at LIMIT 200",
        (market_id,),
    )
    jobs = []
    for r in rows:
        jobs.append({
            "id": r["id"], "title": r["title"], "skills": json.loads(r["skills"]),
            "headcount": r["headcount"], "accepted": r["accepted"],
            "open_slots": r["headcount"] - r["accepted"],
            "wage": money(r["wage_fen"], r["wage_unit"]),
            "start_at": ctx.iso(r["start_at"], market_id),
            "duration_hours": r["duration_hours"],
            "address": r["address"],
            "claimable": is_claimable(r, market, now),
        })
    today = await _today(ctx, market_id, now)
    live = await ctx.live.snapshot(market_id)
    waiting = sum(1 for s in live.worker_state.values() if s == "available")
    return {"market_id": market_id, "name": market.name, "at": ctx.iso(now, market_id),
            "jobs": jobs,
            "today": {"jobs_posted": today["jobs_posted"], "slots_filled": today["fills"],
                      "workers_waiting": waiting}}


async def _today(ctx: Context, market_id: str, now: float) -> dict[str, Any]:
    start = ctx.day_start(market_id, now)
    posted = await ctx.ledger.one(
        "SELECT COUNT(*) AS n, COALESCE(SUM(headcount), 0) AS slots FROM jobs"
        " WHERE market_id = ? AND created_at >= ? AND state != 'pending_review'",
        (market_id, start),
    )
    fills = await ctx.ledger.all(
        "SELECT a.travel_minutes, a.created_at, w.key_group, j.created_at AS posted_at"
        " FROM assignments a JOIN workers w ON w.id = a.worker_id JOIN jobs j ON j.id = a.job_id"
        " WHERE a.market_id = ? AND a.created_at >= ?", (market_id, start),
    )
    assert posted is not None
    return {"jobs_posted": posted["n"], "slots_posted": posted["slots"], "fills": len(fills),
            "fill_rows": fills}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


async def stats(ctx: Context, market_id: str) -> dict[str, Any]:
    """The manager's figures (STATS in the contract). Computed, never cached across markets."""
    ctx.market(market_id)
    now = ctx.clock()
    start = ctx.day_start(market_id, now)
    live = await ctx.live.snapshot(market_id)
    waiting = [w for w, s in live.worker_state.items() if s == "available"]
    by_skill: Counter[str] = Counter()
    records = live.workers
    for w in waiting:
        by_skill.update(records.get(w, {}).get("skills", []))
    open_row = await ctx.ledger.one(
        "SELECT COUNT(*) AS n, COALESCE(SUM(headcount - accepted - pending), 0) AS free"
        " FROM jobs WHERE market_id = ? AND state = 'open'", (market_id,),
    )
    pending = await ctx.ledger.one(
        "SELECT COUNT(*) AS n FROM offers WHERE market_id = ? AND state = 'pending'",
        (market_id,),
    )
    closed = await ctx.ledger.all(
        "SELECT state, COUNT(*) AS n FROM offers WHERE market_id = ? AND closed_at >= ?"
        " GROUP BY state", (market_id, start),
    )
    by_state = {r["state"]: r["n"] for r in closed}
    answered = sum(by_state.get(s, 0) for s in ("accepted", "declined", "expired"))
    today = await _today(ctx, market_id, now)
    fills = today["fill_rows"]
    filled_jobs = await ctx.ledger.all(
        "SELECT filled_at - created_at AS t FROM jobs WHERE market_id = ? AND filled_at >= ?",
        (market_id, start),
    )
    rounds = await ctx.ledger.all(
        "SELECT at, total_ms FROM rounds WHERE market_id = ? AND at >= ? ORDER BY at DESC"
        " LIMIT 500", (market_id, start),
    )
    workers_why, _, last = await ctx.live.why(market_id)
    assert open_row is not None and pending is not None
    return {
        "market_id": market_id,
        "at": ctx.iso(now, market_id),
        "workers_waiting": len(waiting),
        "waiting_by_skill": dict(by_skill),
        "open_jobs": open_row["n"],
        "open_slots": open_row["free"],
        "offers_pending": pending["n"],
        "fills_today": today["fills"],
        "slots_posted_today": today["slots_posted"],
        "fill_rate": round(today["fills"] / today["slots_posted"], 3)
        if today["slots_posted"] else None,
        "median_time_to_fill_s": _median([r["t"] for r in filled_jobs]),
        "median_travel_minutes": _median([r["travel_minutes"] for r in fills
                                          if r["travel_minutes"] is not None]),
        "acceptance_rate": round(by_state.get("accepted", 0) / answered, 3) if answered else None,
        "key_group_placements_today": sum(1 for r in fills if r["key_group"] is not None),
        "rounds": {
            "count": len(rounds),
            "last_ms": round(rounds[0]["total_ms"], 1) if rounds else None,
            "median_ms": _median([r["total_ms"] for r in rounds]),
            "last_at": ctx.iso(last.get("at"), market_id),
            "last": last or None,
        },
        "unmatched": dict(Counter(workers_why[w] for w in waiting if w in workers_why)),
    }


async def manager_stats(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    return await stats(ctx, market_id)


async def pool(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    now = ctx.clock()
    live = await ctx.live.snapshot(market_id)
    workers = []
    records = live.workers
    for wid, state in live.worker_state.items():
        rec = records.get(wid)
        if rec is None:
            continue
        workers.append({
            "id": wid, "name": mask_name(rec.get("name") or ""), "skills": rec["skills"],
            "state": state,
            # A street-level position (about 100 m): enough for the map, not a home address.
            "lat": round(rec["lat"], 3), "lon": round(rec["lon"], 3),
            "waited_s": round(now - rec["waiting_since"]) if rec.get("waiting_since") else None,
            "key_group": rec.get("key_group", False),
        })
    rows = await ctx.ledger.all(
        "SELECT id FROM jobs WHERE market_id = ? AND state IN ('open', 'filled', 'pending_review')"
        " ORDER BY start_at LIMIT 500", (market_id,),
    )
    views = await job_views(ctx, ctx.ledger, [r["id"] for r in rows])
    return {"workers": workers, "jobs": [views[r["id"]] for r in rows if r["id"] in views]}


async def unmatched(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    workers_why, jobs_why, last = await ctx.live.why(market_id)
    live = await ctx.live.snapshot(market_id)
    records = live.workers
    titles = {r["id"]: r["title"] for r in await ctx.ledger.all(
        "SELECT id, title FROM jobs WHERE market_id = ? AND state = 'open'", (market_id,))}
    return {
        "round_at": ctx.iso(last.get("at"), market_id),
        "workers": [
            {"id": w, "name": mask_name(records.get(w, {}).get("name") or ""),
             "reason": r, "reason_text": REASONS.get(r, r)}
            for w, r in workers_why.items() if live.worker_state.get(w) == "available"
        ],
        "jobs": [{"id": j, "title": titles.get(j, ""), "reason": r,
                  "reason_text": REASONS.get(r, r)}
                 for j, r in jobs_why.items() if j in titles],
    }


#: Ledger event types charted over the day on the dashboard.
HISTORY_TYPES = ("worker.checked_in", "job.posted", "offer.created", "offer.accepted",
                 "offer.declined", "offer.expired", "job.cancelled")


async def history(ctx: Context, principal: Principal, market_id: str,
                  day: str | None) -> dict[str, Any]:
    """Hourly counts of the day's events, from the ledger (the dashboard's charts)."""
    require_market(principal, market_id)
    tz = ctx.tz(market_id)
    now = ctx.clock()
    if day is None:
        start = ctx.day_start(market_id, now)
    else:
        try:
            start = datetime.combine(date.fromisoformat(day), time.min, tz).timestamp()
        except ValueError:
            raise ValidationError("date must be YYYY-MM-DD", code="bad_date",
                                  field="date") from None
    marks = ",".join("?" * len(HISTORY_TYPES))
    rows = await ctx.ledger.all(
        f"SELECT type, CAST((at - ?) / 3600 AS INTEGER) AS hour, COUNT(*) AS n FROM events"
        f" WHERE market_id = ? AND at >= ? AND at < ? AND type IN ({marks})"
        " GROUP BY type, hour",
        (start, market_id, start, start + 86400, *HISTORY_TYPES),
    )
    series = {t: [0] * 24 for t in HISTORY_TYPES}
    for r in rows:
        if 0 <= r["hour"] < 24:
            series[r["type"]][r["hour"]] = r["n"]
    return {"market_id": market_id,
            "date": datetime.fromtimestamp(start, tz).date().isoformat(),
            "hours": list(range(24)), "series": series}
