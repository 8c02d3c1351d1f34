"""The demo's alerts name what they are about: following each lands on the right pods and
queues, and the demo ships runbooks for them (in its own scratch directory)."""

from __future__ import annotations

from pathlib import Path

from cockpit.backends.demo import DemoBackends
from cockpit.clock import FrozenClock
from cockpit.pivot import follow
from cockpit.runtime import build_demo_runtime
from tests.demo.test_world import at, group


async def followed(demo: DemoBackends, name: str) -> tuple[set[str], set[str], list[str]]:
    g = await group(demo, name)
    assert g is not None, name
    result = follow(g, await demo.cluster.pods(), await demo.broker.queues())
    return {p.name for p in result.pods}, result.queue_keys, result.summary_lines()


async def test_each_scripted_alert_names_its_objects(
    demo: DemoBackends, clock: FrozenClock
) -> None:
    at(demo, clock, 120)
    pods = await demo.cluster.pods()
    payments = {p.name for p in pods if p.name.startswith("payments-api-")}
    consumers = {p.name for p in pods if p.name.startswith("orders-consumer-")}
    invoice = {p.name for p in pods if p.name.startswith("invoice-worker-")}
    checkout = {p.name for p in pods if p.name.startswith("checkout-api-")}
    assert len(payments) == 3 and len(consumers) == 3

    crash_pods, crash_queues, crash_lines = await followed(demo, "KubePodCrashLooping")
    assert crash_pods == payments and crash_queues == set()
    assert crash_lines[0].startswith("3/3 pods of payments/payments-api ")

    backlog_pods, backlog_queues, _ = await followed(demo, "RabbitMQQueueBacklog")
    assert backlog_pods == consumers and backlog_queues == {"//orders"}

    invoice_pods, invoice_queues, _ = await followed(demo, "InvoiceConsumerErrors")
    assert invoice_pods == invoice and invoice_queues == {"//invoices"}

    latency_pods, latency_queues, latency_lines = await followed(demo, "CheckoutLatencyHigh")
    assert latency_pods == checkout and latency_queues == set()
    assert latency_lines == ["3/3 pods of checkout/checkout-api Running"]

    disk = await group(demo, "DiskSpaceLow")
    assert disk is not None
    nothing = follow(disk, pods, await demo.broker.queues())
    assert nothing.empty and not nothing.names_something


async def test_the_demo_runbooks_live_in_its_scratch_directory() -> None:
    runtime = build_demo_runtime()
    try:
        directory = runtime.runbooks.directory
        assert directory is not None and directory.name == "runbooks"
        assert not str(directory).startswith(str(Path.home()))
        groups = {g.name: g for g in await runtime.alerts.groups()}  # type: ignore[union-attr]
        disk = await runtime.runbooks.load(groups["DiskSpaceLow"])
        assert disk.runbook is None
        assert disk.error.startswith("the demo fetches no runbook URL: runbook_url https://")
        assert disk.url == "https://runbooks.acme.example/platform/disk-space"
    finally:
        await runtime.close()


async def test_the_main_alert_has_a_checklist(clock: FrozenClock) -> None:
    runtime = build_demo_runtime(clock)
    try:
        clock.advance(30)
        groups = {g.name: g for g in await runtime.alerts.groups()}  # type: ignore[union-attr]
        result = await runtime.runbooks.load(groups["CheckoutLatencyHigh"])
        assert result.runbook is not None and result.error == ""
        assert len(result.runbook.steps) == 6
        assert result.runbook.steps[3].text.startswith("Rollout-restart payments-api")
    finally:
        await runtime.close()
