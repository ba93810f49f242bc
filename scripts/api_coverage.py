"""Write docs/api-coverage.md: every operation of Discord's OpenAPI description (vendored in
docs/openapi/) outside the Social SDK, whether rayguild serves it and whether the suite checks its
2xx body against the description's schema.

- Operations: every (method, path) of the description except paths under ``/lobbies`` and
  ``/partner-sdk`` (the Social SDK's lobbies and provisional accounts, not a bot's API).
- Served: the edge app is built as in production and its router resolves the method and the path
  (each ``{param}`` filled with a snowflake) to a route whose template is the operation's (so
  ``/members/search`` answered by ``/members/{user_id}`` does not count); a handler marked with
  ``minimal_body`` is "minimal" ("minimal, errors only" when it never answers 2xx).
- Schema-checked: this script runs the suite's REST tests (tests/http, in-process) and reads the
  registry ``tests.http.spec.CHECKED`` that every passing schema check records into ("yes"), and
  ``ERRORS_CHECKED`` for minimal routes that only ever answer an error ("4xx body").
- Schemathesis: the operations tests/http/test_schemathesis.py fuzzed from the description with no
  5xx and Discord-shaped 4xx (``tests.http.spec.FUZZED``, filled by the same run).

Usage: ``python scripts/api_coverage.py`` (writes the report) or ``--check`` (exit 1 if the
committed report differs from a fresh one; tests/http/test_api_coverage.py runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "openapi" / "discord-openapi-v10.json"
REPORT = ROOT / "docs" / "api-coverage.md"
METHODS = ("get", "put", "post", "patch", "delete")
SOCIAL_SDK = ("/lobbies", "/partner-sdk")
SNOWFLAKE = "112233445566778899"
SELF = "tests/http/test_api_coverage.py"


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    served: str  # "yes", "minimal", "minimal, errors only" or "no"
    checked: str  # "yes" (2xx body), "4xx body" (errors-only route) or "no"
    fuzzed: bool


def operations(spec: dict[str, object]) -> list[tuple[str, str, str, str]]:
    """(METHOD, path, operationId, first path segment) of every operation outside the Social SDK."""
    out = []
    paths = spec["paths"]
    assert isinstance(paths, dict)
    for path, item in paths.items():
        if path.startswith(SOCIAL_SDK):
            continue
        for method in METHODS:
            if method in item:
                tag = path.strip("/").split("/")[0]
                out.append((method.upper(), path, item[method].get("operationId", ""), tag))
    return out


async def served(ops: list[tuple[str, str, str, str]]) -> dict[tuple[str, str], str]:
    """How the real edge app's router answers each operation: "yes", "minimal" or "no"."""
    from aiohttp.test_utils import make_mocked_request

    from rayguild.config import Config
    from rayguild.http_api.app import API_PREFIX, build_app
    from rayguild.http_api.local import LocalCluster
    from rayguild.http_api.minimal import errors_only, minimal_reason
    from rayguild.storage.sqlite import SqliteStorage

    out: dict[tuple[str, str], str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "coverage.sqlite3"
        cluster = LocalCluster(Config(sqlite_path=str(db)), lambda: SqliteStorage(db))
        try:
            app = build_app(await cluster.edge(0))
            for method, path, _, _ in ops:
                concrete = API_PREFIX + re.sub(r"\{[^}]+\}", SNOWFLAKE, path)
                match = await app.router.resolve(make_mocked_request(method, concrete, app=app))
                if match.http_exception is not None or _template(match) != _shape(path):
                    out[method, path] = "no"
                else:
                    minimal = "minimal, errors only" if errors_only(match.handler) else "minimal"
                    out[method, path] = minimal if minimal_reason(match.handler) else "yes"
        finally:
            await cluster.close()
    return out


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", template)


def _template(match: object) -> str:
    from aiohttp.web_urldispatcher import UrlMappingMatchInfo

    assert isinstance(match, UrlMappingMatchInfo)
    resource = match.route.resource
    assert resource is not None
    return _shape(resource.canonical.removeprefix("/api/v10"))


def schema_checked() -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """Run the REST tests in this process; the operations whose 2xx bodies they validated, whose
    4xx bodies they validated (errors-only routes), and that schemathesis fuzzed without a 5xx."""
    import pytest

    code = pytest.main(["-q", "-p", "no:cacheprovider", "--deselect", SELF, str(ROOT / "tests" / "http")])
    if code != 0:
        raise SystemExit(f"tests/http failed (pytest exit {code}): fix them before the report")
    from tests.http.spec import CHECKED, ERRORS_CHECKED, FUZZED

    return set(CHECKED), set(ERRORS_CHECKED), set(FUZZED)


def _checked(key: tuple[str, str], checked: set[tuple[str, str]], errors: set[tuple[str, str]]) -> str:
    return "yes" if key in checked else "4xx body" if key in errors else "no"


def render(rows: list[Operation]) -> str:
    served_n = sum(r.served == "yes" for r in rows)
    minimal_n = sum(r.served.startswith("minimal") for r in rows)
    errors_n = sum(r.served == "minimal, errors only" for r in rows)
    checked_n = sum(r.checked == "yes" for r in rows)
    errors_checked_n = sum(r.checked == "4xx body" for r in rows)
    fuzzed_n = sum(r.fuzzed for r in rows)
    lines = [
        "# REST API coverage against Discord's OpenAPI description",
        "",
        "Generated by `python scripts/api_coverage.py` from docs/openapi/discord-openapi-v10.json; do not",
        "edit by hand (tests/http/test_api_coverage.py fails when it is stale).",
        "",
        f"- Operations: {len(rows)} (every method and path of the description except those under "
        "`/lobbies` and `/partner-sdk`, the Social SDK).",
        f"- Served: {served_n + minimal_n} ({served_n} in full, {minimal_n} with an honest minimal body: "
        "the route answers in Discord's shape but rayguild keeps nothing behind it; "
        f"{errors_n} of them only ever answer Discord's error for an unknown entity, so have no 2xx "
        "body to check). Derived from the edge app's router and the handlers' `minimal_body` marks.",
        f"- Schema-checked: {checked_n + errors_checked_n} ({checked_n} where a test validates the 2xx body "
        f"against the description's schema; {errors_checked_n} errors-only routes whose 4xx body a test "
        "validates against the description's error schema, as they have no 2xx). Derived from the "
        "registries the checks record into while tests/http runs.",
        f"- Schemathesis: {fuzzed_n} operations fuzzed (tests/http/test_schemathesis.py: cases generated from "
        "the description, valid and invalid, with the ids of a world the bot owns and with generated ones, "
        "sent with a bot token to a live edge on SQLite): no 5xx, and every 4xx in Discord's error shape.",
        "",
        "| method | path | operation | served | schema-checked | schemathesis |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        fuzzed = "no 5xx" if r.fuzzed else "no"
        lines.append(f"| {r.method} | `{r.path}` | {r.operation_id} | {r.served} | {r.checked} | {fuzzed} |")
    return "\n".join(lines) + "\n"


def build_report() -> str:
    sys.path.insert(0, str(ROOT))
    spec = json.loads(SPEC.read_text())
    ops = operations(spec)
    checked, errors_checked, fuzzed = schema_checked()
    answers = asyncio.run(served(ops))
    rows = [
        Operation(
            m, p, op_id, tag, answers[m, p], _checked((m, p), checked, errors_checked), (m, p) in fuzzed
        )
        for m, p, op_id, tag in ops
    ]
    return render(sorted(rows, key=lambda r: (r.path, METHODS.index(r.method.lower()))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/api-coverage.md is stale")
    args = parser.parse_args(argv)
    report = build_report()
    if args.check:
        if REPORT.read_text() != report:
            print("docs/api-coverage.md is stale: run python scripts/api_coverage.py", file=sys.stderr)
            return 1
        return 0
    REPORT.write_text(report)
    print(f"wrote {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
