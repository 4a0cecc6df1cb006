"""`python -m app.demo`: the whole product on embedded defaults, no accounts or servers needed.

Starts the Stripe emulator, creates a fresh SQLite database, seeds the merchant Acme Rockets
with customers, subscriptions, invoices and cards, and serves the app on localhost:5000 with
tasks run in-process and emails kept in a mailbox page.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from config import INSTANCE_DIR

DEMO_KEYS = {
    "STRIPE_SECRET_KEY": "sk_test_billfold_demo",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_billfold_demo",
    "STRIPE_WEBHOOK_SECRET": "whsec_billfold_demo",
    "STRIPE_CONNECT_CLIENT_ID": "ca_billfold_demo_connect",
    "STRIPE_APP_CLIENT_ID": "ca_billfold_demo_app",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.demo", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        choices=["run", "code"],
        default="run",
        help="run the demo (default), or print the demo operator's current sign-in code",
    )
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--emulator-port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "code":
        return _print_operator_code()
    # Stopping by SIGTERM still runs the clean-up below (the emulator subprocess ends too).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    try:
        from stripe_emulator.launcher import EmulatorError, StripeEmulator
    except ModuleNotFoundError as exc:
        if exc.name != "stripe_emulator":
            raise
        # The emulator is a development tool: the wheel leaves it out, the checkout has it.
        print(
            "billfold demo: run it from a checkout of Billfold (bash scripts/demo.sh); "
            "the Stripe emulator is not installed with the package",
            file=sys.stderr,
        )
        return 2

    try:
        emulator = StripeEmulator().start(port=args.emulator_port)
    except EmulatorError as exc:
        print(f"billfold demo: the Stripe emulator did not start: {exc}", file=sys.stderr)
        return 2
    with emulator:
        database = INSTANCE_DIR / "demo.db"
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)  # the emulator starts empty, so does the demo
        domain = f"localhost:{args.port}"
        os.environ.update(
            {
                "BILLFOLD_ENV": "development",
                "DATABASE_URL": f"sqlite:///{database}",
                "PLATFORM_DOMAIN": domain,
                "MAIL_CAPTURE": "true",
                "STRIPE_API_BASE": emulator.url,
                "STRIPE_JS_URL": emulator.js_url,
                "STRIPE_CONNECT_OAUTH_BASE": emulator.url,
                "STRIPE_APPS_OAUTH_BASE": emulator.url,
                **DEMO_KEYS,
            }
        )
        os.environ.pop("REDIS_URL", None)
        return _serve(emulator, domain, args.port)


def _print_operator_code() -> int:
    import pyotp

    from app.demo.seed import DEMO_OPERATOR_TOTP_SECRET

    print(pyotp.TOTP(DEMO_OPERATOR_TOTP_SECRET).now())
    return 0


def _serve(emulator, domain: str, port: int) -> int:
    from flask_migrate import upgrade

    from app.billing.backfill import backfill
    from app.demo.seed import (
        DEMO_MEMBER_EMAIL,
        DEMO_MEMBER_PASSWORD,
        DEMO_MERCHANT_EMAIL,
        DEMO_MERCHANT_PASSWORD,
        DEMO_OPERATOR_EMAIL,
        DEMO_OPERATOR_PASSWORD,
        seed_demo_activity,
        seed_demo_merchant,
        seed_demo_operator,
        seed_demo_tenant,
        seed_failed_event,
        seed_stripe_account,
    )
    from app.factory import create_app
    from tenants.context import tenant_context
    from tenants.stripe_client import stripe_client_for

    app = create_app()
    with app.app_context():
        upgrade(directory=str(INSTANCE_DIR.parent / "migrations"))
        tenant = seed_demo_tenant()
        seed_demo_merchant(tenant)
        seed_demo_activity(tenant)
        seed_demo_operator()
        seed_failed_event(tenant)
        client = stripe_client_for(tenant)
        seed_stripe_account(client)
        with tenant_context(tenant.id):
            backfill(client)
        subdomain = tenant.subdomain
    emulator.register_webhook(
        "billfold-demo",
        f"http://{domain}/webhooks/stripe/connect",
        DEMO_KEYS["STRIPE_WEBHOOK_SECRET"],
        connect=True,
    )
    print(
        "\n".join(
            [
                "",
                "Billfold demo is running.",
                f"  Customer portal of Acme Rockets:  http://{subdomain}.{domain}/",
                "      sign in as ada@example.com (two billing accounts) or grace@example.com",
                f"  Merchant dashboard:               http://{domain}/dashboard",
                f"      sign in as {DEMO_MERCHANT_EMAIL}, password {DEMO_MERCHANT_PASSWORD}",
                f"      (a team member: {DEMO_MEMBER_EMAIL}, password {DEMO_MEMBER_PASSWORD})",
                f"  Operators' console:               http://{domain}/ops",
                f"      sign in as {DEMO_OPERATOR_EMAIL}, password {DEMO_OPERATOR_PASSWORD},",
                "      code: `python -m app.demo code` (Acme Rockets has a failed event)",
                f"  A new merchant of your own:       http://{domain}/dashboard/signup",
                "      verify from the mailbox, then Stripe → Install the app on Stripe → Allow",
                "      (the emulator makes a test account with two customers, e.g.",
                "      first@seeded.example, and Billfold copies it; then open the portal link)",
                f"  Demo mailbox (sign-in emails):    http://{domain}/dev/mailbox/",
                f"  Stripe emulator:                  {emulator.url}",
                "  Test card for 'Replace card':     5555555555554444, any future date, any CVC",
                "Press Ctrl-C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
