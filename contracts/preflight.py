"""Before any case: does the target answer, take the token, and hold the app the run names?

Each step either passes or ends the run with one :class:`Stop`: a line naming what to fix and
the exit code of its kind (:data:`EXIT_CODES`). Only answers that say unambiguously that the
settings are wrong stop the run; anything else (a body of the wrong shape, an unexpected code) is
left to the checks, which report it as a broken promise.

The steps, in order:

1. the host resolves, a TCP connection opens, and for ``https://`` a TLS handshake succeeds;
2. the token authenticates: a call on an app id no ZITADEL has, in the given project, must not
   be refused with code 16 (this call rotates nothing);
3. unless the run rotates nothing, the app exists, is an OIDC app, and the token may rotate it:
   one rotation of the given app (the run rotates it anyway) must not be refused with ZITADEL's
   errors for a missing app or org, a missing membership or permission, or an app of another
   type;
4. with a client id and the secret step 3 received: the token endpoint must not refuse that
   pair as ``invalid_client``, which would mean the client id is not the app's.

The ZITADEL error ids of step 3 are those of the v1 Management API and of v2/v2beta
(``COMMAND-Kd92s``, ``AUTH-AWfge``, ``AUTH-Swrgg2``); the steps are the same for every API.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx

from zitadel_contract.exit_codes import (
    BROKEN,
    CREDENTIALS,
    EXIT_CODES,
    HOLDS,
    NOTHING_RAN,
    UNREACHABLE,
    USAGE,
)
from zitadel_contract.model import NONEXISTENT_PREFIX, Call, NotApplicableError, Reply
from zitadel_contract.provision import Target
from zitadel_contract.redaction import REDACTOR
from zitadel_contract.transports import token_endpoint
from zitadel_contract.transports.registry import Transport

# The exit codes, here as before: preflight decides most of them.
__all__ = ["BROKEN", "CREDENTIALS", "EXIT_CODES", "HOLDS", "NOTHING_RAN", "UNREACHABLE", "USAGE"]

TOKEN_HINT: Final = (
    "set ZITADEL_CONTRACT_TOKEN (or --token) to a personal access token of a user who may "
    "rotate the app (project.app.write, e.g. ORG_OWNER)"
)
IDS_HINT: Final = (
    "check ZITADEL_CONTRACT_PROJECT_ID, ZITADEL_CONTRACT_APP_ID and ZITADEL_CONTRACT_ORG_ID "
    "(--project-id, --app-id, --org-id): the app must be an OIDC app of that project, in that org"
)


class Stop(Exception):  # noqa: N818 - a stop of the run, not an error of ours
    """The run must not start: ``line`` names what to fix, ``code`` is the exit code."""

    def __init__(self, code: int, line: str) -> None:
        super().__init__(line)
        self.code = code
        self.line = line


@dataclass(frozen=True, slots=True)
class Outcome:
    """What preflight saw: one line per step that passed or could not be observed."""

    notes: tuple[str, ...]


def reach(url: str, timeout: float) -> str:
    """Step 1; returns a note, raises :class:`Stop` with code 3."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    where = f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Stop(
            UNREACHABLE,
            f"target {url}: the host {host!r} does not resolve (DNS: {exc.strerror}); "
            "fix the URL (ZITADEL_CONTRACT_URL or the URL argument)",
        ) from None
    family, kind, proto, _, address = addresses[0]
    try:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            if tls:
                context = ssl.create_default_context()
                with context.wrap_socket(sock, server_hostname=host):
                    pass
        finally:
            sock.close()
    except ConnectionRefusedError:
        raise Stop(
            UNREACHABLE,
            f"target {url}: nothing listens on {where} (connection refused); start the server "
            "or fix the URL",
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise Stop(
            UNREACHABLE,
            f"target {url}: the TLS certificate of {where} is not trusted "
            f"({exc.verify_message}); fix the certificate, or set SSL_CERT_FILE to a CA bundle "
            "that trusts it",
        ) from None
    except ssl.SSLError as exc:
        raise Stop(
            UNREACHABLE,
            f"target {url}: the TLS handshake with {where} failed ({exc.reason}); "
            "is it plain http:// rather than https://?",
        ) from None
    except TimeoutError:
        raise Stop(
            UNREACHABLE,
            f"target {url}: {where} did not answer within {timeout:g} s; check the URL, the "
            "network, or raise ZITADEL_CONTRACT_TIMEOUT",
        ) from None
    except OSError as exc:
        raise Stop(
            UNREACHABLE, f"target {url}: cannot connect to {where} ({exc.strerror or exc})"
        ) from None
    return f"{where} answers" + (" over TLS" if tls else "")


def _send(transport: Transport, call: Call, url: str) -> Reply:
    """A call whose failure to connect at all ends the run (code 3), in one line."""
    try:
        return transport.call(call)
    except NotApplicableError:
        raise
    except httpx.TransportError as exc:
        name = type(exc).__name__
        raise Stop(
            UNREACHABLE,
            f"target {url}: the connection opens but the {transport.name} call fails "
            f"({name}: {str(exc)[:160] or 'no detail'}); is the URL the server's base URL?",
        ) from None


def _status(reply: Reply) -> str:
    detail = f" ({reply.first_detail_id})" if reply.first_detail_id else ""
    return f"code {reply.code}{detail}: {reply.message[:120]!r}"


def check_token(transport: Transport, target: Target) -> str:
    """Step 2: the token is taken (code 16 stops the run with code 4)."""
    probe = Call(target.project_id, f"{NONEXISTENT_PREFIX}preflight", org_id=target.org_id)
    reply = _send(transport, probe, target.url)
    if reply.code == 16:
        raise Stop(
            CREDENTIALS,
            f"the server refuses the token ({_status(reply)}); {TOKEN_HINT}",
        )
    return "the token authenticates"


# ZITADEL's errors for a rotation of the given app that mean the settings are wrong.
_APP_ERRORS: Final[dict[str, str]] = {
    "COMMAND-2g66f": "app {app} does not exist in project {project}"
    + " (acting in {org}); "
    + IDS_HINT,
    "COMMAND-Kd92s": "app {app} does not exist in project {project} (or is a SAML app); "
    + IDS_HINT,
    "AUTH-AWfge": "the token's user may not rotate the app (no project.app.write); " + TOKEN_HINT,
    "AUTH-Swrgg2": "the token's user may not rotate the app (no project.app.write); " + TOKEN_HINT,
    "COMMAND-Ghrh3": "app {app} is not an OIDC app (an API or SAML app has no client secret to "
    "rotate); point ZITADEL_CONTRACT_APP_ID at a disposable OIDC app",
    "AUTH-Bs7Ds": "org {org} does not exist; set ZITADEL_CONTRACT_ORG_ID (--org-id) to the "
    "app's organization",
    "AUTHZ-cdgFk": "the token's user is no member of org {org} or the instance; " + TOKEN_HINT,
    "AUTH-5mWD2": "the token's user may not rotate the app (no project.app.write); " + TOKEN_HINT,
    "AUTH-3jknH": "the token is scoped to another project than {project}; " + TOKEN_HINT,
}


def check_app(transport: Transport, target: Target) -> tuple[str, Reply]:
    """Step 3: one rotation of the given app; returns a note and the reply."""
    call = Call(target.project_id, target.app_id, org_id=target.org_id)
    reply = _send(transport, call, target.url)
    if reply.rotation is not None:
        REDACTOR.add(reply.rotation.client_secret, "secret")
    if reply.code == 16:
        raise Stop(CREDENTIALS, f"the server refuses the token ({_status(reply)}); {TOKEN_HINT}")
    template = _APP_ERRORS.get(reply.first_detail_id or "")
    if template is not None:
        org = f"org {target.org_id}" if target.org_id else "the token's own org"
        what = template.format(app=target.app_id, project=target.project_id, org=org)
        raise Stop(CREDENTIALS, f"{what} [{_status(reply)}]")
    return f"app {target.app_id} rotates", reply


def check_client_id(http: httpx.Client, target: Target, secret: str) -> str:
    """Step 4: the client id and the new secret pass client authentication."""
    assert target.client_id is not None
    try:
        answer = token_endpoint.ask(http, target.client_id, secret, "client_secret_basic")
    except httpx.TransportError:
        return "client id not checked: the token endpoint did not answer"
    if answer.rejects_client:
        raise Stop(
            CREDENTIALS,
            f"the token endpoint refuses client id {target.client_id!r} with the secret just "
            f"issued for app {target.app_id} ({answer.describe()}); set "
            "ZITADEL_CONTRACT_CLIENT_ID (--client-id) to that app's client id",
        )
    if not answer.speaks_oauth:
        return f"client id not checked: the token endpoint answered {answer.describe()}"
    return f"client id {target.client_id} belongs to the app"


def run(
    target: Target,
    transport: Transport,
    http: httpx.Client,
    timeout: float,
    *,
    rotate: bool,
) -> Outcome:
    """Every step in order; raises :class:`Stop` at the first that fails."""
    notes = [reach(target.url, timeout)]
    try:
        notes.append(check_token(transport, target))
        if not rotate:
            notes.append("app not checked: --no-rotate forbids the one rotation that shows it")
            return Outcome(tuple(notes))
        note, reply = check_app(transport, target)
        notes.append(note)
    except NotApplicableError as exc:
        notes.append(f"token and app not checked: {exc}")
        return Outcome(tuple(notes))
    if target.client_id is None:
        notes.append("client id not checked: none given (--client-id)")
    elif reply.rotation is not None:
        notes.append(check_client_id(http, target, reply.rotation.client_secret))
    return Outcome(tuple(notes))
