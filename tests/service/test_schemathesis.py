"""Property-based calls generated from the OpenAPI spec (schemathesis, in-process over ASGI):
authenticated as a merchant main account and as an operator, no call may end in a server
error. Every operation of the app is covered, the workflows' and diagnosis' included."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from lvyue.api.testing import ServiceWorld

EXAMPLES_PER_OPERATION = 8
ROLES = ("m1.main", "operator")


def test_generated_calls_never_fail_with_a_server_error(service: ServiceWorld) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app)
    failures: list[str] = []
    calls = 0
    spec = service.client.get("/openapi.json").json()
    # Calls that revoke the token they come with would turn the rest of the run into 401s;
    # tests/service/test_tokens.py covers them.
    revoking = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if op.get("x-revokes-caller")
    }
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if (op.method.upper(), op.path) not in revoking
    ]
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
    assert calls >= 1000, f"only {calls} generated calls"
    print(f"{calls} generated calls over {len(operations)} operations")
    assert not failures, "\n".join(sorted(set(failures)))
