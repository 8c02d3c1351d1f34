"""Bug tickets in Jira: Cloud REST v3 (Basic auth email:API token, ADF bodies) or
Data Center REST v2 (a personal access token as Bearer, wiki-markup strings).

- create:  POST /rest/api/{v}/issue -> 201 {id, key, self}; our label cockpit-<incident>-<n>
           goes with the configured labels.
- find:    after a crash between send and answer, the label is searched before re-sending:
           Cloud POST /rest/api/3/search/jql (the old /rest/api/3/search answers 410 Gone),
           Data Center POST /rest/api/2/search.
- read:    GET /rest/api/{v}/issue/{key}?fields=status,comment,assignee, then the comment
           pages when the issue holds more comments than it returned.
- comment: POST /rest/api/{v}/issue/{key}/comment {"body": ADF or string} -> 201.
- doctor:  GET /myself, GET /project/{key} (its issueTypes).

Errors as Jira gives them, one line each: 400 names every field of `errors` with its
message (and the `errorMessages`); 401 says which credentials were refused, 403 what was
not allowed; 404; 429 raises RateLimited with Retry-After (clamped to 1 s .. 15 min).
The token is never put into an error: each message is scrubbed of it before it leaves.
Requests go through BoundedHTTP (backends/http.py): a size limit and a total deadline.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.backends import jira_adf
from cockpit.backends.base import (
    AuthError,
    BackendError,
    BadResponse,
    Forbidden,
    NotFound,
    RateLimited,
    Unreachable,
)
from cockpit.backends.http import BoundedHTTP, loads_json, retry_after, tls_context
from cockpit.config import JiraConfig
from cockpit.domain import Ticket, TicketComment, TicketDraft, TicketState

COMMENT_PAGES = 20  # at most 20 x 100 comments read per poll of one issue
MASK = "•••"


class JiraRejected(BackendError):
    """400: Jira refused the request as invalid; `fields` maps each field to Jira's message."""

    retryable = False

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class JiraGone(BackendError):
    """410: the endpoint was removed (the old search): the cockpit must use another."""

    retryable = False


def auth_header(config: JiraConfig, token: str) -> str:
    """Cloud: Basic base64(email:token). Data Center (api_version 2): Bearer PAT."""
    if config.api_version == 2:
        return f"Bearer {token}"
    raw = f"{config.email}:{token}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _one_line(value: Any, limit: int = 300) -> str:
    line = " ".join(str(value).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_details(body: Any) -> tuple[list[str], dict[str, str]]:
    """(errorMessages, errors) from Jira's error body, whatever its shape."""
    if not isinstance(body, dict):
        return [], {}
    messages = body.get("errorMessages")
    fields = body.get("errors")
    listed = (
        [_one_line(m) for m in messages if str(m).strip()] if isinstance(messages, list) else []
    )
    named = (
        {str(k): _one_line(v) for k, v in fields.items() if str(v).strip()}
        if isinstance(fields, dict)
        else {}
    )
    return listed, named


def jira_error(
    config: JiraConfig,
    status: int,
    reason: str,
    body: Any,
    headers: httpx.Headers,
    what: str,
) -> BackendError:
    """The one-line error for a non-2xx answer; `what` says what was being done."""
    head = f"Jira: {status} {reason}".strip()
    messages, fields = error_details(body)
    said = "; ".join(messages)
    if status == 400:
        parts = [f"{name}: {message}" for name, message in sorted(fields.items())]
        parts.extend(messages)
        detail = "; ".join(parts) or "the request was refused as invalid"
        return JiraRejected(f"{head}: cannot {what}: {detail}", fields)
    if status == 401:
        if config.api_version == 2:
            who = "the personal access token (Bearer)"
        else:
            who = f"{config.email} with the API token (Basic auth email:token)"
        return AuthError(
            f"{head}: {who} was refused; check secret {config.api_token_secret!r}"
            + (f" ({said})" if said else "")
        )
    if status == 403:
        who = config.email or "the token's user"
        return Forbidden(f"{head}: {who} may not {what}" + (f": {said}" if said else ""))
    if status == 404:
        return NotFound(f"{head}: cannot {what}: " + (said or "no such resource, or no permission"))
    if status == 410:
        return JiraGone(f"{head}: " + (said or f"the API used to {what} was removed"))
    if status == 429:
        wait = retry_after(headers, 30.0)
        return RateLimited(f"{head}: too many requests, retry after {wait:g}s", wait)
    if status >= 500:
        return BadResponse(f"{head}" + (f": {said}" if said else ""))
    return BadResponse(f"{head}: unexpected answer while trying to {what}")


class JiraTracker:
    """TicketTracker on Jira's REST API (one httpx client, bounded requests)."""

    name = "jira"

    def __init__(
        self,
        config: JiraConfig,
        *,
        token: str,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self._token = token
        self._api = f"{config.url}/rest/api/{config.api_version}"
        self._headers = {
            "Authorization": auth_header(config, token),
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        timeout = config.timeout.total_seconds()
        self._deadline = timeout * 2  # connect + a slow body, never longer
        self._own_http = http is None
        self._http = BoundedHTTP(
            http or httpx.AsyncClient(verify=tls_context(), timeout=httpx.Timeout(timeout)),
            deadline=self._deadline,
            what="Jira",
        )

    def __repr__(self) -> str:  # never the token
        return f"JiraTracker(url={self.config.url!r}, api_version={self.config.api_version})"

    # ----------------------------------------------------------------- tickets

    def browse_url(self, key: str) -> str:
        return f"{self.config.url}/browse/{key}"

    def body(self, markdown: str) -> Any:
        """A description or comment body in the form this API version takes."""
        document = jira_adf.from_text(markdown)
        return document if self.config.api_version == 3 else jira_adf.to_wiki(document)

    def create_body(self, draft: TicketDraft) -> dict[str, Any]:
        labels = list(dict.fromkeys([*draft.labels, draft.label]))
        fields: dict[str, Any] = {
            "project": {"key": draft.project},
            "issuetype": {"name": draft.issue_type},
            "summary": draft.summary,
            "description": self.body(draft.description),
            "labels": labels,
        }
        if draft.priority:
            fields["priority"] = {"name": draft.priority}
        return {"fields": fields}

    async def create(self, draft: TicketDraft) -> Ticket:
        what = f"create a {draft.issue_type} in {draft.project}"
        data = await self._request("POST", "/issue", what, json_body=self.create_body(draft))
        key = str(data.get("key") or "") if isinstance(data, dict) else ""
        if not key:
            raise BadResponse("Jira: the answer to the create named no issue key")
        return Ticket(key=key, id=str(data.get("id") or ""), url=self.browse_url(key))

    async def find(self, draft: TicketDraft) -> Ticket | None:
        label = draft.label.replace("\\", "\\\\").replace('"', '\\"')
        query = {"jql": f'labels = "{label}"', "fields": ["summary", "labels"], "maxResults": 5}
        path = "/search/jql" if self.config.api_version == 3 else "/search"
        data = await self._request("POST", path, f"search for label {draft.label}", json_body=query)
        issues = data.get("issues") if isinstance(data, dict) else None
        hits = issues if isinstance(issues, list) else []
        for issue in hits:
            if not isinstance(issue, dict) or not issue.get("key"):
                continue
            fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
            labels = fields.get("labels") if isinstance(fields, dict) else None
            if isinstance(labels, list) and draft.label not in labels:
                continue  # a search that matched loosely: only our exact label counts
            key = str(issue["key"])
            return Ticket(key=key, id=str(issue.get("id") or ""), url=self.browse_url(key))
        for issue in hits:
            # search/jql may answer with ids only: read the hit itself for its key and labels
            if isinstance(issue, dict) and issue.get("id") and not issue.get("key"):
                issue_id = str(issue["id"])
                data = await self._request(
                    "GET",
                    f"/issue/{quote(issue_id)}",
                    f"read issue {issue_id}",
                    params={"fields": "labels"},
                )
                fields = data.get("fields") if isinstance(data, dict) else None
                labels = fields.get("labels") if isinstance(fields, dict) else None
                if (
                    isinstance(data, dict)
                    and data.get("key")
                    and (not isinstance(labels, list) or draft.label in labels)
                ):
                    key = str(data["key"])
                    return Ticket(key=key, id=issue_id, url=self.browse_url(key))
        return None

    async def read(self, key: str) -> TicketState:
        data = await self._request(
            "GET",
            f"/issue/{quote(key)}",
            f"read {key}",
            params={"fields": "status,comment,assignee"},
        )
        fields = data.get("fields") if isinstance(data, dict) else None
        if not isinstance(fields, dict):
            raise BadResponse(f"Jira: the answer for {key} has no fields")
        status = fields.get("status") if isinstance(fields.get("status"), dict) else {}
        category = status.get("statusCategory") if isinstance(status, dict) else None
        assignee = fields.get("assignee")
        block = fields.get("comment") if isinstance(fields.get("comment"), dict) else {}
        raw = block.get("comments") if isinstance(block, dict) else None
        comments = [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
        total = block.get("total") if isinstance(block, dict) else None
        if isinstance(total, int) and total > len(comments):
            comments = await self._all_comments(key)
        return TicketState(
            key=str(data.get("key") or key),
            status=_one_line(status.get("name", ""), 80) if isinstance(status, dict) else "",
            status_category=str(category.get("key", "")) if isinstance(category, dict) else "",
            assignee=_person(assignee),
            comments=tuple(self._comment(c) for c in comments if c.get("id") is not None),
        )

    async def _all_comments(self, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _page in range(COMMENT_PAGES):
            data = await self._request(
                "GET",
                f"/issue/{quote(key)}/comment",
                f"read the comments of {key}",
                params={"startAt": str(len(found)), "maxResults": "100", "orderBy": "created"},
            )
            page = data.get("comments") if isinstance(data, dict) else None
            if not isinstance(page, list) or not page:
                break
            found.extend(c for c in page if isinstance(c, dict))
            total = data.get("total")
            if not isinstance(total, int) or len(found) >= total:
                break
        return found

    def _comment(self, raw: dict[str, Any]) -> TicketComment:
        return TicketComment(
            id=str(raw.get("id")),
            author=_person(raw.get("author")) or "someone",
            body=jira_adf.to_plain(raw.get("body", ""), limit=5000),
            created=str(raw.get("created") or ""),
        )

    async def comment(self, key: str, text: str) -> TicketComment:
        data = await self._request(
            "POST",
            f"/issue/{quote(key)}/comment",
            f"comment on {key}",
            json_body={"body": self.body(text)},
        )
        if not isinstance(data, dict) or data.get("id") is None:
            raise BadResponse(f"Jira: the answer to the comment on {key} named no comment id")
        return self._comment(data)

    # ----------------------------------------------------------------- doctor

    async def myself(self) -> dict[str, Any]:
        data = await self._request("GET", "/myself", "read the account (GET /myself)")
        return data if isinstance(data, dict) else {}

    async def project_issue_types(self, project: str) -> list[str]:
        data = await self._request("GET", f"/project/{quote(project)}", f"read project {project}")
        types = data.get("issueTypes") if isinstance(data, dict) else None
        if not isinstance(types, list):
            return []
        return [str(t.get("name")) for t in types if isinstance(t, dict) and t.get("name")]

    async def close(self) -> None:
        if self._own_http:
            await self._http.aclose()

    # ----------------------------------------------------------------- http

    def _scrub(self, message: str) -> str:
        if self._token and len(self._token) >= 4:
            message = message.replace(self._token, MASK)
        encoded = self._headers["Authorization"].split(" ", 1)[-1]
        return message.replace(encoded, MASK)

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json_body: Any = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        try:
            return await self._exchange(method, path, what, json_body, params)
        except BackendError as exc:
            # the message may quote the server: the token never leaves in it
            scrubbed = self._scrub(str(exc))
            if scrubbed != str(exc):
                exc.args = (scrubbed,)
            raise

    async def _exchange(
        self, method: str, path: str, what: str, json_body: Any, params: dict[str, str] | None
    ) -> Any:
        content = None if json_body is None else json.dumps(json_body).encode()
        try:
            response = await self._http.request(
                method, self._api + path, content=content, params=params, headers=self._headers
            )
        except httpx.TimeoutException:
            raise Unreachable(
                f"Jira: no answer from {self.config.url} within {self._deadline:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise Unreachable(
                f"Jira: cannot reach {self.config.url} ({type(exc).__name__})"
            ) from None
        ok = 200 <= response.status_code < 300
        body = None
        if response.content.strip():
            try:
                body = loads_json(response.content, f"Jira ({response.status_code})")
            except BadResponse:
                if ok:
                    raise
        if not ok:
            raise jira_error(
                self.config,
                response.status_code,
                response.reason_phrase,
                body,
                response.headers,
                what,
            )
        return body


def _person(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return _one_line(value.get("displayName") or value.get("name") or "", 80)
