"""JiraTracker against the contract server: exact requests, answers, errors as Jira gives them."""

from __future__ import annotations

import base64

import httpx
import pytest

from cockpit.backends.base import AuthError, Forbidden, NotFound, RateLimited
from cockpit.backends.jira import JiraGone, JiraRejected, JiraTracker
from tests.incident.fakehttp import Reply
from tests.jira.conftest import EMAIL, PAT, TOKEN, draft, jira_config
from tests.jira.server import FakeJira, adf_problem, adf_text


async def test_create_sends_the_documented_body_and_reads_201(
    fake_jira: FakeJira, tracker: JiraTracker
) -> None:
    ticket = await tracker.create(draft())
    assert ticket.key == "PAY-1"
    assert ticket.url == f"{fake_jira.url}/browse/PAY-1"
    (request,) = fake_jira.creates()
    assert request.path == "/rest/api/3/issue"
    expected_auth = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == expected_auth
    assert request.headers["content-type"].startswith("application/json")
    fields = request.body["fields"]
    assert set(fields) == {"project", "issuetype", "summary", "description", "labels", "priority"}
    assert fields["project"] == {"key": "PAY"}
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["summary"] == "Checkout p99 latency above 2s"
    assert fields["priority"] == {"name": "Highest"}
    assert fields["labels"] == ["from-oncall", "cockpit-INC-2026-0001-1"]
    assert adf_problem(fields["description"]) == ""
    assert fields["description"]["content"][0] == {
        "type": "heading",
        "attrs": {"level": 2},
        "content": [{"type": "text", "text": "What happened"}],
    }
    link = fields["description"]["content"][1]["content"][1]
    assert link["marks"] == [
        {"type": "link", "attrs": {"href": "https://grafana.acme.example/d/1"}}
    ]


async def test_no_priority_is_sent_when_none_is_mapped(
    fake_jira: FakeJira, tracker: JiraTracker
) -> None:
    await tracker.create(draft(priority=""))
    assert "priority" not in fake_jira.creates()[0].body["fields"]


async def test_400_names_each_field_in_one_line(fake_jira: FakeJira, tracker: JiraTracker) -> None:
    # OPS has no priority on its create screen and no "Bug" issue type
    with pytest.raises(JiraRejected) as error:
        await tracker.create(draft(project="OPS"))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("Jira: 400 Bad Request: cannot create a Bug in OPS: ")
    assert "issuetype: Specify a valid issue type" in message
    assert (
        "priority: Field 'priority' cannot be set. It is not on the appropriate screen" in message
    )
    assert set(error.value.fields) == {"issuetype", "priority"}
    assert not error.value.retryable
    assert not fake_jira.created()


async def test_400_for_a_summary_jira_refuses(fake_jira: FakeJira, tracker: JiraTracker) -> None:
    with pytest.raises(JiraRejected) as error:
        await tracker.create(draft(summary="x" * 300))
    assert "summary: Summary must be less than 255 characters." in str(error.value)


async def test_401_names_the_credentials_and_never_the_token(fake_jira: FakeJira) -> None:
    client = JiraTracker(jira_config(fake_jira.url), token="wrong-token-value")
    try:
        with pytest.raises(AuthError) as error:
            await client.create(draft())
    finally:
        await client.close()
    message = str(error.value)
    assert message.startswith("Jira: 401 Unauthorized: ")
    assert f"{EMAIL} with the API token (Basic auth email:token) was refused" in message
    assert "secret 'jira'" in message
    assert "wrong-token-value" not in message
    assert not error.value.retryable


async def test_403_says_what_was_not_allowed(fake_jira: FakeJira, tracker: JiraTracker) -> None:
    fake_jira.accounts[EMAIL].may_create = frozenset({"PLAT"})
    with pytest.raises(Forbidden) as error:
        await tracker.create(draft())
    assert str(error.value) == (
        f"Jira: 403 Forbidden: {EMAIL} may not create a Bug in PAY: "
        "You do not have permission to create issues in this project."
    )


async def test_404_on_an_unknown_issue(tracker: JiraTracker) -> None:
    with pytest.raises(NotFound) as error:
        await tracker.read("PAY-404")
    assert str(error.value) == (
        "Jira: 404 Not Found: cannot read PAY-404: "
        "Issue does not exist or you do not have permission to see it."
    )


async def test_429_raises_rate_limited_with_retry_after(
    fake_jira: FakeJira, tracker: JiraTracker
) -> None:
    fake_jira.forced.append(
        Reply(429, {"errorMessages": ["Rate limit exceeded."]}, {"Retry-After": "17"})
    )
    with pytest.raises(RateLimited) as error:
        await tracker.create(draft())
    assert error.value.retry_after == 17
    assert "retry after 17s" in str(error.value)
    # absurd values are clamped: never parked for years, never a busy loop
    for header, expected in (("99999999999", 900.0), ("0", 1.0), ("nan", 30.0), ("soon", 30.0)):
        fake_jira.forced.append(Reply(429, None, {"Retry-After": header}))
        with pytest.raises(RateLimited) as error:
            await tracker.read("PAY-1")
        assert error.value.retry_after == expected
    assert not fake_jira.created()


async def test_the_removed_search_answers_410_and_search_jql_finds_the_label(
    fake_jira: FakeJira, tracker: JiraTracker
) -> None:
    async with httpx.AsyncClient() as http:
        auth = (EMAIL, TOKEN)
        old_get = await http.get(
            f"{fake_jira.url}/rest/api/3/search", params={"jql": "x"}, auth=auth
        )
        old_post = await http.post(
            f"{fake_jira.url}/rest/api/3/search", json={"jql": "x"}, auth=auth
        )
    assert old_get.status_code == old_post.status_code == 410
    assert "/rest/api/3/search/jql" in old_get.json()["errorMessages"][0]

    assert await tracker.find(draft()) is None
    await tracker.create(draft())
    await tracker.create(draft(number=2))
    found = await tracker.find(draft())
    assert found is not None and found.key == "PAY-1"
    searches = [r for r in fake_jira.requests if "search" in r.path and r.method == "POST"]
    assert {r.path for r in searches[-2:]} == {"/rest/api/3/search/jql"}
    assert searches[-1].body == {
        "jql": 'labels = "cockpit-INC-2026-0001-1"',
        "fields": ["summary", "labels"],
        "maxResults": 5,
    }


async def test_a_410_is_reported_as_gone(fake_jira: FakeJira, tracker: JiraTracker) -> None:
    fake_jira.forced.append(Reply(410, {"errorMessages": ["The requested API has been removed."]}))
    with pytest.raises(JiraGone) as error:
        await tracker.find(draft())
    assert str(error.value) == "Jira: 410 Gone: The requested API has been removed."


async def test_read_gives_status_assignee_and_every_comment(
    fake_jira: FakeJira, tracker: JiraTracker
) -> None:
    ticket = await tracker.create(draft())
    fake_jira.transition(ticket.key, "In Progress")
    fake_jira.assign(ticket.key, "Dev Bob")
    for i in range(7):
        fake_jira.developer_comment(ticket.key, f"looking {i}")
    fake_jira.embedded_comments = 5  # the issue holds 5, the comment endpoint pages the rest
    state = await tracker.read(ticket.key)
    assert (state.status, state.status_category, state.assignee) == (
        "In Progress",
        "indeterminate",
        "Dev Bob",
    )
    assert [c.body for c in state.comments] == [f"looking {i}" for i in range(7)]
    assert {c.author for c in state.comments} == {"Dev Bob"}
    read = [r for r in fake_jira.requests if r.method == "GET" and r.path.endswith(ticket.key)]
    assert read[-1].query == {"fields": ["status,comment,assignee"]}


async def test_comment_is_adf(fake_jira: FakeJira, tracker: JiraTracker) -> None:
    ticket = await tracker.create(draft())
    posted = await tracker.comment(ticket.key, "restarted payments-api\n\n— alice")
    request = fake_jira.requests[-1]
    assert request.path == f"/rest/api/3/issue/{ticket.key}/comment"
    assert adf_problem(request.body["body"]) == ""
    assert adf_text(request.body["body"]) == "restarted payments-api\n— alice\n"
    assert posted.id and posted.author == "On-call Bot"


async def test_data_center_uses_a_bearer_pat_and_string_bodies(fake_jira: FakeJira) -> None:
    config = jira_config(fake_jira.url, api_version=2, email="")
    client = JiraTracker(config, token=PAT)
    try:
        ticket = await client.create(draft())
        assert ticket.key == "PAY-1"
        found = await client.find(draft())
        await client.comment(ticket.key, "a note")
    finally:
        await client.close()
    assert found is not None and found.key == "PAY-1"
    create = fake_jira.creates()[0]
    assert create.path == "/rest/api/2/issue"
    assert create.headers["authorization"] == f"Bearer {PAT}"
    description = create.body["fields"]["description"]
    assert description.startswith("h2. What happened\n")
    assert "[https://grafana.acme.example/d/1]" in description
    assert [r.path for r in fake_jira.requests if "search" in r.path] == ["/rest/api/2/search"]
    assert fake_jira.requests[-1].body == {"body": "a note\n"}


async def test_unreachable_and_not_json_are_one_line(fake_jira: FakeJira) -> None:
    from cockpit.backends.base import BadResponse, Unreachable

    dead = JiraTracker(jira_config("http://127.0.0.1:9"), token=TOKEN)
    try:
        with pytest.raises(Unreachable) as error:
            await dead.read("PAY-1")
    finally:
        await dead.close()
    assert str(error.value) == "Jira: cannot reach http://127.0.0.1:9 (ConnectError)"
    client = JiraTracker(jira_config(fake_jira.url), token=TOKEN)
    fake_jira.forced.append(Reply(200, "<html>maintenance</html>"))
    try:
        with pytest.raises(BadResponse):
            await client.read("PAY-1")
    finally:
        await client.close()
