"""Connecting a merchant's existing Stripe account: Stripe Connect, Billfold's Stripe App, or a
restricted key; and disconnecting it. Services only: they flush, the caller commits and then
queues the backfill (app.billing.tasks.queue_backfill)."""
