"""The store says which records changed since a version a reader kept, or that it cannot say."""

from __future__ import annotations

from nimify_tui.live.keys import EVENTS, PODS
from nimify_tui.live.store import Store


def test_the_names_changed_since_a_version_and_when_every_record_must_be_read() -> None:
    store = Store()
    assert store.changed_since(PODS, None) == (0, None)
    store.replace(PODS, "a", {("a", "p1"): 1, ("a", "p2"): 2})
    version, names = store.changed_since(PODS, 0)
    assert names is None, "a list replaced: every record"
    store.upsert(PODS, ("a", "p3"), 3)
    store.remove(PODS, ("a", "p1"))
    store.remove(PODS, ("a", "gone-already"))  # nothing removed: no change
    store.upsert_many(PODS, [(("b", "q1"), 4), (("b", "q2"), 5)])
    store.upsert(EVENTS, ("a", "e"), 6)  # another key's change
    now, names = store.changed_since(PODS, version)
    assert names == {("a", "p3"), ("a", "p1"), ("b", "q1"), ("b", "q2")}
    assert store.changed_since(PODS, now) == (now, set())
    store.upsert(PODS, ("a", "p2"), 7)
    assert store.changed_since(PODS, now) == (now + 1, {("a", "p2")})
    assert store.changed_since(PODS, now + 5) == (now + 1, None), "a version it never had"


def test_a_reader_further_behind_than_the_journal_reads_every_record() -> None:
    store = Store()
    store.upsert(PODS, ("a", "first"), 0)
    version, _ = store.changed_since(PODS, None)
    for n in range(Store.JOURNAL + 1):
        store.upsert(PODS, ("a", f"p{n}"), n)
    assert store.changed_since(PODS, version)[1] is None
    recent, _ = store.changed_since(PODS, None)
    store.upsert(PODS, ("a", "last"), 1)
    assert store.changed_since(PODS, recent)[1] == {("a", "last")}
    store.clear()
    assert store.changed_since(PODS, recent + 1)[1] is None, "cleared: another cluster's records come"


def test_the_records_changed_since_a_version_as_they_are_now() -> None:
    store = Store()
    store.replace(PODS, "a", {("a", "p1"): 1, ("a", "p2"): 2})
    version, records = store.changed_records(PODS, None)
    assert records is None, "no version kept: every record"
    store.upsert(PODS, ("a", "p2"), 20)
    store.remove(PODS, ("a", "p1"))
    store.upsert(PODS, ("a", "p3"), 3)
    now, records = store.changed_records(PODS, version)
    assert records == {("a", "p1"): None, ("a", "p2"): 20, ("a", "p3"): 3}
    assert store.changed_records(PODS, version, most=2) == (now, None), "more changed than the reader wants"
    assert store.changed_records(PODS, now) == (now, {})
