"""Connexion's validators for the REST adapter, each jsonschema validator built once per schema.

Connexion 3.3 builds a new jsonschema validator (and ``$ref`` registry) for every parameter, request
body and response of every request. These subclasses keep one per schema object (connexion's
operations hold their schemas for the app's lifetime), so the checks are the same and the
construction happens once. :class:`ZitadelParameterValidator` also gives the two ids row 8's
message.
"""

from __future__ import annotations

from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.lifecycle import ConnexionRequest
from connexion.utils import is_null, is_nullable
from connexion.validators import (
    VALIDATOR_MAP,
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator, ValidationError

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError

# Proto field names, as protoc-gen-validate names them in row 8's message.
PROTO_FIELDS: dict[str, str] = {"projectId": "ProjectId", "appId": "AppId"}

_Built = dict[tuple[type, int], tuple[dict[str, Any], Any]]


def built_once(cache: _Built, kind: type, schema: dict[str, Any]) -> Any:
    """The ``kind`` validator of ``schema``, made on first use; keyed by the schema object, which
    the entry keeps alive so that its id is never reused for another schema."""
    entry = cache.get((kind, id(schema)))
    if entry is None or entry[0] is not schema:
        entry = (schema, kind(schema, format_checker=Draft4Validator.FORMAT_CHECKER))
        cache[(kind, id(schema))] = entry
    return entry[1]


_CACHE: _Built = {}


class ZitadelParameterValidator(ParameterValidator):  # type: ignore[misc]
    """Connexion's parameter validation (validators built once), with row 8's message."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                built_once(_CACHE, Draft4Validator, param.get("schema", param)).validate(value)
            except ValidationError as exception:
                return str(exception)
        elif param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None

    def validate_path_parameter(
        self, param: dict[str, Any], request: ConnexionRequest
    ) -> str | None:
        value = request.path_params.get(param["name"])
        field = PROTO_FIELDS.get(param["name"])
        schema = param.get("schema", {})
        if (
            value is not None
            and field is not None
            and not built_once(_CACHE, Draft4Validator, schema).is_valid(value)
        ):
            raise MockError(errors.INVALID_ID_LENGTH, field=field)
        result: str | None = super().validate_path_parameter(param, request)
        return result


class BuiltOnceRequestBody(JSONRequestBodyValidator):  # type: ignore[misc]
    @property
    def _validator(self) -> Any:
        return built_once(_CACHE, Draft4RequestValidator, self._schema)


class BuiltOnceResponseBody(JSONResponseBodyValidator):  # type: ignore[misc]
    @property
    def validator(self) -> Any:
        return built_once(_CACHE, Draft4ResponseValidator, self._schema)


def validator_map() -> dict[str, Any]:
    """Connexion's validator map with the JSON validators replaced by the built-once ones."""
    return {
        "parameter": ZitadelParameterValidator,
        "body": MediaTypeDict({**VALIDATOR_MAP["body"], "*/*json": BuiltOnceRequestBody}),
        "response": MediaTypeDict({**VALIDATOR_MAP["response"], "*/*json": BuiltOnceResponseBody}),
    }
