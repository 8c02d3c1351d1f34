"""A new critical alert rings the bell and asks the terminal for a desktop notification,
through the terminal's writer (in order with the frames, never inside one)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from cockpit.config import UIConfig
from cockpit.domain import Alert, AlertGroup, frozen_map
from cockpit.incident.store import SQLiteStore
from cockpit.ui.feeds import Feeds, desktop_notification


def critical(name: str, fingerprint: str) -> AlertGroup:
    alert = Alert(
        fingerprint=fingerprint,
        labels=frozen_map({"alertname": name, "severity": "critical"}),
        severity="critical",
        starts_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC),
    )
    return AlertGroup(key=f"g-{name}", labels=frozen_map({"alertname": name}), alerts=(alert,))


class Host(SimpleNamespace):
    def __init__(self, **ui: Any) -> None:
        super().__init__(
            runtime=SimpleNamespace(store=SQLiteStore()),
            config=SimpleNamespace(ui=UIConfig(**ui)),
            rang=0,
            written=[],
        )

    def bell(self) -> None:
        self.rang += 1

    def write_terminal(self, text: str) -> None:
        self.written.append(text)


def test_a_new_critical_alert_rings_and_notifies_through_the_writer() -> None:
    host = Host()
    feeds = Feeds(host)  # type: ignore[arg-type]
    feeds._bell_on_new_critical([critical("CheckoutDown", "a")])  # the first poll: known
    assert host.rang == 0 and host.written == []
    feeds._bell_on_new_critical([critical("CheckoutDown", "a"), critical("PaymentsDown", "b")])
    assert host.rang == 1
    assert host.written == [desktop_notification("cockpit: critical alert PaymentsDown")]
    feeds._bell_on_new_critical([critical("CheckoutDown", "a"), critical("PaymentsDown", "b")])
    assert host.rang == 1 and len(host.written) == 1  # once per alert group


def test_no_notification_when_switched_off() -> None:
    host = Host(desktop_notify=False)
    feeds = Feeds(host)  # type: ignore[arg-type]
    feeds._bell_on_new_critical([])
    feeds._bell_on_new_critical([critical("CheckoutDown", "a")])
    assert host.rang == 1 and host.written == []


def test_the_notification_text_is_data() -> None:
    sequence = desktop_notification("cockpit: critical alert \x07\x1b[2J]8;;evil\x1b\\")
    body = sequence.removeprefix("\x1b]9;").split("\x07", 1)[0]
    assert "\x1b" not in body and "\x07" not in body
    assert sequence.count("\x07") == 2  # the two sequences' own terminators only
