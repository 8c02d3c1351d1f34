"""The 3 a.m. path: the five tasks of a night in about twenty keys, from a fresh start on
the demo world after its incident has played out (t+70s), driven as an engineer drives it:
a key, then a look at the dialog it opened, then the answer. Every outcome is read back
from the audit log, the record of what the cockpit did outside itself."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit.audit import read_audit
from cockpit.domain import RestartMode
from cockpit.runtime import Runtime
from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.forms import FormScreen
from cockpit.ui.screens.views import MessagesScreen
from tests.pilot import until
from tests.ui.conftest import SIZES, home, ready, screen_text

# the keys of each task, as the README's Keys section shows them; "text:" is typed text
PATH: list[tuple[str, list[str]]] = [
    ("declare from the worst alert", ["1", "i", "ctrl+s"]),
    ("ack the critical alert", ["a", "y"]),
    ("rollout-restart payments-api", ["3", "r", "y"]),
    ("quarantine the poison message", ["4", "/", "text:invoices", "enter", "m", "d", "y"]),
    ("post the first customer update", ["u", "ctrl+s", "y"]),
    ("page the incident's team", ["e", "y"]),
]
OPENS_A_DIALOG = {"i", "a", "r", "d", "u", "e", "ctrl+s", "m"}


def audit(runtime: Runtime) -> list[dict[str, Any]]:
    assert runtime.audit is not None
    return list(read_audit(runtime.audit.path))


def done(runtime: Runtime, action: str) -> list[dict[str, Any]]:
    return [e for e in audit(runtime) if e["action"] == action and e["outcome"] in {"ok", "queued"}]


async def drive(pilot: Pilot[Any], app: CockpitApp, keys: list[str]) -> int:
    """Press the keys like an engineer: after a key that opens a dialog, wait until it is
    on screen (armed) before the next. Returns the count of keys (typed text not counted)."""
    count = 0
    for key in keys:
        if key.startswith("text:"):
            await pilot.press(*key[5:])
            continue
        before = app.screen
        await pilot.press(key)
        count += 1
        if key in OPENS_A_DIALOG:
            await until(
                pilot,
                lambda before=before: (
                    app.screen is not before and getattr(app.screen, "armed", True)
                ),
                f"the screen {key} opens",
            )
    return count


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_the_night_in_twenty_keys(
    app: CockpitApp, runtime: Runtime, size: tuple[int, int]
) -> None:
    world = runtime.demo.world
    async with app.run_test(size=size) as pilot:
        await ready(pilot, app)
        counts: dict[str, int] = {}

        task, keys = PATH[0]  # 1 i ctrl+s: the incident, from CheckoutLatencyHigh
        counts[task] = await drive(pilot, app, keys)
        await home(pilot, app)
        await until(pilot, lambda: done(runtime, "declare"), "the incident declared")
        incident = runtime.store.current_incident()
        assert incident is not None and "checkout" in incident.title.lower()
        assert incident.team == "payments"

        task, keys = PATH[1]  # a y: the cursor is on the worst alert, critical
        assert "CheckoutLatencyHigh" in str(app.panel("alerts").table.selected_key)
        counts[task] = await drive(pilot, app, keys)
        await home(pilot, app)
        (ack,) = await until(pilot, lambda: done(runtime, "ack"), "the ack")
        assert "CheckoutLatencyHigh" in ack["target"]

        task, keys = PATH[2]  # 3 r y: the worst pod is a crashing payments-api one
        before = world.workloads[("payments", "payments-api")].rollouts
        counts[task] = await drive(pilot, app, keys[:2])
        dialog = app.screen
        assert isinstance(dialog, FormScreen)
        assert dialog.values()["mode"] == RestartMode.ROLLOUT.value  # preselected
        assert "(x) " in screen_text(app) and "( ) " in screen_text(app)
        counts[task] += await drive(pilot, app, keys[2:])
        await home(pilot, app)
        (restart,) = await until(pilot, lambda: done(runtime, "restart"), "the restart")
        assert "payments-api" in restart["target"]
        assert world.workloads[("payments", "payments-api")].rollouts == before + 1

        task, keys = PATH[3]  # 4 / invoices enter m d y
        counts[task] = await drive(pilot, app, keys[:5])
        assert isinstance(app.screen, MessagesScreen)
        assert app.screen.queue.name == "invoices"
        counts[task] += await drive(pilot, app, keys[5:])
        (quarantine,) = await until(pilot, lambda: done(runtime, "quarantine"), "quarantine")
        assert "invoices" in quarantine["target"]
        await pilot.press("escape")  # back from the messages (not a task key)
        await home(pilot, app)

        task, keys = PATH[4]  # u ctrl+s y
        counts[task] = await drive(pilot, app, keys)
        await home(pilot, app)
        await until(pilot, lambda: done(runtime, "customer_update"), "the customer update")

        task, keys = PATH[5]  # e y: the incident's team, whatever row the alerts show
        counts[task] = await drive(pilot, app, keys)
        await home(pilot, app)
        (page,) = await until(pilot, lambda: done(runtime, "escalate"), "the page")
        assert "payments" in page["target"]

        total = sum(counts.values())
        assert counts == {
            task: len([k for k in keys if not k.startswith("text:")]) for task, keys in PATH
        }
        assert total <= 20, counts
        # nothing else reached the outside: one of each
        acted = [e["action"] for e in audit(runtime) if e["outcome"] in {"ok", "queued"}]
        for action in ("declare", "ack", "restart", "quarantine", "customer_update", "escalate"):
            assert acted.count(action) == 1, acted
