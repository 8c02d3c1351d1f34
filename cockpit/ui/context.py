"""The one seam between the App and everything it hosts: panels, flows, screens' callbacks.

`Cockpit` lists what a panel or a flow may use; the App satisfies it (mypy checks that
in app.py, `_is_a_cockpit`) and a test can hand a flow a fake one whose dialogs answer
from a script. Nothing under cockpit/ui but app.py imports cockpit.ui.app.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.screen import Screen

    from cockpit.actions import Actions
    from cockpit.clock import Clock
    from cockpit.config import Config, QueueThreshold
    from cockpit.domain import ActionResult
    from cockpit.live import LiveState
    from cockpit.pivot import Following
    from cockpit.queue_trends import QueueTrends
    from cockpit.runtime import Runtime
    from cockpit.ui.palette import Palette

P = ParamSpec("P")
T = TypeVar("T")

# a user flow: async def verb(cockpit, subject...) -> None, in cockpit/ui/flows/<feature>.py
Flow = Callable[Concatenate["Cockpit", P], Coroutine[Any, Any, None]]


class Cockpit(Protocol):
    """What panels and flows may use of the running cockpit."""

    @property
    def runtime(self) -> Runtime:
        """The backends (None where not configured), intervals, the demo world."""
        ...

    @property
    def config(self) -> Config: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def live(self) -> LiveState:
        """What the feeds last saw: alert groups, pods, queues, each source's freshness."""
        ...

    @property
    def actions(self) -> Actions:
        """The one action layer: read-only gate, audit log, timeline."""
        ...

    @property
    def palette(self) -> Palette: ...

    @property
    def trends(self) -> QueueTrends: ...

    @property
    def queue_thresholds(self) -> tuple[QueueThreshold, ...]: ...

    @property
    def outbox_status(self) -> str:
        """What the outbox still has to send, '' when nothing."""
        ...

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def push_screen(self, screen: Screen[Any]) -> object:
        """Show a screen; its answer, if any, comes back through the screen's own callback."""
        ...

    async def push_screen_wait(self, screen: Screen[T]) -> T:
        """Show a dialog and wait for its answer (only inside a flow)."""
        ...

    def start(self, flow: Flow[P], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run a flow; one that is still running (its dialog open) is not started again."""
        ...

    def acted_on(self, panel: str) -> None:
        """After an action on a panel's selected row (ack, restart): the cursor stays at
        its position, on the row that takes the acted-on row's place."""
        ...

    def report(self, result: ActionResult) -> None:
        """An action's result in one notification line."""
        ...

    def poll_now(self, source: str) -> None:
        """Poll a source now instead of at its next interval (after a change to it)."""
        ...

    def wake_outbox(self) -> None:
        """Send what was just queued now."""
        ...

    def rewatch_pods(self) -> None:
        """Drop the pods shown and restart the pod watch (after a context switch)."""
        ...

    def refresh_all(self) -> None:
        """Re-render every panel (after a change that many of them show)."""
        ...

    @property
    def following(self) -> Following | None:
        """The alert group the pods and queues panels are narrowed to (`f`), if any."""
        ...

    def set_following(self, following: Following | None) -> None:
        """Narrow the pods and queues panels to what an alert names, or (None) widen them."""
        ...

    def focus_panel(self, name: str) -> None:
        """Move the focus to a panel's table (alerts, incident, pods, queues)."""
        ...
