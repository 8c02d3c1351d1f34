"""The protocols the UI talks to, one per outside system, and the errors they raise.

A real backend and the simulated world implement the same protocol, so the demo,
the tests and production run the same UI code. Every method is async; a backend
built on a blocking client runs it off the event loop (asyncio.to_thread).

Backends raise BackendError (or a subclass) with a one-line message that is safe
to show on screen: no secrets, no tracebacks, no raw response bodies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Protocol, runtime_checkable

from cockpit.domain import (
    ActionResult,
    AlertGroup,
    CustomerUpdate,
    Escalation,
    Incident,
    PodDetail,
    PodEvent,
    PodHealth,
    QueueDepth,
    QueueMessage,
    RestartMode,
    RestartPlan,
    Silence,
    SourceHealth,
    Ticket,
    TicketComment,
    TicketDraft,
    TicketState,
)


class BackendError(Exception):
    """A failure talking to an outside system; str() is a clear one-line message."""

    retryable: bool = True


class Unreachable(BackendError):
    """Connection refused, DNS failure, timeout: try again later."""


class AuthError(BackendError):
    """401: the credentials were refused."""

    retryable = False


class Forbidden(BackendError):
    """403: says which verb on which resource was refused."""

    retryable = False


class NotFound(BackendError):
    retryable = False


class BadResponse(BackendError):
    """A 5xx, or a body that is not what the API documents (malformed JSON)."""


class RateLimited(BackendError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@runtime_checkable
class AlertSource(Protocol):
    name: str

    async def groups(self) -> list[AlertGroup]:
        """Alert groups as Alertmanager groups them, each with its active ack silence."""
        ...

    async def ack(
        self, group: AlertGroup, *, duration: timedelta, author: str, comment: str
    ) -> Silence:
        """Create (or extend) an ack silence matching the group; returns it with its id."""
        ...

    async def unack(self, silence_id: str) -> None:
        """Expire the ack silence."""
        ...

    async def health(self) -> SourceHealth: ...

    async def close(self) -> None: ...


@runtime_checkable
class Cluster(Protocol):
    name: str

    def watch(self) -> AsyncIterator[PodEvent]:
        """Pods as a stream: a SYNC event with the full list first (and after every relist),
        then ADDED / MODIFIED / DELETED for single pods. Raises BackendError when the
        cluster cannot be reached; the caller reconnects with backoff."""
        ...

    async def pods(self) -> list[PodHealth]:
        """One full list (used by doctor and the first paint)."""
        ...

    async def detail(self, pod: PodHealth) -> PodDetail: ...

    async def plan_restart(self, pod: PodHealth) -> RestartPlan:
        """What a restart of this pod can mean (delete the pod, rollout restart the owner)."""
        ...

    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult: ...

    async def logs(
        self, pod: PodHealth, container: str, *, previous: bool = False, tail: int = 200
    ) -> list[str]: ...

    def follow_logs(self, pod: PodHealth, container: str) -> AsyncIterator[str]:
        """New log lines as they are written (kubectl logs -f), after the current tail."""
        ...

    async def health(self) -> SourceHealth: ...

    async def close(self) -> None: ...


@runtime_checkable
class Switchable(Protocol):
    """A cluster that can be pointed elsewhere at run time (kubeconfig contexts): an
    optional capability, checked with isinstance(cluster, Switchable)."""

    def contexts(self) -> list[str]:
        """The contexts the engineer may pick (blocking: reads the kubeconfig)."""
        ...

    async def switch(self, context: str | None, namespaces: tuple[str, ...] | None = None) -> None:
        """Watch that context's namespaces (None: all) from now on; a running watch ends."""
        ...


@runtime_checkable
class Broker(Protocol):
    name: str

    async def queues(self) -> list[QueueDepth]: ...

    async def peek(self, queue: QueueDepth, count: int = 10) -> list[QueueMessage]:
        """The first messages of the queue, requeued (they come back marked redelivered)."""
        ...

    async def quarantine(
        self, queue: QueueDepth, message: QueueMessage, *, actor: str
    ) -> ActionResult:
        """Copy the message durably, then remove it; every other message stays, in order."""
        ...

    async def health(self) -> SourceHealth: ...

    async def close(self) -> None: ...


@runtime_checkable
class StatusPage(Protocol):
    name: str

    async def post_update(
        self, incident: Incident, update: CustomerUpdate, *, remote_id: str | None
    ) -> ActionResult:
        """Open the public incident (remote_id None) or update it; ids["remote_id"] names it."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class Pager(Protocol):
    name: str

    async def escalate(self, escalation: Escalation) -> ActionResult:
        """Page the team; pressing it again for the same incident and team pages once."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class TicketTracker(Protocol):
    """Where bug tickets for the developers go (Jira)."""

    name: str

    async def create(self, draft: TicketDraft) -> Ticket:
        """File the ticket; its labels include draft.label."""
        ...

    async def find(self, draft: TicketDraft) -> Ticket | None:
        """The ticket already filed for this draft (searched by its label), else None."""
        ...

    async def read(self, key: str) -> TicketState:
        """Status, assignee and every comment."""
        ...

    async def comment(self, key: str, text: str) -> TicketComment: ...

    async def close(self) -> None: ...
