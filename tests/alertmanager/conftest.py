"""Fixtures: a real Alertmanager per test (starts in ~0.1 s), a webhook, and the source."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.backends.alertmanager import AlertmanagerSource
from cockpit.clock import SystemClock
from cockpit.config import AlertmanagerCluster, AlertmanagerConfig
from tests.alertmanager.server import AlertmanagerServer, WebhookReceiver, alertmanager_available

if not alertmanager_available():  # pragma: no cover - tests/run.sh installs it
    pytest.skip("prometheus-alertmanager is not installed", allow_module_level=True)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hook:
        yield hook


@pytest.fixture
def make_am(tmp_path: Path, webhook: WebhookReceiver) -> Iterator[Callable[[], AlertmanagerServer]]:
    """Factory for extra, independent Alertmanagers (all stopped at teardown)."""
    servers: list[AlertmanagerServer] = []

    def make() -> AlertmanagerServer:
        server = AlertmanagerServer(tmp_path / f"am{len(servers)}", webhook_url=webhook.url)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def am(make_am: Callable[[], AlertmanagerServer]) -> AlertmanagerServer:
    return make_am()


def config_for(*clusters: tuple[str, tuple[str, ...]], timeout: float = 2.0) -> AlertmanagerConfig:
    return AlertmanagerConfig(
        clusters=tuple(AlertmanagerCluster(name, urls) for name, urls in clusters),
        timeout=timedelta(seconds=timeout),
    )


@pytest.fixture
async def source(am: AlertmanagerServer) -> AsyncIterator[AlertmanagerSource]:
    src = AlertmanagerSource(config_for(("", (am.url,))), clock=SystemClock())
    yield src
    await src.close()
