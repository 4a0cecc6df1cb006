"""The query-string filters of the dashboard's lists (activity, emails): read from the URL,
checked, and turned into the bounds a query needs. Bad input becomes a message for the page,
never an exception: a hand-edited URL gets told what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement

PER_PAGE = 50
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
MAX_EMAIL_FILTER = 254


@dataclass
class ListFilter:
    """What the merchant asked to see. `errors` says what could not be understood; a filter
    with errors shows nothing rather than guess."""

    kind: str = ""
    status: str = ""
    since: date | None = None
    until: date | None = None
    email: str = ""
    page: int = 1
    errors: list[str] = field(default_factory=list)

    def query_args(self, **changes) -> dict:
        """The URL's arguments for this filter (another page, the CSV of it)."""
        args = {
            "kind": self.kind,
            "status": self.status,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
            "email": self.email,
            **changes,
        }
        return {key: value for key, value in args.items() if value not in ("", None, 1)}

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """[start, end) in UTC of the dates asked, each day in the merchant's time zone."""
        start = datetime.combine(self.since, time(), zone).astimezone(UTC) if self.since else None
        end = (
            datetime.combine(self.until + timedelta(days=1), time(), zone).astimezone(UTC)
            if self.until
            else None
        )
        return start, end

    def email_condition(self, column) -> ColumnElement | None:
        """Part of an address, matched anywhere, case-insensitively; % and _ are literal."""
        if not self.email:
            return None
        escaped = self.email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.ilike(f"%{escaped}%", escape="\\")


def _date(raw: str, label: str, errors: list[str]) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        shown = raw[:20] + ("…" if len(raw) > 20 else "")
        errors.append(f"“{shown}” is not a date for “{label}”: use the form 2026-01-31.")
        return None
    if not EARLIEST <= value <= LATEST:  # and no overflow at the ends of the calendar
        errors.append(f"Choose a date for “{label}” between {EARLIEST.year} and {LATEST.year}.")
        return None
    return value


def read_filter(args, kinds: tuple[str, ...] = (), statuses: tuple[str, ...] = ()) -> ListFilter:
    """A ListFilter from request.args; `kinds`/`statuses`: the values each choice may take."""
    errors: list[str] = []
    kind = (args.get("kind") or "").strip()
    if kind and kind not in kinds:
        errors.append("Choose what happened from the list.")
    status = (args.get("status") or "").strip()
    if status and status not in statuses:
        errors.append("Choose a status from the list.")
    since = _date(args.get("from"), "From", errors)
    until = _date(args.get("to"), "To", errors)
    if since and until and since > until:
        errors.append("The “From” date is after the “To” date.")
    email = (args.get("email") or "").strip().lower()
    if len(email) > MAX_EMAIL_FILTER:
        errors.append("That email address is too long to be one.")
        email = email[:MAX_EMAIL_FILTER]
    raw_page = (args.get("page") or "1").strip()
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 10 else 1
    return ListFilter(kind, status, since, until, email, max(page, 1), errors)


@dataclass(frozen=True)
class Page:
    number: int
    count: int  # pages in all (at least 1)
    total: int  # rows in all

    @property
    def offset(self) -> int:
        return (self.number - 1) * PER_PAGE


def page_of(asked: int, total: int) -> Page:
    """The page asked, within the pages there are: a page past the end shows the last one."""
    count = max(1, -(-total // PER_PAGE))
    return Page(min(max(asked, 1), count), count, total)
