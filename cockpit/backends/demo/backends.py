"""The protocol implementations on top of DemoWorld: what `cockpit --demo` plugs into the UI.

Each backend raises Unreachable while its source is failed (world.fail(name, message)),
so the UI's stale-data handling can be exercised without a real outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from cockpit.backends.base import NotFound
from cockpit.backends.demo.world import DemoWorld
from cockpit.domain import (
    ActionResult,
    AlertGroup,
    CustomerUpdate,
    Escalation,
    Incident,
    PodDetail,
    PodEvent,
    PodEventType,
    PodHealth,
    QueueDepth,
    QueueMessage,
    RestartMode,
    RestartPlan,
    Silence,
    SourceHealth,
)


class _DemoSource:
    name = ""

    def __init__(self, world: DemoWorld) -> None:
        self.world = world

    def _check(self) -> None:
        self.world.check(self.name)

    async def health(self) -> SourceHealth:
        # a failed source reports why instead of raising: health is what doctor prints
        failure = self.world.failure(self.name)
        if failure is not None:
            return SourceHealth(self.name, False, failure)
        return SourceHealth(self.name, True, "simulated")

    async def close(self) -> None:
        return None


class DemoAlertSource(_DemoSource):
    name = "alerts"

    async def groups(self) -> list[AlertGroup]:
        self._check()
        return self.world.alert_groups()

    async def ack(
        self, group: AlertGroup, *, duration: timedelta, author: str, comment: str
    ) -> Silence:
        self._check()
        return self.world.ack(group, duration=duration, author=author, comment=comment)

    async def unack(self, silence_id: str) -> None:
        self._check()
        self.world.unack(silence_id)


class DemoCluster(_DemoSource):
    name = "pods"

    def __init__(self, world: DemoWorld, *, poll: float = 1.0) -> None:
        super().__init__(world)
        self.poll = poll  # real seconds between diffs (and between follow_logs checks)

    async def watch(self) -> AsyncIterator[PodEvent]:
        self._check()
        pods = self.world.pods()
        yield PodEvent(PodEventType.SYNC, tuple(pods))
        known = {p.key: p for p in pods}
        while True:
            await asyncio.sleep(self.poll)
            self._check()
            current = {p.key: p for p in self.world.pods()}
            for key, pod in current.items():
                old = known.get(key)
                if old is None:
                    yield PodEvent(PodEventType.ADDED, (pod,))
                elif old is not pod and old != pod:
                    if old.uid != pod.uid:  # a StatefulSet pod came back under its old name
                        yield PodEvent(PodEventType.DELETED, (old,))
                        yield PodEvent(PodEventType.ADDED, (pod,))
                    else:
                        yield PodEvent(PodEventType.MODIFIED, (pod,))
            for key, old in known.items():
                if key not in current:
                    yield PodEvent(PodEventType.DELETED, (old,))
            known = current

    async def pods(self) -> list[PodHealth]:
        self._check()
        return self.world.pods()

    async def detail(self, pod: PodHealth) -> PodDetail:
        self._check()
        return self.world.detail(pod)

    async def plan_restart(self, pod: PodHealth) -> RestartPlan:
        self._check()
        return self.world.plan_restart(pod)

    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        self._check()
        return self.world.restart(pod, mode)

    async def logs(
        self, pod: PodHealth, container: str, *, previous: bool = False, tail: int = 200
    ) -> list[str]:
        self._check()
        return self.world.logs(pod, container, previous=previous, tail=tail)

    def follow_logs(self, pod: PodHealth, container: str) -> AsyncIterator[str]:
        # "after the current tail" means after now, when follow_logs is called, not when
        # the caller first iterates
        return self._follow(pod, container, int(self.world.elapsed()))

    async def _follow(self, pod: PodHealth, container: str, last: int) -> AsyncIterator[str]:
        self._check()
        self.world.find(pod)
        while True:
            await asyncio.sleep(self.poll)
            self._check()
            now = int(self.world.elapsed())
            if now <= last:
                continue
            upto = min(now, last + 600)  # a big clock jump does not flood the screen
            try:
                lines = self.world.log_lines(pod, container, last, upto)
            except NotFound:  # the pod is gone: kubectl logs -f ends too
                return
            last = upto
            for line in lines:
                yield line


class DemoBroker(_DemoSource):
    name = "queues"

    async def queues(self) -> list[QueueDepth]:
        self._check()
        return self.world.queue_depths()

    async def peek(self, queue: QueueDepth, count: int = 10) -> list[QueueMessage]:
        self._check()
        return self.world.peek(queue, count)

    async def quarantine(
        self, queue: QueueDepth, message: QueueMessage, *, actor: str
    ) -> ActionResult:
        self._check()
        return self.world.quarantine(queue, message, actor=actor)


class DemoStatusPage(_DemoSource):
    name = "statuspage"

    async def post_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> ActionResult:
        self._check()
        return self.world.post_update(incident, update, remote_id=remote_id)


class DemoPager(_DemoSource):
    name = "pager"

    async def escalate(self, escalation: Escalation) -> ActionResult:
        self._check()
        return self.world.escalate(escalation)


@dataclass(frozen=True, slots=True)
class DemoBackends:
    world: DemoWorld
    alerts: DemoAlertSource
    cluster: DemoCluster
    broker: DemoBroker
    statuspage: DemoStatusPage
    pager: DemoPager

    async def close(self) -> None:
        for backend in (self.alerts, self.cluster, self.broker, self.statuspage, self.pager):
            await backend.close()
