"""Response bodies checked against the schemas of Discord's OpenAPI description, vendored in
``docs/openapi/`` (3.1 -> JSON Schema 2020-12, $refs resolved inside the document).

Every passing check records its operation in ``CHECKED``; ``scripts/api_coverage.py`` runs the
suite's schema-check tests and reads that registry, so the coverage report's "schema-checked"
column is what the tests really validated, not a hand-kept list. An operation that never answers
2xx (a minimal route that only knows "Unknown ...") records its 4xx body's check in
``ERRORS_CHECKED``; tests/http/test_schemathesis.py records each operation it fuzzed without a
5xx in ``FUZZED``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "discord-openapi-v10.json"
SPEC_URI = "urn:discord-openapi-v10"

CHECKED: set[tuple[str, str]] = set()  # (METHOD, path template) validated in this process
ERRORS_CHECKED: set[tuple[str, str]] = set()  # errors-only operations whose 4xx body was validated
FUZZED: set[tuple[str, str]] = set()  # operations schemathesis exercised with no 5xx


@cache
def spec() -> tuple[dict[str, Any], Registry]:
    document = json.loads(SPEC_PATH.read_text())
    registry = Registry().with_resource(SPEC_URI, Resource(contents=document, specification=DRAFT202012))
    return document, registry


def _validate(pointer: str, body: Any) -> None:
    _, registry = spec()
    validator = Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def _operation_pointer(method: str, template: str) -> str:
    return f"/paths/{template.replace('~', '~0').replace('/', '~1')}/{method.lower()}"


def assert_matches_spec(method: str, template: str, status: int, body: Any) -> None:
    """Assert ``body`` is a valid ``status`` response of the operation ``method template``."""
    document, _ = spec()
    operation = document["paths"][template][method.lower()]
    response = operation["responses"][str(status)]
    assert "content" in response, f"{method} {template} {status} has no JSON body in the spec"
    _validate(
        f"{_operation_pointer(method, template)}/responses/{status}/content/application~1json/schema", body
    )
    CHECKED.add((method.upper(), template))


def assert_error_matches_spec(method: str, template: str, status: int, body: Any) -> None:
    """Assert ``body`` is a valid 4xx answer (the description's ``4XX`` response) of an operation
    that has no 2xx to check: rayguild serves it minimally and only ever answers Discord's error."""
    document, _ = spec()
    assert 400 <= status < 500 and status != 429, f"{status} is not a client error"
    response = document["paths"][template][method.lower()]["responses"]["4XX"]
    reference = response["$ref"].removeprefix("#")
    _validate(f"{reference}/content/application~1json/schema", body)
    ERRORS_CHECKED.add((method.upper(), template))


def assert_rate_limited_matches_spec(method: str, template: str, body: Any) -> None:
    """Assert ``body`` is a valid 429 answer of the operation (the description's rate-limit error)."""
    document, _ = spec()
    reference = document["paths"][template][method.lower()]["responses"]["429"]["$ref"].removeprefix("#")
    _validate(f"{reference}/content/application~1json/schema", body)


def assert_no_content(method: str, template: str, status: int) -> None:
    """Record a check of an operation whose 2xx answer has no body (204): the status is its shape."""
    document, _ = spec()
    response = document["paths"][template][method.lower()]["responses"][str(status)]
    assert "content" not in response, f"{method} {template} {status} has a JSON body in the spec"
    CHECKED.add((method.upper(), template))
