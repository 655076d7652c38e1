"""Validators for bodies: against openapi.yaml and against ZITADEL's own generated spec."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi.yaml"
UPSTREAM_PATH = ROOT / "tests" / "reference" / "upstream-schemas.json"
OPERATION = "/management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret"


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def _validator(document: dict[str, Any], pointer: str) -> Draft4Validator:
    registry: Registry[Any] = Registry().with_resource("urn:doc", DRAFT4.create_resource(document))
    return Draft4Validator(
        {"$ref": f"urn:doc#{pointer}"}, registry=registry, format_checker=FormatChecker()
    )


def response_validator(status: int | str) -> Draft4Validator:
    """The openapi.yaml schema of the operation's response for ``status`` (or ``default``)."""
    responses = spec()["paths"][OPERATION]["post"]["responses"]
    key = str(status) if str(status) in responses else "default"
    escaped = OPERATION.replace("~", "~0").replace("/", "~1")
    pointer = f"/paths/{escaped}/post/responses/{key}/content/application~1json/schema"
    return _validator(spec(), pointer)


@cache
def upstream() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(UPSTREAM_PATH.read_text())
    return loaded


def upstream_validator(definition: str) -> Draft4Validator:
    """A definition of ZITADEL's generated Swagger 2 spec (``rpcStatus``, ``v1Regenerate…``)."""
    return _validator(upstream(), f"/definitions/{definition}")


def component_validator(name: str) -> Draft4Validator:
    """The openapi.yaml schema ``components/schemas/<name>``."""
    return _validator(spec(), f"/components/schemas/{name}")
