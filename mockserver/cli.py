"""``zitadel-mock``: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from contracts.cli import main as verify  # the contract suite; it never imports the mock
from mockserver.app import Settings, build_app
from mockserver.fixtures import FixtureError, load_fixtures_file
from mockserver.server import serve
from mockserver.state import StateFileError


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
        "--cors-origin",
        action="append",
        dest="cors_origins",
        metavar="ORIGIN",
        help="browser origin allowed to call the mock (repeatable; default: any origin)",
    )
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    run.add_argument("--no-access-log", action="store_true", help="do not log each request")
    verbs.add_parser("verify", help="check a server against the contract (verify --help)")
    check = verbs.add_parser("check-fixtures", help="check a fixture file and exit")
    check.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        return verify(argv[1:], prog="zitadel-mock verify")
    args = _parser().parse_args(argv)
    try:
        if args.verb == "check-fixtures":
            fixtures = load_fixtures_file(args.file)
            print(
                f"{args.file}: ok ({len(fixtures.orgs)} orgs, {len(fixtures.projects)} projects, "
                f"{len(fixtures.apps)} apps, {len(fixtures.tokens)} tokens)"
            )
            return 0
        settings = Settings(
            fixtures=args.fixtures,
            seed=args.seed,
            cors_origins=tuple(args.cors_origins or ("*",)),
        )
        app = build_app(settings)
    except (FixtureError, StateFileError) as exc:
        print(f"zitadel-mock: {exc}", file=sys.stderr)
        return 2
    source = args.fixtures or "the built-in demo fixtures"
    print(f"zitadel-mock: serving {source} on http://{args.host}:{args.port}", file=sys.stderr)
    serve(app, args.host, args.port, args.log_level, access_log=not args.no_access_log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
