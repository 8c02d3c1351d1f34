"""The demo world with hostile items added: an alert, a pod, a queue and queue messages whose
every outside text (names, labels, annotations, reasons, ids, headers, payloads) carries
escape sequences, bidi overrides, zero-width characters and Rich markup.

Used by the Pilot tests and by the pty test, which runs it as the real cockpit:
    python -m tests.hostile_world           (cockpit --demo, plus the hostile items)
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.domain import (
    ActionResult,
    Alert,
    AlertGroup,
    AlertState,
    PodDetail,
    PodEvent,
    PodEventType,
    PodHealth,
    QueueDepth,
    QueueMessage,
    RestartMode,
    RestartPlan,
    Silence,
    frozen_map,
)
from cockpit.runtime import Runtime, build_demo_runtime
from tests.hostile import hostile

EVIL = hostile()
ALERT_NAME = "HostileAlert X[/] " + EVIL  # "X[/]" first: a markup parser fails on it
POD_NAME = "hostile-pod[/]" + EVIL


def deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"h": value}
    return value


def hostile_group() -> AlertGroup:
    alert = Alert(
        fingerprint="hostile",
        labels=frozen_map(
            {
                "alertname": ALERT_NAME,
                "severity": "critical",
                "team": "db" + EVIL,
                "namespace": "shop" + EVIL,
                "[/]" + EVIL: "label name" + EVIL,
            }
        ),
        annotations=frozen_map(
            {
                "summary": "summary [/]" + EVIL,
                "description": "description" + EVIL * 3,
                "runbook_url": "http://x/" + EVIL,
            }
        ),
        severity="critical",
        state=AlertState.ACTIVE,
        starts_at=datetime.now(UTC) - timedelta(minutes=5),
        generator_url="http://prometheus/graph?g0.expr=" + EVIL,
    )
    return AlertGroup(
        key="hostile-group", labels=frozen_map({"alertname": ALERT_NAME}), alerts=(alert,)
    )


def hostile_pod() -> PodHealth:
    return PodHealth(
        namespace="shop",
        name=POD_NAME,
        ready="0/1",
        status="\x1b]2;PWNED\x1b\\" + EVIL,  # the waiting reason, as kubectl would print it
        restarts=3,
        last_restart=datetime.now(UTC) - timedelta(minutes=1),
        created_at=datetime.now(UTC) - timedelta(hours=1),
        node="node" + EVIL,
        owner_kind="ReplicaSet",
        owner_name="hostile" + EVIL,
        healthy=False,
        containers=("app" + EVIL,),
        uid="hostile-uid",
    )


def hostile_queue() -> QueueDepth:
    return QueueDepth(
        vhost="/", name="zz-hostile[/]" + EVIL, ready=99_999_999, unacked=0, consumers=0
    )


def hostile_messages() -> list[QueueMessage]:
    return [
        QueueMessage(
            position=0,
            payload=("payload " + EVIL).encode(),
            message_id="[/]",  # the peek used to end the app with a MarkupError
            correlation_id=EVIL,
            content_type="text/[/]",
            headers={"x-deep": deep(1500), "x-evil" + EVIL: EVIL},
            routing_key="rk" + EVIL,
            exchange="ex" + EVIL,
        )
    ]


class HostileAlerts:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.acked: Silence | None = None

    async def groups(self) -> list[AlertGroup]:
        group = hostile_group()
        if self.acked is not None:
            group = AlertGroup(group.key, group.labels, group.alerts, ack=self.acked)
        return [group, *await self.inner.groups()]

    async def ack(self, group: AlertGroup, **kwargs: Any) -> Silence:
        if group.key != "hostile-group":
            return await self.inner.ack(group, **kwargs)
        now = datetime.now(UTC)
        self.acked = Silence(
            "hostile-silence" + EVIL,
            (("alertname", ALERT_NAME),),
            now,
            now + kwargs["duration"],
            kwargs["author"],
            kwargs["comment"],
        )
        return self.acked

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class HostileCluster:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    async def watch(self) -> AsyncIterator[PodEvent]:
        async for event in self.inner.watch():
            if event.type is PodEventType.SYNC:
                event = PodEvent(PodEventType.SYNC, (hostile_pod(), *event.pods))
            yield event

    async def pods(self) -> list[PodHealth]:
        return [hostile_pod(), *await self.inner.pods()]

    async def detail(self, pod: PodHealth) -> PodDetail:
        if pod.name != POD_NAME:
            return await self.inner.detail(pod)
        return PodDetail(pod, (), events=("1m ago Warning BackOff " + EVIL,), labels={"a": EVIL})

    async def plan_restart(self, pod: PodHealth) -> RestartPlan:
        if pod.name != POD_NAME:
            return await self.inner.plan_restart(pod)
        return RestartPlan(pod=pod, modes=(RestartMode.DELETE_POD,), refusal="")

    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        if pod.name != POD_NAME:
            return await self.inner.restart(pod, mode)
        return ActionResult.success(f"deleted pod {pod.name}")

    async def logs(self, pod: PodHealth, container: str, **kwargs: Any) -> list[str]:
        if pod.name != POD_NAME:
            return list(await self.inner.logs(pod, container, **kwargs))
        return ["log line " + EVIL] * 5

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class HostileBroker:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    async def queues(self) -> list[QueueDepth]:
        return [hostile_queue(), *await self.inner.queues()]

    async def peek(self, queue: QueueDepth, count: int = 10) -> list[QueueMessage]:
        if queue.name != hostile_queue().name:
            return list(await self.inner.peek(queue, count))
        return hostile_messages()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def make_hostile(runtime: Runtime) -> Runtime:
    runtime.alerts = HostileAlerts(runtime.alerts)
    runtime.cluster = HostileCluster(runtime.cluster)
    runtime.broker = HostileBroker(runtime.broker)
    return runtime


def hostile_runtime(**kwargs: Any) -> Runtime:
    return make_hostile(build_demo_runtime(**kwargs))


def main() -> int:
    """The real cockpit (its SSH-safe driver, logging, everything) on the hostile world."""
    import tempfile
    from pathlib import Path

    from cockpit.cli import _log_to_file
    from cockpit.ui.app import CockpitApp
    from cockpit.ui.driver import HangupAwareDriver

    runtime = hostile_runtime(directory=Path(tempfile.mkdtemp(prefix="cockpit-hostile-")))
    _log_to_file(runtime)
    app = CockpitApp(runtime, driver_class=HangupAwareDriver)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
