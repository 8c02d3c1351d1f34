"""The demo's runbooks, written into the demo's own scratch directory (never the user's).

One per scripted alert but DiskSpaceLow, whose runbook_url shows what an unfetchable
runbook looks like (the demo contacts nothing).
"""

from __future__ import annotations

from pathlib import Path

RUNBOOKS: dict[str, str] = {
    "CheckoutLatencyHigh": """\
# CheckoutLatencyHigh

Checkout's p99 latency is above its 800 ms SLO. `checkout-api` calls `payments-api`
for every card capture, so a slow or crashing payments-api shows up here first.

## Triage

- [ ] Check checkout-api's pods (`f` on this alert): Running and Ready?
- [ ] Check payments-api (`f` on KubePodCrashLooping): OOMKilled or CrashLoopBackOff?
- [ ] Declare an incident (`i`) if customers cannot pay

## Fix

- [ ] Rollout-restart payments-api (`r`): deleting a pod brings back the same template
- [ ] Post a customer update (`u`)
- [ ] Watch p99 fall back under 800 ms (the alert clears ~30 s after the last crashing pod)

## Escalate

Still above the SLO 10 minutes after the restart: page the payments team (`e`).

Dashboards: [checkout latency](https://grafana.acme.example/d/checkout) ·
[payments-api](https://grafana.acme.example/d/payments-api)
""",
    "KubePodCrashLooping": """\
# KubePodCrashLooping

A container keeps restarting. The pod's last termination reason says why.

- [ ] Open the pod's detail (`enter`): last termination reason and exit code
- [ ] Read the previous container's logs (`l`, then `p`)
- [ ] OOMKilled (exit 137): rollout-restart the workload (`r`) so the fixed template rolls out
- [ ] Confirm the new pods stay Running for two minutes

Exit code 137 is SIGKILL: the kernel's OOM killer, or a failed liveness probe.
""",
    "RabbitMQQueueBacklog": """\
# RabbitMQQueueBacklog

Messages arrive faster than they are consumed. `0` consumers means the consumer
pods lost their AMQP channels while staying Running.

- [ ] Check the queue's consumers column (`f` on this alert, queues panel)
- [ ] Rollout-restart orders-consumer (`r` in the pods panel): each fresh pod reconnects
- [ ] Watch the backlog drain (growth per minute turns negative)
""",
    "InvoiceConsumerErrors": """\
# InvoiceConsumerErrors

invoice-worker fails on every delivery of the same message: a poison message at the
head of `invoices` blocks everything behind it.

- [ ] Look at the head of the queue (`f`, then `m` in the queues panel)
- [ ] Quarantine the poison message (`d`): it is copied to billing.dlx first
- [ ] Tell billing which message it was (the quarantine file names it)
""",
}


def write_demo_runbooks(directory: Path) -> Path:
    """The demo runbooks as <alertname>.md files under `directory`; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in RUNBOOKS.items():
        (directory / f"{name}.md").write_text(text, encoding="utf-8")
    return directory
