"""The real runtime is built from the config: each section picks its backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.config import parse_config
from cockpit.runtime import build_runtime


class FakeSecrets:
    def resolve(self, name: str) -> object:
        class Resolved:
            value = f"value-of-{name}"

        return Resolved()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


async def test_every_configured_section_selects_its_real_backend(tmp_path: Path) -> None:
    config = parse_config(
        {
            "identity": {"name": "alice"},
            "store": {"path": str(tmp_path / "store.sqlite3")},
            "alertmanager": {"url": "http://127.0.0.1:1"},
            "kubernetes": {"kubeconfig": str(tmp_path / "kubeconfig")},
            "rabbitmq": {"management_url": "http://127.0.0.1:1", "password_secret": "rmq"},
            "statuspage": {"kind": "statuspage", "page_id": "p1", "api_key_secret": "sp"},
            "pager": {"kind": "pagerduty", "teams": {"payments": "pd-payments"}},
        }
    )
    runtime = build_runtime(config, secrets=FakeSecrets())
    try:
        assert type(runtime.alerts).__name__ == "AlertmanagerSource"
        assert type(runtime.cluster).__name__ == "KubernetesCluster"
        assert type(runtime.broker).__name__ == "RabbitMQBroker"
        assert type(runtime.statuspage).__name__ == "StatuspageIO"
        assert type(runtime.pager).__name__ == "PagerDutyPager"
        assert runtime.outbox is not None and runtime.audit is not None
        # secret values are passed to the backends, never shown by them
        assert "value-of-rmq" not in repr(runtime.broker)
    finally:
        await runtime.close()


async def test_absent_sections_leave_panels_unconfigured_and_default_the_rest(
    tmp_path: Path,
) -> None:
    config = parse_config({"store": {"path": str(tmp_path / "s.sqlite3")}})
    runtime = build_runtime(config)
    try:
        assert runtime.alerts is None and runtime.cluster is None and runtime.broker is None
        assert runtime.pager is None
        # the default status page needs no account: a static page under the data dir
        assert type(runtime.statuspage).__name__ == "StaticStatusPage"
    finally:
        await runtime.close()


async def test_alertmanager_section_makes_alertmanager_the_default_pager(tmp_path: Path) -> None:
    config = parse_config(
        {
            "store": {"path": str(tmp_path / "s.sqlite3")},
            "alertmanager": {"url": "http://127.0.0.1:1"},
        }
    )
    runtime = build_runtime(config)
    try:
        assert type(runtime.pager).__name__ == "AlertmanagerPager"
    finally:
        await runtime.close()
