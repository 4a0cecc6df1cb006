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

    Each namespace also keeps its objects by type: localstripe lists a type by scanning every
    object of the account (and exports each charge by listing its refunds that way), so
    building an account of a thousand paying customers took hours; a list now visits only its
    own type's objects, in the same (insertion) order.
    """

    def __init__(self) -> None:
        self._namespaces: dict[str | None, dict[str, object]] = {}
        self._by_type: dict[str | None, dict[str, dict[str, object]]] = {}

    def _current(self) -> dict[str, object]:
        return self._namespaces.setdefault(current_account.get(), {})

    def _types(self) -> dict[str, dict[str, object]]:
        return self._by_type.setdefault(current_account.get(), {})

    def __getitem__(self, key: str) -> object:
        return self._current()[key]

    def __setitem__(self, key: str, value: object) -> None:
        self._current()[key] = value
        self._types().setdefault(_type_of(key), {})[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]
        self._types().get(_type_of(key), {}).pop(key, None)

    def __iter__(self) -> Iterator[str]:
        # A snapshot, so callers may create objects while iterating.
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def __contains__(self, key: object) -> bool:
        return key in self._current()

    def keys(self):  # localstripe asks `key in store.keys()`: the dict's own view answers at once
        return self._current().keys()

    def get(self, key: str, default: object = None) -> object:
        return self._current().get(key, default)

    def items(self) -> list[tuple[str, object]]:  # a snapshot, as __iter__
        return list(self._current().items())

    def values(self) -> list[object]:
        return list(self._current().values())

    def objects_of(self, kind: str) -> list[object]:
        """This account's objects of one type ("charge", "invoice"), oldest first."""
        return list(self._types().get(kind, {}).values())

    def clear(self) -> None:
        """Forget every namespace (DELETE /_config/data flushes all accounts)."""
        self._namespaces.clear()
        self._by_type.clear()

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


def _type_of(key: str) -> str:
    return key.partition(":")[0]


def _list_all(cls, url, limit=None, starting_after=None, **kwargs):
    """localstripe's list of every object of a type, reading the type's own objects."""
    if kwargs:
        raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
    listed = resources.List(url, limit=limit, starting_after=starting_after)
    listed._list = resources.store.objects_of(cls.object)
    return listed


def install_account_store() -> AccountStore:
    """Never pickle to /tmp, and keep each Stripe-Account's data apart.

    localstripe's `Store` pickles itself to /tmp/localstripe.pickle on every write and reloads
    it at start-up, leaking data between runs and users. This replaces the module-level `store`
    that both `resources` and `server` use with an in-memory, per-account one.
    """
    store = AccountStore()
    resources.store = store
    server.store = store
    resources.StripeObject._api_list_all = classmethod(_list_all)
    return store
