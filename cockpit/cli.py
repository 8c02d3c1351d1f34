"""`cockpit` and its subcommands. Heavy imports (textual, kubernetes, pika) stay inside
the functions that need them, so `cockpit doctor` or `cockpit secrets` start at once."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit import __version__

if TYPE_CHECKING:
    from cockpit.config import Config
    from cockpit.incident.store import IncidentStore

NO_CONFIG = """\
cockpit: no config file at {path}

Write one (a commented example: `cockpit config example > {path}`), point to one
with --config PATH or $COCKPIT_CONFIG, or try the built-in simulated world:

    cockpit --demo
"""


def _common_options() -> argparse.ArgumentParser:
    """--config and --env, accepted before or after the subcommand (`cockpit --config X
    doctor` = `cockpit doctor --config X`). SUPPRESS: a subcommand that is not given the
    option leaves the value the main parser read, instead of resetting it to None."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: $COCKPIT_CONFIG or ~/.config/cockpit/config.toml)",
    )
    common.add_argument(
        "--env",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="environment from [env.NAME] in the config",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    # two instances: argparse shares a parent's option objects with every parser that
    # uses it, and the main parser's default must not become the subcommands' default
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="A full-screen on-call cockpit: alerts, incident, pods and queues.",
        parents=[_common_options()],
        epilog="Without a subcommand the cockpit screen starts. "
        "`cockpit SUBCOMMAND --help` explains each subcommand.",
    )
    parser.set_defaults(command=None)
    parser.add_argument("--demo", action="store_true", help="run on the built-in simulated world")
    parser.add_argument(
        "--theme", metavar="NAME", help="dark, light, high-contrast, ansi, or yours"
    )
    parser.add_argument("--read-only", action="store_true", help="disable every action that writes")
    parser.add_argument("--mouse", action="store_true", help="turn mouse reporting on")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated world (--demo)")
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    sub = parser.add_subparsers(title="subcommands", dest="command", metavar="SUBCOMMAND")

    config = sub.add_parser(
        "config",
        parents=[common],
        help="print a commented example config",
        description="Print a commented example config: cockpit config example > config.toml",
    )
    config.add_argument("what", choices=["example"], help="example: the commented example")

    secrets = sub.add_parser(
        "secrets",
        parents=[common],
        help="set, get, delete or list the secrets the config names",
        description="The config names secrets; their values live in $COCKPIT_SECRET_<NAME>, "
        "the OS keyring or a hidden prompt.",
    )
    verbs = secrets.add_subparsers(dest="verb", required=True, metavar="VERB")
    p_set = verbs.add_parser(
        "set", parents=[common], help="store a secret in the OS keyring (hidden prompt or stdin)"
    )
    p_set.add_argument("name")
    p_set.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    p_get = verbs.add_parser("get", parents=[common], help="say where a secret resolves from")
    p_get.add_argument("name")
    p_get.add_argument("--show", action="store_true", help="also print the value")
    p_del = verbs.add_parser("delete", parents=[common], help="delete a secret from the keyring")
    p_del.add_argument("name")
    verbs.add_parser(
        "list", parents=[common], help="every secret the config names and whether it resolves"
    )

    sub.add_parser(
        "doctor",
        parents=[common],
        help="check every configured backend, secret and the terminal",
        description="Check every configured backend, the keyring, every secret, the config "
        "file's permissions and the terminal; exit 1 when something required fails.",
    )
    postmortem = sub.add_parser(
        "postmortem",
        parents=[common],
        help="print a Markdown post-mortem draft",
        description="Draft a post-mortem from the incident record.",
    )
    from cockpit.incident.postmortem import add_arguments

    add_arguments(postmortem)
    report = sub.add_parser(
        "report",
        parents=[common],
        help="shift figures from the record (volume, response times, noisy alerts)",
        description="Shift figures from the cockpit's record: volume, response times, "
        "escalations, interruptions, noisy alerts, update cadence, time per engineer.",
    )
    from cockpit.incident.report import add_arguments as report_arguments

    report_arguments(report)
    handover = sub.add_parser(
        "handover",
        parents=[common],
        help="what the next shift inherits, from the record",
        description="The shift handover from the incident record.",
    )
    handover.add_argument("--format", default="markdown", choices=("markdown",))
    store = sub.add_parser(
        "store",
        parents=[common],
        help="the shared incident store (PostgreSQL): migrate --from SQLITE_PATH",
        description='The shared incident store named by [store] kind = "postgresql".',
    )
    store_verbs = store.add_subparsers(dest="verb", required=True, metavar="VERB")
    migrate = store_verbs.add_parser(
        "migrate",
        parents=[common],
        help="copy a local SQLite store into the shared one (idempotent)",
        description="Copy a local SQLite incident store (incidents, timelines, shift log, "
        "outbox, remote ids, alert history) into the shared store; running it again copies "
        "nothing twice.",
    )
    migrate.add_argument("--from", dest="source", metavar="SQLITE_PATH", required=True)
    sub.add_parser(
        "themes",
        parents=[common],
        help="list the themes (built-in and yours)",
        description="List the themes: built-in ones and ~/.config/cockpit/themes/*.toml.",
    )
    return parser


DEMO_SUBCOMMANDS = ("postmortem", "report", "handover")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    for name in ("config", "env"):
        if not hasattr(args, name):
            setattr(args, name, None)
    if args.command is not None and args.demo and args.command in DEMO_SUBCOMMANDS:
        return run_demo_subcommand(args)
    if args.command is not None:
        return run_subcommand(args)
    return run_screen(args)


def _load(config_path: str | None, env: str | None):  # type: ignore[no-untyped-def]
    from cockpit.config import ConfigError, default_config_path, load_config

    path = Path(config_path) if config_path else default_config_path()
    try:
        return load_config(path, env), None
    except FileNotFoundError:
        return None, NO_CONFIG.format(path=path)
    except ConfigError as exc:
        return None, f"cockpit: bad config: {exc}\n"


def run_screen(args: argparse.Namespace) -> int:
    from cockpit.config import demo_config

    if args.demo:
        from cockpit.runtime import build_demo_runtime

        config = demo_config()
        if args.config or os.environ.get("COCKPIT_CONFIG"):
            loaded, error = _load(args.config, args.env)
            if error:
                sys.stderr.write(error)
                return 2
            assert loaded is not None
            config = demo_config(env="demo")
            config = type(config)(
                **{**config.__dict__, "identity": loaded.identity, "ui": loaded.ui}
            )
        from cockpit.runtime import demo_dir

        runtime = build_demo_runtime(
            seed=args.seed, read_only=args.read_only, config=config, directory=demo_dir()
        )
    else:
        config, error = _load(args.config, args.env)
        if error:
            sys.stderr.write(error)
            return 2
        assert config is not None
        from cockpit.runtime import build_runtime

        resolver = None
        try:
            from cockpit.doctor import config_permission_warning
            from cockpit.secrets import SecretError, SecretResolver

            warning = config_permission_warning(config)
            if warning:
                sys.stderr.write(f"cockpit: warning: {warning}\n")
            resolver = SecretResolver(prompt=sys.stdin.isatty())
            for name in config.secret_names():
                resolver.resolve(name)
        except SecretError as exc:
            sys.stderr.write(f"cockpit: {exc}\n")
            return 2
        except ImportError:  # pragma: no cover
            pass
        try:
            runtime = build_runtime(config, read_only=args.read_only, secrets=resolver)
        except Exception as exc:  # a backend that cannot even be built: say which, no traceback
            sys.stderr.write(f"cockpit: cannot start: {type(exc).__name__}: {exc}\n")
            return 2
    from cockpit.runtime import tune_malloc
    from cockpit.ui.app import CockpitApp
    from cockpit.ui.driver import HangupAwareDriver

    tune_malloc()
    _log_to_file(runtime)
    app = CockpitApp(
        runtime,
        theme=args.theme or "",
        mouse=args.mouse or runtime.config.ui.mouse,
        driver_class=HangupAwareDriver if sys.platform != "win32" else None,
    )
    app.run(mouse=app.mouse_enabled)
    return 0


def _log_to_file(runtime: object) -> None:
    """Logs go to a file (the screen is the terminal), with secret values redacted."""
    import logging

    from cockpit.config import data_dir

    demo = getattr(runtime, "demo", None) is not None
    directory = getattr(runtime, "postmortem_dir", data_dir()).parent if demo else data_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(directory / "cockpit.log")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        from cockpit.secrets import install_log_filter

        install_log_filter()
    except ImportError:  # pragma: no cover
        pass


def run_demo_subcommand(args: argparse.Namespace) -> int:
    """`cockpit --demo postmortem`: the same command on the last demo session's record."""
    from cockpit.runtime import DEMO_STORE, demo_dir

    name = args.command
    directory = demo_dir()
    store_path = directory / DEMO_STORE
    if not store_path.exists():
        sys.stderr.write(
            f"cockpit {name}: no demo session recorded yet: run `cockpit --demo`, declare an "
            f"incident (i), quit, then run `cockpit --demo {name}` again\n"
        )
        return 2
    if name == "postmortem":
        from cockpit.incident.postmortem import run

        return run(args, store_path=str(store_path), default_dir=directory / "postmortems")
    if name == "report":
        from cockpit.config import demo_config
        from cockpit.incident.report import run as report

        return report(
            args,
            store_path=str(store_path),
            audit_path=directory / "audit.jsonl",
            config=demo_config().report,
        )
    if name == "handover":
        from cockpit.config import demo_config
        from cockpit.incident.handover import main as handover_main

        return handover_main(
            ["--format", args.format],
            store_path=str(store_path),
            shift=demo_config().report.shift,
            quarantine_dir=None,
        )
    return 2


def _shared_store(config: Config) -> IncidentStore:
    """The shared store for a one-shot command (post-mortem, report, handover)."""
    from cockpit.runtime import open_store
    from cockpit.secrets import SecretResolver

    resolver = SecretResolver(prompt=sys.stdin.isatty())
    return open_store(config, secret_value=lambda name: str(resolver.resolve(name).value))


def run_subcommand(args: argparse.Namespace) -> int:
    name = args.command
    if name == "config":
        from cockpit.config_example import EXAMPLE_CONFIG

        sys.stdout.write(EXAMPLE_CONFIG)
        return 0
    if name == "themes":
        from cockpit.ui.theming import load_themes

        themes = load_themes()
        for theme_name in sorted(themes.themes):
            print(theme_name)
        for problem in themes.problems:
            print(problem, file=sys.stderr)
        return 0
    config, error = _load(args.config, args.env)
    if name == "secrets":
        from cockpit.secrets import secrets_main

        rest = [args.verb]
        if args.verb != "list":
            rest.append(args.name)
        rest.extend(getattr(args, "extra", []))
        if getattr(args, "show", False):
            rest.append("--show")
        return secrets_main(rest, config)
    if error or config is None:
        sys.stderr.write(error or "cockpit: no config\n")
        return 2
    if name == "doctor":
        from cockpit.doctor import doctor_main

        return doctor_main(config)
    if name == "store":
        from cockpit.incident.postgres.copy import store_main

        return store_main([args.verb, "--from", args.source], config)
    if name == "postmortem":
        from cockpit.incident.postmortem import run

        shared = None
        if config.store.kind == "postgresql":
            shared = _shared_store(config)
        return run(args, store_path=config.store_path, shared=shared)
    if name == "report":
        from cockpit.audit import default_audit_path
        from cockpit.incident.report import run as report

        return report(
            args,
            store_path=config.store_path,
            audit_path=default_audit_path(),
            config=config.report,
            shared=_shared_store(config) if config.store.kind == "postgresql" else None,
        )
    if name == "handover":
        from cockpit.config import data_dir
        from cockpit.incident.handover import main as handover_main

        return handover_main(
            ["--format", args.format],
            store_path=config.store_path,
            shift=config.report.shift,
            quarantine_dir=data_dir() / "quarantine",
            shared=_shared_store(config) if config.store.kind == "postgresql" else None,
        )
    return 2
