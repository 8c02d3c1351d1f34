"""Pods with kubectl's words: unhealthy first, unhealthy counts per namespace in the title.

Readable at every width: a pod name is cut in the middle, keeping the suffix that tells
a workload's pods apart (`payments-api-…-ct8wt`); with one namespace shown it moves to
the title; STATUS and RESTARTS are as wide as their longest text, never cut."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from operator import attrgetter

from rich.text import Text
from textual.binding import Binding

from cockpit.domain import PodHealth
from cockpit.pivot import plural
from cockpit.ui.ages import kubectl_age, kubectl_change, restarts_text
from cockpit.ui.flows import pods
from cockpit.ui.keyed_table import Cell, Column, MiddleText, suffix_keep
from cockpit.ui.keys import panel_bindings
from cockpit.ui.palette import Palette
from cockpit.ui.panels.base import Panel, Row
from cockpit.ui.text import clean, plain

CRASHING = ("CrashLoopBackOff", "OOMKilled", "Error", "ImagePullBackOff", "ErrImagePull")


def pod_rank(pod: PodHealth) -> tuple[int, int, str]:
    crashing = any(word in pod.status for word in CRASHING)
    return (0 if crashing else 1 if not pod.healthy else 2, -pod.restarts, pod.key)


AGE_STEP = timedelta(seconds=15)
_RANK = attrgetter("rank")
# Under churn (pods crashing and recovering every second) the order settles: a pod's cells
# change at once, but the rows are re-sorted (and the title recounted) at most this often.
# A calm cluster re-sorts on the first change, so one pod that starts crashing moves to
# the top at once; the next change within ORDER_SETTLE waits for the end of it. Rows that
# jump several times a second cannot be read, and every jump repaints every row below it
# (~20 KB/s at 200x50 under the scale world's churn).
ORDER_SETTLE = timedelta(seconds=5)


class _PodEntry:
    """A pod's row, its rank and search text, computed once per pod object."""

    __slots__ = (
        "_times",
        "cells",
        "key",
        "name",
        "pod",
        "rank",
        "search",
        "status",
        "valid_until",
        "widths",
    )

    def __init__(
        self,
        key: str,
        pod: PodHealth,
        palette: Palette,
        one_namespace: bool,
        statuses: dict[tuple[str, int], Text] | None = None,
    ) -> None:
        self.key = key
        self.pod = pod
        self.rank = pod_rank(pod)
        rank = self.rank[0]
        self.search = f"{pod.key} {pod.status} {pod.node} {pod.owner_name}".lower()
        name = clean(pod.name)
        shown = name if one_namespace else f"{clean(pod.namespace)}/{name}"
        self.name = MiddleText(shown, keep=suffix_keep(name))
        # one cell per (status, rank), shared: 5,000 pods have a handful of statuses
        statuses = {} if statuses is None else statuses
        status = statuses.get((pod.status, rank))
        if status is None:
            style = (palette.crit_badge, palette.warn, palette.plain)[min(rank, 2)]
            status = plain(pod.status, style=style, limit=60)  # a reason is outside text
            if len(statuses) < 1_000:  # a bound: free-text reasons could be many
                statuses[(pod.status, rank)] = status
        self.status = status
        self.cells: tuple[Cell, ...] = ()
        self.valid_until = -math.inf  # the age texts are computed on first use
        self._times: tuple[str, str] = ("", "")
        self.widths = (len(self.name.plain), len(self.status.plain), 0, 0)

    def set_times(self, now: datetime) -> bool:
        """AGE and RESTARTS as kubectl prints them (65s, 61m, '3 (5m ago)')."""
        pod = self.pod
        # `now` moves on in AGE_STEPs: a pod that restarted (or was made) since is "0s ago",
        # not kubectl's "<invalid>" of a clock in the future
        now = max([now] + [t for t in (pod.last_restart, pod.created_at) if t is not None])
        now_ts = now.timestamp()
        until = math.inf
        created = pod.created_at.timestamp() if pod.created_at is not None else None
        age = "-" if created is None else kubectl_age(timedelta(seconds=max(now_ts - created, 0)))
        if created is not None:
            until = kubectl_change(created, now_ts)
        restarts = restarts_text(pod, now)
        if pod.restarts and pod.last_restart is not None:
            until = min(until, kubectl_change(pod.last_restart.timestamp(), now_ts))
        self.valid_until = until
        if (restarts, age) != self._times or not self.cells:
            self._times = (restarts, age)
            self.cells = (self.name, pod.ready, self.status, restarts, age)
            self.widths = (*self.widths[:2], len(restarts), len(age))
            return True
        return False


class PodsPanel(Panel):
    panel_name = "pods"
    number = 3
    empty_text = "no pods"
    columns = (
        Column("name", "NAME", 12, flex=True, keep=28),
        Column("ready", "READY", 5, drop=2),
        Column("status", "STATUS", 6, fit=True),
        Column("restarts", "RESTARTS", 8, drop=1, fit=True),
        Column("age", "AGE", 3, drop=3, fit=True),
    )
    BINDINGS = [*panel_bindings("pods"), Binding("enter", "detail", "Detail")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        # one entry per pod, rebuilt only when the pod object (frozen) or its age text
        # changes: at thousands of pods the rows must cost nothing when nothing changed
        self._entries: dict[str, _PodEntry] = {}
        self._statuses: dict[tuple[str, int], Text] = {}  # (status, rank) -> its cell
        self._sorted: list[_PodEntry] = []
        self._rows: list[Row] = []
        self._palette: object = None
        self._age_now: datetime | None = None
        self._counts = ""
        self._namespace = ""  # the one namespace shown, else ""
        self._sorted_at: datetime | None = None  # when the rows were last sorted
        self._resort = False  # a change came while the order was settling
        self._sorted_once = False
        self._index: dict[str, int] = {}  # pod key -> its position in _sorted
        self._widths: dict[str, int] = {}  # what every row's content needs, at the last sort
        self._ages_due = -math.inf  # the first time (timestamp) an age text changes
        # the rows the last build changed in place (same pods, same order), else None
        self._in_place: dict[str, Sequence[Cell]] | None = None

    def build_rows(self) -> list[Row]:
        now = self.cockpit.clock.now()
        # ages move on in steps of AGE_STEP: a watch event does not redraw every age
        if self._age_now is None or not timedelta(0) <= now - self._age_now < AGE_STEP:
            self._age_now = now
        age_now = self._age_now
        now_ts = age_now.timestamp()
        palette = self.cockpit.palette
        if palette is not self._palette:  # theme changed: every style is new
            self._palette, self._entries, self._statuses = palette, {}, {}
        entries = self._entries
        pods = self.cockpit.live.pods
        namespaces = {pod.namespace for pod in pods.values()}
        namespace = next(iter(namespaces)) if len(namespaces) == 1 else ""
        if namespace != self._namespace:  # the rows name the namespace, or the title does
            self._namespace, entries = namespace, {}
            self._entries = entries
        one = bool(namespace)
        fresh: list[str] = []  # the pods whose object is new since the last build
        for key, pod in pods.items():
            entry = entries.get(key)
            if entry is None or entry.pod is not pod:
                entries[key] = _PodEntry(key, pod, palette, one, self._statuses)
                fresh.append(key)
        index = self._index
        same_pods = len(entries) == len(pods) == len(index) and all(k in index for k in fresh)
        if len(entries) != len(pods):
            for key in [k for k in entries if k not in pods]:
                del entries[key]
        settling = self._sorted_at is not None and timedelta(0) <= now - self._sorted_at < (
            ORDER_SETTLE
        )
        changed = bool(fresh) or not same_pods
        moved: list[int] = []  # the positions whose row changed, when the order is kept
        self._in_place = None
        if changed and settling and same_pods:
            # the same pods, some in a new state: new cells in place, the order waits.
            # Only the new pods are touched: 5,000 rows cost nothing when 20 changed.
            self._sorted = list(self._sorted)  # a new list: narrowing() asks again
            for key in fresh:
                at = index[key]
                self._sorted[at] = entries[key]
                self.items[key] = entries[key].pod
                moved.append(at)
            self._resort = True
        elif changed or (self._resort and not settling):
            self._sorted = sorted(entries.values(), key=_RANK)
            self._index = {e.key: i for i, e in enumerate(self._sorted)}
            self.items = {e.key: e.pod for e in self._sorted}
            self._counts = self._title_counts()
            # the first list starts no settling: the first change after it sorts at once
            self._sorted_at = now if self._sorted_once else None
            self._sorted_once, self._resort = True, False
            self._rows = []  # every row again, below
        sorted_ = self._sorted
        if now_ts >= self._ages_due:
            # an age text changes only when its kubectl unit ticks: the 5,000 are walked
            # only when the first of them is due; new pod objects (no ages yet) at once
            due = math.inf
            for at, entry in enumerate(sorted_):
                if now_ts >= entry.valid_until and entry.set_times(age_now):
                    moved.append(at)
                due = min(due, entry.valid_until)
            self._ages_due = due
        elif fresh:
            due = self._ages_due
            for key in fresh:
                entry = entries[key]
                if entry.set_times(age_now):
                    moved.append(self._index[key])
                due = min(due, entry.valid_until)
            self._ages_due = due
        if len(self._rows) != len(sorted_):
            self._rows = [(e.key, e.cells, e.search) for e in sorted_]
            self.table.set_content_widths(self._content_widths(sorted_))
        elif moved:
            rows = list(self._rows)  # a new list: the panel diffs it (same list: no change)
            in_place: dict[str, Sequence[Cell]] = {}
            for at in moved:
                entry = sorted_[at]
                rows[at] = (entry.key, entry.cells, entry.search)
                in_place[entry.key] = entry.cells
            self._rows = rows
            self._in_place = in_place
            # widths only grow here; the next full sort may narrow them
            widths = self._content_widths([sorted_[at] for at in moved])
            self._widths = {k: max(n, self._widths.get(k, 0)) for k, n in widths.items()}
            self.table.set_content_widths(self._widths)
        return self._rows

    def changed_in_place(self) -> dict[str, Sequence[Cell]] | None:
        return self._in_place

    def _content_widths(self, entries: list[_PodEntry]) -> dict[str, int]:
        columns = list(zip(*(e.widths for e in entries), strict=True)) or [(0,)] * 4
        name, status, restarts, age = (max(c) for c in columns)
        widths = {"name": name, "status": status, "restarts": restarts, "age": age}
        if len(entries) == len(self._sorted):
            self._widths = widths
        return widths

    def rows_due(self, now: datetime) -> bool:
        # build_rows moves the ages on only when AGE_STEP has passed: same test; a held
        # order is applied once it has settled
        if (
            self._resort
            and self._sorted_at is not None
            and not timedelta(0) <= now - self._sorted_at < ORDER_SETTLE
        ):
            return True
        return self._age_now is None or not timedelta(0) <= now - self._age_now < AGE_STEP

    def copy_text(self) -> str:
        item = self.selected()
        return item.name if isinstance(item, PodHealth) else ""

    def title_counts(self) -> str:
        return self._counts

    def is_bad(self, key: str) -> bool:
        pod = self.items.get(key)
        return isinstance(pod, PodHealth) and not pod.healthy

    def narrowing(self, rows: list[Row]) -> tuple[str, frozenset[str]] | None:
        following = self.cockpit.following
        if following is None or not following.narrows_pods:
            return None
        live = self.cockpit.live
        # asked again only when the pods changed (a rollout replaces them): _sorted is new
        followed = following.pods(live.groups, live.pods.values(), self._sorted)
        return f"following {following.name}: {plural(len(followed.pods), 'pod')}", (
            followed.pod_keys
        )

    def _title_counts(self) -> str:
        pods = self.cockpit.live.pods.values()
        total: Counter[str] = Counter()
        bad: Counter[str] = Counter()
        for pod in pods:
            total[pod.namespace] += 1
            if not pod.healthy:
                bad[pod.namespace] += 1
        if len(total) == 1:  # the rows leave the namespace out: the title names it
            (ns,) = total
            n = bad[ns]
            return f"{clean(ns)} · " + (
                f"{n}/{total[ns]} unhealthy" if n else f"{total[ns]} healthy"
            )
        if not bad:
            return f"{sum(total.values())} healthy" if total else ""
        parts = [f"{clean(ns)} {n}/{total[ns]} unhealthy" for ns, n in bad.most_common(3)]
        if len(bad) > 3:
            parts.append(f"+{len(bad) - 3} ns")
        return ", ".join(parts)

    def selected_pod(self) -> PodHealth | None:
        item = self.selected()
        return item if isinstance(item, PodHealth) else None

    def available(self, action: str) -> bool:
        if action in {"restart", "logs", "detail"}:
            return self.selected_pod() is not None
        return True

    def on_data_table_row_selected(self) -> None:
        self.action_detail()

    def action_restart(self) -> None:
        pod = self.selected_pod()
        if pod:
            self.cockpit.start(pods.restart, pod)

    def action_logs(self) -> None:
        pod = self.selected_pod()
        if pod:
            self.cockpit.start(pods.logs, pod)

    def action_detail(self) -> None:
        pod = self.selected_pod()
        if pod:
            self.cockpit.start(pods.detail, pod)
