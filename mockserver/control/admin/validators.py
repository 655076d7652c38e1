"""Parameter errors of the admin API in words: the parameter's name, what it must be, the value.

Connexion reports a bad query parameter as jsonschema's full dump (schema and instance, several
lines, no parameter name); the admin API answers one line naming the parameter instead.
"""

from __future__ import annotations

from typing import Any

from connexion.validators.parameter import ParameterValidator
from jsonschema import Draft4Validator, ValidationError

ARTICLE = {"integer": "an integer", "boolean": "true or false", "string": "a string"}


def parameter_problem(kind: str, name: str, error: ValidationError) -> str:
    """``invalid query parameter status: 'abc' is not an integer`` and the like."""
    if error.validator == "type":
        wanted = ARTICLE.get(str(error.validator_value), f"of type {error.validator_value}")
        return f"invalid {kind} parameter {name}: {error.instance!r} is not {wanted}"
    return f"invalid {kind} parameter {name}: {error.message}"


class AdminParameterValidator(ParameterValidator):  # type: ignore[misc]
    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is not None and not (param.get("schema", {}).get("nullable") and value == "null"):
            schema = param.get("schema", param)
            error = next(iter(Draft4Validator(schema).iter_errors(value)), None)
            if error is not None:
                return parameter_problem(parameter_type, param["name"], error)
            return None
        result: str | None = ParameterValidator.validate_parameter(
            parameter_type, value, param, param_name
        )
        return result
