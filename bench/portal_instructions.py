"""Benchmark: instructions per portal page view, counted by valgrind, against /healthz, one run.

    .venv/bin/python bench/portal_instructions.py              # about 2 minutes
    .venv/bin/python bench/portal_instructions.py --views 50   # more views per page

CPU milliseconds (bench/portal.py) move with whatever else a shared virtual machine runs: on a
noisy day one endpoint's round can take half again as long as the same round a minute later.
Instructions do not: callgrind counts what the Python process executes, the same whatever the
neighbours do. So the pages' CPU aims are judged here a second time, on a figure that repeats.

Builds the same world as bench/portal.py (its database, the emulator, a seeded merchant with 100
invoices, a sign-in through gunicorn), then runs the app in one Python process under
`valgrind --tool=callgrind --instr-atstart=no`: each endpoint is warmed, then counted over
`--views` views through Flask's test client (the same for every endpoint, so its cost is in
every figure alike; gunicorn's HTTP parsing is not). PostgreSQL and Redis are other processes:
their work is not counted (bench/portal.py does not count it either).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file or with -m

from bench.callgrind import require_valgrind, run_counted, toggle  # noqa: E402
from bench.portal import (  # noqa: E402
    DATABASE_URL,
    FLOOR_AIM,
    INVOICES,
    PAGE_AIM,
    PAGES,
    REDIS_URL,
    SIGNED_IN_FLOOR,
)
from bench.portal_setup import (  # noqa: E402
    SUBDOMAIN,
    seeded_app,
    sign_in,
)
from stripe_emulator.launcher import StripeEmulator  # noqa: E402
from tests.support.local_services.processes import free_port  # noqa: E402
from tests.support.local_services.web import Gunicorn  # noqa: E402

ENDPOINTS = ["/healthz", *SIGNED_IN_FLOOR, *PAGES]
WARM_VIEWS = 10
# Under callgrind a view takes about a hundred times as long. The windows that depend on the
# clock are stretched as much, so the counted views see what views on a live server see: the
# tenant's per-process copy warm (a busy process re-reads it once per few hundred views), no
# ping of a connection that was in use a moment ago.
SLOWDOWN = 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/portal_instructions.py", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--views", type=int, default=20, help="counted views per endpoint")
    parser.add_argument("--measure", metavar="WORLD", help=argparse.SUPPRESS)  # under valgrind
    return parser.parse_args(argv)


def build_world(workdir: Path) -> dict:
    """The seeded merchant and a signed-in cookie; returns what the counted process needs."""
    emulator = StripeEmulator()
    emulator.start(port=0)
    server = None
    try:
        port = free_port()
        app, merchant, env = seeded_app(port, DATABASE_URL, REDIS_URL, emulator)
        server = Gunicorn(env, workdir / "gunicorn.log", port=port, workers=1, threads=1).start()
        cookie = sign_in(app, port, merchant.tenant_id)
        merchant.grow(INVOICES)
        return {"env": env, "cookie": cookie, "port": port}
    finally:
        if server is not None:
            server.stop()
        emulator.stop()


def measure(world_file: str, views: int) -> None:
    """Runs under callgrind: counts `views` views of each endpoint, one dump per endpoint."""
    world = json.loads(Path(world_file).read_text())
    os.environ.update(world["env"])
    from app import pool_ping
    from app.factory import create_app
    from tenants import host_cache

    host_cache.FRESH_FOR *= SLOWDOWN
    pool_ping.PING_AFTER_IDLE_SECONDS *= SLOWDOWN
    app = create_app()
    logging.getLogger().setLevel(logging.WARNING)
    client = app.test_client(use_cookies=False)
    tenant_host = {"base_url": f"http://{SUBDOMAIN}.localhost:{world['port']}"}
    # No User-Agent, as the sign-in's client sent none: the session's fingerprint matches.
    signed_in = {**tenant_host, "headers": {"Cookie": world["cookie"]}}
    platform = {"base_url": f"http://localhost:{world['port']}"}
    client.environ_base.pop("HTTP_USER_AGENT", None)
    for path in ENDPOINTS:
        options = platform if path == "/healthz" else signed_in
        for _ in range(WARM_VIEWS):
            response = client.get(path, **options)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        if any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie")):
            raise SystemExit(f"{path} re-sets the session cookie at every view")
        toggle("-i on")
        for _ in range(views):
            client.get(path, **options)
        toggle("-i off")
        toggle(f"--dump={path}")


def report(counts: dict[str, float]) -> None:
    (floor_path,) = SIGNED_IN_FLOOR
    print(f"  {'endpoint':<48}{'instructions/view':>18}{'vs /healthz':>14}")
    for path in ENDPOINTS:
        ratio = counts[path] / counts["/healthz"]
        print(f"  {path:<48}{counts[path] / 1e6:>16.2f} M{ratio:>13.2f}x")
    print()
    print("The CPU aims on instructions (same views, same process)")
    pairs = [(floor_path, "/healthz", FLOOR_AIM)] + [(path, floor_path, PAGE_AIM) for path in PAGES]
    for path, base, aim in pairs:
        ratio = counts[path] / counts[base]
        verdict = "met" if ratio <= aim else "MISSED"
        print(f"  {path + ' vs ' + base:<44}{ratio:>6.2f}x   aim <= {aim}x [{verdict}]")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        measure(args.measure, args.views)
        return 0
    require_valgrind()
    workdir = Path(tempfile.mkdtemp(prefix="billfold-bench-instructions-"))
    try:
        world_file = workdir / "world.json"
        world_file.write_text(json.dumps(build_world(workdir)))
        script = Path(__file__).resolve()
        totals = run_counted(script, "--measure", str(world_file), "--views", str(args.views))
        counts = {path: total / args.views for path, total in totals.items()}
        if set(counts) != set(ENDPOINTS):
            print(f"callgrind's dumps name {sorted(counts)}, not {ENDPOINTS}", file=sys.stderr)
            return 1
        print(
            f"Billfold portal instructions · {args.views} counted views per endpoint after "
            f"{WARM_VIEWS} warm ones · one Python process under callgrind (Flask test client)"
        )
        print(f"data: {SUBDOMAIN}'s customer ada@example.com, 2 customers, {INVOICES} invoices")
        print()
        report(counts)
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
