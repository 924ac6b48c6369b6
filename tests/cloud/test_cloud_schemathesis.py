"""Property-based tests of the live service against its own OpenAPI document.

Schemathesis (v4 Python API) loads ``/api/v1/openapi.json`` from the running server and,
for every operation, sends a bounded number of generated requests - valid ones and, in a
second pass, invalid ones - with a real bearer token, running every check that applies to
one request: no 5xx, documented status codes, content types, headers, response bodies that
match the schemas, valid data accepted and invalid data rejected, required headers,
undeclared methods (405 with the right Allow) and ignored auth. Operations with
``{project_id}`` run against a real project holding a few files, so they reach past 404.

(``schemathesis.pytest.from_fixture`` does not work with pytest 9, so the per-operation
Hypothesis tests are built here with ``APIOperation.as_strategy``.)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from project_cloud.openapi import build_openapi
from support.cloud import ServerThread, User, new_user


def _batch_body(files: list[tuple[str, bytes, bool]]) -> bytes:
    items = [
        {
            "path": path,
            "size": len(data),
            "sha256": hashlib.sha256(data if honest else data + b"!").hexdigest(),
        }
        for path, data, honest in files
    ]
    return json.dumps({"items": items}).encode() + b"\n" + b"".join(d for _p, d, _h in files)


# Batch bodies: well-formed batches (some items with a wrong hash or a taken path: those
# items fail alone). Malformed ones are refused in test_cloud_batch.
schemathesis.openapi.media_type(
    "application/vnd.project-cloud.batch",
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.txt", fullmatch=True),
            st.binary(max_size=64),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda f: f[0],
    ).map(_batch_body),
)

MAX_EXAMPLES = 20
# Every check that applies to one request (the stateful ones need links between operations).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    missing_required_header,
    unsupported_method,
    ignored_auth,
    allow_header_conformance,
]
# Fuzzing these would revoke the fuzzer's token or delete its project mid-run; they get
# their own pass with random ids below (DELETE /auth/token is tested in test_auth_projects).
SKIP_WITH_REAL_IDS = {"DELETE /auth/token", "DELETE /projects/{project_id}"}

_DOC = build_openapi(4 * 1024 * 1024)
LABELS = sorted(
    f"{method.upper()} {path}"
    for path, item in _DOC["paths"].items()
    for method in item
    if method != "parameters"
)


def test_served_document_is_the_built_one(cloud: ServerThread) -> None:
    import httpx

    served = httpx.get(cloud.api + "/openapi.json").json()
    assert served == json.loads(json.dumps(build_openapi(cloud.server.max_file_size)))
    assert served["openapi"].startswith("3.1")


@pytest.fixture(scope="module")
def seeded(cloud: ServerThread) -> dict[str, Any]:
    owner = new_user(cloud, "fuzz")
    friend = new_user(cloud, "friend")
    pid = owner.client.post("/projects", json={"name": "fuzzed"}).json()["id"]
    for path in ("a.txt", "dir/b.txt", "dir/sub/c.bin"):
        owner.client.put(f"/projects/{pid}/files/{path}", content=path.encode())
    cp = owner.client.post(f"/projects/{pid}/checkpoints", json={"name": "seed"}).json()
    owner.client.post("/projects", json={"name": "fuzzed-too"})
    # Page tokens are opaque and only the service issues them: the fuzzer gets real ones
    # (a made-up token is refused with 400 invalid_page_token, tested in test_cloud_files).
    tokens = {
        "/projects": owner.client.get("/projects", params={"limit": 1}).json(),
        "/projects/{project_id}/files": owner.client.get(
            f"/projects/{pid}/files", params={"limit": 1}
        ).json(),
    }
    return {
        "owner": owner,
        "friend": friend,
        "project_id": pid,
        "checkpoint_id": cp["id"],
        "page_tokens": {path: page["next_page_token"] for path, page in tokens.items()},
    }


def realistic(case: Any, page_tokens: dict[str, str]) -> Any:
    """What a client sends that no schema can say: a page token the service issued, and
    an X-Content-SHA256 that is the body's (another one is refused: checksum_mismatch)."""
    if case.query and "page_token" in case.query and case.operation.path in page_tokens:
        case.query["page_token"] = page_tokens[case.operation.path]
    if case.headers and "X-Content-SHA256" in case.headers:
        body = getattr(case.body, "data", case.body)  # schemathesis wraps bytes as Binary
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            case.headers["X-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    return case


def run_operation(
    cloud: ServerThread,
    user: User,
    label: str,
    mode: GenerationMode,
    path_parameters: dict[str, str],
    page_tokens: dict[str, str],
) -> None:
    schema = schemathesis.openapi.from_url(cloud.api + "/openapi.json")
    # An invalid body may also be refused for its size (413, documented): a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    # A valid request whose precondition (If-Match, If-None-Match) does not hold gets 412,
    # as documented: that is the state of the file, which no schema can describe.
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "412"]
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    names = {p.name for p in operation.path_parameters}
    fixed = {k: v for k, v in path_parameters.items() if k in names}
    strategy = operation.as_strategy(mode, path_parameters=fixed or None)
    if mode == GenerationMode.POSITIVE:
        strategy = strategy.map(lambda case: realistic(case, page_tokens))
    auth = {"Authorization": f"Bearer {user.token}"}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        case.call_and_validate(base_url=cloud.api, headers=auth, checks=checks, timeout=30)

    negative = mode == GenerationMode.NEGATIVE
    checks = [*CHECKS, negative_data_rejection if negative else positive_data_acceptance]
    try:
        check()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        pytest.skip("nothing in this operation can be made invalid")


@pytest.mark.parametrize("label", [x for x in LABELS if x not in SKIP_WITH_REAL_IDS])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_operation_with_real_ids(
    cloud: ServerThread, seeded: dict[str, Any], label: str, mode: GenerationMode
) -> None:
    run_operation(
        cloud,
        seeded["owner"],
        label,
        mode,
        {
            "project_id": seeded["project_id"],
            "checkpoint_id": seeded["checkpoint_id"],
            "username": seeded["friend"].name,
        },
        seeded["page_tokens"],
    )


@pytest.mark.parametrize("label", [x for x in LABELS if x != "DELETE /auth/token"])
def test_operation_with_random_ids(cloud: ServerThread, seeded: dict[str, Any], label: str) -> None:
    run_operation(cloud, seeded["owner"], label, GenerationMode.POSITIVE, {}, seeded["page_tokens"])
