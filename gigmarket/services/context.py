"""What every use case needs: settings, the ledger, the live store, and publishing."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gigmarket import codec, protocol
from gigmarket.core.errors import NotFoundError
from gigmarket.core.market import Market
from gigmarket.core.model import Role
from gigmarket.core.privacy import mask_phone
from gigmarket.credentials import IdSealer
from gigmarket.settings import Settings
from gigmarket.store import keys
from gigmarket.store.ledger import Ledger, Tx
from gigmarket.store.live import LiveStore

log = logging.getLogger("gigmarket")

#: Messages per fan-out publish.
PUBLISH_SLICE = 100


class OtpSender(Protocol):
    """Delivers one-time codes. Production plugs in an SMS gateway here."""

    async def send(self, phone: str, code: str) -> None: ...


class LogOtpSender:
    """Logs that a code was sent (never the code): the stand-in until an SMS gateway is set."""

    async def send(self, phone: str, code: str) -> None:
        log.info("one-time code issued for %s", mask_phone(phone))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as established from their token."""

    role: Role
    user_id: str
    token_hash: str
    #: Manager: their markets. Kiosk: its one market.
    markets: tuple[str, ...] = ()
    station_id: str | None = None
    #: A worker signed in with a PIN the desk reset: only choosing a new PIN is allowed.
    must_change_pin: bool = False
    #: The client's network address, for the audit log of managers' actions.
    address: str | None = None

    @property
    def recipient(self) -> str:
        """The websocket stream this principal reads (a manager reads their first market)."""
        if self.role is Role.MANAGER:
            return market_recipient(self.markets[0])
        return f"{self.role.value}:{self.user_id}"


def market_event(event_id: str, type_: str, at: str | None,
                 payload: dict[str, Any]) -> protocol.Event:
    """The body of a manager's ``event`` message (SPEC 7): ``{id, at, type, payload}``."""
    return protocol.event(event_id, type_, at, payload)


async def tell_market(ctx: Context, tx: Tx, market_id: str, type_: str,
                      **payload: Any) -> None:
    """Add an entry to the market's live event feed, named after the change's ledger event."""
    event_id = tx.events[-1]["id"] if tx.events else f"{type_}:{tx.now}"
    await tx.message(market_recipient(market_id),
                     market_event(event_id, type_, ctx.iso(tx.now, market_id), payload))


def worker_recipient(worker_id: str) -> str:
    return protocol.stream("worker", worker_id)


def employer_recipient(employer_id: str) -> str:
    return protocol.stream("employer", employer_id)


def market_recipient(market_id: str) -> str:
    return protocol.stream("market", market_id)


def fanout_channels(tx: Tx) -> dict[str, list[str]]:
    """The transaction's messages by channel (issue 11: fan-out per market), each as the JSON
    ``{"r": recipient, "m": body}`` spliced from the stored text (bodies are not re-encoded).

    A market's stream goes to its own channel. A worker's or an employer's message goes to the
    channel of the market the change happened in (its events' and kicks' market), where their
    socket's process listens since they joined it; a change of several markets or of none
    (a sign-in, a profile) goes to each of them, or to the channel every process hears.
    """
    markets = sorted(tx.markets | tx.kicks)
    by_channel: dict[str, list[str]] = {}
    for o in tx.outbox:
        item = f'{{"r":{codec.dumps(o.recipient)},"m":{o.text}}}'
        kind, _, ident = o.recipient.partition(":")
        if kind == "market":
            channels = [keys.fanout(ident)]
        else:
            channels = [keys.fanout(m) for m in markets] or [keys.FANOUT]
        for channel in channels:
            by_channel.setdefault(channel, []).append(item)
    return by_channel


@dataclass
class Context:
    settings: Settings
    ledger: Ledger
    live: LiveStore
    sender: OtpSender = field(default_factory=LogOtpSender)
    sealer: IdSealer = field(init=False)
    clock: Callable[[], float] = time.time
    #: Called after each commit with the markets whose pools changed (tests and the dispatcher
    #: in-process hook in; the default publishes a kick over Redis).
    on_kick: Callable[[str], Awaitable[None]] | None = None
    #: Markets with their rules as changed from the console (``services.market_rules``
    #: keeps it current); the config's ``settings.markets`` are the defaults.
    live_markets: dict[str, Market] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sealer = IdSealer(self.settings.secret_key)

    def market(self, market_id: str) -> Market:
        """The market with the rules in force now (a manager's change wins over config)."""
        market = self.live_markets.get(market_id) or self.settings.markets.get(market_id)
        if market is None:
            raise NotFoundError(f"no market {market_id!r}", code="unknown_market", field="market")
        return market

    def tz(self, market_id: str | None) -> ZoneInfo:
        if market_id and market_id in self.settings.markets:
            return ZoneInfo(self.settings.markets[market_id].timezone)
        return ZoneInfo("Asia/Shanghai")

    def iso(self, ts: float | None, market_id: str | None = None) -> str | None:
        if ts is None:
            return None
        return datetime.fromtimestamp(ts, self.tz(market_id)).isoformat(timespec="seconds")

    def day_start(self, market_id: str, now: float) -> float:
        """Midnight today in the market's time zone, as epoch seconds."""
        local = datetime.fromtimestamp(now, self.tz(market_id))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    async def publish(self, tx: Tx) -> None:
        """After a commit: push the transaction's messages and ask for rounds."""
        # Memberships first: a web process holding the member's socket subscribes to the new
        # market (and catches up from the ledger) before this change's messages arrive there.
        for recipient, market_id in sorted(tx.joined):
            await self.live.publish(keys.JOINED, codec.dumps({"r": recipient, "m": market_id}))
        for channel, items in fanout_channels(tx).items():
            # In slices: a round's thousands of offers as one payload would make every web
            # process decode megabytes in one go, stalling its event loop.
            for i in range(0, len(items), PUBLISH_SLICE):
                payload = f"[{','.join(items[i : i + PUBLISH_SLICE])}]"
                if channel == keys.FANOUT:
                    await self.live.publish(channel, payload)
                else:
                    await self.live.publish_market(channel, payload)
        for then in tx.after_commit.values():
            await then()
        for market_id in sorted(tx.kicks):
            if self.on_kick is not None:
                await self.on_kick(market_id)
            else:
                await self.live.kick(market_id)
