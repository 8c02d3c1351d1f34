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
Use loads_json() for the body: deep nesting becomes a BadResponse, not a RecursionError.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

from cockpit.backends.base import BadResponse

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


def loads_json(data: bytes | str, what: str = "the server") -> Any:
    """json.loads; malformed or absurdly deep JSON becomes one clear BadResponse line."""
    try:
        return json.loads(data)
    except RecursionError:
        raise BadResponse(f"{what} sent JSON nested too deep to read") from None
    except (ValueError, UnicodeDecodeError):
        raise BadResponse(f"{what} sent a body that is not JSON") from None


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
