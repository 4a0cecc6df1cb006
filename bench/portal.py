"""Benchmark: the portal's dashboard and invoice list under gunicorn, against /healthz, one run.

    .venv/bin/python bench/portal.py               # about 40 s; exit 1 if a promise is broken
    .venv/bin/python bench/portal.py --threads 1   # gunicorn's sync worker, as in the Procfile

Builds its own world (PostgreSQL database `billfold_bench_portal`, Redis db 11, the Stripe
emulator, gunicorn on 127.0.0.1, production settings), signs in through the real email-link
flow, then:

* counts the SQL statements of /account and /invoices in-process (Flask test client) with one
  invoice and with 100: they must be equal and at most 8;
* drives gunicorn with a fixed number of GETs per endpoint over keep-alive connections, in
  alternating rounds, and reports requests/s, p50 and p99 against /healthz (a SELECT 1);
* reads the emulator's request counter before and after the page views: it must not move.

Whether the pages reach the aim (40% of /healthz's rate) is reported, not asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file or with -m

from bench.http_load import PhaseResult, build_request, run_phase  # noqa: E402
from bench.portal_setup import (  # noqa: E402
    SUBDOMAIN,
    http_get,
    seeded_app,
    sign_in,
)
from stripe_emulator.launcher import StripeEmulator  # noqa: E402
from tests.support.local_services.processes import free_port  # noqa: E402
from tests.support.local_services.web import Gunicorn  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/billfold_bench_portal"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
INVOICES = 100
MAX_QUERIES = 8
AIM = 0.40
FLOOR_AIM = 2.5  # the signed-in floor's CPU against /healthz's
PAGE_AIM = 1.5  # each page's CPU against the floor's
BUSY = 0.15  # above this share of busy CPU before the run, say the figures are noisy
PAGES = {"/account": "dashboard", "/invoices": "invoice list"}
# A reference point, not a promise: a signed-in page that reads no billing data (the password
# form). Its rate is what host -> tenant, session and user loading, CSRF and a template cost
# before any cached Stripe data is read: the floor under every signed-in page.
SIGNED_IN_FLOOR = {"/account/password": "signed in, no billing data"}


def busy_cpu_share(seconds: float = 1.0) -> float:
    """How busy the whole machine was over the next `seconds` (0..1, from /proc/stat)."""

    def sample() -> tuple[int, int]:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    (total, idle), _ = sample(), time.sleep(seconds)
    total_after, idle_after = sample()
    return 1 - (idle_after - idle) / max(1, total_after - total)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/portal.py", description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=500,
        help="measured requests per endpoint per round (default 500)",
    )
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="client threads, one keep-alive connection each (default 8)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="gunicorn threads per worker (default 4, as the tests' live server; "
        "1 is gunicorn's sync worker, as in the Procfile: no keep-alive)",
    )
    return parser.parse_args(argv)


def count_queries(app, port: int, cookie: str, path: str) -> tuple[int, list[str]]:
    """SQL statements of one warm page view, in-process; fails unless the page answers 200."""
    from app.extensions import db
    from tenants.host_cache import forget_tenants

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    client = app.test_client(use_cookies=False)
    options = {"base_url": f"http://{SUBDOMAIN}.localhost:{port}", "headers": {"Cookie": cookie}}
    client.get(path, **options)  # warm: the counted view is a steady-state one
    with app.app_context():
        engine = db.engine
    forget_tenants()  # the worst case: this process's copy of the tenant has expired
    event.listen(engine, "before_cursor_execute", record)
    try:
        status = client.get(path, **options).status_code
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if status != 200:
        raise AssertionError(f"{path} answered {status} in-process")
    return len(statements), statements


def run_load(args, server: Gunicorn, cookie: str) -> dict[str, list[PhaseResult]]:
    """Warm every endpoint, then `rounds` rounds of `requests` GETs each, in alternating order.

    Each phase also records the CPU time gunicorn spent on it: per request, a figure that other
    work on the machine moves far less than rates and latencies, though still some (on a shared
    virtual machine a whole round can run slower): so the CPU aims compare endpoints within each
    round, where all ran within seconds of each other.
    """
    port = server.port
    platform_host, tenant_host = f"localhost:{port}", f"{SUBDOMAIN}.localhost:{port}"
    endpoints = {"/healthz": build_request("/healthz", platform_host)}
    endpoints |= {
        path: build_request(path, tenant_host, cookie) for path in PAGES | SIGNED_IN_FLOOR
    }
    for raw in endpoints.values():
        run_phase(port, raw, args.warmup, args.concurrency)
    rounds: dict[str, list[PhaseResult]] = {path: [] for path in endpoints}
    order = list(endpoints)
    for number in range(args.rounds):
        for path in order if number % 2 == 0 else reversed(order):
            cpu = server.cpu_seconds()
            result = run_phase(port, endpoints[path], args.requests, args.concurrency)
            result.server_cpu = server.cpu_seconds() - cpu
            rounds[path].append(result)
    return rounds


def report_queries(counts: dict[str, tuple[int, int]], statements: dict[str, list[str]]) -> bool:
    print(f"SQL statements per page view (in-process, warm; promise: equal, <= {MAX_QUERIES})")
    print("  (1 invoice: 1 customer, 1 subscription; then 2 customers, 3 subscriptions)")
    print(f"  {'page':<12}{'1 invoice':>12}{f'{INVOICES} invoices':>15}   verdict")
    ok = True
    for path, (few, many) in counts.items():
        good = few == many <= MAX_QUERIES
        ok &= good
        print(f"  {path:<12}{few:>12}{many:>15}   {'ok' if good else 'FAILED'}")
        if not good:
            for statement in statements[path]:
                print("      " + " ".join(statement.split())[:160])
    return ok


def report_load(results: dict[str, PhaseResult]) -> bool:
    base = results["/healthz"].rate
    columns = ("requests", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "vs /healthz")
    print(f"  {'endpoint':<48}" + "".join(f"{c:>12}" for c in columns) + f"   aim {AIM:.0%}")
    ok = True
    for path, result in results.items():
        label = f"{path} ({(PAGES | SIGNED_IN_FLOOR).get(path, 'baseline: liveness')})"
        ratio = result.rate / base
        aim = "" if path not in PAGES else ("met" if ratio >= AIM else "MISSED")
        figures = (
            f"{result.requests}",
            f"{result.rate:.1f}",
            f"{result.percentile(50):.2f}",
            f"{result.percentile(99):.2f}",
            f"{result.server_cpu / result.requests * 1000:.2f}",
            f"{ratio:.0%}",
        )
        print(f"  {label:<48}" + "".join(f"{f:>12}" for f in figures) + f"   {aim}")
        if result.bad_statuses:
            ok = False
            print(f"    FAILED: non-200 answers {result.bad_statuses}")
    return ok


def cpu_per_request(result: PhaseResult) -> float:
    return result.server_cpu / result.requests * 1000


def report_cpu_aims(rounds: dict[str, list[PhaseResult]], results: dict[str, PhaseResult]) -> None:
    """The CPU aims, reported (not asserted): the signed-in floor at most FLOOR_AIM times
    /healthz, each page at most PAGE_AIM times the floor. Each ratio is the median of the
    rounds' own ratios (endpoints of one round ran back to back), so one slow stretch of the
    machine moves a ratio far less than it moves the totals."""
    (floor_path,) = SIGNED_IN_FLOOR
    pairs = [(floor_path, "/healthz", FLOOR_AIM)] + [(path, floor_path, PAGE_AIM) for path in PAGES]
    print(
        f"CPU per request against the same round's (gunicorn's CPU time, ms; median of "
        f"{len(rounds['/healthz'])} rounds' ratios)"
    )
    for path, base_path, aim in pairs:
        ratios = [
            cpu_per_request(page) / cpu_per_request(base)
            for page, base in zip(rounds[path], rounds[base_path], strict=True)
        ]
        ratio = statistics.median(ratios)
        ms, base = cpu_per_request(results[path]), cpu_per_request(results[base_path])
        verdict = "met" if ratio <= aim else "MISSED"
        spread = f"(rounds {min(ratios):.2f}-{max(ratios):.2f})"
        print(
            f"  {path + ' vs ' + base_path:<44}{ms:>8.2f} / {base:<8.2f}{ratio:>6.2f}x   "
            f"aim <= {aim}x [{verdict}] {spread}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below
    workdir = Path(tempfile.mkdtemp(prefix="billfold-bench-portal-"))
    emulator, server, keep_logs = StripeEmulator(), None, False
    busy_before = busy_cpu_share()  # other work on the machine skews every figure
    try:
        emulator.start(port=0)
        port = free_port()
        app, merchant, env = seeded_app(port, DATABASE_URL, REDIS_URL, emulator)
        server = Gunicorn(
            env, workdir / "gunicorn.log", port=port, workers=args.workers, threads=args.threads
        ).start()
        cookie = sign_in(app, port, merchant.tenant_id)

        if merchant.cached_counts() != (1, 1, 1):
            raise AssertionError(f"the small account is {merchant.cached_counts()}, not (1, 1, 1)")
        few = {path: count_queries(app, port, cookie, path) for path in PAGES}
        merchant.grow(INVOICES)
        customers, subscriptions, invoices = merchant.cached_counts()
        if (subscriptions, invoices) != (3, INVOICES):
            raise AssertionError(f"cache holds {subscriptions} subscriptions, {invoices} invoices")
        many = {path: count_queries(app, port, cookie, path) for path in PAGES}
        host = f"{SUBDOMAIN}.localhost:{port}"
        status, _, page = http_get(port, host, "/account", cookie)
        if status != 200 or "Launch insurance" not in page or "Ada&#39;s workshop" not in page:
            raise AssertionError("/account under gunicorn does not show the grown account")

        stripe_before = emulator.api_request_count()
        rounds = run_load(args, server, cookie)
        results = {path: PhaseResult.combine(phases) for path, phases in rounds.items()}
        stripe_calls = emulator.api_request_count() - stripe_before
        signed_in = PAGES | SIGNED_IN_FLOOR
        page_views = sum(results[path].requests for path in signed_in)
        page_views += args.warmup * len(signed_in)

        print(
            f"Billfold portal benchmark · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · "
            f"{os.cpu_count()} CPUs · Python {platform.python_version()} · "
            f"CPU busy before the run: {busy_before:.0%}"
        )
        if busy_before > BUSY:
            print("note: other work was running on this machine; rates are lower and noisier")
        print(f"server: {' '.join(server.command)} (production settings, 127.0.0.1)")
        print(
            f"client: {args.concurrency} connections (kept alive unless the server closes them), "
            f"{args.rounds} alternating "
            f"rounds of {args.requests} GETs per endpoint after {args.warmup} warm-up GETs"
        )
        print(
            f"data: {SUBDOMAIN}'s customer ada@example.com sees {customers} Stripe customers, "
            f"{subscriptions} subscriptions, {invoices} invoices"
        )
        print()
        queries_ok = report_queries(
            {path: (few[path][0], many[path][0]) for path in PAGES},
            {path: many[path][1] for path in PAGES},
        )
        stripe_ok = stripe_calls == 0
        print(
            f"Stripe API calls during {page_views} page views (emulator's counter, all "
            f"processes): {stripe_calls}   {'ok' if stripe_ok else 'FAILED'}"
        )
        print()
        print("Under gunicorn, same server, same run (CPU ms/req: gunicorn's own CPU time)")
        load_ok = report_load(results)
        print()
        report_cpu_aims(rounds, results)
        ok = queries_ok and stripe_ok and load_ok
        print()
        print("result: " + ("every assertion passed" if ok else "FAILED (see above)"))
        keep_logs = not ok
        return 0 if ok else 1
    except BaseException:
        keep_logs = True
        raise
    finally:
        if server is not None:
            server.stop()
        emulator.stop()
        if keep_logs:
            print(f"(gunicorn's log is kept in {workdir})", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
