"""Schemathesis against `judge serve`'s OpenAPI document on real uvicorn: no generated request
gets a 5xx, and every status returned is a documented one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

schemathesis = pytest.importorskip("schemathesis")

from helpers.serve_helpers import EncodingScorer
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from judge.serve.app import ServeSettings, create_app


def test_generated_requests_get_documented_answers_and_no_5xx(live_server: Any) -> None:
    app = create_app(EncodingScorer(), ServeSettings(principle="Prefer long answers.",
                                                     max_items=8, max_body_bytes=16_384))
    with live_server(app) as url:
        schema = schemathesis.openapi.from_url(url + "/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.path for op in operations} >= {"/score", "/openrlhf", "/get_reward"}
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
            def check(case: Any) -> None:
                response = case.call()
                case.validate_response(response,
                                       checks=[not_a_server_error, status_code_conformance])

            check()
