"""The feeds: what keeps LiveState current while the engineer looks at the screen.

A poll loop per polled source (alerts, queues) arms the next poll only after the last
one finished and backs off while the source fails; the pod watch lists and watches,
reconnecting with backoff; the outbox sender delivers customer updates and pages. Each
writes LiveState and asks the host to re-sync the panel that shows it. A new critical
alert rings the bell (and, when configured, a desktop notification).

The pod watch keeps its own worker handle: a context switch cancels exactly the watch it
replaces (a worker group shared with the poll loops cannot tell them apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from textual.worker import Worker

from cockpit.backends.base import BackendError, RateLimited
from cockpit.domain import ActionResult, AlertGroup
from cockpit.incident.alert_history import AlertRecorder
from cockpit.incident.tickets import TicketFollower
from cockpit.ui.text import clean

if TYPE_CHECKING:
    from cockpit.actions import Actions
    from cockpit.clock import Clock
    from cockpit.config import Config
    from cockpit.incident.outbox import OutboxSender
    from cockpit.live import LiveState
    from cockpit.queue_trends import QueueTrends
    from cockpit.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
# a failing source is retried within one refresh interval (so it recovers within one),
# spread by a random 20% so that reconnecting cockpits do not hit a recovering server
# together; the pod watch (no interval) backs off from 1 s to WATCH_BACKOFF_MAX
JITTER = 0.2
WATCH_BACKOFF_MAX = 10.0


def jittered(seconds: float) -> float:
    return seconds * random.uniform(1.0 - JITTER, 1.0)


POD_WATCH = "pod watch"  # the pod watch's worker name
# a connected watch can look healthy while its API server trickles or stalls (bytes keep the
# socket alive, no event ever completes): the server is asked for /version this often, with
# a deadline, and a failure reports pods STALE and reconnects the watch
WATCH_PROBE_SECONDS = 10.0


class FeedHost(Protocol):
    """What the feeds need of the App."""

    runtime: Runtime
    config: Config
    clock: Clock
    live: LiveState
    actions: Actions
    trends: QueueTrends

    def run_worker(
        self,
        work: Callable[[], Coroutine[Any, Any, None]],
        name: str | None = "",
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        start: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[None]: ...

    def render_status(self) -> None: ...

    def mark_dirty(self, *names: str) -> None: ...

    def bell(self) -> None: ...

    def write_terminal(self, text: str) -> None: ...

    def notify(self, message: str, *, severity: Any = "information") -> None: ...


class Feeds:
    def __init__(self, host: FeedHost) -> None:
        self.host = host
        self.outbox_status = ""
        self.outbox_sender: OutboxSender | None = None
        self.watch_connected = False
        self.pod_watch: Worker[None] | None = None
        self._poll_now: dict[str, asyncio.Event] = {}
        self._stop_outbox = asyncio.Event()
        self._seen_critical: set[str] | None = None
        self.alert_recorder = AlertRecorder(host.runtime.store)
        self._reminded: set[tuple[str, datetime]] = set()  # (incident, promised time)

    def start(self) -> None:
        """Every configured feed, once the screen is up."""
        runtime = self.host.runtime
        if runtime.alerts is not None:
            self.poll("alerts", self._load_alerts, runtime.alerts_interval)
        if runtime.broker is not None:
            self.poll("queues", self._load_queues, runtime.queues_interval)
        if runtime.cluster is not None:
            self.watch_pods()
            self.host.run_worker(
                self._probe_watch, name="pod watch probe", group="feeds", exit_on_error=False
            )
        if runtime.outbox is not None:
            self.host.run_worker(
                self._send_outbox, name="outbox", group="feeds", exit_on_error=False
            )
        if runtime.tracker is not None and self.host.actions.tickets is not None:
            self.follow_tickets()

    def tick(self) -> None:
        """Once a second: a connected watch is fresh; the outbox line moves on; a customer
        update that is due rings once."""
        now = self.host.clock.now()
        self._remind_customer_updates(now)
        fresh = self.host.live.freshness.get("pods")
        if fresh is not None and self.watch_connected:
            fresh.mark_ok(now)
        if self.outbox_sender is not None:
            with contextlib.suppress(Exception):
                self.outbox_status = self.outbox_sender.describe(now)

    def _remind_customer_updates(self, now: datetime) -> None:
        """Customers were promised an update by now and none was posted: bell and toast,
        once per promise (a new update makes a new promise)."""
        try:
            incidents = self.host.actions.active_incidents()
        except Exception:  # a store gone at shutdown
            return
        for incident in incidents:
            due = incident.next_update_due
            if due is None or now < due or (incident.id, due) in self._reminded:
                continue
            self._reminded.add((incident.id, due))
            if self.host.config.ui.bell:
                self.host.bell()
            self.host.notify(
                f"{incident.id}: customer update due since {due:%H:%M} UTC "
                f"(promised on the status page): u posts it",
                severity="warning",
            )

    # ----------------------------------------------------------------- polls

    def poll(self, name: str, load: Callable[[], Awaitable[None]], interval: timedelta) -> None:
        self.host.run_worker(
            partial(self._poll_loop, name, load, interval),
            name=f"{name} feed",
            group="feeds",
            exit_on_error=False,
        )

    async def _poll_loop(
        self, name: str, load: Callable[[], Awaitable[None]], interval: timedelta
    ) -> None:
        """Poll one source; the next poll is armed only after the last one finished."""
        host = self.host
        backoff = interval.total_seconds()
        event = self._poll_now.setdefault(name, asyncio.Event())
        fresh = host.live.freshness[name]
        while True:
            try:
                await load()
                fresh.mark_ok(host.clock.now())
                wait = interval.total_seconds()
                backoff = wait
            except BackendError as exc:
                fresh.mark_error(str(exc))
                wait = jittered(interval.total_seconds())
            except Exception as exc:  # never let a bug kill the feed or reach the screen
                log.exception("%s feed failed", name)
                fresh.mark_error(f"internal error: {type(exc).__name__}")
                backoff = min(max(backoff, 1.0) * 2, MAX_BACKOFF)
                wait = jittered(backoff)
            host.render_status()
            host.mark_dirty(name)
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=wait)

    def poll_now(self, name: str) -> None:
        event = self._poll_now.get(name)
        if event is not None:
            event.set()

    async def _load_alerts(self) -> None:
        host = self.host
        assert host.runtime.alerts is not None
        groups = await host.runtime.alerts.groups()
        host.live.groups = groups
        # the alert history Alertmanager does not keep (post-mortem and shift report);
        # a store that cannot write must not make the alerts look stale
        try:
            await asyncio.to_thread(self.alert_recorder.observe, groups, host.clock.now())
        except Exception:
            log.exception("recording the alert history failed")
        self._bell_on_new_critical(groups)

    async def _load_queues(self) -> None:
        host = self.host
        assert host.runtime.broker is not None
        queues = await host.runtime.broker.queues()
        host.live.queues = queues
        host.trends.observe(queues, host.clock.now())

    # ----------------------------------------------------------------- pod watch

    def watch_pods(self) -> Worker[None]:
        """Start the pod watch, ending the one it replaces (after a context switch)."""
        if self.pod_watch is not None:
            self.pod_watch.cancel()
        self.watch_connected = False
        self.pod_watch = self.host.run_worker(
            self._watch_loop, name=POD_WATCH, group="feeds", exit_on_error=False
        )
        return self.pod_watch

    def rewatch_pods(self) -> None:
        """Forget the pods shown (they belong to the old context) and watch again."""
        self.host.live.pods.clear()
        self.watch_pods()

    async def _watch_loop(self) -> None:
        """List + watch; reconnect with backoff; the panel keeps its rows meanwhile."""
        host = self.host
        cluster = host.runtime.cluster
        assert cluster is not None
        fresh = host.live.freshness["pods"]
        backoff = 1.0
        while True:
            try:
                async for event in cluster.watch():
                    host.live.apply_pod_event(event)
                    connected = self.watch_connected
                    self.watch_connected = True
                    fresh.mark_ok(host.clock.now())
                    backoff = 1.0
                    host.mark_dirty("pods")
                    if not connected:
                        host.render_status()  # "pods ok" now, not at the next tick
                raise BackendError("watch ended")
            except BackendError as exc:
                fresh.mark_error(str(exc))
            except Exception as exc:
                log.exception("pod watch failed")
                fresh.mark_error(f"internal error: {type(exc).__name__}")
            self.watch_connected = False
            host.render_status()
            await asyncio.sleep(jittered(backoff))
            backoff = min(backoff * 2, WATCH_BACKOFF_MAX)

    async def _probe_watch(self) -> None:
        """While the watch is connected, ask its API server for /version within a deadline:
        a watch whose server trickles or stalls is reported and reconnected (the relist then
        fails within its own deadline until the server answers again)."""
        host = self.host
        fresh = host.live.freshness["pods"]
        while True:
            await asyncio.sleep(jittered(WATCH_PROBE_SECONDS))
            cluster = host.runtime.cluster
            if cluster is None or not self.watch_connected:
                continue
            kube = host.runtime.config.kubernetes
            deadline = kube.timeout.total_seconds() * 2 if kube is not None else 20.0
            try:
                health = await asyncio.wait_for(cluster.health(), deadline)
                ok, detail = health.ok, health.detail
            except TimeoutError:
                ok, detail = False, f"the API server did not answer /version within {deadline:g}s"
            except Exception as exc:  # a probe must never end the feeds
                ok, detail = False, f"internal error: {type(exc).__name__}"
            if ok or not self.watch_connected:
                continue
            fresh.mark_error(f"{detail}; reconnecting the watch")
            self.watch_pods()  # ends the stalled stream; watch_connected is False until relisted
            host.render_status()

    # ----------------------------------------------------------------- outbox

    async def _send_outbox(self) -> None:
        """Send what the outbox holds: retried with backoff, never twice (incident/outbox.py)."""
        from cockpit.incident.outbox import OutboxSender

        runtime = self.host.runtime
        self.outbox_sender = OutboxSender(
            runtime.outbox,
            statuspage=runtime.statuspage,
            pager=runtime.pager,
            clock=self.host.clock,
            on_result=self._on_outbox_result,
            tracker=runtime.tracker,
            # the outcome's timeline event is committed with the outcome (one transaction)
            timeline=self.host.actions.outbox_event,
        )
        await self.outbox_sender.run(self._stop_outbox)

    def _on_outbox_result(self, item: Any, result: ActionResult) -> None:
        assert self.outbox_sender is not None
        self.outbox_status = self.outbox_sender.describe(self.host.clock.now())
        if item.state not in {"sent", "failed_permanent"}:
            return  # a retry: the header says when; the timeline gets the final outcome
        target = str(item.payload.get("team") or item.incident_id)
        self.host.actions.outbox_result(
            item.kind, item.incident_id, target, result, event=getattr(item, "event", None)
        )
        if item.kind == "ticket" and result.ok:
            self.poll_now("tickets")  # its status on the panel now, not in `poll` minutes
        self.host.notify(clean(result.message), severity="information" if result.ok else "error")

    def wake_outbox(self) -> None:
        if self.outbox_sender is not None:
            self.outbox_sender.wake()

    # ----------------------------------------------------------------- tickets

    def follow_tickets(self) -> None:
        """Every [jira] poll: re-read the open tickets of open incidents (no webhooks on a
        jump host); what changed is on the timeline once, and said in a notification."""
        from cockpit.live import Freshness

        host = self.host
        assert host.runtime.tracker is not None and host.actions.tickets is not None
        host.live.freshness.setdefault("tickets", Freshness("tickets"))

        def in_flight(key: str) -> list[str]:
            return self.outbox_sender.pending_comments(key) if self.outbox_sender else []

        follower = TicketFollower(
            host.runtime.tracker, host.actions.tickets, host.clock, pending_comments=in_flight
        )

        self.host.run_worker(
            partial(self._follow_loop, follower, host.runtime.tickets_interval),
            name="tickets feed",
            group="feeds",
            exit_on_error=False,
        )

    async def _follow_loop(self, follower: TicketFollower, interval: timedelta) -> None:
        """Like a poll loop, but a 429's Retry-After is waited out, and a failing Jira is
        re-read at the poll interval (the panel says why each ticket was not re-read)."""
        host = self.host
        fresh = host.live.freshness["tickets"]
        event = self._poll_now.setdefault("tickets", asyncio.Event())
        while True:
            wait = interval.total_seconds()
            try:
                events = await follower.poll()
                fresh.mark_ok(host.clock.now())
                for news in events[-3:]:  # after a long outage: the latest three
                    host.notify(clean(news.summary, 200))
            except RateLimited as exc:
                fresh.mark_error(str(exc))
                wait = max(wait, exc.retry_after)
            except BackendError as exc:
                fresh.mark_error(str(exc))
            except Exception as exc:  # never let a bug kill the feed or reach the screen
                log.exception("tickets feed failed")
                fresh.mark_error(f"internal error: {type(exc).__name__}")
            host.mark_dirty("incident")  # the ticket's status line, even without news
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=wait)

    # ----------------------------------------------------------------- bell

    def _bell_on_new_critical(self, groups: Iterable[AlertGroup]) -> None:
        critical = {g.key for g in groups if g.severity_rank == 0 and g.firing and not g.acked}
        ui = self.host.config.ui
        if self._seen_critical is not None:
            new = critical - self._seen_critical
            if new and ui.bell:
                self.host.bell()
                if ui.desktop_notify:
                    names = ", ".join(sorted({g.name for g in groups if g.key in new}))
                    # through the terminal's writer: never in the middle of a frame
                    self.host.write_terminal(
                        desktop_notification(f"cockpit: critical alert {names}")
                    )
        self._seen_critical = (
            critical if self._seen_critical is None else self._seen_critical | critical
        )


def desktop_notification(message: str) -> str:
    """OSC 9 (iTerm2, kitty, WezTerm) and OSC 777 (rxvt, foot): ignored where unsupported."""
    safe = clean(message, 120).replace("\x07", "")
    return f"\x1b]9;{safe}\x07\x1b]777;notify;cockpit;{safe}\x07"
