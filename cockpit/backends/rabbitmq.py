"""RabbitMQ: queue depths and peeks over the management HTTP API (httpx), quarantine over AMQP.

Listing asks only for the columns the queues panel shows and pages through the result
(the API serves at most 500 per page). Peeking uses the management API's "get" with
ack_requeue_true: the messages go back in place, marked redelivered. Quarantine lives in
rabbitmq_quarantine.py (pika, run in a thread). Nothing here purges a queue.

Every error is one line without the password: the password only ever travels in the
Authorization header (httpx) and in pika's credentials, and it is scrubbed from any text
that is shown.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from cockpit.backends.base import (
    AuthError,
    BackendError,
    BadResponse,
    Forbidden,
    NotFound,
    Unreachable,
)
from cockpit.backends.http import BoundedHTTP, DeadlineExceeded, loads_json, tls_context
from cockpit.backends.rabbitmq_quarantine import (
    QueueFacts,
    StepHook,
    amqp_target,
    quarantine_blocking,
    shown_headers,
)
from cockpit.clock import Clock
from cockpit.config import RabbitMQConfig
from cockpit.domain import ActionResult, QueueDepth, QueueMessage, SourceHealth
from cockpit.text import mask_url_password

MAX_PAGE_SIZE = 500  # the management API refuses bigger pages
MAX_PAGES = 1000  # 500,000 queues: a page count beyond that is a broken server
PEEK_TRUNCATE = 50_000  # bytes of payload a peek shows
QUARANTINE_BOUND = 10_000  # messages a quarantine walks before giving up
# in peeks, deeper JSON is kept as TOO_DEEP, not refused: one message's 1,500-deep headers
# must not hide the queue's other messages (each header is cut at HEADER_DEPTH, well above)
JSON_DEPTH = 64
DECODE_IN_THREAD = 1024 * 1024  # bigger bodies are decoded off the event loop

QUEUE_COLUMNS = ",".join(
    [
        "name",
        "vhost",
        "messages_ready",
        "messages_unacknowledged",
        "consumers",
        "message_stats.publish_details.rate",
        "message_stats.deliver_get_details.rate",
        "message_stats.ack_details.rate",
        "arguments.x-dead-letter-exchange",
        "effective_policy_definition.dead-letter-exchange",
    ]
)

ENABLE_HINT = "enable it with `rabbitmq-plugins enable rabbitmq_management`"


class ManagementPluginMissing(NotFound):
    """The URL answers but has no management API behind it."""


def _vq(*parts: str) -> str:
    """Path segments percent-encoded ('/' -> %2F), as the management API wants vhost names."""
    return "/".join(quote(p, safe="") for p in parts)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _rate(item: dict[str, Any], stat: str) -> float:
    stats = item.get("message_stats")
    if not isinstance(stats, dict):
        return 0.0
    details = stats.get(f"{stat}_details")
    rate = details.get("rate") if isinstance(details, dict) else None
    return float(rate) if isinstance(rate, int | float) else 0.0


def _map(value: Any) -> dict[str, Any]:
    # the API renders an empty object as [] in places (properties, arguments)
    return value if isinstance(value, dict) else {}


def dead_letter_of(item: dict[str, Any]) -> tuple[str, str] | None:
    """(exchange, routing key), None without one: the queue's arguments win over a policy."""
    args = _map(item.get("arguments"))
    policy = _map(item.get("effective_policy_definition"))
    if args.get("x-dead-letter-exchange") is not None:
        return str(args["x-dead-letter-exchange"]), str(args.get("x-dead-letter-routing-key", ""))
    if policy.get("dead-letter-exchange") is not None:
        return str(policy["dead-letter-exchange"]), str(policy.get("dead-letter-routing-key", ""))
    return None


def queue_depth(item: dict[str, Any]) -> QueueDepth:
    """One item of /api/queues (full or with columns=) -> QueueDepth."""
    return QueueDepth(
        vhost=str(item.get("vhost", "")),
        name=str(item.get("name", "")),
        ready=_int(item.get("messages_ready")),
        unacked=_int(item.get("messages_unacknowledged")),
        consumers=_int(item.get("consumers")),
        publish_rate=_rate(item, "publish"),
        deliver_rate=_rate(item, "deliver_get"),
        ack_rate=_rate(item, "ack"),
        dead_letter_exchange=(dead_letter_of(item) or ("", ""))[0],
    )


def queue_message(position: int, item: dict[str, Any]) -> QueueMessage:
    """One message of the management API's get -> QueueMessage."""
    raw = item.get("payload", "")
    if not isinstance(raw, str):
        raise BadResponse("RabbitMQ management API sent a message without a text payload")
    if item.get("payload_encoding") == "base64":
        try:
            payload = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadResponse("RabbitMQ management API sent a payload that is not base64") from None
    else:
        payload = raw.encode("utf-8")
    props = _map(item.get("properties"))
    headers = _map(props.get("headers"))
    if headers:
        headers = shown_headers(headers)
        props = {**props, "headers": headers}
    return QueueMessage(
        position=position,
        payload=payload,
        message_id=str(props.get("message_id") or ""),
        correlation_id=str(props.get("correlation_id") or ""),
        content_type=str(props.get("content_type") or ""),
        headers=headers,
        properties=props,
        redelivered=bool(item.get("redelivered", False)),
        routing_key=str(item.get("routing_key", "")),
        exchange=str(item.get("exchange", "")),
    )


class RabbitMQBroker:
    """The queues panel's backend for a real RabbitMQ."""

    name = "queues"

    def __init__(
        self,
        config: RabbitMQConfig,
        *,
        password: str,
        clock: Clock,
        quarantine_dir: Path,
        http: httpx.AsyncClient | None = None,
        quarantine_bound: int = QUARANTINE_BOUND,
        _step_hook: StepHook | None = None,
    ) -> None:
        self.config = config
        self._password = password
        self.clock = clock
        self.quarantine_dir = Path(quarantine_dir)
        self.quarantine_bound = quarantine_bound
        self._step_hook = _step_hook  # tests only: runs in the AMQP thread after each get
        self._base = config.management_url.rstrip("/")
        self._shown_base = mask_url_password(self._base)  # what messages name
        self._owns_http = http is None
        self._http = BoundedHTTP(
            http
            or httpx.AsyncClient(
                verify=tls_context(),
                base_url=self._base,
                auth=httpx.BasicAuth(config.username, password),
                timeout=httpx.Timeout(config.timeout.total_seconds()),
                headers={"accept": "application/json"},
            ),
            deadline=config.timeout.total_seconds(),
            what=f"the RabbitMQ management API at {self._shown_base}",
        )
        self._auth = httpx.BasicAuth(config.username, password)
        # queues() pages by (path, columns, page): (digest of its bytes, page count, queues)
        self._pages: dict[tuple[str, bool, int], tuple[bytes, int, list[QueueDepth]]] = {}
        self._last_pages: dict[int, tuple[bytes, int, list[QueueDepth]]] = {}
        self._last_queues: list[QueueDepth] | None = None

    def __repr__(self) -> str:
        return f"RabbitMQBroker({self._shown_base!r}, user={self.config.username!r})"

    # ------------------------------------------------------------------ http

    def _scrub(self, text: str) -> str:
        text = " ".join(text.split())
        return text.replace(self._password, "***") if self._password else text

    async def _call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        not_found: str = "",
        cut_deep: bool = False,
    ) -> Any:
        """One request; every failure becomes a one-line BackendError."""
        content = await self._fetch(
            method, path, what=what, params=params, body=body, not_found=not_found
        )
        return await self._decoded(content, what, cut_deep=cut_deep)

    async def _decoded(self, content: bytes, what: str, *, cut_deep: bool = False) -> Any:
        if cut_deep and len(content) > DECODE_IN_THREAD:  # the scanner is Python: not here
            return await asyncio.to_thread(self._decode, content, what, cut_deep=True)
        return self._decode(content, what, cut_deep=cut_deep)

    async def _fetch(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        not_found: str = "",
    ) -> bytes:
        """One request's raw body (a poll can skip a body it has seen)."""
        url = f"{self._base}/{path}"
        try:
            response = await self._http.request(
                method, url, params=params, json=body, auth=self._auth
            )
        except DeadlineExceeded as exc:
            if not exc.slow_body:
                raise Unreachable(
                    f"RabbitMQ management API at {self._shown_base} did not answer within "
                    f"{self.config.timeout.total_seconds():g}s ({what})"
                ) from None
            raise Unreachable(
                f"RabbitMQ management API at {self._shown_base} did not finish its answer within "
                f"{self.config.timeout.total_seconds():g}s ({what})"
            ) from None
        except httpx.TimeoutException:
            raise Unreachable(
                f"RabbitMQ management API at {self._shown_base} did not answer within "
                f"{self.config.timeout.total_seconds():g}s ({what})"
            ) from None
        except httpx.HTTPError as exc:
            reason = self._scrub(str(exc) or type(exc).__name__)
            raise Unreachable(
                f"cannot reach the RabbitMQ management API at {self._shown_base} ({reason}): "
                "is RabbitMQ up, with the rabbitmq_management plugin enabled?"
            ) from None
        status = response.status_code
        if status == 401:
            raise AuthError(
                f"RabbitMQ refused the login of user '{self.config.username}' (401): "
                "check the password secret"
                + (f" '{self.config.password_secret}'" if self.config.password_secret else "")
            )
        if status == 403:
            raise Forbidden(
                f"RabbitMQ user '{self.config.username}' may not {what} (403): "
                "it needs the 'monitoring' or 'management' tag and permissions on the vhost"
            )
        if status == 404:
            raise NotFound(not_found or f"RabbitMQ management API: {what}: not found (404)")
        if status >= 400:
            raise BadResponse(f"RabbitMQ management API answered {status} to {what}")
        return response.content

    def _decode(self, content: bytes, what: str, *, cut_deep: bool = False) -> Any:
        """The body. With cut_deep (messages, a queue's arguments: what a client wrote)
        anything nested deeper than JSON_DEPTH shows as TOO_DEEP; elsewhere (the queue
        list, the overview) deep JSON is a broken server: a BadResponse."""
        try:
            return loads_json(content, max_depth=JSON_DEPTH if cut_deep else None)
        except BadResponse as exc:
            if "too deep" in str(exc):
                raise BadResponse(
                    f"RabbitMQ management API at {self._shown_base} sent JSON nested too deep "
                    f"({what})"
                ) from None
            raise BadResponse(
                f"RabbitMQ management API at {self._shown_base} sent a body that is not JSON "
                f"({what}): is management_url the management API?"
            ) from None

    # ------------------------------------------------------------------ reading

    async def queues(self, *, columns: bool = True) -> list[QueueDepth]:
        """Every queue (of config.vhost, else of every vhost), page by page."""
        path = f"api/queues/{_vq(self.config.vhost)}" if self.config.vhost else "api/queues"
        page_size = max(1, min(self.config.page_size, MAX_PAGE_SIZE))
        seen: dict[str, QueueDepth] = {}
        page, page_count = 1, 1
        pages: dict[int, tuple[bytes, int, list[QueueDepth]]] = {}
        while page <= page_count:
            params: dict[str, Any] = {"page": page, "page_size": page_size}
            if columns:
                params["columns"] = QUEUE_COLUMNS
            content = await self._fetch(
                "GET",
                path,
                what="list queues",
                params=params,
                not_found=f"RabbitMQ vhost '{self.config.vhost}' does not exist",
            )
            # a page with the same bytes as last poll's is not parsed again
            digest = hashlib.blake2b(content, digest_size=16).digest()
            last = self._pages.get((path, columns, page))
            if last is not None and last[0] == digest:
                pages[page] = last
            else:
                pages[page] = (digest, *self._queue_page(self._decode(content, "list queues")))
            _digest, page_count, depths = pages[page]
            for depth in depths:
                # queues created or deleted between pages shift items: keep one each
                seen.setdefault(depth.key, depth)
            if not depths or (page > 1 and pages[page][0] == pages[page - 1][0]):
                # an empty page, or the same page again (a server that ignores `page`):
                # there is nothing after it, whatever page_count says
                break
            page += 1
        unchanged = len(pages) == len(self._last_pages) and all(
            self._last_pages.get(n) is parsed for n, parsed in pages.items()
        )
        self._pages = {(path, columns, n): parsed for n, parsed in pages.items()}
        self._last_pages = pages
        if unchanged and self._last_queues is not None:
            return self._last_queues  # the same list: the screen has nothing to redraw
        self._last_queues = list(seen.values())
        return self._last_queues

    @staticmethod
    def _queue_page(data: Any) -> tuple[int, list[QueueDepth]]:
        """(page count, queues) of one page of /api/queues."""
        if isinstance(data, list):  # a server that ignores paging sends everything
            data = {"items": data, "page_count": 1}
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise BadResponse("RabbitMQ management API sent a queue list without items")
        depths = [queue_depth(item) for item in data["items"] if isinstance(item, dict)]
        # a server claiming 10^20 pages must not keep the poll going for ever
        return min(_int(data.get("page_count")), MAX_PAGES), depths

    async def _queue_facts(self, queue: QueueDepth) -> QueueFacts:
        data = await self._call(
            "GET",
            f"api/queues/{_vq(queue.vhost, queue.name)}",
            what=f"read queue '{queue.name}'",
            params={
                "columns": "name,vhost,type,messages,arguments,effective_policy_definition",
            },
            not_found=f"queue '{queue.name}' in vhost '{queue.vhost}' no longer exists",
            cut_deep=True,  # arguments are what the client declared
        )
        if not isinstance(data, dict):
            raise BadResponse("RabbitMQ management API sent a queue that is not an object")
        dlx = dead_letter_of(data)
        exchange, routing_key = dlx or ("", "")
        return QueueFacts(
            vhost=queue.vhost,
            name=queue.name,
            type=str(data.get("type") or "classic"),
            dead_letter_exchange=exchange,
            dead_letter_routing_key=routing_key,
            depth=_int(data.get("messages")),
            has_dlx=dlx is not None,
        )

    async def peek(self, queue: QueueDepth, count: int = 10) -> list[QueueMessage]:
        """The head of the queue; the broker requeues them in place, marked redelivered.

        On a quorum queue only the head message is shown: RabbitMQ 3.10 returns a batch of
        requeued quorum messages in a scrambled order (measured from 10 messages on), while
        one message goes back to the head unchanged."""
        count = max(1, count)
        if count > 1 and (await self._queue_facts(queue)).type != "classic":
            count = 1
        data = await self._call(
            "POST",
            f"api/queues/{_vq(queue.vhost, queue.name)}/get",
            what=f"peek at queue '{queue.name}'",
            body={
                "count": count,
                "ackmode": "ack_requeue_true",
                "encoding": "auto",
                "truncate": PEEK_TRUNCATE,
            },
            not_found=f"queue '{queue.name}' in vhost '{queue.vhost}' no longer exists",
            cut_deep=True,  # one message's deep headers must not hide the others
        )
        if not isinstance(data, list):
            raise BadResponse("RabbitMQ management API sent messages that are not a list")
        return [queue_message(i, item) for i, item in enumerate(data) if isinstance(item, dict)]

    async def health(self) -> SourceHealth:
        """Version and alarms; never raises: the detail carries the one-line error."""
        try:
            overview = await self._call(
                "GET",
                "api/overview",
                what="read the overview",
                params={"columns": "rabbitmq_version,management_version,cluster_name"},
                not_found=(
                    f"no RabbitMQ management API at {self._shown_base} (404 on /api/overview): "
                    f"the management plugin is not enabled there; {ENABLE_HINT}"
                ),
            )
            nodes = await self._call(
                "GET",
                "api/nodes",
                what="read node alarms",
                params={"columns": "name,mem_alarm,disk_free_alarm,running"},
            )
        except BackendError as exc:
            return SourceHealth(self.name, False, str(exc))
        if not isinstance(overview, dict):
            return SourceHealth(self.name, False, "RabbitMQ overview is not a JSON object")
        version = overview.get("rabbitmq_version") or overview.get("management_version") or "?"
        detail = f"RabbitMQ {version}"
        if overview.get("cluster_name"):
            detail += f" ({overview['cluster_name']})"
        alarms: list[str] = []
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict):
                continue
            name = str(node.get("name", "?"))
            if node.get("mem_alarm"):
                alarms.append(f"memory alarm on {name}")
            if node.get("disk_free_alarm"):
                alarms.append(f"disk alarm on {name}")
            if node.get("running") is False:
                alarms.append(f"{name} down")
        if alarms:
            return SourceHealth(
                self.name, False, f"{detail}: {', '.join(alarms)} (publishers are blocked)"
            )
        return SourceHealth(self.name, True, detail)

    async def check(self) -> None:
        """Raise the one-line BackendError that health() would describe (for doctor)."""
        try:
            await self._call(
                "GET",
                "api/overview",
                what="read the overview",
                params={"columns": "rabbitmq_version"},
                not_found=(
                    f"no RabbitMQ management API at {self._shown_base} (404 on /api/overview): "
                    f"the management plugin is not enabled there; {ENABLE_HINT}"
                ),
            )
        except NotFound as exc:
            raise ManagementPluginMissing(str(exc)) from None

    # ------------------------------------------------------------------ acting

    async def quarantine(
        self, queue: QueueDepth, message: QueueMessage, *, actor: str
    ) -> ActionResult:
        """Copy the message durably (DLX or <queue>.quarantine, plus a local JSON file), then
        remove it; every other message goes back in its place. Failures say nothing was acked."""
        identity = message.identity
        try:
            facts = await self._queue_facts(queue)
        except BackendError as exc:
            return ActionResult.failure(
                f"quarantine of {identity} not started: {exc}", identity=identity
            )
        if facts.type not in {"classic", "quorum"}:
            return ActionResult.failure(
                f"quarantine not possible on a {facts.type} queue ({queue.key}): "
                "its messages cannot be removed one by one",
                identity=identity,
            )
        target = amqp_target(
            self.config.amqp_url,
            self._base,
            self.config.username,
            self._password,
            self.config.timeout.total_seconds(),
        )
        outcome = await asyncio.to_thread(
            quarantine_blocking,
            target,
            facts,
            message,
            actor=actor,
            now=self.clock.now(),
            quarantine_dir=self.quarantine_dir,
            bound=self.quarantine_bound,
            truncate=PEEK_TRUNCATE,
            step_hook=self._step_hook,
        )
        ids = {"identity": identity, "target": outcome.target}
        if outcome.file:
            ids["file"] = outcome.file
        return ActionResult(
            outcome.ok,
            self._scrub(outcome.message),
            ids,
            {
                "scanned": outcome.scanned,
                "position": outcome.position,
                "acked": outcome.acked,
                "vhost": facts.vhost,
                "queue": facts.name,
                "queue_type": facts.type,
                "depth_at_start": facts.depth,
            },
        )

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()
