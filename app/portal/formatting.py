"""Money and date formatting for portal pages and emails."""

from __future__ import annotations

from datetime import UTC, datetime

from app.billing.statuses import InvoiceStatus, SubscriptionStatus

# Stripe amounts are in the smallest unit; these currencies have none below the unit.
ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
}  # fmt: skip
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$", "inr": "₹"}


def money(amount: int | None, currency: str | None) -> str:
    if amount is None:
        return "—"
    code = (currency or "usd").lower()
    value = amount if code in ZERO_DECIMAL else amount / 100
    number = f"{abs(value):,.0f}" if code in ZERO_DECIMAL else f"{abs(value):,.2f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code.upper()}"


METHOD_LABELS = {"sepa_debit": "SEPA debit", "us_bank_account": "Bank account"}


def method_label(method) -> str:
    """'Visa', 'Mastercard', 'SEPA debit': how a payment method is named on the account page."""
    if method.type and method.type != "card":
        return METHOD_LABELS.get(method.type, method.type.replace("_", " ").capitalize())
    return (method.brand or "card").title()


def date(value: datetime | None) -> str:
    return value.strftime("%b %-d, %Y") if value else "—"


def moment(value: datetime) -> str:
    """A point in time to the minute, in UTC (we do not know the reader's time zone)."""
    return value.astimezone(UTC).strftime("%b %-d, %Y at %H:%M UTC")


def time_ago(value: datetime, now: datetime | None = None) -> str:
    seconds = max(0, ((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 60:
        return "less than a minute ago"
    count, unit = next(
        (int(seconds // size), unit)
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60))
        if seconds >= size
    )
    return f"{count} {unit}{'s' if count != 1 else ''} ago"


def interval_label(interval: str | None, count: int | None) -> str:
    if not interval:
        return ""
    count = count or 1
    return f"per {interval}" if count == 1 else f"every {count} {interval}s"


# What a customer reads for each Stripe status, and the badge's tone.
STATUS_LABELS = {
    SubscriptionStatus.ACTIVE: ("Active", "ok"),
    SubscriptionStatus.TRIALING: ("Trial", "ok"),
    SubscriptionStatus.PAST_DUE: ("Past due", "danger"),
    SubscriptionStatus.UNPAID: ("Unpaid", "danger"),
    SubscriptionStatus.CANCELED: ("Canceled", ""),
    SubscriptionStatus.INCOMPLETE: ("Incomplete", "warn"),
    SubscriptionStatus.INCOMPLETE_EXPIRED: ("Expired", ""),
    SubscriptionStatus.PAUSED: ("Paused", "warn"),
    InvoiceStatus.PAID: ("Paid", "ok"),
    InvoiceStatus.OPEN: ("Due", "warn"),
    InvoiceStatus.VOID: ("Void", ""),
    InvoiceStatus.UNCOLLECTIBLE: ("Uncollectible", "danger"),
    InvoiceStatus.DRAFT: ("Draft", ""),
}


def status_badge(status: str | None) -> tuple[str, str]:
    return STATUS_LABELS.get(status or "", ((status or "unknown").replace("_", " ").title(), ""))
