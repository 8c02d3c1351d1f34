"""From an alert's labels to the pods and queues it names: each rule selects exactly the
right objects and no others (cockpit.pivot), on pods decoded the way the cluster sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cockpit.backends.kubernetes import parse_pod_list
from cockpit.backends.podstatus import owner_chain, pod_health
from cockpit.domain import Alert, AlertGroup, QueueDepth, frozen_map
from cockpit.pivot import Following, PodIndex, follow

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def raw_pod(
    namespace: str,
    name: str,
    owner: tuple[str, str] | None,
    labels: dict[str, str] | None = None,
    status: str = "Running",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{namespace}-{name}",
        "creationTimestamp": "2026-11-30T03:00:00Z",
        "labels": {"team": "x", **(labels or {})},
    }
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    state: dict[str, Any] = (
        {"running": {}} if status == "Running" else {"waiting": {"reason": status}}
    )
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "app"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "app", "ready": status == "Running", "restartCount": 0, "state": state}
            ],
        },
    }


RAW = [
    # payments-api: a Deployment (pods labelled with its template hash), one crash-looping
    raw_pod(
        "payments",
        "payments-api-7d9f8c6b4-x2x9q",
        ("ReplicaSet", "payments-api-7d9f8c6b4"),
        {"app.kubernetes.io/name": "payments-api", "pod-template-hash": "7d9f8c6b4"},
        "CrashLoopBackOff",
    ),
    raw_pod(
        "payments",
        "payments-api-7d9f8c6b4-k8s2m",
        ("ReplicaSet", "payments-api-7d9f8c6b4"),
        {"app.kubernetes.io/name": "payments-api", "pod-template-hash": "7d9f8c6b4"},
    ),
    # the same Deployment name in another namespace must never be selected with namespace
    raw_pod(
        "staging",
        "payments-api-5c4b3a2d1-aaaaa",
        ("ReplicaSet", "payments-api-5c4b3a2d1"),
        {"app.kubernetes.io/name": "payments-api", "pod-template-hash": "5c4b3a2d1"},
    ),
    # a sibling whose name starts the same: prefix matches are not matches
    raw_pod(
        "payments",
        "payments-api-canary-6f5e4d3c2-bbbbb",
        ("ReplicaSet", "payments-api-canary-6f5e4d3c2"),
        {"app": "payments-api-canary", "pod-template-hash": "6f5e4d3c2"},
    ),
    # a bare ReplicaSet (no template hash): no Deployment above it
    raw_pod("payments", "legacy-rs-zzzzz", ("ReplicaSet", "legacy-rs"), {"app": "legacy"}),
    raw_pod("platform", "rabbitmq-0", ("StatefulSet", "rabbitmq"), {"app": "rabbitmq"}),
    raw_pod("platform", "rabbitmq-1", ("StatefulSet", "rabbitmq"), {"app": "rabbitmq"}),
    raw_pod("platform", "node-exporter-abcde", ("DaemonSet", "node-exporter")),
    raw_pod("orders", "nightly-report-29401260-qwert", ("Job", "nightly-report-29401260")),
    raw_pod("orders", "migrate-2-asdfg", ("Job", "migrate-2")),
    # app only through the plain `app` label, owner name different from it
    raw_pod(
        "checkout",
        "web-6c5d4e3f2-ccccc",
        ("ReplicaSet", "web-6c5d4e3f2"),
        {"app": "checkout-web", "pod-template-hash": "6c5d4e3f2"},
    ),
    raw_pod("platform", "debug-shell", None),
]


def pods_decoded() -> list[Any]:
    body = json.dumps({"kind": "PodList", "metadata": {}, "items": RAW}).encode()
    rows, _ = parse_pod_list(body, NOW)
    return rows


PODS = pods_decoded()
QUEUES = [
    QueueDepth("/", "orders", 4200, 0, 0),
    QueueDepth("/", "orders.dlq", 3, 0, 0),
    QueueDepth("eu", "orders", 10, 0, 2),
    QueueDepth("/", "invoices", 40, 1, 2),
]


def group(*label_sets: dict[str, str], name: str = "KycVendorTimeouts") -> AlertGroup:
    alerts = tuple(
        Alert(fingerprint=str(i), labels=frozen_map({"alertname": name, **labels}))
        for i, labels in enumerate(label_sets)
    )
    return AlertGroup(key=name, labels=frozen_map({"alertname": name}), alerts=alerts)


CASES: list[tuple[str, list[dict[str, str]], set[str], set[str]]] = [
    (
        "namespace+pod",
        [{"namespace": "payments", "pod": "payments-api-7d9f8c6b4-x2x9q"}],
        {"payments/payments-api-7d9f8c6b4-x2x9q"},
        set(),
    ),
    (
        "one pod per alert: the group follows the union",
        [
            {"namespace": "payments", "pod": "payments-api-7d9f8c6b4-x2x9q"},
            {"namespace": "platform", "pod": "rabbitmq-1"},
        ],
        {"payments/payments-api-7d9f8c6b4-x2x9q", "platform/rabbitmq-1"},
        set(),
    ),
    ("pod without namespace names nothing", [{"pod": "rabbitmq-0"}], set(), set()),
    (
        "deployment via the ReplicaSet's pod-template-hash",
        [{"namespace": "payments", "deployment": "payments-api"}],
        {"payments/payments-api-7d9f8c6b4-x2x9q", "payments/payments-api-7d9f8c6b4-k8s2m"},
        set(),
    ),
    (
        "replicaset",
        [{"namespace": "payments", "replicaset": "legacy-rs"}],
        {"payments/legacy-rs-zzzzz"},
        set(),
    ),
    (
        "a bare ReplicaSet is no Deployment",
        [{"namespace": "payments", "deployment": "legacy"}],
        set(),
        set(),
    ),
    (
        "statefulset",
        [{"namespace": "platform", "statefulset": "rabbitmq"}],
        {"platform/rabbitmq-0", "platform/rabbitmq-1"},
        set(),
    ),
    (
        "daemonset",
        [{"namespace": "platform", "daemonset": "node-exporter"}],
        {"platform/node-exporter-abcde"},
        set(),
    ),
    (
        "job",
        [{"namespace": "orders", "job": "migrate-2"}],
        {"orders/migrate-2-asdfg"},
        set(),
    ),
    (
        "cronjob via its Job's scheduled-time suffix",
        [{"namespace": "orders", "cronjob": "nightly-report"}],
        {"orders/nightly-report-29401260-qwert"},
        set(),
    ),
    (
        "a short numeric suffix is not a CronJob's",
        [{"namespace": "orders", "cronjob": "migrate"}],
        set(),
        set(),
    ),
    (
        "workload label without namespace names nothing",
        [{"statefulset": "rabbitmq"}],
        set(),
        set(),
    ),
    (
        "service against app.kubernetes.io/name, in the namespace",
        [{"namespace": "payments", "service": "payments-api"}],
        {"payments/payments-api-7d9f8c6b4-x2x9q", "payments/payments-api-7d9f8c6b4-k8s2m"},
        set(),
    ),
    (
        "service without namespace: every namespace",
        [{"service": "payments-api"}],
        {
            "payments/payments-api-7d9f8c6b4-x2x9q",
            "payments/payments-api-7d9f8c6b4-k8s2m",
            "staging/payments-api-5c4b3a2d1-aaaaa",
        },
        set(),
    ),
    (
        "app against the plain app label",
        [{"namespace": "checkout", "app": "checkout-web"}],
        {"checkout/web-6c5d4e3f2-ccccc"},
        set(),
    ),
    (
        "app against the owner's name",
        [{"namespace": "checkout", "app": "web"}],
        {"checkout/web-6c5d4e3f2-ccccc"},
        set(),
    ),
    (
        "app_kubernetes_io_name",
        [{"namespace": "platform", "app_kubernetes_io_name": "rabbitmq"}],
        {"platform/rabbitmq-0", "platform/rabbitmq-1"},
        set(),
    ),
    (
        "container against the app label",
        [{"namespace": "payments", "container": "payments-api-canary"}],
        {"payments/payments-api-canary-6f5e4d3c2-bbbbb"},
        set(),
    ),
    (
        "the pod wins over its container label",
        [
            {
                "namespace": "payments",
                "pod": "payments-api-7d9f8c6b4-k8s2m",
                "container": "payments-api",
            }
        ],
        {"payments/payments-api-7d9f8c6b4-k8s2m"},
        set(),
    ),
    (
        "a pod gone (restarted) falls through to its container: the workload's pods",
        [{"namespace": "payments", "pod": "payments-api-old-gone", "container": "payments-api"}],
        {"payments/payments-api-7d9f8c6b4-x2x9q", "payments/payments-api-7d9f8c6b4-k8s2m"},
        set(),
    ),
    (
        "a scrape job label falls through to the service",
        [{"namespace": "platform", "job": "node-exporter-scrape", "service": "node-exporter"}],
        {"platform/node-exporter-abcde"},
        set(),
    ),
    (
        "namespace alone names nothing",
        [{"namespace": "payments", "severity": "critical"}],
        set(),
        set(),
    ),
    ("queue without vhost: every vhost", [{"queue": "orders"}], set(), {"//orders", "eu/orders"}),
    ("queue and vhost", [{"queue": "orders", "vhost": "eu"}], set(), {"eu/orders"}),
    (
        "pods and queues together",
        [{"queue": "invoices", "vhost": "/", "namespace": "platform", "service": "rabbitmq"}],
        {"platform/rabbitmq-0", "platform/rabbitmq-1"},
        {"//invoices"},
    ),
]


@pytest.mark.parametrize(
    ("labels", "pods", "queues"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_selects_exactly_the_right_objects(
    labels: list[dict[str, str]], pods: set[str], queues: set[str]
) -> None:
    followed = follow(group(*labels), PODS, QUEUES)
    assert followed.pod_keys == pods
    assert followed.queue_keys == queues


def test_owner_chain_is_what_the_pod_tells() -> None:
    assert owner_chain("ReplicaSet", "api-7d9f8c", {"pod-template-hash": "7d9f8c"}) == (
        ("ReplicaSet", "api-7d9f8c"),
        ("Deployment", "api"),
    )
    assert owner_chain("ReplicaSet", "api-7d9f8c", {"pod-template-hash": "other"}) == (
        ("ReplicaSet", "api-7d9f8c"),
    )
    assert owner_chain("Job", "backup-29401260", {}) == (
        ("Job", "backup-29401260"),
        ("CronJob", "backup"),
    )
    assert owner_chain("", "", {}) == ()
    by_key = {p.key: p for p in PODS}
    assert by_key["payments/payments-api-7d9f8c6b4-x2x9q"].workload == (
        "Deployment",
        "payments-api",
    )
    assert by_key["payments/payments-api-7d9f8c6b4-x2x9q"].apps == ("payments-api",)
    # the decoder and json.loads agree, labels included
    assert [pod_health(raw) for raw in RAW] == PODS


def test_headline_and_summary() -> None:
    followed = follow(
        group(
            {"namespace": "payments", "deployment": "payments-api"},
            {"queue": "orders", "vhost": "/"},
        ),
        PODS,
        QUEUES,
    )
    assert followed.headline() == "following KycVendorTimeouts: 2 pods, 1 queue"
    assert followed.summary_lines() == [
        "1/2 pods of payments/payments-api CrashLoopBackOff (1 Running)",
        "queue //orders: 4,200 ready, 0 unacked, 0 consumers",
    ]
    assert [str(r) for r in followed.reasons] == [
        "deployment=payments/payments-api",
        "queue=//orders",
    ]
    single = follow(group({"namespace": "platform", "statefulset": "rabbitmq"}), PODS, [])
    assert single.summary_lines() == ["2/2 pods of platform/rabbitmq Running"]
    assert follow(group({"pod": "x"}), [], []).counts() == "nothing"


def test_a_group_naming_nothing_says_why_in_one_line() -> None:
    nothing = follow(group({"instance": "10.0.0.1:9100"}, name="DiskSpaceLow"), PODS, QUEUES)
    assert nothing.empty and not nothing.names_something
    assert "DiskSpaceLow names no pod or queue" in nothing.nothing_line()
    assert "\n" not in nothing.nothing_line()
    gone = follow(
        group({"namespace": "payments", "pod": "gone-1"}, {"queue": "nope"}), PODS, QUEUES
    )
    assert gone.empty and gone.names_something
    assert gone.nothing_line() == (
        "KycVendorTimeouts names pod=payments/gone-1, queue=nope: "
        "no such pod or queue on screen now"
    )


def test_a_group_without_alerts_uses_its_own_labels() -> None:
    bare = AlertGroup(
        key="k",
        labels=frozen_map({"alertname": "X", "namespace": "platform", "statefulset": "rabbitmq"}),
        alerts=(),
    )
    assert follow(bare, PODS, []).pod_keys == {"platform/rabbitmq-0", "platform/rabbitmq-1"}


def test_restarting_means_the_workload_when_the_alert_is_about_it() -> None:
    by_key = {p.key: p for p in PODS}
    crashing = by_key["payments/payments-api-7d9f8c6b4-x2x9q"]
    sibling = by_key["payments/payments-api-7d9f8c6b4-k8s2m"]
    one_pod = follow(group({"namespace": "payments", "pod": crashing.name}), PODS, [])
    assert not one_pod.names_workload_of(crashing)  # about this pod: delete it
    both = follow(
        group(
            {"namespace": "payments", "pod": crashing.name},
            {"namespace": "payments", "pod": sibling.name},
        ),
        PODS,
        [],
    )
    assert both.names_workload_of(crashing)  # every pod of it crashes: the workload
    by_service = follow(group({"namespace": "payments", "service": "payments-api"}), PODS, [])
    assert by_service.names_workload_of(crashing)
    assert not by_service.names_workload_of(by_key["platform/rabbitmq-0"])  # not followed


def test_following_asks_again_when_pods_or_alerts_change() -> None:
    first = group({"namespace": "payments", "deployment": "payments-api"})
    following = Following(first)
    groups = [first]
    token = object()
    view = following.pods(groups, PODS, token)
    assert len(view.pods) == 2
    assert following.pods(groups, [], token) is view  # same inputs: the kept answer
    replaced = [p for p in PODS if not p.name.endswith("x2x9q")]
    assert len(following.pods(groups, replaced, object()).pods) == 1  # a pod went away
    # the group as polled now names a queue as well; a resolved group is kept as last seen
    grown = group({"namespace": "payments", "deployment": "payments-api"}, {"queue": "orders"})
    assert following.queues([grown], QUEUES).queue_keys == {"//orders", "eu/orders"}
    assert following.queues([], QUEUES).queue_keys == {"//orders", "eu/orders"}


@pytest.mark.parametrize("labels", [case[1] for case in CASES], ids=[case[0] for case in CASES])
def test_the_index_kept_to_what_is_asked_finds_what_the_full_one_finds(
    labels: list[dict[str, str]],
) -> None:
    g = group(*labels)
    assert follow(g, PodIndex(PODS), QUEUES) == follow(g, PODS, QUEUES)
