"""Pods with kubectl's words: unhealthy first, unhealthy counts per namespace in the title."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.binding import Binding

from cockpit.domain import PodHealth
from cockpit.live import short_duration
from cockpit.ui.keyed_table import Column
from cockpit.ui.panels.base import Panel, Row
from cockpit.ui.text import plain

CRASHING = ("CrashLoopBackOff", "OOMKilled", "Error", "ImagePullBackOff", "ErrImagePull")


def restarts_text(pod: PodHealth, now_ts: float) -> str:
    if not pod.restarts:
        return "0"
    if pod.last_restart is None:
        return str(pod.restarts)
    ago = short_duration_seconds(now_ts - pod.last_restart.timestamp())
    return f"{pod.restarts} ({ago} ago)"


def short_duration_seconds(seconds: float) -> str:
    from datetime import timedelta

    return short_duration(timedelta(seconds=max(seconds, 0)))


def pod_rank(pod: PodHealth) -> tuple[int, int, str]:
    crashing = any(word in pod.status for word in CRASHING)
    return (0 if crashing else 1 if not pod.healthy else 2, -pod.restarts, pod.key)


class PodsPanel(Panel):
    panel_name = "pods"
    number = 3
    empty_text = "no pods"
    columns = (
        Column("name", "NAME", 14, flex=True),
        Column("ready", "READY", 5, drop=2),
        Column("status", "STATUS", 16),
        Column("restarts", "RESTARTS", 12, drop=1),
        Column("age", "AGE", 5, drop=3),
    )
    BINDINGS = [
        Binding("r", "restart", "Restart"),
        Binding("l", "logs", "Logs"),
        Binding("enter", "detail", "Detail"),
    ]

    def build_rows(self) -> list[Row]:
        now = self.cockpit.clock.now()
        now_ts = now.timestamp()
        palette = self.cockpit.palette
        pods = sorted(self.cockpit.live.pods.values(), key=pod_rank)
        self.items = {p.key: p for p in pods}
        rows: list[Row] = []
        for pod in pods:
            rank = pod_rank(pod)[0]
            style = palette.crit if rank == 0 else palette.warn if rank == 1 else palette.plain
            age = pod.age(now)
            rows.append(
                (
                    pod.key,
                    (
                        plain(f"{pod.namespace}/{pod.name}"),
                        pod.ready,
                        Text(pod.status, style=style, end=""),
                        restarts_text(pod, now_ts),
                        short_duration(age) if age is not None else "-",
                    ),
                    f"{pod.key} {pod.status} {pod.node} {pod.owner_name}",
                )
            )
        return rows

    def title_counts(self) -> str:
        pods = self.cockpit.live.pods.values()
        total: Counter[str] = Counter()
        bad: Counter[str] = Counter()
        for pod in pods:
            total[pod.namespace] += 1
            if not pod.healthy:
                bad[pod.namespace] += 1
        if not bad:
            return f"{sum(total.values())} healthy" if total else ""
        parts = [f"{ns} {n}/{total[ns]} unhealthy" for ns, n in bad.most_common(3)]
        if len(bad) > 3:
            parts.append(f"+{len(bad) - 3} ns")
        return ", ".join(parts)

    def selected_pod(self) -> PodHealth | None:
        item = self.selected()
        return item if isinstance(item, PodHealth) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restart" and not self.cockpit.actions.allowed("restart"):
            return False
        if action in {"restart", "logs", "detail"}:
            return self.selected_pod() is not None
        return True

    def on_data_table_row_highlighted(self) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self) -> None:
        self.action_detail()

    def action_restart(self) -> None:
        pod = self.selected_pod()
        if pod:
            self.cockpit.restart_flow(pod)

    def action_logs(self) -> None:
        pod = self.selected_pod()
        if pod:
            self.cockpit.show_logs(pod)

    def action_detail(self) -> None:
        pod = self.selected_pod()
        if pod:
            self.cockpit.show_pod_detail(pod)
