"""``gigmarket serve | dispatch | manager add | rebuild | simulate``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import getpass
import logging
import multiprocessing
import os
import signal
import sys
from multiprocessing.process import BaseProcess

from gigmarket import logs
from gigmarket.settings import Settings, load

log = logging.getLogger("gigmarket")


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


async def _rebuild(settings: Settings, redis_url: str, *, only_if_empty: bool) -> None:
    from gigmarket.services.context import Context
    from gigmarket.services.live_records import rebuild_market
    from gigmarket.store.ledger import Ledger
    from gigmarket.store.live import LiveStore

    ledger = await Ledger.open(settings.ledger_path)
    live = LiveStore.from_url(redis_url)
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


async def _dispatch(settings: Settings, redis_url: str, demo: bool = False) -> None:
    from gigmarket.dispatch.loop import Dispatcher
    from gigmarket.dispatch.solver import Solver
    from gigmarket.services.context import Context
    from gigmarket.store.ledger import Ledger
    from gigmarket.store.live import LiveStore

    ledger = await Ledger.open(settings.ledger_path)
    live = LiveStore.from_url(redis_url)
    solver = Solver()
    dispatcher: Dispatcher | None = None
    try:
        await solver.warm()
        ctx = Context(settings=settings, ledger=ledger, live=live)
        dispatcher = Dispatcher(ctx, solver)
        tasks = [dispatcher.run()]
        if demo:
            from gigmarket.demo import run_demo

            tasks.append(run_demo(ctx))
        await asyncio.gather(*tasks)
    finally:
        if dispatcher is not None:
            await dispatcher.release()
        solver.close()
        await live.aclose()
        await ledger.aclose()


def _dispatch_process(redis_url: str, dev: bool, demo: bool) -> None:
    """Entry of the dispatcher child that ``serve`` starts (a separate process: rounds never
    stall the web event loop)."""
    _die_with_parent()
    logs.configure()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us in order, with SIGTERM
    settings = load(dev=dev)
    loop = asyncio.new_event_loop()
    task = loop.create_task(_dispatch(settings, redis_url, demo))
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        loop.run_until_complete(task)
    loop.close()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gigmarket.store.embedded_redis import EmbeddedRedis
    from gigmarket.web.app import create_app

    logs.configure()
    settings = load(dev=True if args.dev else None)
    embedded: EmbeddedRedis | None = None
    redis_url = settings.redis_url
    dispatcher: BaseProcess | None = None
    try:
        if redis_url is None:
            embedded = EmbeddedRedis(settings.data_dir)
            redis_url = embedded.start()
            log.info("embedded Redis on %s", embedded.socket_path)
        # Embedded: this host owns everything, and the ledger is the truth, so the pools are
        # rebuilt from it at every start (a crash may have left Redis ahead of the ledger).
        asyncio.run(_rebuild(settings, redis_url, only_if_empty=embedded is None))
        if not args.no_dispatch:
            dispatcher = multiprocessing.get_context("spawn").Process(
                target=_dispatch_process, args=(redis_url, settings.dev, args.demo),
                name="gigmarket-dispatch",
            )
            dispatcher.start()
        app = create_app(settings, redis_url)
        log.info("gigmarket on http://%s:%d (%s mode)", args.host, args.port,
                 "dev" if settings.dev else "production")
        uvicorn.run(app, host=args.host, port=args.port, log_config=None,
                    ws="websockets-sansio", timeout_graceful_shutdown=5)
    finally:
        if dispatcher is not None and dispatcher.is_alive():
            dispatcher.terminate()
            dispatcher.join(10)
            if dispatcher.is_alive():
                log.warning("the dispatcher did not stop in 10 s; killing it")
                dispatcher.kill()
                dispatcher.join(5)
        if embedded is not None:
            embedded.stop()
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    logs.configure()
    settings = load()
    if settings.redis_url is None:
        print("gigmarket dispatch runs beside web processes: set REDIS_URL", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_dispatch(settings, settings.redis_url))
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


def cmd_export(args: argparse.Namespace) -> int:
    """The ledger as CSV from the command line (no server or Redis needed)."""
    import time
    from zoneinfo import ZoneInfo

    from gigmarket.core.errors import DomainError
    from gigmarket.services import ledger_export
    from gigmarket.store.ledger import Ledger

    settings = load()
    market = settings.markets.get(args.market)
    if market is None:
        print(f"error: no market {args.market!r}", file=sys.stderr)
        return 2
    tz = ZoneInfo(market.timezone)
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
    export = sub.add_parser("export", help="the ledger of a market as CSV")
    export.add_argument("--market", default="shiling")
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
