"""From an alert to what it names: the pods and queues its labels point at.

An alert says what is wrong through its labels (`namespace`, `pod`, `deployment`,
`service`, `queue`...). `follow(group, pods, queues)` turns an alert group into the
objects on screen those labels name, so the pods and queues panels can narrow to them
and the alert detail can say "3/3 pods of payments/payments-api CrashLoopBackOff".

Each alert of the group is matched on its own (a KubePodCrashLooping group names one
pod per alert); the group follows the union. For one alert the rules are tried in
order and the first that selects a pod wins, so the most precise label decides:

  1. `namespace` + `pod`: that pod;
  2. `namespace` + a workload label (`replicaset`, `job`, `deployment`, `statefulset`,
     `daemonset`, `cronjob`): the pods with that controller in their owner chain;
  3. `service`, `app`, `app_kubernetes_io_name` or `container` (in that order): the pods
     whose `app.kubernetes.io/name` / `app` label or an owner's name is that value, in the
     alert's namespace when it has one.

A rule whose objects are gone falls through to the next (after a rollout restart the
pod an alert named is gone; its `container` still names the workload's new pods). A
`namespace` alone names nothing: it would select a whole namespace. Queues: `queue`
(and `vhost`, when the alert has one) name the queue.

Pure: domain types in, domain types out; no UI and no client imports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cockpit.domain import AlertGroup, PodHealth, QueueDepth

# alert label -> owner kind; the most precise first (a ReplicaSet is part of a Deployment)
WORKLOAD_LABELS: tuple[tuple[str, str], ...] = (
    ("replicaset", "ReplicaSet"),
    ("job", "Job"),
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("cronjob", "CronJob"),
)
APP_LABELS: tuple[str, ...] = ("service", "app", "app_kubernetes_io_name", "container")


@dataclass(frozen=True, slots=True)
class Reason:
    """Why pods were selected: which label of which alert named them."""

    rule: str  # pod / deployment / ... / service / app / app_kubernetes_io_name / container
    value: str  # "payments/payments-api-7d9f-x2x9q", "payments/payments-api", "checkout-api"

    def __str__(self) -> str:
        return f"{self.rule}={self.value}"


@dataclass(frozen=True, slots=True)
class Followed:
    """What an alert group names, in the panels' own objects."""

    group_name: str
    pods: tuple[PodHealth, ...]
    queues: tuple[QueueDepth, ...]
    reasons: tuple[Reason, ...]  # the labels that selected them, distinct, in order found
    missing: tuple[Reason, ...]  # what some alert names that is not on screen
    names_something: bool  # whether any alert carries a label that can name pods or queues
    pod_keys: frozenset[str] = frozenset()
    queue_keys: frozenset[str] = frozenset()
    why: Mapping[str, Reason] = field(default_factory=dict)  # pod key -> the rule that chose it

    def names_workload_of(self, pod: PodHealth) -> bool:
        """Whether the alert is about the pod's workload rather than the one pod: a
        workload / app label chose it, or several of the workload's pods are followed.
        Then restarting means a rollout restart, not deleting this pod."""
        reason = self.why.get(pod.key)
        if reason is None:
            return False
        if reason.rule != "pod":
            return True
        workload = pod.workload
        return bool(workload[0]) and any(
            p.key != pod.key and p.namespace == pod.namespace and p.workload == workload
            for p in self.pods
        )

    @property
    def empty(self) -> bool:
        return not self.pods and not self.queues

    def counts(self) -> str:
        """'2 pods', '1 queue', '3 pods, 1 queue', 'nothing'."""
        parts = []
        if self.pods:
            parts.append(plural(len(self.pods), "pod"))
        if self.queues:
            parts.append(plural(len(self.queues), "queue"))
        return ", ".join(parts) or "nothing"

    def headline(self) -> str:
        """The panels' border: 'following KycVendorTimeouts: 2 pods'."""
        return f"following {self.group_name}: {self.counts()}"

    def nothing_line(self) -> str:
        """One line for a group that names nothing on screen, saying why."""
        if not self.names_something:
            return (
                f"{self.group_name} names no pod or queue: "
                "no pod, workload, service, app, container or queue label"
            )
        named = ", ".join(str(r) for r in self.missing[:3])
        if len(self.missing) > 3:
            named += f" and {len(self.missing) - 3} more"
        return f"{self.group_name} names {named}: no such pod or queue on screen now"

    def summary_lines(self) -> list[str]:
        """The matched objects with their status, one line per workload and per queue:
        '3/3 pods of payments/payments-api CrashLoopBackOff'."""
        lines = []
        by_workload: dict[str, list[PodHealth]] = {}
        for pod in self.pods:
            _kind, name = pod.workload
            by_workload.setdefault(f"{pod.namespace}/{name or pod.name}", []).append(pod)
        for workload, pods in by_workload.items():
            statuses = Counter(p.status for p in pods)
            # the worst status leads: unhealthy pods are why the engineer is looking
            worst = min(statuses, key=lambda s: (_healthy(s, pods), -statuses[s], s))
            line = f"{statuses[worst]}/{len(pods)} pods of {workload} {worst}"
            rest = [f"{n} {s}" for s, n in statuses.most_common() if s != worst]
            if rest:
                line += " (" + ", ".join(rest) + ")"
            lines.append(line)
        for queue in self.queues:
            lines.append(
                f"queue {queue.key}: {queue.ready:,} ready, {queue.unacked:,} unacked, "
                f"{plural(queue.consumers, 'consumer')}"
            )
        return lines


def _healthy(status: str, pods: list[PodHealth]) -> bool:
    return all(p.healthy for p in pods if p.status == status)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class PodIndex:
    """The pods by what alerts name them by. Given the label sets that will be asked
    (`wanted`), only what they can name is kept: one cheap pass over thousands of pods."""

    def __init__(
        self, pods: Iterable[PodHealth], wanted: Iterable[Mapping[str, str]] | None = None
    ) -> None:
        self.by_key: dict[tuple[str, str], PodHealth] = {}
        self.by_owner: dict[tuple[str, str, str], list[PodHealth]] = {}
        # namespace, value -> pods whose app label or an owner's name is that value
        self.by_app: dict[tuple[str, str], list[PodHealth]] = {}
        self.by_app_anywhere: dict[str, list[PodHealth]] = {}
        keys: set[tuple[str, str]] | None = None
        owners: set[tuple[str, str, str]] | None = None
        apps: set[tuple[str, str]] | None = None
        anywhere: set[str] | None = None
        if wanted is not None:
            keys, owners, apps, anywhere = set(), set(), set(), set()
            for labels in wanted:
                ns = labels.get("namespace", "")
                if ns and labels.get("pod"):
                    keys.add((ns, labels["pod"]))
                for label, kind in WORKLOAD_LABELS:
                    if ns and labels.get(label):
                        owners.add((ns, kind, labels[label]))
                for label in APP_LABELS:
                    if labels.get(label):
                        if ns:
                            apps.add((ns, labels[label]))
                        else:
                            anywhere.add(labels[label])
        by_name = apps is None or anywhere is None or bool(apps or anywhere)
        by_owner = owners is None or bool(owners) or by_name
        for pod in pods:
            ns = pod.namespace
            if keys is None or (ns, pod.name) in keys:
                self.by_key[(ns, pod.name)] = pod
            if not by_owner:
                continue  # only pod names asked for (KubePodCrashLooping without container)
            names = set(pod.apps)
            for kind, name in pod.owners:
                if owners is None or (ns, kind, name) in owners:
                    self.by_owner.setdefault((ns, kind, name), []).append(pod)
                names.add(name)
            for name in names:
                if apps is None or (ns, name) in apps:
                    self.by_app.setdefault((ns, name), []).append(pod)
                if anywhere is None or name in anywhere:
                    self.by_app_anywhere.setdefault(name, []).append(pod)

    def select(self, labels: Mapping[str, str]) -> tuple[list[PodHealth], Reason | None, bool]:
        """(pods, the rule that chose them, whether any rule's labels were present)."""
        ns = labels.get("namespace", "")
        present = False
        pod_name = labels.get("pod", "")
        if ns and pod_name:
            present = True
            pod = self.by_key.get((ns, pod_name))
            if pod is not None:
                return [pod], Reason("pod", f"{ns}/{pod_name}"), True
        if ns:
            for label, kind in WORKLOAD_LABELS:
                name = labels.get(label, "")
                if not name:
                    continue
                present = True
                pods = self.by_owner.get((ns, kind, name))
                if pods:
                    return list(pods), Reason(label, f"{ns}/{name}"), True
        for label in APP_LABELS:
            value = labels.get(label, "")
            if not value:
                continue
            present = True
            pods = self.by_app.get((ns, value)) if ns else self.by_app_anywhere.get(value)
            if pods:
                return list(pods), Reason(label, f"{ns}/{value}" if ns else value), True
        return [], None, present


def _named(labels: Mapping[str, str]) -> list[Reason]:
    """What an alert's labels name, whether or not it exists: for 'names X: not on screen'."""
    ns = labels.get("namespace", "")
    out = []
    if ns and labels.get("pod"):
        out.append(Reason("pod", f"{ns}/{labels['pod']}"))
    if ns:
        out += [
            Reason(label, f"{ns}/{labels[label]}")
            for label, _ in WORKLOAD_LABELS
            if labels.get(label)
        ]
    for label in APP_LABELS:
        if labels.get(label):
            out.append(Reason(label, f"{ns}/{labels[label]}" if ns else labels[label]))
    if labels.get("queue"):
        vhost = labels.get("vhost")
        out.append(Reason("queue", f"{vhost}/{labels['queue']}" if vhost else labels["queue"]))
    return out


def alert_label_sets(group: AlertGroup) -> list[dict[str, str]]:
    """Each alert's labels over the group's (distinct), or the group's own without alerts."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    out = []
    for alert in group.alerts or ():
        labels = {**group.labels, **alert.labels}
        ident = tuple(sorted(labels.items()))
        if ident not in seen:
            seen.add(ident)
            out.append(labels)
    return out or [dict(group.labels)]


def queue_matches(labels: Mapping[str, str], queue: QueueDepth) -> bool:
    name = labels.get("queue", "")
    if not name or queue.name != name:
        return False
    vhost = labels.get("vhost")
    return vhost is None or vhost == queue.vhost


def follow(
    group: AlertGroup,
    pods: Iterable[PodHealth] | PodIndex,
    queues: Iterable[QueueDepth],
) -> Followed:
    """The pods and queues the group's alerts name; unhealthy pods first, then by key."""
    label_sets = alert_label_sets(group)
    index = pods if isinstance(pods, PodIndex) else PodIndex(pods, label_sets)
    chosen: dict[str, PodHealth] = {}
    why: dict[str, Reason] = {}
    reasons: dict[Reason, None] = {}
    named: dict[Reason, None] = {}
    present = False
    queue_labels = [labels for labels in label_sets if labels.get("queue")]
    for labels in label_sets:
        selected, reason, has_rule = index.select(labels)
        present = present or has_rule
        for pod in selected:
            chosen.setdefault(pod.key, pod)
            if reason is not None:
                why.setdefault(pod.key, reason)
        if reason is not None:
            reasons.setdefault(reason, None)
        elif has_rule:
            for wanted in _named(labels):
                named.setdefault(wanted, None)
    matched_queues: list[QueueDepth] = []
    if queue_labels:
        present = True
        for queue in queues:
            if any(queue_matches(labels, queue) for labels in queue_labels):
                matched_queues.append(queue)
                reasons.setdefault(Reason("queue", queue.key), None)
        if not matched_queues:
            for labels in queue_labels:
                for wanted in _named(labels):
                    if wanted.rule == "queue":
                        named.setdefault(wanted, None)
    return Followed(
        group_name=group.name,
        pods=tuple(sorted(chosen.values(), key=lambda p: (p.healthy, p.key))),
        queues=tuple(matched_queues),
        reasons=tuple(reasons),
        missing=tuple(named),
        names_something=present,
        pod_keys=frozenset(chosen),
        queue_keys=frozenset(q.key for q in matched_queues),
        why=why,
    )


class Following:
    """The alert group the pods and queues panels follow. The selection is asked again as
    pods come and go (a rollout restart replaces them) and as the group's alerts change;
    each answer is kept until what it was computed from changes (`token`: an object that
    is replaced whenever the pods are, such as the panel's sorted rows)."""

    def __init__(self, group: AlertGroup, *, pods: bool = True, queues: bool = True) -> None:
        self.group = group
        self.key = group.key
        self.name = group.name
        self.narrows_pods = pods  # a panel is narrowed only when the group named its objects
        self.narrows_queues = queues
        self._pods: tuple[object, object, Followed] | None = None
        self._queues: tuple[object, object, Followed] | None = None

    def _latest(self, groups: Iterable[AlertGroup]) -> AlertGroup:
        # the group as last polled (alerts join and leave it); the last one seen once gone
        for group in groups:
            if group.key == self.key:
                self.group = group
                break
        return self.group

    def pods(
        self, groups: Iterable[AlertGroup], pods: Iterable[PodHealth], token: object
    ) -> Followed:
        cached = self._pods
        if cached is not None and cached[0] is groups and cached[1] is token:
            return cached[2]
        followed = follow(self._latest(groups), pods, ())
        self._pods = (groups, token, followed)
        return followed

    def queues(self, groups: Iterable[AlertGroup], queues: Iterable[QueueDepth]) -> Followed:
        cached = self._queues
        if cached is not None and cached[0] is groups and cached[1] is queues:
            return cached[2]
        followed = follow(self._latest(groups), (), queues)
        self._queues = (groups, queues, followed)
        return followed
