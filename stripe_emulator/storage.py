"""In-memory object store kept apart per Stripe account, replacing localstripe's pickled one."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, MutableMapping

from localstripe import resources, server

# None is the platform's own namespace; "acct_..." is a connected account's.
current_account: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_account", default=None
)


class AccountStore(MutableMapping):
    """Dict-like store whose keys live in the namespace of `current_account`.

    localstripe reads and writes `resources.store` as a plain dict ("customer:cus_123" ->
    object), so swapping this in keeps every resource class working while each
    Stripe-Account sees only its own objects.
    """

    def __init__(self) -> None:
        self._namespaces: dict[str | None, dict[str, object]] = {}

    def _current(self) -> dict[str, object]:
        return self._namespaces.setdefault(current_account.get(), {})

    def __getitem__(self, key: str) -> object:
        return self._current()[key]

    def __setitem__(self, key: str, value: object) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        # A snapshot, so callers may create objects while iterating.
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def clear(self) -> None:
        """Forget every namespace (DELETE /_config/data flushes all accounts)."""
        self._namespaces.clear()

    def account_holding(self, key: str) -> str | None:
        """The namespace that holds `key`, for public-key calls that carry no Stripe-Account."""
        for account, objects in self._namespaces.items():
            if key in objects:
                return account
        raise KeyError(key)

    # localstripe calls these around every write; persistence is deliberately absent.
    def try_load_from_disk(self) -> None:
        pass

    def dump_to_disk(self) -> None:
        pass


def install_account_store() -> AccountStore:
    """Never pickle to /tmp, and keep each Stripe-Account's data apart.

    localstripe's `Store` pickles itself to /tmp/localstripe.pickle on every write and reloads
    it at start-up, leaking data between runs and users. This replaces the module-level `store`
    that both `resources` and `server` use with an in-memory, per-account one.
    """
    store = AccountStore()
    resources.store = store
    server.store = store
    return store
