"""Throwaway prototype (issue 7, part 2): a precompiled fast lane for the one hot operation.

NOT the mock: evidence for bench/PROFILE.md. It wraps the mock's REST app: a POST on the rotate
path with a JSON (not gRPC) body is answered here; every other request goes to connexion as
before. The lane makes the same domain calls in ZITADEL's order (body decoding, then
authorization, then the ids' length, then the command) and renders errors from the same
catalogue, and validates the request's parameters and body and its own answer (status, body and
the spec's response headers) against validators compiled ONCE from openapi.yaml.

``python -m bench.experiments.fastlane --port N --variant V`` serves the demo fixtures with the
mock's server settings. Variants:

- ``connexion-async-errors``: no lane; connexion's error handlers run on the event loop
  instead of a worker thread (what making ``rest.py``'s handlers ``async def`` would do).
- ``lane-jsonschema``: the lane, validators built once with jsonschema (the library in use).
- ``lane-fastjsonschema``: the lane, validators compiled to Python code by fastjsonschema.
- ``lane-rs``: the lane, jsonschema-rs validators and orjson.
- ``lane-cached``: ``lane-fastjsonschema`` with orjson, and the read-only lookups of the
  authorization (token, org, project's org) memoised in memory: an estimate of what a cache
  kept valid by SQLite's ``PRAGMA data_version`` would buy (this one is only right while
  nothing but rotations changes the state, as in the benchmark).
- ``lane-unchecked``: the lane without any schema validation (a ceiling, not an option).

``--compare`` sends the README's error rows and a success through both lanes in-process and
prints any difference in status, body (secret and times aside) or headers.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver import errors
from mockserver.app import MockApp, Settings, build_app
from mockserver.errors import MockError, status_body
from mockserver.rest import (
    MAX_BODY_BYTES,
    NAMESPACE_HEADER,
    PROTO_FIELDS,
    SPEC_PATH,
    SUCCESS_HEADERS,
    decode_body,
    read_body,
    success_body,
)
from mockserver.server import serve

ROTATE_PATH: Final = (
    "/management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret"
)
PATH_RE: Final = re.compile(
    r"^/management/v1/projects/(?P<projectId>[^/]+)/apps/(?P<appId>[^/]+)"
    r"/oidc_config/_generate_client_secret$"
)
Check = Callable[[Any], bool]
Dumps = Callable[[Any], bytes]


def inline_refs(node: Any, spec: dict[str, Any]) -> Any:
    """The schema with every local ``$ref`` replaced by its target (the spec has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return inline_refs(target, spec)
        return {k: inline_refs(v, spec) for k, v in node.items() if k != "example"}
    if isinstance(node, list):
        return [inline_refs(v, spec) for v in node]
    return node


def compile_check(schema: dict[str, Any], engine: str) -> Check:
    if engine == "jsonschema":
        from jsonschema import Draft4Validator, FormatChecker  # noqa: PLC0415

        validator = Draft4Validator(schema, format_checker=FormatChecker())
        return validator.is_valid
    if engine == "fastjsonschema":
        import fastjsonschema  # noqa: PLC0415

        compiled = fastjsonschema.compile(schema)

        def check(value: Any) -> bool:
            try:
                compiled(value)
            except fastjsonschema.JsonSchemaValueException:
                return False
            return True

        return check
    if engine == "rs":
        import jsonschema_rs  # noqa: PLC0415

        rs_check: Check = jsonschema_rs.Draft4Validator(schema, validate_formats=True).is_valid
        return rs_check
    if engine == "none":
        return lambda _value: True
    raise ValueError(engine)


class CompiledOperation:
    """The rotate operation's checks, compiled once from openapi.yaml."""

    def __init__(self, spec_path: Path, engine: str) -> None:
        spec = yaml.safe_load(spec_path.read_text())
        operation = spec["paths"][ROTATE_PATH]["post"]
        self.params: dict[str, Check] = {
            p["name"]: compile_check(inline_refs(p["schema"], spec), engine)
            for p in operation["parameters"]
            if p["in"] == "path"
        }
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        self.body = compile_check(inline_refs(body, spec), engine)
        self.responses: dict[str, Check] = {}
        self.required_headers: dict[str, list[tuple[str, re.Pattern[str] | None]]] = {}
        for status, response in operation["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            self.responses[status] = compile_check(inline_refs(schema, spec), engine)
            rules = []
            for name, header in response.get("headers", {}).items():
                pattern = header.get("schema", {}).get("pattern")
                if header.get("required") or pattern:
                    rules.append((name.lower(), re.compile(pattern) if pattern else None))
            self.required_headers[status] = rules
        self.checked = engine != "none"

    def response_ok(self, status: int, body: Any, headers: dict[str, str]) -> bool:
        key = str(status) if str(status) in self.responses else "default"
        if not self.responses[key](body):
            return False
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, pattern in self.required_headers.get(key, []) if self.checked else []:
            value = lowered.get(name)
            if value is None or (pattern is not None and not pattern.search(value)):
                return False
        return True


class FastLane:
    """Answers the hot operation itself; hands everything else to ``rest``."""

    def __init__(self, rest: ASGIApp, app: MockApp, compiled: CompiledOperation, dumps: Dumps):
        self.rest = rest
        self.service = app.service
        self.compiled = compiled
        self.dumps = dumps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = PATH_RE.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST":
            await self.rest(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("content-type", "").startswith("application/grpc"):
            await self.rest(scope, receive, send)
            return
        status, payload, extra = self.answer(await read_body_or_error(receive), headers, match)
        if not self.compiled.response_ok(status, payload, extra):
            error = MockError(errors.INTERNAL, reason="response failed validation")
            status, payload, extra = error.http_status, status_body(error), {}
        body = self.dumps(payload)
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.lower().encode(), v.encode("latin-1")) for k, v in extra.items()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    def answer(
        self, raw: bytes | MockError, headers: dict[str, str], match: re.Match[str]
    ) -> tuple[int, Any, dict[str, str]]:
        project_id, app_id = match.group("projectId"), match.group("appId")
        namespace = headers.get(NAMESPACE_HEADER, "")
        try:
            if isinstance(raw, MockError):
                raise raw
            body = decode_body(raw)  # row 9, before authentication as in the gateway
            caller = self.service.authorize(
                headers.get("authorization"), headers.get("x-zitadel-orgid"), project_id, namespace
            )
            for name, value in (("projectId", project_id), ("appId", app_id)):
                if not self.compiled.params[name](value):
                    raise MockError(errors.INVALID_ID_LENGTH, field=PROTO_FIELDS[name])
            if not self.compiled.body(body):
                raise MockError(errors.INVALID_BODY, reason="request body does not match")
            result = self.service.rotate(caller, project_id, app_id, namespace)
        except MockError as error:
            extra = {}
            if error.code is errors.Code.UNAUTHENTICATED:
                extra["WWW-Authenticate"] = error.message
            return error.http_status, status_body(error), extra
        # connexion adds Content-Type to rest.SUCCESS_HEADERS in place: leave it out here.
        extra = {k: v for k, v in SUCCESS_HEADERS.items() if k.lower() != "content-type"}
        return 200, success_body(result), extra


async def read_body_or_error(receive: Receive) -> bytes | MockError:
    try:
        return await read_body(receive, MAX_BODY_BYTES)
    except MockError as error:
        return error


def std_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def memoise_lookups(app: MockApp) -> None:
    store = app.service.store
    for name in ("principal", "org_exists", "project_org"):
        setattr(store, name, functools.lru_cache(maxsize=1024)(getattr(store, name)))


def build(variant: str) -> MockApp:
    app = build_app(Settings())
    if variant == "connexion-async-errors":
        import connexion.middleware.exceptions as connexion_exceptions  # noqa: PLC0415

        async def on_the_loop(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        connexion_exceptions.run_in_threadpool = on_the_loop
        return app
    engine = {
        "lane-jsonschema": "jsonschema",
        "lane-fastjsonschema": "fastjsonschema",
        "lane-rs": "rs",
        "lane-unchecked": "none",
        "lane-cached": "fastjsonschema",
    }[variant]
    dumps: Dumps = std_dumps
    if variant == "lane-cached":
        memoise_lookups(app)
    if variant in ("lane-rs", "lane-cached"):
        import orjson  # noqa: PLC0415

        dumps = orjson.dumps
    app.rest = FastLane(app.rest, app, CompiledOperation(SPEC_PATH, engine), dumps)
    return app


COMPARED: Final = (
    ("success", "admin-pat", None, "319487650192752641", "319487671630840321", b"{}"),
    ("row 1", None, None, "319487650192752641", "319487671630840321", b"{}"),
    ("row 2", "Basic x", None, "319487650192752641", "319487671630840321", b"{}"),
    ("row 3", "Bearer nope", None, "319487650192752641", "319487671630840321", b"{}"),
    ("row 4", "Bearer admin-pat", "42", "319487650192752641", "319487671630840321", b"{}"),
    ("row 5", "Bearer nobody-pat", None, "319487650192752641", "319487671630840321", b"{}"),
    ("row 6", "Bearer acme-viewer-pat", None, "319487650192752641", "319487671630840321", b"{}"),
    ("row 7", "Bearer portal-owner-pat", None, "319487650192752642", "319487671630840325", b""),
    ("row 8", "Bearer admin-pat", None, "319487650192752641", "9" * 201, b"{}"),
    ("row 9", "Bearer admin-pat", None, "319487650192752641", "319487671630840321", b"[1]"),
    ("row 9b", "Bearer admin-pat", None, "319487650192752641", "319487671630840321", b"\xff"),
    ("row 10", "Bearer admin-pat", None, "319487650192752641", "999", b"{}"),
    ("row 11", "Bearer admin-pat", None, "319487650192752641", "319487671630840323", b"{}"),
)


async def _call(app: ASGIApp, token: str | None, org: str | None, path: str, body: bytes) -> Any:
    import httpx  # noqa: PLC0415

    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = token if " " in token else f"Bearer {token}"
    if org is not None:
        headers["x-zitadel-orgid"] = org
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        return await client.post(path, content=body, headers=headers)


def _shape(response: Any) -> tuple[int, Any, dict[str, str]]:
    body = response.json()
    if "clientSecret" in body:
        body = {"clientSecret": len(body["clientSecret"]), "details": sorted(body["details"])}
    keep = ("content-type", "www-authenticate", "cache-control", "pragma")
    return response.status_code, body, {k: v for k, v in response.headers.items() if k in keep}


async def compare(variant: str) -> int:
    slow, fast = build_app(Settings()), build(variant)
    differences = 0
    for label, token, org, project, app_id, body in COMPARED:
        path = ROTATE_PATH.replace("{projectId}", project).replace("{appId}", app_id)
        a = _shape(await _call(slow, token, org, path, body))
        b = _shape(await _call(fast, token, org, path, body))
        same = a == b
        differences += not same
        print(f"{label:8} {'same' if same else 'DIFFERENT'}: connexion {a}")
        if not same:
            print(f"{'':8} lane      {b}")
    return 1 if differences else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.experiments.fastlane")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--variant", default="lane-fastjsonschema")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args(argv)
    if args.compare:
        return asyncio.run(compare(args.variant))
    serve(build(args.variant), "127.0.0.1", args.port, "warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
