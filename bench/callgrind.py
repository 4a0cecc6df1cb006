"""Instruction counts under valgrind's callgrind, for figures a noisy shared machine does not move.

A bench re-runs itself as a child under callgrind with counting off; the child turns counting on
around what it measures (`toggle`) and dumps each part under its own name; `run_counted` returns
each named dump's total.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def toggle(command: str) -> None:
    """Tell this process's callgrind `command` ("-i on", "-i off", "--dump=name")."""
    done = subprocess.run(
        ["callgrind_control", *command.split(), str(os.getpid())], capture_output=True, text=True
    )
    if "OK." not in done.stdout:  # it answers 0 even when it found no process
        answer = f"{done.stdout.strip()} {done.stderr.strip()}"
        raise SystemExit(f"callgrind_control {command}: {answer}")


def require_valgrind() -> None:
    """Stop before any set-up when valgrind is missing."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")


def run_counted(script: Path, *args: str) -> dict[str, int]:
    """Run `python script args` under callgrind; the instructions of each dump it made, by name."""
    outdir = Path(tempfile.mkdtemp(prefix="billfold-callgrind-"))
    try:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", sys.executable,
                   str(script), *args]  # fmt: skip
        # callgrind_control finds the process by the files it writes in its working directory
        run = subprocess.run(command, capture_output=True, text=True, cwd=outdir)
        if run.returncode != 0:
            raise SystemExit(f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        return _dump_totals(outdir)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def _dump_totals(outdir: Path) -> dict[str, int]:
    totals = {}
    for dump in outdir.glob("callgrind.out.*"):
        trigger, total = "", 0
        with dump.open(errors="replace") as lines:
            for line in lines:
                if line.startswith("desc: Trigger:"):
                    trigger = line.split("Trigger:", 1)[1].strip()
                elif line.startswith("totals:"):
                    total = int(line.split()[1])
        if trigger.startswith("dump "):  # not the final dump at exit
            totals[trigger.removeprefix("dump ")] = total
    return totals
