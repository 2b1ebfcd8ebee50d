"""Twilio's OpenAPI description: find the operation for a request and check the request against it.

Twilio's form bodies follow the SDKs' encoding, not OpenAPI's default form style: untyped and
`object` parameters travel as JSON text, arrays as repeated keys, booleans as `true`/`false`. So the
form is decoded here by the schema of each parameter, then the result is checked with an OpenAPI 3.0
schema validator against the operation's request schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from openapi_schema_validator import OAS30Validator

from .spec_files import CACHE_PATH, FETCH_COMMAND

# Where `twilio-emulator fetch-openapi` puts the description in a folder (spec_files.py fetches it).
SPEC_PACKAGE_PATH = CACHE_PATH


# The methods a path item may describe that Twilio's APIs use.
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class SpecNotFound(RuntimeError):
    """The OpenAPI files are not installed."""


@dataclass
class Violation:
    """A request or response that breaks Twilio's OpenAPI description."""

    kind: str  # "unknown-endpoint", "request", "response"
    method: str
    url: str
    errors: list[str]

    def __str__(self) -> str:
        return f"{self.kind}: {self.method} {self.url}: " + "; ".join(self.errors)


@dataclass
class Operation:
    """One method of one path template of one spec document."""

    document: SpecDocument
    method: str
    path_template: str
    definition: dict
    path_parameters: dict[str, str] = field(default_factory=dict)

    @property
    def operation_id(self) -> str:
        return self.definition["operationId"]

    def _parameters(self, location: str) -> list[dict]:
        shared = self.document.raw["paths"][self.path_template].get("parameters", [])
        parameters = [self.document.resolve(p) for p in shared + self.definition.get("parameters", [])]
        return [p for p in parameters if p.get("in") == location]

    def check_request(
        self,
        query: str,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        undescribed: frozenset[str] = frozenset(),
    ) -> tuple[dict, list[str]]:
        """Decode and check a request; return the decoded body parameters and the errors found.

        Of the headers, only those the operation describes (e.g. `Idempotency-Key`) are checked; a client
        sends many others. `undescribed` names form parameters Twilio takes though the description lacks
        them (routes.route's `undescribed`): kept as sent, not errors.
        """
        errors: list[str] = []
        for parameter in self._parameters("path"):
            schema, where = parameter.get("schema", {}), f"path {parameter['name']}"
            value, decode_error = self.document.decode_form_value(
                schema, [self.path_parameters.get(parameter["name"], "")]
            )
            errors += (
                [f"{where}: {decode_error}"] if decode_error else self.document.schema_errors(schema, value, where)
            )
        errors += self._check_headers({name.lower(): value for name, value in (headers or {}).items()})
        errors += self._check_query(query)
        decoded, body_errors = self._check_body(body, content_type, undescribed)
        return decoded, errors + body_errors

    def _check_headers(self, headers: dict[str, str]) -> list[str]:
        errors: list[str] = []
        for parameter in self._parameters("header"):
            name, schema = parameter["name"], parameter.get("schema", {})
            if name.lower() not in headers:
                errors += [f"header {name!r} is required"] if parameter.get("required") else []
                continue
            value, decode_error = self.document.decode_form_value(schema, [headers[name.lower()]])
            errors += (
                [f"header {name}: {decode_error}"]
                if decode_error
                else (self.document.schema_errors(schema, value, f"header {name}"))
            )
        return errors

    def _check_query(self, query: str) -> list[str]:
        parameters = {p["name"]: p for p in self._parameters("query")}
        raw = parse_qs(query, keep_blank_values=True)
        errors = [f"query parameter {name!r} is not in the description" for name in raw if name not in parameters]
        for name, parameter in parameters.items():
            if name not in raw:
                if parameter.get("required"):
                    errors.append(f"query parameter {name!r} is required")
                continue
            value, decode_error = self.document.decode_form_value(parameter.get("schema", {}), raw[name])
            errors += (
                [f"query {name}: {decode_error}"]
                if decode_error
                else (self.document.schema_errors(parameter.get("schema", {}), value, f"query {name}"))
            )
        return errors

    def _check_body(self, body: bytes, content_type: str, undescribed: frozenset[str]) -> tuple[dict, list[str]]:
        described = self.definition.get("requestBody", {}).get("content", {})
        media_type = content_type.split(";")[0].strip().lower()
        if not described:
            return {}, [f"a {self.method} to this endpoint takes no body"] if body else []
        if not body and not self.definition["requestBody"].get("required"):
            media_type = media_type or next(iter(described))
        if media_type not in described:
            return {}, [f"body is {media_type or 'untyped'}, the description expects {', '.join(described)}"]
        schema = self.document.resolve(described[media_type].get("schema", {}))
        if media_type == "application/json":
            try:
                decoded = json.loads(body or b"{}")
            except ValueError as error:
                return {}, [f"body is not valid JSON: {error}"]
            return decoded, self.document.schema_errors(schema, decoded, "body")
        return self._check_form(body, schema, undescribed)

    def _check_form(self, body: bytes, schema: dict, undescribed: frozenset[str]) -> tuple[dict, list[str]]:
        try:
            raw = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError) as error:
            return {}, [f"body is not form-encoded: {error}"]
        properties = schema.get("properties", {})
        decoded: dict = {}
        kept: dict = {}
        errors: list[str] = []
        for name, values in raw.items():
            if name not in properties:
                if name in undescribed:
                    kept[name] = values[-1]
                else:
                    errors.append(f"body parameter {name!r} is not in the description")
                continue
            value, decode_error = self.document.decode_form_value(properties[name], values)
            if decode_error:
                errors.append(f"body {name}: {decode_error}")
            else:
                decoded[name] = value
        if not errors:
            errors += self.document.schema_errors(schema, decoded, "body")
        return {**decoded, **kept}, errors

    def check_response(self, status: int, body: object) -> list[str]:
        responses = self.definition.get("responses", {})
        described = responses.get(str(status))
        if described is None:
            if status >= 400:
                return []  # an error the operation does not describe: the emulator shapes it as Twilio's others
            return [f"status {status} is not a described response ({', '.join(responses)})"]
        described = self.document.resolve(described)  # e.g. `#/components/responses/NotFound`
        schema = described.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [] if body is None else [f"status {status} is described without a body"]
        return self.document.schema_errors(schema, body, "response")


class SpecDocument:
    """One twilio-oai JSON file."""

    def __init__(self, path: Path):
        self.path = path
        self.raw = json.loads(path.read_text(encoding="utf-8"))
        # A literal segment beats a parameter (e.g. /v2/Flows/Validate before /v2/Flows/{Sid}).
        self._templates = sorted(
            (
                (re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"), template)
                for template in self.raw["paths"]
            ),
            key=lambda item: item[1].count("{"),
        )

    def hosts(self) -> set[str]:
        """The hosts the document's servers name, e.g. {"flex-api.twilio.com"}."""
        servers = list(self.raw.get("servers", []))
        for item in self.raw["paths"].values():
            servers += item.get("servers", [])
        return {urlsplit(server["url"]).hostname.lower() for server in servers if urlsplit(server["url"]).hostname}

    def matches(self, path: str):
        """(template, path parameters) of every template the path matches, the most literal first."""
        for pattern, template in self._templates:
            match = pattern.match(path)
            if match:
                yield template, {name: unquote(value) for name, value in match.groupdict().items()}

    def find(self, method: str, path: str) -> Operation | None:
        """The path's operation in this document alone; None if its most literal template lacks the method."""
        for template, parameters in self.matches(path):
            definition = self.raw["paths"][template].get(method.lower())
            return Operation(self, method.upper(), template, definition, parameters) if definition else None
        return None

    def resolve(self, schema: dict) -> dict:
        """Follow a local `#/components/…` reference, as twilio-oai uses only those."""
        while "$ref" in schema:
            target = self.raw
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def decode_form_value(self, schema: dict, values: list[str]) -> tuple[object, str | None]:
        """Decode one form parameter the way Twilio's SDKs encode it."""
        schema = self.resolve(schema)
        kind = schema.get("type")
        if kind == "array":
            item_schema = schema.get("items", {})
            decoded = [self.decode_form_value(item_schema, [value]) for value in values]
            problems = [problem for _, problem in decoded if problem]
            return [value for value, _ in decoded], (problems[0] if problems else None)
        if len(values) > 1:
            return None, f"given {len(values)} times, expected once"
        value = values[0]
        if kind in (None, "object"):
            try:
                return json.loads(value), None
            except ValueError:
                return None, "expected JSON text (Twilio encodes objects in form bodies as JSON)"
        if kind == "integer":
            return (
                (int(value), None) if re.fullmatch(r"-?\d+", value) else (None, f"expected an integer, got {value!r}")
            )
        if kind == "number":
            try:
                return float(value), None
            except ValueError:
                return None, f"expected a number, got {value!r}"
        if kind == "boolean":
            return (
                (value == "true", None)
                if value in ("true", "false")
                else (None, f"expected true or false, got {value!r}")
            )
        return value, None

    def schema_errors(self, schema: dict, value: object, where: str) -> list[str]:
        # With the document's components beside it, the schema's `#/components/…` references resolve.
        validator = OAS30Validator({**schema, "components": self.raw.get("components", {})})
        return [
            f"{where}{''.join(f'.{part}' for part in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(value)
        ]


class Spec:
    """The twilio-oai files of a folder, each host served by the documents whose servers name it.

    `flex-api.twilio.com` is served by twilio_flex_v1.json, twilio_flex_v2.json and twilio_flex-api_v1.json
    alike: a request's path finds its template in whichever of them describes it. Files other than
    `twilio_*.json` (the .js beside them in @twilio/cli-core) are ignored.
    """

    def __init__(self, directory: Path):
        if not (directory / "twilio_flex_v1.json").is_file():
            raise SpecNotFound(
                f"Twilio's OpenAPI description was not found in {directory}. "
                f"Run {FETCH_COMMAND}: it fetches the twilio-oai files of the pinned @twilio/cli-core into "
                f"{SPEC_PACKAGE_PATH} of the folder it runs in. Or point TWILIO_EMULATOR_OPENAPI_DIR (the "
                "command's --openapi-dir) at a folder of twilio_*.json files."
            )
        self.directory = directory
        self._hosts = _documents_by_host(directory.resolve(), _signature(directory))

    def hosts(self) -> list[str]:
        """Every host some document's servers name, sorted."""
        return sorted(self._hosts)

    def operations(self, host: str) -> list[Operation]:
        """Every operation described on the host, once, from the first document (in file name order) describing it.

        As `find` picks it: where two documents describe one method of one template, the first one's answers.
        """
        found: dict[tuple[str, str], Operation] = {}
        for document in self.documents_for(host):
            for template, item in document.raw["paths"].items():
                for method in HTTP_METHODS:
                    if method.lower() in item and (method, template) not in found:
                        found[(method, template)] = Operation(document, method, template, item[method.lower()])
        return sorted(found.values(), key=lambda operation: (operation.path_template, operation.method))

    def documents_for(self, host: str) -> tuple[SpecDocument, ...]:
        """The documents describing the host's API, in file name order."""
        return self._hosts.get(host.lower(), ())

    def document_for(self, host: str, path: str) -> SpecDocument | None:
        """The document describing the path's template on the host, whatever the method; None if none does."""
        found = self._template(host, path)
        return found[0][0] if found else None

    def find(self, method: str, host: str, path: str) -> Operation | None:
        """The operation of the request, a literal path segment beating a parameter; None if it is not described.

        A path whose best template lacks the method is not described, although a template with a parameter
        in its place might have the method (GET /v2/Flows/Validate is not GET /v2/Flows/{Sid}).
        """
        found = self._template(host, path)
        if not found:
            return None
        for document, template, parameters in found:
            definition = document.raw["paths"][template].get(method.lower())
            if definition is not None:
                return Operation(document, method.upper(), template, definition, parameters)
        return None

    def _template(self, host: str, path: str) -> list[tuple[SpecDocument, str, dict[str, str]]]:
        """Every document's match of the path's most literal template (one template, in one or more documents)."""
        matches = [
            (document, template, parameters)
            for document in self.documents_for(host)
            for template, parameters in document.matches(path)
        ]
        if not matches:
            return []
        fewest = min(template.count("{") for _, template, _ in matches)
        best = sorted({template for _, template, _ in matches if template.count("{") == fewest})[0]
        return [match for match in matches if match[1] == best]


def _signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """The description files of a folder with their sizes and times: loaded again only when one changes."""
    files = sorted(directory.glob("twilio_*.json"))
    return tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)


@lru_cache(maxsize=4)
def _documents_by_host(directory: Path, signature: tuple) -> dict[str, tuple[SpecDocument, ...]]:
    """Each host → the documents whose servers (the document's or a path's) name it; parsed once per folder."""
    hosts: dict[str, list[SpecDocument]] = {}
    for name, _, _ in signature:
        document = SpecDocument(directory / name)
        for host in document.hosts():
            hosts.setdefault(host, []).append(document)
    return {host: tuple(documents) for host, documents in hosts.items()}
