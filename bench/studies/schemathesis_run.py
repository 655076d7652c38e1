"""schemathesis alone on the mock's spec, in this process on the ASGI app or over a socket.

    python -m bench.studies.schemathesis_run --asgi [--examples N]
    python -m bench.studies.schemathesis_run --url http://127.0.0.1:PORT [--examples N]

Generates ``--examples`` cases of the one operation (Hypothesis, fixed seed, no shrinking or
database), sends each with the demo admin token unless the case carries its own Authorization,
and checks every answer with schemathesis' response checks. Both ways run the same cases; only
the transport differs. Prints one JSON line: cases sent, wall seconds, failing cases.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi import checks as builtin

CHECKS = (
    not_a_server_error,
    builtin.status_code_conformance,
    builtin.content_type_conformance,
    builtin.response_headers_conformance,
    builtin.response_schema_conformance,
)


def load(asgi: bool, url: str | None) -> Any:
    if asgi:
        from zitadel_mock.app import Settings, build_app  # noqa: PLC0415

        return schemathesis.openapi.from_asgi("/openapi.json", build_app(Settings()))
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


def run(schema: Any, examples: int) -> dict[str, float]:
    operation = next(iter(schema.get_all_operations())).ok()
    counts = {"cases": 0, "failures": 0}

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def one(case: Any) -> None:
        headers = dict(case.headers or {})
        headers.setdefault("Authorization", "Bearer admin-pat")
        case.headers = headers
        response = case.call()
        counts["cases"] += 1
        try:
            case.validate_response(response, checks=list(CHECKS))
        except (Failure, FailureGroup):
            counts["failures"] += 1

    began = time.perf_counter()
    one()
    return {**counts, "seconds": time.perf_counter() - began}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.schemathesis_run")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--asgi", action="store_true", help="the mock's ASGI app, in process")
    where.add_argument("--url", help="a running mock")
    parser.add_argument("--examples", type=int, default=300)
    args = parser.parse_args(argv)
    print(json.dumps(run(load(args.asgi, args.url), args.examples)))


if __name__ == "__main__":
    main()
