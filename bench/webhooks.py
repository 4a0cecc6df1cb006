"""Benchmark the Stripe cache end to end and print figures against same-run baselines.

    .venv/bin/python bench/webhooks.py            # full run: 10,000 events processed
    .venv/bin/python bench/webhooks.py --quick    # smaller counts, about a minute

Starts its own Stripe emulator, gunicorn (the Procfile's web settings) and Celery worker on
127.0.0.1, against PostgreSQL database `billfold_bench` (rebuilt) and Redis database 14
(flushed); stops them all at the end. Measures, in one run:

1. webhook ingest rate and latency vs `/healthz` of the same app (closed loop, 8 clients);
2. ack latency of webhooks sent at a steady 100 events/s: the web tier alone (the worker holds
   off, as if on its own machine), then with the worker processing them on the same two cores
   (the aim is judged on this second, harder case);
3. processing rate, queued -> processed with a Stripe re-fetch per event, vs the emulator's raw
   retrieve rate with as many clients as the worker has processes, measured just before each
   wave (the ratio is the median over waves); the worker's memory;
4. backfill rate vs the same Stripe reads done raw (no database writes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cache_phases import (  # noqa: E402
    bench_ack,
    bench_backfill,
    bench_ingest,
    bench_processing,
    raw_retrieve_rate,
    reset_events,
)
from bench.cache_setup import build_app, make_tenant, merchant, seed_account  # noqa: E402
from bench.harness import Services  # noqa: E402

SIZES = {
    "full": {"requests": 3000, "ack_events": 1000, "customers": 1000, "waves": 10, "subs": 200},
    "quick": {"requests": 1000, "ack_events": 500, "customers": 500, "waves": 2, "subs": 50},
}
WORKER_CONCURRENCY = 2  # the Procfile's default
AIM_CPU_MS = 4.0  # our CPU per processed event: Celery's worker processes and PostgreSQL


def line(label: str, value: str, aim: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("  [met]" if ok else "  [MISSED]")
    return f"  {label:<46} {value:>22}  {aim}{verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (about a minute)")
    size = SIZES["quick" if parser.parse_args().quick else "full"]
    wall = time.perf_counter()
    with Services(worker_concurrency=WORKER_CONCURRENCY) as services:
        app = build_app()
        with app.app_context():
            tenant_id = make_tenant()
            print(f"seeding the emulator: {size['customers']} customers, {size['subs']} subs")
            client = merchant(services.emulator.url)
            customers = seed_account(client, size["customers"], size["subs"])
            services.start_web()
            print("1/4 ingest vs /healthz ...")
            ingest = bench_ingest(services, customers, size["requests"])
            reset_events(app)
            services.start_worker(app.extensions["celery"])
            print("2/4 ack latency at 100 events/s ...")
            ack = bench_ack(app, services, customers, size["ack_events"])
            print(f"3/4 processing {size['waves'] * len(customers)} events ...")
            raw_retrieve, raw_cpu = raw_retrieve_rate(
                services.emulator, customers, WORKER_CONCURRENCY
            )
            pairs, memory, fetched, cpu = bench_processing(
                app, services, tenant_id, customers, size["waves"]
            )
            services.stop_worker()
            print("4/4 backfill vs raw reads ...")
            raw_list, backfill_rate, objects, progress = bench_backfill(tenant_id)

    processed = size["waves"] * len(customers)
    processing = processed / sum(len(customers) / rate for _, rate in pairs)
    raw_retrieve = len(pairs) / sum(1 / raw for raw, _ in pairs)
    ratios = sorted(rate / raw for raw, rate in pairs)
    health, hook = ingest["healthz"], ingest["ingest"]
    first_rss = sum(r for r, _ in memory[0]) / 1024
    last_rss = sum(r for r, _ in memory[-1]) / 1024
    peak = max(p for wave in memory for _, p in wave) / 1024
    print()
    print(f"bench/webhooks.py {'--quick' if size is SIZES['quick'] else ''}".rstrip())
    print(f"  machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {date.today().isoformat()}")  # fmt: skip
    print(f"  gunicorn --workers 2 (sync), celery --concurrency {WORKER_CONCURRENCY} (prefork)")
    print(line("/healthz rate (8 clients)", f"{health.rate:.0f} req/s"))
    print(line("/healthz latency p50 / p99", f"{health.percentile(50):.1f} / "
               f"{health.percentile(99):.1f} ms"))  # fmt: skip
    print(line("webhook ingest rate (8 clients)", f"{hook.rate:.0f} ev/s"))
    print(line("webhook ingest latency p50 / p99", f"{hook.percentile(50):.1f} / "
               f"{hook.percentile(99):.1f} ms"))  # fmt: skip
    ratio = hook.rate / health.rate
    print(line("ingest / healthz", f"{ratio:.0%}", "aim >= 30%", ratio >= 0.30))
    for mode, result in ack.items():
        print(line(f"ack at 100 ev/s, {mode}: p50 / p99 / max",
                   f"{result.percentile(50):.1f} / {result.percentile(99):.1f} / "
                   f"{max(result.latencies) * 1000:.1f} ms",
                   *(("aim p99 < 50 ms", result.percentile(99) < 50) if mode == "worker busy"
                     else ())))  # fmt: skip
    print(line(f"emulator raw retrieve rate ({WORKER_CONCURRENCY} clients)",
               f"{raw_retrieve:.0f} req/s"))  # fmt: skip
    print(f"  CPU ms per raw retrieve: {raw_cpu:.2f} (emulator and client)")
    print(line(f"processing rate ({processed} events, {fetched} re-fetched)",
               f"{processing:.0f} ev/s"))  # fmt: skip
    ratio = ratios[len(ratios) // 2]
    print(line(f"processing / raw retrieve (median of {len(ratios)} waves)", f"{ratio:.0%}",
               "aim >= 50%", ratio >= 0.50))  # fmt: skip
    print(f"  per wave, each against its own baseline: {', '.join(f'{r:.0%}' for r in ratios)}")
    print("  CPU ms per processed event: " + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
          + f" (total {sum(cpu.values()):.2f} on {os.cpu_count()} cores)")  # fmt: skip
    ours = sum(v for k, v in cpu.items() if k != "emulator")  # the emulator stands for Stripe
    print(line("our CPU per processed event (worker, postgres)", f"{ours:.2f} ms",
               f"aim <= {AIM_CPU_MS:g} ms", ours <= AIM_CPU_MS))  # fmt: skip
    print(line(f"raw backfill reads ({objects} objects)", f"{raw_list:.0f} obj/s"))
    print(line("backfill rate", f"{backfill_rate:.0f} obj/s"))
    ratio = backfill_rate / raw_list
    print(line("backfill / raw reads", f"{ratio:.0%}", "aim >= 80%", ratio >= 0.80))
    print(line(f"worker RSS after {len(customers)} / {processed} events",
               f"{first_rss:.1f} / {last_rss:.1f} MiB"))  # fmt: skip
    growth = (last_rss - first_rss) / first_rss
    print(line("worker RSS growth; peak", f"{growth:+.1%}; {peak:.1f} MiB", "aim flat (< 5%)",
               growth < 0.05))  # fmt: skip
    errors = health.errors + hook.errors + sum(r.errors for r in ack.values())
    print(line("HTTP errors", str(errors), "aim 0", errors == 0))
    print(f"  backfill progress: {json.dumps({k: v['done'] for k, v in progress.items()})}")
    print(f"  finished in {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
