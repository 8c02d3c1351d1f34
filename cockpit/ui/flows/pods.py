"""Pod flows: restart (the plan's words, the preselected mode), logs, detail, and the
Kubernetes context switch (clusters that have contexts: backends.base.Switchable)."""

from __future__ import annotations

import asyncio

from rich.text import Text

from cockpit.backends.base import BackendError, Switchable
from cockpit.domain import PodHealth, RestartMode
from cockpit.ui.context import Cockpit
from cockpit.ui.details import pod_detail
from cockpit.ui.screens.forms import Field, confirm, form
from cockpit.ui.screens.views import DetailScreen, LogsScreen, PickScreen
from cockpit.ui.text import clean

CRASH_WORDS = ("CrashLoopBackOff", "OOMKilled", "Error")


async def restart(cockpit: Cockpit, pod: PodHealth) -> None:
    """r: ask the cluster what a restart means here, confirm with its words, restart."""
    cluster = cockpit.runtime.cluster
    if cluster is None:
        return
    try:
        plan = await cluster.plan_restart(pod)
    except BackendError as exc:
        cockpit.notify(f"cannot restart {clean(pod.key)}: {clean(exc)}", severity="error")
        return
    if plan.refusal:
        cockpit.notify(clean(plan.refusal), severity="error", timeout=12)
        return
    options = []
    for mode in plan.modes:
        if mode is RestartMode.DELETE_POD:
            label = (
                f"Delete only pod {pod.name}; "
                f"its {plan.workload_kind or pod.owner_kind} recreates it"
                if plan.workload_kind or pod.owner_kind
                else f"Delete pod {pod.name} (nothing recreates it)"
            )
        else:
            label = (
                f"Rollout restart {plan.workload_kind} {plan.workload_name}: "
                "replaces every pod, one by one"
            )
        options.append((clean(label), mode.value))
    body = Text(
        f"Pod {clean(pod.key)}: {clean(pod.status)}, {pod.restarts} restarts, "
        f"on {clean(pod.node) or '?'}."
    )
    if plan.warning:
        body.append(f"\nWARNING: {clean(plan.warning)}", style="bold red")
    unhealthy = unhealthy_siblings(cockpit, pod)
    mode = preselected_mode(plan.modes, unhealthy)
    following = cockpit.following
    if following is not None and following.narrows_pods and RestartMode.ROLLOUT in plan.modes:
        # followed from an alert: it says what is broken. About the Deployment (or all its
        # pods): deleting one pod brings back the same template, the rollout is the fix;
        # about this one pod: delete it
        about_workload = _alert_is_about_the_workload(cockpit, pod)
        mode = RestartMode.ROLLOUT if about_workload else RestartMode.DELETE_POD
        if about_workload:
            body.append(
                f"\nFollowing {clean(following.name)}: it names {plan.workload_kind} "
                f"{clean(plan.workload_name)}, so the rollout restart is preselected.",
                style="bold",
            )
    elif mode is RestartMode.ROLLOUT:
        body.append(
            f"\n{unhealthy} pods of {clean(plan.workload_name)} are unhealthy: a rollout "
            "restart replaces them all (deleting one fixes one).",
        )
    repeat = cockpit.actions.restart_repeat(pod)
    if repeat:  # another seat (or you) just did this: say so before it happens twice
        body.append(f"\nALREADY DONE: {clean(repeat)}", style="bold red")
    values = await cockpit.push_screen_wait(
        confirm(
            f"Restart {clean(pod.key)}?",
            body,
            confirm_label="Restart",
            fields=[Field("mode", "What to do", mode.value, kind="radio", options=options)],
        )
    )
    if values is None:
        return
    result = await cockpit.actions.restart(pod, RestartMode(values["mode"]))
    if result.ok:
        cockpit.acted_on("pods")
    cockpit.report(result)


def unhealthy_siblings(cockpit: Cockpit, pod: PodHealth) -> int:
    """How many pods of the same workload (the same owner) are unhealthy, this one included."""
    if not pod.owner_name:
        return 0 if pod.healthy else 1
    return sum(
        1
        for other in cockpit.live.pods.values()
        if other.namespace == pod.namespace
        and other.owner_name == pod.owner_name
        and not other.healthy
    )


def preselected_mode(
    modes: tuple[RestartMode, ...] | list[RestartMode], unhealthy: int
) -> RestartMode:
    """Two or more unhealthy pods of one workload: the workload is broken, the rollout
    restart is the fix; otherwise delete the one pod (its controller recreates it)."""
    if unhealthy >= 2 and RestartMode.ROLLOUT in modes:
        return RestartMode.ROLLOUT
    if RestartMode.DELETE_POD in modes:
        return RestartMode.DELETE_POD
    return modes[0]


def _alert_is_about_the_workload(cockpit: Cockpit, pod: PodHealth) -> bool:
    following = cockpit.following
    if following is None or not following.narrows_pods:
        return False
    live = cockpit.live
    return following.pods(live.groups, live.pods.values(), object()).names_workload_of(pod)


async def logs(cockpit: Cockpit, pod: PodHealth) -> None:
    """l: the last lines of the pod's first container (p previous, f follow, c container).
    A crash-looping pod opens on the previous container: the one that crashed, where the
    reason is; the current one has just started and says nothing yet."""
    cluster = cockpit.runtime.cluster
    if cluster is None:
        return
    container = pod.containers[0] if pod.containers else ""
    kubernetes = cockpit.config.kubernetes
    tail = kubernetes.log_lines if kubernetes else 200
    crashed = pod.restarts > 0 and any(w in pod.status for w in CRASH_WORDS)
    cockpit.push_screen(LogsScreen(cluster, pod, container, tail, previous=crashed))


async def detail(cockpit: Cockpit, pod: PodHealth) -> None:
    """enter: containers, states, last terminations and the pod's recent events."""
    cluster = cockpit.runtime.cluster
    if cluster is None:
        return
    try:
        found = await cluster.detail(pod)
    except BackendError as exc:
        cockpit.notify(f"{clean(pod.key)}: {clean(exc)}", severity="error")
        return
    cockpit.push_screen(
        DetailScreen(f"Pod {clean(pod.key)}", pod_detail(found, cockpit.clock.now()))
    )


async def switch_context(cockpit: Cockpit) -> None:
    """Palette: pick a kubeconfig context and namespaces; the pod watch starts over there."""
    cluster = cockpit.runtime.cluster
    if not isinstance(cluster, Switchable):
        return
    try:
        contexts = await asyncio.to_thread(cluster.contexts)
    except Exception as exc:
        cockpit.notify(f"cannot list contexts: {clean(exc)}", severity="error")
        return
    chosen = await cockpit.push_screen_wait(
        PickScreen("Kubernetes context", [(c, c) for c in contexts])
    )
    if chosen is None:
        return
    values = await cockpit.push_screen_wait(
        form(
            f"Namespaces in {chosen}",
            [Field("namespaces", "Namespaces (comma separated, empty: all)", "")],
            submit_label="Switch",
        )
    )
    if values is None:
        return
    namespaces = tuple(n.strip() for n in values["namespaces"].split(",") if n.strip())
    try:
        await cluster.switch(chosen, namespaces)
    except Exception as exc:
        cockpit.notify(f"cannot switch: {clean(exc)}", severity="error")
        return
    cockpit.rewatch_pods()
    cockpit.notify(f"watching {clean(chosen)} {', '.join(namespaces) or 'all namespaces'}")
