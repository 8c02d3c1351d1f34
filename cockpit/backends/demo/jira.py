"""A simulated Jira for `cockpit --demo`: tickets are filed at once, and the developers
react on the demo clock (assigned and In Progress after 45 s, a comment after 90 s, the
fix after 4 minutes), so following a ticket can be tried without a Jira."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cockpit.backends.base import NotFound
from cockpit.clock import Clock
from cockpit.domain import Ticket, TicketComment, TicketDraft, TicketState

URL = "https://acme.atlassian.net"

# (after, status, category, assignee, developer comment or "")
SCRIPT = (
    (timedelta(seconds=45), "In Progress", "indeterminate", "Dev Bob", ""),
    (
        timedelta(seconds=90),
        "In Progress",
        "indeterminate",
        "Dev Bob",
        "Looking at it: the heap limit of payments-api was lowered in 1.4.2. Rolling back.",
    ),
    (
        timedelta(minutes=4),
        "In Review",
        "indeterminate",
        "Dev Bob",
        "Rolled back to 1.4.1, the fix is in review. Please confirm from your side.",
    ),
)


@dataclass
class _Filed:
    ticket: Ticket
    draft: TicketDraft
    at: datetime
    ours: list[TicketComment] = field(default_factory=list)


class DemoJira:
    name = "jira"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._filed: dict[str, _Filed] = {}
        self._numbers: dict[str, int] = {}
        self._comment_ids = 0

    async def create(self, draft: TicketDraft) -> Ticket:
        number = self._numbers.get(draft.project, 0) + 1
        self._numbers[draft.project] = number
        key = f"{draft.project}-{number}"
        ticket = Ticket(key, str(10000 + len(self._filed)), f"{URL}/browse/{key}")
        self._filed[key] = _Filed(ticket, draft, self.clock.now())
        return ticket

    async def find(self, draft: TicketDraft) -> Ticket | None:
        for filed in self._filed.values():
            if filed.draft.label == draft.label:
                return filed.ticket
        return None

    async def read(self, key: str) -> TicketState:
        filed = self._filed.get(key)
        if filed is None:
            raise NotFound(f"Jira: 404 Not Found: cannot read {key}")
        age = self.clock.now() - filed.at
        status, category, assignee = "To Do", "new", ""
        comments: list[TicketComment] = []
        for i, (after, s, c, who, text) in enumerate(SCRIPT):
            if age >= after:
                status, category, assignee = s, c, who
                if text:
                    comments.append(TicketComment(f"dev-{i}", who, text))
        return TicketState(key, status, category, assignee, tuple(comments + filed.ours))

    async def comment(self, key: str, text: str) -> TicketComment:
        filed = self._filed.get(key)
        if filed is None:
            raise NotFound(f"Jira: 404 Not Found: cannot comment on {key}")
        self._comment_ids += 1
        posted = TicketComment(f"own-{self._comment_ids}", "On-call Bot", text)
        filed.ours.append(posted)
        return posted

    async def close(self) -> None:
        return None
