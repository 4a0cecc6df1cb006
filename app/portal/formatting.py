"""Money and date formatting for portal pages and emails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision

from app.billing.currencies import exponent, major_units
from app.billing.statuses import InvoiceStatus, SubscriptionStatus

LOCALE = "en_US"  # the portal's pages are written in English
# CLDR leaves no space after a currency code ("KWD12.500"); a no-break space keeps it readable
# and on one line with its number.
CODE_THEN_DIGIT = re.compile(r"([A-Za-z])(?=\d)")


@lru_cache(maxsize=4096)  # Babel takes a tenth of a millisecond a call; pages repeat amounts
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


# Stripe's payment method types, named as their owners know them; a card is named by its brand
# and a US bank account by its bank.
METHOD_LABELS = {
    "sepa_debit": "SEPA debit",
    "us_bank_account": "Bank account",
    "link": "Link",
    "paypal": "PayPal",
    "bacs_debit": "Bacs Direct Debit",
    "au_becs_debit": "BECS Direct Debit",
    "acss_debit": "Pre-authorized debit",
    "cashapp": "Cash App Pay",
    "amazon_pay": "Amazon Pay",
    "revolut_pay": "Revolut Pay",
}
CARD_BRANDS = {"amex": "American Express", "diners": "Diners Club", "unionpay": "UnionPay"}


def method_label(method) -> str:
    """'Visa', 'SEPA debit', 'STRIPE TEST BANK', 'Link': how a payment method is named."""
    kind = method.type or "card"
    if kind == "card":
        brand = (method.brand or "").lower()
        return CARD_BRANDS.get(brand) or (brand.title() if brand and brand != "unknown" else "Card")
    if kind == "us_bank_account" and method.bank_name:
        return method.bank_name
    return METHOD_LABELS.get(kind, kind.replace("_", " ").capitalize())


def method_detail(method) -> str | None:
    """The line under a payment method's name: a card's expiry, a Link account's email."""
    if method.type in (None, "card"):
        if method.exp_year:
            return f"Expires {method.exp_month or 0:02d}/{method.exp_year}"
        return None
    if method.type == "link":
        return method.email
    if method.type == "us_bank_account":
        return "US bank account"
    return None


def method_summary(method) -> str:
    """One line: 'Visa •••• 4242', 'Link (ada@example.com)', 'PayPal'."""
    name = method_label(method)
    if method.last4:
        return f"{name} •••• {method.last4}"
    if method.type == "link" and method.email:
        return f"{name} ({method.email})"
    return name


def date(value: datetime | None, zone: tzinfo | None = None) -> str:
    """A day as the merchant's customers count days: in the merchant's zone (UTC if none)."""
    if not value:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone or UTC).strftime("%b %-d, %Y")


def zone_label(name: str | None) -> str:
    """Which zone dates are in, as a page says it: 'Pacific/Auckland time', 'UTC'."""
    if not name or name in UTC_NAMES:
        return "UTC"
    return f"{name.replace('_', ' ')} time"


UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu",
                       "Etc/Zulu", "GMT", "Etc/GMT"})  # fmt: skip


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


# Stripe voids or writes off an invoice made while its subscription's collection is paused: the
# customer was not charged, which "Void" or "Uncollectible" would not tell them.
NOT_CHARGED_WHILE_PAUSED = frozenset({InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE})


def invoice_badge(invoice, zone: tzinfo | None = None) -> tuple[str, str]:
    """An invoice's status as a badge; an open invoice with a due date (one sent to be paid,
    collection_method=send_invoice) says when it is due, or since when it is overdue. The
    invoice says whether its subscription's collection is paused (`collection_paused`)."""
    if invoice.collection_paused and invoice.status in NOT_CHARGED_WHILE_PAUSED:
        return "Not charged (payments paused)", ""
    if invoice.status == InvoiceStatus.OPEN and invoice.due_date:
        due = invoice.due_date if invoice.due_date.tzinfo else invoice.due_date.replace(tzinfo=UTC)
        if due < datetime.now(UTC):
            return f"Overdue since {date(due, zone)}", "danger"
        return f"Due {date(due, zone)}", "warn"
    return status_badge(invoice.status)


def status_badge(status: str | None) -> tuple[str, str]:
    return STATUS_LABELS.get(status or "", ((status or "unknown").replace("_", " ").title(), ""))
