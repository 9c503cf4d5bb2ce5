"""Property-based calls generated from the OpenAPI spec (schemathesis, in-process over ASGI):
authenticated as a merchant main account and as an operator, no call may end in a server
error. Every operation of the app is covered, the workflows' and diagnosis' included."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from lvyue.api.testing import ServiceWorld

EXAMPLES_PER_OPERATION = 3
ROLES = ("m1.main", "operator")


def test_generated_calls_never_fail_with_a_server_error(service: ServiceWorld) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            nonlocal calls
            for who in ROLES:
                calls += 1
                try:
                    response = case.call(headers=service.auth(who))
                except Exception as error:  # the in-process server raised: a 500 in production
                    failures.append(f"{who} {case.method} {case.formatted_path}: {error!r}")
                    continue
                if response.status_code >= 500:
                    failures.append(
                        f"{who} {case.method} {case.formatted_path}: "
                        f"{response.status_code} {response.text[:200]}"
                    )

        call()
    assert len(operations) >= 20
    assert calls >= 200, f"only {calls} generated calls"
    print(f"{calls} generated calls over {len(operations)} operations")
    assert not failures, "\n".join(sorted(set(failures)))
