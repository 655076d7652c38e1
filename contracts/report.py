"""Findings as a developer acts on them: grouped by root cause, the most basic cause first.

A check is *basic* when others cannot hold without it: an answer that is not the promised shape
(a success that is no RegenerateOIDCClientSecretResponse, an error that is no google.rpc.Status)
makes every check that reads the answer fail too. :func:`causes` groups the broken checks: a
broken check that depends (directly or through another) on a broken, more basic one is listed as
a likely consequence of that cause, not as a cause of its own. Causes are ordered by
:data:`LEVELS`, then by name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from zitadel_contract.checks import CHECKS

# How basic each check is: 0 the answer's shape, 1 its status and headers, 2 ZITADEL's detail,
# 3 behaviour asked for, 4 what a sequence of successes promises.
LEVELS: Final[dict[str, int]] = {
    **dict.fromkeys(
        (
            "success_body_is_protojson",
            "success_is_response_message",
            "error_is_google_rpc_status",
            "grpc_web_body_is_framed",
            "grpc_web_trailers_in_final_frame",
            "grpc_status_is_known_code",
            "status_details_are_google_rpc_status",
            "content_type_conformance",
            "not_a_server_error",
        ),
        0,
    ),
    **dict.fromkeys(
        (
            "error_code_matches_http_status",
            "grpc_message_is_percent_encoded",
            "unauthenticated_carries_www_authenticate",
            "response_headers_conformance",
            "status_code_conformance",
            "response_schema_conformance",
        ),
        1,
    ),
    **dict.fromkeys(
        (
            "zitadel_error_carries_error_detail",
            "zitadel_error_carries_status_details",
            "error_detail_is_zitadel_error_detail",
            "error_message_reads_text_and_id",
        ),
        2,
    ),
}
BEHAVIOUR_LEVEL: Final = 3
SEQUENCE_LEVEL: Final = 4
SEQUENCE_CHECKS: Final = frozenset(
    {
        "secret_is_new",
        "secret_has_configured_shape",
        "sequence_strictly_increases",
        "change_date_never_goes_back",
        "change_date_within_clock_skew",
        "resource_owner_is_org_acted_in",
        "creation_date_not_after_change_date",
        "extra_body_fields_ignored",
        "previous_secret_rejected",
        "current_secret_accepted",
    }
)
SUCCESS_SHAPE: Final = frozenset(
    {
        "success_body_is_protojson",
        "success_is_response_message",
        "grpc_web_body_is_framed",
        "grpc_web_trailers_in_final_frame",
    }
)
ERROR_SHAPE: Final = frozenset(
    {
        "error_is_google_rpc_status",
        "grpc_web_body_is_framed",
        "grpc_web_trailers_in_final_frame",
        "status_details_are_google_rpc_status",
        "grpc_status_is_known_code",
    }
)
PROBES: Final = frozenset(
    {
        "unknown_ids_give_not_found",
        "bad_token_gives_unauthenticated",
        "token_without_permission_gives_permission_denied",
        "unknown_org_gives_permission_denied",
        "invalid_json_gives_invalid_argument",
        "wrong_method_gives_unimplemented",
        "unknown_path_gives_not_found",
        "too_long_id_gives_invalid_argument",
        "ignored_auth",
        "missing_required_header",
        "negative_data_rejection",
    }
)
# What a broken check may merely follow from: its more basic checks.
DEPENDS_ON: Final[dict[str, frozenset[str]]] = {
    "rotation_succeeds": SUCCESS_SHAPE,
    "positive_data_acceptance": SUCCESS_SHAPE | {"rotation_succeeds"},
    "extra_body_fields_ignored": SUCCESS_SHAPE | {"rotation_succeeds"},
    "previous_secret_rejected": frozenset({"rotation_succeeds"}),
    "current_secret_accepted": frozenset({"rotation_succeeds"}),
    "content_type_conformance": frozenset({"error_is_google_rpc_status"}),
    "response_schema_conformance": SUCCESS_SHAPE | ERROR_SHAPE,
    "error_code_matches_http_status": ERROR_SHAPE,
    "unauthenticated_carries_www_authenticate": frozenset(),
    "zitadel_error_carries_error_detail": ERROR_SHAPE,
    "zitadel_error_carries_status_details": ERROR_SHAPE,
    "error_detail_is_zitadel_error_detail": ERROR_SHAPE,
    "error_message_reads_text_and_id": ERROR_SHAPE,
    **dict.fromkeys(PROBES, ERROR_SHAPE),
}
_VARIABLE: Final = re.compile(r"\$\{?(ZITADEL_CONTRACT_[A-Z_]+)\}?")
VARIABLE_HINTS: Final[dict[str, str]] = {
    "ZITADEL_CONTRACT_TOKEN": "the token the run was given (--token)",
    "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN": "the token without permission (--no-permission-token)",
    "ZITADEL_CONTRACT_CLIENT_ID": "the app's client id (--client-id)",
}


def level(check: str) -> int:
    if check in LEVELS:
        return LEVELS[check]
    return SEQUENCE_LEVEL if check in SEQUENCE_CHECKS else BEHAVIOUR_LEVEL


def order(checks: Iterable[str]) -> list[str]:
    """Most basic first, then by name."""
    return sorted(set(checks), key=lambda check: (level(check), check))


class _FindingLike(Protocol):
    @property
    def check(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def reproduce(self) -> str: ...
    @property
    def test(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Cause:
    """One root cause: its check, its findings, and the broken checks that likely follow."""

    check: str
    cases: int
    message: str  # the first finding's message
    reproduce: str  # the first reproduce line any of its findings has
    tests: tuple[str, ...]
    implies: tuple[tuple[str, int], ...]  # (check, cases), most basic first

    @property
    def description(self) -> str:
        return CHECKS.get(self.check, "schemathesis check")


def root_of(check: str, broken: frozenset[str]) -> str:
    """The most basic broken check that ``check`` (transitively) depends on, or itself."""
    seen = {check}
    current = check
    while True:
        parents = [p for p in DEPENDS_ON.get(current, frozenset()) if p in broken and p not in seen]
        if not parents:
            return current
        current = order(parents)[0]
        seen.add(current)


def causes(findings: Sequence[_FindingLike]) -> list[Cause]:
    """The findings grouped by root cause, most basic cause first."""
    by_check: dict[str, list[_FindingLike]] = {}
    for finding in findings:
        by_check.setdefault(finding.check, []).append(finding)
    broken = frozenset(by_check)
    roots: dict[str, list[str]] = {}
    for check in order(broken):
        roots.setdefault(root_of(check, broken), []).append(check)
    result = []
    for root in order(roots):
        items = by_check[root]
        reproduce = next((f.reproduce for f in items if f.reproduce), "")
        tests = tuple(dict.fromkeys(f.test for f in items))
        implied = tuple((c, len(by_check[c])) for c in roots[root] if c != root)
        result.append(Cause(root, len(items), items[0].message, reproduce, tests, implied))
    return result


def variables_used(lines: Iterable[str]) -> list[str]:
    """The ``ZITADEL_CONTRACT_*`` variables the given command lines read, in order."""
    names: dict[str, None] = {}
    for line in lines:
        for match in _VARIABLE.finditer(line):
            names.setdefault(match.group(1), None)
    return list(names)


def export_lines(names: Iterable[str], *, suite_mock: bool) -> list[str]:
    """How to set each variable before pasting a reproduce line."""
    lines = [f"export {name}=...   # {VARIABLE_HINTS.get(name, 'as given')}" for name in names]
    if suite_mock and lines:
        lines.append(
            "(the mock the suite started is stopped and its tokens were made up for the run: to "
            "reproduce, start `zitadel-mock serve`, run verify against its URL with the demo "
            "fixtures' ids and tokens, and paste the lines with that URL)"
        )
    return lines


def summary_lines(found: Sequence[Cause], *, whole: bool) -> list[str]:
    """Each cause once: check, count, first message, reproduce line, likely consequences."""
    lines: list[str] = []
    for number, cause in enumerate(found, 1):
        lines.append(f"{number}. [{cause.check}] {cause.description}: {cause.cases} case(s)")
        first, *rest = cause.message.strip().splitlines() or [""]
        lines.append(f"     {first}")
        if whole:
            lines.extend(f"     {line}" for line in rest if line.strip())
        if cause.reproduce:
            lines.append(f"     reproduce: {cause.reproduce}")
        if cause.implies:
            implied = ", ".join(f"{check} ({cases})" for check, cases in cause.implies)
            lines.append(f"     likely consequences, fix this first: {implied}")
    return lines


def as_json(found: Sequence[Cause]) -> list[Mapping[str, object]]:
    return [
        {
            "check": cause.check,
            "description": cause.description,
            "level": level(cause.check),
            "cases": cause.cases,
            "message": cause.message,
            "reproduce": cause.reproduce,
            "tests": list(cause.tests),
            "implies": [{"check": check, "cases": cases} for check, cases in cause.implies],
        }
        for cause in found
    ]
