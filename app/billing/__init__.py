"""The Stripe cache: models, upserts from Stripe objects, event processing, backfill."""
