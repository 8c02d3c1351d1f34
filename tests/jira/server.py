"""A local server following Jira's documented REST contract: Cloud v3, and Data Center v2.

Cloud (/rest/api/3):
- `Authorization: Basic base64(email:api_token)`; anything else: 401 with errorMessages.
- POST /issue {"fields": {project, issuetype, summary, description, labels, priority}}:
  201 {"id", "key", "self"}; 400 {"errorMessages": [...], "errors": {field: message}} for a
  missing summary (or one over 255 characters), an unknown project or issue type, a
  description that is not a valid Atlassian Document, labels with spaces, a priority that
  is not on the project's create screen or not known. 403 when the account may not create
  issues in the project.
- GET and POST /search: 410 Gone (removed; CHANGE-2046). POST /search/jql {"jql", "fields",
  "maxResults"}: {"issues": [...], "isLast": true}; issues carry only their id unless fields
  are asked for. JQL understood: `labels = "x"` optionally `AND project = KEY`; else 400.
- GET /issue/{key}?fields=status,comment,assignee; 404 "Issue does not exist or you do not
  have permission to see it." The embedded comment block may hold fewer comments than its
  `total` (then GET /issue/{key}/comment?startAt=&maxResults= pages them).
- POST /issue/{key}/comment {"body": ADF}: 201 with the comment; 400 for a body that is not
  a valid Atlassian Document.
- GET /myself, GET /project/{key} (with its issueTypes; 404 "No project could be found").
Data Center (/rest/api/2): `Authorization: Bearer <personal access token>`; description and
comment bodies are strings (wiki markup); POST /search is the search (there is no /search/jql).

Tests drive the developers' side directly: transition(), assign(), developer_comment().
Every request is recorded (FakeServer), forced replies (429 + Retry-After) go first.
"""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.incident.fakehttp import FakeServer, Recorded, Reply

REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
NOT_AN_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
OFF_SCREEN = "It is not on the appropriate screen, or unknown."
NO_ISSUE = "Issue does not exist or you do not have permission to see it."
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
CATEGORIES = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}

BLOCKS = {"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule"}
INLINES = {"text", "hardBreak", "mention", "emoji", "inlineCard"}
MARKS = {"strong", "em", "code", "strike", "underline", "link", "textColor", "subsup"}


def adf_problem(node: Any) -> str:
    """'' when node is a valid ADF document (the subset Jira's editor writes), else why not."""
    if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
        return "root must be {type: doc, version: 1}"
    content = node.get("content")
    if not isinstance(content, list):
        return "doc.content must be a list"
    for child in content:
        problem = _block(child, depth=1)
        if problem:
            return problem
    return ""


def _block(node: Any, depth: int) -> str:
    if depth > 30:
        return "nested too deep"
    if not isinstance(node, dict) or node.get("type") not in BLOCKS | {"listItem"}:
        return f"unknown block node {node.get('type') if isinstance(node, dict) else node!r}"
    kind = node["type"]
    content = node.get("content", [])
    if not isinstance(content, list):
        return f"{kind}.content must be a list"
    if kind == "rule":
        return "" if not content else "rule has no content"
    if kind in ("paragraph", "heading"):
        if kind == "heading":
            level = (node.get("attrs") or {}).get("level")
            if not isinstance(level, int) or not 1 <= level <= 6:
                return "heading.attrs.level must be 1..6"
        return next((p for p in (_inline(c) for c in content) if p), "")
    if kind == "codeBlock":
        for child in content:
            if not isinstance(child, dict) or child.get("type") != "text" or child.get("marks"):
                return "codeBlock holds unmarked text only"
            if not child.get("text"):
                return "text nodes must not be empty"
        return ""
    if kind in ("bulletList", "orderedList"):
        if not content:
            return f"{kind} needs at least one listItem"
        for child in content:
            if not isinstance(child, dict) or child.get("type") != "listItem":
                return f"{kind} holds listItems only"
            problem = _block(child, depth + 1)
            if problem:
                return problem
        return ""
    if kind == "listItem":
        if not content:
            return "listItem needs content"
        allowed = {"paragraph", "bulletList", "orderedList", "codeBlock"}
        for child in content:
            if not isinstance(child, dict) or child.get("type") not in allowed:
                return "listItem holds paragraphs, lists and code blocks"
            problem = _block(child, depth + 1)
            if problem:
                return problem
        return ""
    if kind == "blockquote":
        for child in content:
            if not isinstance(child, dict) or child.get("type") != "paragraph":
                return "blockquote holds paragraphs"
            problem = _block(child, depth + 1)
            if problem:
                return problem
    return ""


def _inline(node: Any) -> str:
    if not isinstance(node, dict) or node.get("type") not in INLINES:
        return f"unknown inline node {node.get('type') if isinstance(node, dict) else node!r}"
    if node["type"] != "text":
        return ""
    value = node.get("text")
    if not isinstance(value, str) or not value:
        return "text nodes must not be empty"
    marks = node.get("marks", [])
    if not isinstance(marks, list):
        return "marks must be a list"
    for mark in marks:
        if not isinstance(mark, dict) or mark.get("type") not in MARKS:
            return "unknown mark"
        if mark["type"] == "link" and not isinstance((mark.get("attrs") or {}).get("href"), str):
            return "a link mark needs attrs.href"
    return ""


def adf_text(node: Any) -> str:
    """The text of an ADF document, for the tests' assertions."""
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "hardBreak":
            return "\n"
        inner = "".join(adf_text(c) for c in node.get("content", []))
        return inner + ("\n" if node.get("type") in BLOCKS else "")
    return ""


@dataclass
class Project:
    key: str
    id: str
    name: str
    issue_types: tuple[str, ...] = ("Bug", "Task", "Story")
    # fields on the create screen: priority is missing on some projects' screens
    screen: frozenset[str] = frozenset(
        {"project", "issuetype", "summary", "description", "labels", "priority"}
    )


@dataclass
class Account:
    email: str
    account_id: str
    display_name: str
    may_create: frozenset[str] = frozenset({"*"})  # project keys, or "*"


@dataclass
class Issue:
    id: str
    key: str
    project: str
    fields: dict[str, Any]
    status: str = "To Do"
    assignee: Account | None = None
    comments: list[dict[str, Any]] = field(default_factory=list)


class FakeJira(FakeServer):
    def __init__(
        self,
        *,
        tokens: dict[str, str] | None = None,  # email -> API token (Cloud)
        pats: dict[str, str] | None = None,  # personal access token -> email (Data Center)
    ) -> None:
        super().__init__()
        self.tokens = tokens if tokens is not None else {"oncall@acme.example": "jira-token"}
        self.pats = pats or {}
        self.accounts: dict[str, Account] = {}
        for i, email in enumerate([*self.tokens, *self.pats.values()]):
            self.accounts.setdefault(
                email, Account(email, f"5b10ac8d82e05b22cc7d4e{i:02d}", "On-call Bot")
            )
        self.developer = Account("dev.bob@acme.example", "5b10a2844c20165700ede21g", "Dev Bob")
        self.projects: dict[str, Project] = {
            "PAY": Project("PAY", "10000", "Payments"),
            "PLAT": Project("PLAT", "10001", "Platform"),
            "OPS": Project(
                "OPS",
                "10002",
                "Operations",
                issue_types=("Task",),
                screen=frozenset({"project", "issuetype", "summary", "description", "labels"}),
            ),
        }
        self.issues: dict[str, Issue] = {}
        self.next_id = 10100
        self.next_comment = 20000
        self.embedded_comments = 0  # >0: GET issue embeds only this many comments
        self.hang_on_summary = ""  # a create whose summary has this is answered after release
        self.hung = threading.Event()
        self.problems: list[str] = []  # why the last 400s were given (for failing tests)
        # search/jql is eventually consistent: with search_lag, new issues stay out of
        # search results until index() is called
        self.search_lag = False
        self.indexed: set[str] = set()

    # ----------------------------------------------------------------- developers' side

    def transition(self, key: str, status: str) -> None:
        with self.lock:
            self.issues[key].status = status

    def assign(self, key: str, name: str = "Dev Bob") -> None:
        with self.lock:
            self.issues[key].assignee = Account("x@acme.example", "5b1", name)

    def developer_comment(self, key: str, text: str, author: Account | None = None) -> str:
        with self.lock:
            return self._add_comment(
                self.issues[key],
                {"type": "doc", "version": 1, "content": [_paragraph(text)]},
                author or self.developer,
            )["id"]

    def index(self) -> None:
        with self.lock:
            self.indexed = set(self.issues)

    def created(self) -> list[Issue]:
        return list(self.issues.values())

    def creates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/issue")]

    # ----------------------------------------------------------------- the contract

    def handle(self, request: Recorded) -> Reply:
        match = re.match(r"^/rest/api/(2|3)(/.*)$", request.path)
        if not match:
            return Reply(404, {"errorMessages": ["Not found"], "errors": {}})
        version, path = int(match.group(1)), match.group(2)
        account = self._authenticate(request, version)
        if account is None:
            return Reply(401, {"errorMessages": [NOT_AUTHENTICATED], "errors": {}})
        if request.method in ("POST", "PUT") and "application/json" not in request.headers.get(
            "content-type", ""
        ):
            return Reply(415, {"errorMessages": ["Unsupported Media Type"], "errors": {}})
        if path == "/search" and version == 3:
            return Reply(410, {"errorMessages": [REMOVED_SEARCH], "errors": {}})
        if path == "/myself" and request.method == "GET":
            return Reply(200, self._user(account, request))
        if (path == "/search/jql" and version == 3) or (path == "/search" and version == 2):
            if request.method != "POST":
                return Reply(405, {"errorMessages": ["Method not allowed"], "errors": {}})
            return self._search(request, version)
        if path == "/issue" and request.method == "POST":
            return self._create(request, account, version)
        found = re.match(r"^/project/([^/]+)$", path)
        if found and request.method == "GET":
            return self._project(unquote(found.group(1)), request)
        found = re.match(r"^/issue/([^/]+)(/comment)?$", path)
        if found:
            issue = self._issue(unquote(found.group(1)))
            if issue is None:
                return Reply(404, {"errorMessages": [NO_ISSUE], "errors": {}})
            if found.group(2) and request.method == "POST":
                return self._comment(request, issue, account, version)
            if found.group(2) and request.method == "GET":
                return self._comments_page(request, issue)
            if not found.group(2) and request.method == "GET":
                return Reply(200, self._issue_json(issue, request))
        return Reply(404, {"errorMessages": ["Not found"], "errors": {}})

    def after(self, request: Recorded) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        fields = body.get("fields") if isinstance(body.get("fields"), dict) else {}
        summary = str(fields.get("summary", ""))
        if self.hang_on_summary and self.hang_on_summary in summary and request.status == 201:
            self.hung.set()
            self.release.wait(60)

    def _authenticate(self, request: Recorded, version: int) -> Account | None:
        auth = request.headers.get("authorization", "")
        if version == 3 and auth.startswith("Basic "):
            try:
                email, _, token = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            if self.tokens.get(email) == token and token:
                return self.accounts[email]
        if version == 2 and auth.startswith("Bearer "):
            email = self.pats.get(auth[7:])
            if email:
                return self.accounts[email]
        return None

    def _base(self, request: Recorded) -> str:
        return f"{self.url}{request.path.split('/rest/api/')[0]}"

    def _user(self, account: Account, request: Recorded) -> dict[str, Any]:
        return {
            "self": f"{self.url}/rest/api/3/user?accountId={account.account_id}",
            "accountId": account.account_id,
            "emailAddress": account.email,
            "displayName": account.display_name,
            "active": True,
            "timeZone": "Etc/UTC",
            "accountType": "atlassian",
        }

    def _project(self, key: str, request: Recorded) -> Reply:
        project = self.projects.get(key) or next(
            (p for p in self.projects.values() if p.id == key), None
        )
        if project is None:
            return Reply(
                404,
                {"errorMessages": [f"No project could be found with key '{key}'."], "errors": {}},
            )
        return Reply(
            200,
            {
                "self": f"{self.url}/rest/api/3/project/{project.id}",
                "id": project.id,
                "key": project.key,
                "name": project.name,
                "issueTypes": [
                    {"id": str(10000 + i), "name": name, "subtask": False}
                    for i, name in enumerate(project.issue_types)
                ],
            },
        )

    def _bad(self, errors: dict[str, str], messages: list[str] | None = None) -> Reply:
        self.problems.append(repr((errors, messages)))
        return Reply(400, {"errorMessages": messages or [], "errors": errors})

    def _create(self, request: Recorded, account: Account, version: int) -> Reply:
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
            return self._bad({}, ["Request body must hold fields"])
        fields: dict[str, Any] = body["fields"]
        ref = fields.get("project") if isinstance(fields.get("project"), dict) else {}
        project = self.projects.get(str(ref.get("key", ""))) or next(
            (p for p in self.projects.values() if p.id == str(ref.get("id", ""))), None
        )
        if project is None:
            return self._bad({"project": "Specify a valid project ID or key"})
        if "*" not in account.may_create and project.key not in account.may_create:
            return Reply(
                403,
                {
                    "errorMessages": [
                        "You do not have permission to create issues in this project."
                    ],
                    "errors": {},
                },
            )
        errors: dict[str, str] = {}
        for name in fields:
            if name not in project.screen:
                errors[name] = f"Field '{name}' cannot be set. {OFF_SCREEN}"
        kind = fields.get("issuetype") if isinstance(fields.get("issuetype"), dict) else {}
        if kind.get("name") not in project.issue_types:
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255 or "\n" in summary:
            errors["summary"] = "Summary must be less than 255 characters."
        if "description" in fields:
            description = fields["description"]
            if version == 3:
                problem = adf_problem(description)
                if problem:
                    self.problems.append(f"description: {problem}")
                    errors["description"] = NOT_AN_ADF
            elif not isinstance(description, str):
                errors["description"] = "Operation value must be a string"
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            errors["labels"] = "Operation value must be an array of strings"
        else:
            for label in labels:
                if " " in label or not label:
                    errors["labels"] = f"The label '{label}' contains spaces which is invalid."
        if "priority" in fields and "priority" in project.screen:
            priority = fields["priority"] if isinstance(fields["priority"], dict) else {}
            if priority.get("name") not in PRIORITIES and priority.get("id") not in set(
                PRIORITIES.values()
            ):
                errors["priority"] = "Specify the Priority (id or name) in the string format"
        if errors:
            return self._bad(errors)
        self.next_id += 1
        number = 1 + sum(1 for i in self.issues.values() if i.project == project.key)
        issue = Issue(str(self.next_id), f"{project.key}-{number}", project.key, dict(fields))
        self.issues[issue.key] = issue
        return Reply(
            201,
            {"id": issue.id, "key": issue.key, "self": f"{self.url}/rest/api/3/issue/{issue.id}"},
        )

    def _issue(self, key_or_id: str) -> Issue | None:
        return self.issues.get(key_or_id) or next(
            (i for i in self.issues.values() if i.id == key_or_id), None
        )

    def _search(self, request: Recorded, version: int) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        jql = str(body.get("jql", ""))
        match = re.fullmatch(
            r'\s*labels\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))(?:\s+AND\s+project\s*=\s*(\w+))?\s*',
            jql,
            re.I,
        )
        if not match:
            return self._bad({}, [f"Error in the JQL Query: cannot parse {jql!r}"])
        label = (match.group(1) or match.group(2) or "").replace('\\"', '"').replace("\\\\", "\\")
        project = match.group(3)
        wanted = body.get("fields") or []
        hits = []
        for issue in self.issues.values():
            if self.search_lag and issue.key not in self.indexed:
                continue
            if label in (issue.fields.get("labels") or []) and (
                project is None or issue.project == project
            ):
                hit: dict[str, Any] = {"id": issue.id}
                if wanted or version == 2:
                    hit.update(key=issue.key, self=f"{self.url}/rest/api/3/issue/{issue.id}")
                    hit["fields"] = {
                        name: self._field(issue, name, version)
                        for name in wanted
                        if name in {"summary", "labels", "status"}
                    }
                hits.append(hit)
        limit = int(body.get("maxResults") or 50)
        page = hits[:limit]
        if version == 2:
            return Reply(
                200, {"startAt": 0, "maxResults": limit, "total": len(hits), "issues": page}
            )
        return Reply(200, {"issues": page, "isLast": len(hits) <= limit})

    def _field(self, issue: Issue, name: str, version: int) -> Any:
        if name == "status":
            return {
                "name": issue.status,
                "id": str(list(CATEGORIES).index(issue.status) + 1)
                if issue.status in CATEGORIES
                else "9",
                "statusCategory": {
                    "key": CATEGORIES.get(issue.status, "indeterminate"),
                    "name": issue.status,
                },
            }
        return issue.fields.get(name)

    def _issue_json(self, issue: Issue, request: Recorded) -> dict[str, Any]:
        wanted = ",".join(request.query.get("fields", ["*all"])).split(",")
        fields: dict[str, Any] = {}
        if "status" in wanted or "*all" in wanted:
            fields["status"] = self._field(issue, "status", 3)
        if "assignee" in wanted or "*all" in wanted:
            fields["assignee"] = (
                {"accountId": issue.assignee.account_id, "displayName": issue.assignee.display_name}
                if issue.assignee
                else None
            )
        if "comment" in wanted or "*all" in wanted:
            shown = issue.comments
            if self.embedded_comments:
                shown = issue.comments[: self.embedded_comments]
            fields["comment"] = {
                "comments": shown,
                "maxResults": len(shown),
                "total": len(issue.comments),
                "startAt": 0,
            }
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.url}/rest/api/3/issue/{issue.id}",
            "fields": fields,
        }

    def _comments_page(self, request: Recorded, issue: Issue) -> Reply:
        start = int(request.query.get("startAt", ["0"])[0])
        limit = int(request.query.get("maxResults", ["50"])[0])
        page = issue.comments[start : start + limit]
        return Reply(
            200,
            {
                "comments": page,
                "startAt": start,
                "maxResults": limit,
                "total": len(issue.comments),
                "isLast": start + len(page) >= len(issue.comments),
            },
        )

    def _comment(self, request: Recorded, issue: Issue, account: Account, version: int) -> Reply:
        body = request.body.get("body") if isinstance(request.body, dict) else None
        if version == 3:
            problem = adf_problem(body)
            if problem:
                self.problems.append(f"comment: {problem}")
                return self._bad({"comment": NOT_AN_ADF})
        elif not isinstance(body, str) or not body.strip():
            return self._bad({"comment": "Comment body can not be empty!"})
        return Reply(201, self._add_comment(issue, body, account))

    def _add_comment(self, issue: Issue, body: Any, author: Account) -> dict[str, Any]:
        self.next_comment += 1
        comment = {
            "id": str(self.next_comment),
            "self": f"{self.url}/rest/api/3/issue/{issue.id}/comment/{self.next_comment}",
            "author": {"accountId": author.account_id, "displayName": author.display_name},
            "body": body,
            "created": "2026-11-25T03:30:00.000+0000",
            "updated": "2026-11-25T03:30:00.000+0000",
        }
        issue.comments.append(comment)
        return comment


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}] if text else []}
