"""Benchmark: our CPU per processed Stripe event, in one process, against a raw Stripe read.

    .venv/bin/python bench/event_cpu.py             # about 2 minutes
    .venv/bin/python bench/event_cpu.py --waves 12  # more waves, a tighter median

bench/webhooks.py measures processing through Celery with the emulator and two worker
processes on the same two cores, so its CPU per event moves with whatever the scheduler and the
neighbours do. Here the drain's own batch (`tasks.process_event_batch`, what a worker process
runs for each 50 events) runs in this process, and only what is ours is counted: this process's
CPU (`time.process_time`) and that of its PostgreSQL backend (`/proc`). The emulator serving
the re-fetches is another process and is not counted. What is left out is Celery's handling of
the drain's message, one per 50 events (0.06 ms an event, bench/webhooks.py).

Each wave stores one `customer.updated` event per customer after that customer's last read, so
every event re-fetches its customer (the costly case, as bench/webhooks.py). Just before each wave
the same customers are read raw (`GET /v1/customers/<id>` through stripe-python, nothing
written): the baseline of the same run, whose CPU in this process follows the machine's speed of
the moment. After each, a wave of coalesced events (stored before their object's last read: no
Stripe request) shows what the cache's side costs alone. The aim is judged on the median wave.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a file or with -m

from bench.cache_phases import analyze, store_wave  # noqa: E402
from bench.cache_setup import build_app, make_tenant, merchant, seed_account  # noqa: E402
from bench.callgrind import require_valgrind, run_counted, toggle  # noqa: E402
from bench.harness import Services, postgres_backends  # noqa: E402
from tests.support.local_services.processes import cpu_seconds  # noqa: E402

AIM_MS = 4.0  # our CPU per processed event (worker + PostgreSQL)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/event_cpu.py", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--customers", type=int, default=300, help="events per wave")
    parser.add_argument("--waves", type=int, default=7, help="measured waves")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the drain's instructions per event under valgrind (a figure the "
        "machine's neighbours do not move; about 2 minutes more)",
    )
    parser.add_argument("--measure", metavar="WORLD", help=argparse.SUPPRESS)  # under valgrind
    return parser.parse_args(argv)


class CpuMeter:
    """CPU seconds of this process and of the benchmark database's PostgreSQL backends."""

    def __enter__(self) -> CpuMeter:
        self.backends = postgres_backends()
        self.ours = time.process_time()
        self.database = sum(map(cpu_seconds, self.backends))
        return self

    def __exit__(self, *exc_info) -> None:
        self.ours = time.process_time() - self.ours
        # A backend opened meanwhile counts in full; none is, as the pool is warm.
        after = postgres_backends()
        self.database = sum(map(cpu_seconds, after)) - self.database
        self.new_backends = len(set(after) - set(self.backends))


def raw_reads(tenant_id: int, customers: list[str]) -> float:
    """CPU ms of this process per raw retrieve of each customer, through the client the
    drain uses (the tenant's bulk client: pooled connections, the request budget)."""
    from app.extensions import db
    from tenants.models import Tenant
    from tenants.stripe_client import stripe_client_for

    client = stripe_client_for(db.session.get(Tenant, tenant_id), bulk=True)
    db.session.rollback()
    started = time.process_time()
    for customer_id in customers:
        client.v1.customers.retrieve(customer_id)
    return (time.process_time() - started) * 1000 / len(customers)


def process_wave(tenant_id: int, ids: list[int]) -> tuple[CpuMeter, dict[str, int]]:
    """The wave's events through the drain's batch, 50 at a time as a drain takes them."""
    from app.billing.tasks import DRAIN_BATCH, process_event_batch
    from tenants.context import tenant_context

    notes: dict[str, int] = {}
    with CpuMeter() as meter, tenant_context(tenant_id):
        for start in range(0, len(ids), DRAIN_BATCH):
            outcome = process_event_batch(ids[start : start + DRAIN_BATCH])
            if outcome.failed:
                raise SystemExit(f"events failed: {outcome.failed}")
            for note in outcome.notes.values():
                kind = note.split(" ", 1)[0]
                notes[kind] = notes.get(kind, 0) + 1
    return meter, notes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        count_instructions(args.measure)
        return 0
    if args.instructions:
        require_valgrind()
    counted = None
    with Services(worker_concurrency=1) as services:
        app = build_app()
        with app.app_context():
            tenant_id = make_tenant()
            client = merchant(services.emulator.url)
            print(f"seeding the emulator: {args.customers} customers ...", flush=True)
            customers = seed_account(client, args.customers, args.customers // 5)
            # The first wave fills the cache (inserts), the second warms every path up.
            for wave in range(2):
                process_wave(tenant_id, store_wave(tenant_id, customers, wave))
            analyze()
            rows, coalesced = [], []
            for wave in range(args.waves):
                raw = raw_reads(tenant_id, customers)
                ids = store_wave(tenant_id, customers, 2 + 2 * wave)
                meter, notes = process_wave(tenant_id, ids)
                if notes != {"fetched": len(ids)}:
                    raise SystemExit(f"wave {wave}: expected every event re-fetched, got {notes}")
                rows.append((raw, meter))
                # Stored, then the customers read: every event is older than its object's read.
                ids = store_wave(tenant_id, customers, 3 + 2 * wave)
                for customer_id in customers:
                    _reread(tenant_id, client, customer_id)
                meter, notes = process_wave(tenant_id, ids)
                if notes != {"coalesced": len(ids)}:
                    raise SystemExit(f"wave {wave}: expected every event coalesced, got {notes}")
                coalesced.append(meter)
                print(f"  wave {wave + 1}: {len(ids)} events re-fetched, {len(ids)} coalesced",
                      flush=True)  # fmt: skip
            if args.instructions:
                print("counting instructions under valgrind ...", flush=True)
                counted = instructions_per_event(services, tenant_id, client, customers)
    report(args, customers, rows, coalesced)
    if counted:
        print(f"  instructions per event, worker process only (callgrind, "
              f"{COUNTED_EVENTS} events each): re-fetched {counted['fetched'] / 1e6:.2f} M, "
              f"coalesced {counted['coalesced'] / 1e6:.2f} M")  # fmt: skip
    return 0


# Under callgrind the drain runs about a hundred times as slowly; the pool's idle-ping window is
# stretched as much, so counted events see what a busy worker's see.
SLOWDOWN = 100
COUNTED_EVENTS = 100
WARM_EVENTS = 20


def instructions_per_event(services, tenant_id: int, client, customers: list[str]) -> dict:
    """Instructions the drain's process executes per event, re-fetched and coalesced, counted
    in a process of its own under callgrind (toggled on only around the counted batches)."""
    chosen = customers[: WARM_EVENTS + COUNTED_EVENTS]
    coalesced = store_wave(tenant_id, chosen, 10_000)
    for customer_id in chosen:
        _reread(tenant_id, client, customer_id)  # these events are now older than the read
    fetched = store_wave(tenant_id, chosen, 10_001)  # and these newer: each re-fetches
    workdir = Path(tempfile.mkdtemp(prefix="billfold-bench-events-"))
    try:
        world = workdir / "world.json"
        world.write_text(json.dumps({"env": services.env, "tenant_id": tenant_id,
                                     "fetched": fetched, "coalesced": coalesced}))  # fmt: skip
        totals = run_counted(Path(__file__).resolve(), "--measure", str(world))
        return {kind: totals[kind] / COUNTED_EVENTS for kind in ("fetched", "coalesced")}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def count_instructions(world_file: str) -> None:
    """Runs under callgrind: the drain's batches over the stored events, warm ones first."""
    world = json.loads(Path(world_file).read_text())
    os.environ.update(world["env"])
    from app import pool_ping
    from app.billing.tasks import DRAIN_BATCH, process_event_batch
    from app.factory import create_app
    from tenants.context import tenant_context

    pool_ping.PING_AFTER_IDLE_SECONDS *= SLOWDOWN
    app = create_app()
    logging.getLogger().setLevel(logging.WARNING)
    with app.app_context(), tenant_context(world["tenant_id"]):
        for kind in ("fetched", "coalesced"):
            ids = world[kind]
            warm, counted = ids[:WARM_EVENTS], ids[WARM_EVENTS:]
            notes = dict(process_event_batch(warm).notes)
            toggle("-i on")
            for start in range(0, len(counted), DRAIN_BATCH):
                notes.update(process_event_batch(counted[start : start + DRAIN_BATCH]).notes)
            toggle("-i off")
            toggle(f"--dump={kind}")
            if {note.split(" ", 1)[0] for note in notes.values()} != {kind}:
                raise SystemExit(f"{kind} wave: the events were not all {kind}: {notes}")


def _reread(tenant_id: int, client, customer_id: str) -> None:
    from app.billing.sync import sync_object
    from app.commits import save_progress
    from tenants.context import tenant_context

    with tenant_context(tenant_id):
        sync_object(client, "customer", customer_id)
        save_progress()


def report(args, customers: list[str], rows: list, coalesced: list[CpuMeter]) -> None:
    events = len(customers)
    ours = [(m.ours + m.database) * 1000 / events for _, m in rows]
    worker = [m.ours * 1000 / events for _, m in rows]
    database = [m.database * 1000 / events for _, m in rows]
    raws = [raw for raw, _ in rows]
    ratios = [o / r for o, (r, _) in zip(ours, rows, strict=True)]
    median = statistics.median(ours)
    print()
    print(f"bench/event_cpu.py --customers {args.customers} --waves {args.waves}")
    print(f"  machine: {os.cpu_count()} cores, {platform.machine()}, "
          f"Python {platform.python_version()}, {date.today().isoformat()}")  # fmt: skip
    print(
        f"  {events} customer.updated events a wave, each re-fetching its customer; "
        f"drain batches of 50, each event its own transaction"
    )
    print(
        "  per wave, CPU ms per event (worker + PostgreSQL): "
        + ", ".join(f"{w:.2f}+{d:.2f}" for w, d in zip(worker, database, strict=True))
    )
    print(f"  raw retrieve, CPU ms in the client (baseline): median {statistics.median(raws):.2f}"
          f" (waves {min(raws):.2f}-{max(raws):.2f})")  # fmt: skip
    print(f"  processed event / raw retrieve: median {statistics.median(ratios):.2f}x"
          f" (waves {min(ratios):.2f}-{max(ratios):.2f})")  # fmt: skip
    worker_only = statistics.median(m.ours * 1000 / events for m in coalesced)
    database_only = statistics.median(m.database * 1000 / events for m in coalesced)
    print(
        f"  coalesced event (no Stripe request), median: worker {worker_only:.2f} + PostgreSQL "
        f"{database_only:.2f} = {worker_only + database_only:.2f} ms"
    )
    verdict = "met" if median <= AIM_MS else "MISSED"
    print(
        f"  CPU ms per processed event: worker {statistics.median(worker):.2f} + PostgreSQL "
        f"{statistics.median(database):.2f} = {median:.2f} (median of {len(ours)} waves; "
        f"{min(ours):.2f}-{max(ours):.2f})  aim <= {AIM_MS} [{verdict}]"
    )


if __name__ == "__main__":
    sys.exit(main())
