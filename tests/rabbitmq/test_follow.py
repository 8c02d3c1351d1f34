"""`f` from a real alert to real queues: alerts in a real Alertmanager naming `queue` (and
`vhost`), queues in the real RabbitMQ; the queues panel narrows to exactly those, takes the
focus, and escape widens it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit.secrets import SecretResolver
from cockpit.ui.app import CockpitApp
from tests.alertmanager.server import AlertmanagerServer, alertmanager_available
from tests.pilot import CockpitFactory, bound_idle_wait, until

from .conftest import MGMT

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not alertmanager_available(), reason="prometheus-alertmanager missing"),
]

QUEUES = ("orders", "orders.dlq", "invoices")


@pytest.fixture(autouse=True)
def _bounded_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    bound_idle_wait(monkeypatch)


@pytest.fixture
def am(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    server = AlertmanagerServer(tmp_path / "am", group_by=("alertname",)).start()
    yield server
    server.stop()


@pytest.fixture
def cockpit(
    amqp: Any, vhost: str, am: AlertmanagerServer, cockpit_factory: CockpitFactory
) -> CockpitApp:
    for name in QUEUES:
        amqp.queue_declare(name, durable=True)
    am.post_alerts(
        [
            {"labels": {"alertname": "OrdersBacklog", "queue": "orders", "vhost": vhost}},
            {"labels": {"alertname": "InvoicesStuck", "queue": "invoices"}},  # any vhost
            {"labels": {"alertname": "OtherVhost", "queue": "orders", "vhost": "elsewhere"}},
        ]
    )
    am.wait_for_alerts(3)
    secrets = SecretResolver(env={"COCKPIT_SECRET_RABBIT": "guest"}, prompt=False)
    return cockpit_factory(
        {
            "alertmanager": {"url": am.url, "poll_interval": "1s"},
            "rabbitmq": {
                "management_url": MGMT,
                "username": "guest",
                "password_secret": "rabbit",
                "vhost": vhost,
                "poll_interval": "0.5s",
            },
        },
        secrets=secrets,
    )


def queue_rows(app: CockpitApp) -> set[str]:
    return set(app.panel("queues").table.row_keys())


async def follow(pilot: Pilot[Any], app: CockpitApp, name: str) -> None:
    await pilot.press("1")
    table = app.panel("alerts").table
    key = next(g.key for g in app.live.groups if g.name == name)
    await until(pilot, lambda: table.select_key(key), f"{name} selected")
    await pilot.press("f")


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_queue_and_vhost_name_exactly_their_queue(
    cockpit: CockpitApp, vhost: str, size: tuple[int, int]
) -> None:
    every = {f"{vhost}/{name}" for name in QUEUES}
    async with cockpit.run_test(size=size) as pilot:
        await until(pilot, lambda: queue_rows(cockpit) == every, "the three queues")
        await until(pilot, lambda: len(cockpit.live.groups) == 3, "the three alert groups")

        await follow(pilot, cockpit, "OrdersBacklog")
        await until(pilot, lambda: queue_rows(cockpit) == {f"{vhost}/orders"}, "orders only")
        await until(pilot, lambda: cockpit.focused is cockpit.panel("queues").table, "focus")
        await pilot.press("escape")
        await until(pilot, lambda: queue_rows(cockpit) == every, "escape widens")

        await follow(pilot, cockpit, "InvoicesStuck")
        await until(pilot, lambda: queue_rows(cockpit) == {f"{vhost}/invoices"}, "invoices")
        await pilot.press("escape")
        await until(pilot, lambda: queue_rows(cockpit) == every, "escape widens again")

        # another vhost's `orders` is not ours: nothing to narrow to, one line says so
        await follow(pilot, cockpit, "OtherVhost")
        await until(
            pilot,
            lambda: any(
                "OtherVhost names queue=elsewhere/orders" in str(n.message)
                for n in cockpit._notifications
            ),
            "not on screen",
        )
        assert queue_rows(cockpit) == every
