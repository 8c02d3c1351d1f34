"""Queue depths with a sparkline of the last minutes: the deepest and stalled first."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from cockpit.domain import QueueDepth
from cockpit.pivot import plural
from cockpit.ui.flows import queues
from cockpit.ui.keyed_table import Column
from cockpit.ui.keys import panel_bindings
from cockpit.ui.panels.base import Panel, Row
from cockpit.ui.text import clean, plain

LEVEL_RANK = {"crit": 0, "warn": 1, "ok": 2}
# a queue keeps its place in the depth order until its depth moved by more than this share:
# depths wobble on every poll, and each swap of two rows is resent to the terminal
SORT_HYSTERESIS = 0.25
SORT_MIN_MOVE = 5  # messages: small queues wobble by a few on every poll


def compact(n: float) -> str:
    n = int(n)
    if abs(n) >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if abs(n) >= 10_000:
        return f"{n / 1000:.0f}k"
    return str(n)


class QueuesPanel(Panel):
    panel_name = "queues"
    number = 4
    empty_text = "no queues"
    columns = (
        Column("name", "QUEUE", 12, flex=True, keep=32),
        Column("ready", "READY", 6),
        Column("unacked", "UNACK", 5, drop=2),
        Column("consumers", "CONS", 4),
        Column("trend", "TREND", 8),
        Column("rate", "GROWTH", 7, drop=1),
    )
    BINDINGS = [*panel_bindings("queues"), Binding("enter", "messages", "Messages")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        # key -> (what the row was made of, the row): a queue whose figures did not move
        # keeps the very same cell objects, so the table diff is an identity check
        self._made: dict[str, tuple[tuple[object, ...], Row]] = {}
        self._palette: object = None
        self._sort_depth: dict[str, int] = {}  # key -> the depth its place was sorted by
        self._bad: set[str] = set()  # keys of queues at warn or crit, or stalled
        self._names: dict[str, tuple[str, Text]] = {}  # key -> (level, its name cell)

    def _sticky_depth(self, queue: QueueDepth) -> int:
        key, total = queue.key, queue.total
        depth = self._sort_depth.get(key)
        if depth is None or abs(total - depth) > max(SORT_HYSTERESIS * depth, SORT_MIN_MOVE):
            self._sort_depth[key] = depth = total
        return depth

    def build_rows(self) -> list[Row]:
        trends = self.cockpit.trends
        thresholds = self.cockpit.queue_thresholds
        palette = self.cockpit.palette
        if palette is not self._palette:
            self._palette, self._made, self._names = palette, {}, {}
        decorated = []
        for queue in self.cockpit.live.queues:
            level = trends.level(queue, thresholds)
            decorated.append(
                (
                    LEVEL_RANK.get(level, 2),
                    not queue.stalled,
                    -self._sticky_depth(queue),
                    queue.key,
                    queue,
                    level,
                )
            )
        decorated.sort(key=lambda d: d[:4])
        self.items = {d[3]: d[4] for d in decorated}
        self._bad = {d[3] for d in decorated if d[0] < 2 or d[4].stalled}
        made = self._made
        rows: list[Row] = []
        for *_, queue, level in decorated:
            key = queue.key
            spark = trends.sparkline(key, 8)
            growth = trends.growth_per_minute(key)
            growth_text = f"{'+' if growth > 0 else ''}{compact(growth)}/m" if growth else ""
            # what the row shows (rates are not shown: they move on every poll)
            inputs = (queue.ready, queue.unacked, queue.consumers, level, spark, growth_text)
            cached = made.get(key)
            if cached is not None and cached[0] == inputs:
                rows.append(cached[1])
                continue
            row = self._row(queue, level, spark, growth_text)
            made[key] = (inputs, row)
            rows.append(row)
        self.table.set_content_widths(
            {
                "name": max(
                    (len(row[1][0].plain) for row in rows if isinstance(row[1][0], Text)), default=0
                )
            }
        )
        if len(made) != len(rows):
            for key in [k for k in made if k not in self.items]:
                del made[key]
                self._names.pop(key, None)
        if len(self._sort_depth) != len(rows):
            for key in [k for k in self._sort_depth if k not in self.items]:
                del self._sort_depth[key]
        return rows

    @property
    def _single_vhost(self) -> bool:
        """[rabbitmq] vhost picks one vhost: naming it on every row only hides the names."""
        rabbitmq = self.cockpit.config.rabbitmq
        return bool(rabbitmq and rabbitmq.vhost)

    def _row(self, queue: QueueDepth, level: str, spark: str, growth_text: str) -> Row:
        palette = self.cockpit.palette
        ok = level == "ok"
        style = palette.plain if ok else palette.level(level)
        # under churn every row of a thousand is made again on each poll (its sparkline
        # moves on): plain strings where nothing is coloured (numbers and bars, never
        # markup), and the name, which is outside text, cleaned once per queue and level
        name = self._names.get(queue.key)
        if name is None or name[0] != level:
            # the vhost only tells rows apart when several are shown
            one_vhost = queue.vhost in {"/", ""} or self._single_vhost
            shown = queue.name if one_vhost else f"{queue.vhost}/{queue.name}"
            name = self._names[queue.key] = (level, plain(shown, style="" if ok else str(style)))
        ready = compact(queue.ready)
        consumers = str(queue.consumers)
        return (
            queue.key,
            (
                name[1],
                ready if ok else Text(ready, style=style, end=""),
                compact(queue.unacked),
                Text(consumers, style=palette.crit, end="") if queue.stalled else consumers,
                spark if ok else Text(spark, style=style, end=""),
                growth_text,
            ),
            f"{queue.key} {'stalled' if queue.stalled else ''}",
        )

    def is_bad(self, key: str) -> bool:
        return key in self._bad

    def narrowing(self, rows: list[Row]) -> tuple[str, frozenset[str]] | None:
        following = self.cockpit.following
        if following is None or not following.narrows_queues:
            return None
        live = self.cockpit.live
        followed = following.queues(live.groups, live.queues)
        return f"following {following.name}: {plural(len(followed.queues), 'queue')}", (
            followed.queue_keys
        )

    def copy_text(self) -> str:
        item = self.selected()
        return item.name if isinstance(item, QueueDepth) else ""

    def title_counts(self) -> str:
        queues = self.cockpit.live.queues
        stalled = sum(1 for q in queues if q.stalled)
        deepest = max(queues, key=lambda q: q.total, default=None)
        parts = []
        if stalled:
            parts.append(f"{stalled} without consumers")
        if deepest is not None and deepest.total:
            parts.append(f"deepest {clean(deepest.name, 40)} {compact(deepest.total)}")
        return ", ".join(parts)

    def selected_queue(self) -> QueueDepth | None:
        item = self.selected()
        return item if isinstance(item, QueueDepth) else None

    def available(self, action: str) -> bool:
        if action == "messages":
            return self.selected_queue() is not None
        return True

    def on_data_table_row_selected(self) -> None:
        self.action_messages()

    def action_messages(self) -> None:
        queue = self.selected_queue()
        if queue:
            self.cockpit.start(queues.messages, queue)
