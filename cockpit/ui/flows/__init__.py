"""User flows, one module per feature: `async def verb(cockpit, subject) -> None`.

A flow holds the conversation with the engineer (gather, confirm, report); the change
itself is one call to the action layer (cockpit.actions), which owns the read-only gate,
the audit log and the timeline. Flows are started with `cockpit.start(flow, subject)`
and take the narrow `Cockpit` protocol (cockpit/ui/context.py), never the App.
"""
