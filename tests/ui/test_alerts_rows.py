"""The alerts panel's rows at scale: cells shared between rows (SEV badges, teams, empty
ACKs) and entries kept per group object must show exactly what the group says, and follow
a group whose labels change, that gets acked, or that resolves. No app: the panel's
build_rows is driven with a clock, a palette and the live groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType, SimpleNamespace
from typing import Any

from cockpit.domain import Alert, AlertGroup, AlertState, Silence
from cockpit.ui.palette import Palette
from cockpit.ui.panels.alerts import (
    INFORMATIONAL,
    SEVERITY_LABEL,
    AlertsPanel,
    _GroupEntry,
    _Shared,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def alert(fp: str, severity: str = "warning", team: str = "db", **kw: Any) -> Alert:
    labels = {"alertname": "DiskFull", "severity": severity, "team": team, **kw.pop("labels", {})}
    return Alert(
        fp,
        MappingProxyType(labels),
        severity=severity,
        starts_at=kw.pop("starts_at", NOW - timedelta(minutes=7)),
        **kw,
    )


def group(*alerts: Alert, key: str = "g", ack: Silence | None = None, **labels: str) -> AlertGroup:
    return AlertGroup(key, MappingProxyType({"alertname": "DiskFull", **labels}), alerts, ack=ack)


def ack(minutes: float) -> Silence:
    return Silence(
        "s1", (("alertname", "DiskFull"),), NOW, NOW + timedelta(minutes=minutes), "a", "ACK! x"
    )


def reference(g: AlertGroup) -> tuple[Any, ...]:
    """What the rows showed before the shared cells: straight from the group's properties."""
    started = g.started_at.timestamp() if g.started_at else None
    sort = (g.severity in INFORMATIONAL, g.acked, g.severity_rank, -len(g.firing), started or 0.0)
    sev = SEVERITY_LABEL.get(g.severity, g.severity[:4].upper() or "-")
    search = f"{g.name} {g.team} {g.severity} " + " ".join(f"{k}={v}" for k, v in g.labels.items())
    return sort, sev, g.team, search


def test_an_entry_says_what_the_group_properties_say() -> None:
    shared = _Shared(Palette())
    cases = [
        group(alert("a", "warning"), alert("b", "critical", state=AlertState.SUPPRESSED)),
        group(alert("a", "info"), alert("b", "info", starts_at=None)),
        group(),
        group(alert("a", "Odd", team="")),
        group(alert("a", "critical", team="web"), ack=ack(3)),
        group(alert("a", "page", starts_at=None), alert("b", "error")),
    ]
    for g in cases:
        entry = _GroupEntry(g, shared)
        entry.set_times(NOW.timestamp(), shared)
        sort, sev, team, search = reference(g)
        assert entry.sort == sort and entry.search == search
        assert entry.sev.plain == sev and entry.team.plain == team


def test_shared_cells_differ_where_the_rows_differ() -> None:
    palette = Palette()
    shared = _Shared(palette)
    now = NOW.timestamp()
    plain_warn = _GroupEntry(group(alert("a", "warning")), shared)
    acked_warn = _GroupEntry(group(alert("a", "warning"), ack=ack(30)), shared)
    crit = _GroupEntry(group(alert("a", "critical")), shared)
    other = _GroupEntry(group(alert("b", "warning"), key="h"), shared)
    assert plain_warn.sev is other.sev  # the same badge: one Text
    assert plain_warn.sev is not acked_warn.sev and acked_warn.sev.style == palette.dim
    assert crit.sev.style == palette.crit_badge and plain_warn.sev.style == palette.warn
    soon = _GroupEntry(group(alert("a"), ack=ack(3)), shared)
    for entry in (plain_warn, acked_warn, soon):
        entry.set_times(now, shared)
    assert plain_warn.cells[4].plain == "" and acked_warn.cells[4].style == palette.ok
    assert soon.cells[4].style == palette.warn and soon.cells[4].plain == "✓ 3m"


class _Table:
    def set_content_widths(self, widths: Any) -> None:
        self.widths = dict(widths)


def bare_panel(live: SimpleNamespace, palette: Palette) -> AlertsPanel:
    cockpit = SimpleNamespace(clock=SimpleNamespace(now=lambda: NOW), palette=palette, live=live)
    table = _Table()

    class Bare(AlertsPanel):
        pass

    Bare.cockpit = cockpit  # type: ignore[assignment,misc]
    Bare.table = table  # type: ignore[assignment,misc]
    return Bare()


def cells(rows: list[Any]) -> dict[str, list[str]]:
    return {key: [getattr(c, "plain", c) for c in row] for key, row, _ in rows}


def test_rows_follow_a_group_whose_labels_change_that_is_acked_and_that_resolves() -> None:
    live = SimpleNamespace(groups=[group(alert("a", team="db"), key="g"), group(key="h")])
    palette = Palette()
    panel = bare_panel(live, palette)
    first = cells(panel.build_rows())
    assert first["g"] == ["WARN", "DiskFull", "db", "7m", ""]
    # same key, new object: another team, critical, acked
    live.groups = [group(alert("a", "critical", team="web"), key="g", ack=ack(30)), live.groups[1]]
    rows = panel.build_rows()
    assert cells(rows)["g"] == ["CRIT", "DiskFull", "web", "7m", "✓ 30m"]
    assert dict((k, c) for k, c, _ in rows)["g"][0].style == palette.dim  # acked: dimmed
    # resolved: the group is gone, and so is its row
    live.groups = [live.groups[1]]
    assert list(cells(panel.build_rows())) == ["h"]
    # a new palette (theme): every cell is made again in its styles
    panel.cockpit.palette = Palette({"warning": "#123456"})  # type: ignore[misc]
    live.groups = [group(alert("a"), key="g")]
    (row,) = panel.build_rows()
    assert row[1][0].style == panel.cockpit.palette.warn
