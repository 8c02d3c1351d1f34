"""Removing one poison message over AMQP (pika, blocking; the caller runs it in a thread).

The walk, on ONE channel: basic.get without auto-ack from the head until the wanted message
turns up (or the bound / an empty queue ends the search). The wanted one is first written to a
local JSON file (tmp + fsync + rename), then published with publisher confirms and mandatory
to the queue's dead-letter exchange, else to `<queue>.quarantine`. Only after the broker
confirmed the copy is it acked. The messages taken before it go back where they were:

- classic queues: one basic.nack(multiple=True, requeue=True) returns them in place;
- quorum queues (RabbitMQ 3.10): a nack moves requeued messages to the BACK of the queue, and a
  closed channel returns them to the front but in a scrambled order once there are more than a
  few (measured; see tests/rabbitmq/test_quarantine.py). No way puts them back in order, so on a
  quorum queue only the head message can be quarantined: the walk takes one message at most.

Any failure before the copy is confirmed closes the connection without acking anything:
unacked messages return to the queue in their original order.

Matching without a message id uses `QueueMessage.identity` itself: the AMQP properties are
rendered the way the management API renders them (only the set fields; bytes as text or
"Not UTF-8, base64 is: ..."; timestamps as epoch seconds), and the body is cut to the peek's
truncate limit, so the hash is the same one the peek produced.

Deep headers: a header nesting deeper than HEADER_DEPTH is shown, and hashed, as the marker
TOO_DEEP on both sides (shown_headers). pika decodes tables by recursion and loses the
connection on a 1,500-deep header (RecursionError in its frame reader), which would end every
walk that reaches such a message; bounded_pika_tables() keeps a table or array nested deeper
than PIKA_DEPTH as its encoded bytes (RawField) and writes them back unchanged, so the copy
is the message as it was.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import os
import re
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cockpit.backends.http import TOO_DEEP, nesting
from cockpit.domain import QueueMessage

HEADER_DEPTH = 32  # a header nesting deeper is shown (and hashed) as TOO_DEEP
PIKA_DEPTH = 64  # tables/arrays deeper stay encoded bytes on the AMQP side (> HEADER_DEPTH)

PROPERTY_NAMES = (
    "content_type",
    "content_encoding",
    "headers",
    "delivery_mode",
    "priority",
    "correlation_id",
    "reply_to",
    "expiration",
    "message_id",
    "timestamp",
    "type",
    "user_id",
    "app_id",
    "cluster_id",
)

# a test-only hook, called in the worker thread after each message taken (count so far)
StepHook = Callable[[int], None]


@dataclass(frozen=True)
class AmqpTarget:
    """Where the broker's AMQP port is and who logs in; repr never shows the password."""

    host: str
    port: int
    tls: bool
    username: str
    password: str
    timeout: float

    def __repr__(self) -> str:
        return f"AmqpTarget({self.host}:{self.port}, user={self.username!r})"


@dataclass(frozen=True)
class QueueFacts:
    """What the management API says about the queue when the quarantine starts."""

    vhost: str
    name: str
    type: str = "classic"
    dead_letter_exchange: str = ""
    dead_letter_routing_key: str = ""
    depth: int = 0
    has_dlx: bool = False  # a dead-letter exchange is set, possibly "" (the default exchange)


@dataclass(frozen=True)
class QuarantineOutcome:
    ok: bool
    message: str
    target: str = ""
    file: str = ""
    scanned: int = 0
    position: int = -1
    acked: bool = False


def amqp_target(
    amqp_url: str, management_url: str, username: str, password: str, timeout: float
) -> AmqpTarget:
    """amqp[s]://host[:port] from the config, else the management host on 5672."""
    if amqp_url:
        parts = urlsplit(amqp_url)
        tls = parts.scheme == "amqps"
        return AmqpTarget(
            parts.hostname or "127.0.0.1",
            parts.port or (5671 if tls else 5672),
            tls,
            username,
            password,
            timeout,
        )
    host = urlsplit(management_url).hostname or "127.0.0.1"
    return AmqpTarget(host, 5672, False, username, password, timeout)


# --------------------------------------------------------------------------- deep tables


class RawField:
    """An AMQP table or array nested too deep to decode: its encoded bytes (type octet,
    length and content), written back unchanged when the message is copied."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawField) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"RawField({len(self.raw)} bytes)"


_pika_lock = threading.Lock()
_pika_depth = threading.local()


def bounded_pika_tables() -> None:
    """Make pika.data decode tables/arrays at most PIKA_DEPTH deep (deeper ones become a
    RawField) and encode a RawField as its bytes. Idempotent; shallower values decode and
    encode exactly as before. pika's own functions call each other through the module's
    globals, so replacing decode_value/encode_value there bounds every nested call."""
    import pika.data as data

    with _pika_lock:
        if getattr(data, "_cockpit_bounded", False):
            return
        decode_value, encode_value = data.decode_value, data.encode_value

        def bounded_decode_value(encoded: bytes, offset: int) -> tuple[Any, int]:
            depth = getattr(_pika_depth, "depth", 0)
            if depth >= PIKA_DEPTH and encoded[offset : offset + 1] in (b"F", b"A"):
                (length,) = struct.unpack_from(">I", encoded, offset + 1)
                end = offset + 5 + length
                if end > len(encoded):
                    raise ValueError("AMQP field table longer than its frame")
                return RawField(bytes(encoded[offset:end])), end
            _pika_depth.depth = depth + 1
            try:
                return decode_value(encoded, offset)
            finally:
                _pika_depth.depth = depth

        def bounded_encode_value(pieces: list[bytes], value: Any) -> int:
            if isinstance(value, RawField):
                pieces.append(value.raw)
                return len(value.raw)
            return encode_value(pieces, value)

        data.decode_value = bounded_decode_value
        data.encode_value = bounded_encode_value
        data._cockpit_bounded = True


def shown_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The headers as a peek shows them: a value nesting deeper than HEADER_DEPTH becomes
    TOO_DEEP (the same on the management API's side and on pika's, so identities match)."""
    return {
        str(k): TOO_DEEP if nesting(v, HEADER_DEPTH) > HEADER_DEPTH else v
        for k, v in headers.items()
    }


# --------------------------------------------------------------------------- matching


def management_value(value: Any) -> Any:
    """A header value the way the management API's JSON shows it (at most PIKA_DEPTH deep:
    deeper parts are RawFields, shown as TOO_DEEP)."""
    if isinstance(value, RawField):
        return TOO_DEEP
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "Not UTF-8, base64 is: " + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return int(value.timestamp())
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): management_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [management_value(v) for v in value]
    return value


def management_properties(props: Any) -> dict[str, Any]:
    """pika BasicProperties -> the `properties` object the management API returns."""
    out: dict[str, Any] = {}
    for name in PROPERTY_NAMES:
        value = getattr(props, name, None)
        if value is None:
            continue
        out[name] = management_value(value)
    if isinstance(out.get("headers"), Mapping):
        out["headers"] = shown_headers(out["headers"])
    return out


def identity_of(body: bytes, props: Any, truncate: int) -> str:
    """The QueueMessage.identity a peek of this message would have produced."""
    shown = body[:truncate] if truncate and len(body) > truncate else body
    properties = management_properties(props)
    message_id = str(properties.get("message_id") or "")
    return QueueMessage(0, shown, message_id=message_id, properties=properties).identity


# --------------------------------------------------------------------------- the local copy


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:60] or "_"


def json_safe(value: Any) -> Any:
    if isinstance(value, RawField):
        return {"amqp_field_base64": base64.b64encode(value.raw).decode("ascii")}
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def write_copy(directory: Path, record: dict[str, Any], stem: str) -> Path:
    """Write the record atomically: a tmp file, fsync, rename, fsync the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{stem}.json"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


# --------------------------------------------------------------------------- the walk


def _reason(exc: BaseException, password: str) -> str:
    """One line naming what went wrong, never the password."""
    import pika.exceptions as pex

    if isinstance(exc, pex.ProbableAuthenticationError | pex.ProbableAccessDeniedError):
        text = "login refused"
    elif isinstance(exc, pex.UnroutableError):
        text = "the broker could not route the copy (no queue bound to the target)"
    elif isinstance(exc, pex.NackError):
        text = "the broker refused the copy (nack)"
    elif isinstance(exc, pex.ChannelClosedByBroker):
        text = f"channel closed by the broker: {exc.reply_code} {exc.reply_text}"
    elif isinstance(exc, pex.ConnectionClosedByBroker):
        text = f"connection closed by the broker: {exc.reply_code} {exc.reply_text}"
    elif isinstance(exc, pex.AMQPConnectionError | pex.StreamLostError | ConnectionError):
        text = f"connection lost ({type(exc).__name__}: {exc})" if str(exc) else "connection lost"
    elif isinstance(exc, OSError):
        text = f"{exc.strerror or type(exc).__name__}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())[:200]
    if password:
        text = text.replace(password, "***")
    return text


def _connect(target: AmqpTarget, vhost: str) -> Any:
    import pika

    bounded_pika_tables()  # a deep header must not cost the connection

    # pika logs failed connects as ERROR with a traceback and returned publishes with a body
    # prefix: neither belongs on a full-screen terminal. An explicitly set level is kept.
    pika_log = logging.getLogger("pika")
    if pika_log.level == logging.NOTSET:
        pika_log.setLevel(logging.CRITICAL)

    params = pika.ConnectionParameters(
        host=target.host,
        port=target.port,
        virtual_host=vhost,
        credentials=pika.PlainCredentials(target.username, target.password),
        connection_attempts=1,
        socket_timeout=target.timeout,
        stack_timeout=target.timeout * 2,
        blocked_connection_timeout=target.timeout * 6,
        client_properties={"connection_name": f"cockpit quarantine {vhost}"},
        ssl_options=pika.SSLOptions(ssl.create_default_context(), target.host)
        if target.tls
        else None,
    )
    return pika.BlockingConnection(params)


def quarantine_blocking(
    target: AmqpTarget,
    facts: QueueFacts,
    wanted: QueueMessage,
    *,
    actor: str,
    now: dt.datetime,
    quarantine_dir: Path,
    bound: int,
    truncate: int,
    step_hook: StepHook | None = None,
) -> QuarantineOutcome:
    """Find `wanted` within the first `bound` messages, copy it durably, then remove it."""
    import pika

    identity = wanted.identity
    where = f"{facts.vhost}/{facts.name}"
    exchange = facts.dead_letter_exchange
    # x-dead-letter-exchange "" means the default exchange: the routing key names the queue
    dlq = facts.dead_letter_routing_key if facts.has_dlx and not exchange else ""
    ours = not exchange and not dlq  # the cockpit declares <queue>.quarantine itself
    if exchange:
        target_name = f"dead-letter exchange '{exchange}'"
    elif dlq:
        target_name = f"dead-letter queue '{dlq}'"
    else:
        dlq = f"{facts.name}.quarantine"
        target_name = f"queue '{dlq}'"
    scanned = 0
    conn: Any = None
    file_path: Path | None = None

    def fail(why: str, *, acked: bool = False) -> QuarantineOutcome:
        return QuarantineOutcome(False, why, target_name, str(file_path or ""), scanned, -1, acked)

    try:
        conn = _connect(target, facts.vhost)
        channel = conn.channel()
        # check the target before touching any message: a missing exchange fails here
        if exchange:
            channel.exchange_declare(exchange, passive=True)
        elif ours:
            channel.queue_declare(dlq, durable=True)
        else:
            channel.queue_declare(dlq, passive=True)
        channel.confirm_delivery()
        found: tuple[Any, Any, bytes] | None = None
        if facts.type == "quorum":
            bound = 1  # a single returned message goes back to the head: order is kept
        # basic.qos does not limit basic.get; the bound is what keeps the unacked set finite
        while scanned < bound:
            method, props, body = channel.basic_get(facts.name, auto_ack=False)
            if method is None:
                break
            scanned += 1
            if step_hook is not None:
                step_hook(scanned)
            if identity_of(body, props, truncate) == identity:
                found = (method, props, body)
                break
        if found is None:
            conn.close()  # returns everything taken, in order
            conn = None
            if facts.type == "quorum" and scanned:
                return fail(
                    f"{identity} is not at the head of quorum queue {where}: RabbitMQ cannot "
                    "put the messages before it back in order, so only the head message can "
                    "be quarantined; nothing was removed"
                )
            return fail(
                f"{identity} not found in the first {scanned} messages of {where} "
                "(messages a consumer holds unacked are not visible); nothing was removed"
            )
        method, props, body = found
        properties = management_properties(props)
        stamp = now.astimezone(dt.UTC)
        record = {
            "identity": identity,
            "source": {"vhost": facts.vhost, "queue": facts.name},
            "position": scanned - 1,
            "quarantined_at": stamp.isoformat(),
            "actor": actor,
            "target": target_name,
            "exchange": method.exchange,
            "routing_key": method.routing_key,
            "redelivered": bool(method.redelivered),
            "properties": json_safe(properties),
            "headers": json_safe(properties.get("headers") or {}),
            "body_base64": base64.b64encode(body).decode("ascii"),
        }
        deep = {
            str(k): json_safe(v)
            for k, v in (props.headers or {}).items()
            if record["headers"].get(str(k)) == TOO_DEEP
        }
        if deep:  # shown as TOO_DEEP above: the full value, as far as pika decoded it
            record["deep_headers"] = deep
        file_path = write_copy(
            quarantine_dir,
            record,
            f"{stamp:%Y%m%dT%H%M%S}-{_safe(facts.vhost)}-{_safe(facts.name)}-{_safe(identity)}",
        )
        headers = dict(props.headers or {})
        headers["x-cockpit-quarantined-from"] = where
        headers["x-cockpit-quarantined-by"] = actor
        headers["x-cockpit-quarantined-at"] = stamp.isoformat()
        copy_props = pika.BasicProperties(
            **{n: getattr(props, n) for n in PROPERTY_NAMES if n not in {"headers"}}
        )
        copy_props.headers = headers
        copy_props.delivery_mode = 2  # the copy must survive a broker restart
        routing_key = (facts.dead_letter_routing_key or method.routing_key) if exchange else dlq
        try:
            channel.basic_publish(exchange, routing_key, body, copy_props, mandatory=True)
        except Exception:
            # the copy is not confirmed: the local file would claim a removal that never was
            with contextlib.suppress(OSError):
                file_path.unlink()
            file_path = None
            raise
    except Exception as exc:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
        return fail(
            f"quarantine of {identity} from {where} failed after {scanned} messages: "
            f"{_reason(exc, target.password)}; nothing was removed"
        )

    # the copy is confirmed and on disk: remove the poison one, put the others back in place
    try:
        channel.basic_ack(method.delivery_tag)
        # tags on this channel run 1..scanned; the ones below the poison one are the others
        if facts.type == "classic" and method.delivery_tag > 1:
            channel.basic_nack(method.delivery_tag - 1, multiple=True, requeue=True)
        # close-ok proves the broker handled the ack (and, for quorum queues, returns the rest)
        channel.close()
        conn.close()
    except Exception as exc:
        with contextlib.suppress(Exception):
            conn.close()
        return QuarantineOutcome(
            False,
            f"copied {identity} to {target_name} and {file_path}, but removing it from {where} "
            f"was not confirmed ({_reason(exc, target.password)}): check the queue",
            target_name,
            str(file_path),
            scanned,
            scanned - 1,
            acked=False,
        )
    return QuarantineOutcome(
        True,
        f"quarantined {identity} from {where} (position {scanned - 1}) to {target_name}",
        target_name,
        str(file_path),
        scanned,
        scanned - 1,
        acked=True,
    )
