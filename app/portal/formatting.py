"""Money and date formatting for portal pages and emails."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

from app.billing.currencies import exponent, major_units
from app.billing.statuses import InvoiceStatus, SubscriptionStatus

LOCALE = "en_US"  # the portal's pages are written in English
# CLDR leaves no space after a currency code ("KWD12.500"); a no-break space keeps it readable
# and on one line with its number.
CODE_THEN_DIGIT = re.compile(r"([A-Za-z])(?=\d)")


def money(amount: int | Decimal | None, currency: str | None) -> str:
    """An amount in Stripe's minor units, written as the currency is: "$12.50", "¥1,500",
    "KWD 12.500"; a fraction the locale would hide (fillér on a HUF charge) is kept."""
    if amount is None:
        return "—"
    code = (currency or "usd").upper()
    value = major_units(amount, code)
    digits = get_currency_precision(code)
    if value != value.quantize(Decimal(1).scaleb(-digits)):  # more precise than usual: show it
        digits = max(exponent(code), -value.as_tuple().exponent)
        pattern = "¤#,##0" + ("." + "0" * digits if digits else "")
        text = format_currency(value, code, pattern, locale=LOCALE, currency_digits=False)
    else:
        text = format_currency(value, code, locale=LOCALE)
    return CODE_THEN_DIGIT.sub("\\1\xa0", text, count=1)


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
