"""Stripe webhook endpoints: verify, store, enqueue, answer 200."""
