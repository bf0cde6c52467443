"""``gigmarket serve | dispatch | manager add | exchange | rebuild | simulate``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import multiprocessing
import os
import signal
import sys
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from gigmarket import lifeline, logs
from gigmarket.collector import Pacer
from gigmarket.settings import Settings, load

if TYPE_CHECKING:
    import uvicorn

    from gigmarket.services.context import Context
    from gigmarket.supervisor import Supervisor

log = logging.getLogger("gigmarket")


async def _rebuild(settings: Settings, redis_url: str, *, only_if_empty: bool) -> None:
    from gigmarket.services.context import Context
    from gigmarket.services.live_records import rebuild_market
    from gigmarket.store.ledger import Ledger
    from gigmarket.store.live import LiveStore

    ledger = await Ledger.open(settings.ledger_path)
    live = LiveStore.from_url(redis_url, cluster=settings.redis_cluster)
    try:
        ctx = Context(settings=settings, ledger=ledger, live=live)
        for market_id in settings.markets:
            if only_if_empty and await live.is_built(market_id):
                continue
            counts = await rebuild_market(ctx, market_id)
            log.info("live pools of %s rebuilt from the ledger: %s", market_id, counts)
    finally:
        await live.aclose()
        await ledger.aclose()


async def _demo_through_faults(ctx: Context) -> None:
    """The demo's simulated people, started again after a fault rather than taking the
    dispatcher down with them (a Redis blip never kills a process, issue 8)."""
    from gigmarket.demo import run_demo

    while True:
        try:
            await run_demo(ctx)
            return
        except Exception as e:
            log.warning("the demo stopped (%r); starting it again in 2 s", e)
            await asyncio.sleep(2)


async def _dispatch(settings: Settings, redis_url: str, demo: bool = False) -> None:
    from gigmarket.dispatch.loop import Dispatcher
    from gigmarket.dispatch.solver import Solver
    from gigmarket.services.context import Context
    from gigmarket.store.ledger import Ledger
    from gigmarket.store.live import LiveStore
    from gigmarket.store.recoveries import Recovery, count

    # A SIGTERM right after the start cancels us: let the opening finish and close it, or its
    # connection thread reports to a closed loop (a traceback at the first-start stop).
    opening = asyncio.ensure_future(Ledger.open(settings.ledger_path))
    try:
        ledger = await asyncio.shield(opening)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await (await opening).aclose()
        raise
    live = LiveStore.from_url(redis_url, cluster=settings.redis_cluster)
    solver = Solver(on_restart=lambda: count(ledger, Recovery.SOLVER_RESTART))
    dispatcher: Dispatcher | None = None
    try:
        await solver.warm()
        ctx = Context(settings=settings, ledger=ledger, live=live)
        dispatcher = Dispatcher(ctx, solver)
        tasks = [dispatcher.run()]
        if demo:
            tasks.append(_demo_through_faults(ctx))
        await asyncio.gather(*tasks)
    finally:
        async def close() -> None:
            # Every step bounded: Redis may be the thing that is gone (issue 8: a dispatcher
            # that retried a lost Redis outlived serve's shutdown).
            if dispatcher is not None:
                await dispatcher.release()
            solver.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await live.aclose()
            await ledger.aclose()

        # To the end, even if cancelled again meanwhile (a second SIGTERM, or the cancel a
        # COMMIT deferred landing here): a ledger left half-closed has its connection thread
        # report to a closed loop, a traceback as the process exits.
        closing = asyncio.ensure_future(close())
        while not closing.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(closing)
        closing.result()


def _dispatch_process(redis_url: str, dev: bool, demo: bool) -> None:
    """Entry of the dispatcher child that ``serve`` starts (a separate process: rounds never
    stall the web event loop)."""
    logs.configure()
    lifeline.hold_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us in order, with SIGTERM
    settings = load(dev=dev)
    loop = asyncio.new_event_loop()
    task = loop.create_task(_dispatch(settings, redis_url, demo))
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(task)
    loop.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _page_addresses(settings: Settings, base: str) -> list[tuple[str, str]]:
    """The pages a person opens, as ``(what, address)``: printed when serve is ready."""
    markets = list(settings.markets.values())
    station = next((s.id for m in markets for s in m.stations), "")
    lines = [("kiosk", f"{base}/kiosk?station={station}" if station else f"{base}/kiosk"),
             ("worker phone", f"{base}/m/worker"),
             ("employer phone", f"{base}/m/employer"),
             ("manager console", f"{base}/manage")]
    lines += [(f"hall board ({m.id})", f"{base}/board/{m.id}") for m in markets]
    lines.append(("set up a kiosk", f"{base}/manage#kiosks"))
    return lines


async def _run_web(server: uvicorn.Server, settings: Settings, supervisor: Supervisor) -> None:
    supervisor.loop = asyncio.get_running_loop()
    async def banner() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "localhost"
        base = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
        pages = _page_addresses(settings, base)
        width = max(len(what) for what, _ in pages)
        text = "\n".join(f"  {what:<{width}}  {url}" for what, url in pages)
        print(f"gigmarket is ready ({'dev' if settings.dev else 'production'} mode):\n{text}",
              flush=True)

    shown = asyncio.create_task(banner())
    # The collector's pauses grew with the sockets held (see gigmarket.collector).
    paced = asyncio.create_task(Pacer().run())
    try:
        await server.serve()
    finally:
        shown.cancel()
        paced.cancel()


#: Pending connections the listening socket queues: a mass reconnect (a web process
#: restarted under 10k kiosks and phones) arrives at once; uvicorn's 2048 overflowed and the
#: kernel dropped SYNs, so clients waited seconds for their retransmit (issue 13).
#: The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 16384


class SocketAcceptsAtDebug(logging.Filter):
    """uvicorn logs every websocket accept at INFO, and the websockets library, through
    uvicorn's logger, "connection open": at 10k reconnecting sockets that is 20k lines,
    written under the event loop. They are debug detail (issue 13)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        if record.levelno == logging.INFO and ('"WebSocket ' in msg or msg == "connection open"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def web_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    """The web process's uvicorn settings (sockets: issue 13)."""
    import uvicorn

    from gigmarket.web.upgrade import HttpProtocol

    logging.getLogger("uvicorn.error").addFilter(SocketAcceptsAtDebug())
    return uvicorn.Config(app, host=host, port=port, log_config=None, ws="websockets-sansio",
                          http=HttpProtocol,
                          timeout_graceful_shutdown=2, backlog=LISTEN_BACKLOG,
                          # Longer than clients keep idle connections (httpx and browsers:
                          # 5 s or more), so the server never closes one just as a client
                          # sends on it: that race lost a request under load.
                          timeout_keep_alive=30,
                          # Off unless configured: see Settings.ws_deflate.
                          ws_per_message_deflate=settings.ws_deflate)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gigmarket.store.embedded_redis import EmbeddedRedis
    from gigmarket.supervisor import Supervisor
    from gigmarket.web.app import create_app

    # SIGTERM stops like Ctrl-C, through the finally below, in every state: before uvicorn
    # runs, and after it (uvicorn re-raises the signal it caught; with the default handler
    # that ended the process at once, leaving the dispatcher and Redis to fend for themselves).
    signal.signal(signal.SIGTERM, _interrupt)
    logs.configure()
    settings = load(dev=True if args.dev else None)
    embedded: EmbeddedRedis | None = None
    redis_url = settings.redis_url
    supervisor: Supervisor | None = None
    try:
        if redis_url is None:
            embedded = EmbeddedRedis(settings.data_dir)
            redis_url = embedded.start()
            log.info("embedded Redis on %s", embedded.socket_path)
        # Embedded: this host owns everything, and the ledger is the truth, so the pools are
        # rebuilt from it at every start (a crash may have left Redis ahead of the ledger).
        asyncio.run(_rebuild(settings, redis_url, only_if_empty=embedded is None))
        url = redis_url

        def make_dispatcher() -> BaseProcess:
            return multiprocessing.get_context("spawn").Process(
                target=_dispatch_process, args=(url, settings.dev, args.demo),
                name="gigmarket-dispatch",
            )

        supervisor = Supervisor(
            ledger_path=settings.ledger_path,
            make_dispatcher=None if args.no_dispatch else make_dispatcher,
            embedded=embedded, markets=list(settings.markets))
        supervisor.start()
        app = create_app(settings, redis_url)
        log.info("gigmarket on http://%s:%d (%s mode)", args.host, args.port,
                 "dev" if settings.dev else "production")
        config = web_config(app, settings, args.host, args.port)
        asyncio.run(_run_web(uvicorn.Server(config), settings, supervisor))
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not cut the stop short and leave children behind; each step
        # is bounded instead (web 2 s, dispatcher 4 s then SIGKILL, Redis 2 s: within 10 s).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if supervisor is not None:
            supervisor.stop()
        elif embedded is not None:
            embedded.stop()
        log.info("gigmarket stopped")
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    logs.configure()
    settings = load()
    if settings.redis_url is None:
        print("gigmarket dispatch runs beside web processes: set REDIS_URL", file=sys.stderr)
        return 2
    redis_url = settings.redis_url

    async def main() -> None:
        # SIGTERM (a process manager's stop) cancels the work, as Ctrl-C does through
        # asyncio.run: the cleanup then runs inside the loop. (A KeyboardInterrupt raised from
        # a signal handler could land anywhere, even in the loop's own machinery, and leave
        # the cleanup to run after the loop had closed.)
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        await _dispatch(settings, redis_url)

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(main())
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from gigmarket.store.embedded_redis import EmbeddedRedis, running_url

    logs.configure()
    settings = load()
    url = settings.redis_url or running_url(settings.data_dir)
    if url is not None:
        asyncio.run(_rebuild(settings, url, only_if_empty=False))
        return 0
    with EmbeddedRedis(settings.data_dir) as embedded:
        asyncio.run(_rebuild(settings, embedded.url, only_if_empty=False))
    return 0


def cmd_manager_add(args: argparse.Namespace) -> int:
    from gigmarket.core.errors import DomainError
    from gigmarket.services.auth import add_manager
    from gigmarket.store.ledger import Ledger

    settings = load()
    password = args.password
    if password is None:
        password = getpass.getpass("password: ")
        if password != getpass.getpass("again: "):
            print("the passwords differ", file=sys.stderr)
            return 2

    async def run() -> str:
        ledger = await Ledger.open(settings.ledger_path)
        try:
            return await add_manager(ledger, settings, args.username, password, args.market)
        finally:
            await ledger.aclose()

    try:
        manager_id = asyncio.run(run())
    except DomainError as e:
        print(f"error: {e.message} ({e.field})", file=sys.stderr)
        return 2
    print(f"manager {args.username} ({manager_id}) can manage: {', '.join(args.market)}")
    return 0


def cmd_exchange(args: argparse.Namespace) -> int:
    """``gigmarket exchange add|list|revoke|set-key``: the provincial platforms (SPEC 11.4)."""
    from datetime import datetime

    from gigmarket.core.errors import DomainError
    from gigmarket.services import exchange
    from gigmarket.store.ledger import Ledger

    settings = load()

    def when(ts: float | None) -> str:
        return "-" if ts is None else datetime.fromtimestamp(ts).astimezone().isoformat(
            timespec="seconds")

    async def run() -> str:
        ledger = await Ledger.open(settings.ledger_path)
        try:
            if args.action == "add":
                return await exchange.add_platform(ledger, settings, args.platform, args.sm4_key)
            if args.action == "set-key":
                await exchange.set_platform_key(ledger, settings, args.platform, args.sm4_key)
                return f"platform {args.platform}: SM4 key " + (
                    "set" if args.sm4_key else "removed")
            if args.action == "revoke":
                await exchange.revoke_platform(ledger, args.platform)
                return f"platform {args.platform} revoked"
            lines = ["platform\tcreated\trevoked\tlast_request\tsm4_key"]
            for r in await exchange.list_platforms(ledger):
                lines.append("\t".join([r["id"], when(r["created_at"]), when(r["revoked_at"]),
                                        when(r["last_request_at"]),
                                        "yes" if r["has_sm4_key"] else "no"]))
            return "\n".join(lines)
        finally:
            await ledger.aclose()

    try:
        out = asyncio.run(run())
    except DomainError as e:
        print(f"error: {e.message} ({e.field})", file=sys.stderr)
        return 2
    if args.action == "add":
        print(f"platform {args.platform} added; its secret (shown this once, keep it safe):",
              file=sys.stderr)
    print(out)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The ledger as CSV from the command line (no server or Redis needed)."""
    import time

    from gigmarket.core.errors import DomainError
    from gigmarket.services import ledger_export
    from gigmarket.store.ledger import Ledger

    settings = load()
    market = settings.markets.get(args.market)
    if market is None:
        print(f"error: no market {args.market!r}", file=sys.stderr)
        return 2
    tz = ZoneInfo(market.timezone)
    if args.report == "daily":
        return _export_daily(settings, market.id, tz, args)
    try:
        lo, hi = ledger_export.parse_range(tz, time.time(), args.date_from, args.date_to)
    except DomainError as e:
        print(f"error: {e.message} ({e.field})", file=sys.stderr)
        return 2

    async def run() -> None:
        ledger = await Ledger.open(settings.ledger_path)
        try:
            with contextlib.ExitStack() as stack:
                out = (stack.enter_context(open(args.out, "w", encoding="utf-8", newline=""))
                       if args.out else sys.stdout)
                async for chunk in ledger_export.rows(ledger, tz, market.id, lo, hi):
                    out.write(chunk)
        finally:
            await ledger.aclose()

    asyncio.run(run())
    return 0


def _export_daily(settings: Settings, market_id: str, tz: ZoneInfo,
                  args: argparse.Namespace) -> int:
    """The daily report's CSV, the same bytes as ``GET .../reports/daily?format=csv``."""
    import time

    from gigmarket.core import reports
    from gigmarket.core.errors import DomainError
    from gigmarket.services import reports as report_service
    from gigmarket.store.ledger import Ledger

    async def run() -> list[reports.DayFigures]:
        ledger = await Ledger.open(settings.ledger_path)
        try:
            return await report_service.daily(ledger, market_id, tz, time.time(),
                                              args.date_from, args.date_to)
        finally:
            await ledger.aclose()

    try:
        rows = asyncio.run(run())
    except DomainError as e:
        print(f"error: {e.message} ({e.field})", file=sys.stderr)
        return 2
    text = reports.as_csv(rows)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_simulate(argv: list[str]) -> int:
    from gigmarket.simulate.command import main as simulate_main

    return simulate_main(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gigmarket", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server (embedded Redis unless REDIS_URL)")
    serve.add_argument("--host", default=os.environ.get("GIGMARKET_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--dev", action="store_true", help="dev mode: OTP codes in responses")
    serve.add_argument("--demo", action="store_true",
                       help="fill the demo market with simulated workers and employers")
    serve.add_argument("--no-dispatch", action="store_true",
                       help="web only (run `gigmarket dispatch` elsewhere)")
    serve.set_defaults(func=cmd_serve)
    dispatch = sub.add_parser("dispatch", help="run the dispatcher alone (needs REDIS_URL)")
    dispatch.set_defaults(func=cmd_dispatch)
    rebuild = sub.add_parser("rebuild", help="rebuild the live pools from the ledger")
    rebuild.set_defaults(func=cmd_rebuild)
    manager = sub.add_parser("manager", help="market managers")
    msub = manager.add_subparsers(dest="action", required=True)
    add = msub.add_parser("add", help="create a manager or reset their password")
    add.add_argument("--username", required=True)
    add.add_argument("--market", required=True, action="append",
                     help="a market id (repeat for several)")
    add.add_argument("--password", help="prompted when omitted")
    add.set_defaults(func=cmd_manager_add)
    exchange = sub.add_parser("exchange", help="provincial exchange platforms")
    xsub = exchange.add_subparsers(dest="action", required=True)
    xadd = xsub.add_parser("add", help="add a platform and print its secret once")
    xadd.add_argument("--platform", required=True)
    xadd.add_argument("--sm4-key", help="32 hex characters: full ID numbers for this platform")
    xadd.set_defaults(func=cmd_exchange)
    xkey = xsub.add_parser("set-key", help="set (or, without --sm4-key, remove) its SM4 key")
    xkey.add_argument("--platform", required=True)
    xkey.add_argument("--sm4-key")
    xkey.set_defaults(func=cmd_exchange)
    xsub.add_parser("list", help="platforms, when added, revoked, last heard from"
                    ).set_defaults(func=cmd_exchange)
    xrevoke = xsub.add_parser("revoke", help="refuse a platform's requests from now on")
    xrevoke.add_argument("--platform", required=True)
    xrevoke.set_defaults(func=cmd_exchange)
    export = sub.add_parser("export", help="the ledger of a market, or a report, as CSV")
    export.add_argument("--market", default="shiling")
    export.add_argument("--report", choices=("ledger", "daily"), default="ledger",
                        help="ledger: every event; daily: the bureau's daily figures")
    export.add_argument("--from", dest="date_from", help="YYYY-MM-DD (default: today)")
    export.add_argument("--to", dest="date_to", help="YYYY-MM-DD, inclusive (default: --from)")
    export.add_argument("--out", help="a file (default: standard output)")
    export.set_defaults(func=cmd_export)
    sub.add_parser("simulate", help="simulate a market day (see: gigmarket simulate --help)",
                   add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulate"]:
        return cmd_simulate(argv[1:])
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
