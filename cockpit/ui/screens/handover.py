"""The handover dialogs: the outgoing engineer's Markdown to edit, the incoming one's to read.

Both are forms and confirmations like every other (forms.py), with room for a page of
Markdown: the editor is tall, and the text to acknowledge scrolls in the body.
"""

from __future__ import annotations

from rich.text import Text

from cockpit.ui.screens.forms import Field, FormScreen


class HandoverScreen(FormScreen):
    DEFAULT_CSS = """
    HandoverScreen > #dialog { max-width: 120; }
    HandoverScreen #body { max-height: 16; }
    HandoverScreen TextArea { height: 14; }
    """


def handover_editor(markdown: str) -> HandoverScreen:
    """The draft to edit; ctrl+s saves it to the timeline, escape drops it."""
    return HandoverScreen(
        "Shift handover: edit, then ctrl+s saves it to the timeline",
        "",
        fields=[Field("markdown", "Handover (Markdown)", markdown, kind="text")],
        confirm_label="Save handover",
        is_form=True,
        validate=lambda v: "" if str(v["markdown"]).strip() else "the handover is empty",
    )


def handover_to_acknowledge(author: str, when: str, markdown: str) -> HandoverScreen:
    """The saved handover for the incoming engineer: y acknowledges it (one key)."""
    return HandoverScreen(
        f"Handover from {author} at {when}: read it, then y acknowledges",
        Text(markdown),
        confirm_label="Acknowledge",
        danger=False,
    )
