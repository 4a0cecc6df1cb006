"""Objects a list page embeds on request (`expand[]=data.<path>`), taken out as rows of their own.

A backfill lists customers and subscriptions with their default payment method expanded, so
each card costs no request of its own. The listed object keeps only the embedded object's id,
exactly as a re-fetch by id stores it, so the cached copy does not depend on how it was read.
"""

from __future__ import annotations

from copy import copy


def take_expanded(obj: dict, paths: tuple[str, ...]) -> tuple[dict, list[dict]]:
    """(`obj` with each expanded path put back to its id, the objects found there)."""
    found: list[dict] = []
    for path in paths:
        obj = _collapse(obj, path.split("."), found)
    return obj, found


def _collapse(obj: dict, keys: list[str], found: list[dict]) -> dict:
    head, rest = keys[0], keys[1:]
    value = obj.get(head)
    if not isinstance(value, dict):
        return obj  # null, or already an id: nothing embedded here
    obj = copy(obj)
    if rest:
        obj[head] = _collapse(value, rest, found)
    else:
        found.append(value)
        obj[head] = value.get("id")
    return obj


def embedded_objects(objects: list[dict], paths: tuple[str, ...], kinds: set[str]):
    """(the objects with their expansions collapsed, the distinct embedded ones of `kinds`).

    An embedded object of another kind (a legacy card source) is left to be read another way.
    """
    collapsed, embedded = [], {}
    for obj in objects:
        plain, found = take_expanded(obj, paths)
        collapsed.append(plain)
        for item in found:
            if item.get("object") in kinds and item.get("id"):
                embedded.setdefault(item["id"], item)
    return collapsed, list(embedded.values())
