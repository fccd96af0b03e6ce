"""Lists in pages (``limit`` and ``continue``), as the API server serves them to kubectl and client-go.

A continue token names the resourceVersion of the first page and the last object served. The later pages come
from the list as it was at the first page (a consistent snapshot, as etcd gives) while it is still kept (the
last ``ListedMemo.KEPT`` lists); a list no longer kept is read again from the current state. Every page says the
first page's resourceVersion, so a watch from it replays each change made since, and the client ends with exactly
the server's state either way. A token older than the history kept is refused with 410 Expired, as the API server
refuses one that was compacted away.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from nimify_tui.sim.k8s.store import Obj


class PageRefused(Exception):
    """A bad ``limit`` or ``continue`` (400), or a continue token that expired (410)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


class ListedMemo:
    """The last lists read, each with the store's resourceVersion then: the pages of one list read it once, not once
    a page (sorting and filtering 50,000 pods for each page of 500 would make a paged list a hundred times
    slower), and from the objects as they were at its first page."""

    KEPT = 64  # every informer of the app lists at once when it starts: about 40 lists, each in pages

    def __init__(self) -> None:
        self._lists: dict[tuple[tuple[str, ...], int], list[Obj]] = {}

    def current(self, what: tuple[str, ...], rv: int, read: Callable[[], list[Obj]]) -> list[Obj]:
        """``what`` at the store's resourceVersion ``rv`` (read once per version)."""
        found = self.at(what, rv)
        if found is None:
            found = self._lists[(what, rv)] = read()
            while len(self._lists) > self.KEPT:
                del self._lists[next(iter(self._lists))]
        return found

    def at(self, what: tuple[str, ...], rv: int) -> list[Obj] | None:
        """``what`` as it was read at ``rv``, when still kept; a list being paged through is kept longest."""
        found = self._lists.pop((what, rv), None)
        if found is not None:
            self._lists[(what, rv)] = found
        return found


@dataclass(frozen=True)
class Page:
    items: list[Obj]
    metadata: Obj  # the list's: resourceVersion, and continue while more is left


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta.get("name") or "")


def _token(rv: int, last: tuple[str, str]) -> str:
    raw = orjson.dumps({"rv": rv, "start": list(last)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        rv, (namespace, name) = int(data["rv"]), data["start"]
        return rv, (str(namespace), str(name))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise PageRefused(400, "BadRequest", "continue key is not valid: the token cannot be read") from None


def page(
    what: tuple[str, ...],
    read: Callable[[], list[Obj]],
    query: Mapping[str, str],
    store_rv: int,
    oldest_rv: int,
    memo: ListedMemo,
) -> Page:
    """The page ``query`` asks for of the list ``what`` (``read`` gives it now, sorted by namespace and name, as the
    store lists them). ``oldest_rv``: the oldest resourceVersion the store's history still reaches (older tokens
    expired)."""
    limit_text, token = query.get("limit", ""), query.get("continue", "")
    try:
        limit = int(limit_text) if limit_text else 0
    except ValueError:
        raise PageRefused(400, "BadRequest", f"limit: invalid value {limit_text!r}") from None
    if token:
        rv, last = _read_token(token)
        if rv < oldest_rv:
            message = "The provided continue parameter is too old to display a consistent list result."
            raise PageRefused(410, "Expired", message + " You can start a new list without the continue parameter.")
        found = memo.at(what, rv)
        if found is None:
            found = read()
        start = bisect.bisect_right(found, last, key=_key)
    else:
        rv, start = store_rv, 0
        found = memo.current(what, rv, read) if limit > 0 else read()
    metadata: Obj = {"resourceVersion": str(rv)}
    if limit <= 0:
        return Page(found[start:], metadata)
    items = found[start : start + limit]
    if start + limit < len(found):
        metadata["continue"] = _token(rv, _key(items[-1]))
        metadata["remainingItemCount"] = len(found) - start - limit
    return Page(items, metadata)
