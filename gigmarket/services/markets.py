"""What is read about a market: the public list and board, and the manager's figures."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import date, datetime, time
from typing import Any

from gigmarket.core import waiting
from gigmarket.core.errors import ValidationError
from gigmarket.core.matching import REASONS
from gigmarket.core.privacy import mask_name
from gigmarket.services.auth import require_market
from gigmarket.services.claims import is_claimable
from gigmarket.services.context import Context, Principal
from gigmarket.services.offers import job_views
from gigmarket.services.views import money
from gigmarket.store import market_figures as figures
from gigmarket.store.live import LiveSnapshot


def list_markets(ctx: Context) -> list[dict[str, Any]]:
    return [ctx.market(m).as_json() for m in ctx.settings.markets]


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
    rows = await figures.open_jobs(ctx.ledger, market_id)
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
            "jobs": jobs, "calls": await _calls(ctx, market_id),
            "today": {"jobs_posted": today["jobs_posted"], "slots_filled": today["fills"],
                      "workers_waiting": waiting}}


#: The most names the board calls at once: a hall screen, not a roll call.
MAX_CALLS = 12


async def _calls(ctx: Context, market_id: str) -> list[dict[str, Any]]:
    """Workers away from any screen who hold an offer, called to a kiosk by masked name
    (issue 10): nothing else about them, not even which job."""
    rows = await figures.offered_names(ctx.ledger, market_id)
    calls: list[dict[str, Any]] = []
    for r in rows:
        if len(calls) >= MAX_CALLS:
            break
        if r["name"] and not await ctx.live.is_present(r["worker_id"]):
            name = mask_name(r["name"])
            calls.append({"name": name, "text": {"zh": f"请 {name} 到自助机查看派单",
                                                 "en": f"{name}: an offer is waiting for you"
                                                       " at a kiosk"}})
    return calls


async def _today(ctx: Context, market_id: str, now: float) -> dict[str, Any]:
    start = ctx.day_start(market_id, now)
    posted, slots = await figures.posted_since(ctx.ledger, market_id, start)
    fills = await figures.fills_since(ctx.ledger, market_id, start)
    return {"jobs_posted": posted, "slots_posted": slots, "fills": len(fills),
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
    open_jobs, open_slots = await figures.open_slots(ctx.ledger, market_id)
    pending = await figures.pending_offers(ctx.ledger, market_id)
    by_state = await figures.closed_offers_since(ctx.ledger, market_id, start)
    answered = sum(by_state.get(s, 0) for s in ("accepted", "declined", "expired"))
    today = await _today(ctx, market_id, now)
    fills = today["fill_rows"]
    times_to_fill = await figures.times_to_fill_since(ctx.ledger, market_id, start)
    rounds = await figures.rounds_since(ctx.ledger, market_id, start)
    workers_why, _, last = await ctx.live.why(market_id)
    return {
        "market_id": market_id,
        "at": ctx.iso(now, market_id),
        "workers_waiting": len(waiting),
        "waiting_by_skill": dict(by_skill),
        "open_jobs": open_jobs,
        "open_slots": open_slots,
        "offers_pending": pending,
        "fills_today": today["fills"],
        "slots_posted_today": today["slots_posted"],
        "fill_rate": round(today["fills"] / today["slots_posted"], 3)
        if today["slots_posted"] else None,
        "median_time_to_fill_s": _median(times_to_fill),
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
        "unmatched": dict(Counter(_round_reasons(live, records, workers_why, last).values())),
    }


def _round_reasons(live: LiveSnapshot, records: dict[str, dict[str, Any]],
                   stored: dict[str, str], last: dict[str, Any]) -> dict[str, str]:
    """What the last round says of each waiting worker it has looked at (issue 13: stored
    only for those no job could take, derived for the rest). Their check-in stands for
    their last change here: one back from a declined offer since the round may show as
    outranked until the next round, seconds later."""
    out = {}
    for w, state in live.worker_state.items():
        rec = records.get(w)
        if state != "available" or rec is None:
            continue
        r = waiting.round_reason(stored.get(w), round_at=last.get("at"),
                                 since=rec.get("waiting_since") or 0.0)
        if r is not None:
            out[w] = r
    return out


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
    ids = await figures.current_job_ids(ctx.ledger, market_id)
    views = await job_views(ctx, ctx.ledger, ids)
    return {"workers": workers, "jobs": [views[i] for i in ids if i in views]}


async def unmatched(ctx: Context, principal: Principal, market_id: str) -> dict[str, Any]:
    require_market(principal, market_id)
    workers_why, jobs_why, last = await ctx.live.why(market_id)
    live = await ctx.live.snapshot(market_id)
    records = live.workers
    titles = await figures.open_job_titles(ctx.ledger, market_id)
    return {
        "round_at": ctx.iso(last.get("at"), market_id),
        "workers": [
            {"id": w, "name": mask_name(records[w].get("name") or ""),
             "reason": r, "reason_text": REASONS.get(r, r)}
            for w, r in _round_reasons(live, records, workers_why, last).items()
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
    series = await figures.events_by_hour(ctx.ledger, market_id, start, HISTORY_TYPES)
    return {"market_id": market_id,
            "date": datetime.fromtimestamp(start, tz).date().isoformat(),
            "hours": list(range(24)), "series": series}
