"""How a task sending an email treats a mail server that fails: what is retried, how often, when.

Shared by every task that sends one (a customer's sign-in email, Billfold's emails to merchants).
"""

from __future__ import annotations

import smtplib

from celery.exceptions import SoftTimeLimitExceeded

# A mail server that accepts the connection and then stalls must not hold a worker forever:
# past the soft limit the send is abandoned and retried like any other SMTP failure. It leaves
# room for a customer lookup at a slow Stripe (three tries of 30 s, tenants/stripe_client.py).
SEND_SOFT_LIMIT_SECONDS = 120
SMTP_FAILURES = (smtplib.SMTPException, OSError, SoftTimeLimitExceeded)
MAX_EMAIL_RETRIES = 6

# The options of a task that sends an email.
EMAIL_TASK = {
    "max_retries": MAX_EMAIL_RETRIES,
    "soft_time_limit": SEND_SOFT_LIMIT_SECONDS,
    "time_limit": SEND_SOFT_LIMIT_SECONDS + 30,
}


def retry_in(retries: int) -> int:
    """Seconds before the next try: 5, 10, 20 ... at most 10 minutes."""
    return min(600, 5 * 2**retries)
