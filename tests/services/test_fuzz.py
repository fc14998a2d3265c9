"""Property-based fuzzing from each service's own OpenAPI document (schemathesis + hypothesis).

Every generated request, valid or not, must get a documented answer that conforms to the
document, and never a 5xx. Bounded and derandomized so CI runs are fast and repeatable.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
import requests
import schemathesis
from common.config import REQUIRED
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckFunction
from schemathesis.specs.openapi.checks import positive_data_acceptance

from scripts.local import LocalStack, User
from tests.services.conftest import SERVICE_ENV, Api, new_user

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FUZZ_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_user(stack: LocalStack) -> User:
    return new_user(stack)


@pytest.fixture(scope="module")
def fuzz_todos(stack: LocalStack, fuzz_user: User) -> list[str]:
    """Real todos of the fuzzing user, so generated paths also reach existing resources."""
    api = Api(stack, fuzz_user)
    return [api.create(title=f"fuzz {n}")["todoId"] for n in range(8)]


def served_document(service: str) -> dict[str, Any]:
    """The document the service serves, rendered in-process so tests can be generated from it
    at collection time (test_documents_match_the_running_services checks it is the same)."""
    module = importlib.import_module(f"{service}_service")
    offline = dict.fromkeys(REQUIRED, "x") | {"AWS_REGION": "us-east-1"} | SERVICE_ENV
    document: dict[str, Any] = module.create_app(offline).test_client().get("/openapi.json").json
    return document


DOCUMENTS = {service: served_document(service) for service in ("main", "files")}


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_documents_match_the_running_services(stack: LocalStack, service: str) -> None:
    served = requests.get(f"{stack.service_url(service)}/openapi.json", timeout=10).json()
    assert served == DOCUMENTS[service]


def run(case: Case[Any], base_url: str, user: User, todos: list[str]) -> None:
    todo_id = (case.path_parameters or {}).get("todoId")
    if isinstance(todo_id, str) and UUID.match(todo_id) and todo_id[0] in "01234567":
        # Half the well-formed IDs are swapped for a real todo, deterministically.
        case.path_parameters = {**(case.path_parameters or {}), "todoId": todos[int(todo_id[0])]}
    if case.headers and str(case.headers.get("Authorization", "")).startswith("Bearer "):
        # A generated bearer token becomes a real one; a missing or malformed header is kept,
        # so those cases check the 401.
        case.headers["Authorization"] = user.headers()["Authorization"]
    # A cursor is opaque: only the server makes valid ones, so a generated one is rightly a
    # 400 even though it matches the declared string type.
    excluded: list[CheckFunction] = []
    if (case.query or {}).get("cursor"):
        excluded.append(positive_data_acceptance)
    response = case.call_and_validate(base_url=base_url, excluded_checks=excluded, timeout=30)
    assert response.status_code < 500


# A declared size above the configured limit is refused with 413 (the design's status for
# "too large"), which is as much a rejection of invalid data as a 400.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429"]
"""
main = schemathesis.openapi.from_dict(
    DOCUMENTS["main"], config=schemathesis.Config.from_str(CONFIG)
)
files = schemathesis.openapi.from_dict(
    DOCUMENTS["files"], config=schemathesis.Config.from_str(CONFIG)
)


@main.parametrize()
@FUZZ_SETTINGS
def test_main_service_conforms(
    case: Case[Any], stack: LocalStack, fuzz_user: User, fuzz_todos: list[str]
) -> None:
    run(case, stack.service_url("main"), fuzz_user, fuzz_todos)


@files.parametrize()
@FUZZ_SETTINGS
def test_files_service_conforms(
    case: Case[Any], stack: LocalStack, fuzz_user: User, fuzz_todos: list[str]
) -> None:
    run(case, stack.service_url("files"), fuzz_user, fuzz_todos)
