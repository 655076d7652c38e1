"""Fixture documents (YAML or JSON): parsed, checked rule by rule, refused with the line at fault.

The format is documented in README.md ("Fixtures"). Plaintext tokens and secrets in a document are
hashed here; nothing after this module sees them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Final, Protocol, TypeVar

import yaml

from mockserver.client_secrets import SecretHash, token_digest
from mockserver.model import (
    ROLES,
    App,
    AppType,
    AuthMethod,
    Fixtures,
    Membership,
    Org,
    Principal,
    Project,
    Scope,
    Token,
)

MAX_ID_LENGTH: Final = 200
SECRET_HASH: Final = re.compile(r"sha256\$[0-9a-f]{2,64}\$[0-9a-f]{64}")
TOKEN_SHA256: Final = re.compile(r"[0-9a-f]{64}")
T = TypeVar("T")


class FixtureError(ValueError):
    """A fixture document broke a rule; the message names the place and the problem."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")


class _Reader:
    """Walks a composed YAML node tree, raising FixtureError with the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node | None, problem: str) -> FixtureError:
        line = node.start_mark.line + 1 if node is not None else None
        return FixtureError(self.source, line, problem)

    def mapping(
        self, node: yaml.Node, what: str, required: set[str], optional: set[str]
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                raise self.fail(key_node, f"{what}: unknown key {key!r} (allowed: {allowed})")
            if key in out:
                raise self.fail(key_node, f"{what}: key {key!r} given twice")
            out[key] = value_node
        missing = sorted(required - out.keys())
        if missing:
            raise self.fail(node, f"{what}: missing key {missing[0]!r}")
        return out

    def sequence(self, node: yaml.Node | None, what: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def string(self, node: yaml.Node, what: str, max_length: int = 1000) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            raise self.fail(node, f"{what} must be a string")
        value = str(node.value)
        if not value:
            raise self.fail(node, f"{what} must not be empty")
        if len(value) > max_length:
            raise self.fail(node, f"{what} is longer than {max_length} characters")
        return value

    def ident(self, node: yaml.Node, what: str) -> str:
        value = self.string(node, what, MAX_ID_LENGTH)
        if any(ch.isspace() or ch == "/" for ch in value):
            raise self.fail(node, f"{what} {value!r} must not contain spaces or '/'")
        return value

    def integer(self, node: yaml.Node, what: str) -> int:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
            raise self.fail(node, f"{what} must be a whole number")
        value = int(node.value, 0)
        if not 0 <= value < 2**63:
            raise self.fail(node, f"{what} must be between 0 and 2^63-1")
        return value

    def choice(self, node: yaml.Node, what: str, enum_type: Callable[[str], T]) -> T:
        value = self.string(node, what)
        try:
            return enum_type(value.lower())
        except ValueError:
            options = ", ".join(str(m) for m in enum_type)  # type: ignore[attr-defined]
            raise self.fail(node, f"{what} {value!r} is not one of: {options}") from None

    def timestamp(self, node: yaml.Node, what: str) -> datetime:
        value = self.string(node, what)
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(node, f"{what} {value!r} is not an RFC 3339 timestamp") from None
        if parsed.tzinfo is None:
            raise self.fail(node, f"{what} {value!r} needs a time zone (e.g. Z)")
        return parsed


def parse_fixtures(text: str, source: str = "<fixtures>") -> Fixtures:
    """Parse and check a fixture document; raise FixtureError naming the line and the problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise FixtureError(
            source, mark.line + 1 if mark else None, f"not YAML: {problem}"
        ) from None
    reader = _Reader(source)
    if root is None:
        raise FixtureError(source, None, "the document is empty")
    top = reader.mapping(root, "the document", set(), {"orgs", "projects", "apps", "tokens"})
    orgs = _unique(
        reader, "org", [_org(reader, n) for n in reader.sequence(top.get("orgs"), "orgs")]
    )
    org_ids = {org.id for org, _ in orgs}
    projects = _unique(
        reader,
        "project",
        [_project(reader, n, org_ids) for n in reader.sequence(top.get("projects"), "projects")],
    )
    project_names = {project.id: project.name for project, _ in projects}
    apps = _unique(
        reader,
        "app",
        [_app(reader, n, project_names) for n in reader.sequence(top.get("apps"), "apps")],
    )
    _check_unique(reader, "client id", ((app.client_id, node) for app, node in apps))
    tokens = [
        _token(reader, n, org_ids, set(project_names))
        for n in reader.sequence(top.get("tokens"), "tokens")
    ]
    _check_unique(reader, "token", ((token.digest, node) for token, node in tokens), show=False)
    _check_unique(reader, "token name", ((token.label, node) for token, node in tokens))
    return Fixtures(
        orgs=tuple(org for org, _ in orgs),
        projects=tuple(project for project, _ in projects),
        apps=tuple(app for app, _ in apps),
        tokens=tuple(token for token, _ in tokens),
    )


def load_fixtures_file(path: str | Path) -> Fixtures:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(str(path), None, f"cannot read the file: {exc}") from None
    return parse_fixtures(text, str(path))


def demo_fixtures() -> Fixtures:
    """The built-in demo fixtures (README, "Demo fixtures")."""
    text = resources.files("mockserver").joinpath("demo-fixtures.yaml").read_text("utf-8")
    return parse_fixtures(text, "demo-fixtures.yaml")


def _org(reader: _Reader, node: yaml.Node) -> tuple[Org, yaml.Node]:
    fields = reader.mapping(node, "an org", {"id", "name"}, set())
    return Org(
        reader.ident(fields["id"], "org id"), reader.string(fields["name"], "org name")
    ), node


def _project(reader: _Reader, node: yaml.Node, org_ids: set[str]) -> tuple[Project, yaml.Node]:
    fields = reader.mapping(node, "a project", {"id", "name", "org"}, {"sequence"})
    org = reader.ident(fields["org"], "project org")
    if org not in org_ids:
        raise reader.fail(fields["org"], f"project org {org!r} is not an org of this document")
    sequence = reader.integer(fields["sequence"], "sequence") if "sequence" in fields else 0
    project = Project(
        id=reader.ident(fields["id"], "project id"),
        name=reader.string(fields["name"], "project name"),
        org_id=org,
        sequence=sequence,
    )
    return project, node


def _app(reader: _Reader, node: yaml.Node, projects: dict[str, str]) -> tuple[App, yaml.Node]:
    fields = reader.mapping(
        node,
        "an app",
        {"id", "name", "project", "type"},
        {"authMethod", "clientId", "secret", "secretHash"},
    )
    app_id = reader.ident(fields["id"], "app id")
    project = reader.ident(fields["project"], "app project")
    if project not in projects:
        raise reader.fail(
            fields["project"], f"app project {project!r} is not a project of this document"
        )
    app_type = reader.choice(fields["type"], "app type", AppType)
    auth_method: AuthMethod | None = None
    if "authMethod" in fields:
        if app_type is not AppType.OIDC:
            raise reader.fail(fields["authMethod"], "authMethod is only for OIDC apps")
        auth_method = reader.choice(fields["authMethod"], "authMethod", AuthMethod)
    elif app_type is AppType.OIDC:
        auth_method = AuthMethod.BASIC
    client_id: str | None = None
    if "clientId" in fields:
        if app_type is AppType.SAML:
            raise reader.fail(fields["clientId"], "SAML apps have no client id")
        client_id = reader.ident(fields["clientId"], "clientId")
    elif app_type is not AppType.SAML:
        client_id = f"{app_id}@{projects[project]}"
    secret_hash: str | None = None
    if "secret" in fields and "secretHash" in fields:
        raise reader.fail(fields["secretHash"], "give secret or secretHash, not both")
    for key in ("secret", "secretHash"):
        if key in fields and (app_type is AppType.SAML or auth_method is AuthMethod.NONE):
            raise reader.fail(fields[key], "only apps that authenticate with a secret have one")
    if "secret" in fields:
        secret_hash = SecretHash.of(reader.string(fields["secret"], "secret")).encoded
    elif "secretHash" in fields:
        secret_hash = reader.string(fields["secretHash"], "secretHash")
        if not SECRET_HASH.fullmatch(secret_hash):
            raise reader.fail(fields["secretHash"], "secretHash must read sha256$<salt>$<digest>")
    app = App(
        id=app_id,
        project_id=project,
        name=reader.string(fields["name"], "app name"),
        type=app_type,
        auth_method=auth_method,
        client_id=client_id,
        secret_hash=secret_hash,
    )
    return app, node


def _token(
    reader: _Reader, node: yaml.Node, org_ids: set[str], project_ids: set[str]
) -> tuple[Token, yaml.Node]:
    fields = reader.mapping(
        node,
        "a token",
        {"user", "org"},
        {"token", "tokenSha256", "name", "memberships", "expiresAt"},
    )
    if ("token" in fields) == ("tokenSha256" in fields):
        raise reader.fail(node, "a token needs exactly one of 'token' and 'tokenSha256'")
    if "token" in fields:
        plaintext = reader.string(fields["token"], "token")
        if any(ch.isspace() for ch in plaintext):
            raise reader.fail(fields["token"], "a token must not contain white space")
        digest = token_digest(plaintext)
    else:
        digest = reader.string(fields["tokenSha256"], "tokenSha256")
        if not TOKEN_SHA256.fullmatch(digest):
            raise reader.fail(fields["tokenSha256"], "tokenSha256 must be 64 lowercase hex digits")
    org = reader.ident(fields["org"], "token org")
    if org not in org_ids:
        raise reader.fail(fields["org"], f"token org {org!r} is not an org of this document")
    memberships = tuple(
        _membership(reader, m, org_ids, project_ids)
        for m in reader.sequence(fields.get("memberships"), "memberships")
    )
    label = reader.string(fields["name"], "token name") if "name" in fields else digest[:12]
    principal = Principal(
        user_id=reader.ident(fields["user"], "token user"),
        org_id=org,
        memberships=memberships,
        expires_at=reader.timestamp(fields["expiresAt"], "expiresAt")
        if "expiresAt" in fields
        else None,
    )
    return Token(digest=digest, label=label, principal=principal), node


def _membership(
    reader: _Reader, node: yaml.Node, org_ids: set[str], project_ids: set[str]
) -> Membership:
    fields = reader.mapping(node, "a membership", {"scope", "roles"}, {"id"})
    scope = reader.choice(fields["scope"], "membership scope", Scope)
    target = ""
    if scope is Scope.INSTANCE:
        if "id" in fields:
            raise reader.fail(fields["id"], "an instance membership takes no id")
    else:
        if "id" not in fields:
            raise reader.fail(node, f"a {scope} membership needs the {scope}'s id")
        target = reader.ident(fields["id"], f"{scope} id")
        known = org_ids if scope is Scope.ORG else project_ids
        if target not in known:
            raise reader.fail(
                fields["id"], f"membership {scope} {target!r} is not in this document"
            )
    roles = tuple(reader.string(r, "role") for r in reader.sequence(fields["roles"], "roles"))
    for role_node, role in zip(fields["roles"].value, roles, strict=True):
        if role not in ROLES:
            raise reader.fail(role_node, f"unknown role {role!r} (known: {', '.join(ROLES)})")
    if not roles:
        raise reader.fail(fields["roles"], "a membership needs at least one role")
    return Membership(scope=scope, roles=roles, target_id=target)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Rec = TypeVar("Rec", bound=_Identified)


def _unique(
    reader: _Reader, what: str, items: list[tuple[Rec, yaml.Node]]
) -> list[tuple[Rec, yaml.Node]]:
    _check_unique(reader, f"{what} id", ((item.id, node) for item, node in items))
    return items


def _check_unique(
    reader: _Reader, what: str, pairs: Iterator[tuple[str | None, yaml.Node]], show: bool = True
) -> None:
    seen: set[str] = set()
    for value, node in pairs:
        if value is None:
            continue
        if value in seen:
            shown = f" {value!r}" if show else ""
            raise reader.fail(node, f"duplicate {what}{shown}")
        seen.add(value)
