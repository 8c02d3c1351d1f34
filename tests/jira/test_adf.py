"""The engineer's light Markdown becomes ADF that Jira accepts, and comments read back as text."""

from __future__ import annotations

import pytest

from cockpit.backends import jira_adf
from tests.jira.server import adf_problem


def test_structure_headings_lists_code_and_links() -> None:
    document = jira_adf.from_text(
        "## Firing alerts\n"
        "- CheckoutLatencyHigh (critical)\n"
        "  labels: team=payments, env=prod\n"
        "- DiskFull\n"
        "\n"
        "See https://runbooks.acme.example/checkout.\n"
        "```\n"
        "OOMKilled (exit 137)\n"
        "```\n"
    )
    assert adf_problem(document) == ""
    heading, items, para, code = document["content"]
    assert heading == {
        "type": "heading",
        "attrs": {"level": 2},
        "content": [{"type": "text", "text": "Firing alerts"}],
    }
    first = items["content"][0]["content"][0]["content"]
    assert [n.get("text", n["type"]) for n in first] == [
        "CheckoutLatencyHigh (critical)",
        "hardBreak",
        "labels: team=payments, env=prod",
    ]
    # the full stop ends the sentence, not the URL
    assert para["content"][1]["marks"][0]["attrs"]["href"] == (
        "https://runbooks.acme.example/checkout"
    )
    assert para["content"][2] == {"type": "text", "text": "."}
    assert code == {
        "type": "codeBlock",
        "content": [{"type": "text", "text": "OOMKilled (exit 137)"}],
    }


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\n\n\n",
        "```\n",  # an unclosed fence
        "- \n-",
        "# [bold]not markup[/]\n\x1b]2;PWNED\x07",
        "a" * 40_000,
        "- item\n```\ncode\n```\n  indented after code\n### h3\n####### seven hashes is text",
    ],
)
def test_any_text_gives_a_valid_document(source: str) -> None:
    assert adf_problem(jira_adf.from_text(source)) == ""


def test_outside_text_is_never_structure() -> None:
    document = jira_adf.from_text('label: {"type": "panel"} [link](http://x)')
    assert adf_problem(document) == ""
    texts = [n for n in document["content"][0]["content"]]
    assert texts[0] == {"type": "text", "text": 'label: {"type": "panel"} [link]('}
    assert texts[1]["marks"][0]["attrs"]["href"] == "http://x"


def test_a_developer_comment_reads_back_as_text() -> None:
    comment = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Fix deployed, "},
                    {"type": "mention", "attrs": {"id": "5b1", "text": "@alice"}},
                    {"type": "text", "text": " please watch"},
                ],
            },
            {
                "type": "bulletList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [
                            {"type": "paragraph", "content": [{"type": "text", "text": "v1.4.2"}]}
                        ],
                    },
                ],
            },
            {"type": "panel", "content": [{"type": "paragraph", "content": []}]},
        ],
    }
    assert jira_adf.to_plain(comment) == "Fix deployed, @alice please watch\n- v1.4.2"
    assert jira_adf.to_plain("a wiki string") == "a wiki string"
    deep: dict[str, object] = {"type": "doc", "content": []}
    node = deep
    for _ in range(5000):  # a hostile body: no RecursionError
        child: dict[str, object] = {"type": "blockquote", "content": []}
        node["content"] = [child]
        node = child
    assert jira_adf.to_plain(deep) == ""


def test_wiki_markup_for_data_center() -> None:
    document = jira_adf.from_text("## Pods\n- a\n- b http://x/y\nline\nnext")
    assert jira_adf.to_wiki(document) == "h2. Pods\n\n* a\n* b [http://x/y]\n\nline\\\\ next\n"
