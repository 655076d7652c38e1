"""Fixture documents: the demo set as documented, and every broken rule refused with its line."""

from __future__ import annotations

import pytest

from mockserver.client_secrets import SecretHash, token_digest
from mockserver.fixtures import FixtureError, demo_fixtures, load_fixtures_file, parse_fixtures
from mockserver.model import AppType, AuthMethod, Scope

GOOD = """\
orgs:
  - {id: "1", name: acme}
projects:
  - {id: "2", name: portal, org: "1"}
apps:
  - {id: "3", name: web, project: "2", type: oidc}
tokens:
  - token: t
    user: "9"
    org: "1"
    memberships:
      - {scope: instance, roles: [IAM_OWNER]}
"""


def test_demo_fixtures_hold_the_documented_orgs_projects_and_apps() -> None:
    demo = demo_fixtures()
    assert {(o.name, o.id) for o in demo.orgs} == {
        ("acme", "319487622871056385"),
        ("globex", "319487622871056386"),
    }
    assert {(p.name, p.id, p.org_id) for p in demo.projects} == {
        ("portal", "319487650192752641", "319487622871056385"),
        ("shop", "319487650192752642", "319487622871056386"),
    }
    apps = {a.name: a for a in demo.apps}
    assert (apps["web"].id, apps["web"].type, apps["web"].auth_method, apps["web"].client_id) == (
        "319487671630840321",
        AppType.OIDC,
        AuthMethod.BASIC,
        "319487671630840321@portal",
    )
    assert (apps["spa"].id, apps["spa"].auth_method) == ("319487671630840322", AuthMethod.NONE)
    assert (apps["backend"].id, apps["backend"].type) == ("319487671630840323", AppType.API)
    assert (apps["sso"].id, apps["sso"].type) == ("319487671630840324", AppType.SAML)
    assert (
        apps["storefront"].id,
        apps["storefront"].auth_method,
        apps["storefront"].client_id,
    ) == ("319487671630840325", AuthMethod.POST, "319487671630840325@shop")
    assert {a.project_id for a in demo.apps if a.name != "storefront"} == {"319487650192752641"}


def test_demo_tokens_have_the_documented_memberships() -> None:
    tokens = {t.digest: t.principal for t in demo_fixtures().tokens}
    admin = tokens[token_digest("admin-pat")]
    assert [(m.scope, m.roles) for m in admin.memberships] == [(Scope.INSTANCE, ("IAM_OWNER",))]
    owner = tokens[token_digest("acme-owner-pat")]
    assert [(m.scope, m.target_id, m.roles) for m in owner.memberships] == [
        (Scope.ORG, "319487622871056385", ("ORG_OWNER",))
    ]
    project_owner = tokens[token_digest("portal-owner-pat")]
    assert [(m.scope, m.target_id) for m in project_owner.memberships] == [
        (Scope.PROJECT, "319487650192752641")
    ]
    assert tokens[token_digest("nobody-pat")].memberships == ()
    assert tokens[token_digest("acme-viewer-pat")].memberships[0].roles == ("ORG_OWNER_VIEWER",)
    assert {p.org_id for p in tokens.values()} == {"319487622871056385"}


def test_tokens_and_secrets_are_hashed_on_load() -> None:
    text = GOOD.replace("type: oidc}", "type: oidc, secret: s3cret}")
    fixtures = parse_fixtures(text)
    assert SecretHash(fixtures.apps[0].secret_hash or "").matches("s3cret")
    assert fixtures.tokens[0].digest != "t"
    assert "s3cret" not in repr(fixtures)


def test_defaults_fill_auth_method_client_id_and_sequence() -> None:
    fixtures = parse_fixtures(GOOD)
    assert fixtures.apps[0].auth_method is AuthMethod.BASIC
    assert fixtures.apps[0].client_id == "3@portal"
    assert fixtures.projects[0].sequence == 0


def test_json_documents_are_accepted() -> None:
    text = '{"orgs": [{"id": "1", "name": "a"}], "projects": [], "apps": [], "tokens": []}'
    assert parse_fixtures(text).orgs[0].id == "1"


def broken(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", None, "the document is empty"),
        ("orgs: [", 1, "not YAML"),
        ("- 1", 1, "the document must be a mapping"),
        ("users: []", 1, "unknown key 'users'"),
        ("orgs: 5", 1, "orgs must be a list"),
        (broken('{id: "1", name: acme}', '{id: "1"}'), 2, "missing key 'name'"),
        (broken('{id: "1", name: acme}', '{id: "", name: acme}'), 2, "org id must not be empty"),
        (broken('{id: "1", name: acme}', '{id: "a b", name: acme}'), 2, "must not contain spaces"),
        (
            broken('{id: "1", name: acme}', '{id: "1", name: acme, id: "2"}'),
            2,
            "key 'id' given twice",
        ),
        (
            broken(
                '  - {id: "1", name: acme}\n', '  - {id: "1", name: acme}\n  - {id: "1", name: b}\n'
            ),
            3,
            "duplicate org id '1'",
        ),
        (broken('org: "1"}', 'org: "7"}'), 4, "project org '7' is not an org"),
        (broken('project: "2"', 'project: "8"'), 6, "app project '8' is not a project"),
        (broken("type: oidc", "type: web"), 6, "app type 'web' is not one of: oidc, api, saml"),
        (
            broken("type: oidc", "type: api, authMethod: basic"),
            6,
            "authMethod is only for OIDC apps",
        ),
        (broken("type: oidc", "type: saml, clientId: x"), 6, "SAML apps have no client id"),
        (
            broken("type: oidc", "type: oidc, authMethod: none, secret: s"),
            6,
            "only apps that authenticate",
        ),
        (broken('org: "1"}', 'org: "1", sequence: -1}'), 4, "between 0 and 2^63-1"),
        (broken('org: "1"}', 'org: "1", sequence: many}'), 4, "sequence must be a whole number"),
        (broken('    org: "1"\n', '    org: "5"\n'), 10, "token org '5' is not an org"),
        (broken("roles: [IAM_OWNER]", "roles: [GOD]"), 12, "unknown role 'GOD'"),
        (broken("roles: [IAM_OWNER]", "roles: []"), 12, "needs at least one role"),
        (broken("scope: instance,", "scope: org,"), 12, "a org membership needs the org's id"),
        (
            broken("scope: instance,", 'scope: project, id: "77",'),
            12,
            "membership project '77' is not in this document",
        ),
        (
            broken("scope: instance,", 'scope: instance, id: "1",'),
            12,
            "an instance membership takes no id",
        ),
        (
            broken("  - token: t\n", "  - token: t\n    expiresAt: tomorrow\n"),
            9,
            "not an RFC 3339 timestamp",
        ),
        (broken("  - token: t\n", "  - token: t u\n"), 8, "must not contain white space"),
        (GOOD + '  - {token: t, user: "8", org: "1"}\n', 13, "duplicate token"),
    ],
)
def test_broken_documents_are_refused_naming_line_and_problem(
    text: str, line: int | None, problem: str
) -> None:
    with pytest.raises(FixtureError) as caught:
        parse_fixtures(text, "f.yaml")
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"f.yaml:{line}: " if line else "f.yaml: ")


def test_duplicate_token_error_does_not_show_the_token() -> None:
    with pytest.raises(FixtureError) as caught:
        parse_fixtures(GOOD + '  - {token: t, user: "8", org: "1"}\n')
    assert "'t'" not in str(caught.value)


def test_missing_file_is_a_fixture_error(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(FixtureError, match="cannot read the file"):
        load_fixtures_file(f"{tmp_path}/none.yaml")
