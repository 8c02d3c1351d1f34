"""Two engineers in two cockpits on one shared store, through the screen (Pilot): the
declaration, notes both ways, who else is here, a version conflict, the store going down."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cockpit.domain import IncidentStatus
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from tests.pilot import CockpitFactory, bound_idle_wait, header, until
from tests.store.proxy import Proxy
from tests.ui.conftest import home, modal, notifications, row_texts, screen_text

pytestmark = pytest.mark.server

SQL = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    bound_idle_wait(monkeypatch)


def shared(factory: CockpitFactory, dsn: str, tmp_path: Path, name: str) -> CockpitApp:
    return factory(
        {
            "store": {
                "kind": "postgresql",
                "dsn": dsn,
                "journal": str(tmp_path / f"journal-{name}.sqlite3"),
            },
            "identity": {"name": name},
        }
    )


async def submit(pilot: Any, app: CockpitApp, *keys: str, text: str = "") -> None:
    """Press keys that open a form, type text into its first field, submit with ctrl+s."""
    await pilot.press(*keys)
    await modal(pilot, app, FormScreen)
    if text:
        await pilot.press(*text)
    await pilot.press("ctrl+s")
    await home(pilot, app)


async def test_two_engineers_work_one_incident_live(
    pg_dsn: str, cockpit_factory: CockpitFactory, tmp_path: Path
) -> None:
    alice_app = shared(cockpit_factory, pg_dsn, tmp_path, "alice")
    bob_app = shared(cockpit_factory, pg_dsn, tmp_path, "bob")
    async with alice_app.run_test(size=(200, 50)) as alice, bob_app.run_test(size=(80, 24)) as bob:
        # alice declares; bob's screen shows it within a second
        await submit(alice, alice_app, "i", text="Checkout errors")
        declared = time.monotonic()
        incident = await until(bob, lambda: bob_app.actions.current_incident(), "declared")
        await until(bob, lambda: "Checkout errors" in screen_text(bob_app), "on bob's screen")
        assert time.monotonic() - declared < 1.0
        await until(alice, lambda: incident.id in header(alice_app))

        # notes both ways, each named by its author on the other's timeline
        await submit(bob, bob_app, "n", text="primary db at 100% CPU")
        started = time.monotonic()
        await until(
            alice,
            lambda: any("bob: primary db at 100%" in r for r in row_texts(alice_app, "incident")),
        )
        assert time.monotonic() - started < 1.0
        await submit(alice, alice_app, "n", text="failing over")
        await until(
            bob, lambda: any("alice: failing over" in r for r in row_texts(bob_app, "incident"))
        )
        assert any(r.endswith("primary db at 100% CPU") for r in row_texts(bob_app, "incident"))

        # who else has it open
        await until(alice, lambda: "also here: bob" in screen_text(alice_app), "presence")
        await until(bob, lambda: "also here: alice" in screen_text(bob_app), "presence")

        # a version conflict: both open the status dialog; bob sets it first
        await alice.press("2", "s")
        await modal(alice, alice_app, FormScreen)
        await submit(bob, bob_app, "2", "s")  # the offered next status: identified
        await until(
            alice, lambda: alice_app.actions.store.current_incident().status.value == "identified"
        )
        await alice.press("down", "down", "enter")  # alice picks monitoring, from what she saw
        await alice.press("ctrl+s")
        message = await until(
            alice,
            lambda: next((n for n in notifications(alice_app) if "changed status" in n), None),
        )
        assert f"bob changed status of {incident.id} to identified" in message
        assert "not applied" in message
        current = bob_app.actions.store.current_incident()
        assert current is not None and current.status is IncidentStatus.IDENTIFIED


async def test_the_store_down_says_so_keeps_the_note_and_replays_it_once(
    pg_db: str, sql: SQL, cockpit_factory: CockpitFactory, tmp_path: Path
) -> None:
    with Proxy() as proxy:
        app = shared(cockpit_factory, proxy.dsn(pg_db), tmp_path, "alice")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.actions.store_health() == "", "the store up")
            proxy.down()
            await until(pilot, lambda: "store DOWN" in header(app), "store DOWN in the header")
            started = time.monotonic()
            await submit(pilot, app, "n", text="written while the db is away")
            assert time.monotonic() - started < 3  # the screen never waited on the database
            await until(
                pilot, lambda: any("written while" in r for r in row_texts(app, "incident"))
            )
            await until(pilot, lambda: "store DOWN (1 write journalled)" in header(app))
            proxy.up()
            await until(pilot, lambda: "store" not in header(app), "the header clear again")
            assert sql("SELECT summary FROM events") == [("written while the db is away",)]
