"""Where a durable post's cost goes in the web process (issue 13, item 2), as JSON lines.

    python bench/post_cost.py [--clients 32] [--seconds 12] [--py-spy FILE]

Jobs are posted through the API by ``--clients`` concurrent clients, as
``city.durable_posts`` does, to a ``gigmarket serve`` with its dispatcher. Per post it prints:

- ``post_cost.cpu_ms``: CPU time of the web process, of each of its busy threads (the event
  loop is the one whose id is the process's; the others are mostly the ledger's writer thread,
  which runs BEGIN and COMMIT, and its reader thread), of the dispatcher and of Redis;
- ``post_cost.context_switches`` of the web process;
- ``post_cost.hops``: hand-offs to the ledger's threads, by thread and what was sent
  (``writer:BEGIN``, ``writer:COMMIT``, ``reader:_read_one``…); the COMMITs show how many
  posts share one (group commit). The writer's other statements run on the loop (no hop).

The hops are counted by a ``sitecustomize`` the web process loads through ``PYTHONPATH``; it
wraps ``ThreadPoolExecutor.submit`` and costs the loop a little. With ``--py-spy``,
py-spy (``pip install py-spy``) records the web process meanwhile in its ``raw`` (collapsed
stacks) format, ``--gil`` so that the samples are the Python code's CPU time.
Each line carries the 1-minute load average: this machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.city import Poster, employers, wait_dispatching  # noqa: E402
from bench.spine import bench_market  # noqa: E402

#: Loaded by the web process at start (through PYTHONPATH): counts what it sends to the ledger's
#: threads and writes the counts to ``$GM_HOPS.<pid>.json`` every half second.
SHIM = '''
import json, os, sys, threading, time
if os.environ.get("GM_HOPS") and "serve" in sys.argv:
    from concurrent.futures import ThreadPoolExecutor
    counts = {}
    wrapped = ThreadPoolExecutor.submit
    ENDS = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "ROLLBACK")

    def submit(self, fn, /, *args, **kwargs):
        prefix = getattr(self, "_thread_name_prefix", "")
        if prefix.startswith("ledger"):
            name = getattr(fn, "__name__", repr(fn))
            if name == "execute" and args and isinstance(args[0], str):
                word = args[0].split()[0].upper()
                name = word if word in ENDS else name
            key = f"{prefix.removeprefix('ledger-')}:{name}"
            counts[key] = counts.get(key, 0) + 1
        return wrapped(self, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit
    out = f"{os.environ['GM_HOPS']}.{os.getpid()}.json"

    def dump():
        while True:
            time.sleep(0.5)
            with open(out + ".tmp", "w") as f:
                json.dump(dict(counts), f)
            os.replace(out + ".tmp", out)

    threading.Thread(target=dump, daemon=True).start()
'''


def emit(name: str, value: float, unit: str, **params: Any) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit,
                      "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
                      "params": params}), flush=True)


def hops(path: Path) -> dict[str, int]:
    found = list(path.parent.glob(path.name + ".*.json"))
    return json.loads(found[0].read_text()) if found else {}


def ours(proc: psutil.Process, data: Path) -> bool:
    """Whether ``proc`` is the redis-server of this run's data folder."""
    try:
        return "redis" in proc.name() and str(data) in " ".join([*proc.cmdline(), proc.cwd()])
    except psutil.Error:
        return False


def cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


async def main(clients: int, seconds: float, spy: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="gm-post-cost-") as name:
        tmp = Path(name)
        (tmp / "shim").mkdir()
        (tmp / "shim" / "sitecustomize.py").write_text(SHIM)
        counted = tmp / "hops"
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(tmp / "shim"), *filter(None, [os.environ.get("PYTHONPATH")])])
        os.environ["GM_HOPS"] = str(counted)
        async with bench_market(tmp, "posts") as bm:
            tokens = await employers(bm.ledger, 800)
            port = 19600 + random.randrange(300)
            bm.serve(port, dispatch=True)
            wait_dispatching(port)
            web = psutil.Process(bm.web[0].pid)
            others = {"children (dispatcher, solver)": web.children(recursive=True),
                      "redis": [p for p in psutil.process_iter() if ours(p, bm.data)]}
            poster = Poster(tmp, port, tokens, clients=clients, seconds=seconds, warm=2.0)
            poster.line()
            await asyncio.sleep(0.5)  # the shim's counts settle: they are written each 0.5 s
            hops0 = hops(counted)
            cpu0 = {k: sum(cpu_s(p) for p in ps) for k, ps in others.items()}
            web0, ctx0 = cpu_s(web), sum(web.num_ctx_switches())
            threads0 = {t.id: t.user_time + t.system_time for t in web.threads()}
            recorder = None
            spy_bin = shutil.which("py-spy") or shutil.which(
                "py-spy", path=str(Path(sys.executable).parent))
            if spy and spy_bin:
                recorder = subprocess.Popen(
                    [spy_bin, "record", "--gil", "--threads", "-f", "raw", "-r", "200",
                     "-d", str(max(1, int(seconds) - 1)), "-o", spy, "-p", str(web.pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            got = poster.result()
            web1, ctx1 = cpu_s(web), sum(web.num_ctx_switches())
            threads1 = {t.id: t.user_time + t.system_time for t in web.threads()}
            cpu1 = {k: sum(cpu_s(p) for p in ps) for k, ps in others.items()}
            await asyncio.sleep(1.0)
            hops1 = hops(counted)
            if recorder is not None:
                recorder.wait(60)
            done, took = got["posts"], got["seconds"]
        posts = max(done, 1)
        common = {"clients": clients, "posts": done, "seconds": round(took, 1)}
        emit("post_cost.posts_per_s", done / took, "posts/s", errors=got["errors"],
             first_error=got["first_error"],
             poster_cpu_share=round(got["cpu_s"] / took, 2), **common)
        emit("post_cost.cpu_ms", 1000 * (web1 - web0) / posts, "ms/post", process="web",
             share_of_a_core=round((web1 - web0) / took, 2), **common)
        for tid, after in sorted(threads1.items(), key=lambda t: t[1] - threads0.get(t[0], 0),
                                 reverse=True):
            used = after - threads0.get(tid, 0.0)
            if used > 0.01 * took:
                emit("post_cost.cpu_ms", 1000 * used / posts, "ms/post", process="web",
                     thread="event loop" if tid == web.pid else f"thread {tid}", **common)
        for kind in others:
            emit("post_cost.cpu_ms", 1000 * (cpu1[kind] - cpu0[kind]) / posts, "ms/post",
                 process=kind, **common)
        emit("post_cost.context_switches", (ctx1 - ctx0) / posts, "switches/post",
             process="web", **common)
        diff = {k: hops1.get(k, 0) - hops0.get(k, 0) for k in hops1}
        ends = {k.split(":")[1]: diff[k] for k in diff if k.split(":")[1].isupper()}
        emit("post_cost.hops", sum(diff.values()) / posts, "hops/post",
             by_call={k: round(v / posts, 2) for k, v in sorted(diff.items()) if v},
             statements={k: round(v / posts, 2) for k, v in sorted(ends.items()) if v},
             posts_per_commit=round(done / ends["COMMIT"], 1) if ends.get("COMMIT") else None,
             **common)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--py-spy", dest="spy", default=None,
                        help="record the web process with py-spy to this file")
    args = parser.parse_args()
    asyncio.run(main(args.clients, args.seconds, args.spy))
