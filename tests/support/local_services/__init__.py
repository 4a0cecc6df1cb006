"""Processes the tests and the benchmarks start on loopback and stop again: a throwaway
PostgreSQL cluster and Redis server, gunicorn, a Celery worker.

Development only, like stripe_emulator: not part of the wheel, found beside app/ in a checkout.
"""
