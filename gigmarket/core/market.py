"""Markets, their stations and rules, and the skill catalogue.

``settings`` reads the TOML files; this module turns the parsed tables into typed, checked
values, so a typo in a market file fails at start with the key that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from gigmarket.core.errors import ValidationError
from gigmarket.core.model import Point


@dataclass(frozen=True, slots=True)
class Skill:
    code: str
    zh: str
    en: str
    icon: str
    certificate_required: bool = False


@dataclass(frozen=True, slots=True)
class Station:
    """A kiosk or service point (零工驿站 / 自助服务机)."""

    id: str
    name: str
    lat: float
    lon: float
    address: str = ""


@dataclass(frozen=True, slots=True)
class Bounds:
    south: float
    west: float
    north: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass(frozen=True, slots=True)
class CostWeights:
    """Weights of the matching cost's terms (see ``core.matching``). All non-negative."""

    travel: float = 1.0
    waited: float = 0.6
    key_group: float = 1.0
    rating: float = 0.2
    reliability: float = 0.3
    fairness: float = 0.6
    employer_rating: float = 0.2
    employer_reliability: float = 0.5


@dataclass(frozen=True, slots=True)
class Rules:
    """Per-market dispatch rules (SPEC 4). Every field has a default."""

    batch_interval_s: float = 3.0
    offer_timeout_s: float = 45.0
    #: An offer to a worker with no live connection runs out this soon (issue 10): it stays
    #: theirs when they come back, and meanwhile does not hold the slot for the full timeout.
    #: The simulator's absence comparison chose this over preferring connected workers.
    away_offer_timeout_s: float = 15.0
    #: An offer that ran out can still be taken this long afterwards while the job has a
    #: free slot and the worker can still get there (issue 14): the slot is no longer held
    #: for them, but a worker who walked over to the kiosk too slowly does not lose the job
    #: to the clock. 0 turns it off.
    late_take_s: float = 300.0
    max_travel_minutes: float | None = 15.0
    max_distance_km: float | None = None
    speed_kmh: float = 15.0
    #: Road distance is longer than the straight line; a common urban detour factor.
    detour_factor: float = 1.3
    min_hourly_wage_fen: int = 2370
    min_daily_wage_fen: int = 12000
    auto_approve_verified: bool = True
    claim_after_s: float = 600.0
    #: A worker may arrive this long after the start and still take the job.
    arrival_grace_minutes: float = 15.0
    #: Round trigger coalescing: a burst of posts and check-ins makes one round.
    debounce_ms: float = 15.0
    #: An employer may mark a worker absent this long after the start (issue 5).
    no_show_grace_minutes: float = 30.0
    #: A completion the worker has not confirmed as paid this long after becomes a wage
    #: dispute on the manager's queue (根治欠薪).
    pay_confirm_hours: float = 48.0
    #: A cancellation (either side) this close to the start lowers that side's reliability.
    late_cancel_hours: float = 12.0
    #: Expanding reach (``core.reach``, issue 14): a job still unfilled this long after
    #: posting starts to reach beyond the service circle; ``None`` keeps every job inside.
    reach_expand_after_s: float | None = None
    #: Each step widens the reach by this much travel time ...
    reach_step_minutes: float = 5.0
    #: ... and, when set, only once the job is also this close to its latest arrival (start
    #: plus grace), counting the steps from the later of the two moments ...
    reach_expand_before_start_s: float | None = None
    #: ... every this many seconds ...
    reach_step_every_s: float = 300.0
    #: ... up to the market's maximum travel time.
    max_reach_minutes: float = 30.0
    #: A worker is sent beyond the circle only after waiting this long for work (``None``:
    #: at once), so the far jobs go to those nobody near has taken, not to the morning's
    #: first arrivals, whom jobs inside the circle would have filled later.
    reach_worker_wait_s: float | None = None
    #: The market's default travel supplement per road km beyond the circle's edge (fen), which
    #: an employer agrees to when posting unless they set another rate.
    travel_supplement_fen_per_km: int = 100
    weights: CostWeights = field(default_factory=CostWeights)

    @property
    def reach_km(self) -> float:
        """The service circle's radius in straight-line km (the tighter of the two limits)."""
        limits = []
        if self.max_travel_minutes is not None:
            limits.append(self.max_travel_minutes / 60 * self.speed_kmh / self.detour_factor)
        if self.max_distance_km is not None:
            limits.append(self.max_distance_km)
        return min(limits) if limits else float("inf")

    def travel_minutes(self, straight_km: float) -> float:
        return straight_km * self.detour_factor / self.speed_kmh * 60

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = (
                {w.name: getattr(value, w.name) for w in fields(value)}
                if isinstance(value, CostWeights)
                else value
            )
        return out


@dataclass(frozen=True, slots=True)
class Contacts:
    """Where a worker is sent for what the server cannot do (``[contacts]`` in the market file)."""

    #: Where to get or renew a certificate (a training centre, the market desk), issue 10.
    training: str = ""
    #: The market desk's phone, shown when a hired worker has no phone of their own.
    desk_phone: str = ""


@dataclass(frozen=True, slots=True)
class Market:
    id: str
    name: str
    name_en: str
    centre: Point
    bounds: Bounds
    timezone: str
    stations: tuple[Station, ...]
    skills: tuple[str, ...]
    rules: Rules
    contacts: Contacts = field(default_factory=Contacts)

    def station(self, station_id: str) -> Station | None:
        return next((s for s in self.stations if s.id == station_id), None)

    def as_json(self) -> dict[str, Any]:
        """The public shape of ``GET /markets`` (SPEC 6)."""
        return {
            "id": self.id,
            "name": self.name,
            "name_en": self.name_en,
            "timezone": self.timezone,
            "centre": {"lat": self.centre.lat, "lon": self.centre.lon},
            "bounds": {
                "south": self.bounds.south,
                "west": self.bounds.west,
                "north": self.bounds.north,
                "east": self.bounds.east,
            },
            "stations": [
                {"id": s.id, "name": s.name, "lat": s.lat, "lon": s.lon, "address": s.address}
                for s in self.stations
            ],
            "skills": list(self.skills),
            "rules": self.rules.as_json(),
            "contacts": {"training": self.contacts.training,
                         "desk_phone": self.contacts.desk_phone},
        }


def _build(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r} in {where}",
                              field=f"{where}.{unknown[0]}")
    return cls(**table)


def _check_reach(rules: Rules) -> None:
    """Expanding reach's rules (issue 14) must make sense: steps forward, nothing negative."""
    checks = (
        ("reach_step_every_s", rules.reach_step_every_s > 0),
        ("reach_step_minutes", rules.reach_step_minutes > 0),
        ("max_reach_minutes", rules.max_reach_minutes > 0),
        ("travel_supplement_fen_per_km", isinstance(rules.travel_supplement_fen_per_km, int)
         and rules.travel_supplement_fen_per_km >= 0),
        ("reach_expand_after_s", rules.reach_expand_after_s is None
         or rules.reach_expand_after_s >= 0),
        ("reach_worker_wait_s", rules.reach_worker_wait_s is None
         or rules.reach_worker_wait_s >= 0),
    )
    for name, ok in checks:
        if not ok:
            raise ValidationError(f"rules.{name} is out of range", field=f"rules.{name}")


def parse_skills(table: dict[str, Any]) -> dict[str, Skill]:
    """``config/skills.toml`` (``[[skill]]`` entries) -> skills by code."""
    skills: dict[str, Skill] = {}
    for entry in table.get("skill", []):
        skill = _build(Skill, entry, "skill")
        if skill.code in skills:
            raise ValidationError(f"skill {skill.code!r} defined twice", field="skill.code")
        skills[skill.code] = skill
    if not skills:
        raise ValidationError("no skills defined", field="skill")
    return skills


def parse_market(table: dict[str, Any], skills: dict[str, Skill]) -> Market:
    """``config/markets/<id>.toml`` -> :class:`Market`, checked against the skill catalogue."""
    t = dict(table)
    rules_t = dict(t.pop("rules", {}))
    weights = _build(CostWeights, rules_t.pop("weights", {}), "rules.weights")
    rules = _build(Rules, {**rules_t, "weights": weights}, "rules")
    _check_reach(rules)
    stations = tuple(_build(Station, s, "station") for s in t.pop("station", []))
    centre_t = t.pop("centre")
    bounds = _build(Bounds, t.pop("bounds"), "bounds")
    contacts = _build(Contacts, t.pop("contacts", {}), "contacts")
    market_skills = tuple(t.pop("skills", list(skills)))
    for code in market_skills:
        if code not in skills:
            raise ValidationError(f"market skill {code!r} is not in skills.toml", field="skills")
    market = Market(
        id=t.pop("id"),
        name=t.pop("name"),
        name_en=t.pop("name_en", ""),
        centre=Point(float(centre_t["lat"]), float(centre_t["lon"])),
        bounds=bounds,
        timezone=t.pop("timezone", "Asia/Shanghai"),
        stations=stations,
        skills=market_skills,
        rules=rules,
        contacts=contacts,
    )
    if t:
        raise ValidationError(f"unknown key {sorted(t)[0]!r} in market", field=sorted(t)[0])
    for s in stations:
        if not bounds.contains(s.lat, s.lon):
            raise ValidationError(f"station {s.id} lies outside the market bounds", field="station")
    return market
