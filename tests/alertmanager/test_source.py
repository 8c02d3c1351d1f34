"""AlertmanagerSource against a real prometheus-alertmanager on loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.backends.alertmanager import AlertmanagerSource
from cockpit.backends.base import AlertSource, NotFound, Unreachable
from cockpit.clock import SystemClock
from cockpit.domain import AlertGroup, AlertState
from tests.alertmanager.conftest import config_for
from tests.alertmanager.helpers import eventually
from tests.alertmanager.server import AlertmanagerServer, closed_port_url

pytestmark = pytest.mark.server

MARKUP = "[bold red]db[/] \x1b[31mprimary\x1b[0m"


def disk_alerts() -> list[dict[str, object]]:
    return [
        {
            "labels": {
                "alertname": "DiskFull",
                "service": "db",
                "severity": "critical",
                "instance": f"db-{i}",
            },
            "annotations": {"summary": f"disk 97% on db-{i}"},
            "generatorURL": "http://prometheus/graph?g0.expr=disk",
        }
        for i in (1, 2)
    ]


LATENCY = {
    "labels": {"alertname": "HighLatency", "service": "api", "severity": "Warning", "role": MARKUP},
    "annotations": {"summary": MARKUP, "runbook": "https://runbooks/[x]"},
}


def by_name(groups: list[AlertGroup]) -> dict[str, AlertGroup]:
    return {g.name: g for g in groups}


async def wait_groups(source: AlertmanagerSource, count: int) -> list[AlertGroup]:
    return await eventually(source.groups, lambda gs: sum(len(g.alerts) for g in gs) >= count)


async def test_posted_alerts_come_back_as_groups(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    assert isinstance(source, AlertSource)
    before = datetime.now(UTC)
    am.post_alerts([*disk_alerts(), LATENCY])
    groups = by_name(await wait_groups(source, 3))

    assert set(groups) == {"DiskFull", "HighLatency"}
    disk = groups["DiskFull"]
    assert dict(disk.labels) == {"alertname": "DiskFull", "service": "db"}
    assert disk.receiver == "null" and disk.cluster == "" and disk.ack is None
    assert [a.labels["instance"] for a in disk.alerts] == ["db-1", "db-2"]
    first = disk.alerts[0]
    assert first.annotations["summary"] == "disk 97% on db-1"
    assert first.severity == "critical" and first.state is AlertState.ACTIVE
    assert first.receivers == ("null",) and first.generator_url.startswith("http://prometheus/")
    assert first.starts_at is not None and abs(first.starts_at - before) < timedelta(seconds=30)
    assert len(first.fingerprint) >= 8 and first.silenced_by == ()
    assert disk.common_labels == {"alertname": "DiskFull", "service": "db", "severity": "critical"}

    # markup and escape sequences are kept verbatim; the UI escapes them
    latency = groups["HighLatency"]
    assert latency.alerts[0].labels["role"] == MARKUP
    assert latency.alerts[0].summary == MARKUP
    assert latency.severity == "warning"

    # the key names the group the same way on the next refresh
    again = by_name(await source.groups())
    assert again["DiskFull"].key == disk.key != latency.key


async def test_ack_creates_one_karma_style_silence_and_suppresses_the_group(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts(disk_alerts())
    disk = by_name(await wait_groups(source, 2))["DiskFull"]

    now = datetime.now(UTC)
    silence = await source.ack(
        disk, duration=timedelta(minutes=30), author="alice", comment="on it (incident INC-7)"
    )

    active = am.silences("active")
    assert len(active) == 1
    raw = active[0]
    assert raw["id"] == silence.id
    assert sorted((m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in raw["matchers"]) == [
        ("alertname", "DiskFull", True, False),
        ("service", "db", True, False),
        ("severity", "critical", True, False),
    ]
    assert raw["createdBy"] == "alice" == silence.created_by
    assert raw["comment"] == "ACK! on it (incident INC-7)" == silence.comment
    assert silence.is_ack and silence.state == "active"
    assert abs(silence.ends_at - (now + timedelta(minutes=30))) < timedelta(seconds=1)

    acked = await eventually(
        source.groups,
        lambda gs: by_name(gs)["DiskFull"].ack is not None and not by_name(gs)["DiskFull"].firing,
    )
    group = by_name(acked)["DiskFull"]
    assert group.ack is not None and group.ack.id == silence.id
    assert all(a.state is AlertState.SUPPRESSED for a in group.alerts)
    assert all(a.silenced_by == (silence.id,) for a in group.alerts)


async def test_ack_prefixes_comment_and_keeps_given_ack_comment(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts([LATENCY])
    group = by_name(await wait_groups(source, 1))["HighLatency"]
    given = await source.ack(
        group, duration=timedelta(minutes=5), author="bob", comment="ACK! seen (incident INC-1)"
    )
    assert given.comment == "ACK! seen (incident INC-1)"
    # markup in a label value is matched verbatim, so the silence covers the alert
    acked = await eventually(source.groups, lambda gs: by_name(gs)["HighLatency"].acked)
    assert by_name(acked)["HighLatency"].alerts[0].state is AlertState.SUPPRESSED


async def test_acking_again_extends_instead_of_adding_a_second_silence(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts(disk_alerts())
    disk = by_name(await wait_groups(source, 2))["DiskFull"]
    first = await source.ack(disk, duration=timedelta(minutes=30), author="alice", comment="a")

    now = datetime.now(UTC)
    second = await source.ack(disk, duration=timedelta(hours=2), author="bob", comment="b")

    active = am.silences("active")
    assert [s["id"] for s in active] == [second.id]
    # 0.25 updates in place (startsAt is sent back verbatim); others may replace it
    states = {s["id"]: s["status"]["state"] for s in am.silences()}
    assert second.id == first.id or states[first.id] == "expired"
    assert abs(second.ends_at - (now + timedelta(hours=2))) < timedelta(seconds=1)
    assert second.comment == "ACK! b" and second.created_by == "bob"


async def test_ack_leaves_exactly_one_active_ack_when_duplicates_exist(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts(disk_alerts())
    disk = by_name(await wait_groups(source, 2))["DiskFull"]
    # two engineers acked at once from two tools: two identical ack silences
    now = datetime.now(UTC)
    matchers = [
        {"name": k, "value": v, "isEqual": True, "isRegex": False}
        for k, v in disk.common_labels.items()
    ]
    for who in ("carol", "dave"):
        am.api(
            "POST",
            "/api/v2/silences",
            {
                "matchers": matchers,
                "startsAt": now.isoformat(),
                "endsAt": (now + timedelta(minutes=10)).isoformat(),
                "createdBy": who,
                "comment": f"ACK! {who}",
            },
        )
    # an unrelated non-ack silence on the same labels is left alone
    am.api(
        "POST",
        "/api/v2/silences",
        {
            "matchers": matchers,
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=10)).isoformat(),
            "createdBy": "maint",
            "comment": "maintenance window",
        },
    )
    assert len(am.silences("active")) == 3

    silence = await source.ack(disk, duration=timedelta(hours=1), author="erin", comment="x")

    active = am.silences("active")
    acks = [s for s in active if s["comment"].startswith("ACK!")]
    assert [s["id"] for s in acks] == [silence.id]
    assert [s["comment"] for s in active if s not in acks] == ["maintenance window"]


async def test_unack_expires_the_silence(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts(disk_alerts())
    disk = by_name(await wait_groups(source, 2))["DiskFull"]
    silence = await source.ack(disk, duration=timedelta(hours=1), author="alice", comment="x")
    await eventually(source.groups, lambda gs: by_name(gs)["DiskFull"].acked)

    await source.unack(silence.id)

    states = {s["id"]: s["status"]["state"] for s in am.silences()}
    assert states == {silence.id: "expired"}
    group = by_name(await source.groups())["DiskFull"]
    assert group.ack is None
    assert all(a.state is AlertState.ACTIVE for a in group.alerts)

    with pytest.raises(NotFound, match="silence not found"):
        await source.unack("00000000-0000-4000-8000-000000000000")


async def test_health_reports_version_and_cluster(source: AlertmanagerSource) -> None:
    health = await source.health()
    assert health.ok and health.name == "alerts"
    assert health.detail.startswith("v0.") and health.detail.endswith("cluster disabled, 0 peers")


async def test_first_member_down_reads_and_writes_go_to_the_one_that_answers(
    am: AlertmanagerServer,
) -> None:
    down = closed_port_url()
    src = AlertmanagerSource(config_for(("", (down, am.url))), clock=SystemClock())
    try:
        am.post_alerts(disk_alerts())
        disk = by_name(await wait_groups(src, 2))["DiskFull"]
        silence = await src.ack(disk, duration=timedelta(minutes=5), author="a", comment="x")
        assert [s["id"] for s in am.silences("active")] == [silence.id]
        health = await src.health()
        assert health.ok and "(1 of 2 members down)" in health.detail
        await src.unack(silence.id)
        assert am.silences("active") == []
    finally:
        await src.close()


async def test_ha_members_are_counted_once(make_am: Callable[[], AlertmanagerServer]) -> None:
    one, two = make_am(), make_am()
    src = AlertmanagerSource(config_for(("", (one.url, two.url))), clock=SystemClock())
    try:
        one.post_alerts(disk_alerts())
        two.post_alerts(disk_alerts()[:1])  # both members hold db-1
        disk = by_name(await wait_groups(src, 2))["DiskFull"]
        assert sorted(a.labels["instance"] for a in disk.alerts) == ["db-1", "db-2"]
    finally:
        await src.close()


async def test_separate_clusters_are_tagged(make_am: Callable[[], AlertmanagerServer]) -> None:
    prod, staging = make_am(), make_am()
    src = AlertmanagerSource(
        config_for(("prod", (prod.url,)), ("staging", (staging.url,))), clock=SystemClock()
    )
    try:
        prod.post_alerts(disk_alerts())
        staging.post_alerts(disk_alerts())
        groups = await wait_groups(src, 4)
        assert sorted(g.cluster for g in groups) == ["prod", "staging"]
        assert len({g.key for g in groups}) == 2
        for g in groups:
            assert {a.cluster for a in g.alerts} == {g.cluster}
        staging_group = next(g for g in groups if g.cluster == "staging")
        silence = await src.ack(
            staging_group, duration=timedelta(minutes=5), author="a", comment=""
        )
        assert [s["id"] for s in staging.silences("active")] == [silence.id]
        assert prod.silences() == []
        acked = {g.cluster: g.acked for g in await src.groups()}
        assert acked == {"prod": False, "staging": True}
        # unack finds the silence in whichever cluster holds it
        await src.unack(silence.id)
        assert [s["status"]["state"] for s in staging.silences()] == ["expired"]
        with pytest.raises(NotFound, match=r"no silence .* in any cluster"):
            await src.unack("00000000-0000-4000-8000-000000000000")
        health = await src.health()
        assert (
            health.ok
            and health.detail.startswith("prod: v0.")
            and "; staging: v0." in health.detail
        )
    finally:
        await src.close()


async def test_stopped_alertmanager_is_unreachable_then_recovers(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    am.post_alerts(disk_alerts())
    await wait_groups(source, 2)

    am.stop()
    with pytest.raises(Unreachable) as err:
        await source.groups()
    assert str(err.value) == f"alertmanager {am.url}: connection refused"
    health = await source.health()
    assert not health.ok and health.detail == f"alertmanager {am.url}: connection refused"

    am.start()  # same port; alerts are not persisted, Prometheus would send them again
    am.post_alerts(disk_alerts())
    groups = await wait_groups(source, 2)
    assert by_name(groups)["DiskFull"].cluster == ""
    assert (await source.health()).ok


async def test_every_member_down_names_each_member() -> None:
    a, b = closed_port_url(), closed_port_url()
    src = AlertmanagerSource(config_for(("prod", (a, b))), clock=SystemClock())
    try:
        with pytest.raises(Unreachable) as err:
            await src.groups()
        assert str(err.value) == (
            f"alertmanager cluster prod: no member answered "
            f"({a}: connection refused; {b}: connection refused)"
        )
    finally:
        await src.close()


async def test_an_unchanged_poll_is_the_same_list_and_a_change_keeps_the_rest(
    am: AlertmanagerServer, source: AlertmanagerSource
) -> None:
    """Alertmanager answering the same bytes: the same list, unparsed (nothing to redraw).
    A new alert: a new list in which every group that did not change is the same object
    (the panel keeps their rows as they are)."""
    am.post_alerts([*disk_alerts(), LATENCY])

    def settled(groups: list[AlertGroup]) -> bool:  # every alert past "unprocessed"
        alerts = [a for g in groups for a in g.alerts]
        return len(alerts) == 3 and all(a.state is AlertState.ACTIVE for a in alerts)

    first = await eventually(source.groups, settled)
    again = await source.groups()
    assert again is first
    am.post_alerts([{"labels": {"alertname": "QueueBacklog", "service": "orders"}}])
    changed = await wait_groups(source, 4)
    assert changed is not first
    before, after = by_name(first), by_name(changed)
    assert set(after) == {"DiskFull", "HighLatency", "QueueBacklog"}
    assert after["DiskFull"] is before["DiskFull"]
    assert after["HighLatency"] is before["HighLatency"]
