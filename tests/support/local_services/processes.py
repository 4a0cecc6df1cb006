"""Start a helper process in a session of its own and stop it with everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[1]  # wsgi.py and worker/ are found from here


class LaunchError(RuntimeError):
    """A helper process exited early or did not answer in time."""


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick, so two runs do not choose alike)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process_group(
    command: list[str], env: dict[str, str], log_path: Path, **popen
) -> subprocess.Popen:
    """Run `command` from the checkout with os.environ plus `env`, output appended to
    `log_path`; its own session, so stop_process_group() ends its children too."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=popen.pop("cwd", CHECKOUT),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,
        )


def wait_until_ready(
    process: subprocess.Popen,
    ready: Callable[[], bool],
    what: str,
    log_path: Path,
    timeout: float = 30.0,
    interval: float = 0.1,
) -> None:
    """Poll `ready` (an OSError counts as not yet) until it is true; stop the process and
    raise LaunchError if it exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchError(f"{what} exited early:\n{log_tail(log_path)}")
        try:
            if ready():
                return
        except OSError:  # refused or reset while it starts
            pass
        except BaseException:  # no use waiting (a wrong certificate, say)
            stop_process_group(process)
            raise
        time.sleep(interval)
    stop_process_group(process)
    raise LaunchError(f"{what} did not answer within {timeout:.0f} s:\n{log_tail(log_path)}")


def stop_process_group(
    process: subprocess.Popen | None, timeout: float = 15, sig: int = signal.SIGTERM
) -> None:
    """Signal the process group (started with start_new_session), SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def children(pid: int) -> list[int]:
    """Process ids of a process's direct children (a gunicorn's or a worker's pool)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
