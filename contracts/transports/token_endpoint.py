"""Is a secret the current one? Ask the token endpoint, without side effects.

ZITADEL authenticates the client before it looks at the grant (ZITADEL.md section 5): a wrong
secret gets ``invalid_client``; a right one gets past that and fails on the made-up code
(``invalid_request`` in ZITADEL today, ``invalid_grant`` by RFC 6749). So the verdict is
"rejected" exactly when the answer is ``invalid_client`` (HTTP 401, or 400 as some OAuth servers
send it), and "accepted" for any other OAuth error.
"""

from __future__ import annotations

import base64
import json
import secrets
import shlex
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import quote_plus

import httpx

TOKEN_PATH: Final = "/oauth/v2/token"
REDIRECT_URI: Final = "https://contract.invalid/callback"
Method = Literal["client_secret_basic", "client_secret_post"]
METHODS: Final[tuple[Method, ...]] = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    """The token endpoint's answer: HTTP status and the RFC 6749 ``error``, if it had one."""

    status: int
    error: str | None

    @property
    def speaks_oauth(self) -> bool:
        return self.error is not None and self.status in (400, 401)

    @property
    def rejects_client(self) -> bool:
        return self.speaks_oauth and self.error == "invalid_client"

    def describe(self) -> str:
        return f"HTTP {self.status} error={self.error!r}"


def ask(client: httpx.Client, client_id: str, secret: str, method: Method) -> TokenAnswer:
    """Present ``secret`` with a made-up authorization code; read only status and error."""
    form = {
        "grant_type": "authorization_code",
        "code": "contract-made-up-" + secrets.token_hex(8),
        "redirect_uri": REDIRECT_URI,
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if method == "client_secret_basic":
        pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    else:
        form |= {"client_id": client_id, "client_secret": secret}
    response = client.post(TOKEN_PATH, data=form, headers=headers)
    try:
        document = json.loads(response.content)
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    return TokenAnswer(response.status_code, error if isinstance(error, str) else None)


def reproduce(base_url: str, which: str, method: Method) -> str:
    """A curl line for the same question; the secret stays a placeholder."""
    words = ["curl", "-sS", "-X", "POST", shlex.quote(base_url + TOKEN_PATH)]
    if method == "client_secret_basic":
        words += ["-u", f'"$ZITADEL_CONTRACT_CLIENT_ID:<{which}>"']
    else:
        words += ["--data-urlencode", '"client_id=$ZITADEL_CONTRACT_CLIENT_ID"']
        words += ["--data-urlencode", f'"client_secret=<{which}>"']
    words += ["-d", "grant_type=authorization_code", "-d", "code=made-up"]
    words += ["-d", shlex.quote(f"redirect_uri={REDIRECT_URI}")]
    return " ".join(words)
