"""A fake Cockpit for testing flows without a screen: dialogs answer from a script.

The real action layer (cockpit.actions.Actions, an in-memory store) runs behind it, so a
flow's effect is what a user relies on: the backend call made, the timeline event written.
The backends are recording fakes that follow the protocols of cockpit.backends.base.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from textual.screen import Screen

from cockpit.actions import Actions
from cockpit.clock import FrozenClock
from cockpit.config import demo_config
from cockpit.domain import (
    ActionResult,
    AlertGroup,
    PodDetail,
    PodEvent,
    PodHealth,
    RestartMode,
    RestartPlan,
    Silence,
    SourceHealth,
)
from cockpit.incident.store import SQLiteStore
from cockpit.live import LiveState
from cockpit.queue_trends import QueueTrends
from cockpit.runtime import Runtime
from cockpit.ui.context import Flow
from cockpit.ui.palette import Palette


class RecordingAlerts:
    """An AlertSource that records every ack and unack."""

    name = "alertmanager"

    def __init__(self, clock: FrozenClock | None = None) -> None:
        self.clock = clock or FrozenClock()
        self.acks: list[dict[str, Any]] = []
        self.unacks: list[str] = []

    async def groups(self) -> list[AlertGroup]:
        return []

    async def ack(
        self, group: AlertGroup, *, duration: timedelta, author: str, comment: str
    ) -> Silence:
        self.acks.append(
            {"group": group.key, "duration": duration, "author": author, "comment": comment}
        )
        now = self.clock.now()
        matchers = tuple(sorted(group.common_labels.items()))
        return Silence(f"silence-{len(self.acks)}", matchers, now, now + duration, author, comment)

    async def unack(self, silence_id: str) -> None:
        self.unacks.append(silence_id)

    async def health(self) -> SourceHealth:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class RecordingCluster:
    """A Cluster whose restart plan is given and whose restarts are recorded."""

    name = "kubernetes"

    def __init__(self, plan: RestartPlan | None = None) -> None:
        self.plan = plan
        self.restarts: list[tuple[str, RestartMode]] = []

    def watch(self) -> AsyncIterator[PodEvent]:
        raise NotImplementedError

    async def pods(self) -> list[PodHealth]:
        return []

    async def detail(self, pod: PodHealth) -> PodDetail:
        return PodDetail(pod, ())

    async def plan_restart(self, pod: PodHealth) -> RestartPlan:
        return self.plan or RestartPlan(pod, (RestartMode.DELETE_POD,))

    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        self.restarts.append((pod.key, mode))
        return ActionResult.success(f"restarted {pod.key} ({mode.value})")

    async def logs(
        self, pod: PodHealth, container: str, *, previous: bool = False, tail: int = 200
    ) -> list[str]:
        return []

    def follow_logs(self, pod: PodHealth, container: str) -> AsyncIterator[str]:
        raise NotImplementedError

    async def health(self) -> SourceHealth:
        raise NotImplementedError

    async def close(self) -> None:
        pass


@dataclass
class FakeCockpit:
    """Cockpit (cockpit/ui/context.py) for one flow: `answers` are what the dialogs return,
    in order; every dialog shown, notification, report and started flow is recorded."""

    runtime: Runtime
    actions: Actions
    answers: list[Any] = field(default_factory=list)
    dialogs: list[Screen[Any]] = field(default_factory=list)
    screens: list[Screen[Any]] = field(default_factory=list)
    notifications: list[tuple[str, str]] = field(default_factory=list)
    reports: list[ActionResult] = field(default_factory=list)
    polled: list[str] = field(default_factory=list)
    started: list[tuple[Any, tuple[Any, ...]]] = field(default_factory=list)
    live: LiveState = field(default_factory=LiveState)
    palette: Palette = field(default_factory=Palette)
    outbox_status: str = ""
    rewatched: int = 0
    following: Any = None  # cockpit.pivot.Following: the alert the panels are narrowed to
    focused: list[str] = field(default_factory=list)
    acted: list[str] = field(default_factory=list)

    @property
    def config(self) -> Any:
        return self.runtime.config

    @property
    def clock(self) -> Any:
        return self.runtime.clock

    @property
    def trends(self) -> QueueTrends:
        return QueueTrends(clock=self.runtime.clock)

    @property
    def queue_thresholds(self) -> tuple[Any, ...]:
        return ()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notifications.append((severity, message))

    def push_screen(self, screen: Screen[Any]) -> object:
        self.screens.append(screen)
        return None

    async def push_screen_wait(self, screen: Screen[Any]) -> Any:
        self.dialogs.append(screen)
        assert self.answers, f"no scripted answer left for {type(screen).__name__}"
        return self.answers.pop(0)

    def start(self, flow: Flow[Any], *args: Any, **kwargs: Any) -> None:
        self.started.append((flow, args))

    def acted_on(self, panel: str) -> None:
        self.acted.append(panel)

    def report(self, result: ActionResult) -> None:
        self.reports.append(result)

    def poll_now(self, source: str) -> None:
        self.polled.append(source)

    def wake_outbox(self) -> None:
        pass

    def rewatch_pods(self) -> None:
        self.rewatched += 1

    def refresh_all(self) -> None:
        pass

    def set_following(self, following: Any) -> None:
        self.following = following

    def focus_panel(self, name: str) -> None:
        self.focused.append(name)


def fake_cockpit(
    *answers: Any, alerts: Any = None, cluster: Any = None, read_only: bool = False
) -> FakeCockpit:
    """A FakeCockpit on the demo config, an in-memory store and the given backends."""
    clock = FrozenClock()
    config = demo_config()
    store = SQLiteStore(":memory:")
    runtime = Runtime(
        config=config, clock=clock, store=store, alerts=alerts, cluster=cluster,
        read_only=read_only,
    )  # fmt: skip
    live = LiveState()
    actions = Actions(
        store=store,
        identity=config.identity,
        clock=clock,
        live=live,
        alerts=alerts,
        cluster=cluster,
        read_only=read_only,
    )
    cockpit = FakeCockpit(runtime=runtime, actions=actions, answers=list(answers), live=live)
    return cockpit
