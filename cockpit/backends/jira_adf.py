"""Atlassian Document Format (ADF): the JSON that Jira Cloud's v3 API takes for the
description and comment bodies, built from the light Markdown the engineer edits.

What the engineer writes (and the ticket template prefills):
    ## Heading            a heading (1 to 6 #)
    - item                a bullet list item; indented lines continue the item
    ```                   a code block until the closing ```
    text                  a paragraph; consecutive lines are joined by hard breaks
Bare http(s) URLs become links. Nothing else is interpreted, so text from outside
(alert labels, pod reasons) never turns into structure by accident.

ADF rules kept here, because Jira refuses a document that breaks them with 400: the
root is {"type": "doc", "version": 1}; text nodes are never empty; a link mark carries
attrs.href; a code block holds unmarked text only; a list item holds paragraphs.

to_plain() reads a developer's comment back as one text; to_wiki() renders the same
document as wiki markup for Jira Data Center's v2 API, which takes plain strings.
"""

from __future__ import annotations

import re
from typing import Any

Node = dict[str, Any]

_URL = re.compile(r"https?://[^\s<>\"'`]+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_TRAILING = ".,;:!?)]}"  # punctuation after a URL belongs to the sentence, not the link


def doc(*blocks: Node) -> Node:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def text(value: str, *marks: Node) -> Node:
    if not value:
        raise ValueError("ADF text nodes must not be empty")
    node: Node = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def link(value: str, href: str) -> Node:
    return text(value, {"type": "link", "attrs": {"href": href}})


def inline(value: str) -> list[Node]:
    """Text with its bare URLs as links; [] for an empty string."""
    nodes: list[Node] = []
    pos = 0
    for match in _URL.finditer(value):
        url = match.group().rstrip(_TRAILING)
        start, end = match.start(), match.start() + len(url)
        if start > pos:
            nodes.append(text(value[pos:start]))
        nodes.append(link(url, url))
        pos = end
    if pos < len(value):
        nodes.append(text(value[pos:]))
    return nodes


def paragraph(*lines: str) -> Node:
    content: list[Node] = []
    for i, line in enumerate(lines):
        if i:
            content.append({"type": "hardBreak"})
        content.extend(inline(line))
    return {"type": "paragraph", "content": content}


def heading(level: int, value: str) -> Node:
    return {"type": "heading", "attrs": {"level": level}, "content": inline(value)}


def bullet_list(items: list[list[str]]) -> Node:
    """Each item is its lines: the first, then its continuation lines (hard breaks)."""
    return {
        "type": "bulletList",
        "content": [{"type": "listItem", "content": [paragraph(*lines)]} for lines in items],
    }


def code_block(value: str) -> Node:
    return {"type": "codeBlock", "content": [text(value)] if value else []}


def from_text(source: str) -> Node:
    """The engineer's light Markdown as an ADF document (see the module docstring)."""
    blocks: list[Node] = []
    para: list[str] = []
    items: list[list[str]] = []
    code: list[str] | None = None

    def flush() -> None:
        if para:
            blocks.append(paragraph(*para))
            para.clear()
        if items:
            blocks.append(bullet_list([list(i) for i in items]))
            items.clear()

    for raw in source.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if code is not None:
            if line.strip().startswith("```"):
                blocks.append(code_block("\n".join(code)))
                code = None
            else:
                code.append(raw)
            continue
        if line.strip().startswith("```"):
            flush()
            code = []
            continue
        if not line.strip():
            flush()
            continue
        head = _HEADING.match(line)
        bullet = _BULLET.match(line)
        if head:
            flush()
            blocks.append(heading(len(head.group(1)), head.group(2).strip()))
        elif bullet:
            if para:
                flush()
            items.append([bullet.group(1).strip()])
        elif items and raw[:1] in (" ", "\t"):
            items[-1].append(line.strip())  # an indented line continues the item
        else:
            if items:
                flush()
            para.append(line.strip())
    if code is not None:  # an unclosed fence: keep what was written
        blocks.append(code_block("\n".join(code)))
    flush()
    if not blocks:
        blocks.append({"type": "paragraph", "content": []})
    return doc(*blocks)


def to_plain(node: Any, limit: int = 0) -> str:
    """An ADF document (a developer's comment) as plain text; a string stays itself."""
    if isinstance(node, str):
        out = node
    else:
        parts: list[str] = []
        _plain(node, parts)
        out = "".join(parts).strip()
        out = re.sub(r"\n{3,}", "\n\n", out)
    if limit and len(out) > limit:
        out = out[: limit - 1] + "…"
    return out


_BLOCKS = {"paragraph", "heading", "codeBlock", "blockquote", "listItem", "panel", "rule"}


def _plain(node: Any, parts: list[str], depth: int = 0) -> None:
    if depth > 50:  # a hostile, deeply nested body: stop, do not recurse for ever
        return
    if isinstance(node, list):
        for child in node:
            _plain(child, parts, depth + 1)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "text":
        parts.append(str(node.get("text", "")))
        return
    if kind == "hardBreak":
        parts.append("\n")
        return
    raw_attrs = node.get("attrs")
    attrs: dict[str, Any] = raw_attrs if isinstance(raw_attrs, dict) else {}
    if kind == "mention":
        parts.append(str(attrs.get("text") or "@someone"))
        return
    if kind in ("inlineCard", "blockCard"):
        parts.append(str(attrs.get("url", "")))
        return
    if kind == "listItem":
        parts.append("- ")
    _plain(node.get("content", []), parts, depth + 1)
    if kind in _BLOCKS and parts and not parts[-1].endswith("\n"):
        parts.append("\n")


def to_wiki(document: Node) -> str:
    """The document as Jira wiki markup (Data Center's v2 API takes strings)."""
    lines: list[str] = []
    for block in document.get("content", []):
        kind = block.get("type")
        if kind == "heading":
            level = int(block.get("attrs", {}).get("level", 2))
            lines.append(f"h{level}. {_wiki_inline(block.get('content', []))}")
        elif kind == "bulletList":
            for item in block.get("content", []):
                inner = [_wiki_inline(p.get("content", [])) for p in item.get("content", [])]
                lines.append("* " + " ".join(inner))
        elif kind == "codeBlock":
            body = "".join(t.get("text", "") for t in block.get("content", []))
            lines.append("{noformat}\n" + body + "\n{noformat}")
        else:
            lines.append(_wiki_inline(block.get("content", [])))
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def _wiki_inline(nodes: list[Node]) -> str:
    out: list[str] = []
    for node in nodes:
        if node.get("type") == "hardBreak":
            out.append("\\\\ ")
            continue
        value = str(node.get("text", ""))
        href = next(
            (
                m.get("attrs", {}).get("href")
                for m in node.get("marks", [])
                if m.get("type") == "link"
            ),
            None,
        )
        out.append(
            f"[{href}]" if href and href == value else f"[{value}|{href}]" if href else value
        )
    return "".join(out)
