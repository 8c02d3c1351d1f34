"""Queue flows: the messages at the head of a queue, and quarantining one of them."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from cockpit.domain import QueueDepth, QueueMessage
from cockpit.ui.context import Cockpit
from cockpit.ui.screens.forms import confirm
from cockpit.ui.screens.views import MessagesScreen
from cockpit.ui.text import clean


async def messages(cockpit: Cockpit, queue: QueueDepth) -> None:
    """m / enter: peek at the head of the queue (requeued); d there quarantines one."""
    broker = cockpit.runtime.broker
    if broker is None:
        return
    rabbitmq = cockpit.config.rabbitmq
    count = rabbitmq.peek_count if rabbitmq else 10

    def on_quarantine(message: QueueMessage, after: Callable[[], object]) -> None:
        cockpit.start(quarantine, queue, message, after)

    cockpit.push_screen(
        MessagesScreen(
            broker,
            queue,
            count,
            can_quarantine=cockpit.actions.allowed("quarantine"),
            on_quarantine=on_quarantine,
        )
    )


async def quarantine(
    cockpit: Cockpit,
    queue: QueueDepth,
    message: QueueMessage,
    after: Callable[[], object] | None = None,
) -> None:
    """d: copy ONE message durably, then remove it; every other message stays in order."""
    dlx = queue.dead_letter_exchange
    target = f"dead-letter exchange {dlx!r}" if dlx else f"queue {queue.name}.quarantine"
    body = Text.assemble(
        "Removes ONE message from ",
        (clean(queue.key), "bold"),
        f": message {clean(message.identity)} at position {message.position}.\n"
        f"First a copy goes to the {clean(target)} (with publisher confirms) and to a JSON "
        "file in the quarantine folder; only then is the original acknowledged. Every other "
        "message stays, in order. Nothing is removed if the copy fails.",
    )
    repeat = cockpit.actions.quarantine_repeat(queue, message)
    if repeat:  # another seat (or you) just did this: say so before it happens twice
        body.append(f"\nALREADY DONE: {clean(repeat)}", style="bold red")
    values = await cockpit.push_screen_wait(
        confirm(f"Quarantine a message from {clean(queue.name)}?", body, confirm_label="Quarantine")
    )
    if values is None:
        return
    cockpit.notify(f"quarantining {clean(message.identity)}…", timeout=3)
    cockpit.report(await cockpit.actions.quarantine(queue, message))
    cockpit.poll_now("queues")
    if after is not None:
        after()
