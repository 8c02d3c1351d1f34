"""Secrets: env var -> OS keyring (off-thread, with a timeout) -> masked prompt.

The config names secrets (`password_secret = "rabbitmq-prod"`), never holds their values.
A name resolves, in order, from:
  1. the env var COCKPIT_SECRET_<NAME> (upper-cased, non-alphanumerics -> `_`);
  2. the OS keyring (service "cockpit"), called in a daemon thread with a timeout so a
     locked or broken keyring can never hang the cockpit;
  3. a masked prompt, only when the resolver allows it (before the screen starts) and
     stdin is a terminal.
Every value resolved is remembered so `redact()` (and the log filter) can blank it out of
anything the cockpit writes: audit log, log records, doctor output, error lines.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

from cockpit.config import Config

SERVICE = "cockpit"
MASK = "•••"
_MIN_REDACT_LEN = 4
_T = TypeVar("_T")


class SecretError(Exception):
    """A secret that cannot be resolved or stored; str() is one clear line, never the value."""


class KeyringUnavailable(SecretError):
    """No usable keyring backend on this host, or it did not answer in time."""


def env_var_name(name: str) -> str:
    """COCKPIT_SECRET_<NAME>: upper-cased, every non-alphanumeric becomes `_`."""
    return "COCKPIT_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def keyring_hint(name: str = "NAME") -> str:
    return (
        f"set {env_var_name(name)} or run `cockpit secrets set {name}` after installing "
        "a keyring backend (e.g. keyrings.alt)"
    )


# --- redaction -------------------------------------------------------------------------------

_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Remember a secret value so redact() hides it. Short values are ignored (too many hits)."""
    if len(value) >= _MIN_REDACT_LEN:
        with _known_lock:
            _known.add(value)


def forget_secrets() -> None:
    """Forget every registered value (tests)."""
    with _known_lock:
        _known.clear()


def redact(text: str) -> str:
    """Replace every known secret value in text with •••."""
    with _known_lock:
        values = sorted(_known, key=len, reverse=True)  # longest first: no partial leftovers
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Blanks secret values out of a log record's message, arguments and traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to logging's own error path
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_log_filter(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the redacting filter to a logger (default: root) and each of its handlers.

    A logger's own filters do not see records propagated from child loggers; handler
    filters do, so call this after the handlers are set up. Idempotent.
    """
    target = logger or logging.getLogger()
    for owner in [target, *target.handlers]:
        if _FILTER not in owner.filters:
            owner.addFilter(_FILTER)
    return _FILTER


# --- keyring, off-thread ---------------------------------------------------------------------


class _Timeout(Exception):
    pass


def _call_with_timeout(fn: Callable[[], _T], timeout: float) -> _T:
    """Run fn in a daemon thread: a hung keyring (D-Bus, locked wallet) never blocks exit."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="cockpit-keyring", daemon=True).start()
    if not done.wait(timeout):
        raise _Timeout
    if "error" in box:
        raise box["error"]
    return box["value"]


def _usable_backend() -> Any:
    """The keyring backend, or KeyringUnavailable when it is the fail/empty-chainer one."""
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends
    ):
        raise KeyringUnavailable("no keyring backend on this host")
    return backend


def backend_name(backend: Any) -> str:
    cls = type(backend)
    name = f"{cls.__module__}.{cls.__qualname__}"
    chained = getattr(backend, "backends", None)
    if isinstance(chained, list) and chained:
        name += " (" + ", ".join(type(b).__qualname__ for b in chained) + ")"
    return name


def _keyring_failure(exc: BaseException, timeout: float) -> KeyringUnavailable:
    from keyring.errors import NoKeyringError

    if isinstance(exc, _Timeout):
        return KeyringUnavailable(f"the OS keyring did not answer within {timeout:g} s")
    if isinstance(exc, KeyringUnavailable | NoKeyringError):
        return KeyringUnavailable("no keyring backend on this host")
    # any other backend failure (D-Bus down, locked collection...): one line, no traceback
    return KeyringUnavailable(f"the OS keyring failed ({type(exc).__name__}: {exc})")


def keyring_status(timeout: float = 3.0) -> tuple[bool, str]:
    """(usable, description) of the keyring backend in use, for doctor and `secrets list`."""
    try:
        backend = _call_with_timeout(_usable_backend, timeout)
    except Exception as exc:
        return False, f"{_keyring_failure(exc, timeout)}: {keyring_hint()}"
    return True, backend_name(backend)


def keyring_set(name: str, value: str, timeout: float = 10.0) -> str:
    """Store a value under service "cockpit"; returns the backend's name."""

    def run() -> str:
        backend = _usable_backend()
        backend.set_password(SERVICE, name, value)
        return backend_name(backend)

    try:
        return _call_with_timeout(run, timeout)
    except Exception as exc:
        raise _keyring_failure(exc, timeout) from None


def keyring_delete(name: str, timeout: float = 10.0) -> bool:
    """Delete a value from the keyring; False when it was not there."""
    from keyring.errors import PasswordDeleteError

    def run() -> bool:
        backend = _usable_backend()
        try:
            backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            return False
        return True

    try:
        return _call_with_timeout(run, timeout)
    except Exception as exc:
        raise _keyring_failure(exc, timeout) from None


# --- the resolver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    name: str
    value: str = field(repr=False)
    source: str  # env | keyring | prompt

    def __repr__(self) -> str:
        return f"Resolved(name={self.name!r}, source={self.source!r}, value={MASK!r})"

    __str__ = __repr__


def describe_source(resolved: Resolved) -> str:
    if resolved.source == "env":
        return f"env var {env_var_name(resolved.name)}"
    if resolved.source == "keyring":
        return "OS keyring"
    return "typed at the prompt"


class SecretResolver:
    """Resolves secret names to values; remembers what it found and why something failed."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] = os.environ,
        keyring_timeout: float = 3.0,
        prompt: bool,
        prompt_fn: Callable[[str], str] | None = None,
        stdin_isatty: Callable[[], bool] | None = None,
    ) -> None:
        self.env = env
        self.keyring_timeout = keyring_timeout
        self.prompt = prompt
        self._prompt_fn = prompt_fn or getpass.getpass
        self._isatty = stdin_isatty or (lambda: sys.stdin is not None and sys.stdin.isatty())
        self._cache: dict[str, Resolved] = {}
        self._lock = threading.Lock()
        # Set once the keyring failed or timed out: later names skip it instead of each
        # waiting out the timeout again.
        self.keyring_problem: str | None = None

    def _from_keyring(self, name: str) -> str | None:
        if self.keyring_problem is not None:
            return None

        def run() -> str | None:
            value: str | None = _usable_backend().get_password(SERVICE, name)
            return value

        try:
            return _call_with_timeout(run, self.keyring_timeout)
        except Exception as exc:
            self.keyring_problem = str(_keyring_failure(exc, self.keyring_timeout))
            return None

    def lookup(self, name: str) -> Resolved | None:
        """Env var, then keyring; never prompts. None when neither has it (see explain())."""
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            value = self.env.get(env_var_name(name))
            source = "env"
            if not value:
                value, source = self._from_keyring(name), "keyring"
            if not value:
                return None
            return self._remember(Resolved(name, value, source))

    def _remember(self, resolved: Resolved) -> Resolved:
        register_secret(resolved.value)
        self._cache[resolved.name] = resolved
        return resolved

    def explain(self, name: str) -> str:
        """Why a name does not resolve, and what to do about it: one line."""
        where = f"secret {name!r} not found: {env_var_name(name)} is not set"
        if self.keyring_problem is not None:
            return f"{where} and {self.keyring_problem}: {keyring_hint(name)}"
        return (
            f"{where} and the OS keyring has no entry for it: run "
            f"`cockpit secrets set {name}` or set {env_var_name(name)}"
        )

    def resolve(self, name: str) -> Resolved:
        """lookup(), then the masked prompt when allowed; raises SecretError otherwise."""
        found = self.lookup(name)
        if found is not None:
            return found
        if self.prompt and self._isatty():
            try:
                value = self._prompt_fn(f"Secret {name} (input hidden): ")
            except (EOFError, KeyboardInterrupt):
                value = ""
            if value:
                with self._lock:
                    return self._remember(Resolved(name, value, "prompt"))
        raise SecretError(self.explain(name))

    def resolve_all(self, names: Iterable[str]) -> dict[str, Resolved]:
        """Resolve each name once; one SecretError naming every one that failed."""
        found: dict[str, Resolved] = {}
        problems: list[str] = []
        for name in dict.fromkeys(names):
            try:
                found[name] = self.resolve(name)
            except SecretError as exc:
                problems.append(str(exc))
        if problems:
            raise SecretError("; ".join(problems))
        return found


def secret_uses(config: Config) -> list[tuple[str, str]]:
    """(secret name, config key that names it) for every secret the config refers to."""
    uses: list[tuple[str, str]] = []
    if config.store.password_secret:
        uses.append((config.store.password_secret, "store.password_secret"))
    if config.rabbitmq and config.rabbitmq.password_secret:
        uses.append((config.rabbitmq.password_secret, "rabbitmq.password_secret"))
    if config.statuspage.api_key_secret:
        uses.append((config.statuspage.api_key_secret, "statuspage.api_key_secret"))
    if config.pager and config.pager.kind == "pagerduty":
        uses.extend((secret, f"pager.teams.{team}") for team, secret in config.pager.teams.items())
    if config.jira is not None and config.jira.api_token_secret:
        uses.append((config.jira.api_token_secret, "jira.api_token_secret"))
    return uses


# --- `cockpit secrets ...` ---------------------------------------------------------------------

_ARGV_REFUSAL = (
    "refusing to take a secret value from the command line (it would stay in shell history "
    "and show in the process list): run `cockpit secrets set {name}` and type it at the hidden "
    'prompt, or pipe it in: `printf %s "$VALUE" | cockpit secrets set {name}`'
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # no SystemExit from inside the cockpit
        raise SecretError(f"{self.prog}: {message}")


def _parser() -> _Parser:
    parser = _Parser(prog="cockpit secrets", description="Manage the secrets the config names.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_set = sub.add_parser("set", help="store a secret in the OS keyring (hidden prompt or stdin)")
    p_set.add_argument("name")
    p_set.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    p_get = sub.add_parser("get", help="say where a secret resolves from")
    p_get.add_argument("name")
    p_get.add_argument("--show", action="store_true", help="also print the value")
    p_del = sub.add_parser("delete", help="delete a secret from the OS keyring")
    p_del.add_argument("name")
    sub.add_parser("list", help="every secret the config names and whether it resolves")
    return parser


def _read_value(name: str, stdin: IO[str], err: IO[str]) -> str:
    if stdin.isatty():
        first = getpass.getpass(f"Value for {name} (input hidden): ")
        second = getpass.getpass("Again, to confirm: ")
        if first != second:
            raise SecretError("the two values differ: nothing stored")
        return first
    # piped: take it as is, minus the newline `echo` adds
    return stdin.read().rstrip("\r\n")


def secrets_main(
    argv: list[str],
    config: Config | None,
    *,
    env: Mapping[str, str] = os.environ,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    keyring_timeout: float = 10.0,
) -> int:
    """`cockpit secrets set|get|delete|list`. Exit 0 on success, 1 on failure, 2 on misuse."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = _parser().parse_args(argv)
    except SecretError as exc:
        print(str(exc), file=err)
        return 2
    resolver = SecretResolver(env=env, keyring_timeout=keyring_timeout, prompt=False)
    try:
        if args.command == "set":
            if args.extra:
                print(_ARGV_REFUSAL.format(name=args.name), file=err)
                return 2
            return _cmd_set(args.name, config, env, stdin, out, err, keyring_timeout)
        if args.command == "get":
            return _cmd_get(args.name, args.show, resolver, out, err)
        if args.command == "delete":
            return _cmd_delete(args.name, env, out, err, keyring_timeout)
        return _cmd_list(config, resolver, out, err)
    except SecretError as exc:
        print(redact(str(exc)), file=err)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing changed", file=err)
        return 130


def _cmd_set(
    name: str,
    config: Config | None,
    env: Mapping[str, str],
    stdin: IO[str],
    out: IO[str],
    err: IO[str],
    timeout: float,
) -> int:
    value = _read_value(name, stdin, err)
    if not value:
        raise SecretError("empty value: nothing stored")
    register_secret(value)
    try:
        backend = keyring_set(name, value, timeout)
    except KeyringUnavailable as exc:
        raise SecretError(
            f"cannot store {name}: {exc}: install a keyring backend (e.g. keyrings.alt) and "
            f"run this again, or set {env_var_name(name)} in the environment instead"
        ) from None
    print(f"stored {name} in the OS keyring ({backend})", file=out)
    if config is not None and name not in {n for n, _ in secret_uses(config)}:
        print(f"note: the config ({config.env}) does not refer to {name!r}", file=err)
    if env.get(env_var_name(name)):
        print(f"note: {env_var_name(name)} is set and takes precedence over the keyring", file=err)
    return 0


def _cmd_get(name: str, show: bool, resolver: SecretResolver, out: IO[str], err: IO[str]) -> int:
    found = resolver.lookup(name)
    if found is None:
        raise SecretError(resolver.explain(name))
    if show:
        # where it came from on stderr, the bare value on stdout: `$(cockpit secrets get X --show)`
        print(f"{name}: found in {describe_source(found)}", file=err)
        print(found.value, file=out)
    else:
        print(f"{name}: found in {describe_source(found)} (add --show to print it)", file=out)
    return 0


def _cmd_delete(
    name: str, env: Mapping[str, str], out: IO[str], err: IO[str], timeout: float
) -> int:
    try:
        removed = keyring_delete(name, timeout)
    except KeyringUnavailable as exc:
        raise SecretError(f"cannot delete {name}: {exc}") from None
    print(
        f"deleted {name} from the OS keyring" if removed else f"{name} was not in the OS keyring",
        file=out,
    )
    if env.get(env_var_name(name)):
        print(f"note: {env_var_name(name)} is still set, so {name} still resolves", file=err)
    return 0 if removed else 1


def _cmd_list(config: Config | None, resolver: SecretResolver, out: IO[str], err: IO[str]) -> int:
    if config is None:
        raise SecretError(
            "no config file: nothing names a secret yet (see `cockpit config example`)"
        )
    uses = secret_uses(config)
    if not uses:
        print(f"the config ({config.env}) names no secrets", file=out)
        return 0
    rows = [("SECRET", "USED BY", "RESOLVES FROM")]
    for name, key in uses:
        found = resolver.lookup(name)
        rows.append((name, key, describe_source(found) if found else "MISSING"))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip(), file=out)
    if resolver.keyring_problem:
        print(f"note: {resolver.keyring_problem}: {keyring_hint()}", file=err)
    return 0
