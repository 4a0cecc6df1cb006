"""A backfill's progress for a person at a terminal: a live count per phase, a line per phase."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from app.billing.kinds import BACKFILL_PHASES

LABELS = {kind.name: kind.label for kind in BACKFILL_PHASES}


class ProgressPrinter:
    """Pass as backfill's on_progress; call finish() with the final progress afterwards.

    On a terminal the current phase's count is rewritten in place; elsewhere (logs, pipes)
    each phase prints one line when it is done.
    """

    def __init__(self, echo: Callable = click.echo, live: bool | None = None) -> None:
        self.echo = echo
        self.live = sys.stdout.isatty() if live is None else live
        self.current: str | None = None
        self.done = 0
        self.printed: set[str] = set()

    def _line(self, phase: str, done: int, mark: str) -> str:
        return f"  {LABELS.get(phase, phase):<18} {done:>8}  {mark}"

    def _close_current(self) -> None:
        if self.current is not None and self.current not in self.printed:
            prefix = "\r" if self.live else ""
            self.echo(prefix + self._line(self.current, self.done, "done"))
            self.printed.add(self.current)

    def _skipped_before(self, phase: str | None, progress: dict) -> None:
        """Print the phases before `phase` (None: all) that never reported: they had nothing."""
        for earlier in LABELS:  # in phase order
            if earlier == phase:
                return
            if earlier not in self.printed:
                done = (progress.get(earlier) or {}).get("done", 0)
                self.echo(self._line(earlier, done, "done"))
                self.printed.add(earlier)

    def __call__(self, phase: str, done: int) -> None:
        if phase != self.current:
            self._close_current()
            self._skipped_before(phase, {})
            self.current = phase
        self.done = done
        if self.live:
            self.echo("\r" + self._line(phase, done, "..."), nl=False)

    def finish(self, progress: dict) -> None:
        """Print what is left: the last phase, and the phases that had nothing to report."""
        if self.current is not None:
            self.done = (progress.get(self.current) or {}).get("done", self.done)
        self._close_current()
        self._skipped_before(None, progress)

    def interrupted(self) -> None:
        """End a live line cleanly before an error message is printed."""
        if self.live and self.current is not None and self.current not in self.printed:
            self.echo("")
