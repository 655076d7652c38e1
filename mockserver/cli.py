"""``zitadel-mock``: the command line.

Every ``serve`` option is also an environment variable (``ZITADEL_MOCK_`` and the option's name in
capitals, ``-`` as ``_``: ``--busy-timeout`` is ``ZITADEL_MOCK_BUSY_TIMEOUT``) and a key of a TOML
config file (``--config FILE``; the key is the option's name: ``busy-timeout = 500``). A flag wins
over the environment, the environment over the file, the file over the default. docs/cli.md has
the whole list and the exit codes.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from starlette.types import ASGIApp

from zitadel_mock.app import ENV_PREFIX, MockApp, Settings, build_service, create_app, open_state
from zitadel_mock.control.plane import (
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_MAX_STALL,
    DEFAULT_NAMESPACE_TTL,
)
from zitadel_mock.fixtures.loader import FixtureError, load_fixtures_file
from zitadel_mock.server.logs import FORMATS, log_config
from zitadel_mock.server.serving import (
    StopRequest,
    bind,
    freeze_built,
    freeze_start_up,
    serve,
    serve_workers,
    warm_up,
)
from zitadel_mock.state.store import StateFileError, Store

# Exit codes (docs/cli.md "Exit codes"); `verify` has its own (docs/contract.md).
EXIT_OK: Final = 0  # served until stopped (Ctrl-C, SIGTERM), or the check passed
EXIT_FAILURE: Final = 1  # an unexpected failure: a bug, the traceback says where
EXIT_USAGE: Final = 2  # a bad flag, variable, config file, fixture file or state file
EXIT_LISTEN: Final = 3  # the port cannot be listened on (in use, not permitted, no such host)

CONFIG_ENV: Final = f"{ENV_PREFIX}CONFIG"
LISTEN_BACKLOG: Final = 2048  # uvicorn's default
WORKER_ACCESS_LOG_ENV: Final = f"{ENV_PREFIX}WORKER_ACCESS_LOG"  # set for worker processes
TRUE: Final = frozenset({"1", "true", "yes", "on"})
FALSE: Final = frozenset({"0", "false", "no", "off", ""})
LEVELS: Final = ("debug", "info", "warning", "error")
EPILOG: Final = f"""\
every option is also an environment variable {ENV_PREFIX}<OPTION> (--busy-timeout:
{ENV_PREFIX}BUSY_TIMEOUT; lists comma-separated, switches 1/0 or true/false) and a key of the
--config file (busy-timeout = 500). Precedence: flag > environment > config file > default.

exit codes: 0 stopped normally, 1 unexpected failure, 2 bad usage or input, 3 cannot listen.
"""


def _package_version() -> str:
    # Imported here: reading the package's metadata is for --version only (not for serve).
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("zitadel-secret-mock")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown"


class _VersionAction(argparse._VersionAction):
    """argparse's ``--version``, with the version read when it is asked for."""

    @property
    def version(self) -> str:
        return f"zitadel-mock {_package_version()}"

    @version.setter
    def version(self, _value: str | None) -> None:
        pass


def _parser() -> argparse.ArgumentParser:
    return parsers()[0]


def parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The whole command line, and its ``serve`` part."""
    parser = argparse.ArgumentParser(
        prog="zitadel-mock",
        description="A mock of ZITADEL's Generate New OIDC Client Secret call, and its contract.",
        epilog="exit codes: 0 ok, 1 unexpected failure, 2 bad usage or input, 3 cannot listen "
        "(verify: see zitadel-mock verify --help)",
    )
    parser.add_argument("--version", action=_VersionAction)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser(
        "serve",
        help="start the mock server",
        description="Start the mock: REST, gRPC and gRPC-web on one port, the page at /__mock/.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML file with serve options as keys (also {CONFIG_ENV})",
    )
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    run.add_argument(
        "--port",
        type=_port,
        default=8080,
        help="port to listen on, 1 to 65535, or 0 for a free port that is then printed "
        "(default 8080)",
    )
    run.add_argument(
        "--fixtures", type=Path, help="fixture file (YAML); default: the demo fixtures"
    )
    run.add_argument(
        "--seed",
        type=_non_negative,
        help="reproducible secrets and times (for tests; never for real use)",
    )
    run.add_argument(
        "--state",
        type=Path,
        help="SQLite file keeping the state across restarts (created on first start)",
    )
    run.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="server processes sharing the port and the state (default 1)",
    )
    run.add_argument(
        "--busy-timeout",
        type=_positive,
        default=1000,
        metavar="MS",
        help="how long a rotation waits for the state's write lock before answering 503 "
        "(default 1000)",
    )
    run.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="browser origin allowed to call the mock (repeatable; default: any origin)",
    )
    run.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="require this token (header X-Mock-Admin-Token) on the control plane /__mock; "
        "the page asks for it (default: none, fine on loopback only)",
    )
    run.add_argument(
        "--watch", action="store_true", help="reload the --fixtures file when it changes"
    )
    run.add_argument(
        "--namespace-ttl",
        type=_positive_float,
        default=DEFAULT_NAMESPACE_TTL,
        metavar="SECONDS",
        help="forget a namespace after this long unused (default 3600)",
    )
    run.add_argument(
        "--journal-size",
        type=_non_negative,
        default=DEFAULT_JOURNAL_SIZE,
        metavar="N",
        help="requests kept in the journal per namespace; 0 records none (default 1000)",
    )
    run.add_argument(
        "--max-stall",
        type=_positive_float,
        default=DEFAULT_MAX_STALL,
        metavar="SECONDS",
        help="longest a 'stall' fault holds a response (default 30)",
    )
    run.add_argument(
        "--log-level",
        default="info",
        choices=LEVELS,
        help="least severe log records written (default info)",
    )
    run.add_argument(
        "--log-format",
        default="text",
        choices=FORMATS,
        help="text lines, or one JSON object per line; access lines carry request id, "
        "status and duration, never a header or body (default text)",
    )
    run.add_argument("--no-access-log", action="store_true", help="do not log each request")
    verbs.add_parser("verify", help="check a server against the contract (verify --help)")
    check = verbs.add_parser(
        "check-fixtures",
        help="check a fixture file and exit",
        description="Check a fixture file: exit 0 and count its records, or 2 naming the "
        "line and the problem.",
    )
    check.add_argument("file", type=Path, help="the fixture file (YAML)")
    return parser, run


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1 to 65535, or 0 for a free one)")
    return value


def _positive(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


# -- flag > environment > config file > default ---------------------------------------------


class SettingError(Exception):
    """A value from the environment or the config file that the option refuses."""


def serve_options(run: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in run._actions if a.option_strings and a.dest not in ("help", "config")]


def env_name(action: argparse.Action) -> str:
    return ENV_PREFIX + action.option_strings[-1].lstrip("-").upper().replace("-", "_")


def file_key(action: argparse.Action) -> str:
    return action.option_strings[-1].lstrip("-")


def _convert(action: argparse.Action, text: str, where: str) -> Any:
    try:
        value = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise SettingError(f"{where}: {exc}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise SettingError(f"{where}: {text!r} is not one of {choices}")
    return value


def _from_env(action: argparse.Action, text: str) -> Any:
    where = f"{env_name(action)}={text}"
    if isinstance(action, argparse._StoreTrueAction):
        if text.strip().lower() not in TRUE | FALSE:
            raise SettingError(f"{where}: use 1 or 0 (true or false)")
        return text.strip().lower() in TRUE
    if isinstance(action, argparse._AppendAction):
        return [_convert(action, t.strip(), where) for t in text.split(",") if t.strip()]
    return _convert(action, text, where)


def _from_file(action: argparse.Action, value: Any, path: Path) -> Any:
    where = f"{path}: {file_key(action)}"
    if isinstance(action, argparse._StoreTrueAction):
        if not isinstance(value, bool):
            raise SettingError(f"{where}: use true or false")
        return value
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_convert(action, _file_text(i, where), where) for i in items]
    converted = _convert(action, _file_text(value, where), where)
    if isinstance(converted, Path) and not converted.is_absolute():
        converted = path.parent / converted  # relative to the config file, not the cwd
    return converted


def _file_text(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SettingError(f"{where}: {value!r} is not a string or a number")
    return str(value)


def _read_config(path: Path, options: list[argparse.Action]) -> dict[str, Any]:
    import tomllib  # noqa: PLC0415 - only with --config, not on every start

    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingError(f"{path}: cannot read the file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingError(f"{path}: not TOML ({exc})") from None
    known = {file_key(a): a for a in options}
    unknown = sorted(set(document) - set(known))
    if unknown:
        raise SettingError(
            f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    return {known[k].dest: _from_file(known[k], v, path) for k, v in document.items()}


def layered(run: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``serve`` arguments; what no flag gave comes from the environment, then the file."""
    options = serve_options(run)
    defaults = {a.dest: a.default for a in options}
    for action in options:
        action.default = None  # None: not given on the command line
    args = run.parse_args(argv)
    env = os.environ
    config = args.config or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    from_file = _read_config(config, options) if config is not None else {}
    for action in options:
        if getattr(args, action.dest) is not None:
            continue
        if env_name(action) in env:
            value = _from_env(action, env[env_name(action)])
        elif action.dest in from_file:
            value = from_file[action.dest]
        else:
            value = defaults[action.dest]
        setattr(args, action.dest, value)
    return args


# -- the verbs -------------------------------------------------------------------------------


def _check_fixtures(path: Path) -> int:
    fixtures = load_fixtures_file(path)
    print(
        f"{path}: ok ({len(fixtures.orgs)} orgs, {len(fixtures.projects)} projects, "
        f"{len(fixtures.apps)} apps, {len(fixtures.tokens)} tokens)"
    )
    return EXIT_OK


def worker_app() -> ASGIApp:
    """The app of one worker process (``--workers``): settings from the environment."""
    mock = create_app()
    mock.when_built(warm_up)
    mock.when_built(freeze_built)
    if os.environ.get(WORKER_ACCESS_LOG_ENV) == "1":
        mock.log_access()
    freeze_start_up()
    return mock


def _single_app(
    settings: Settings, store: Store, access_log: bool, stop: StopRequest, failed: list[bool]
) -> ASGIApp:
    """The app of ``serve`` with one worker, frozen. If one of its deferred apps cannot be
    built (a bug; the build thread logs it), ``failed`` gets an entry and the server stops."""

    def fail() -> None:
        failed.append(True)
        stop(signal.SIGTERM, None)  # as a stop by signal

    mock = MockApp(build_service(settings, store), settings)
    mock.when_built(warm_up)  # after the deferred apps, built once the port listens
    mock.when_built(freeze_built)
    mock.when_failed(fail)
    if access_log:
        mock.log_access()
    freeze_start_up()
    return mock


def _say(args: argparse.Namespace, message: str, **fields: Any) -> None:
    if args.log_format == "json":
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        line = {"time": now, "level": "info", "logger": "zitadel_mock.cli", "message": message}
        print(json.dumps({**line, **fields}), file=sys.stderr)
    else:
        print(f"zitadel-mock: {message}", file=sys.stderr)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _warn_exposed(args: argparse.Namespace) -> None:
    message = (
        f"WARNING: listening on {args.host}, beyond loopback, with no --admin-token: anyone "
        "who reaches this port can reset the mock, change its records and read its journal "
        "through /__mock. Set --admin-token (or ZITADEL_MOCK_ADMIN_TOKEN), or bind 127.0.0.1."
    )
    if args.log_format == "json":
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        line = {"time": now, "level": "warning", "logger": "zitadel_mock.cli", "message": message}
        print(json.dumps(line), file=sys.stderr)
    else:
        print(f"zitadel-mock: {message}", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT, then exit 0 (uvicorn shuts down gracefully on either)."""
    stop = StopRequest()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _serve_until_stopped(args, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_until_stopped(args: argparse.Namespace, stop: StopRequest) -> int:
    if args.seed is not None and args.workers > 1:
        print(
            "zitadel-mock: --seed needs a single worker (each would repeat the same secrets)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.watch and args.fixtures is None:
        print("zitadel-mock: --watch needs --fixtures FILE", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="zitadel-mock-") as scratch:
        state = args.state
        if state is None and args.workers > 1:
            state = Path(scratch) / "state.db"  # workers share one truth, even without --state
        settings = Settings(
            fixtures=args.fixtures,
            seed=args.seed,
            cors_origins=tuple(args.cors_origins or ("*",)),
            state=state,
            busy_timeout_ms=args.busy_timeout,
            watch=args.watch,
            namespace_ttl=args.namespace_ttl,
            journal_size=args.journal_size,
            max_stall=args.max_stall,
            admin_token=args.admin_token or None,
            admin_hosts=(args.host,),
        )
        if not args.admin_token and not _loopback(args.host):
            _warn_exposed(args)
        store, loaded = open_state(settings)
        access_log = not args.no_access_log
        app: ASGIApp | None = None
        failed: list[bool] = []  # a deferred app could not be built (a bug): exit 1
        if args.workers == 1:  # built before the port is bound: the watcher starts from the file
            app = _single_app(settings, store, access_log, stop, failed)
        try:
            sock = bind(args.host, args.port)
        except OSError as exc:
            store.close()
            reason = exc.strerror or str(exc)
            print(
                f"zitadel-mock: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr
            )
            return EXIT_LISTEN
        port = sock.getsockname()[1]
        if app is not None:
            # The app is built: listen now, so that the address announced below answers (a
            # connection made before uvicorn's loop runs waits a moment in the backlog).
            sock.listen(LISTEN_BACKLOG)
        source = args.fixtures or "the built-in demo fixtures"
        if not loaded:
            source = f"the state kept in {state} (fixtures not loaded again)"
        elif state is not None:
            source = f"{source}, kept in {state}"
        host = f"[{args.host}]" if ":" in args.host else args.host
        url = f"http://{host}:{port}"
        workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
        _say(args, f"serving {source} on {url} with {workers}", url=url, port=port)
        config = log_config(args.log_format, args.log_level)
        with sock:
            if stop.requested:  # a signal while starting: nothing to shut down yet
                store.close()
            elif app is not None:
                serve(
                    app,
                    args.host,
                    port,
                    args.log_level,
                    False,
                    sock=sock,
                    log_config=config,
                    stop=stop,
                )
            else:
                store.close()
                freeze_start_up()  # the supervisor's own (each worker freezes its app)
                serve_workers(
                    "zitadel_mock.cli:worker_app",
                    {**settings.to_env(), WORKER_ACCESS_LOG_ENV: "1" if access_log else ""},
                    args.workers,
                    args.host,
                    port,
                    log_level=args.log_level,
                    access_log=False,
                    sock=sock,
                    log_config=config,
                    stop=stop,
                )
    return EXIT_FAILURE if failed else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Every verb but ``verify``, which :mod:`zitadel_mock.command` hands to the contract kit."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, run = parsers()
    if argv[:1] == ["serve"]:
        try:
            args = layered(run, argv[1:])
        except SettingError as exc:
            print(f"zitadel-mock: {exc}", file=sys.stderr)
            return EXIT_USAGE
        args.verb = "serve"
    else:
        args = parser.parse_args(argv)
    try:
        if args.verb == "check-fixtures":
            return _check_fixtures(args.file)
        return _serve(args)
    except (FixtureError, StateFileError) as exc:
        print(f"zitadel-mock: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
