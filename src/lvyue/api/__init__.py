"""The HTTP API (FastAPI): presentation only; logic lives in store, workflows, engine.

from lvyue.api import create_app
app = create_app("sqlite:///lvyue.db")
"""

from lvyue.api.app import create_app
from lvyue.api.auth import (
    Principal,
    current_principal,
    forbidden,
    merchant_scope,
    own_merchant,
    own_order,
    require,
    write_scope,
)
from lvyue.api.deps import SessionDep, content_type, get_session, json_only

__all__ = [
    "Principal",
    "SessionDep",
    "content_type",
    "create_app",
    "current_principal",
    "forbidden",
    "get_session",
    "json_only",
    "merchant_scope",
    "own_merchant",
    "own_order",
    "require",
    "write_scope",
]
