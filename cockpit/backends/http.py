"""Bounded HTTP: every response is read whole within a size limit and a total deadline.

httpx's own timeouts bound each read, not the request: a server trickling one byte every
half second keeps a request alive for ever, and an endless or 200 MB body is read into
memory. BoundedHTTP wraps an httpx.AsyncClient so that every request

- fails with ResponseTooLarge (a BadResponse) past `max_bytes` (default 50 MB, decoded size:
  a gzip bomb is cut too), announced by Content-Length or counted while streaming;
- fails with DeadlineExceeded (an httpx.TimeoutException, so the callers' timeout message
  applies) when the whole exchange, body included, takes longer than `deadline` seconds.

Adopting it in a backend is one line: `self._http = BoundedHTTP(http or httpx.AsyncClient(...),
deadline=timeout)`; `await self._http.request(...)` then returns a fully read httpx.Response.
Use loads_json() for the body: deep nesting becomes a BadResponse, not a RecursionError, or
with `max_depth=` a marker in place of the too-deep subtrees (a RabbitMQ message whose headers
nest 1,500 deep must not hide the queue's other messages).
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from cockpit.backends.base import BadResponse


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every HTTP client: httpx's default trust (certifi, or
    SSL_CERT_FILE / SSL_CERT_DIR). Each client built its own, ~20 ms of CPU apiece at
    start-up and on every runbook fetch."""
    return httpx.create_ssl_context()


MB = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * MB
DEFAULT_DEADLINE = 30.0
# limits set from the configuration at startup ([limits] max_response_mb); tests may lower it
_defaults = {"max_bytes": DEFAULT_MAX_BYTES}

RETRY_AFTER_MIN = 1.0
RETRY_AFTER_MAX = 15 * 60.0


def set_default_max_bytes(max_bytes: int) -> None:
    """The response size limit of every client built without an explicit one."""
    _defaults["max_bytes"] = max(int(max_bytes), 1024)


def default_max_bytes() -> int:
    return _defaults["max_bytes"]


class ResponseTooLarge(BadResponse):
    """The body is larger than the limit: refused unread (past the limit), not buffered."""


class DeadlineExceeded(httpx.ReadTimeout):
    """The whole request (headers and body) took longer than its deadline.

    `slow_body` tells a server that answered but trickles its body from one that never
    answered at all (the callers' "no answer within" message)."""

    slow_body = False


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n} bytes"


class BoundedHTTP:
    """An httpx.AsyncClient whose every request has a size limit and a total deadline."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int | None = None,
        what: str = "the server",
    ) -> None:
        self.client = client.client if isinstance(client, BoundedHTTP) else client
        self.deadline = deadline
        self._max_bytes = max_bytes
        self.what = what  # names the server in the one-line errors

    @property
    def max_bytes(self) -> int:
        return self._max_bytes or default_max_bytes()

    async def request(
        self,
        method: str,
        url: str,
        *,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        deadline: float | None = None,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, its body read whole; raises httpx errors like AsyncClient.request."""
        limit = max_bytes or self.max_bytes
        seconds = deadline or self.deadline
        request = self.client.build_request(method, url, **kwargs)
        progress: list[httpx.Response] = []
        try:
            async with asyncio.timeout(seconds):
                return await self._send(request, auth, limit, progress)
        except TimeoutError:
            exc = DeadlineExceeded(f"no complete answer within {seconds:g}s", request=request)
            exc.slow_body = bool(progress)
            raise exc from None

    async def _send(
        self, request: httpx.Request, auth: Any, limit: int, progress: list[httpx.Response]
    ) -> httpx.Response:
        response = await self.client.send(request, auth=auth, stream=True)
        progress.append(response)  # the headers came: a timeout now means a trickling body
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(
                    f"{self.what} sent a {_size(int(declared))} response; the limit is "
                    f"{_size(limit)} (limits.max_response_mb)"
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ResponseTooLarge(
                        f"{self.what} sent a response larger than the {_size(limit)} limit "
                        "(limits.max_response_mb)"
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        # already decoded: the copy must not decode it again
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=request,
            extensions={"reason_phrase": response.extensions.get("reason_phrase", b"")},
        )

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, **kwargs)

    async def aclose(self) -> None:
        await self.client.aclose()


TOO_DEEP = "(nested too deep to show)"

# a JSON string (unrolled: no backtracking), or a run of openers, or a run of closers
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]+|[\]}]+', re.DOTALL)
_OPENERS = b"[{"


def loads_json(
    data: bytes | str,
    what: str = "the server",
    *,
    max_depth: int | None = None,
    too_deep: str = TOO_DEEP,
) -> Any:
    """json.loads; malformed JSON becomes one clear BadResponse line.

    Without max_depth, absurdly deep JSON is a BadResponse too. With it, every object or
    array nested deeper than max_depth (the outermost is depth 1) is replaced by the string
    `too_deep`, and the rest is kept. json.loads cannot stop at a depth by itself (an
    object_hook runs bottom-up, after the deep part was already parsed, and the C scanner
    raises RecursionError first), so a body too deep for it is cut by a small scanner first:
    strings skipped, brackets counted, each too-deep subtree replaced in the text, then parsed.
    The size stays bounded by BoundedHTTP's limit (the scanner is linear in it)."""
    try:
        value = json.loads(data)
    except RecursionError:
        if max_depth is None:
            raise BadResponse(f"{what} sent JSON nested too deep to read") from None
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        try:
            value = json.loads(cut_deep_json(raw, max_depth, json.dumps(too_deep).encode()))
        except RecursionError:  # max_depth itself is beyond the interpreter's limit
            raise BadResponse(f"{what} sent JSON nested too deep to read") from None
        except (ValueError, UnicodeDecodeError):
            raise BadResponse(f"{what} sent a body that is not JSON") from None
    except (ValueError, UnicodeDecodeError):
        raise BadResponse(f"{what} sent a body that is not JSON") from None
    if max_depth is not None:
        # json.loads may have managed a depth the code after it cannot (json.dumps, repr)
        value = cap_depth(value, max_depth, too_deep)
    return value


def cut_deep_json(data: bytes, max_depth: int, marker: bytes) -> bytes:
    """The JSON text with every object/array deeper than max_depth replaced by `marker`.

    A linear scan without recursion; malformed text stays malformed (json.loads says so)."""
    out: list[bytes] = []
    depth = 0
    keep_from = 0  # where the text not copied yet starts
    cutting = False
    for match in _TOKENS.finditer(data):
        start, end = match.span()
        first = data[start]
        if first == 0x22:  # a string: its brackets do not count
            continue
        run = end - start
        if first in _OPENERS:
            if not cutting and depth + run > max_depth:
                cut_at = start + max(max_depth - depth, 0)
                out.append(data[keep_from:cut_at])
                cutting = True
            depth += run
        else:
            if cutting and depth - run <= max_depth:
                out.append(marker)
                keep_from = start + (depth - max(max_depth, 0))
                cutting = False
            depth -= run
    if cutting:  # never closed: malformed, and the cut part must not come back
        out.append(marker)
        keep_from = len(data)
    out.append(data[keep_from:])
    return b"".join(out)


def cap_depth(value: Any, max_depth: int, marker: Any = TOO_DEEP) -> Any:
    """The decoded value with every dict/list nested deeper than max_depth (the outermost
    is depth 1) replaced by `marker`, in place; iterative, so any depth is safe."""
    if not isinstance(value, dict | list):
        return value
    if max_depth < 1:
        return marker
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        pairs = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, child in pairs:
            if isinstance(child, dict | list):
                if depth >= max_depth:
                    node[key] = marker
                else:
                    stack.append((child, depth + 1))
    return value


def nesting(value: Any, limit: int) -> int:
    """How deep the dicts/lists in value nest (a scalar is 0), counted up to limit + 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth) for child in children)
    return deepest


def retry_after(headers: Mapping[str, str], default: float) -> float:
    """Seconds from a Retry-After header, clamped to 1 s .. 15 min.

    inf, nan, 1e12, negative or unparsable values must not park an item for ever or retry
    in a busy loop; an HTTP date is not worth parsing for a clamp this short (default)."""
    raw = headers.get("retry-after", "")
    try:
        seconds = float(raw.strip()) if raw else default
    except ValueError:
        seconds = default
    if math.isnan(seconds):
        seconds = default
    return clamp_retry(seconds)


def clamp_retry(seconds: float) -> float:
    if math.isnan(seconds):
        return RETRY_AFTER_MIN
    return min(max(seconds, RETRY_AFTER_MIN), RETRY_AFTER_MAX)
