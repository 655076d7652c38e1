"""What a contract run is told: one table of options shared by the pytest plugin and the CLI.

Every option has a command-line flag and an environment variable; a flag beats the variable, the
variable beats the default. :func:`resolve` turns raw values into :class:`Settings` and refuses
combinations that would be unsafe or meaningless (:class:`SettingsError`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from zitadel_contract.transports.versions import APIS
from zitadel_contract.workers import parse_workers

ACK_FLAG: Final = "--i-know-this-rotates-the-secret"


class SettingsError(ValueError):
    """The options do not describe a run that may start; the message says what to change."""


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its name in :class:`Settings`, CLI flag, pytest flag and variable."""

    name: str
    cli: str
    env: str
    help: str
    parse: Callable[[str], object] = str
    default: object = None
    metavar: str | None = None

    @property
    def pytest_flag(self) -> str:
        return ACK_FLAG if self.cli == ACK_FLAG else "--zitadel-" + self.cli.removeprefix("--")

    @property
    def is_flag(self) -> bool:
        return self.parse is _boolean


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a yes/no value")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"{value} is not a positive whole number")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise ValueError(f"{text!r} is not a non-negative number")
    return value


def _character_class(text: str) -> str:
    if not (text.startswith("[") and text.endswith("]")):
        raise ValueError(f"{text!r} is not a regular-expression character class like [A-Za-z0-9]")
    re.compile(text)
    return text


def _api(text: str) -> str:
    if text not in APIS:
        raise ValueError(f"{text!r} is no API this kit knows (v1, v2, v2beta)")
    return text


OPTIONS: Final[tuple[Option, ...]] = (
    Option("url", "--url", "ZITADEL_CONTRACT_URL", "base URL of the server to verify; "
           "none: the suite starts the mock itself", metavar="URL"),
    Option("token", "--token", "ZITADEL_CONTRACT_TOKEN",
           "bearer token (PAT) allowed to rotate the app's secret", metavar="TOKEN"),
    Option("org_id", "--org-id", "ZITADEL_CONTRACT_ORG_ID",
           "organization of the app; sent as x-zitadel-orgid, expected as resourceOwner"),
    Option("project_id", "--project-id", "ZITADEL_CONTRACT_PROJECT_ID",
           "project of the disposable OIDC app"),
    Option("app_id", "--app-id", "ZITADEL_CONTRACT_APP_ID",
           "the disposable OIDC app whose secret the run rotates"),
    Option("client_id", "--client-id", "ZITADEL_CONTRACT_CLIENT_ID",
           "the app's OIDC client id; enables the token-endpoint rotation check"),
    Option("no_permission_token", "--no-permission-token",
           "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN",
           "token of a member without project.app.write; enables the code 7 check",
           metavar="TOKEN"),
    Option("api", "--api", "ZITADEL_CONTRACT_API",
           "which API to verify: v1 (Management API, default), v2 "
           "(ApplicationService/GenerateClientSecret) or v2beta (AppService/"
           "RegenerateClientSecret)", _api, "v1", "VERSION"),
    Option("transport", "--transport", "ZITADEL_CONTRACT_TRANSPORT",
           "how to call the server: v1: rest (default), grpc (native, HTTP/2), grpc-web or "
           "grpc-web-text; v2, v2beta: connect (default), connect-proto, grpc or grpc-web"),
    Option("examples", "--examples", "ZITADEL_CONTRACT_EXAMPLES",
           "generated examples per property (default 100)", _positive_int, 100, "N"),
    Option("seed", "--seed", "ZITADEL_CONTRACT_SEED",
           "seed for generated cases (default: random, printed for reruns)", int, None, "N"),
    Option("junit", "--junit", "ZITADEL_CONTRACT_JUNIT", "write a JUnit XML report here",
           metavar="PATH"),
    Option("clock_skew", "--clock-skew", "ZITADEL_CONTRACT_CLOCK_SKEW",
           "seconds changeDate may differ from this machine's clock (default 120)",
           _non_negative_float, 120.0, "SECONDS"),
    Option("secret_length", "--secret-length", "ZITADEL_CONTRACT_SECRET_LENGTH",
           "length of a generated client secret (default 64)", _positive_int, 64, "N"),
    Option("secret_alphabet", "--secret-alphabet", "ZITADEL_CONTRACT_SECRET_ALPHABET",
           "characters of a client secret, as a regex class (default [A-Za-z0-9])",
           _character_class, "[A-Za-z0-9]", "CLASS"),
    Option("timeout", "--timeout", "ZITADEL_CONTRACT_TIMEOUT",
           "seconds to wait for each response (default 10)", _non_negative_float, 10.0,
           "SECONDS"),
    Option("json_report", "--json-report", "ZITADEL_CONTRACT_JSON_REPORT",
           "write a JSON report here (causes, counts, verdict; secrets redacted)",
           metavar="PATH"),
    Option("no_rotate", "--no-rotate", "ZITADEL_CONTRACT_NO_ROTATE",
           "rotate nothing: run only the checks that cannot succeed in rotating (auth, unknown "
           "ids, bad input, the schema of errors); needs no acknowledgement", _boolean, False),
    Option("disposable_app", "--disposable-app", "ZITADEL_CONTRACT_DISPOSABLE_APP",
           "make a throwaway project and OIDC app in --org-id with ZITADEL's Management API "
           "(the token must be an ORG_OWNER's), check against it, remove it afterwards; needs "
           "no acknowledgement", _boolean, False),
    Option("workers", "--workers", "ZITADEL_CONTRACT_WORKERS",
           "processes the run uses: 1 keeps it in one; auto (the default) is two where two "
           "CPUs can be used, the generated schema cases in the second; one report either way",
           parse_workers, 0, "N"),
    Option("allow_rotation", ACK_FLAG, "ZITADEL_CONTRACT_I_KNOW_THIS_ROTATES_THE_SECRET",
           "required for a target that is not on this machine: the run replaces the app's "
           "client secret, again and again", _boolean, False),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    """A resolved run. ``url`` None: the suite provisions and starts a mock of its own."""

    url: str | None = None
    token: str | None = field(default=None, repr=False)
    org_id: str | None = None
    project_id: str | None = None
    app_id: str | None = None
    client_id: str | None = None
    no_permission_token: str | None = field(default=None, repr=False)
    api: str = "v1"
    transport: str = "rest"
    examples: int = 100
    seed: int | None = None
    junit: str | None = None
    clock_skew: float = 120.0
    secret_length: int = 64
    secret_alphabet: str = "[A-Za-z0-9]"
    timeout: float = 10.0
    json_report: str | None = None
    no_rotate: bool = False
    disposable_app: bool = False
    workers: int = 0  # 0: auto (zitadel_contract.workers.default_workers)
    allow_rotation: bool = False


def is_loopback(url: str) -> bool:
    """Whether ``url`` names this machine: a loopback address or ``localhost``."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve(
    given: Mapping[str, object | None], environ: Mapping[str, str] | None = None
) -> Settings:
    """Flags in ``given`` (by name; None: not given), else the environment, else defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for option in OPTIONS:
        raw = given.get(option.name)
        if raw is None or raw is False:
            text = env.get(option.env)
            if text is None or text == "":
                values[option.name] = raw if raw is not None else option.default
                continue
            source = f"{option.env}={text!r}"
            raw = text
        else:
            source = option.cli
        try:
            values[option.name] = option.parse(raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            raise SettingsError(f"{source}: {exc}") from None
    if values["transport"] is None:
        values["transport"] = APIS[str(values["api"])].transports[0]
    settings = Settings(**values)  # type: ignore[arg-type]
    _check_api(settings)
    _check(settings)
    return settings


def _check_api(settings: Settings) -> None:
    """A built-in transport must be one of the API's (v2 has no REST path, no gRPC-web-text)."""
    api = APIS[settings.api]
    built_in = {name for known in APIS.values() for name in known.transports}
    if settings.transport in built_in and settings.transport not in api.transports:
        raise SettingsError(
            f"--transport {settings.transport} does not reach the {settings.api} API; "
            f"{settings.api} is served over {', '.join(api.transports)}"
        )


def _check(settings: Settings) -> None:
    if settings.url is None:
        given = [o.cli for o in OPTIONS if o.name in _TARGET_ONLY and getattr(settings, o.name)]
        if given:
            raise SettingsError(
                f"{', '.join(given)} describe a target, but no target URL was given; without "
                "a URL the suite starts a mock and provisions its own app"
            )
        return
    parts = urlsplit(settings.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"target {settings.url!r} is not an http:// or https:// URL")
    if settings.disposable_app:
        _check_disposable(settings)
        return
    missing = [
        o.cli for o in OPTIONS if o.name in _REQUIRED_WITH_URL and not getattr(settings, o.name)
    ]
    if missing:
        raise SettingsError(
            f"a target needs {', '.join(missing)} (or "
            + ", ".join(o.env for o in OPTIONS if o.cli in missing)
            + "): the token and the ids of a disposable OIDC app"
        )
    if not is_loopback(settings.url) and not settings.allow_rotation and not settings.no_rotate:
        raise SettingsError(
            f"refusing to verify {settings.url}: it is not on this machine, and the run "
            f"rotates the client secret of app {settings.app_id} (project "
            f"{settings.project_id}) many times, so every client using that secret stops "
            f"working. Point it at a disposable app, then add {ACK_FLAG} (or set "
            "ZITADEL_CONTRACT_I_KNOW_THIS_ROTATES_THE_SECRET=1), or check without rotating "
            "with --no-rotate (docs/operators.md)"
        )


def _check_disposable(settings: Settings) -> None:
    named = [o.cli for o in OPTIONS if o.name in _MADE_BY_DISPOSABLE and getattr(settings, o.name)]
    if named:
        raise SettingsError(
            f"--disposable-app makes its own project and app; leave out {', '.join(named)}"
        )
    missing = [
        o for o in OPTIONS if o.name in ("token", "org_id") and not getattr(settings, o.name)
    ]
    if missing:
        raise SettingsError(
            f"--disposable-app needs {', '.join(o.cli for o in missing)} (or "
            + ", ".join(o.env for o in missing)
            + "): a token of an ORG_OWNER, and the org to make the project in"
        )


_MADE_BY_DISPOSABLE: Final = frozenset({"project_id", "app_id", "client_id"})
_REQUIRED_WITH_URL: Final = frozenset({"token", "project_id", "app_id"})
_TARGET_ONLY: Final = frozenset(
    {
        "token",
        "org_id",
        "project_id",
        "app_id",
        "client_id",
        "no_permission_token",
        "disposable_app",
    }
)
