"""A secret planted in the environment never reaches the screen, the log or the audit log,
even when the backend that uses it fails (401) and the error is shown."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from cockpit.config import parse_config
from cockpit.runtime import build_runtime
from cockpit.secrets import SecretResolver, install_log_filter
from cockpit.ui.app import CockpitApp
from tests.screen import screen_text

PLANTED = "pl4nted-S3cret-value"


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_planted_secret_never_reaches_screen_log_or_audit(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("COCKPIT_SECRET_RABBIT_PROD", PLANTED)
    config = parse_config(
        {
            "identity": {"name": "alice"},
            "store": {"path": str(tmp_path / "store.sqlite3")},
            # the real broker refuses this password: the panel must say so without it
            "rabbitmq": {
                "management_url": "http://127.0.0.1:15672",
                "username": "guest",
                "password_secret": "rabbit-prod",
                "poll_interval": "0.5s",
            },
        }
    )
    resolver = SecretResolver(prompt=False)
    assert resolver.resolve("rabbit-prod").value == PLANTED
    runtime = build_runtime(config, secrets=resolver)
    install_log_filter()
    caplog.set_level(logging.DEBUG)
    app = CockpitApp(runtime)
    async with app.run_test(size=size) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            shown = screen_text(app)
            # the header first, then the panel's reason (its lines grow on the next layout)
            if "queues DOWN" in shown and ("guest" in shown or "401" in shown):
                break
        shown = screen_text(app)
        assert "queues DOWN" in shown
        assert "guest" in shown or "authentication" in shown.lower() or "401" in shown
        assert PLANTED not in shown
        # acting writes the audit log: still no secret in it
        await pilot.press("n")
        await pilot.pause()
        await pilot.press(*"checked rabbit")
        await pilot.press("ctrl+s")
        await asyncio.sleep(0.2)
        assert PLANTED not in screen_text(app)
    audit = (tmp_path / "data" / "cockpit" / "audit.jsonl").read_text()
    actions = [json.loads(line)["action"] for line in audit.splitlines()]
    assert [a for a in actions if a != "session"][-1] == "note"  # session: start / end lines
    assert PLANTED not in audit
    assert PLANTED not in caplog.text
    assert PLANTED not in (tmp_path / "store.sqlite3").read_bytes().decode("latin-1")
