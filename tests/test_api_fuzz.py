"""API fuzzing: schemathesis generates requests for every operation of the OpenAPI schema
and sends each in-process (Django's WSGI handler) as several actors. No answer may be a
5xx, and every answer must match the schema: a declared status code, the declared content
type, a body that validates.

Bounded and reproducible for CI: one test per operation, a few derandomized examples each
(every example is sent as every actor: generating the data is the costly part), no example
database, no coverage or stateful phases. The cast and the actors' tokens are made once per
module in a transaction of its own; each test runs in a savepoint that is rolled back.
"""

import os
from collections import defaultdict
from typing import get_args

import pytest
import schemathesis
from api_helpers import get, patch, post, results, send
from conftest import build_cast
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from pydantic import BaseModel
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from wuye.accounts.actor import Actor
from wuye.accounts.services import create_api_token
from wuye.api import api

# Fuzzed once, on PostgreSQL: the stricter engine (a NUL byte in a string, an integer out
# of range, an invalid date raise there where SQLite stores whatever it is given).
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="fuzzed in the PostgreSQL phase"
)

# Per operation; every example goes to every actor. Dig deeper locally with, e.g.,
# WUYE_FUZZ_EXAMPLES=100, or WUYE_FUZZ_COVERAGE=1 for schemathesis's coverage phase (the
# boundary and invalid values of every parameter; some 20 minutes).
MAX_EXAMPLES = int(os.environ.get("WUYE_FUZZ_EXAMPLES", "5"))
COVERAGE = os.environ.get("WUYE_FUZZ_COVERAGE") == "1"

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 9,
        "generation": {"max-examples": MAX_EXAMPLES},
        "phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}},
    }
)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
schema.app = WSGIHandler()

# Who sends the requests: no credentials, a resident, a dispatcher and a company admin,
# each with a bearer token of their own (users of the cast, see conftest.py).
ACTORS = {
    "anonymous": None,
    "resident": "resident_a",
    "dispatcher": "dispatcher",
    "company_admin": "company_admin",
}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def module_cast(django_db_setup, django_db_blocker):
    """The cast, made once for the module (with the settings of conftest's autouse
    fixtures) in a transaction rolled back at its end; tests here use it, not ``cast``."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        ),
        transaction.atomic(),
    ):
        yield build_cast()
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def actor_headers(module_cast) -> dict:
    """A bearer token per actor (no header for the anonymous one)."""
    headers = {}
    for name, username in ACTORS.items():
        headers[name] = {}
        if username is not None:
            user = module_cast.users[username]
            _token, secret = create_api_token(actor=Actor(user), name="fuzz")
            headers[name] = {"Authorization": f"Bearer {secret}"}
    return headers


@pytest.fixture
def in_process_requests():
    """Requests go through Django's WSGI handler inside the test's transaction: like the
    test client, keep the request signals from closing the connection mid-test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# One parametrization over the whole group of actors: besides naming them in the test id,
# it keeps the ids unique (pytest 9 builds an item's id from the function's original name
# and its parameters, so schemathesis's per-operation items would otherwise share one).
@pytest.mark.parametrize("actors", [tuple(ACTORS)], ids=["+".join(ACTORS)])
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # The fixtures are shared by a test's examples on purpose (one savepoint per test).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz(case, actors, actor_headers, db, in_process_requests):
    """Each generated request is sent as every actor in turn; a failure names the actor."""
    for actor in actors:
        try:
            case.call_and_validate(headers=actor_headers[actor], checks=CHECKS)
        except FailureGroup as failure:
            failure.add_note(f"Sent as: {actor}")
            raise


def test_every_operation_is_fuzzed():
    """Schemathesis loads every operation (none is skipped as an invalid definition)."""
    loaded = [result.ok() for result in schema.get_all_operations()]
    declared = sum(len(methods) for methods in schema.raw_schema["paths"].values())
    assert len(loaded) == declared > 200


# --- what the fuzzing found, pinned ---------------------------------------------------
def test_schema_component_names_are_unique():
    """Two schemas of one name share one entry under components/schemas, so one of the
    two operations documents the other's body (StaffOut, EventOut, VisitOut, NoticeOut,
    QuestionOut and DeliveryOut each had two)."""
    seen = defaultdict(set)

    def walk(annotation):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            key = f"{annotation.__module__}.{annotation.__qualname__}"
            if key in seen[annotation.__name__]:
                return
            seen[annotation.__name__].add(key)
            for field in annotation.model_fields.values():
                walk(field.annotation)
        for argument in get_args(annotation):
            walk(argument)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    walk(model)
                for response in operation.response_models.values():
                    walk(getattr(response, "__annotations__", {}).get("response"))
    assert {name: keys for name, keys in seen.items() if len(keys) > 1} == {}


def test_a_time_of_day_with_a_zone_is_bad_input(module_cast, db):
    """Shift hours and quiet hours are wall-clock times: an offset was a 500 (the database
    refuses zone-aware times), and the schema said "format: time", which requires one."""
    admin = module_cast.client("company_admin")
    shift = {"name": "夜班 2", "start_time": "22:00:00Z", "end_time": "06:00"}
    assert post(admin, "/shifts", shift).status_code == 422
    assert post(admin, "/shifts", {**shift, "start_time": "22:00"}).status_code == 201
    quiet = {"quiet_from": "22:00+08:00", "quiet_until": "07:00"}
    resident = module_cast.client("resident_a")
    assert send(resident, "put", "/notifications/preferences", quiet).status_code == 422
    quiet["quiet_from"] = "22:00"
    assert send(resident, "put", "/notifications/preferences", quiet).status_code == 200
    shift_out = schema.raw_schema["components"]["schemas"]["ShiftOut"]
    assert "format" not in shift_out["properties"]["start_time"]


def test_resident_notice_filters_for_a_caller_without_a_home(module_cast, db):
    """Staff (no house) filtering their resident notices got a 500, not an empty page."""
    response = get(module_cast.client("dispatcher"), "/resident/notices", {"unread": "true"})
    assert results(response) == []


def test_null_in_a_patch_of_a_text_field_is_bad_input(module_cast, db):
    """Django's full_clean skips blank=True fields holding None: PATCH {"city": null} got
    through to a NOT NULL column (IntegrityError, a 500)."""
    admin = module_cast.client("company_admin")
    community = module_cast.community_x.pk
    response = patch(admin, f"/communities/{community}", {"city": None, "address": None})
    assert response.status_code == 400
    assert set(response.json()["detail"]) == {"city", "address"}
    resident = module_cast.resident_a.pk
    assert patch(admin, f"/residents/{resident}", {"mobile": None}).status_code == 400
    assert patch(admin, f"/communities/{community}", {"city": ""}).status_code == 200
