"""Helpers shared by the pages: tenancy scope, form errors, workflow refusals."""

from __future__ import annotations

from pydantic import ValidationError

from lvyue.api.auth import merchant_scope
from lvyue.web.security import Caller
from lvyue.workflows.actions.common import NotFound
from lvyue.workflows.machine import Refusal


def scope_of(caller: Caller, requested: str | None) -> str | None:
    """The API's rule: a merchant's own shop (another's is 404), an operator any or all."""
    return merchant_scope(caller.principal, requested)


def form_errors(error: ValidationError) -> str:
    """Pydantic's errors as one line per field, for the form's error box."""
    return "；".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())


def refusal_text(error: Refusal | NotFound) -> str:
    if isinstance(error, Refusal):
        return error.message + (f"（条款 {error.clause}）" if error.clause else "")
    return str(error)
