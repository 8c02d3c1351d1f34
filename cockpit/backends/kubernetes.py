"""The Kubernetes backend: pods by list + watch, restart, logs, on the official client.

The `kubernetes` package is imported lazily (it costs ~0.4 s and ~18 MB), every
blocking call runs in a thread with a bounded timeout, and responses are read as raw
JSON (`_preload_content=False` + json.loads, or msgspec for pod lists and watch lines):
the client's model objects are 20x+ slower to build for a big pod list. Requests go
through the client's ApiClient (kubeconfig, auth, TLS) but not its generated CoreV1Api /
AppsV1Api (another ~21 MB to import: `_Api` below makes the eleven calls), and the pod
list is read in pages of LIST_PAGE (limit + continue), each parsed and dropped before
the next: 5,000 pods are never one 14 MB body in memory next to its decoded dicts.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC
from functools import partial
from typing import Any, TypeVar

from cockpit.backends.base import (
    AuthError,
    BackendError,
    BadResponse,
    Forbidden,
    NotFound,
    RateLimited,
    Unreachable,
)
from cockpit.backends.podstatus import (
    controller_of,
    pod_decoder,
    pod_detail,
    pod_health,
    pod_item_decoder,
    pod_page_decoder,
    watch_event_decoder,
)
from cockpit.clock import Clock
from cockpit.config import KubernetesConfig
from cockpit.domain import (
    ActionResult,
    PodDetail,
    PodEvent,
    PodEventType,
    PodHealth,
    RestartMode,
    RestartPlan,
    SourceHealth,
)

T = TypeVar("T")

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
# client calls in flight at most (lists per namespace, detail, logs, restarts, and the calls
# given up on that still wait on a trickling server); past it a call fails at once
MAX_CALLS_IN_FLIGHT = 64
LIST_PAGE = 500  # pods per list page (kubectl's --chunk-size default)
MAX_PAGES = 10_000  # 5 million pods: past this a server's paging is taken to be broken
FOLLOW_IDLE = 300.0  # seconds a followed log may stay silent before we reconnect
_PLURAL = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}


class KubeconfigError(BackendError):
    """No usable kubeconfig / context / in-cluster config: retrying will not help."""

    retryable = False


_SWITCHED = object()  # tells a running watch() that switch() changed context or namespaces


class _Gone(Exception):
    """410 Gone: the resourceVersion is too old; list again."""


class ApiError(Exception):
    """A non-2xx answer: what translate_error reads of the client's ApiException."""

    def __init__(self, status: int, reason: str, body: str, headers: Any) -> None:
        super().__init__(f"HTTP {status} {reason}")
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers


# the generated client's keyword -> the API's query parameter
_QUERY = {
    "limit": "limit",
    "_continue": "continue",
    "watch": "watch",
    "allow_watch_bookmarks": "allowWatchBookmarks",
    "timeout_seconds": "timeoutSeconds",
    "resource_version": "resourceVersion",
    "field_selector": "fieldSelector",
    "container": "container",
    "tail_lines": "tailLines",
    "previous": "previous",
    "follow": "follow",
}
_POD = "/api/v1/namespaces/{namespace}/pods/{name}"
_APPS = "/apis/apps/v1/namespaces/{namespace}/"


class _Api:
    """The few calls the cockpit makes, on the client's ApiClient (its kubeconfig, auth,
    TLS, proxy) but not on its generated CoreV1Api / AppsV1Api: importing those two costs
    ~21 MB of RSS (63,000 lines of pydantic-validated methods) for eleven requests. Same
    method names and keywords as theirs; each returns the raw urllib3 response (what
    `_preload_content=False` returned) and a non-2xx answer raises ApiError, its body read
    only up to 64 KB (the client read any error body whole)."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        *,
        body: Any = None,
        _content_type: str | None = None,
        _request_timeout: Any = None,
        _preload_content: bool = False,  # accepted for the client's signature: always raw
        **query: Any,
    ) -> Any:
        query_params = []
        for key, value in query.items():
            if key not in _QUERY:
                raise TypeError(f"unexpected keyword argument {key!r}")
            if value is not None:
                query_params.append((_QUERY[key], value))
        headers = {"Accept": "application/json"}
        if _content_type:
            headers["Content-Type"] = _content_type
        method, url, headers, body, _post = self.api_client.param_serialize(
            method=method,
            resource_path=path,
            path_params=params,
            query_params=query_params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        answer = self.api_client.call_api(
            method, url, header_params=headers, body=body, _request_timeout=_request_timeout
        )
        raw = answer.response
        if not 200 <= answer.status <= 299:
            try:
                text = raw.read(65536, decode_content=True).decode("utf-8", "replace")
            except Exception:
                text = ""
            _shutdown(raw)
            raise ApiError(answer.status, str(answer.reason or ""), text, raw.headers)
        return raw

    # core/v1
    def list_pod_for_all_namespaces(self, **kwargs: Any) -> Any:
        return self._request("GET", "/api/v1/pods", **kwargs)

    def list_namespaced_pod(self, namespace: str, **kwargs: Any) -> Any:
        path = "/api/v1/namespaces/{namespace}/pods"
        return self._request("GET", path, {"namespace": namespace}, **kwargs)

    def read_namespaced_pod(self, name: str, namespace: str, **kwargs: Any) -> Any:
        return self._request("GET", _POD, {"namespace": namespace, "name": name}, **kwargs)

    def delete_namespaced_pod(self, name: str, namespace: str, **kwargs: Any) -> Any:
        return self._request("DELETE", _POD, {"namespace": namespace, "name": name}, **kwargs)

    def read_namespaced_pod_log(self, name: str, namespace: str, **kwargs: Any) -> Any:
        path = _POD + "/log"
        return self._request("GET", path, {"namespace": namespace, "name": name}, **kwargs)

    def list_namespaced_event(self, namespace: str, **kwargs: Any) -> Any:
        path = "/api/v1/namespaces/{namespace}/events"
        return self._request("GET", path, {"namespace": namespace}, **kwargs)

    # apps/v1
    def _read(self, plural: str, name: str, namespace: str, **kwargs: Any) -> Any:
        path = _APPS + plural + "/{name}"
        return self._request("GET", path, {"namespace": namespace, "name": name}, **kwargs)

    def _patch(self, plural: str, name: str, namespace: str, body: Any, **kwargs: Any) -> Any:
        path = _APPS + plural + "/{name}"
        params = {"namespace": namespace, "name": name}
        return self._request("PATCH", path, params, body=body, **kwargs)

    def read_namespaced_replica_set(self, name: str, namespace: str, **kwargs: Any) -> Any:
        return self._read("replicasets", name, namespace, **kwargs)

    def read_namespaced_deployment(self, name: str, namespace: str, **kwargs: Any) -> Any:
        return self._read("deployments", name, namespace, **kwargs)

    def read_namespaced_stateful_set(self, name: str, namespace: str, **kwargs: Any) -> Any:
        return self._read("statefulsets", name, namespace, **kwargs)

    def read_namespaced_daemon_set(self, name: str, namespace: str, **kwargs: Any) -> Any:
        return self._read("daemonsets", name, namespace, **kwargs)

    def patch_namespaced_deployment(self, name: str, namespace: str, body: Any, **kw: Any) -> Any:
        return self._patch("deployments", name, namespace, body, **kw)

    def patch_namespaced_stateful_set(self, name: str, namespace: str, body: Any, **kw: Any) -> Any:
        return self._patch("statefulsets", name, namespace, body, **kw)

    def patch_namespaced_daemon_set(self, name: str, namespace: str, body: Any, **kw: Any) -> Any:
        return self._patch("daemonsets", name, namespace, body, **kw)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_message(body: Any) -> str:
    """The `message` of a Kubernetes Status body, never the raw body itself."""
    try:
        data = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return ""
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return _one_line(data["message"])
    return ""


def _where(namespace: str) -> str:
    return f' in namespace "{namespace}"' if namespace else " at cluster scope"


def translate_error(exc: BaseException, verb: str, resource: str, namespace: str = "",
                    name: str = "") -> BackendError:  # fmt: skip
    """Any client / network failure -> one clear BackendError line naming verb and resource."""
    if isinstance(exc, BackendError):
        return exc
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status > 0 and hasattr(exc, "reason"):
        what = f'{resource} "{name}"' if name else resource
        message = _status_message(getattr(exc, "body", None))
        if status == 401:
            return AuthError("unauthorized: the cluster refused the credentials (401)")
        if status == 403:
            return Forbidden(f"forbidden: cannot {verb} {resource}{_where(namespace)}")
        if status == 404:
            return NotFound(f"not found: {what}{_where(namespace)}")
        if status == 410:
            return BadResponse(f"gone: {message or 'resource version too old'}")
        if status == 429:
            headers = getattr(exc, "headers", None) or {}
            try:
                retry = float(headers.get("Retry-After", 1))
            except (TypeError, ValueError):
                retry = 1.0
            return RateLimited(f"rate limited by the cluster while trying to {verb} {what}", retry)
        detail = f": {message}" if message else ""
        return BadResponse(f"cannot {verb} {what}{_where(namespace)}: HTTP {status}{detail}")
    if exc.__class__.__name__ == "ConfigException":
        return KubeconfigError(f"kubeconfig: {_one_line(str(exc))}")
    if isinstance(exc, OSError) or type(exc).__module__.startswith("urllib3"):
        return Unreachable(f"cluster unreachable while trying to {verb} {resource}: {_reason(exc)}")
    # a client-side surprise (validation, decoding): say so without a traceback
    return BadResponse(f"cannot {verb} {resource}: unexpected {type(exc).__name__}")


def _reason(exc: BaseException) -> str:
    """A short cause for a network error (urllib3 wraps the real one in MaxRetryError)."""
    inner = getattr(exc, "reason", None)
    if isinstance(inner, BaseException):
        exc = inner
    name = exc.__class__.__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "timed out"
    if "NewConnection" in name or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if "NameResolution" in name:
        return "DNS lookup failed"
    if "SSL" in name:
        return "TLS error"
    if "Protocol" in name or isinstance(exc, ConnectionError):
        return "connection lost"
    return _one_line(name)


def _rfc3339(when: Any) -> str:
    # kubectl: time.Now().Format(time.RFC3339); UTC renders with a Z
    return str(when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


class KubernetesCluster:
    """`Cluster` on a real cluster (or anything speaking the Kubernetes API).

    watch(): list -> SYNC, then one watch stream per namespace (all namespaces when
    `namespaces` is empty) from the list's resourceVersion; BOOKMARKs move the
    resourceVersion; a 410 Gone (HTTP or an ERROR event) relists and yields a new SYNC;
    a stream the server ends normally (timeoutSeconds) is resumed from the last
    resourceVersion. A connection failure is NOT retried here: watch() raises
    `Unreachable` and the caller reconnects with backoff (calling watch() again,
    which starts with a fresh SYNC).
    """

    name = "pods"

    def __init__(
        self,
        config: KubernetesConfig,
        *,
        clock: Clock,
        watch_timeout: float = 240.0,
    ) -> None:
        self._config = config
        self._clock = clock
        self._timeout = max(config.timeout.total_seconds(), 0.1)
        self._watch_timeout = watch_timeout  # server-side timeoutSeconds of one watch stream
        self._context: str | None = config.context or None
        self._namespaces: tuple[str, ...] = tuple(config.namespaces)
        self._api: Any = None
        self._api_lock = threading.Lock()
        self._closed = False
        self._watch_queues: set[asyncio.Queue[tuple[str, Any]]] = set()
        self._generation = 0  # bumped by switch(): watches of an older one end
        self._kubeconfig_cache: tuple[tuple[str, float] | None, dict[str, Any]] = (None, {})
        # each client call runs in a daemon thread of its own: a trickling API server keeps a
        # thread reading long after its caller gave up (the socket timeout is per read), and
        # such threads must neither fill the event loop's default executor, which the other
        # feeds need (measured: after ~60 s of a trickle the alerts feed stopped updating),
        # nor be joined at exit (q would wait for the trickle to end)
        self._in_flight = 0
        self._flight_lock = threading.Lock()

    # ------------------------------------------------------------------ config / contexts

    @property
    def namespaces(self) -> tuple[str, ...]:
        return self._namespaces

    def _kubeconfig_path(self) -> str | None:
        if self._config.kubeconfig:
            return os.path.expanduser(self._config.kubeconfig)
        env = os.environ.get("KUBECONFIG", "")
        for part in env.split(os.pathsep):
            if part and os.path.exists(part):
                return part
        default = os.path.expanduser("~/.kube/config")
        return default if os.path.exists(default) else None

    def _kubeconfig(self) -> dict[str, Any]:
        """The kubeconfig as a dict, re-read only when the file changes. PyYAML directly:
        the command palette calls this on the UI thread, where importing the client
        (~0.4 s) would be felt."""
        path = self._kubeconfig_path()
        if not path:
            return {}
        try:
            mtime = os.stat(path).st_mtime
            if self._kubeconfig_cache[0] == (path, mtime):
                return self._kubeconfig_cache[1]
            yaml = importlib.import_module("yaml")
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except Exception:  # a broken kubeconfig lists nothing; health() says why
            return {}
        data = data if isinstance(data, dict) else {}
        self._kubeconfig_cache = ((path, mtime), data)
        return data

    def contexts(self) -> list[str]:
        """Context names in the kubeconfig ([] in-cluster or without one)."""
        entries = self._kubeconfig().get("contexts") or []
        return [str(c["name"]) for c in entries if isinstance(c, dict) and c.get("name")]

    @property
    def current_context(self) -> str:
        """The context in use: the chosen one, else the kubeconfig's current-context."""
        if self._context:
            return self._context
        if not self._kubeconfig_path():
            return "in-cluster"
        return str(self._kubeconfig().get("current-context") or "")

    async def switch(self, context: str | None, namespaces: tuple[str, ...] | None = None) -> None:
        """Use another context (None: the kubeconfig's current one) and/or namespaces.
        Running watch() iterators end (StopAsyncIteration); the next watch() and every
        later call use the new ones."""
        if context is not None and context not in self.contexts():
            raise KubeconfigError(f'kubeconfig: no context named "{context}"')
        self._context = context or None
        if namespaces is not None:
            self._namespaces = tuple(namespaces)
        self._generation += 1
        for queue in list(self._watch_queues):
            queue.put_nowait(("", _SWITCHED))  # running watches end; the next one uses these
        with self._api_lock:
            old, self._api = self._api, None
        if old is not None:
            await asyncio.to_thread(old.close)

    def _build_api(self) -> Any:
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        path = self._kubeconfig_path()
        configuration = kclient.Configuration()
        if path:
            kconfig.load_kube_config(
                config_file=path,
                context=self._context,
                client_configuration=configuration,
                persist_config=False,
            )
        else:
            try:
                kconfig.load_incluster_config(client_configuration=configuration)
            except kconfig.ConfigException:
                raise KubeconfigError(
                    "kubeconfig: none found (set [kubernetes] kubeconfig, KUBECONFIG or "
                    "~/.kube/config) and not running in a cluster"
                ) from None
        # urllib3 retries 3 times by default: a dead server would take 4x the timeout
        configuration.retries = 0
        return kclient.ApiClient(configuration)

    def _client(self) -> Any:
        """The ApiClient, built on first use (runs in a worker thread: it reads files)."""
        with self._api_lock:
            if self._api is None:
                try:
                    self._api = self._build_api()
                except BackendError:
                    raise
                except Exception as exc:
                    raise translate_error(exc, "load", "kubeconfig") from None
            return self._api

    def _core(self, api: Any = None) -> _Api:
        return _Api(api if api is not None else self._client())

    def _apps(self) -> _Api:
        return _Api(self._client())

    def _request_timeout(self, read: float | None = None) -> tuple[float, float]:
        return (self._timeout, read if read is not None else self._timeout)

    async def _call(self, fn: Callable[[], T], verb: str, resource: str, namespace: str = "",
                    name: str = "") -> T:  # fmt: skip
        """Run one blocking client call in a thread; failures become one clear line."""

        def run() -> T:
            try:
                return fn()
            except BackendError:
                raise
            except Exception as exc:
                error = translate_error(exc, verb, resource, namespace, name)
                if isinstance(error, AuthError):
                    # an expired token: reload the kubeconfig (exec plugins) on the next call
                    with self._api_lock:
                        self._api = None
                raise error from None

        # the socket timeouts bound the call; this outer one also bounds kubeconfig loading
        # (exec credential plugins) so nothing can hang the caller
        try:
            return await asyncio.wait_for(
                self._in_thread(run, verb, resource), self._timeout * 3 + 5
            )
        except TimeoutError:
            raise Unreachable(
                f"cluster unreachable while trying to {verb} {resource}: timed out"
            ) from None

    def _in_thread(self, run: Callable[[], T], verb: str, resource: str) -> asyncio.Future[T]:
        """run() in a new daemon thread; its outcome lands on the returned future unless the
        caller gave up on it (cancelled) meanwhile."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._flight_lock:
            if self._in_flight >= MAX_CALLS_IN_FLIGHT:
                raise Unreachable(
                    f"cluster unreachable while trying to {verb} {resource}: "
                    f"{self._in_flight} earlier calls are still waiting for an answer"
                )
            self._in_flight += 1

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():  # given up on (wait_for timed out, or the caller was cancelled)
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def target() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = run()
            except BaseException as exc:
                error = exc
            finally:
                with self._flight_lock:
                    self._in_flight -= 1
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
                loop.call_soon_threadsafe(settle, result, error)

        threading.Thread(target=target, name=f"cockpit-k8s-{verb}", daemon=True).start()
        return future

    @staticmethod
    def _json(response: Any) -> Any:
        if hasattr(response, "stream"):  # a raw urllib3 response: read within the size limit
            return loads(read_body(response))
        return loads(response.data if hasattr(response, "data") else response)

    # ------------------------------------------------------------------ listing

    def _list_pods(self, namespace: str, api: Any = None) -> tuple[list[PodHealth], str]:
        """All pods of one scope, LIST_PAGE at a time (limit + continue, as kubectl and
        client-go page): a page's body is parsed and dropped before the next is read, so
        5,000 pods never sit in memory as one 14 MB body plus its decoded dicts. A continue
        token the server has expired (410, ~5 min after the first page on etcd) lists again
        from the start; on a second expiry, in one unpaged list (client-go's pager does the
        same). A page that fails fails the whole list: half a list is never a SYNC."""
        for limit in (LIST_PAGE, LIST_PAGE, 0):
            try:
                return self._list_pages(namespace, limit, api)
            except _Gone:
                continue
        raise BadResponse("cannot list pods: the cluster expired its list while paging")

    def _list_pages(self, namespace: str, limit: int, api: Any) -> tuple[list[PodHealth], str]:
        core = self._core(api)
        rows: list[PodHealth] = []
        token = ""
        seen: set[str] = set()
        while True:
            kwargs: dict[str, Any] = {
                "_preload_content": False,
                "_request_timeout": self._request_timeout(),
            }
            if limit:
                kwargs["limit"] = limit
            if token:
                kwargs["_continue"] = token
            try:
                if namespace:
                    response = core.list_namespaced_pod(namespace, **kwargs)
                else:
                    response = core.list_pod_for_all_namespaces(**kwargs)
                data = read_body(response)
            except BackendError:
                raise
            except Exception as exc:
                if token and getattr(exc, "status", None) == 410:
                    raise _Gone() from None
                raise translate_error(exc, "list", "pods", namespace) from None
            page, version, token = parse_pod_page(data, self._clock.now())
            del data  # the next page is read into memory this one leaves
            rows.extend(page)
            if not token:
                return rows, version
            if token in seen or len(seen) >= MAX_PAGES:
                # a server answering the same continue token again would page for ever
                raise BadResponse("cannot list pods: the cluster's paging does not end")
            seen.add(token)

    async def pods(self) -> list[PodHealth]:
        results = await self._list_all(self._namespaces or ("",))
        return [pod for pods, _version in results for pod in pods]

    async def _list_all(
        self, scopes: tuple[str, ...], api: Any = None
    ) -> list[tuple[list[PodHealth], str]]:
        """One list per namespace ("" = all namespaces), concurrently."""
        return list(
            await asyncio.gather(
                *(
                    self._call(partial(self._list_pods, ns, api), "list", "pods", ns)
                    for ns in scopes
                )
            )
        )

    # ------------------------------------------------------------------ watching

    def watch(self) -> AsyncIterator[PodEvent]:
        return self._watch()

    async def _watch(self) -> AsyncIterator[PodEvent]:
        # pin the client and namespaces: a switch() ends this watch instead of mixing clusters
        scopes = self._namespaces or ("",)
        generation = self._generation
        api = await self._call(self._client, "load", "kubeconfig")
        lists = await self._list_all(scopes, api)
        state: dict[str, dict[str, PodHealth]] = {
            ns: {p.key: p for p in pods} for ns, (pods, _v) in zip(scopes, lists, strict=True)
        }
        yield PodEvent(PodEventType.SYNC, tuple(p for pods, _v in lists for p in pods))
        if generation != self._generation:
            return  # switched while the consumer handled the SYNC

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._watch_queues.add(queue)
        stop = threading.Event()
        streams: list[Any] = []  # open responses, closed on stop to unblock their readers
        workers = [
            threading.Thread(
                target=self._watch_worker,
                args=(ns, version, loop, queue, stop, streams, api),
                name=f"cockpit-k8s-watch-{ns or 'all'}",
                daemon=True,
            )
            for ns, (_pods, version) in zip(scopes, lists, strict=True)
        ]
        for worker in workers:
            worker.start()
        try:
            while True:
                scope, item = await queue.get()
                if item is _SWITCHED:
                    return
                if isinstance(item, BaseException):
                    raise item
                kind, pods = item
                if kind is PodEventType.SYNC:
                    state[scope] = {p.key: p for p in pods}
                    yield PodEvent(
                        PodEventType.SYNC, tuple(p for s in state.values() for p in s.values())
                    )
                    continue
                pod = pods[0]
                if kind is PodEventType.DELETED:
                    state[scope].pop(pod.key, None)
                else:
                    state[scope][pod.key] = pod
                yield PodEvent(kind, (pod,))
        finally:
            self._watch_queues.discard(queue)
            stop.set()
            for response in list(streams):
                _shutdown(response)

    def _watch_worker(
        self,
        namespace: str,
        version: str,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[tuple[str, Any]],
        stop: threading.Event,
        streams: list[Any],
        api: Any = None,
    ) -> None:
        """One namespace's watch, in its own thread: stream -> parse -> pod_health -> queue."""

        def put(item: Any) -> None:
            if not stop.is_set():
                loop.call_soon_threadsafe(queue.put_nowait, (namespace, item))

        while not stop.is_set():
            started = time.monotonic()
            try:
                for event_type, obj in self._watch_stream(namespace, version, stop, streams, api):
                    object_version = (obj.get("metadata") or {}).get("resourceVersion")
                    if object_version:
                        version = str(object_version)
                    if event_type == "BOOKMARK":
                        continue
                    put((PodEventType(event_type), (pod_health(obj, self._clock.now()),)))
                # the server ended the stream (timeoutSeconds): resume from `version`, but
                # never spin on a server that closes every watch at once
                if time.monotonic() - started < 1.0:
                    stop.wait(1.0)
            except _Gone:
                try:
                    pods, version = self._list_pods(namespace, api)
                except BackendError as exc:
                    put(exc)
                    return
                put((PodEventType.SYNC, tuple(pods)))
            except BackendError as exc:
                put(exc)
                return
            except Exception as exc:
                if stop.is_set():
                    return
                put(translate_error(exc, "watch", "pods", namespace))
                return

    def _watch_stream(
        self,
        namespace: str,
        version: str,
        stop: threading.Event,
        streams: list[Any],
        api: Any = None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        core = self._core(api)
        kwargs: dict[str, Any] = {
            "watch": True,
            "allow_watch_bookmarks": True,
            "timeout_seconds": int(self._watch_timeout),
            "_preload_content": False,
            # the headers must come within the timeout: an API server that accepts and never
            # answers is reported, not taken for a quiet watch (set longer below)
            "_request_timeout": self._request_timeout(),
        }
        if version:
            kwargs["resource_version"] = version
        try:
            if namespace:
                response = core.list_namespaced_pod(namespace, **kwargs)
            else:
                response = core.list_pod_for_all_namespaces(**kwargs)
        except Exception as exc:
            if getattr(exc, "status", None) == 410:
                raise _Gone() from None
            raise translate_error(exc, "watch", "pods", namespace) from None
        # an idle watch sends nothing until its server-side timeout: read a bit longer
        silent_limit = self._watch_timeout + self._timeout
        _set_read_timeout(response, silent_limit)
        streams.append(response)
        try:
            for line in _lines(response):
                if stop.is_set():
                    return
                event_type, obj = decode_watch_line(line)
                if event_type == "ERROR":
                    if obj.get("code") == 410:
                        raise _Gone()
                    message = _one_line(obj.get("message") or "")
                    raise BadResponse(f"watch pods failed: {obj.get('code')} {message}".strip())
                if event_type in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
                    yield event_type, obj
        except (BackendError, _Gone):
            raise
        except Exception as exc:
            if stop.is_set():
                return
            # silent past the end the server promised (timeoutSeconds): say so (STALE) and
            # let the caller reconnect (relist), rather than trust a dead stream
            if _is_read_timeout(exc):
                raise Unreachable(
                    f"watch pods{_where(namespace)}: silent for {silent_limit:g}s, "
                    "past the server's own stream timeout; reconnecting"
                ) from None
            raise translate_error(exc, "watch", "pods", namespace) from None
        finally:
            with contextlib.suppress(ValueError):
                streams.remove(response)
            _shutdown(response)

    # ------------------------------------------------------------------ detail

    async def detail(self, pod: PodHealth) -> PodDetail:
        raw = await self._call(
            lambda: self._json(
                self._core().read_namespaced_pod(
                    pod.name,
                    pod.namespace,
                    _preload_content=False,
                    _request_timeout=self._request_timeout(),
                )
            ),
            "get",
            "pods",
            pod.namespace,
            pod.name,
        )
        try:
            events = await self._call(
                lambda: self._events(pod), "list", "events", pod.namespace, pod.name
            )
        except (Forbidden, NotFound):
            events = []  # a pod you can read but whose events you cannot is still worth showing
        return pod_detail(raw, events, self._clock.now())

    def _events(self, pod: PodHealth) -> list[dict[str, Any]]:
        body = self._json(
            self._core().list_namespaced_event(
                pod.namespace,
                field_selector=f"involvedObject.name={pod.name}",
                _preload_content=False,
                _request_timeout=self._request_timeout(),
            )
        )
        return events_of(body, pod.name, pod.uid)

    # ------------------------------------------------------------------ restart

    async def plan_restart(self, pod: PodHealth) -> RestartPlan:
        return await self._call(lambda: self._plan(pod), "get", "workload", pod.namespace)

    def _read(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        apps = self._apps()
        readers = {
            "ReplicaSet": (apps.read_namespaced_replica_set, "replicasets.apps"),
            "Deployment": (apps.read_namespaced_deployment, "deployments.apps"),
            "StatefulSet": (apps.read_namespaced_stateful_set, "statefulsets.apps"),
            "DaemonSet": (apps.read_namespaced_daemon_set, "daemonsets.apps"),
        }
        reader, resource = readers[kind]
        try:
            response = reader(
                name, namespace, _preload_content=False, _request_timeout=self._request_timeout()
            )
        except Exception as exc:
            raise translate_error(exc, "get", resource, namespace, name) from None
        body = self._json(response)
        if not isinstance(body, dict):
            raise BadResponse(f'{resource} "{name}" is not an object')
        return body

    def _plan(self, pod: PodHealth) -> RestartPlan:
        kind, name = pod.owner_kind, pod.owner_name
        if not kind:
            return RestartPlan(
                pod,
                (RestartMode.DELETE_POD,),
                warning="no controller: deleting it is permanent, nothing recreates it",
            )
        if kind == "ReplicaSet":
            rs = self._read("ReplicaSet", name, pod.namespace)
            owner_kind, owner_name = controller_of(rs.get("metadata") or {})
            if owner_kind != "Deployment":
                return RestartPlan(
                    pod, (RestartMode.DELETE_POD,), workload_kind="ReplicaSet", workload_name=name
                )
            kind, name = owner_kind, owner_name
        if kind in ROLLOUT_KINDS:
            workload = self._read(kind, name, pod.namespace)
            refusal = ""
            if kind == "Deployment" and (workload.get("spec") or {}).get("paused"):
                # kubectl rollout restart's own words
                refusal = (
                    f'deployments.apps "{name}" can\'t restart paused deployment '
                    "(run rollout resume first)"
                )
            return RestartPlan(
                pod,
                (RestartMode.DELETE_POD, RestartMode.ROLLOUT),
                workload_kind=kind,
                workload_name=name,
                refusal=refusal,
            )
        if kind == "Node":
            return RestartPlan(
                pod,
                (RestartMode.DELETE_POD,),
                workload_kind=kind,
                workload_name=name,
                warning="static pod: the kubelet recreates it from its manifest",
            )
        return RestartPlan(pod, (RestartMode.DELETE_POD,), workload_kind=kind, workload_name=name)

    async def restart(self, pod: PodHealth, mode: RestartMode) -> ActionResult:
        if mode is RestartMode.DELETE_POD:
            await self._call(
                lambda: self._core().delete_namespaced_pod(
                    pod.name,
                    pod.namespace,
                    _preload_content=False,
                    _request_timeout=self._request_timeout(),
                ),
                "delete",
                "pods",
                pod.namespace,
                pod.name,
            )
            by = f"; its {pod.owner_kind} recreates it" if pod.owner_kind else " (permanently)"
            return ActionResult.success(f"deleted pod {pod.key}{by}", pod=pod.key)

        plan = await self.plan_restart(pod)
        if RestartMode.ROLLOUT not in plan.modes:
            return ActionResult.failure(f"pod {pod.key} has no workload to rollout-restart")
        if plan.refusal:
            return ActionResult.failure(plan.refusal)
        kind, name = plan.workload_kind, plan.workload_name
        resource = f"{_PLURAL[kind]}.apps"
        stamp = _rfc3339(self._clock.now())
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        patchers = {
            "Deployment": "patch_namespaced_deployment",
            "StatefulSet": "patch_namespaced_stateful_set",
            "DaemonSet": "patch_namespaced_daemon_set",
        }

        def patch() -> Any:
            return getattr(self._apps(), patchers[kind])(
                name,
                pod.namespace,
                body,
                _content_type=STRATEGIC_MERGE,  # the client would default to json-patch
                _preload_content=False,
                _request_timeout=self._request_timeout(),
            )

        await self._call(patch, "patch", resource, pod.namespace, name)
        return ActionResult.success(
            f"rollout restart of {kind.lower()} {pod.namespace}/{name} (restartedAt {stamp})",
            workload=f"{kind}/{name}",
        )

    # ------------------------------------------------------------------ logs

    async def logs(
        self, pod: PodHealth, container: str, *, previous: bool = False, tail: int = 200
    ) -> list[str]:
        def read() -> list[str]:
            response = self._core().read_namespaced_pod_log(
                pod.name,
                pod.namespace,
                container=container or None,
                tail_lines=tail,
                previous=previous,
                _preload_content=False,
                _request_timeout=self._request_timeout(),
            )
            return read_body(response).decode("utf-8", "replace").splitlines()

        # a 400 keeps the API's own words: 'previous terminated container "app" ... not found'
        return await self._call(read, "get", "pods/log", pod.namespace, pod.name)

    def follow_logs(self, pod: PodHealth, container: str) -> AsyncIterator[str]:
        return self._follow(pod, container)

    async def _follow(self, pod: PodHealth, container: str) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        stop = threading.Event()
        holder: list[Any] = []

        def put(item: str | BaseException | None) -> None:
            if not stop.is_set():
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def run() -> None:
            while not stop.is_set():
                try:
                    response = self._core().read_namespaced_pod_log(
                        pod.name,
                        pod.namespace,
                        container=container or None,
                        follow=True,
                        tail_lines=0,  # only lines written from now on: the tail is shown
                        _preload_content=False,
                        # the headers within the timeout (a server that accepts and never
                        # answers is reported); then a quiet container may be quiet longer
                        _request_timeout=self._request_timeout(),
                    )
                except Exception as exc:
                    put(translate_error(exc, "follow", "pods/log", pod.namespace, pod.name))
                    return
                _set_read_timeout(response, FOLLOW_IDLE)
                holder.append(response)
                try:
                    for line in _lines(response):
                        if stop.is_set():
                            return
                        put(line.decode("utf-8", "replace"))
                    put(None)  # the container ended: so does the stream
                    return
                except Exception as exc:
                    if stop.is_set():
                        return
                    if not _is_read_timeout(exc):
                        put(translate_error(exc, "follow", "pods/log", pod.namespace, pod.name))
                        return
                    # a quiet container: reconnect instead of holding a socket forever
                finally:
                    _shutdown(response)

        thread = threading.Thread(target=run, name=f"cockpit-k8s-logs-{pod.name}", daemon=True)
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            for response in holder:
                _shutdown(response)

    # ------------------------------------------------------------------ health

    async def health(self) -> SourceHealth:
        def version() -> str:
            api = self._client()
            method, url, headers, _body, _post = api.param_serialize(
                "GET",
                "/version",
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = api.call_api(
                method, url, header_params=headers, _request_timeout=self._request_timeout()
            )
            response.read()
            if not 200 <= response.status < 300:
                raise BadResponse(f"GET /version answered HTTP {response.status}")
            data = self._json(response)
            return str(data.get("gitVersion", "?")) if isinstance(data, dict) else "?"

        context = self.current_context
        try:
            git_version = await self._call(version, "get", "version")
        except Unreachable as exc:
            cause = str(exc).rsplit(": ", 1)[-1]
            return SourceHealth(self.name, False, f"unreachable: {cause}")
        except BackendError as exc:
            return SourceHealth(self.name, False, _one_line(str(exc)))
        where = f" ({context})" if context else ""
        return SourceHealth(self.name, True, f"kubernetes {git_version}{where}")

    async def close(self) -> None:
        self._closed = True
        with self._api_lock:
            api, self._api = self._api, None
        if api is not None:
            await asyncio.to_thread(api.close)


@contextlib.contextmanager
def _gc_paused(size: int) -> Iterator[None]:
    """Pause the cyclic GC while a big body is parsed, turned into rows and freed: a 13 MB
    pod list makes millions of young objects that all survive the parse, and the
    collections they trigger on the way roughly double the time while freeing nothing."""
    pause = size > 1_000_000 and gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()


def loads(data: bytes | bytearray | str) -> Any:
    """json.loads; a body that is not JSON becomes one clear BadResponse line."""
    try:
        return json.loads(data)
    except RecursionError:
        raise BadResponse("the cluster answered with JSON nested too deep") from None
    except ValueError:
        raise BadResponse("the cluster answered with malformed JSON") from None


def parse_pod_list(data: bytes | bytearray | str, now: Any) -> tuple[list[PodHealth], str]:
    """A raw PodList body -> (kubectl rows, the list's resourceVersion)."""
    rows, version, _token = parse_pod_page(data, now)
    return rows, version


def parse_pod_page(data: bytes | bytearray | str, now: Any) -> tuple[list[PodHealth], str, str]:
    """A raw PodList body (one page of a list, or all of it) -> (kubectl rows, the list's
    resourceVersion, its continue token, "" on the last page).

    msgspec decodes only the keys pod_health reads (~4x less work than json.loads on a
    5,000-pod list), one item at a time: the items are first cut out of the body unparsed
    (msgspec.Raw), then each is decoded, made a row and dropped. A server that answers a
    list whole, ignoring `limit` (kmock; an API server serving from its watch cache), then
    costs its body and the rows, not also every pod decoded at once, whose freed dicts
    stayed resident (measured: 5,000 pods, +31 MB peak and +17 MB RSS for good).
    The rows come from the same pod_health as watch events."""
    import msgspec

    with _gc_paused(len(data)):
        try:
            body = pod_page_decoder().decode(data)
            meta = body.get("metadata") or {}
            version = str(meta.get("resourceVersion") or "")
            token = meta.get("continue") or ""
            items = body.get("items") or []
            del body
            decode = pod_item_decoder().decode
            rows = [pod_health(decode(item), now) for item in items]
            del items
        except msgspec.ValidationError:
            # valid JSON of the wrong shape (items not a list of objects, ...)
            raise BadResponse("the cluster's pod list is not a PodList") from None
        except (msgspec.DecodeError, RecursionError):
            raise BadResponse("the cluster answered with malformed JSON") from None
    return rows, version, token


def decode_watch_line(line: bytes | str) -> tuple[Any, dict[str, Any]]:
    """One watch event line -> (type, object); a pod object is cut to what pod_health and
    the watch loop read (msgspec, like the list), an ERROR's Status is decoded whole."""
    import msgspec

    try:
        event = watch_event_decoder().decode(line)
        event_type = msgspec.json.decode(event["type"]) if "type" in event else None
        raw = event.get("object", b"null")
        # an ERROR carries a Status (whose "status" is a string), anything else a Pod
        decode = msgspec.json.decode if event_type == "ERROR" else pod_decoder().decode
        obj = decode(raw)
    except (ValueError, RecursionError):  # msgspec Decode/ValidationError are ValueErrors
        raise BadResponse("the cluster's watch stream is not JSON lines") from None
    return event_type, obj if isinstance(obj, dict) else {}


def events_of(body: Any, name: str = "", uid: str = "") -> list[dict[str, Any]]:
    """An EventList body -> the events about this pod (all of them without a name); any
    item that is not an event object is skipped."""
    items = body.get("items") if isinstance(body, dict) else None
    out = []
    for event in items if isinstance(items, list) else []:
        if not isinstance(event, dict):
            continue
        involved = event.get("involvedObject")
        involved = involved if isinstance(involved, dict) else {}
        if name and (involved.get("name") != name or involved.get("kind", "Pod") != "Pod"):
            continue
        if uid and involved.get("uid") and involved["uid"] != uid:
            continue  # an earlier pod of the same name
        out.append(event)
    return out


def _lines(response: Any) -> Iterator[bytes]:
    """Newline-delimited records of a streamed urllib3 response, as they arrive."""
    from cockpit.backends.http import default_max_bytes

    cap = default_max_bytes()
    pending = b""
    for chunk in response.stream(amt=None, decode_content=False):
        pending += chunk
        if len(pending) > cap and b"\n" not in pending:
            raise BadResponse("the cluster sent a watch event larger than the size limit")
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip():
                yield line
    if pending.strip():
        yield pending


def read_body(response: Any, limit: int | None = None) -> bytearray:
    """A urllib3 response's body, refused past the size limit (limits.max_response_mb).
    Into one growing buffer, not chunks joined at the end: a 14 MB pod list was the
    chunks and their joined copy, 28 MB, at once."""
    from cockpit.backends.http import default_max_bytes

    cap = limit or default_max_bytes()
    declared = str(response.headers.get("content-length", "") or "")
    if declared.isdigit() and int(declared) > cap:
        _shutdown(response)
        raise BadResponse(
            f"the cluster sent a {int(declared) // (1024 * 1024)} MB response; the limit is "
            f"{cap // (1024 * 1024)} MB (limits.max_response_mb)"
        )
    body = bytearray()
    for chunk in response.stream(65536):
        if len(body) + len(chunk) > cap:
            _shutdown(response)
            raise BadResponse(
                f"the cluster sent a response larger than {cap // (1024 * 1024)} MB "
                "(limits.max_response_mb)"
            )
        body += chunk
    return body


def _set_read_timeout(response: Any, seconds: float) -> None:
    """Give an open streamed response a longer read timeout than its request had."""
    connection = getattr(response, "connection", None) or getattr(response, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:  # older urllib3: the socket behind the buffered reader
        raw = getattr(getattr(getattr(response, "_fp", None), "fp", None), "raw", None)
        sock = getattr(raw, "_sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.settimeout(seconds)


def _is_read_timeout(exc: BaseException) -> bool:
    return "ReadTimeout" in type(exc).__name__ or isinstance(exc, TimeoutError)


def _shutdown(response: Any) -> None:
    """Unblock a thread reading this response (urllib3 >= 2.3 has shutdown())."""
    for method in ("shutdown", "close", "release_conn"):
        fn = getattr(response, method, None)
        if fn is not None:
            with contextlib.suppress(Exception):
                fn()
