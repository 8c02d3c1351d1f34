"""The demo world: deterministic, the scripted incident unfolds, and it reacts to actions."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.backends.base import NotFound, Unreachable
from cockpit.backends.demo import DemoBackends, build_demo
from cockpit.clock import FrozenClock
from cockpit.domain import (
    AlertGroup,
    AlertState,
    CustomerUpdate,
    Escalation,
    Incident,
    IncidentStatus,
    PodEventType,
    PodHealth,
    QueueDepth,
    RestartMode,
    Severity,
)


def at(demo: DemoBackends, clock: FrozenClock, seconds: float) -> None:
    clock.set(demo.world.t0 + timedelta(seconds=seconds))


async def group(demo: DemoBackends, name: str) -> AlertGroup | None:
    return next((g for g in await demo.alerts.groups() if g.name == name), None)


async def queue(demo: DemoBackends, name: str) -> QueueDepth:
    return next(q for q in await demo.broker.queues() if q.name == name)


async def pods_of(demo: DemoBackends, prefix: str) -> list[PodHealth]:
    return [p for p in await demo.cluster.pods() if p.name.startswith(prefix + "-")]


async def snapshot(demo: DemoBackends) -> tuple[object, ...]:
    return (
        await demo.cluster.pods(),
        await demo.alerts.groups(),
        await demo.broker.queues(),
        [await demo.broker.peek(q, 3) for q in (await demo.broker.queues())[:4]],
    )


# --------------------------------------------------------------------------- determinism


async def test_same_seed_and_clock_give_identical_worlds() -> None:
    worlds = []
    for _ in range(2):
        clock = FrozenClock()
        demo = build_demo(clock, seed=7)
        clock.advance(75)
        worlds.append(await snapshot(demo))
    assert worlds[0] == worlds[1]


async def test_a_different_seed_gives_different_names() -> None:
    a, b = build_demo(FrozenClock(), seed=7), build_demo(FrozenClock(), seed=8)
    names_a = {p.name for p in await a.cluster.pods()}
    names_b = {p.name for p in await b.cluster.pods()}
    assert names_a != names_b


async def test_state_does_not_depend_on_how_often_it_is_read() -> None:
    # queues are integrated on a fixed grid: one read at t+150 equals reading every second
    clock_a, clock_b = FrozenClock(), FrozenClock()
    a, b = build_demo(clock_a), build_demo(clock_b)
    for _ in range(150):
        clock_a.advance(1)
        await a.broker.queues()
    clock_b.advance(150)
    assert await a.broker.queues() == await b.broker.queues()
    assert await a.alerts.groups() == await b.alerts.groups()


# --------------------------------------------------------------------------- the script


async def test_calm_at_start_with_one_minor_warning(demo: DemoBackends) -> None:
    groups = await demo.alerts.groups()
    assert {g.severity for g in groups} <= {"warning", "info", "none"}
    assert [g.name for g in groups if g.severity == "warning"] == ["DiskSpaceLow"]
    assert all(p.status in ("Running", "Completed") for p in await demo.cluster.pods())
    assert 35 <= len(await demo.cluster.pods()) <= 45
    assert 10 <= len(await demo.broker.queues()) <= 14


async def test_hostile_label_value_sits_on_an_info_alert(demo: DemoBackends) -> None:
    cert = await group(demo, "TLSCertificateExpiring")
    assert cert is not None and cert.severity == "info"
    instance = cert.alerts[0].labels["instance"]
    assert "[bold]" in instance and "\x1b[" in instance


async def test_checkout_latency_fires_at_20s(demo: DemoBackends, clock: FrozenClock) -> None:
    at(demo, clock, 19)
    assert await group(demo, "CheckoutLatencyHigh") is None
    at(demo, clock, 21)
    latency = await group(demo, "CheckoutLatencyHigh")
    assert latency is not None
    assert latency.severity == "critical" and latency.team == "payments"
    alert = latency.alerts[0]
    assert alert.summary and alert.annotations["description"]
    assert alert.annotations["runbook_url"].startswith("https://")
    assert alert.generator_url.startswith("http")
    assert alert.starts_at == demo.world.t0 + timedelta(seconds=20)


async def test_payments_api_ooms_then_crash_loops(demo: DemoBackends, clock: FrozenClock) -> None:
    at(demo, clock, 39)
    assert {p.status for p in await pods_of(demo, "payments-api")} == {"Running"}
    at(demo, clock, 41)
    first = (await pods_of(demo, "payments-api"))[0]
    assert first.status == "OOMKilled" and first.ready == "0/1" and not first.healthy
    seen: set[str] = set()
    restarts: list[int] = []
    for second in range(41, 300, 3):
        at(demo, clock, second)
        pod = (await pods_of(demo, "payments-api"))[0]
        seen.add(pod.status)
        restarts.append(pod.restarts)
    assert {"OOMKilled", "CrashLoopBackOff"} <= seen
    assert restarts == sorted(restarts) and restarts[-1] >= 4
    crash = await group(demo, "KubePodCrashLooping")
    assert crash is not None and crash.team == "payments" and len(crash.alerts) == 3


async def test_orders_backs_up_with_no_consumers(demo: DemoBackends, clock: FrozenClock) -> None:
    at(demo, clock, 55)
    before = await queue(demo, "orders")
    assert before.consumers == 3 and before.ready < 50
    assert await group(demo, "RabbitMQQueueBacklog") is None
    depths = []
    for second in range(61, 180, 10):
        at(demo, clock, second)
        q = await queue(demo, "orders")
        assert q.consumers == 0 and q.stalled
        depths.append(q.ready)
    assert depths == sorted(depths) and depths[-1] > 2000
    backlog = await group(demo, "RabbitMQQueueBacklog")
    assert backlog is not None and backlog.severity == "critical"


async def test_poison_message_at_the_head_of_invoices(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    start = await queue(demo, "invoices")
    assert start.consumers > 0
    head = (await demo.broker.peek(start, 5))[0]
    assert head.position == 0
    with pytest.raises(ValueError):
        json.loads(head.payload)
    assert any(b < 0x20 for b in head.payload)  # control characters in the body
    assert head.headers["x-death"][0]["count"] == 3
    at(demo, clock, 120)
    later = await queue(demo, "invoices")
    assert later.ready > start.ready  # the consumers are stuck on the poison
    assert (await demo.broker.peek(later, 1))[0].message_id == head.message_id
    assert await group(demo, "InvoiceConsumerErrors") is not None


# --------------------------------------------------------------------------- reactions


async def test_deleted_pod_is_replaced_and_comes_up(demo: DemoBackends, clock: FrozenClock) -> None:
    pod = (await pods_of(demo, "checkout-api"))[0]
    result = await demo.cluster.restart(pod, RestartMode.DELETE_POD)
    assert result.ok
    new_name = result.ids["replacement"]
    assert new_name != pod.name and new_name.startswith("checkout-api-")
    by_name = {p.name: p for p in await demo.cluster.pods()}
    assert by_name[new_name].status == "ContainerCreating"
    assert by_name[pod.name].status == "Terminating"
    clock.advance(10)
    by_name = {p.name: p for p in await demo.cluster.pods()}
    assert by_name[new_name].status == "Running" and by_name[new_name].healthy
    assert pod.name not in by_name
    assert len(await pods_of(demo, "checkout-api")) == 3


async def test_statefulset_pod_comes_back_under_its_name(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    pod = next(p for p in await demo.cluster.pods() if p.name == "rabbitmq-1")
    assert pod.owner_kind == "StatefulSet"
    result = await demo.cluster.restart(pod, RestartMode.DELETE_POD)
    assert result.ok and result.ids["replacement"] == "rabbitmq-1"
    clock.advance(20)
    again = next(p for p in await demo.cluster.pods() if p.name == "rabbitmq-1")
    assert again.status == "Running" and again.uid != pod.uid
    assert again.created_at is not None and pod.created_at is not None
    assert again.created_at > pod.created_at


async def test_rollout_of_payments_api_stops_the_ooms(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    at(demo, clock, 90)
    old = {p.name for p in await pods_of(demo, "payments-api")}
    result = await demo.cluster.restart(
        (await pods_of(demo, "payments-api"))[0], RestartMode.ROLLOUT
    )
    assert result.ok
    at(demo, clock, 150)
    pods = await pods_of(demo, "payments-api")
    assert len(pods) == 3 and not old & {p.name for p in pods}
    assert all(p.status == "Running" and p.restarts == 0 for p in pods)
    assert await group(demo, "KubePodCrashLooping") is None
    at(demo, clock, 400)
    assert await group(demo, "CheckoutLatencyHigh") is None
    assert all(p.status == "Running" for p in await pods_of(demo, "payments-api"))


async def test_ack_and_unack(demo: DemoBackends, clock: FrozenClock) -> None:
    at(demo, clock, 30)
    latency = await group(demo, "CheckoutLatencyHigh")
    assert latency is not None
    silence = await demo.alerts.ack(
        latency, duration=timedelta(minutes=30), author="alice", comment="ACK! on it"
    )
    assert silence.id == "demo-sil-0001" and silence.is_ack
    assert silence.ends_at == clock.now() + timedelta(minutes=30)
    acked = await group(demo, "CheckoutLatencyHigh")
    assert acked is not None and acked.ack is not None and acked.ack.id == silence.id
    assert all(a.state is AlertState.SUPPRESSED for a in acked.alerts)
    assert all(a.silenced_by == (silence.id,) for a in acked.alerts)
    clock.advance(60)
    extended = await demo.alerts.ack(
        acked, duration=timedelta(minutes=30), author="bob", comment="still on it"
    )
    assert extended.id == silence.id and extended.ends_at > silence.ends_at
    assert extended.is_ack  # the ACK! prefix is added when the comment lacks it
    other = await group(demo, "DiskSpaceLow")
    assert other is not None and other.ack is None and other.firing
    await demo.alerts.unack(silence.id)
    back = await group(demo, "CheckoutLatencyHigh")
    assert back is not None and back.ack is None and len(back.firing) == len(back.alerts)
    with pytest.raises(NotFound):
        await demo.alerts.unack(silence.id)


async def test_ack_expires_with_its_duration(demo: DemoBackends, clock: FrozenClock) -> None:
    disk = await group(demo, "DiskSpaceLow")
    assert disk is not None
    await demo.alerts.ack(disk, duration=timedelta(minutes=5), author="a", comment="ACK! x")
    clock.advance(timedelta(minutes=5, seconds=1))
    disk = await group(demo, "DiskSpaceLow")
    assert disk is not None and disk.ack is None and disk.firing


async def test_quarantine_removes_exactly_that_message(
    demo: DemoBackends, clock: FrozenClock, tmp_path: Path
) -> None:
    demo = build_demo(clock, quarantine_dir=tmp_path)
    invoices = await queue(demo, "invoices")
    before = await demo.broker.peek(invoices, 6)
    # a message in the middle first: every other one stays, in order
    result = await demo.broker.quarantine(invoices, before[2], actor="alice")
    assert result.ok and result.ids["quarantine_id"] == "demo-q-0001"
    after = await demo.broker.peek(invoices, 5)
    assert [m.message_id for m in after] == [before[i].message_id for i in (0, 1, 3, 4, 5)]
    assert (await queue(demo, "invoices")).ready == invoices.ready - 1
    # then the poison: the consumers are unstuck and the backlog drains
    result = await demo.broker.quarantine(invoices, before[0], actor="alice")
    assert result.ok
    assert (await demo.broker.peek(invoices, 1))[0].message_id == before[1].message_id
    record = json.loads((tmp_path / "demo-q-0002.json").read_text())
    assert bytes.fromhex(record["payload_hex"]) == before[0].payload
    assert record["actor"] == "alice"
    again = await demo.broker.quarantine(invoices, before[0], actor="alice")
    assert not again.ok
    clock.advance(60)
    assert (await queue(demo, "invoices")).ready < 5


async def test_rollout_of_orders_consumer_drains_orders(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    at(demo, clock, 150)
    assert (await queue(demo, "orders")).ready > 2000
    consumer = (await pods_of(demo, "orders-consumer"))[0]
    result = await demo.cluster.restart(consumer, RestartMode.ROLLOUT)
    assert result.ok
    at(demo, clock, 165)
    assert (await queue(demo, "orders")).consumers == 3
    at(demo, clock, 260)
    orders = await queue(demo, "orders")
    assert orders.ready < 100 and not orders.stalled
    assert await group(demo, "RabbitMQQueueBacklog") is None


async def test_plan_restart_paths(demo: DemoBackends) -> None:
    indexer = (await pods_of(demo, "catalog-indexer"))[0]
    plan = await demo.cluster.plan_restart(indexer)
    assert plan.refusal and "paused" in plan.refusal and plan.modes == ()
    refused = await demo.cluster.restart(indexer, RestartMode.ROLLOUT)
    assert not refused.ok
    bare = next(p for p in await demo.cluster.pods() if p.name == "debug-shell")
    plan = await demo.cluster.plan_restart(bare)
    assert plan.modes == (RestartMode.DELETE_POD,) and "no controller" in plan.warning
    api = (await pods_of(demo, "orders-api"))[0]
    plan = await demo.cluster.plan_restart(api)
    assert plan.modes == (RestartMode.DELETE_POD, RestartMode.ROLLOUT)
    assert (plan.workload_kind, plan.workload_name) == ("Deployment", "orders-api")
    kinds = {(p.owner_kind) for p in await demo.cluster.pods()}
    assert {"ReplicaSet", "StatefulSet", "DaemonSet", ""} <= kinds


async def test_escalation_and_customer_update_return_ids(demo: DemoBackends) -> None:
    incident = Incident(
        "INC-2026-0001", "Checkout slow", Severity.SEV1, IncidentStatus.INVESTIGATING,
        "alice", demo.world.t0,
    )  # fmt: skip
    update = CustomerUpdate(incident.id, incident.status, "Checkout slow", "We are on it.")
    first = await demo.statuspage.post_update(incident, update, remote_id=None)
    assert first.ok and first.ids["remote_id"] == "demo-sp-0001"
    second = await demo.statuspage.post_update(incident, update, remote_id="demo-sp-0001")
    assert second.ids["remote_id"] == "demo-sp-0001"
    escalation = Escalation(incident.id, "payments", "SEV1", "Checkout slow")
    page = await demo.pager.escalate(escalation)
    assert page.ok and page.ids["page_id"] == "demo-page-0001"
    again = await demo.pager.escalate(escalation)
    assert again.ids["page_id"] == "demo-page-0001" and again.details["deduplicated"]


# --------------------------------------------------------------------------- detail, logs, watch


async def test_logs_show_the_oom_in_the_previous_container(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    pod = (await pods_of(demo, "payments-api"))[0]
    assert await demo.cluster.logs(pod, "payments-api", tail=20)
    with pytest.raises(NotFound):
        await demo.cluster.logs(pod, "payments-api", previous=True)
    at(demo, clock, 70)
    pod = (await pods_of(demo, "payments-api"))[0]
    previous = await demo.cluster.logs(pod, "payments-api", previous=True, tail=50)
    assert "java.lang.OutOfMemoryError: Java heap space" in previous
    stamps = [line[:24] for line in previous if line[:4] == "2026"]
    assert stamps == sorted(stamps)  # the crash is the last thing the container wrote
    assert len(await demo.cluster.logs(pod, "payments-api", tail=5)) == 5
    detail = await demo.cluster.detail(pod)
    assert detail.containers[0].last_termination_reason == "OOMKilled"
    assert detail.containers[0].last_exit_code == 137


async def test_follow_logs_yields_new_lines_as_time_passes(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    pod = (await pods_of(demo, "orders-api"))[0]
    lines = demo.cluster.follow_logs(pod, "api")
    clock.advance(10)
    line = await asyncio.wait_for(lines.__anext__(), timeout=10)
    assert pod.name in line
    await lines.aclose()  # type: ignore[attr-defined]


async def test_watch_sync_then_diffs(demo: DemoBackends, clock: FrozenClock) -> None:
    events = demo.cluster.watch()
    sync = await events.__anext__()
    assert sync.type is PodEventType.SYNC and len(sync.pods) == len(await demo.cluster.pods())
    pod = (await pods_of(demo, "shipping-api"))[0]
    result = await demo.cluster.restart(pod, RestartMode.DELETE_POD)
    seen: dict[tuple[PodEventType, str], str] = {}
    while len(seen) < 2:
        event = await asyncio.wait_for(events.__anext__(), timeout=10)
        seen[(event.type, event.pods[0].name)] = event.pods[0].status
    assert seen[(PodEventType.ADDED, result.ids["replacement"])] == "ContainerCreating"
    assert seen[(PodEventType.MODIFIED, pod.name)] == "Terminating"
    clock.advance(10)
    later: list[tuple[PodEventType, str]] = []
    while len(later) < 2:
        event = await asyncio.wait_for(events.__anext__(), timeout=10)
        later.append((event.type, event.pods[0].name))
    assert set(later) == {
        (PodEventType.MODIFIED, result.ids["replacement"]),
        (PodEventType.DELETED, pod.name),
    }
    await events.aclose()  # type: ignore[attr-defined]


async def test_watch_waits_quietly_on_a_frozen_clock(demo: DemoBackends) -> None:
    events = demo.cluster.watch()
    await events.__anext__()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(events.__anext__(), timeout=0.2)


# --------------------------------------------------------------------------- failures


async def test_failure_injection_and_recovery(demo: DemoBackends) -> None:
    demo.world.fail("queues", "connection refused (simulated)")
    with pytest.raises(Unreachable, match="connection refused"):
        await demo.broker.queues()
    health = await demo.broker.health()
    assert not health.ok and "connection refused" in health.detail
    assert (await demo.cluster.health()).detail == "simulated"
    demo.world.fail("pods", "timed out")
    events = demo.cluster.watch()
    with pytest.raises(Unreachable):
        await events.__anext__()
    demo.world.recover("queues")
    demo.world.recover("pods")
    assert await demo.broker.queues()
    assert (await demo.broker.health()).ok
    with pytest.raises(ValueError):
        demo.world.fail("nope", "x")


# --------------------------------------------------------------------------- scale


async def test_benchmark_scale_counts_and_call_times() -> None:
    clock = FrozenClock()
    started = time.perf_counter()
    demo = build_demo(clock, pods=5000, alerts=2000, queues=1000)
    built = time.perf_counter() - started
    clock.advance(120)
    timings = {}
    for name, call in (
        ("pods", demo.cluster.pods),
        ("groups", demo.alerts.groups),
        ("queues", demo.broker.queues),
    ):
        started = time.perf_counter()
        result = await call()
        timings[name] = (len(result), (time.perf_counter() - started) * 1000)
    events = demo.cluster.watch()
    started = time.perf_counter()
    sync = await events.__anext__()
    timings["sync"] = (len(sync.pods), (time.perf_counter() - started) * 1000)
    await events.aclose()  # type: ignore[attr-defined]
    alerts = sum(len(g.alerts) for g in await demo.alerts.groups())
    print(f"\nbuild {built * 1000:.0f} ms; " + "; ".join(
        f"{k} {n} in {ms:.1f} ms" for k, (n, ms) in timings.items()
    ))  # fmt: skip
    assert timings["pods"][0] == 5000 and timings["queues"][0] == 1000
    assert 1900 <= alerts <= 2100
    scaled = build_demo(FrozenClock(), scale=125)
    assert len(await scaled.cluster.pods()) == 5000
    assert len(await scaled.broker.queues()) == 1000
