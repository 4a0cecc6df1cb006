"""Task decorators: the tenant id travels as each task's first argument and is restored."""

from __future__ import annotations

import random

from celery import shared_task

from tenants.context import tenant_context

DEFAULT_RETRY = {
    "autoretry_for": (),
    "retry_backoff": 2,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def backoff_seconds(retries: int, base: float, cap: float = 600.0) -> float:
    """Exponential backoff with equal jitter: between half and all of base x 2^retries."""
    ceiling = min(cap, base * 2**retries)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def tenant_task(*, retry_on: tuple[type[BaseException], ...] = (), **options):
    """A shared task whose first argument is the tenant id, run inside that tenant's context.

    Exceptions in `retry_on` are retried with exponential backoff and jitter.
    """

    def decorator(func):
        def run(self, tenant_id: int, *args, **kwargs):
            with tenant_context(int(tenant_id)):
                return func(self, tenant_id, *args, **kwargs)

        run.__name__ = func.__name__
        run.__qualname__ = func.__qualname__
        run.__module__ = func.__module__
        run.__doc__ = func.__doc__
        settings = {**DEFAULT_RETRY, "autoretry_for": retry_on, **options}
        settings.setdefault("name", f"{func.__module__}.{func.__name__}")
        return shared_task(bind=True, **settings)(run)

    return decorator
