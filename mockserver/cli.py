"""``zitadel-mock``: the command line."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from zitadel_contract.cli import main as verify  # the contract suite; it never imports the mock
from zitadel_mock.app import MockApp, Settings, build_service, open_state
from zitadel_mock.control.plane import (
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_MAX_STALL,
    DEFAULT_NAMESPACE_TTL,
)
from zitadel_mock.fixtures.loader import FixtureError, load_fixtures_file
from zitadel_mock.server.serving import serve, serve_workers
from zitadel_mock.state.store import StateFileError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zitadel-mock",
        description="A mock of ZITADEL's Generate New OIDC Client Secret call, and its contract.",
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser("serve", help="start the mock server")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    run.add_argument(
        "--fixtures", type=Path, help="fixture file (YAML); default: the demo fixtures"
    )
    run.add_argument(
        "--seed", type=int, help="reproducible secrets and times (for tests; never for real use)"
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
        "--watch", action="store_true", help="reload the --fixtures file when it changes"
    )
    run.add_argument(
        "--namespace-ttl",
        type=float,
        default=DEFAULT_NAMESPACE_TTL,
        metavar="SECONDS",
        help="forget a namespace after this long unused (default 3600)",
    )
    run.add_argument(
        "--journal-size",
        type=int,
        default=DEFAULT_JOURNAL_SIZE,
        metavar="N",
        help="requests kept in the journal per namespace; 0 records none (default 1000)",
    )
    run.add_argument(
        "--max-stall",
        type=float,
        default=DEFAULT_MAX_STALL,
        metavar="SECONDS",
        help="longest a 'stall' fault holds a response (default 30)",
    )
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.add_argument("--no-access-log", action="store_true", help="do not log each request")
    verbs.add_parser("verify", help="check a server against the contract (verify --help)")
    check = verbs.add_parser("check-fixtures", help="check a fixture file and exit")
    check.add_argument("file", type=Path)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _check_fixtures(path: Path) -> int:
    fixtures = load_fixtures_file(path)
    print(
        f"{path}: ok ({len(fixtures.orgs)} orgs, {len(fixtures.projects)} projects, "
        f"{len(fixtures.apps)} apps, {len(fixtures.tokens)} tokens)"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.seed is not None and args.workers > 1:
        print(
            "zitadel-mock: --seed needs a single worker (each would repeat the same secrets)",
            file=sys.stderr,
        )
        return 2
    if args.watch and args.fixtures is None:
        print("zitadel-mock: --watch needs --fixtures FILE", file=sys.stderr)
        return 2
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
        )
        store, loaded = open_state(settings)
        source = args.fixtures or "the built-in demo fixtures"
        if not loaded:
            source = f"the state kept in {state} (fixtures not loaded again)"
        elif state is not None:
            source = f"{source}, kept in {state}"
        print(
            f"zitadel-mock: serving {source} on http://{args.host}:{args.port}"
            f" with {args.workers} worker{'s' if args.workers > 1 else ''}",
            file=sys.stderr,
        )
        access_log = not args.no_access_log
        if args.workers == 1:
            app = MockApp(build_service(settings, store), settings)
            serve(app, args.host, args.port, args.log_level, access_log)
        else:
            store.close()
            serve_workers(
                "zitadel_mock.app:create_app",
                settings.to_env(),
                args.workers,
                args.host,
                args.port,
                log_level=args.log_level,
                access_log=access_log,
            )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        return verify(argv[1:], prog="zitadel-mock verify")
    args = _parser().parse_args(argv)
    try:
        if args.verb == "check-fixtures":
            return _check_fixtures(args.file)
        return _serve(args)
    except (FixtureError, StateFileError) as exc:
        print(f"zitadel-mock: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
