"""The screen reads the store on the UI thread (header, incident panel): a long write in a
worker thread (the first poll's 2,000 alert sightings) must not make those reads wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from cockpit.domain import Incident
from cockpit.incident.store import SQLiteStore


@contextmanager
def rename_held_open(store: SQLiteStore, incident: Incident) -> Iterator[None]:
    """Another thread renames the incident in a transaction it keeps open until the
    block ends, then commits."""
    opened, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with store.transaction() as db:
            db.execute("UPDATE incidents SET title=? WHERE id=?", ("renamed", incident.id))
            opened.set()
            release.wait(10)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert opened.wait(5)
        yield
    finally:
        release.set()
        writer.join(10)


def test_a_read_does_not_wait_for_a_write_in_another_thread(
    store: SQLiteStore, incident: Incident
) -> None:
    with rename_held_open(store, incident):
        began = time.monotonic()
        [seen] = store.active_incidents()  # the last commit, at once
        waited = time.monotonic() - began
        assert seen.title == "Checkout errors"
        assert waited < 2, f"the read waited {waited:.1f} s for the writer"
    [after] = store.active_incidents()
    assert after.title == "renamed"


def test_a_read_inside_a_transaction_sees_its_own_writes(
    store: SQLiteStore, incident: Incident
) -> None:
    with store.transaction() as db:
        db.execute("UPDATE incidents SET title=? WHERE id=?", ("inside", incident.id))
        assert store.get_incident(incident.id) == replace(incident, title="inside")
    assert store.get_incident(incident.id) == replace(incident, title="inside")


def test_an_in_memory_store_still_reads_what_it_wrote(incident: Incident) -> None:
    memory = SQLiteStore()  # one connection: a second :memory: one would be another store
    memory.create_incident(incident)
    assert memory.get_incident(incident.id) == incident
    memory.close()


def test_the_incidents_on_the_panel_follow_every_commit(
    store: SQLiteStore, incident: Incident, tmp_path: Path
) -> None:
    assert [i.title for i in store.active_incidents()] == ["Checkout errors"]
    store.update_incident(replace(incident, title="Checkout down"))
    assert [i.title for i in store.active_incidents()] == ["Checkout down"]
    # another process on the same file (a second cockpit, `cockpit incident ...`)
    other = SQLiteStore(tmp_path / "cockpit.db")
    other.update_incident(replace(incident, title="written elsewhere"))
    other.close()
    assert [i.title for i in store.active_incidents()] == ["written elsewhere"]


def test_an_in_memory_store_answers_the_panel_while_a_write_is_open(incident: Incident) -> None:
    memory = SQLiteStore()
    memory.create_incident(incident)
    assert [i.id for i in memory.active_incidents()] == [incident.id]
    with rename_held_open(memory, incident):
        began = time.monotonic()
        [seen] = memory.active_incidents()
        assert time.monotonic() - began < 2 and seen.title == "Checkout errors"
    assert [i.title for i in memory.active_incidents()] == ["renamed"]
    memory.close()
