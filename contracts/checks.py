"""The promises, by id, and the checks that hold for every reply whatever the transport.

:data:`CHECKS` names every check the suite can report (schemathesis' own keep their names).
:func:`status_violations` checks a gRPC status; :class:`Ledger` checks each success against
everything the run saw before it (new secret, rising sequence, dates, owner).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from zitadel_contract.model import ERROR_DETAIL_TYPE, Call, Reply, Violation

CHECKS: Final[dict[str, str]] = {
    # Wire format (REST: zitadel_contract.transports.rest)
    "error_is_google_rpc_status": "every error body is a google.rpc.Status in application/json",
    "error_code_matches_http_status": "the gRPC code matches the HTTP status (grpc-gateway)",
    "unauthenticated_carries_www_authenticate": "every 401 carries WWW-Authenticate",
    "success_body_is_protojson": "a success is RegenerateOIDCClientSecretResponse in protojson",
    "zitadel_error_carries_error_detail": "an error whose message names a ZITADEL error id "
    "carries its zitadel.v1.ErrorDetail in details",
    # Wire format (gRPC and gRPC-web: zitadel_contract.transports.grpc_reply)
    "success_is_response_message": "a gRPC success is one RegenerateOIDCClientSecretResponse "
    "with a secret and details (sequence, change_date, resource_owner)",
    "grpc_status_is_known_code": "grpc-status is a gRPC code (0-16)",
    "status_details_are_google_rpc_status": "grpc-status-details-bin is a google.rpc.Status "
    "repeating grpc-status and grpc-message",
    "zitadel_error_carries_status_details": "an error whose message names a ZITADEL error id "
    "carries its ErrorDetail in grpc-status-details-bin",
    "grpc_message_is_percent_encoded": "grpc-message is percent-encoded as grpc-go writes it",
    "grpc_web_body_is_framed": "gRPC-web: length-prefixed frames in the Content-Type asked for",
    "grpc_web_trailers_in_final_frame": "gRPC-web: the status comes in a final 0x80 trailer "
    "frame (grpc-status:0 on success)",
    # Any transport
    "error_detail_is_zitadel_error_detail": "details[0] is a zitadel.v1.ErrorDetail",
    "error_message_reads_text_and_id": "with an ErrorDetail, the message reads '<text> (<id>)'",
    "secret_is_new": "every success returns a secret never seen before in the run",
    "secret_has_configured_shape": "the secret has the configured length and alphabet",
    "sequence_strictly_increases": "details.sequence strictly increases within the project",
    "change_date_never_goes_back": "details.changeDate never goes back",
    "change_date_within_clock_skew": "details.changeDate lies within the clock skew of now",
    "resource_owner_is_org_acted_in": "details.resourceOwner is the org in x-zitadel-orgid",
    "creation_date_not_after_change_date": "details.creationDate, if set, is not after changeDate",
    # Connect (v2 and v2beta: zitadel_contract.transports.connect)
    "connect_error_is_connect_json": "a Connect error is JSON {code, message, details} with a "
    "Connect code string",
    "connect_code_matches_http_status": "the Connect code matches the HTTP status "
    "(connect-go's table)",
    "connect_detail_is_unpadded_base64": "each Connect detail has type zitadel.v1.ErrorDetail, "
    "a value in standard base64 without padding, and debug repeating it",
    "creation_date_never_goes_back": "v2: creationDate never goes back",
    "creation_date_within_clock_skew": "v2: creationDate lies within the clock skew of now",
    # v2 probes
    "unknown_app_gives_its_zitadel_id": "v2: an unknown app is NOT_FOUND with the API's id "
    "(COMMAND-Kd92s for v2, COMMAND-2g66f for v2beta)",
    "missing_token_gives_auth_header_missing": "v2: no Authorization gives 401 "
    "unauthenticated 'auth header missing', no details",
    "authentication_before_validation": "v2: an empty applicationId is 401 without a token and "
    "400 with one",
    # Probes
    "rotation_succeeds": "a valid call on the given app succeeds",
    "extra_body_fields_ignored": "extra body fields do not change the result",
    "unknown_ids_give_not_found": "an unknown project or app gives code 5",
    "bad_token_gives_unauthenticated": "a missing, malformed or unknown token gives code 16",
    "token_without_permission_gives_permission_denied": "a member without the permission: 7",
    "unknown_org_gives_permission_denied": "x-zitadel-orgid naming no org gives code 7",
    "invalid_json_gives_invalid_argument": "a body that is not a JSON object gives code 3",
    "wrong_method_gives_unimplemented": "another HTTP method on the path gives 405, code 12",
    "unknown_path_gives_not_found": "an unknown path gives 404, code 5",
    "too_long_id_gives_invalid_argument": "an id over 200 characters gives code 3",
    "previous_secret_rejected": "after a rotation the previous secret no longer authenticates",
    "current_secret_accepted": "after a rotation the new secret authenticates",
    "token_endpoint_speaks_oauth": "the token endpoint answers with RFC 6749 error bodies",
}

# A message ending in " (<ZITADEL error id>)", e.g. "membership not found (AUTHZ-cdgFk)".
ZITADEL_ID_IN_MESSAGE: Final = re.compile(r" \(([A-Z][A-Za-z]*-[A-Za-z0-9]+)\)\Z")

# grpc-gateway's HTTPStatusFromCode (runtime/errors.go).
HTTP_STATUS_OF_CODE: Final[dict[int, int]] = {
    1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
    9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}  # fmt: skip
# The gateway's own routing errors: a wrong method is 405 with UNIMPLEMENTED.
ROUTING_EXCEPTIONS: Final[frozenset[tuple[int, int]]] = frozenset({(12, 405)})


def fingerprint(secret: str) -> str:
    """A short name for a secret that reveals nothing about it."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def code_matches_status(code: int, status: int) -> bool:
    return HTTP_STATUS_OF_CODE.get(code) == status or (code, status) in ROUTING_EXCEPTIONS


def status_violations(reply: Reply) -> list[Violation]:
    """ZITADEL's error detail: first item an ErrorDetail, the message ``<text> (<id>)``."""
    if reply.ok or not reply.details:
        return []
    detail = reply.details[0]
    kind, detail_id, text = detail.get("@type"), detail.get("id"), detail.get("message")
    if kind != ERROR_DETAIL_TYPE:
        return [
            Violation(
                "error_detail_is_zitadel_error_detail",
                f"details[0] has @type {kind!r}, expected {ERROR_DETAIL_TYPE!r}",
            )
        ]
    if not isinstance(detail_id, str) or not isinstance(text, str) or not detail_id:
        return [
            Violation(
                "error_detail_is_zitadel_error_detail",
                f"the ErrorDetail needs string id and message, got id={detail_id!r} "
                f"message={text!r}",
            )
        ]
    expected = f"{text} ({detail_id})"
    if reply.message != expected:
        return [
            Violation(
                "error_message_reads_text_and_id",
                f"message {reply.message!r}, but the ErrorDetail makes it {expected!r}",
            )
        ]
    return []


@dataclass(frozen=True, slots=True)
class Shape:
    """What a success must look like, from the run's settings."""

    secret_length: int
    secret_alphabet: str  # a regular-expression character class, e.g. [A-Za-z0-9]
    clock_skew_seconds: float

    @property
    def secret_pattern(self) -> str:
        return f"{self.secret_alphabet}{{{self.secret_length}}}"


class Ledger:
    """Everything earlier successes promised. One per run; thread-safe."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._last: dict[str, tuple[int, datetime]] = {}
        self.rotations = 0

    def seen(self) -> frozenset[str]:
        """The fingerprints of every secret received so far."""
        with self._lock:
            return frozenset(self._seen)

    def remember_elsewhere(self, marks: Iterable[str]) -> list[str]:
        """Fingerprints another process of the run received: remembered, and those this one
        had received too returned (each a secret that was not new)."""
        marks = list(marks)
        with self._lock:
            repeated = [mark for mark in marks if mark in self._seen]
            self._seen.update(marks)
        return repeated

    def observe(self, call: Call, reply: Reply) -> list[Violation]:
        """Check a success against the run so far, then remember it."""
        rotation = reply.rotation
        if rotation is None:
            return []
        found: list[Violation] = []
        secret = rotation.client_secret
        if re.fullmatch(self.shape.secret_pattern, secret) is None:
            found.append(
                Violation(
                    "secret_has_configured_shape",
                    f"secret {fingerprint(secret)} has {len(secret)} characters; expected "
                    f"{self.shape.secret_length} of {self.shape.secret_alphabet}",
                )
            )
        v2 = rotation.sequence is None
        skew = abs((rotation.change_date - reply.received_at).total_seconds())
        if skew > self.shape.clock_skew_seconds:
            found.append(
                Violation(
                    "creation_date_within_clock_skew" if v2 else "change_date_within_clock_skew",
                    f"{'creationDate' if v2 else 'changeDate'} "
                    f"{rotation.change_date.isoformat()} is {skew:.0f} s from this "
                    f"machine's clock (tolerance {self.shape.clock_skew_seconds:g} s)",
                )
            )
        if rotation.creation_date is not None and rotation.creation_date > rotation.change_date:
            found.append(
                Violation(
                    "creation_date_not_after_change_date",
                    f"creationDate {rotation.creation_date.isoformat()} is after changeDate "
                    f"{rotation.change_date.isoformat()}",
                )
            )
        owner = rotation.resource_owner
        if call.org_id is not None and owner is not None and owner != call.org_id:
            found.append(
                Violation(
                    "resource_owner_is_org_acted_in",
                    f"resourceOwner {rotation.resource_owner!r}, but x-zitadel-orgid was "
                    f"{call.org_id!r}",
                )
            )
        with self._lock:
            self.rotations += 1
            mark = fingerprint(secret)
            if mark in self._seen:
                found.append(
                    Violation("secret_is_new", f"secret {mark} was already returned in this run")
                )
            self._seen.add(mark)
            previous = self._last.get(call.project_id)
            sequence = -1 if rotation.sequence is None else rotation.sequence
            if previous is not None:
                found.extend(_compare(previous, rotation.sequence, rotation.change_date))
            last_sequence = max(previous[0], sequence) if previous else sequence
            last_date = max(previous[1], rotation.change_date) if previous else rotation.change_date
            self._last[call.project_id] = (last_sequence, last_date)
        return found


def _compare(
    previous: tuple[int, datetime], sequence: int | None, change_date: datetime
) -> list[Violation]:
    found = []
    if sequence is not None and sequence <= previous[0]:
        found.append(
            Violation(
                "sequence_strictly_increases",
                f"sequence {sequence} after {previous[0]} in the same project",
            )
        )
    if change_date < previous[1]:
        found.append(
            Violation(
                "creation_date_never_goes_back"
                if sequence is None
                else "change_date_never_goes_back",
                f"{'creationDate' if sequence is None else 'changeDate'} "
                f"{change_date.isoformat()} is before the earlier "
                f"{previous[1].isoformat()}",
            )
        )
    return found
